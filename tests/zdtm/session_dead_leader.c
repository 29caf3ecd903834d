// SPDX-License-Identifier: GPL-2.0
/*
 * session_dead_leader: a child calls setsid(), forks two children and
 * exits; the root (a child subreaper, so the orphans stay in the tree)
 * reaps it and adopts the grandchildren. They remain in the dead leader's
 * session: one also in its process group, the other in a group of its own.
 * After restore the sid still names the dead child's pid, the groups are
 * the same, the root is still their parent, and the leader's pid is not
 * in use (no helper left behind).
 */
#include "tree.h"

static pid_t root;

/* An orphan-to-be: reports once it has been adopted by the root. */
static void __attribute__((noreturn)) member(int tag, bool own_group)
{
	long deadline = tree_now_ms() + TREE_TIMEOUT_MS;
	struct tree_ids ids;

	if (own_group && setpgid(0, 0))
		tree_fail("setpgid: %m");
	while (getppid() != root) {
		if (tree_now_ms() > deadline)
			tree_fail("parent %d, never adopted by the root %d", getppid(), root);
		tree_sleep_ms(2);
	}
	/* Only now: a death signal set earlier would have come with the leader's exit. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != root)
		_exit(1);
	tree_ids_get(&ids);
	tree_ready(tag);
	test_waitsig();
	tree_ids_check(&ids);
	tree_pass();
}

int main(int argc, char **argv)
{
	struct tree_rec recs[2];
	pid_t leader, pid[2] = {};
	int status, r;

	test_init(argc, argv);
	tree_init();
	root = getpid();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		fail("PR_SET_CHILD_SUBREAPER: %m");
	tree_barrier_init();
	leader = tree_fork("leader");
	if (!leader) {
		if (setsid() < 0)
			tree_fail("setsid: %m");
		if (!tree_fork_opt("member", false))
			member(0, false);
		if (!tree_fork_opt("member_own_group", false))
			member(1, true);
		_exit(0);
	}
	r = tree_wait(leader, &status, 0, TREE_TIMEOUT_MS);
	if (r || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("leader (pid %d) did not exit cleanly: %s, status %#x", leader, strerror(-r),
		     status);
	tree_barrier_wait(2, recs);
	for (int i = 0; i < 2; i++)
		pid[recs[i].tag] = recs[i].ids.pid;
	if (recs[0].ids.sid != leader || recs[1].ids.sid != leader || getpgid(pid[0]) != leader ||
	    getpgid(pid[1]) != pid[1])
		fail("set-up: sessions %d %d groups %d %d, expected session %d, groups %d %d",
		     recs[0].ids.sid, recs[1].ids.sid, getpgid(pid[0]), getpgid(pid[1]), leader,
		     leader, pid[1]);

	test_daemon();
	test_waitsig();

	if (getpid() != root || getsid(0) != root || getpgid(0) != root)
		fail("root: pid %d sid %d pgid %d, expected all %d", getpid(), getsid(0),
		     getpgid(0), root);
	if (kill(leader, 0) == 0 || errno != ESRCH)
		fail("the dead leader's pid %d is in use after restore", leader);
	for (int i = 0; i < 2; i++)
		if (getsid(pid[i]) != leader || getpgid(pid[i]) != (i ? pid[i] : leader))
			fail(
			    "member %d (pid %d): session %d group %d, expected session %d group %d",
			    i, pid[i], getsid(pid[i]), getpgid(pid[i]), leader,
			    i ? pid[i] : leader);
	if (prctl(PR_GET_CHILD_SUBREAPER, &r) || r != 1)
		fail("the root is no longer a child subreaper");
	tree_finish(pid[0], "member");
	tree_finish(pid[1], "member_own_group");
	pass();
}
