// SPDX-License-Identifier: GPL-2.0
/*
 * cow_siblings_window: cow_siblings with every shared area staged in
 * nestor's staging window: the pages the workers share without the root
 * are staged there too, and mremap moves them into place still shared.
 *
 * nestor-restore-env: NESTOR_COW_WINDOW=1
 */
#define COW_WINDOW 1
#include "cow_siblings.c"
