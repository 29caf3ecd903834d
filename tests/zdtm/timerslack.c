// SPDX-License-Identifier: GPL-2.0
/* timerslack: a non-default timer slack (PR_SET_TIMERSLACK) is kept. */
#include <sys/prctl.h>

#include "zdtm.h"

#define SLACK_NS 123456

int main(int argc, char **argv)
{
	int slack;

	test_init(argc, argv);
	if (prctl(PR_SET_TIMERSLACK, SLACK_NS, 0, 0, 0))
		fail("PR_SET_TIMERSLACK: %m");

	test_daemon();
	test_waitsig();

	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (slack != SLACK_NS)
		fail("timer slack %d ns, expected %d", slack, SLACK_NS);
	pass();
}
