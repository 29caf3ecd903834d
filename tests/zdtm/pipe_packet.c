// SPDX-License-Identifier: GPL-2.0
/*
 * pipe_packet: pipes in packet mode (pipe2 O_DIRECT), with unread data.
 * Pipe A holds the packets "one", "two!", "three", then plain bytes
 * "tail" written with O_DIRECT turned off; pipe B a single packet
 * "single". After restore each read returns at most one packet, a short
 * read of a packet drops its rest, plain bytes come as a stream, the
 * capacity is the same, and the write ends are still O_DIRECT.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "zdtm.h"

#define PIPE_SZ (16 * 4096)

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		fail("write '%s': %m", s);
}

static void get(int fd, size_t len, const char *want)
{
	char buf[64] = "";
	ssize_t r = read(fd, buf, len);

	if (r < 0 && errno == EAGAIN && !want)
		return;
	if (!want)
		fail("read %zd bytes '%.*s', expected an empty pipe", r, (int)(r > 0 ? r : 0), buf);
	if (r != (ssize_t)strlen(want) || memcmp(buf, want, r))
		fail("read(%zu) gave %zd bytes '%.*s' (%m), expected '%s'", len, r,
		     (int)(r > 0 ? r : 0), buf, want);
}

int main(int argc, char **argv)
{
	int a[2], b[2];

	test_init(argc, argv);
	if (pipe2(a, O_DIRECT | O_NONBLOCK | O_CLOEXEC) || pipe2(b, O_DIRECT | O_NONBLOCK | O_CLOEXEC))
		fail("pipe2: %m");
	if (fcntl(a[1], F_SETPIPE_SZ, PIPE_SZ) != PIPE_SZ)
		fail("F_SETPIPE_SZ: %m");
	put(a[1], "one");
	put(a[1], "two!");
	put(a[1], "three");
	if (fcntl(a[1], F_SETFL, O_NONBLOCK))
		fail("F_SETFL: %m");
	put(a[1], "ta");
	put(a[1], "il");
	if (fcntl(a[1], F_SETFL, O_NONBLOCK | O_DIRECT))
		fail("F_SETFL: %m");
	put(b[1], "single");

	test_daemon();
	test_waitsig();

	if (fcntl(a[0], F_GETPIPE_SZ) != PIPE_SZ)
		fail("pipe size %d, expected %d", fcntl(a[0], F_GETPIPE_SZ), PIPE_SZ);
	if (!(fcntl(a[1], F_GETFL) & O_DIRECT) || !(fcntl(b[1], F_GETFL) & O_DIRECT))
		fail("a write end lost O_DIRECT: flags %#x %#x", fcntl(a[1], F_GETFL),
		     fcntl(b[1], F_GETFL));
	get(a[0], 64, "one");
	get(a[0], 2, "tw");
	get(a[0], 64, "three");
	get(a[0], 1, "t");
	get(a[0], 64, "ail");
	get(a[0], 64, NULL);
	get(b[0], 3, "sin");
	get(b[0], 64, NULL);
	put(a[1], "x");
	put(a[1], "y");
	get(a[0], 64, "x");
	pass();
}
