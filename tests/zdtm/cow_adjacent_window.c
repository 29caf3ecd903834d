// SPDX-License-Identifier: GPL-2.0
/*
 * cow_adjacent_window: cow_adjacent with every shared area staged in
 * nestor's staging window: mremap moves each into place beside the areas
 * the blob maps, and each stays an area of its own.
 *
 * nestor-restore-env: NESTOR_COW_WINDOW=1
 */
#include "cow_adjacent.c"
