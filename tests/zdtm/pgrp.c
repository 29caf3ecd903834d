// SPDX-License-Identifier: GPL-2.0
/*
 * pgrp: several process groups in the root's session. child1 leads its own
 * group and grandchild1 stays in it; child2 stays in the root's group while
 * its child, grandchild2, joins child1's group (a group spanning two
 * branches of the tree); child3 leads a group and its child grandchild3
 * leads another. Every task keeps its pid, parent, group and session, and
 * the root sees each group from outside with getpgid().
 */
#include "tree.h"

enum { C1, G1, C2, G2, C3, G3, N };

static const char *const names[N] = {"child1",	    "grandchild1", "child2",
				     "grandchild2", "child3",	   "grandchild3"};

static void __attribute__((noreturn)) leaf(int tag)
{
	struct tree_ids ids;

	tree_ids_get(&ids);
	tree_ready(tag);
	test_waitsig();
	tree_ids_check(&ids);
	tree_pass();
}

/* A child with one child: pgid_self/pgid_grand are setpgid() targets, -1 for none. */
static pid_t branch(int tag, pid_t pgid_self, pid_t pgid_grand)
{
	struct tree_ids ids;
	pid_t pid, grand;

	pid = tree_fork(names[tag]);
	if (pid) {
		/* Both sides call setpgid(), so neither runs ahead of the other. */
		if (pgid_self >= 0 && setpgid(pid, pgid_self ? pgid_self : pid))
			fail("setpgid(%s): %m", names[tag]);
		return pid;
	}
	if (pgid_self >= 0 && setpgid(0, pgid_self))
		tree_fail("setpgid: %m");
	grand = tree_fork(names[tag + 1]);
	if (!grand) {
		if (pgid_grand >= 0 && setpgid(0, pgid_grand))
			tree_fail("setpgid: %m");
		leaf(tag + 1);
	}
	if (pgid_grand >= 0 && setpgid(grand, pgid_grand ? pgid_grand : grand) && errno != EACCES)
		tree_fail("setpgid(%s): %m", names[tag + 1]);
	tree_ids_get(&ids);
	tree_ready(tag);
	test_waitsig();
	tree_finish(grand, names[tag + 1]);
	tree_ids_check(&ids);
	tree_pass();
}

int main(int argc, char **argv)
{
	struct tree_rec recs[N];
	struct tree_ids ids;
	pid_t pid[N], want[N];

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	pid[C1] = branch(C1, 0, -1);
	pid[C2] = branch(C2, -1, pid[C1]);
	pid[C3] = branch(C3, 0, 0);
	tree_barrier_wait(N, recs);
	for (int i = 0; i < N; i++)
		pid[recs[i].tag] = recs[i].ids.pid;
	want[C1] = want[G1] = want[G2] = pid[C1];
	want[C2] = getpid();
	want[C3] = pid[C3];
	want[G3] = pid[G3];
	for (int i = 0; i < N; i++)
		if (getpgid(pid[i]) != want[i] || getsid(pid[i]) != getpid())
			fail("set-up: %s in group %d session %d, expected %d and %d", names[i],
			     getpgid(pid[i]), getsid(pid[i]), want[i], getpid());
	tree_ids_get(&ids);

	test_daemon();
	test_waitsig();

	tree_ids_check(&ids);
	for (int i = 0; i < N; i++)
		if (getpgid(pid[i]) != want[i] || getsid(pid[i]) != getpid())
			fail("%s (pid %d) in group %d session %d, expected %d and %d", names[i],
			     pid[i], getpgid(pid[i]), getsid(pid[i]), want[i], getpid());
	tree_finish(pid[C1], names[C1]);
	tree_finish(pid[C2], names[C2]);
	tree_finish(pid[C3], names[C3]);
	pass();
}
