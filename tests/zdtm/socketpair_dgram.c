// SPDX-License-Identifier: GPL-2.0
/*
 * socketpair_dgram: AF_UNIX datagram and seqpacket socketpairs between the
 * root and its child, with messages queued both ways, an empty one among
 * them. After restore every message comes out whole, in order, with its
 * own length (boundaries kept, none merged or lost), then nothing more;
 * and new messages pass both ways.
 */
#include <sys/socket.h>

#include "tree.h"

static const size_t up_sizes[] = {1, 100, 2000, 0, 7};
static const size_t down_sizes[] = {10, 0, 333};

#define NUP   (sizeof(up_sizes) / sizeof(up_sizes[0]))
#define NDOWN (sizeof(down_sizes) / sizeof(down_sizes[0]))

static char pat(int seed, size_t i)
{
	return (char)(i * 17 + seed * 5);
}

static void send_msgs(int fd, const size_t *sizes, size_t n, int seed)
{
	char buf[4096];

	for (size_t m = 0; m < n; m++) {
		for (size_t i = 0; i < sizes[m]; i++)
			buf[i] = pat(seed + m, i);
		if (send(fd, buf, sizes[m], 0) != (ssize_t)sizes[m])
			tree_fail("send of %zu bytes: %m", sizes[m]);
	}
}

/* With last, the peer may have closed: the EOF after the messages is no extra one. */
static void recv_msgs(int fd, const size_t *sizes, size_t n, int seed, const char *what, bool last)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[4096];

	for (size_t m = 0; m < n; m++) {
		ssize_t r;

		if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1)
			tree_fail("%s: message %zu of %zu never came", what, m + 1, n);
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (r < 0)
			tree_fail("%s: message %zu of %zu: %m", what, m + 1, n);
		if (r != (ssize_t)sizes[m])
			tree_fail("%s: message %zu is %zd bytes, expected %zu", what, m + 1, r,
				  sizes[m]);
		for (size_t i = 0; i < sizes[m]; i++)
			if (buf[i] != pat(seed + m, i))
				tree_fail("%s: message %zu byte %zu is %#x, expected %#x", what,
					  m + 1, i, (unsigned char)buf[i],
					  (unsigned char)pat(seed + m, i));
	}
	if (!last)
		tree_expect_empty(fd, what);
}

static void check_type(int fd, int want, const char *what)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != want)
		tree_fail("%s: socket type %d, expected %d", what, type, want);
}

int main(int argc, char **argv)
{
	static const int types[] = {SOCK_DGRAM, SOCK_SEQPACKET};
	static const char *const names[] = {"dgram", "seqpacket"};
	int sp[2][2];
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	for (int t = 0; t < 2; t++)
		if (socketpair(AF_UNIX, types[t] | SOCK_CLOEXEC, 0, sp[t]))
			fail("socketpair: %m");
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		for (int t = 0; t < 2; t++) {
			close(sp[t][0]);
			send_msgs(sp[t][1], up_sizes, NUP, 10 * t);
		}
		tree_ready(0);
		test_waitsig();
		for (int t = 0; t < 2; t++) {
			check_type(sp[t][1], types[t], names[t]);
			recv_msgs(sp[t][1], down_sizes, NDOWN, 20 + 10 * t, names[t], false);
			send_msgs(sp[t][1], down_sizes, NDOWN, 40 + 10 * t);
		}
		tree_pass();
	}
	for (int t = 0; t < 2; t++) {
		close(sp[t][1]);
		send_msgs(sp[t][0], down_sizes, NDOWN, 20 + 10 * t);
	}
	tree_barrier_wait(1, NULL);

	test_daemon();
	test_waitsig();

	for (int t = 0; t < 2; t++) {
		check_type(sp[t][0], types[t], names[t]);
		recv_msgs(sp[t][0], up_sizes, NUP, 10 * t, names[t], false);
	}
	tree_stop(pid, "child");
	for (int t = 0; t < 2; t++)
		recv_msgs(sp[t][0], down_sizes, NDOWN, 40 + 10 * t, names[t], true);
	tree_collect(pid, "child");
	pass();
}
