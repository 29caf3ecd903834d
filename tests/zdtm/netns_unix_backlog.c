// SPDX-License-Identifier: GPL-2.0
/*
 * netns_unix_backlog: connections waiting in listeners' backlogs, holding
 * data, in network namespaces other than the runner's (a dump that kills
 * the tree takes them into backlog.img). a and b each unshare a network
 * namespace and listen on the same abstract name, each with a client of
 * its own waiting with its own data; a also listens on a path in the work
 * dir, where b's second client waits, connected from b's namespace (a path
 * reaches across namespaces; the kernel makes the waiting end in the
 * client's). After restore each listener accepts its client with the data
 * it sent, in the right namespace (SIOCGSKNS), and new clients of the
 * abstract name reach their own namespace's listener.
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

static struct name abs_name, path_name;

static ino_t ns_of_sock(int sk, const char *what)
{
	struct stat st;
	int fd = ioctl(sk, SIOCGSKNS);

	if (fd < 0 || fstat(fd, &st))
		tree_fail("SIOCGSKNS of %s: %m", what);
	close(fd);
	return st.st_ino;
}

static ino_t own_ns(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		tree_fail("stat /proc/self/ns/net: %m");
	return st.st_ino;
}

static int listener(const struct name *n)
{
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&n->a, n->len) || listen(l, 8))
		tree_fail("listen: %m");
	return l;
}

static int client(const struct name *n, const char *data)
{
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (c < 0 || connect(c, (struct sockaddr *)&n->a, n->len))
		tree_fail("connect: %m");
	if (data && write(c, data, strlen(data)) != (ssize_t)strlen(data))
		tree_fail("write: %m");
	return c;
}

/* l's first waiting connection: the one c made, holding data. */
static void take(int l, int c, const char *data, const char *what)
{
	char buf[64] = "";
	int s = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (s < 0)
		tree_fail("%s: nothing waits in the backlog: %m", what);
	tree_read_exact(s, buf, strlen(data), what);
	if (memcmp(buf, data, strlen(data)))
		tree_fail("%s: read '%s', expected '%s'", what, buf, data);
	tree_expect_empty(s, what);
	if (ns_of_sock(s, what) != ns_of_sock(c, "its client"))
		tree_fail("%s: not made in its client's network namespace", what);
	if (write(s, "ok", 2) != 2 || read(c, buf, 2) != 2 || memcmp(buf, "ok", 2))
		tree_fail("%s: no answer reaches the client", what);
	close(s);
}

/* The connection b made to a's path: made in b's network namespace, neither a's nor the root's. */
static void take_across(int p, ino_t own)
{
	char buf[16] = "", root[64];
	struct stat st;
	int s = accept4(p, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	snprintf(root, sizeof(root), "/proc/%d/ns/net", getppid());
	if (s < 0)
		tree_fail("a's path listener: nothing waits in the backlog: %m");
	tree_read_exact(s, buf, 6, "the connection from b's namespace");
	if (memcmp(buf, "across", 6))
		tree_fail("the connection from b's namespace: read '%s'", buf);
	/* b may have closed its end already: it finishes first. */
	if (stat(root, &st) || ns_of_sock(s, "the connection from b") == own ||
	    ns_of_sock(s, "the connection from b") == st.st_ino)
		tree_fail("the connection from b's namespace is in a's or the root's");
	close(s);
}

static void reach(int l, const char *what)
{
	struct pollfd pfd = { .fd = l, .events = POLLIN };
	int c = client(&abs_name, "new"), s;

	if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1 || (s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
		tree_fail("%s: a new client of the abstract name did not reach it", what);
	close(s);
	close(c);
}

int main(int argc, char **argv)
{
	int to_b[2];
	pid_t a, b;

	test_init(argc, argv);
	tree_init();
	abs_name.a.sun_family = AF_UNIX;
	abs_name.len = offsetof(struct sockaddr_un, sun_path) + 1 +
		       snprintf(abs_name.a.sun_path + 1, sizeof(abs_name.a.sun_path) - 1,
				"nestor-zdtm-netns-backlog-%d", getpid());
	path_name.a.sun_family = AF_UNIX;
	snprintf(path_name.a.sun_path, sizeof(path_name.a.sun_path), "%s", test_path("sock"));
	path_name.len = offsetof(struct sockaddr_un, sun_path) + strlen(path_name.a.sun_path) + 1;
	unlink(path_name.a.sun_path);
	if (path_name.a.sun_path[0] != '/' || pipe(to_b))
		fail("set-up: an absolute work dir and a pipe");
	tree_barrier_init();
	a = tree_fork("a");
	if (a == 0) {
		int l, p, c;
		ino_t own;

		close(to_b[0]);
		if (unshare(CLONE_NEWNET))
			tree_fail("unshare: %m");
		l = listener(&abs_name);
		p = listener(&path_name);
		c = client(&abs_name, "from-a");
		if (write(to_b[1], "L", 1) != 1) /* the path listens now */
			tree_fail("write: %m");
		close(to_b[1]);
		tree_ready(1);
		test_waitsig();
		own = own_ns();
		if (ns_of_sock(l, "a's listener") != own || ns_of_sock(p, "a's path listener") != own)
			tree_fail("a's listeners are not in a's network namespace");
		take(l, c, "from-a", "a's waiting connection");
		take_across(p, own);
		reach(l, "a's listener");
		tree_pass();
	}
	b = tree_fork("b");
	if (b == 0) {
		int l, c, x;
		char go;

		close(to_b[1]);
		if (unshare(CLONE_NEWNET))
			tree_fail("unshare: %m");
		l = listener(&abs_name);
		c = client(&abs_name, "from-b");
		if (read(to_b[0], &go, 1) != 1)
			tree_fail("a did not listen on the path");
		close(to_b[0]);
		x = client(&path_name, "across");
		tree_ready(2);
		test_waitsig();
		if (ns_of_sock(l, "b's listener") != own_ns() || ns_of_sock(x, "b's path client") != own_ns())
			tree_fail("b's sockets are not in b's network namespace");
		take(l, c, "from-b", "b's waiting connection");
		reach(l, "b's listener");
		tree_pass();
	}
	close(to_b[0]);
	close(to_b[1]);
	tree_barrier_wait(2, NULL);
	test_daemon();
	test_waitsig();
	tree_finish(b, "b");
	tree_finish(a, "a");
	pass();
}
