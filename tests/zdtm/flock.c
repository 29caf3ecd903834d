// SPDX-License-Identifier: GPL-2.0
/*
 * flock: BSD locks, which belong to open file descriptions. File A is
 * locked exclusive through a description the root and its child share
 * (inherited); file B is locked shared twice, by the root and by the child
 * through descriptions of their own. After restore a helper forked by the
 * root (a fresh open) finds the locks as they were, and they are owned by
 * the right descriptions: B stays exclusive-blocked until both holders
 * let go, A until the last task holding its description closes it.
 */
#include <sys/file.h>

#include "tree.h"

static char *path_a, *path_b;

/* 0: got the lock (and dropped it); 1: EWOULDBLOCK; else an error. */
static int try_lock(const char *path, int op)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		fail("fork: %m");
	if (pid == 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			_exit(3);
		if (flock(fd, op | LOCK_NB) == 0)
			_exit(0);
		_exit(errno == EWOULDBLOCK ? 1 : 2);
	}
	if (tree_wait(pid, &status, 0, TREE_TIMEOUT_MS) || !WIFEXITED(status))
		fail("lock helper did not finish");
	return WEXITSTATUS(status);
}

static void expect(const char *path, int op, int want, const char *when)
{
	static const char *const said[] = {"granted", "refused", "failed"};
	int r = try_lock(path, op);

	if (r != want)
		fail("%s: %s lock on %s %s, expected it %s", when,
		     op == LOCK_EX ? "exclusive" : "shared", path, said[r > 2 ? 2 : r], said[want]);
}

int main(int argc, char **argv)
{
	int a, b;
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	path_a = test_path("a.lock");
	path_b = test_path("b.lock");
	a = open(path_a, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	b = open(path_b, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (a < 0 || b < 0 || flock(a, LOCK_EX) || flock(b, LOCK_SH))
		fail("set-up: %m");
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		int own;

		close(b);
		own = open(path_b, O_RDONLY | O_CLOEXEC);
		if (own < 0 || flock(own, LOCK_SH | LOCK_NB))
			tree_fail("flock: %m");
		tree_ready(0);
		test_waitsig();
		/* Keeps both locks until it exits. */
		tree_pass();
	}
	tree_barrier_wait(1, NULL);
	expect(path_a, LOCK_SH, 1, "set-up");

	test_daemon();
	test_waitsig();

	expect(path_a, LOCK_SH, 1, "after restore");
	expect(path_b, LOCK_SH, 0, "after restore");
	expect(path_b, LOCK_EX, 1, "after restore");
	if (flock(b, LOCK_UN))
		fail("unlock: %m");
	expect(path_b, LOCK_EX, 1, "the root's shared lock dropped, the child's held");
	close(a);
	expect(path_a, LOCK_SH, 1, "the root closed its copy of the shared description");
	tree_finish(pid, "child");
	expect(path_a, LOCK_EX, 0, "the child gone");
	expect(path_b, LOCK_EX, 0, "the child gone");
	pass();
}
