// SPDX-License-Identifier: GPL-2.0
/*
 * prctl_flags: per-task flags set with prctl that are not covered
 * elsewhere: child subreaper and THP disable.
 */
#include <sys/prctl.h>

#include "zdtm.h"

int main(int argc, char **argv)
{
	int reaper = 0, thp;

	test_init(argc, argv);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) || prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		fail("prctl: %m");

	test_daemon();
	test_waitsig();

	if (prctl(PR_GET_CHILD_SUBREAPER, &reaper, 0, 0, 0) || reaper != 1)
		fail("child subreaper %d, expected 1", reaper);
	thp = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (thp != 1)
		fail("THP disable %d, expected 1", thp);
	pass();
}
