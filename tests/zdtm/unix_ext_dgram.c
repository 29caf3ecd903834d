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
#include "unixsk.h"

/* nestor-dump-opts: --ext-unix-sk */
/* nestor-restore-opts: --ext-unix-sk */

#define PEER_LIFE_MS 120000

static struct unixsk_name peer_abs, peer_path, client_abs, sync_name;

/*
 * The peer, outside the tree: answers "hello" with two datagrams to be left
 * queued (and, after both hellos, one to the sync name), and "after" with
 * one reply. Leaves after both afters, or after PEER_LIFE_MS.
 */
static void __attribute__((noreturn)) peer(int pa, int pp)
{
	const int fds[2] = {pa, pp};
	long end = tree_now_ms() + PEER_LIFE_MS;
	struct unixsk_msg m;
	int hellos = 0, afters = 0;

	while (afters < 2 && unixsk_next(fds, end, &m)) {
		int fd = fds[m.i];

		if (!strcmp(m.buf, "hello")) {
			unixsk_send_or_exit(fd, m.i ? "path-queued-1" : "abs-queued-1", &m.from,
					    m.fromlen);
			unixsk_send_or_exit(fd, m.i ? "path-queued-2" : "abs-queued-2", &m.from,
					    m.fromlen);
			if (++hellos == 2)
				unixsk_send_or_exit(fd, "synced", &sync_name.a, sync_name.len);
		} else if (!strcmp(m.buf, "after")) {
			unixsk_send_or_exit(fd, m.i ? "path-reply" : "abs-reply", &m.from,
					    m.fromlen);
			afters++;
		}
	}
	_exit(0);
}

static void check_peer_name(int fd, const struct unixsk_name *want, const char *what)
{
	struct sockaddr_un a = {};
	socklen_t al = sizeof(a);

	if (getpeername(fd, (struct sockaddr *)&a, &al))
		fail("%s: getpeername: %m (not connected any more)", what);
	if (!unixsk_same(want, &a, al))
		fail("%s: connected to a socket of another name", what);
}

int main(int argc, char **argv)
{
	struct unixsk_name autob = {.a.sun_family = AF_UNIX, .len = sizeof(autob.a)};
	int pa, pp, sa, sp, sy;

	test_init(argc, argv);
	tree_init();
	unixsk_abstract(&peer_abs, "ext", "peer");
	unixsk_abstract(&client_abs, "ext", "client");
	unixsk_abstract(&sync_name, "ext", "sync");
	unixsk_path(&peer_path, "peer.sock");

	pa = unixsk_dgram(&peer_abs);
	pp = unixsk_dgram(&peer_path);
	sy = unixsk_dgram(&sync_name);
	unixsk_leave_tree(peer, pa, pp, "peer");

	sa = unixsk_dgram(&client_abs);
	sp = unixsk_dgram(NULL);
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
	unixsk_expect(sy, "synced", NULL, "sync");
	close(sy);

	test_daemon();
	test_waitsig();

	check_peer_name(sa, &peer_abs, "socket connected to an abstract name");
	check_peer_name(sp, &peer_path, "socket connected to a path");
	unixsk_expect(sa, "abs-queued-1", &peer_abs, "abstract, queued before the checkpoint");
	unixsk_expect(sa, "abs-queued-2", &peer_abs, "abstract, queued before the checkpoint");
	tree_expect_empty(sa, "abstract, queued before the checkpoint");
	unixsk_expect(sp, "path-queued-1", &peer_path, "path, queued before the checkpoint");
	unixsk_expect(sp, "path-queued-2", &peer_path, "path, queued before the checkpoint");
	tree_expect_empty(sp, "path, queued before the checkpoint");
	if (send(sa, "after", 5, 0) != 5 || send(sp, "after", 5, 0) != 5)
		fail("send to the peer after restore: %m");
	unixsk_expect(sa, "abs-reply", &peer_abs,
		      "abstract, answer to a datagram sent after restore");
	unixsk_expect(sp, "path-reply", &peer_path,
		      "path, answer to a datagram sent after restore");
	unlink(peer_path.a.sun_path);
	pass();
}
