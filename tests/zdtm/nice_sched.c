// SPDX-License-Identifier: GPL-2.0
/*
 * nice_sched: scheduling policy SCHED_BATCH with SCHED_RESET_ON_FORK, and
 * a nice value of 7, come back.
 */
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>

#include "zdtm.h"

#define NICE   7
#define POLICY (SCHED_BATCH | SCHED_RESET_ON_FORK)

int main(int argc, char **argv)
{
	struct sched_param sp = {0};
	int policy, nice;

	test_init(argc, argv);
	if (sched_setscheduler(0, POLICY, &sp) || setpriority(PRIO_PROCESS, 0, NICE))
		fail("setting policy and nice: %m");

	test_daemon();
	test_waitsig();

	policy = sched_getscheduler(0);
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		fail("getpriority: %m");
	if (policy != POLICY || nice != NICE)
		fail("policy %#x nice %d, expected policy %#x (SCHED_BATCH|SCHED_RESET_ON_FORK) "
		     "nice %d",
		     policy, nice, POLICY, NICE);
	pass();
}
