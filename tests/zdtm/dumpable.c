// SPDX-License-Identifier: GPL-2.0
/*
 * dumpable: a task that cleared its dumpable flag (which also makes its
 * /proc files root-owned) keeps it cleared.
 */
#include <sys/prctl.h>

#include "zdtm.h"

int main(int argc, char **argv)
{
	int v;

	test_init(argc, argv);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		fail("PR_SET_DUMPABLE: %m");

	test_daemon();
	test_waitsig();

	v = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (v != 0)
		fail("dumpable is %d, expected 0", v);
	pass();
}
