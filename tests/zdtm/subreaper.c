// SPDX-License-Identifier: GPL-2.0
/*
 * subreaper: the root is a child subreaper (PR_SET_CHILD_SUBREAPER); a
 * grandchild was orphaned when its parent exited and the root adopted it.
 * After restore the root is still a subreaper, the orphan's parent is
 * still the root (which can wait for it), and an orphan made after
 * restore is adopted by the root too.
 */
#include "tree.h"

static pid_t root;

static void wait_adopted(void)
{
	long deadline = tree_now_ms() + TREE_TIMEOUT_MS;

	while (getppid() != root) {
		if (tree_now_ms() > deadline)
			tree_fail("parent %d, never adopted by the root %d", getppid(), root);
		tree_sleep_ms(2);
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != root)
		_exit(1);
}

static void __attribute__((noreturn)) orphan(void)
{
	struct tree_ids ids;

	wait_adopted();
	tree_ids_get(&ids);
	tree_ready(0);
	test_waitsig();
	tree_ids_check(&ids);
	tree_pass();
}

/* After restore: a child that orphans a child of its own, then is reaped. */
static void orphan_again(void)
{
	pid_t mid, late = 0;
	int p[2], status, r;

	if (pipe2(p, O_CLOEXEC))
		fail("pipe: %m");
	mid = tree_fork("middle");
	if (!mid) {
		late = tree_fork_opt("late_orphan", false);
		if (!late) {
			pid_t me = getpid();

			close(p[0]);
			wait_adopted();
			if (write(p[1], &me, sizeof(me)) != sizeof(me))
				_exit(1);
			test_waitsig();
			tree_pass();
		}
		_exit(0);
	}
	close(p[1]);
	r = tree_wait(mid, &status, 0, TREE_TIMEOUT_MS);
	if (r || status)
		fail("middle child: %s, status %#x", strerror(-r), status);
	{
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};

		if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1 ||
		    read(p[0], &late, sizeof(late)) != sizeof(late))
			fail("an orphan made after restore was not adopted by the root");
	}
	close(p[0]);
	tree_finish(late, "late_orphan");
}

int main(int argc, char **argv)
{
	struct tree_rec rec;
	struct tree_ids ids;
	pid_t parent;
	int status, r, on = 0;

	test_init(argc, argv);
	tree_init();
	root = getpid();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		fail("PR_SET_CHILD_SUBREAPER: %m");
	tree_barrier_init();
	parent = tree_fork("parent");
	if (!parent) {
		if (!tree_fork_opt("orphan", false))
			orphan();
		_exit(0);
	}
	r = tree_wait(parent, &status, 0, TREE_TIMEOUT_MS);
	if (r || status)
		fail("parent (pid %d) did not exit cleanly: %s, status %#x", parent, strerror(-r),
		     status);
	tree_barrier_wait(1, &rec);
	if (rec.ids.ppid != root)
		fail("set-up: the orphan's parent is %d, expected %d", rec.ids.ppid, root);
	tree_ids_get(&ids);

	test_daemon();
	test_waitsig();

	tree_ids_check(&ids);
	if (prctl(PR_GET_CHILD_SUBREAPER, &on) || on != 1)
		fail("the root is no longer a child subreaper (%d)", on);
	tree_finish(rec.ids.pid, "orphan");
	orphan_again();
	pass();
}
