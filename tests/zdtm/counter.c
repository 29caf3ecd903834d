// SPDX-License-Identifier: GPL-2.0
/*
 * counter: a task busy in user space when it is frozen. Counters in memory
 * and on the stack must keep the values they had and keep counting after
 * restore; the pid must not change.
 */
#include <unistd.h>

#include "zdtm.h"

#define MAGIC 0x5a5a5a5a5a5a5a5aUL

static volatile unsigned long global_cnt;

int main(int argc, char **argv)
{
	volatile unsigned long stack_cnt = 0;
	unsigned long at_ready, at_stop;
	pid_t pid = getpid();

	test_init(argc, argv);
	/* Count a while first so that the values at ready are far from zero. */
	while (stack_cnt < 1000000) {
		stack_cnt++;
		global_cnt = stack_cnt ^ MAGIC;
	}
	at_ready = stack_cnt;
	test_daemon();
	while (!test_stop) {
		stack_cnt++;
		global_cnt = stack_cnt ^ MAGIC;
	}
	at_stop = stack_cnt;

	/* SIGTERM may land between the two stores: one step of lag is fine. */
	if ((global_cnt ^ MAGIC) != at_stop && (global_cnt ^ MAGIC) != at_stop - 1)
		fail("memory counter %lu, stack counter %lu: they diverged", global_cnt ^ MAGIC,
		     at_stop);
	if (at_stop <= at_ready)
		fail("stack counter %lu did not grow past %lu", at_stop, at_ready);
	for (int i = 0; i < 1000; i++) {
		stack_cnt++;
		global_cnt = stack_cnt ^ MAGIC;
	}
	if (stack_cnt != at_stop + 1000 || (global_cnt ^ MAGIC) != stack_cnt)
		fail("counting after restore: stack %lu (expected %lu), memory %lu", stack_cnt,
		     at_stop + 1000, global_cnt ^ MAGIC);
	if (getpid() != pid)
		fail("pid %d, expected %d", getpid(), pid);
	pass();
}
