// SPDX-License-Identifier: GPL-2.0
/*
 * fd_stdio: the standard descriptors the runner gave (stdin /dev/null,
 * stdout and stderr on WORKDIR/out.log) keep their files, modes and offsets,
 * so output after restore lands after output from before.
 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

struct fdstate {
	struct stat st;
	off_t off;
	int flags;
};

static void get(int fd, struct fdstate *s)
{
	if (fstat(fd, &s->st))
		fail("fd %d: %m", fd);
	s->off = lseek(fd, 0, SEEK_CUR);
	s->flags = fcntl(fd, F_GETFL);
}

int main(int argc, char **argv)
{
	struct fdstate want[3], got[3];
	static const char before[] = "fd_stdio: before checkpoint\n";
	static const char after[] = "fd_stdio: after restore\n";
	char buf[256], *log;
	ssize_t n;

	test_init(argc, argv);
	if (write(1, before, strlen(before)) < 0)
		fail("write: %m");
	for (int i = 0; i < 3; i++)
		get(i, &want[i]);

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 3; i++) {
		get(i, &got[i]);
		if (got[i].st.st_ino != want[i].st.st_ino ||
		    got[i].st.st_dev != want[i].st.st_dev ||
		    got[i].st.st_rdev != want[i].st.st_rdev)
			fail("fd %d: inode %lu, expected %lu", i, got[i].st.st_ino,
			     want[i].st.st_ino);
		if (got[i].flags != want[i].flags)
			fail("fd %d: flags %#x, expected %#x", i, got[i].flags, want[i].flags);
		if (got[i].off != want[i].off && !S_ISCHR(got[i].st.st_mode))
			fail("fd %d: offset %ld, expected %ld", i, got[i].off, want[i].off);
	}
	if (write(1, after, strlen(after)) < 0)
		fail("write: %m");
	log = test_path("out.log");
	n = read_file(log, buf, sizeof(buf));
	if (n < 0 || strncmp(buf, before, strlen(before)) ||
	    strstr(buf, after) != buf + strlen(before))
		fail("%s holds '%s', expected '%s%s'", log, n < 0 ? "" : buf, before, after);
	pass();
}
