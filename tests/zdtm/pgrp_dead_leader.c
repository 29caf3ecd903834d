// SPDX-License-Identifier: GPL-2.0
/*
 * pgrp_dead_leader: a process group whose leader has exited (and been
 * reaped) while members remain: a child of the root that joined the
 * group and its own child, born in it. After restore both are still in
 * the group named by the dead leader's pid, the pid itself is free, and
 * a signal sent to the group reaches each member exactly once.
 */
#include "tree.h"

static volatile sig_atomic_t got_usr1;

static void usr1_handler(int sig)
{
	(void)sig;
	got_usr1++;
}

static void __attribute__((noreturn)) member_wait(int tag, pid_t grand)
{
	struct tree_ids ids;

	tree_ids_get(&ids);
	tree_ready(tag);
	test_waitsig();
	/* The root signals the group before it sends SIGTERM. */
	if (got_usr1 != 1)
		tree_fail("got SIGUSR1 %d times from the group signal, expected once",
			  (int)got_usr1);
	if (grand)
		tree_finish(grand, "grandchild");
	tree_ids_check(&ids);
	tree_pass();
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = usr1_handler};
	struct tree_ids ids;
	pid_t leader, member, grand = 0;
	struct tree_rec recs[2];
	int status, r;

	test_init(argc, argv);
	tree_init();
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		fail("sigaction: %m");
	tree_barrier_init();
	leader = tree_fork("leader");
	if (!leader) {
		if (setpgid(0, 0))
			tree_fail("setpgid: %m");
		close(tree_bar[0]);
		close(tree_bar[1]);
		test_waitsig();
		_exit(0);
	}
	if (setpgid(leader, leader))
		fail("setpgid(leader): %m");
	member = tree_fork("member");
	if (!member) {
		if (setpgid(0, leader))
			tree_fail("setpgid: %m");
		grand = tree_fork("grandchild");
		if (!grand)
			member_wait(1, 0);
		member_wait(0, grand);
	}
	if (setpgid(member, leader))
		fail("setpgid(member): %m");
	tree_barrier_wait(2, recs);
	tree_stop(leader, "leader");
	r = tree_wait(leader, &status, 0, TREE_TIMEOUT_MS);
	if (r || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("leader (pid %d) did not exit cleanly: %s, status %#x", leader, strerror(-r),
		     status);
	for (int i = 0; i < 2; i++)
		if (recs[i].ids.pgid != leader || getpgid(recs[i].ids.pid) != leader)
			fail("set-up: task %d in group %d, expected %d", recs[i].ids.pid,
			     getpgid(recs[i].ids.pid), leader);
	tree_ids_get(&ids);

	test_daemon();
	test_waitsig();

	tree_ids_check(&ids);
	if (kill(leader, 0) == 0 || errno != ESRCH)
		fail("the dead leader's pid %d is in use after restore", leader);
	for (int i = 0; i < 2; i++)
		if (getpgid(recs[i].ids.pid) != leader)
			fail("task %d in group %d, expected %d", recs[i].ids.pid,
			     getpgid(recs[i].ids.pid), leader);
	if (kill(-leader, SIGUSR1))
		fail("kill(-%d, SIGUSR1): %m", leader);
	if (got_usr1)
		fail("the root got the group's signal");
	tree_finish(member, "member");
	pass();
}
