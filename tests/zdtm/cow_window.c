// SPDX-License-Identifier: GPL-2.0
/*
 * cow_window: cow_fork with every shared area staged in nestor's staging
 * window, the path of an area whose own address nestor's memory takes:
 * mremap moves it into place and the sharing is kept all the same. The
 * heap then grows as a second area (docs/design.md, a named limit): not
 * checked here.
 *
 * nestor-restore-env: NESTOR_COW_WINDOW=1
 */
#define COW_WINDOW 1
#include "cow_fork.c"
