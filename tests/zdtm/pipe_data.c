// SPDX-License-Identifier: GPL-2.0
/*
 * pipe_data: a pipe with both ends in the task, a non-default capacity,
 * O_NONBLOCK on the read end and 100000 unread bytes in it. The bytes come
 * back in order, no more, and the two ends still form one pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

#define PIPE_SZ (128 * 1024)
#define LEN	100000

static char byte(int i)
{
	return (char)(i * 13 + i / 256);
}

int main(int argc, char **argv)
{
	static char buf[LEN + 1];
	struct stat st0, st1;
	int p[2], sz;
	ssize_t n = 0;

	test_init(argc, argv);
	if (pipe2(p, O_CLOEXEC) || fcntl(p[0], F_SETPIPE_SZ, PIPE_SZ) != PIPE_SZ ||
	    fcntl(p[0], F_SETFL, O_NONBLOCK))
		fail("pipe: %m");
	for (int i = 0; i < LEN; i++)
		buf[i] = byte(i);
	if (write(p[1], buf, LEN) != LEN)
		fail("write: %m");

	test_daemon();
	test_waitsig();

	sz = fcntl(p[0], F_GETPIPE_SZ);
	if (sz != PIPE_SZ)
		fail("pipe size %d, expected %d", sz, PIPE_SZ);
	if (!(fcntl(p[0], F_GETFL) & O_NONBLOCK) || (fcntl(p[1], F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK must be on the read end only: flags %#x %#x", fcntl(p[0], F_GETFL),
		     fcntl(p[1], F_GETFL));
	if (fstat(p[0], &st0) || fstat(p[1], &st1) || st0.st_ino != st1.st_ino)
		fail("the ends are different pipes (inodes %lu and %lu)", st0.st_ino, st1.st_ino);
	while (n < LEN + 1) {
		ssize_t r = read(p[0], buf + n, LEN + 1 - n);

		if (r <= 0)
			break;
		n += r;
	}
	if (n != LEN)
		fail("read %zd bytes from the pipe, expected %d", n, LEN);
	if (read(p[0], buf, 1) != -1 || errno != EAGAIN)
		fail("empty pipe read did not give EAGAIN");
	for (int i = 0; i < LEN; i++)
		if (buf[i] != byte(i))
			fail("pipe byte %d: %#x, expected %#x", i, (unsigned char)buf[i],
			     (unsigned char)byte(i));
	if (write(p[1], "z", 1) != 1 || read(p[0], buf, 2) != 1 || buf[0] != 'z')
		fail("a byte written after restore did not come out of the read end");
	pass();
}
