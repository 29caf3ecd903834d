// SPDX-License-Identifier: GPL-2.0
/*
 * netns_unix: unix sockets in the network namespace they were made in,
 * which need not be their holder's. Abstract names are per network
 * namespace, so the same one is bound in three of them.
 *
 * The root (the runner's namespace, H) makes a stream socketpair and forks
 * a, which keeps one end and unshares a namespace A: the pair is H's, held
 * from H and from A. In A, a listens on the abstract name N, with a client
 * connected and accepted (data queued both ways) and a second client
 * waiting in the backlog. b unshares B1 and does the same on the same name
 * N, binds a datagram socket to the abstract name D with a datagram queued,
 * then unshares again (B2) and binds another datagram socket to D there,
 * with its own datagram: every socket of B1 is now held by a task that is
 * in no namespace of them, and no task is in B1 at all.
 *
 * After restore, each socket's namespace (SIOCGSKNS) is compared with its
 * holder's and the others' by structure (same or not, as before), the
 * queues are read, the waiting client is accepted, and new clients made in
 * A, B1 (entered through a socket's SIOCGSKNS) and B2 reach the listener
 * and the datagram socket of their own namespace's N and D, and none in B2.
 */
#include <linux/sockios.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "tree.h"

struct name {
	struct sockaddr_un a;
	socklen_t len;
};

static struct name lname, dname;

static void make_name(struct name *n, const char *what, pid_t root)
{
	n->a.sun_family = AF_UNIX;
	n->len = offsetof(struct sockaddr_un, sun_path) + 1 +
		 snprintf(n->a.sun_path + 1, sizeof(n->a.sun_path) - 1, "nestor-zdtm-netns-%s-%d",
			  what, root);
}

static ino_t ns_of_task(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st))
		tree_fail("stat %s: %m", path);
	return st.st_ino;
}

static ino_t ns_of_sock(int sk, const char *what)
{
	struct stat st;
	int fd = ioctl(sk, SIOCGSKNS);

	if (fd < 0 || fstat(fd, &st))
		tree_fail("SIOCGSKNS of %s: %m", what);
	close(fd);
	return st.st_ino;
}

static void expect_ns(int sk, ino_t want, bool same, const char *what, const char *whose)
{
	if ((ns_of_sock(sk, what) == want) != same)
		tree_fail("%s is %sin the network namespace of %s", what, same ? "not " : "", whose);
}

static int sock(int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		tree_fail("socket: %m");
	return fd;
}

static int listener(void)
{
	int l = sock(SOCK_STREAM);

	if (bind(l, (struct sockaddr *)&lname.a, lname.len) || listen(l, 8))
		tree_fail("listen on the abstract name: %m");
	return l;
}

static int client(void)
{
	int c = sock(SOCK_STREAM);

	if (connect(c, (struct sockaddr *)&lname.a, lname.len))
		tree_fail("connect to the abstract name: %m");
	return c;
}

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		tree_fail("write: %m");
}

static void get(int fd, const char *want, const char *what)
{
	char buf[64] = "";

	tree_read_exact(fd, buf, strlen(want), what);
	if (memcmp(buf, want, strlen(want)))
		tree_fail("%s: read '%.*s', expected '%s'", what, (int)strlen(want), buf, want);
	tree_expect_empty(fd, what);
}

/* A connection to N, made in the caller's namespace now, is accepted by l. */
static void reach(int l, const char *what)
{
	struct pollfd pfd = { .fd = l, .events = POLLIN };
	int c = client(), s;

	put(c, "new");
	if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1 || (s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
		tree_fail("%s: a new client of the abstract name did not reach it", what);
	get(s, "new", what);
	close(s);
	close(c);
}

static int dgram_bound(void)
{
	int d = sock(SOCK_DGRAM);

	if (bind(d, (struct sockaddr *)&dname.a, dname.len))
		tree_fail("bind the datagram name: %m");
	return d;
}

static void send_d(const char *s)
{
	int u = sock(SOCK_DGRAM);

	if (sendto(u, s, strlen(s), 0, (struct sockaddr *)&dname.a, dname.len) !=
	    (ssize_t)strlen(s))
		tree_fail("sendto the datagram name: %m");
	close(u);
}

static void get_d(int d, const char *want, const char *what)
{
	struct pollfd pfd = { .fd = d, .events = POLLIN };
	char buf[64] = "";
	ssize_t n;

	if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1 || (n = recv(d, buf, sizeof(buf), 0)) < 0)
		tree_fail("%s: no datagram", what);
	if ((size_t)n != strlen(want) || memcmp(buf, want, n))
		tree_fail("%s: datagram '%.*s', expected '%s'", what, (int)n, buf, want);
	if (recv(d, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		tree_fail("%s: more than one datagram", what);
}

static void __attribute__((noreturn)) child_a(int pair, pid_t root)
{
	int l, c, s, w, ws;
	ino_t own;

	if (unshare(CLONE_NEWNET))
		tree_fail("unshare: %m");
	own = ns_of_task(getpid());
	l = listener();
	c = client();
	if ((s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
		tree_fail("accept: %m");
	w = client(); /* waits in the backlog */
	put(c, "a-c2s");
	put(s, "a-s2c");
	put(pair, "to-root");
	expect_ns(pair, own, false, "a's end of the pair", "a");
	tree_ready(1);
	test_waitsig();

	own = ns_of_task(getpid()); /* made again: another inode */
	if (own == ns_of_task(root))
		tree_fail("a is not in a network namespace of its own");
	expect_ns(pair, ns_of_task(root), true, "a's end of the pair", "the root");
	expect_ns(l, own, true, "a's listener", "a");
	expect_ns(c, own, true, "a's client", "a");
	expect_ns(s, own, true, "a's accepted end", "a");
	expect_ns(w, own, true, "a's waiting client", "a");
	get(pair, "to-a", "a's end of the pair");
	get(s, "a-c2s", "a's accepted end");
	get(c, "a-s2c", "a's client");
	if ((ws = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		tree_fail("a: the waiting client is not in the backlog: %m");
	expect_ns(ws, own, true, "a's connection from the backlog", "a");
	put(w, "w");
	get(ws, "w", "a's connection from the backlog");
	reach(l, "a's listener");
	tree_pass();
}

static void __attribute__((noreturn)) child_b(pid_t root, pid_t a)
{
	int l, c, s, d1, d2, home, b1;
	ino_t n1, n2;

	if (unshare(CLONE_NEWNET))
		tree_fail("unshare: %m");
	n1 = ns_of_task(getpid());
	l = listener();
	c = client();
	if ((s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
		tree_fail("accept: %m");
	put(c, "b-c2s");
	put(s, "b-s2c");
	d1 = dgram_bound();
	send_d("dg-b1");
	if (unshare(CLONE_NEWNET))
		tree_fail("unshare: %m");
	n2 = ns_of_task(getpid());
	d2 = dgram_bound();
	send_d("dg-b2");
	expect_ns(l, n1, true, "b's listener", "B1");
	tree_ready(2);
	test_waitsig();

	n2 = ns_of_task(getpid());
	n1 = ns_of_sock(l, "b's listener");
	if (n1 == n2 || n1 == ns_of_task(root) || n1 == ns_of_task(a) || n2 == ns_of_task(root) ||
	    n2 == ns_of_task(a))
		tree_fail("b's two network namespaces are not apart from each other and the others");
	expect_ns(c, n1, true, "b's client", "b's listener (B1)");
	expect_ns(s, n1, true, "b's accepted end", "b's listener (B1)");
	expect_ns(d1, n1, true, "b's first datagram socket", "b's listener (B1)");
	expect_ns(d2, n2, true, "b's second datagram socket", "b (B2)");
	get(s, "b-c2s", "b's accepted end");
	get(c, "b-s2c", "b's client");
	get_d(d1, "dg-b1", "b's first datagram socket");
	get_d(d2, "dg-b2", "b's second datagram socket");

	/* In B2 the datagram name is d2's, and no listener has N. */
	send_d("now-b2");
	get_d(d2, "now-b2", "b's second datagram socket, after restore");
	c = sock(SOCK_STREAM);
	if (!connect(c, (struct sockaddr *)&lname.a, lname.len) || errno != ECONNREFUSED)
		tree_fail("a client in B2 reached a listener of the abstract name (%m)");
	close(c);
	/* In B1, entered through the listener's namespace, both are there. */
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	b1 = ioctl(l, SIOCGSKNS);
	if (home < 0 || b1 < 0 || setns(b1, CLONE_NEWNET))
		tree_fail("enter B1: %m");
	reach(l, "b's listener");
	send_d("now-b1");
	get_d(d1, "now-b1", "b's first datagram socket, after restore");
	if (setns(home, CLONE_NEWNET))
		tree_fail("back to B2: %m");
	tree_pass();
}

int main(int argc, char **argv)
{
	pid_t a, b;
	int sp[2];

	test_init(argc, argv);
	tree_init();
	make_name(&lname, "listen", getpid());
	make_name(&dname, "dgram", getpid());
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		fail("socketpair: %m");
	tree_barrier_init();
	a = tree_fork("a");
	if (a == 0) {
		close(sp[0]);
		child_a(sp[1], getppid());
	}
	close(sp[1]);
	b = tree_fork("b");
	if (b == 0) {
		close(sp[0]);
		child_b(getppid(), a);
	}
	put(sp[0], "to-a");
	tree_barrier_wait(2, NULL);
	test_daemon();
	test_waitsig();

	expect_ns(sp[0], ns_of_task(getpid()), true, "the root's end of the pair", "the root");
	get(sp[0], "to-root", "the root's end of the pair");
	if (ns_of_task(a) == ns_of_task(getpid()) || ns_of_task(b) == ns_of_task(getpid()) ||
	    ns_of_task(a) == ns_of_task(b))
		fail("a and b should each be in a network namespace of their own");
	/* b compares its namespaces with a's: a goes on until b is done. */
	tree_finish(b, "b");
	tree_finish(a, "a");
	pass();
}
