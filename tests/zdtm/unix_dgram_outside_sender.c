// SPDX-License-Identifier: GPL-2.0
/*
 * unix_dgram_outside_sender: datagrams queued on sockets of the tree that
 * are connected to nobody, sent by sockets outside the tree that are bound
 * to names and still hold them at restore. No --ext-unix-sk: the queues
 * are the tree's own.
 *
 * The root binds two datagram sockets, one to a path in the work dir and
 * one to an abstract name. A sender process, double-forked so that it
 * leaves the tree (the runner's subreaper adopts it) and in a session of
 * its own, holds two datagram sockets, one bound to a path and one to an
 * abstract name, and queues three datagrams on each of the root's sockets,
 * from both of its sockets in turn, before the checkpoint.
 *
 * After restore: recvfrom() gives the datagrams in order, each naming the
 * socket that sent it; the root answers each sender by the name recvfrom()
 * gave, and the sender's reply to the root's socket comes back.
 */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "tree.h"

#define SENDER_LIFE_MS 120000

struct name {
	struct sockaddr_un a;
	socklen_t len;
};

static struct name srv_path, srv_abs, cl_path, cl_abs, sync_name;

static void abstract_name(struct name *n, const char *what)
{
	n->a.sun_family = AF_UNIX;
	n->len = offsetof(struct sockaddr_un, sun_path) + 1 +
		 snprintf(n->a.sun_path + 1, sizeof(n->a.sun_path) - 1, "nestor-zdtm-osnd-%s-%d",
			  what, getpid());
}

static void path_name(struct name *n, const char *file)
{
	n->a.sun_family = AF_UNIX;
	snprintf(n->a.sun_path, sizeof(n->a.sun_path), "%s", test_path(file));
	if (n->a.sun_path[0] != '/')
		fail("the work dir %s is not an absolute path", test_dir);
	n->len = offsetof(struct sockaddr_un, sun_path) + strlen(n->a.sun_path) + 1;
	unlink(n->a.sun_path);
}

static bool same_name(const struct name *x, const struct sockaddr_un *a, socklen_t len)
{
	return len == x->len && !memcmp(a, &x->a, len);
}

static int dgram(const struct name *bind_to)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("socket: %m");
	if (bind(fd, (const struct sockaddr *)&bind_to->a, bind_to->len))
		fail("bind: %m");
	return fd;
}

static void send_to(int fd, const char *msg, const struct sockaddr_un *to, socklen_t tolen)
{
	if (sendto(fd, msg, strlen(msg), 0, (const struct sockaddr *)to, tolen) !=
	    (ssize_t)strlen(msg))
		_exit(2);
}

/*
 * The sender, outside the tree: queues p1 p2 p3 on the root's path socket
 * and a1 a2 a3 on its abstract one, from its path (cp) and abstract (ca)
 * sockets in turn, then says "synced". Answers "after" with a reply to
 * whoever sent it; leaves after two, or after SENDER_LIFE_MS.
 */
static void __attribute__((noreturn)) sender(int cp, int ca)
{
	struct pollfd pfd[2] = {{.fd = cp, .events = POLLIN}, {.fd = ca, .events = POLLIN}};
	long end = tree_now_ms() + SENDER_LIFE_MS;
	int afters = 0;

	send_to(cp, "p1", &srv_path.a, srv_path.len);
	send_to(ca, "p2", &srv_path.a, srv_path.len);
	send_to(cp, "p3", &srv_path.a, srv_path.len);
	send_to(ca, "a1", &srv_abs.a, srv_abs.len);
	send_to(cp, "a2", &srv_abs.a, srv_abs.len);
	send_to(ca, "a3", &srv_abs.a, srv_abs.len);
	send_to(cp, "synced", &sync_name.a, sync_name.len);
	while (afters < 2 && tree_now_ms() < end) {
		if (poll(pfd, 2, 1000) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			struct sockaddr_un from;
			socklen_t fl = sizeof(from);
			char buf[64] = "";
			ssize_t n;

			if (!(pfd[i].revents & POLLIN))
				continue;
			n = recvfrom(pfd[i].fd, buf, sizeof(buf) - 1, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
			if (n > 0 && !strcmp(buf, "after")) {
				send_to(pfd[i].fd, i ? "abs-reply" : "path-reply", &from, fl);
				afters++;
			}
		}
	}
	_exit(0);
}

/* The sender leaves the tree: its parent exits at once, the subreaper adopts it. */
static void start_sender(int cp, int ca)
{
	pid_t mid = fork();
	int status, null;

	if (mid < 0)
		fail("fork: %m");
	if (mid == 0) {
		if (fork())
			_exit(0);
		setsid();
		null = open("/dev/null", O_RDWR);
		for (int fd = 0; fd < 1024; fd++)
			if (fd != cp && fd != ca && fd != null)
				close(fd);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		sender(cp, ca);
	}
	if (waitpid(mid, &status, 0) != mid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the sender's parent did not exit cleanly");
}

static void expect(int fd, const char *want, const struct name *from, const char *what)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct sockaddr_un a = {};
	socklen_t al = sizeof(a);
	char buf[64];
	ssize_t n;

	if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1)
		fail("%s: no datagram '%s' within %d ms", what, want, TREE_TIMEOUT_MS);
	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&a, &al);
	if (n < 0)
		fail("%s: recvfrom: %m", what);
	if (n != (ssize_t)strlen(want) || memcmp(buf, want, n))
		fail("%s: got '%.*s', expected '%s'", what, (int)n, buf, want);
	if (from && !same_name(from, &a, al))
		fail("%s: '%s' came from a sender of %u bytes '%s%.*s', not %s", what, want, al,
		     al > 2 && !a.sun_path[0] ? "@" : "", (int)(al > 3 ? al - 3 : 0),
		     a.sun_path + (al > 2 && !a.sun_path[0]),
		     from == &cl_path ? "the sender's path" : "the sender's abstract name");
}

/* Answers the sender by the name recvfrom() gave; its reply comes back. */
static void answer(int fd, const struct name *to, const char *reply, const char *what)
{
	if (sendto(fd, "after", 5, 0, (const struct sockaddr *)&to->a, to->len) != 5)
		fail("%s: sendto the sender after restore: %m", what);
	expect(fd, reply, to, what);
}

int main(int argc, char **argv)
{
	int sp, sa, cp, ca, sy;

	test_init(argc, argv);
	tree_init();
	path_name(&srv_path, "server.sock");
	path_name(&cl_path, "client.sock");
	abstract_name(&srv_abs, "server");
	abstract_name(&cl_abs, "client");
	abstract_name(&sync_name, "sync");

	sp = dgram(&srv_path);
	sa = dgram(&srv_abs);
	sy = dgram(&sync_name);
	cp = dgram(&cl_path);
	ca = dgram(&cl_abs);
	start_sender(cp, ca);
	close(cp);
	close(ca);
	/* Datagrams are queued when sendto() returns: after "synced", all six wait. */
	expect(sy, "synced", NULL, "sync");
	close(sy);

	test_daemon();
	test_waitsig();

	expect(sp, "p1", &cl_path, "path socket, queued before the checkpoint");
	expect(sp, "p2", &cl_abs, "path socket, queued before the checkpoint");
	expect(sp, "p3", &cl_path, "path socket, queued before the checkpoint");
	tree_expect_empty(sp, "path socket, queued before the checkpoint");
	expect(sa, "a1", &cl_abs, "abstract socket, queued before the checkpoint");
	expect(sa, "a2", &cl_path, "abstract socket, queued before the checkpoint");
	expect(sa, "a3", &cl_abs, "abstract socket, queued before the checkpoint");
	tree_expect_empty(sa, "abstract socket, queued before the checkpoint");
	answer(sp, &cl_path, "path-reply", "path socket, answer after restore");
	answer(sa, &cl_abs, "abs-reply", "abstract socket, answer after restore");
	unlink(srv_path.a.sun_path);
	unlink(cl_path.a.sun_path);
	pass();
}
