// SPDX-License-Identifier: GPL-2.0
/*
 * fd_times: a file's times come through the checkpoint as they were. One
 * file is linked, one unlinked (nestor recreates it from its saved content);
 * both were given old access and modification times, which the dump (it
 * reads the unlinked one) and the restore (it writes it anew) must not touch.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

static const struct timespec times[2] = {
	{ 1000000000, 123456789 }, /* atime */
	{ 1100000000, 987654321 }, /* mtime */
};

static int make(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, "some bytes\n", 11) != 11 || futimens(fd, times))
		fail("creating %s: %m", path);
	return fd;
}

static void check(int fd, const char *what)
{
	struct stat st;

	if (fstat(fd, &st))
		fail("fstat %s: %m", what);
	if (st.st_atim.tv_sec != times[0].tv_sec || st.st_atim.tv_nsec != times[0].tv_nsec)
		fail("%s: atime %ld.%09ld, expected %ld.%09ld", what, st.st_atim.tv_sec,
		     st.st_atim.tv_nsec, times[0].tv_sec, times[0].tv_nsec);
	if (st.st_mtim.tv_sec != times[1].tv_sec || st.st_mtim.tv_nsec != times[1].tv_nsec)
		fail("%s: mtime %ld.%09ld, expected %ld.%09ld", what, st.st_mtim.tv_sec,
		     st.st_mtim.tv_nsec, times[1].tv_sec, times[1].tv_nsec);
}

int main(int argc, char **argv)
{
	char *linked, *gone;
	int fd_linked, fd_gone;

	test_init(argc, argv);
	linked = test_path("linked.dat");
	gone = test_path("gone.dat");
	fd_linked = make(linked);
	fd_gone = make(gone);
	if (unlink(gone))
		fail("unlink: %m");

	test_daemon();
	test_waitsig();

	check(fd_linked, "linked file");
	check(fd_gone, "unlinked file");
	pass();
}
