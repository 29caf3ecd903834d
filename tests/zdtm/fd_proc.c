// SPDX-License-Identifier: GPL-2.0
/*
 * fd_proc: descriptors of /proc files of tasks of the tree: the root holds
 * its child's /proc/PID/stat (read half way) and /proc/PID directory, and
 * its own status through /proc/self; the child holds its parent's comm.
 * After restore each descriptor reads the same task's file again, at its
 * offset, as the tree comes back with the same pids.
 */
#include <fcntl.h>

#include "tree.h"

static void check_link(int fd, const char *want)
{
	char link[256], proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	if (strcmp(link, want))
		tree_fail("fd %d links to '%s', expected '%s'", fd, link, want);
}

static void check_starts(int fd, off_t off, const char *want, const char *what)
{
	char buf[256];
	ssize_t n;

	if (lseek(fd, 0, SEEK_CUR) != off)
		tree_fail("%s: offset %ld, expected %ld", what, (long)lseek(fd, 0, SEEK_CUR),
			  (long)off);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n < 0 ? 0 : n] = '\0';
	if (strncmp(buf, want, strlen(want)))
		tree_fail("%s reads '%.40s', expected '%s...'", what, buf, want);
}

int main(int argc, char **argv)
{
	char path[64], want[64], buf[4];
	int stat_fd, dir_fd, self_fd;
	pid_t pid, root;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	root = getpid();
	pid = tree_fork("child");
	if (!pid) {
		int comm_fd;

		snprintf(path, sizeof(path), "/proc/%d/comm", root);
		comm_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (comm_fd < 0)
			tree_fail("open %s: %m", path);
		tree_ready(0);
		test_waitsig();
		check_link(comm_fd, path);
		check_starts(comm_fd, 0, "fd_proc", "the parent's comm");
		tree_pass();
	}
	tree_barrier_wait(1, NULL);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (stat_fd < 0 || read(stat_fd, buf, 2) != 2)
		fail("open %s: %m", path);
	snprintf(path, sizeof(path), "/proc/%d", pid);
	dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	self_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (dir_fd < 0 || self_fd < 0)
		fail("open: %m");

	test_daemon();
	test_waitsig();

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	snprintf(want, sizeof(want), "%d (fd_proc) ", pid);
	check_link(stat_fd, path);
	check_starts(stat_fd, 2, want, "the child's stat");
	snprintf(path, sizeof(path), "/proc/%d", pid);
	check_link(dir_fd, path);
	if (faccessat(dir_fd, "stat", R_OK, 0))
		fail("the child's /proc directory has no stat: %m");
	snprintf(path, sizeof(path), "/proc/%d/status", root);
	check_link(self_fd, path);
	check_starts(self_fd, 0, "Name:\tfd_proc", "the root's status");
	tree_stop(pid, "child");
	tree_collect(pid, "child");
	pass();
}
