// SPDX-License-Identifier: GPL-2.0
/*
 * fd_high: descriptors keep their numbers, far up included (1000), and
 * their FD_CLOEXEC flag set or not; exactly the same numbers are open.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

static const struct {
	int num, fdflags;
} fds[] = {{1000, 0}, {999, FD_CLOEXEC}, {7, 0}, {8, FD_CLOEXEC}};
#define NFDS 4

/* The open descriptors, as a bitmap of the first 1024. */
static void list_fds(uint64_t *map)
{
	struct dirent *de;
	DIR *d;

	memset(map, 0, 1024 / 8);
	d = opendir("/proc/self/fd");
	if (!d)
		fail("opendir /proc/self/fd: %m");
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (fd >= 1024)
			fail("unexpected fd %d open", fd);
		map[fd / 64] |= 1ULL << (fd % 64);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	uint64_t want[16], got[16];
	struct stat st_file, st;
	char *path;
	int fd;

	test_init(argc, argv);
	path = test_path("fd_high.dat");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st_file))
		fail("open %s: %m", path);
	for (int i = 0; i < NFDS; i++)
		if (dup3(fd, fds[i].num, fds[i].fdflags ? O_CLOEXEC : 0) != fds[i].num)
			fail("dup3 to %d: %m", fds[i].num);
	close(fd);
	list_fds(want);

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NFDS; i++) {
		int fl = fcntl(fds[i].num, F_GETFD);

		if (fl < 0 || fstat(fds[i].num, &st))
			fail("fd %d is not open: %m", fds[i].num);
		if (st.st_ino != st_file.st_ino || st.st_dev != st_file.st_dev)
			fail("fd %d: inode %lu, expected %lu", fds[i].num, st.st_ino,
			     st_file.st_ino);
		if (fl != fds[i].fdflags)
			fail("fd %d: fd flags %#x, expected %#x", fds[i].num, fl, fds[i].fdflags);
	}
	list_fds(got);
	for (int fd = 0; fd < 1024; fd++) {
		bool w = want[fd / 64] >> (fd % 64) & 1, g = got[fd / 64] >> (fd % 64) & 1;

		if (w != g)
			fail("fd %d is %s, expected %s", fd, g ? "open" : "closed",
			     w ? "open" : "closed");
	}
	pass();
}
