// SPDX-License-Identifier: GPL-2.0
/*
 * fd_chr: character devices /dev/null, /dev/zero, /dev/full and
 * /dev/urandom stay open on the same devices, with their access modes, and
 * behave as those devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtm.h"

static const struct {
	const char *path;
	int flags, minor;
} devs[] = {
    {"/dev/null", O_RDWR, 3},
    {"/dev/zero", O_RDONLY, 5},
    {"/dev/full", O_WRONLY | O_APPEND, 7},
    {"/dev/urandom", O_RDONLY | O_NONBLOCK, 9},
};
#define NDEVS 4

int main(int argc, char **argv)
{
	char buf[64], zero[64] = {};
	int fd[NDEVS];
	struct stat st;

	test_init(argc, argv);
	for (int i = 0; i < NDEVS; i++) {
		fd[i] = open(devs[i].path, devs[i].flags | O_CLOEXEC);
		if (fd[i] < 0)
			skip("cannot open %s: %m", devs[i].path);
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NDEVS; i++) {
		int fl = fcntl(fd[i], F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK);

		if (fstat(fd[i], &st) || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 ||
		    minor(st.st_rdev) != (unsigned int)devs[i].minor)
			fail("fd %d: device %u:%u, expected %s (1:%d)", fd[i], major(st.st_rdev),
			     minor(st.st_rdev), devs[i].path, devs[i].minor);
		if (fl != devs[i].flags)
			fail("fd %d (%s): flags %#x, expected %#x", fd[i], devs[i].path, fl,
			     devs[i].flags);
	}
	if (write(fd[0], "x", 1) != 1 || read(fd[0], buf, 1) != 0)
		fail("/dev/null does not behave as /dev/null");
	memset(buf, 1, sizeof(buf));
	if (read(fd[1], buf, 64) != 64 || memcmp(buf, zero, 64))
		fail("/dev/zero did not read 64 zero bytes");
	if (write(fd[2], "x", 1) != -1 || errno != ENOSPC)
		fail("writing /dev/full did not fail with ENOSPC");
	if (read(fd[3], buf, 64) != 64 || !memcmp(buf, zero, 64))
		fail("/dev/urandom did not read 64 random bytes");
	pass();
}
