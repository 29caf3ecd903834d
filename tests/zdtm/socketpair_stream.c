// SPDX-License-Identifier: GPL-2.0
/*
 * socketpair_stream: AF_UNIX stream socketpairs with one end in the root
 * and the other in its child. On the first, unread data in both
 * directions, O_NONBLOCK and a set send buffer on the root's end. On the
 * second, the child wrote and then shut its sending side down. After
 * restore each queue comes out exactly, the half-closed pair ends in EOF
 * after its data while still carrying data the other way, and new data
 * flows both ways.
 */
#include <sys/socket.h>

#include "tree.h"

#define UP_LEN	 3000
#define DOWN_LEN 5000
#define SNDBUF	 40000

static char buf[DOWN_LEN];

static char pat(int seed, size_t i)
{
	return (char)(i * 13 + seed);
}

static void send_pattern(int fd, int seed, size_t len, const char *what)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pat(seed, i);
	if (write(fd, buf, len) != (ssize_t)len)
		tree_fail("%s: write: %m", what);
}

static void recv_pattern(int fd, int seed, size_t len, const char *what)
{
	memset(buf, 0, len);
	tree_read_exact(fd, buf, len, what);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pat(seed, i))
			tree_fail("%s: byte %zu is %#x, expected %#x", what, i,
				  (unsigned char)buf[i], (unsigned char)pat(seed, i));
}

static void check_stream(int fd, const char *what)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM)
		tree_fail("%s: not a stream socket (type %d)", what, type);
}

static void __attribute__((noreturn)) child(int s, int half)
{
	send_pattern(s, 1, UP_LEN, "up");
	send_pattern(half, 3, 10, "half");
	if (shutdown(half, SHUT_WR))
		tree_fail("shutdown: %m");
	tree_ready(0);
	test_waitsig();
	check_stream(s, "child's end");
	if (fcntl(s, F_GETFL) & O_NONBLOCK)
		tree_fail("child's end is O_NONBLOCK, only the root's should be");
	recv_pattern(s, 2, DOWN_LEN, "down");
	tree_expect_empty(s, "down");
	send_pattern(s, 4, 100, "up after restore");
	recv_pattern(half, 5, 20, "half, root to child after restore");
	if (write(half, "x", 1) != -1 || errno != EPIPE)
		tree_fail("half: write after SHUT_WR did not fail with EPIPE (%m)");
	tree_pass();
}

/* Options the root's end carries through the checkpoint. */
#define RCVBUF  (96 << 10)
#define PEEKOFF 3

/* As the kernel keeps them (in jiffies), read back before the checkpoint. */
static struct timeval rcvtimeo = {7, 250000}, sndtimeo = {3, 500000};

static void get_timeo(int sk, int opt, struct timeval *tv, const char *name)
{
	socklen_t len = sizeof(*tv);

	if (getsockopt(sk, SOL_SOCKET, opt, tv, &len))
		fail("getsockopt %s: %m", name);
}

static void set_options(int sk)
{
	if (setsockopt(sk, SOL_SOCKET, SO_RCVBUF, &(int){RCVBUF}, sizeof(int)) ||
	    setsockopt(sk, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int)) ||
	    setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &(int){PEEKOFF}, sizeof(int)) ||
	    setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo)) ||
	    setsockopt(sk, SOL_SOCKET, SO_SNDTIMEO, &sndtimeo, sizeof(sndtimeo)))
		fail("setsockopt: %m");
	get_timeo(sk, SO_RCVTIMEO, &rcvtimeo, "SO_RCVTIMEO");
	get_timeo(sk, SO_SNDTIMEO, &sndtimeo, "SO_SNDTIMEO");
}

static int get_int(int sk, int opt, const char *name)
{
	socklen_t len = sizeof(int);
	int v;

	if (getsockopt(sk, SOL_SOCKET, opt, &v, &len))
		fail("getsockopt %s: %m", name);
	return v;
}

static void check_timeo(int sk, int opt, const struct timeval *want, const char *name)
{
	struct timeval tv;

	get_timeo(sk, opt, &tv, name);
	if (tv.tv_sec != want->tv_sec || tv.tv_usec != want->tv_usec)
		fail("%s %ld.%06ld, expected %ld.%06ld", name, tv.tv_sec, tv.tv_usec, want->tv_sec,
		     want->tv_usec);
}

static void check_options(int sk)
{
	int v;

	/* The kernel doubles what was asked for. */
	if ((v = get_int(sk, SO_RCVBUF, "SO_RCVBUF")) != 2 * RCVBUF)
		fail("SO_RCVBUF %d, expected %d", v, 2 * RCVBUF);
	if (!get_int(sk, SO_PASSCRED, "SO_PASSCRED"))
		fail("SO_PASSCRED lost");
	if ((v = get_int(sk, SO_PEEK_OFF, "SO_PEEK_OFF")) != PEEKOFF)
		fail("SO_PEEK_OFF %d, expected %d", v, PEEKOFF);
	check_timeo(sk, SO_RCVTIMEO, &rcvtimeo, "SO_RCVTIMEO");
	check_timeo(sk, SO_SNDTIMEO, &sndtimeo, "SO_SNDTIMEO");
}

int main(int argc, char **argv)
{
	int sp[2], hp[2], v = 0;
	socklen_t len = sizeof(v);
	pid_t pid;
	char c;

	test_init(argc, argv);
	tree_init();
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, hp))
		fail("socketpair: %m");
	if (setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &(int){SNDBUF}, sizeof(int)) ||
	    fcntl(sp[0], F_SETFL, O_NONBLOCK))
		fail("set-up: %m");
	set_options(sp[0]);
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		close(sp[0]);
		close(hp[0]);
		child(sp[1], hp[1]);
	}
	close(sp[1]);
	close(hp[1]);
	send_pattern(sp[0], 2, DOWN_LEN, "down");
	tree_barrier_wait(1, NULL);

	test_daemon();
	test_waitsig();

	check_stream(sp[0], "root's end");
	if (!(fcntl(sp[0], F_GETFL) & O_NONBLOCK))
		fail("root's end lost O_NONBLOCK");
	/* The kernel doubles what was asked for. */
	if (getsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &v, &len) || v != 2 * SNDBUF)
		fail("SO_SNDBUF %d, expected %d", v, 2 * SNDBUF);
	check_options(sp[0]);
	recv_pattern(sp[0], 1, UP_LEN, "up");
	if (read(sp[0], &c, 1) != -1 || errno != EAGAIN)
		fail("up: more than the data written, or no EAGAIN");
	recv_pattern(hp[0], 3, 10, "half");
	if (read(hp[0], &c, 1) != 0)
		fail("half: no EOF after the data of the shut-down side");
	send_pattern(hp[0], 5, 20, "half, root to child");
	tree_stop(pid, "child");
	recv_pattern(sp[0], 4, 100, "up after restore");
	tree_collect(pid, "child");
	pass();
}
