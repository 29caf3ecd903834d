// SPDX-License-Identifier: GPL-2.0
/*
 * cow_grown_window: cow_grown with every shared area staged in nestor's
 * staging window: the root's area staged from lower down for C's lower
 * start, trimmed after the fork, and C's moved into place.
 *
 * nestor-restore-env: NESTOR_COW_WINDOW=1
 */
#include "cow_grown.c"
