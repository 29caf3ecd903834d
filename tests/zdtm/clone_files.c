// SPDX-License-Identifier: GPL-2.0
/*
 * clone_files: a child made with clone(CLONE_FILES) shares the root's fd
 * table. Before the checkpoint each opened a file the other sees; after
 * restore the table is still one (kcmp KCMP_FILES): a file opened by one
 * task appears in the other at the same number, and a close in one closes
 * it for both.
 */
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "tree.h"

enum { FD_ROOT = 100, FD_CHILD, FD_ROOT_AFTER, FD_CHILD_AFTER };

static pid_t root;

/* fd holds the file WORKDIR/name. */
static void check_fd(int fd, const char *name)
{
	char *path = test_path(name);
	struct stat a, b;

	if (fstat(fd, &a))
		tree_fail("fd %d (%s) is not open: %m", fd, name);
	if (stat(path, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		tree_fail("fd %d is not %s", fd, path);
	free(path);
}

static void check_closed(int fd)
{
	if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
		tree_fail("fd %d is still open", fd);
}

/* Opens WORKDIR/name at exactly fd. */
static void open_at(const char *name, int fd)
{
	char *path = test_path(name);
	int tmp = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (tmp < 0 || dup3(tmp, fd, O_CLOEXEC) != fd)
		tree_fail("open %s at %d: %m", path, fd);
	close(tmp);
	free(path);
}

static int child(void *arg)
{
	(void)arg;
	tree_enter_child("child", root, true);
	open_at("child_file", FD_CHILD);
	tree_ready_write(0);
	test_waitsig();
	check_fd(FD_CHILD, "child_file");
	/* What the root did after restore, before it signalled us. */
	check_fd(FD_ROOT_AFTER, "root_after");
	check_closed(FD_ROOT);
	open_at("child_after", FD_CHILD_AFTER);
	close(FD_CHILD);
	tree_pass();
}

int main(int argc, char **argv)
{
	pid_t pid;
	int r;

	test_init(argc, argv);
	tree_init();
	root = getpid();
	open_at("root_file", FD_ROOT);
	tree_barrier_init();
	pid = tree_clone(child, CLONE_FILES, NULL);
	tree_barrier_wait(1, NULL);
	check_fd(FD_CHILD, "child_file");

	test_daemon();
	test_waitsig();

	r = syscall(SYS_kcmp, root, pid, KCMP_FILES, 0, 0);
	if (r)
		fail("kcmp(KCMP_FILES) with the child: %d (%m), expected 0 (one table)", r);
	check_fd(FD_ROOT, "root_file");
	check_fd(FD_CHILD, "child_file");
	open_at("root_after", FD_ROOT_AFTER);
	close(FD_ROOT);
	tree_finish(pid, "child");
	check_fd(FD_CHILD_AFTER, "child_after");
	check_closed(FD_CHILD);
	pass();
}
