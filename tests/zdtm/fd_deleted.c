// SPDX-License-Identifier: GPL-2.0
/*
 * fd_deleted: descriptors of objects removed since they were opened, of
 * every kind with a name: a FIFO holding data, a directory, a device node
 * and an unlinked file whose directories were removed too. Each comes back
 * as the same kind of object, still removed (the link says "(deleted)"),
 * with its mode, and nothing is left at the old names.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtm.h"

static void check_link(int fd, const char *path)
{
	char link[PATH_MAX + 16], want[PATH_MAX + 16], proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	snprintf(want, sizeof(want), "%s (deleted)", path);
	if (strcmp(link, want))
		fail("fd %d links to '%s', expected '%s'", fd, link, want);
	if (access(path, F_OK) == 0 || errno != ENOENT)
		fail("%s exists again after restore", path);
}

static void check_stat(int fd, const char *what, mode_t type, mode_t mode)
{
	struct stat st;

	if (fstat(fd, &st))
		fail("fstat %s: %m", what);
	if ((st.st_mode & S_IFMT) != type || (st.st_mode & 07777) != mode || st.st_nlink != 0)
		fail("%s: mode %#o links %lu, expected %#o links 0", what, st.st_mode,
		     st.st_nlink, type | mode);
}

int main(int argc, char **argv)
{
	char *fifo, *dir, *node, *sub, *deeper, *file, buf[16];
	int ffd, dfd, nfd, rfd;
	struct stat st;

	test_init(argc, argv);
	fifo = test_path("fifo");
	dir = test_path("dir");
	node = test_path("null");
	sub = test_path("sub");
	deeper = test_path("sub/deeper");
	file = test_path("sub/deeper/file");
	umask(0);
	if (mkfifo(fifo, 0640) || (ffd = open(fifo, O_RDWR | O_NONBLOCK)) < 0 ||
	    write(ffd, "abc", 3) != 3 || unlink(fifo))
		fail("fifo: %m");
	if (mkdir(dir, 0750) || (dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0 || rmdir(dir))
		fail("dir: %m");
	if (mknod(node, S_IFCHR | 0604, makedev(1, 3)) || (nfd = open(node, O_RDWR)) < 0 ||
	    unlink(node))
		fail("device node: %m");
	if (mkdir(sub, 0755) || mkdir(deeper, 0755) ||
	    (rfd = open(file, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0 || write(rfd, "hello", 5) != 5 ||
	    unlink(file) || rmdir(deeper) || rmdir(sub))
		fail("file in removed directories: %m");

	test_daemon();
	test_waitsig();

	check_link(ffd, fifo);
	check_stat(ffd, "fifo", S_IFIFO, 0640);
	if (read(ffd, buf, sizeof(buf)) != 3 || memcmp(buf, "abc", 3))
		fail("fifo lost its data");
	check_link(dfd, dir);
	check_stat(dfd, "dir", S_IFDIR, 0750);
	check_link(nfd, node);
	check_stat(nfd, "device node", S_IFCHR, 0604);
	if (fstat(nfd, &st) || st.st_rdev != makedev(1, 3) || write(nfd, "x", 1) != 1)
		fail("device node is not /dev/null any more: %m");
	check_link(rfd, file);
	check_stat(rfd, "file", S_IFREG, 0600);
	if (pread(rfd, buf, sizeof(buf), 0) != 5 || memcmp(buf, "hello", 5))
		fail("file lost its content");
	if (access(sub, F_OK) == 0 || errno != ENOENT)
		fail("%s exists again after restore", sub);
	pass();
}
