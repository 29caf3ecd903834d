// SPDX-License-Identifier: GPL-2.0
/*
 * unix_listen: a listening AF_UNIX stream socket bound to WORKDIR/sock in
 * the root, non-blocking. The child connected twice: the root accepted the
 * first connection (data queued both ways), the second still waits in the
 * backlog with data queued. After restore the listener keeps its path and
 * flags, the waiting connection is accepted at once with its data and no
 * other is pending, the accepted one keeps its data and names, and a new
 * connect() to the path after restore reaches the same listener.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include "tree.h"

enum { ACC_UP = 1000, ACC_DOWN = 500, PEND_UP = 2000, PEND_DOWN = 300, NEW_UP = 50 };

static struct sockaddr_un addr = {.sun_family = AF_UNIX};
static char buf[4096];

static char pat(int seed, size_t i)
{
	return (char)(i * 19 + seed);
}

static void send_pattern(int fd, int seed, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pat(seed, i);
	if (write(fd, buf, len) != (ssize_t)len)
		tree_fail("write: %m");
}

static void recv_pattern(int fd, int seed, size_t len, const char *what, bool last)
{
	tree_read_exact(fd, buf, len, what);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pat(seed, i))
			tree_fail("%s: byte %zu is %#x, expected %#x", what, i,
				  (unsigned char)buf[i], (unsigned char)pat(seed, i));
	if (!last)
		tree_expect_empty(fd, what);
}

/* name (or peer name) of fd is our path */
static void check_name(int fd, bool peer, const char *what)
{
	struct sockaddr_un a = {};
	socklen_t len = sizeof(a);
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &len)
		     : getsockname(fd, (struct sockaddr *)&a, &len);

	if (r || a.sun_family != AF_UNIX || strcmp(a.sun_path, addr.sun_path))
		tree_fail("%s: %s is '%s', expected '%s'", what, peer ? "peer name" : "name",
			  r ? "(error)" : a.sun_path, addr.sun_path);
}

static int connect_path(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		tree_fail("connect %s: %m", addr.sun_path);
	return fd;
}

static void __attribute__((noreturn)) child(void)
{
	int acc = connect_path(), pend, late;

	send_pattern(acc, 1, ACC_UP);
	pend = connect_path();
	send_pattern(pend, 2, PEND_UP);
	tree_ready(0);
	test_waitsig();
	check_name(acc, true, "accepted connection, child side");
	check_name(pend, true, "pending connection, child side");
	recv_pattern(acc, 3, ACC_DOWN, "accepted connection, root to child", false);
	recv_pattern(pend, 4, PEND_DOWN, "pending connection, root to child", false);
	late = connect_path();
	send_pattern(late, 5, NEW_UP);
	tree_pass();
}

static int accept_now(int l, const char *what)
{
	int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		fail("%s: accept: %m", what);
	return fd;
}

int main(int argc, char **argv)
{
	int l, acc, pend, late, v = 0;
	struct pollfd pfd;
	socklen_t len = sizeof(v);
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/sock", test_dir);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof(addr)) || listen(l, 8))
		fail("listen on %s: %m", addr.sun_path);
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		close(l);
		child();
	}
	tree_barrier_wait(1, NULL);
	/* The backlog is first in, first out: this is the first connection. */
	acc = accept_now(l, "set-up");
	send_pattern(acc, 3, ACC_DOWN);
	pfd = (struct pollfd){.fd = l, .events = POLLIN};
	if (poll(&pfd, 1, 0) != 1)
		fail("set-up: the second connection is not in the backlog");

	test_daemon();
	test_waitsig();

	check_name(l, false, "listener");
	check_name(acc, false, "accepted connection");
	if (getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) || !v)
		fail("the listener no longer listens");
	if (!(fcntl(l, F_GETFL) & O_NONBLOCK))
		fail("the listener lost O_NONBLOCK");
	recv_pattern(acc, 1, ACC_UP, "accepted connection, child to root", false);
	pend = accept_now(l, "the connection waiting in the backlog");
	check_name(pend, false, "connection accepted after restore");
	if (accept4(l, NULL, NULL, 0) != -1 || errno != EAGAIN)
		fail("a second connection pending after restore, expected only one");
	recv_pattern(pend, 2, PEND_UP, "pending connection, child to root", false);
	send_pattern(pend, 4, PEND_DOWN);
	tree_stop(pid, "child");
	pfd = (struct pollfd){.fd = l, .events = POLLIN};
	if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1)
		fail("no connection to %s after restore", addr.sun_path);
	late = accept_now(l, "a connection made after restore");
	recv_pattern(late, 5, NEW_UP, "connection made after restore", true);
	tree_collect(pid, "child");
	pass();
}
