// SPDX-License-Identifier: GPL-2.0
/*
 * clone_fs: a child made with clone(CLONE_FS) shares the root's fs info
 * (cwd, umask, root directory). Before the checkpoint the child moved to
 * WORKDIR/a with umask 027 and the root saw it; after restore the sharing
 * holds both ways (kcmp KCMP_FS): the root's chdir and umask move the
 * child, the child's move the root.
 */
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "tree.h"

static pid_t root;

static void check_fs(const char *dir, mode_t mask, const char *when)
{
	char *path = test_path(dir);
	struct stat a, b;
	mode_t cur = umask(0);

	umask(cur);
	if (stat(".", &a) || stat(path, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		tree_fail("%s: cwd is not %s", when, path);
	if (cur != mask)
		tree_fail("%s: umask %03o, expected %03o", when, cur, mask);
	free(path);
}

static void move(const char *dir, mode_t mask)
{
	char *path = test_path(dir);

	if (chdir(path))
		tree_fail("chdir %s: %m", path);
	umask(mask);
	free(path);
}

static int child(void *arg)
{
	(void)arg;
	tree_enter_child("child", root, true);
	move("a", 027);
	tree_ready_write(0);
	test_waitsig();
	check_fs("b", 007, "after the root's move");
	move("a", 077);
	tree_pass();
}

int main(int argc, char **argv)
{
	pid_t pid;
	int r;

	test_init(argc, argv);
	tree_init();
	root = getpid();
	if (mkdir(test_path("a"), 0755) || mkdir(test_path("b"), 0755))
		fail("mkdir: %m");
	umask(022);
	tree_barrier_init();
	pid = tree_clone(child, CLONE_FS, NULL);
	tree_barrier_wait(1, NULL);
	check_fs("a", 027, "set-up, after the child's move");

	test_daemon();
	test_waitsig();

	r = syscall(SYS_kcmp, root, pid, KCMP_FS, 0, 0);
	if (r)
		fail("kcmp(KCMP_FS) with the child: %d (%m), expected 0 (shared)", r);
	check_fs("a", 027, "after restore");
	move("b", 007);
	tree_finish(pid, "child");
	check_fs("a", 077, "after the child's move");
	pass();
}
