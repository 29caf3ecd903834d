// SPDX-License-Identifier: GPL-2.0
/*
 * fd_unlinked: open files whose names are gone. One was simply unlinked;
 * the other's name now belongs to a new file. Each descriptor keeps its own
 * content, offset and unlinked state; the new file is left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

#define SIZE 10000

static char byte(int seed, int i)
{
	return (char)(seed + i * 7 + i / 251);
}

static int make(const char *path, int seed)
{
	char buf[SIZE];
	int fd;

	for (int i = 0; i < SIZE; i++)
		buf[i] = byte(seed, i);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, buf, SIZE) != SIZE || lseek(fd, 1234 + seed, SEEK_SET) < 0)
		fail("creating %s: %m", path);
	return fd;
}

static void check(int fd, const char *path, int seed, bool unlinked)
{
	char buf[SIZE], link[PATH_MAX + 16], want[PATH_MAX + 16], proc[64];
	struct stat st;
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	snprintf(want, sizeof(want), "%s%s", path, unlinked ? " (deleted)" : "");
	if (strcmp(link, want))
		fail("fd %d links to '%s', expected '%s'", fd, link, want);
	if (fstat(fd, &st) || st.st_size != SIZE || st.st_nlink != (unlinked ? 0 : 1) ||
	    (st.st_mode & 0777) != 0640)
		fail("fd %d: size %ld links %lu mode %#o, expected %d %d 0640", fd, st.st_size,
		     st.st_nlink, st.st_mode & 0777, SIZE, unlinked ? 0 : 1);
	if (lseek(fd, 0, SEEK_CUR) != 1234 + seed)
		fail("fd %d: offset %ld, expected %d", fd, lseek(fd, 0, SEEK_CUR), 1234 + seed);
	if (pread(fd, buf, SIZE, 0) != SIZE)
		fail("pread: %m");
	for (int i = 0; i < SIZE; i++)
		if (buf[i] != byte(seed, i))
			fail("fd %d byte %d: %#x, expected %#x", fd, i, (unsigned char)buf[i],
			     (unsigned char)byte(seed, i));
}

int main(int argc, char **argv)
{
	char *gone, *reused;
	int fd_gone, fd_old, fd_new;

	test_init(argc, argv);
	gone = test_path("gone.dat");
	reused = test_path("reused.dat");
	fd_gone = make(gone, 1);
	fd_old = make(reused, 2);
	if (unlink(gone) || unlink(reused))
		fail("unlink: %m");
	fd_new = make(reused, 3);
	close(fd_new);

	test_daemon();
	test_waitsig();

	if (access(gone, F_OK) == 0 || errno != ENOENT)
		fail("%s exists again after restore", gone);
	check(fd_gone, gone, 1, true);
	check(fd_old, reused, 2, true);
	fd_new = open(reused, O_RDONLY | O_CLOEXEC);
	if (fd_new < 0)
		fail("%s: %m", reused);
	if (lseek(fd_new, 1234 + 3, SEEK_SET) < 0)
		fail("lseek: %m");
	check(fd_new, reused, 3, false);
	pass();
}
