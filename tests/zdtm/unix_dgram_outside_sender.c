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
#include "unixsk.h"

#define SENDER_LIFE_MS 120000

static struct unixsk_name srv_path, srv_abs, cl_path, cl_abs, sync_name;

/*
 * The sender, outside the tree: queues p1 p2 p3 on the root's path socket
 * and a1 a2 a3 on its abstract one, from its path (cp) and abstract (ca)
 * sockets in turn, then says "synced". Answers "after" with a reply to
 * whoever sent it; leaves after two, or after SENDER_LIFE_MS.
 */
static void __attribute__((noreturn)) sender(int cp, int ca)
{
	const int fds[2] = {cp, ca};
	long end = tree_now_ms() + SENDER_LIFE_MS;
	struct unixsk_msg m;
	int afters = 0;

	unixsk_send_or_exit(cp, "p1", &srv_path.a, srv_path.len);
	unixsk_send_or_exit(ca, "p2", &srv_path.a, srv_path.len);
	unixsk_send_or_exit(cp, "p3", &srv_path.a, srv_path.len);
	unixsk_send_or_exit(ca, "a1", &srv_abs.a, srv_abs.len);
	unixsk_send_or_exit(cp, "a2", &srv_abs.a, srv_abs.len);
	unixsk_send_or_exit(ca, "a3", &srv_abs.a, srv_abs.len);
	unixsk_send_or_exit(cp, "synced", &sync_name.a, sync_name.len);
	while (afters < 2 && unixsk_next(fds, end, &m)) {
		if (!strcmp(m.buf, "after")) {
			unixsk_send_or_exit(fds[m.i], m.i ? "abs-reply" : "path-reply", &m.from,
					    m.fromlen);
			afters++;
		}
	}
	_exit(0);
}

/* Answers the sender by the name recvfrom() gave; its reply comes back. */
static void answer(int fd, const struct unixsk_name *to, const char *reply, const char *what)
{
	if (sendto(fd, "after", 5, 0, (const struct sockaddr *)&to->a, to->len) != 5)
		fail("%s: sendto the sender after restore: %m", what);
	unixsk_expect(fd, reply, to, what);
}

int main(int argc, char **argv)
{
	int sp, sa, cp, ca, sy;

	test_init(argc, argv);
	tree_init();
	unixsk_path(&srv_path, "server.sock");
	unixsk_path(&cl_path, "client.sock");
	unixsk_abstract(&srv_abs, "osnd", "server");
	unixsk_abstract(&cl_abs, "osnd", "client");
	unixsk_abstract(&sync_name, "osnd", "sync");

	sp = unixsk_dgram(&srv_path);
	sa = unixsk_dgram(&srv_abs);
	sy = unixsk_dgram(&sync_name);
	cp = unixsk_dgram(&cl_path);
	ca = unixsk_dgram(&cl_abs);
	unixsk_leave_tree(sender, cp, ca, "sender");
	/* Datagrams are queued when sendto() returns: after "synced", all six wait. */
	unixsk_expect(sy, "synced", NULL, "sync");
	close(sy);

	test_daemon();
	test_waitsig();

	unixsk_expect(sp, "p1", &cl_path, "path socket, queued before the checkpoint");
	unixsk_expect(sp, "p2", &cl_abs, "path socket, queued before the checkpoint");
	unixsk_expect(sp, "p3", &cl_path, "path socket, queued before the checkpoint");
	tree_expect_empty(sp, "path socket, queued before the checkpoint");
	unixsk_expect(sa, "a1", &cl_abs, "abstract socket, queued before the checkpoint");
	unixsk_expect(sa, "a2", &cl_path, "abstract socket, queued before the checkpoint");
	unixsk_expect(sa, "a3", &cl_abs, "abstract socket, queued before the checkpoint");
	tree_expect_empty(sa, "abstract socket, queued before the checkpoint");
	answer(sp, &cl_path, "path-reply", "path socket, answer after restore");
	answer(sa, &cl_abs, "abs-reply", "abstract socket, answer after restore");
	unlink(srv_path.a.sun_path);
	unlink(cl_path.a.sun_path);
	pass();
}
