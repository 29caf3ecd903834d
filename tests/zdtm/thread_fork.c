// SPDX-License-Identifier: GPL-2.0
/*
 * thread_fork: a child forked by a thread other than the main one. The
 * kernel lists it only under that thread (/proc/PID/task/TID/children), so
 * a dump that reads the main thread's list alone leaves it out. The thread
 * sleeps on after the fork; the child records its ids. After restore the
 * child is still the root's child (getppid() names the process, whichever
 * thread forked it) with the same ids, and its verdict comes back.
 */
#include <pthread.h>

#include "tree.h"

static pid_t child;
static int ready[2] = {-1, -1};

static void *forker(void *arg)
{
	sigset_t all;

	(void)arg;
	/* SIGTERM is for the main thread: this one keeps everything blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	child = tree_fork("child");
	if (!child) {
		struct tree_ids ids;
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL); /* the forking thread's mask was inherited */
		tree_ids_get(&ids);
		tree_ready(0);
		test_waitsig();
		tree_ids_check(&ids);
		tree_pass();
	}
	if (write(ready[1], "x", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	struct tree_rec rec;
	pthread_t th;
	char c;

	test_init(argc, argv);
	tree_init();
	if (pipe2(ready, O_CLOEXEC))
		fail("pipe: %m");
	tree_barrier_init();
	if (pthread_create(&th, NULL, forker, NULL))
		fail("pthread_create failed");
	tree_read_exact(ready[0], &c, 1, "the thread's fork");
	close(ready[0]);
	close(ready[1]);
	tree_barrier_wait(1, &rec);
	if (rec.ids.ppid != getpid())
		fail("set-up: child %d has parent %d, expected %d", child, rec.ids.ppid, getpid());

	test_daemon();
	test_waitsig();

	tree_stop(child, "child");
	tree_collect(child, "child");
	pass();
}
