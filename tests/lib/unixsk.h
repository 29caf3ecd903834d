/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unixsk: header-only helpers for the tests of unix datagram sockets that
 * talk to a process outside the tree.
 *
 * A name (struct unixsk_name) is a sockaddr_un with the length that goes
 * with it: unixsk_abstract() makes "@nestor-zdtm-PREFIX-WHAT-PID" (PREFIX
 * keeps the tests apart), unixsk_path() a file in the work dir (absolute,
 * so it means the same thing after restore) and unlinks a stale socket
 * left there. unixsk_same() compares a name with what recvfrom(),
 * getsockname() or getpeername() gave, byte for byte and length too;
 * unixsk_fmt() spells one out for a message ("@" for abstract names).
 *
 * unixsk_dgram() makes a datagram socket, bound to a name or (NULL) not.
 *
 * The process outside the tree: unixsk_leave_tree(fn, fd1, fd2, who)
 * double-forks; the middle process exits at once, so the grandchild is
 * adopted by the runner's subreaper and is no part of the dumped tree. It
 * gets a session of its own, /dev/null on 0-2, every other fd but fd1 and
 * fd2 closed, and runs fn(fd1, fd2), which must _exit() (it is never to
 * return; if it does, the process leaves with status 0). The caller's
 * fd1 and fd2 are closed: the two sockets are the outside process's alone.
 * There it sends with unixsk_send_or_exit(): no fail() outside the tree,
 * a failed send ends it with status 2 and the test sees the datagram
 * missing; it waits for the next datagram on either of its two sockets
 * with unixsk_next().
 *
 * In the test: unixsk_expect() waits (TREE_TIMEOUT_MS) for one datagram,
 * checks its bytes and, unless the expected sender is NULL, the name it
 * came from.
 */
#ifndef ZDTM_UNIXSK_H
#define ZDTM_UNIXSK_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "tree.h"

struct unixsk_name {
	struct sockaddr_un a;
	socklen_t len;
};

static inline void unixsk_abstract(struct unixsk_name *n, const char *prefix, const char *what)
{
	n->a.sun_family = AF_UNIX;
	n->len = offsetof(struct sockaddr_un, sun_path) + 1 +
		 snprintf(n->a.sun_path + 1, sizeof(n->a.sun_path) - 1, "nestor-zdtm-%s-%s-%d",
			  prefix, what, getpid());
}

static inline void unixsk_path(struct unixsk_name *n, const char *file)
{
	n->a.sun_family = AF_UNIX;
	snprintf(n->a.sun_path, sizeof(n->a.sun_path), "%s", test_path(file));
	if (n->a.sun_path[0] != '/')
		fail("the work dir %s is not an absolute path", test_dir);
	n->len = offsetof(struct sockaddr_un, sun_path) + strlen(n->a.sun_path) + 1;
	unlink(n->a.sun_path);
}

static inline bool unixsk_same(const struct unixsk_name *x, const struct sockaddr_un *a,
			       socklen_t len)
{
	return len == x->len && !memcmp(a, &x->a, len);
}

/* For messages: '@abstract' or '/path' with its length, or "an unnamed socket". */
static inline const char *unixsk_fmt(const struct sockaddr_un *a, socklen_t len, char *buf,
				     size_t size)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);

	if (len <= off || len > sizeof(*a))
		snprintf(buf, size, "an unnamed socket (%u bytes)", len);
	else if (!a->sun_path[0])
		snprintf(buf, size, "'@%.*s' (%u bytes)", (int)(len - off - 1), a->sun_path + 1,
			 len);
	else
		snprintf(buf, size, "'%.*s' (%u bytes)", (int)(len - off), a->sun_path, len);
	return buf;
}

static inline int unixsk_dgram(const struct unixsk_name *bind_to)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("socket: %m");
	if (bind_to && bind(fd, (const struct sockaddr *)&bind_to->a, bind_to->len))
		fail("bind: %m");
	return fd;
}

/* Outside the tree only: a failed send ends the process with status 2. */
static inline void unixsk_send_or_exit(int fd, const char *msg, const struct sockaddr_un *to,
				       socklen_t tolen)
{
	if (sendto(fd, msg, strlen(msg), 0, (const struct sockaddr *)to, tolen) !=
	    (ssize_t)strlen(msg))
		_exit(2);
}

/* One datagram as unixsk_next() gives it. */
struct unixsk_msg {
	int i;			 /* which of the two fds got it */
	char buf[64];		 /* NUL-terminated */
	struct sockaddr_un from; /* the sender's name */
	socklen_t fromlen;
};

/*
 * Outside the tree: the next datagram on fd[0] or fd[1], in *m. False once
 * tree_now_ms() reaches end_ms.
 */
static inline bool unixsk_next(const int fd[2], long end_ms, struct unixsk_msg *m)
{
	struct pollfd pfd[2] = {{.fd = fd[0], .events = POLLIN}, {.fd = fd[1], .events = POLLIN}};

	while (tree_now_ms() < end_ms) {
		if (poll(pfd, 2, 1000) <= 0)
			continue;
		for (m->i = 0; m->i < 2; m->i++) {
			ssize_t n;

			if (!(pfd[m->i].revents & POLLIN))
				continue;
			m->fromlen = sizeof(m->from);
			n = recvfrom(fd[m->i], m->buf, sizeof(m->buf) - 1, MSG_DONTWAIT,
				     (struct sockaddr *)&m->from, &m->fromlen);
			if (n <= 0)
				continue;
			m->buf[n] = 0;
			return true;
		}
	}
	return false;
}

/* fn(fd1, fd2) runs outside the tree; "who" names it if its parent fails. */
static inline void unixsk_leave_tree(void (*fn)(int, int), int fd1, int fd2, const char *who)
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
			if (fd != fd1 && fd != fd2 && fd != null)
				close(fd);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		fn(fd1, fd2);
		_exit(0);
	}
	if (waitpid(mid, &status, 0) != mid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the %s's parent did not exit cleanly", who);
	close(fd1);
	close(fd2);
}

/* One datagram on fd, within TREE_TIMEOUT_MS: the bytes of want, from "from" unless NULL. */
static inline void unixsk_expect(int fd, const char *want, const struct unixsk_name *from,
				 const char *what)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct sockaddr_un a = {};
	socklen_t al = sizeof(a);
	char got[160], exp[160];
	char buf[64];
	ssize_t n;

	if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1)
		fail("%s: no datagram '%s' within %d ms", what, want, TREE_TIMEOUT_MS);
	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&a, &al);
	if (n < 0)
		fail("%s: recvfrom: %m", what);
	if (n != (ssize_t)strlen(want) || memcmp(buf, want, n))
		fail("%s: got '%.*s', expected '%s'", what, (int)n, buf, want);
	if (from && !unixsk_same(from, &a, al))
		fail("%s: '%s' came from %s, not %s", what, want,
		     unixsk_fmt(&a, al, got, sizeof(got)),
		     unixsk_fmt(&from->a, from->len, exp, sizeof(exp)));
}

#endif
