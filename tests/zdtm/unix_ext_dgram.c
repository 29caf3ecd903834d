// SPDX-License-Identifier: GPL-2.0
/*
 * unix_ext_dgram: datagram sockets of the tree connected to sockets outside
 * it (--ext-unix-sk). A peer process, double-forked so that it leaves the
 * tree (the runner's subreaper adopts it) and in a session of its own,
 * holds two datagram sockets: one bound to an abstract name, one to a path
 * in the work dir. The root connects a socket to each (one bound to an
 * abstract name, one autobound so the peer can answer) and the peer queues
 * two datagrams on each before the checkpoint.
 *
 * After restore: the queued datagrams are there, in order, each with the
 * peer's name as its sender; each socket is still connected to its peer's
 * name; a datagram sent after restore (send(), no address) reaches the
 * peer, whose answer comes back.
 */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "tree.h"

/* nestor-dump-opts: --ext-unix-sk */
/* nestor-restore-opts: --ext-unix-sk */

#define PEER_LIFE_MS 120000

struct name {
	struct sockaddr_un a;
	socklen_t len;
};

static struct name peer_abs, peer_path, client_abs, sync_name;

static void abstract_name(struct name *n, const char *what)
{
	n->a.sun_family = AF_UNIX;
	n->len = offsetof(struct sockaddr_un, sun_path) + 1 +
		 snprintf(n->a.sun_path + 1, sizeof(n->a.sun_path) - 1, "nestor-zdtm-ext-%s-%d",
			  what, getpid());
}

static void path_name(struct name *n, const char *file)
{
	n->a.sun_family = AF_UNIX;
	snprintf(n->a.sun_path, sizeof(n->a.sun_path), "%s", test_path(file));
	if (n->a.sun_path[0] != '/')
		fail("the work dir %s is not an absolute path", test_dir);
	n->len = offsetof(struct sockaddr_un, sun_path) + strlen(n->a.sun_path) + 1;
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
	if (bind_to && bind(fd, (const struct sockaddr *)&bind_to->a, bind_to->len))
		fail("bind: %m");
	return fd;
}

static void reply(int fd, const char *msg, const struct sockaddr_un *to, socklen_t tolen)
{
	if (sendto(fd, msg, strlen(msg), 0, (const struct sockaddr *)to, tolen) !=
	    (ssize_t)strlen(msg))
		_exit(2);
}

/*
 * The peer, outside the tree: answers "hello" with two datagrams to be left
 * queued (and, after both hellos, one to the sync name), and "after" with
 * one reply. Leaves after both afters, or after PEER_LIFE_MS.
 */
static void __attribute__((noreturn)) peer(int pa, int pp)
{
	struct pollfd pfd[2] = {{.fd = pa, .events = POLLIN}, {.fd = pp, .events = POLLIN}};
	long end = tree_now_ms() + PEER_LIFE_MS;
	int hellos = 0, afters = 0;

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
			if (n <= 0)
				continue;
			if (!strcmp(buf, "hello")) {
				reply(pfd[i].fd, i ? "path-queued-1" : "abs-queued-1", &from, fl);
				reply(pfd[i].fd, i ? "path-queued-2" : "abs-queued-2", &from, fl);
				if (++hellos == 2)
					reply(pfd[i].fd, "synced", &sync_name.a, sync_name.len);
			} else if (!strcmp(buf, "after")) {
				reply(pfd[i].fd, i ? "path-reply" : "abs-reply", &from, fl);
				afters++;
			}
		}
	}
	_exit(0);
}

/* The peer leaves the tree: its parent exits at once, the subreaper adopts it. */
static void start_peer(int pa, int pp)
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
			if (fd != pa && fd != pp && fd != null)
				close(fd);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		peer(pa, pp);
	}
	if (waitpid(mid, &status, 0) != mid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the peer's parent did not exit cleanly");
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
		fail("%s: '%s' came from a sender of %u bytes '%.*s', not the peer's name", what,
		     want, al, (int)(al > 2 ? al - 2 : 0), a.sun_path);
}

static void check_peer_name(int fd, const struct name *want, const char *what)
{
	struct sockaddr_un a = {};
	socklen_t al = sizeof(a);

	if (getpeername(fd, (struct sockaddr *)&a, &al))
		fail("%s: getpeername: %m (not connected any more)", what);
	if (!same_name(want, &a, al))
		fail("%s: connected to a socket of another name", what);
}

int main(int argc, char **argv)
{
	struct name autob = {.a.sun_family = AF_UNIX, .len = sizeof(autob.a)};
	int pa, pp, sa, sp, sy;

	test_init(argc, argv);
	tree_init();
	abstract_name(&peer_abs, "peer");
	abstract_name(&client_abs, "client");
	abstract_name(&sync_name, "sync");
	path_name(&peer_path, "peer.sock");
	unlink(peer_path.a.sun_path);

	pa = dgram(&peer_abs);
	pp = dgram(&peer_path);
	sy = dgram(&sync_name);
	start_peer(pa, pp);
	close(pa);
	close(pp);

	sa = dgram(&client_abs);
	sp = dgram(NULL);
	/* Autobind: the kernel picks an abstract name the peer can answer to. */
	if (bind(sp, (struct sockaddr *)&autob.a, sizeof(sa_family_t)) ||
	    getsockname(sp, (struct sockaddr *)&autob.a, &autob.len))
		fail("autobind: %m");
	if (connect(sa, (struct sockaddr *)&peer_abs.a, peer_abs.len) ||
	    connect(sp, (struct sockaddr *)&peer_path.a, peer_path.len))
		fail("connect to the peer: %m");
	if (send(sa, "hello", 5, 0) != 5 || send(sp, "hello", 5, 0) != 5)
		fail("send: %m");
	/* Datagrams are queued when sendto() returns: after "synced", all four wait. */
	expect(sy, "synced", NULL, "sync");
	close(sy);

	test_daemon();
	test_waitsig();

	check_peer_name(sa, &peer_abs, "socket connected to an abstract name");
	check_peer_name(sp, &peer_path, "socket connected to a path");
	expect(sa, "abs-queued-1", &peer_abs, "abstract, queued before the checkpoint");
	expect(sa, "abs-queued-2", &peer_abs, "abstract, queued before the checkpoint");
	tree_expect_empty(sa, "abstract, queued before the checkpoint");
	expect(sp, "path-queued-1", &peer_path, "path, queued before the checkpoint");
	expect(sp, "path-queued-2", &peer_path, "path, queued before the checkpoint");
	tree_expect_empty(sp, "path, queued before the checkpoint");
	if (send(sa, "after", 5, 0) != 5 || send(sp, "after", 5, 0) != 5)
		fail("send to the peer after restore: %m");
	expect(sa, "abs-reply", &peer_abs, "abstract, answer to a datagram sent after restore");
	expect(sp, "path-reply", &peer_path, "path, answer to a datagram sent after restore");
	unlink(peer_path.a.sun_path);
	pass();
}
