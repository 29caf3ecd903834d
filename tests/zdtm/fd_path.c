// SPDX-License-Identifier: GPL-2.0
/*
 * fd_path: a directory descriptor and an O_PATH descriptor keep pointing at
 * the same objects and keep working as bases for *at() calls.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

int main(int argc, char **argv)
{
	char *dir, *file, proc[64], link[PATH_MAX];
	struct stat st_dir, st_file, st;
	int dfd, pfd, fd;
	ssize_t n;

	test_init(argc, argv);
	dir = test_path("dir");
	file = test_path("dir/file");
	if (mkdir(dir, 0755) || (fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) < 0)
		fail("creating %s: %m", file);
	close(fd);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pfd = open(file, O_PATH | O_CLOEXEC);
	if (dfd < 0 || pfd < 0 || stat(dir, &st_dir) || stat(file, &st_file))
		fail("open: %m");

	test_daemon();
	test_waitsig();

	if (fstat(dfd, &st) || st.st_ino != st_dir.st_ino || !S_ISDIR(st.st_mode))
		fail("directory fd: inode %lu, expected %lu", st.st_ino, st_dir.st_ino);
	if (fstatat(dfd, "file", &st, 0) || st.st_ino != st_file.st_ino)
		fail("fstatat(dirfd, \"file\") failed or found another file: %m");
	if (!(fcntl(pfd, F_GETFL) & O_PATH))
		fail("fd %d lost O_PATH: flags %#x", pfd, fcntl(pfd, F_GETFL));
	if (fstatat(pfd, "", &st, AT_EMPTY_PATH) || st.st_ino != st_file.st_ino)
		fail("O_PATH fd: inode %lu, expected %lu", st.st_ino, st_file.st_ino);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("reopening the O_PATH fd through /proc: %m");
	close(fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	if (strcmp(link, file))
		fail("O_PATH fd links to '%s', expected '%s'", link, file);
	pass();
}
