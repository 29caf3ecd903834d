// SPDX-License-Identifier: GPL-2.0
/*
 * unix_abstract: AF_UNIX sockets in the abstract namespace. The root
 * listens on an abstract name with a connection from the child waiting in
 * the backlog, data queued; it also has a datagram socket bound to a
 * second abstract name holding a datagram from the child's autobound
 * socket (a kernel-chosen name). After restore the names are exactly the
 * same (length included), the pending connection is accepted with its
 * data, a new connect() to the name works, and the root can answer the
 * datagram to the sender's autobound name.
 */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "tree.h"

#define PEND_UP 1500

struct name {
	struct sockaddr_un a;
	socklen_t len;
};

static struct name listen_name, dgram_name;
static char buf[4096];

static char pat(int seed, size_t i)
{
	return (char)(i * 23 + seed);
}

static void make_name(struct name *n, const char *what)
{
	n->a.sun_family = AF_UNIX;
	/* sun_path[0] stays NUL: abstract. Unique per run: the root's pid. */
	n->len = offsetof(struct sockaddr_un, sun_path) + 1 +
		 snprintf(n->a.sun_path + 1, sizeof(n->a.sun_path) - 1, "nestor-zdtm-%s-%d", what,
			  getpid());
}

static bool same_name(const struct name *x, const struct sockaddr_un *a, socklen_t len)
{
	return len == x->len && !memcmp(a, &x->a, len);
}

static void check_name(int fd, const struct name *want, const char *what)
{
	struct sockaddr_un a = {};
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) || !same_name(want, &a, len))
		tree_fail("%s: name '@%.*s' (length %u), expected '@%.*s' (length %u)", what,
			  (int)(len - offsetof(struct sockaddr_un, sun_path) - 1), a.sun_path + 1,
			  len, (int)(want->len - offsetof(struct sockaddr_un, sun_path) - 1),
			  want->a.sun_path + 1, want->len);
}

static int connect_name(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&listen_name.a, listen_name.len))
		tree_fail("connect: %m");
	return fd;
}

static void __attribute__((noreturn)) child(void)
{
	struct pollfd pfd;
	struct name self = {.a.sun_family = AF_UNIX, .len = sizeof(self.a)};
	int pend, late, d;

	pend = connect_name();
	for (size_t i = 0; i < PEND_UP; i++)
		buf[i] = pat(1, i);
	if (write(pend, buf, PEND_UP) != PEND_UP)
		tree_fail("write: %m");
	/* Autobind: binding just the family makes the kernel pick a name. */
	d = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d < 0 || bind(d, (struct sockaddr *)&self.a, sizeof(sa_family_t)) ||
	    getsockname(d, (struct sockaddr *)&self.a, &self.len))
		tree_fail("autobind: %m");
	/* The datagram carries the sender's name, for the root to compare. */
	if (sendto(d, &self, sizeof(self), 0, (struct sockaddr *)&dgram_name.a, dgram_name.len) !=
	    sizeof(self))
		tree_fail("sendto: %m");
	tree_ready(0);
	test_waitsig();
	check_name(d, &self, "autobound datagram socket");
	pfd = (struct pollfd){.fd = d, .events = POLLIN};
	if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1 || recv(d, buf, sizeof(buf), 0) != 5 ||
	    memcmp(buf, "reply", 5))
		tree_fail("no reply from the root to the autobound name");
	late = connect_name();
	if (write(late, "late", 4) != 4)
		tree_fail("write: %m");
	tree_pass();
}

int main(int argc, char **argv)
{
	struct sockaddr_un from;
	socklen_t fromlen = sizeof(from);
	struct name sender;
	struct pollfd pfd;
	int l, d, pend, late;
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	make_name(&listen_name, "listen");
	make_name(&dgram_name, "dgram");
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	d = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l < 0 || d < 0 || bind(l, (struct sockaddr *)&listen_name.a, listen_name.len) ||
	    listen(l, 4) || bind(d, (struct sockaddr *)&dgram_name.a, dgram_name.len))
		fail("set-up: %m");
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		close(l);
		close(d);
		child();
	}
	tree_barrier_wait(1, NULL);

	test_daemon();
	test_waitsig();

	check_name(l, &listen_name, "listener");
	check_name(d, &dgram_name, "datagram socket");
	pend = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (pend < 0)
		fail("the connection waiting in the backlog: accept: %m");
	tree_read_exact(pend, buf, PEND_UP, "pending connection");
	for (size_t i = 0; i < PEND_UP; i++)
		if (buf[i] != pat(1, i))
			fail("pending connection: byte %zu is %#x, expected %#x", i,
			     (unsigned char)buf[i], (unsigned char)pat(1, i));
	tree_expect_empty(pend, "pending connection");
	if (recvfrom(d, &sender, sizeof(sender), 0, (struct sockaddr *)&from, &fromlen) !=
	    sizeof(sender))
		fail("the queued datagram is gone: %m");
	if (!same_name(&sender, &from, fromlen))
		fail("the datagram's sender address (length %u) is not the child's autobound name "
		     "(length %u)",
		     fromlen, sender.len);
	if (recv(d, buf, sizeof(buf), 0) != -1 || errno != EAGAIN)
		fail("more than one datagram queued");
	if (sendto(d, "reply", 5, 0, (struct sockaddr *)&from, fromlen) != 5)
		fail("sendto the child's autobound name: %m");
	tree_stop(pid, "child");
	pfd = (struct pollfd){.fd = l, .events = POLLIN};
	if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1 || (late = accept4(l, NULL, NULL, 0)) < 0)
		fail("no connection to the abstract name after restore");
	tree_read_exact(late, buf, 4, "connection made after restore");
	tree_collect(pid, "child");
	pass();
}
