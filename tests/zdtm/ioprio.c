// SPDX-License-Identifier: GPL-2.0
/*
 * ioprio: the I/O priority (ioprio_set, as ionice sets it) is kept, in the
 * main thread and in a thread made after it was set (which inherits it).
 * Without it the restored task has nestor's.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

#define WHO_PROCESS 1
#define PRIO ((2 << 13) | 7) /* best effort, lowest level */

static volatile pid_t thread_tid;

static void *thread_main(void *arg)
{
	sigset_t all;

	(void)arg;
	/* SIGTERM is for the main thread's test_waitsig(). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	thread_tid = gettid();
	for (;;)
		pause();
	return NULL;
}

static void check(pid_t tid, const char *who, const char *when)
{
	long got = syscall(SYS_ioprio_get, WHO_PROCESS, tid);

	if (got != PRIO)
		fail("%s: %s has I/O priority %#lx, expected %#x", when, who, got, PRIO);
}

int main(int argc, char **argv)
{
	pthread_t th;

	test_init(argc, argv);
	if (syscall(SYS_ioprio_set, WHO_PROCESS, 0, PRIO))
		fail("ioprio_set: %m");
	if (pthread_create(&th, NULL, thread_main, NULL))
		fail("pthread_create failed");
	while (!thread_tid)
		usleep(1000);
	check(0, "the main thread", "set-up");
	check(thread_tid, "the thread", "set-up");

	test_daemon();
	test_waitsig();

	check(0, "the main thread", "after restore");
	check(thread_tid, "the thread", "after restore");
	pass();
}
