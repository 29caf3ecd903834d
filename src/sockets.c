/*
 * Unix sockets inside the tree: socketpairs and connections of every type,
 * bound names (paths and abstract), listeners and the connections waiting
 * in their backlog, receive queues, shutdown state, options. Every other
 * family is refused, and so is a unix socket whose peer no task of the tree
 * holds.
 *
 * Dump: nestor takes the task's socket with pidfd_getfd (the same
 * description) and peeks its queue with SO_PEEK_OFF, putting the offset
 * back; NETLINK_SOCK_DIAG gives the peer, the backlog, queue lengths. What
 * a client sent on a connection not yet accepted waits on a socket no fd
 * reaches: only accept() does, which takes the connection from the task.
 * So a dump that leaves the tree running refuses it, and one that kills
 * the tree takes it in sockets_dump_finish(), after every refusal.
 *
 * Restore: the first sockets_open() makes every socket of the image at
 * once, since connections, backlogs and the senders of queued datagrams tie
 * them together: names, then connections (socketpair, or connect() and
 * accept() through the listener whose name the accepted end inherited),
 * backlogs, queues (sent again by the right ends), datagram connections,
 * then shutdown, options and flags. The sockets not asked for yet go
 * straight into ctx->file_fds, where files_open_table() finds them.
 */
#define LOG_PREFIX "sockets: "
#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "arena.h"
#include "log.h"
#include "sockdiag.h"
#include "sockets.h"
#include "sys.h"
#include "util.h"

#ifndef SIOCUNIXFILE
#define SIOCUNIXFILE (SIOCPROTOPRIVATE + 0)
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

#define MAX_QUEUE   (64u << 20) /* bytes queued on one socket */
#define MAX_MSGS    (1u << 20)
#define MAX_PENDING (1u << 16)
#define MAX_BACKLOG (1u << 20)
#define CHUNK	    (64u << 10)
#define FILL_SNDBUF (1 << 28) /* while nestor refills queues (doubled by the kernel) */
#define NAME_LEN    sizeof(((struct sockaddr_un *)0)->sun_path)
#define NAME_BUF    1024
#define DIAG_ALL    (UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN)

static bool is_stream(int type)
{
	return type == SOCK_STREAM || type == SOCK_SEQPACKET;
}

static bool is_path(const uint8_t *n, size_t len)
{
	return len && n[0];
}

/* For messages, on one line: "/path", "@abstract" or "(unnamed)", odd bytes as \xNN. */
static const char *name_str(const uint8_t *n, size_t len, char *buf)
{
	size_t o = 0, i = 0;

	if (!len)
		return "(unnamed)";
	if (n[0])
		len = strnlen((const char *)n, len);
	else
		buf[o++] = '@', i = 1;
	for (; i < len && o + 5 < NAME_BUF; i++) {
		if (n[i] >= 0x20 && n[i] < 0x7f && n[i] != '\\')
			buf[o++] = n[i];
		else
			o += snprintf(buf + o, NAME_BUF - o, "\\x%02x", n[i]);
	}
	buf[o] = 0;
	return buf;
}

static const char *str_str(const char *p, char *buf)
{
	return name_str((const uint8_t *)p, strlen(p), buf);
}

static socklen_t sun_of(const uint8_t *n, size_t len, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, n, MIN(len, NAME_LEN));
	return offsetof(struct sockaddr_un, sun_path) + MIN(len, NAME_LEN);
}

static bool same_bytes(const ProtobufCBinaryData *a, const uint8_t *n, size_t len)
{
	return a->len == len && !memcmp(a->data, n, len);
}

/* ---- dump ---- */

/* A socket being dumped: nestor's copy of the task's fd, and what diag said. */
struct skd {
	struct dump_ctx *ctx;
	pid_t pid;
	int fd; /* the task's number, for messages */
	int sk;
	struct sockdiag_unix d;
	SocketEntry *e;
	char nb[NAME_BUF];
};

static int task_fd(pid_t pid, int fd)
{
	_cleanup_close_ int pidfd = sys_pidfd_open(pid, 0);
	int r;

	if (pidfd < 0)
		return log_error_errno(-errno, "cannot open a pidfd of task %d", pid);
	r = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (r < 0)
		return log_error_errno(-errno, "cannot take fd %d of task %d", fd, pid);
	return r;
}

/* The fd of pid that holds socket:[ino], or -1. */
static int fd_holding(pid_t pid, uint64_t ino)
{
	char dir[48], link[320], want[40], target[48];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)ino);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		ssize_t n;
		int fd;

		if (parse_int(de->d_name, &fd) < 0)
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strcmp(target, want))
			return fd;
	}
	return -1;
}

static bool is_tree_pid(const struct dump_ctx *ctx, pid_t pid)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].pid == pid)
			return true;
	return false;
}

static bool held_in_tree(const struct dump_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (!ctx->tasks[i].zombie && fd_holding(ctx->tasks[i].pid, ino) >= 0)
			return true;
	return false;
}

/* A process outside the tree that holds socket:[ino] (0: none), and its fd. */
static pid_t holder_outside(const struct dump_ctx *ctx, uint64_t ino, int *ret_fd)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		int pid, fd;

		if (parse_int(de->d_name, &pid) < 0 || pid == getpid() || is_tree_pid(ctx, pid))
			continue;
		fd = fd_holding(pid, ino);
		if (fd >= 0) {
			*ret_fd = fd;
			return pid;
		}
	}
	return 0;
}

/* Refuses a socket whose peer or listener is outside the tree, naming it. */
static int refuse_outside(struct skd *s, const char *how, uint64_t ino, const uint8_t *name,
			  size_t len)
{
	char who[64];
	int fd = -1;
	pid_t p = holder_outside(s->ctx, ino, &fd);

	if (p)
		snprintf(who, sizeof(who), "held by process %d (fd %d)", p, fd);
	else
		snprintf(who, sizeof(who), "held by no process (in flight, or closing)");
	return log_error_ret(
	    -EOPNOTSUPP,
	    "can't dump: task %d fd %d is a unix socket %s socket:[%llu] %s, outside "
	    "the tree, %s (external unix sockets are not supported yet)",
	    s->pid, s->fd, how, (unsigned long long)ino, name_str(name, len, s->nb), who);
}

static bool named_like_listener(const struct sockdiag_list *ls, int type, const uint8_t *n,
				size_t len)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].type == type && ls->v[i].name_len == len &&
		    !memcmp(ls->v[i].name, n, len))
			return true;
	return false;
}

/*
 * Which end of a connection took its name from the listener that accepted
 * it, to be made by accept() again: the named end when only one is; else
 * the one named like a listener of its type; a tie goes to the lower inode.
 * Both ends come to the same answer.
 */
static int dump_accepted(struct skd *s, const uint8_t *pname, size_t plen, uint64_t pino)
{
	struct sockdiag_list ls = {0};
	bool mine, theirs;
	int r;

	if (!s->d.name_len)
		return 0;
	s->e->has_accepted = true;
	s->e->accepted = true;
	if (!plen)
		return 0;
	r = sockdiag_unix_list(1 << TCP_LISTEN, UDIAG_SHOW_NAME | UDIAG_SHOW_ICONS, &ls);
	if (r == 0) {
		mine = named_like_listener(&ls, s->d.type, s->d.name, s->d.name_len);
		theirs = named_like_listener(&ls, s->d.type, pname, plen);
		s->e->accepted = mine != theirs ? mine : s->d.ino < pino;
	}
	sockdiag_list_free(&ls);
	return r < 0 ? log_error_errno(r, "cannot list the unix listeners") : 0;
}

static bool same_file(const char *path, const struct stat *st, struct stat *ret)
{
	return !lstat(path, ret) && ret->st_dev == st->st_dev && ret->st_ino == st->st_ino;
}

/* A path name: where it was bound (relative names), and whether its file is still there. */
static int dump_path(struct skd *s, const char *name)
{
	char link[64], real[PATH_MAX + 16], at[PATH_MAX + NAME_LEN + 2], nb2[NAME_BUF];
	_cleanup_close_ int pf = ioctl(s->sk, SIOCUNIXFILE);
	struct stat st, now;
	ssize_t n;
	size_t nl = strlen(name);
	bool deleted;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", pf);
	if (pf < 0 || fstat(pf, &st) || (n = readlink(link, real, sizeof(real) - 1)) < 0)
		return log_error_errno(-errno,
				       "cannot find the file of the unix socket %s (task %d fd %d)",
				       str_str(name, s->nb), s->pid, s->fd);
	real[n] = 0;
	deleted = n > 10 && !strcmp(real + n - 10, " (deleted)");
	if (deleted)
		real[n -= 10] = 0;
	if (name[0] != '/') {
		if ((size_t)n <= nl || real[n - nl - 1] != '/' || strcmp(real + n - nl, name))
			return log_error_ret(-EOPNOTSUPP,
					     "can't dump: task %d fd %d is a unix socket "
					     "bound to the relative name %s, now at %s",
					     s->pid, s->fd, str_str(name, s->nb),
					     str_str(real, nb2));
		real[n - nl - 1] = 0;
		s->e->name_dir = arena_strdup(real[0] ? real : "/");
		if (!s->e->name_dir)
			return -ENOMEM;
	}
	snprintf(at, sizeof(at), "%s%s%s", s->e->name_dir ? s->e->name_dir : "",
		 s->e->name_dir ? "/" : "", name);
	s->e->has_name_file = true;
	s->e->name_file = !deleted && same_file(at, &st, &now);
	if (!deleted && !s->e->name_file)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is a unix socket bound "
				     "to %s, whose file is now %s (moved, or bound in "
				     "another root: not supported yet)",
				     s->pid, s->fd, str_str(at, s->nb), str_str(real, nb2));
	if (s->e->name_file) {
		s->e->has_name_mode = s->e->has_name_uid = s->e->has_name_gid = true;
		s->e->name_mode = now.st_mode & 07777;
		s->e->name_uid = now.st_uid;
		s->e->name_gid = now.st_gid;
	}
	return 0;
}

static int dump_name(struct skd *s)
{
	char name[NAME_LEN + 1];

	if (!s->d.name_len)
		return 0;
	s->e->has_name = true;
	s->e->name.len = s->d.name_len;
	s->e->name.data = arena_memdup(s->d.name, s->d.name_len);
	if (!s->e->name.data)
		return -ENOMEM;
	if (!is_path(s->d.name, s->d.name_len))
		return 0;
	memcpy(name, s->d.name, s->d.name_len);
	name[s->d.name_len] = 0;
	return dump_path(s, name);
}

static int refuse_unreadable_pending(struct skd *s, bool closed)
{
	return log_error_ret(-EOPNOTSUPP,
			     "can't dump with --leave-running: task %d fd %d listens on %s with a "
			     "connection not yet accepted %s; only accepting it could read that",
			     s->pid, s->fd, name_str(s->d.name, s->d.name_len, s->nb),
			     closed ? "whose client is closed (it may hold data)" : "holding data");
}

static int dump_listener(struct skd *s)
{
	SocketEntry *e = s->e;
	bool leave = s->ctx->opts->leave_running;

	e->has_backlog = true;
	e->backlog = s->d.wqueue;
	e->n_pending = s->d.nr_icons;
	e->pending = ANEW_ARRAY(SocketPending *, e->n_pending + 1);
	if (!e->pending)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_pending; i++) {
		SocketPending *p = ANEW(SocketPending);
		struct sockdiag_unix c;
		int r;

		if (!p)
			return -ENOMEM;
		socket_pending__init(p);
		e->pending[i] = p;
		p->client_ino = s->d.icons[i];
		p->queued = true; /* a closed client may have sent anything */
		if (p->client_ino) {
			if (!held_in_tree(s->ctx, p->client_ino))
				return refuse_outside(
				    s, "listening, with a connection not yet accepted from",
				    p->client_ino, NULL, 0);
			r = sockdiag_unix_one(p->client_ino, UDIAG_SHOW_RQLEN, &c);
			if (r < 0)
				return log_error_errno(r, "cannot query socket:[%llu]",
						       (unsigned long long)p->client_ino);
			p->queued = c.wqueue > 0;
			sockdiag_unix_free(&c);
		}
		if (p->queued && leave)
			return refuse_unreadable_pending(s, !p->client_ino);
	}
	return 0;
}

/* A stream socket whose peer has no inode: a client not yet accepted, or its peer closed. */
static int dump_inodeless_peer(struct skd *s)
{
	struct sockdiag_list ls = {0};
	int r = s->d.type == SOCK_DGRAM
		    ? 0
		    : sockdiag_unix_list(1 << TCP_LISTEN, UDIAG_SHOW_NAME | UDIAG_SHOW_ICONS, &ls);
	const struct sockdiag_unix *l = NULL;

	for (size_t i = 0; r == 0 && !l && i < ls.n; i++)
		for (size_t j = 0; j < ls.v[i].nr_icons; j++)
			if (ls.v[i].icons[j] == s->d.ino)
				l = &ls.v[i];
	if (r < 0) {
		r = log_error_errno(r, "cannot list the unix listeners");
	} else if (!l) {
		r = 1;
	} else if (!held_in_tree(s->ctx, l->ino)) {
		r = refuse_outside(s, "waiting to be accepted by", l->ino, l->name, l->name_len);
	} else {
		s->e->has_listener_ino = true;
		s->e->listener_ino = l->ino;
	}
	sockdiag_list_free(&ls);
	return r;
}

static int dump_connected(struct skd *s)
{
	SocketEntry *e = s->e;
	struct sockaddr_un pa;
	socklen_t plen = sizeof(pa);
	int r;

	if (!s->d.has_peer)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is a connected unix "
				     "socket without a peer",
				     s->pid, s->fd);
	if (s->d.peer) {
		struct sockdiag_unix p;

		r = sockdiag_unix_one(s->d.peer, UDIAG_SHOW_NAME, &p);
		if (r < 0)
			return log_error_errno(r, "cannot query socket:[%u]", s->d.peer);
		if (!held_in_tree(s->ctx, s->d.peer))
			return refuse_outside(s, "connected to", s->d.peer, p.name, p.name_len);
		e->has_peer_ino = true;
		e->peer_ino = s->d.peer;
		r = is_stream(s->d.type) ? dump_accepted(s, p.name, p.name_len, p.ino) : 0;
		sockdiag_unix_free(&p);
		return r;
	}
	r = dump_inodeless_peer(s);
	if (r <= 0)
		return r;
	if (getpeername(s->sk, (struct sockaddr *)&pa, &plen))
		return log_error_errno(-errno, "cannot read the peer name of task %d fd %d", s->pid,
				       s->fd);
	e->has_peer_gone = e->peer_gone = true;
	e->has_peer_name = true;
	e->peer_name.len = plen > offsetof(struct sockaddr_un, sun_path)
			       ? plen - offsetof(struct sockaddr_un, sun_path)
			       : 0;
	e->peer_name.data = arena_memdup(pa.sun_path, MAX(e->peer_name.len, 1));
	if (!e->peer_name.data)
		return -ENOMEM;
	return is_stream(s->d.type) ? dump_accepted(s, e->peer_name.data, e->peer_name.len, ~0ull)
				    : 0;
}

/* ---- queues ---- */

struct queue {
	SocketMsg **v;
	size_t n, cap;
	uint64_t bytes;
};

static int queue_add(struct queue *q, void *data, size_t len, const struct sockaddr_un *from,
		     socklen_t fromlen)
{
	SocketMsg *m = ANEW(SocketMsg);

	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 16;
		SocketMsg **n = ANEW_ARRAY(SocketMsg *, ncap);

		if (!n)
			return -ENOMEM;
		if (q->n)
			memcpy(n, q->v, q->n * sizeof(*n));
		q->v = n;
		q->cap = ncap;
	}
	if (!m)
		return -ENOMEM;
	socket_msg__init(m);
	m->data.data = data;
	m->data.len = len;
	if (from && fromlen > offsetof(struct sockaddr_un, sun_path)) {
		m->has_sender = true;
		m->sender.len = fromlen - offsetof(struct sockaddr_un, sun_path);
		m->sender.data = arena_memdup(from->sun_path, m->sender.len);
		if (!m->sender.data)
			return -ENOMEM;
	}
	q->v[q->n++] = m;
	q->bytes += len;
	return q->bytes > MAX_QUEUE || q->n > MAX_MSGS ? -EFBIG : 0;
}

struct rcv {
	ssize_t len;
	bool rights, creds;
	struct sockaddr_un from;
	socklen_t fromlen;
};

/* One recvmsg. Descriptors that come with it are closed at once. */
static int recv_one(int sk, void *buf, size_t len, int flags, struct rcv *ret)
{
	char ctl[4096] __attribute__((aligned(8)));
	struct iovec iov = {buf, len};
	struct msghdr mh = {&ret->from, sizeof(ret->from), &iov, 1, ctl, sizeof(ctl), 0};
	struct cmsghdr *c;

	ret->len = recvmsg(sk, &mh, flags | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (ret->len < 0)
		return -errno;
	ret->fromlen = mh.msg_namelen;
	ret->rights = mh.msg_flags & MSG_CTRUNC;
	ret->creds = false;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		int *fds = (int *)CMSG_DATA(c);
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS)
			ret->creds = true;
		if (c->cmsg_type != SCM_RIGHTS && c->cmsg_type != SCM_PIDFD)
			continue;
		ret->rights |= c->cmsg_type == SCM_RIGHTS;
		for (size_t i = 0; i < nfd; i++)
			close(fds[i]);
	}
	return 0;
}

/* An urgent byte (MSG_OOB) waits out of line: its place in the stream would be lost. */
static int refuse_oob(int sk, int type, const char *what)
{
	char c;

	if (type == SOCK_STREAM && recv(sk, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) == 1)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: %s has out-of-band data queued (MSG_OOB, "
				     "not supported yet)",
				     what);
	return 0;
}

/*
 * Reads a receive queue, by peeking (SO_PEEK_OFF must be 0) or by taking.
 * Records keep their bounds; a probe of length 0 gives each one's size. A
 * seqpacket socket that can read no more answers 0 like an empty record:
 * eof_creds says SO_PASSCRED is on, so a real record carries credentials.
 */
static int read_queue(int sk, int type, bool peek, bool eof_creds, struct queue *q,
		      const char *what)
{
	int pf = peek ? MSG_PEEK : 0;
	_cleanup_free_ char *chunk = malloc(CHUNK);
	struct rcv m;
	int r;

	if (!chunk)
		return -ENOMEM;
	if ((r = refuse_oob(sk, type, what)) < 0)
		return r;
	for (;;) {
		void *data = chunk;

		if (type == SOCK_STREAM)
			r = recv_one(sk, chunk, CHUNK, pf, &m);
		else
			r = recv_one(sk, NULL, 0, MSG_PEEK | MSG_TRUNC, &m);
		if (r == -EAGAIN ||
		    (r == 0 && m.len == 0 && (type == SOCK_STREAM || (eof_creds && !m.creds))))
			return 0;
		if (r == 0 && m.rights)
			return log_error_ret(-EOPNOTSUPP,
					     "can't dump: %s has descriptors in flight in "
					     "its queue (SCM_RIGHTS, not supported)",
					     what);
		if (r < 0)
			return log_error_errno(r, "cannot read the queue of %s", what);
		if (type != SOCK_STREAM) {
			data = arena_alloc(m.len + 1);
			if (!data)
				return -ENOMEM;
			/* An empty record peeked once is skipped by the next peek. */
			if ((m.len || !peek) && (r = recv_one(sk, data, m.len, pf, &m)) < 0)
				return log_error_errno(r, "cannot read the queue of %s", what);
		} else if (!(data = arena_memdup(chunk, m.len))) {
			return -ENOMEM;
		}
		r = queue_add(q, data, m.len, type == SOCK_DGRAM ? &m.from : NULL, m.fromlen);
		if (r == -EFBIG)
			return log_error_ret(r,
					     "can't dump: %s has more than %u bytes or %u records "
					     "queued",
					     what, MAX_QUEUE, MAX_MSGS);
		if (r < 0)
			return r;
	}
}

static int getopt_int(int sk, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(sk, SOL_SOCKET, opt, ret, &len) ? -errno : 0;
}

static int setopt_int(int sk, int opt, int v)
{
	return setsockopt(sk, SOL_SOCKET, opt, &v, sizeof(v)) ? -errno : 0;
}

/* Peeks the queue; SO_PEEK_OFF (the task's) and SO_PASSCRED are put back as they were. */
static int dump_queue(struct skd *s)
{
	struct queue q = {0};
	bool eof = s->d.type == SOCK_SEQPACKET && (s->d.shutdown & 1);
	int off = -1, cred = 0, r;
	char what[64];

	snprintf(what, sizeof(what), "task %d fd %d", s->pid, s->fd);
	if (getopt_int(s->sk, SO_PEEK_OFF, &off) < 0 || getopt_int(s->sk, SO_PASSCRED, &cred) < 0 ||
	    setopt_int(s->sk, SO_PEEK_OFF, 0) < 0 || (eof && setopt_int(s->sk, SO_PASSCRED, 1) < 0))
		return log_error_errno(-errno, "cannot peek at the queue of %s", what);
	r = read_queue(s->sk, s->d.type, true, eof, &q, what);
	if ((eof && setopt_int(s->sk, SO_PASSCRED, cred) < 0) ||
	    setopt_int(s->sk, SO_PEEK_OFF, off) < 0)
		r = log_error_errno(-errno, "cannot put back the peek offset of %s", what);
	if (r < 0)
		return r;
	/* The queue changed, or an empty datagram peeked before hid the first one. */
	if (s->d.type != SOCK_DGRAM ? q.bytes != s->d.rqueue
				    : s->d.rqueue && (!q.n || q.v[0]->data.len != s->d.rqueue))
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: %s has %u bytes queued and %llu "
				     "could be read",
				     what, s->d.rqueue, (unsigned long long)q.bytes);
	s->e->n_queue = q.n;
	s->e->queue = q.v;
	if (off >= 0) {
		s->e->has_peek_off = true;
		s->e->peek_off = off;
	}
	return 0;
}

static uint64_t timeo_us(int sk, int opt)
{
	struct timeval tv = {0, 0};
	socklen_t len = sizeof(tv);

	if (getsockopt(sk, SOL_SOCKET, opt, &tv, &len))
		return 0;
	return tv.tv_sec * 1000000ull + tv.tv_usec;
}

static int dump_options(struct skd *s)
{
	SocketEntry *e = s->e;
	int v;

	if (getopt_int(s->sk, SO_SNDBUF, &v) < 0)
		return log_error_errno(-errno, "cannot read the options of task %d fd %d", s->pid,
				       s->fd);
	e->has_sndbuf = true;
	e->sndbuf = v;
	e->has_rcvbuf = getopt_int(s->sk, SO_RCVBUF, &v) == 0;
	e->rcvbuf = v;
	e->passcred = e->has_passcred = !getopt_int(s->sk, SO_PASSCRED, &v) && v;
	e->passsec = e->has_passsec = !getopt_int(s->sk, SO_PASSSEC, &v) && v;
	e->passpidfd = e->has_passpidfd = !getopt_int(s->sk, SO_PASSPIDFD, &v) && v;
	e->no_passrights = e->has_no_passrights = !getopt_int(s->sk, SO_PASSRIGHTS, &v) && !v;
	e->rcvtimeo_us = timeo_us(s->sk, SO_RCVTIMEO);
	e->sndtimeo_us = timeo_us(s->sk, SO_SNDTIMEO);
	e->has_rcvtimeo_us = e->rcvtimeo_us;
	e->has_sndtimeo_us = e->sndtimeo_us;
	e->has_rcvlowat = !getopt_int(s->sk, SO_RCVLOWAT, &v) && v != 1;
	e->rcvlowat = v;
	return 0;
}

static int dump_unix(struct skd *s, uint64_t ino, const FileEntry *f)
{
	SocketEntry *e = s->e;
	int r = sockdiag_unix_one(ino, DIAG_ALL, &s->d);

	if (r < 0)
		return log_error_errno(r, "cannot query the unix socket of task %d fd %d", s->pid,
				       s->fd);
	if (s->d.state != TCP_ESTABLISHED && s->d.state != TCP_CLOSE && s->d.state != TCP_LISTEN)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is a unix socket in "
				     "state %d (not supported yet)",
				     s->pid, s->fd, s->d.state);
	if (f->flags & O_ASYNC)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is a unix socket with "
				     "O_ASYNC (not supported yet)",
				     s->pid, s->fd);
	/* A datagram socket another one connect()ed to says connected too: that comes back. */
	if (s->d.type == SOCK_DGRAM && !s->d.has_peer)
		s->d.state = TCP_CLOSE;
	e->has_ino = e->has_state = e->has_shutdown = true;
	e->ino = ino;
	e->state = s->d.state;
	e->shutdown = s->d.shutdown;
	if ((r = dump_name(s)) < 0 || (r = dump_options(s)) < 0)
		return r;
	if (s->d.state == TCP_LISTEN)
		return dump_listener(s);
	if (s->d.state == TCP_ESTABLISHED && (r = dump_connected(s)) < 0)
		return r;
	/* Only a connected stream socket has a queue (and may be asked for it). */
	return s->d.state == TCP_ESTABLISHED || s->d.type == SOCK_DGRAM ? dump_queue(s) : 0;
}

static int refuse_family(pid_t pid, int fd, int family)
{
	static const struct {
		int family;
		const char *kind;
	} kinds[] = {
	    {AF_INET, "an inet"},    {AF_INET6, "an inet6"}, {AF_NETLINK, "a netlink"},
	    {AF_PACKET, "a packet"}, {AF_VSOCK, "a vsock"},  {AF_ALG, "an alg"},
	    {AF_XDP, "an xdp"},	     {AF_TIPC, "a tipc"},    {AF_BLUETOOTH, "a bluetooth"},
	    {AF_CAN, "a can"},	     {AF_KEY, "a key"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (kinds[i].family == family)
			return log_error_ret(-EOPNOTSUPP,
					     "can't dump: task %d fd %d is %s socket (not "
					     "supported yet)",
					     pid, fd, kinds[i].kind);
	return log_error_ret(-EOPNOTSUPP,
			     "can't dump: task %d fd %d is a socket of family %d (not "
			     "supported yet)",
			     pid, fd, family);
}

int sockets_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, const struct stat *st,
		 FileEntry *f)
{
	struct skd s = {.ctx = ctx, .pid = t->pid, .fd = fd};
	int family = -1, type = -1, r;

	s.sk = task_fd(t->pid, fd);
	if (s.sk < 0)
		return s.sk;
	if (getopt_int(s.sk, SO_DOMAIN, &family) < 0 || getopt_int(s.sk, SO_TYPE, &type) < 0) {
		r = log_error_errno(-errno, "cannot ask task %d fd %d what socket it is", t->pid,
				    fd);
	} else if (family != AF_UNIX) {
		r = refuse_family(t->pid, fd, family);
	} else if (!(s.e = ANEW(SocketEntry))) {
		r = -ENOMEM;
	} else {
		socket_entry__init(s.e);
		s.e->family = family;
		s.e->type = type;
		f->type = FILE_TYPE__SOCKET;
		f->sock = s.e;
		r = dump_unix(&s, st->st_ino, f);
	}
	sockdiag_unix_free(&s.d);
	close(s.sk);
	return r;
}

/* ---- the end of a dump ---- */

static bool has_ino(const uint64_t *v, size_t n, uint64_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == ino)
			return true;
	return false;
}

static int scan_outside(struct dump_ctx *ctx, pid_t pid, const uint64_t *inos, size_t n)
{
	char dir[48], link[320], target[48];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	unsigned long long ino;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		ssize_t l;

		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		l = readlink(link, target, sizeof(target) - 1);
		if (l <= 0)
			continue;
		target[l] = 0;
		if (sscanf(target, "socket:[%llu]", &ino) == 1 && has_ino(inos, n, ino))
			return log_error_ret(-EOPNOTSUPP,
					     "can't dump: process %d, outside the tree, "
					     "holds socket:[%llu] too (fd %s)",
					     pid, ino, de->d_name);
	}
	return 0;
}

static int check_outside(struct dump_ctx *ctx)
{
	_cleanup_free_ uint64_t *inos = malloc((ctx->files.nr + 1) * sizeof(*inos));
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t n = 0;

	if (!inos)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->files.nr; i++)
		if (ctx->files.files[i]->type == FILE_TYPE__SOCKET && ctx->files.files[i]->sock)
			inos[n++] = ctx->files.files[i]->sock->ino;
	if (!n)
		return 0;
	d = opendir("/proc");
	if (!d)
		return log_error_errno(-errno, "cannot open /proc");
	while ((de = readdir(d))) {
		int pid, r;

		if (parse_int(de->d_name, &pid) < 0 || pid == getpid() || is_tree_pid(ctx, pid))
			continue;
		r = scan_outside(ctx, pid, inos, n);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A task's fd for description id: (pid, fd), or -ENOENT. */
static int holder_of(struct dump_ctx *ctx, uint32_t id, pid_t *ret_pid)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const FdinfoEntry *fi = ctx->tasks[i].fdinfo;

		for (size_t j = 0; fi && j < fi->n_fds; j++)
			if (fi->fds[j]->file_id == id) {
				*ret_pid = ctx->tasks[i].pid;
				return fi->fds[j]->fd;
			}
	}
	return -ENOENT;
}

/* Accepts one waiting connection in nestor and reads all it holds. */
static int take_one(int l, int type, uint64_t lino, SocketPending *p)
{
	_cleanup_close_ int c = -1;
	struct pollfd pfd = {l, POLLIN, 0};
	struct sockdiag_unix d = {0};
	struct queue q = {0};
	struct stat st;
	char what[96];
	int r;

	snprintf(what, sizeof(what), "a connection not yet accepted by socket:[%llu]",
		 (unsigned long long)lino);
	if (poll(&pfd, 1, 0) != 1 || (c = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return log_error_ret(-EAGAIN, "can't dump: the backlog of socket:[%llu] changed",
				     (unsigned long long)lino);
	if (fstat(c, &st) || (r = sockdiag_unix_one(st.st_ino, UDIAG_SHOW_PEER, &d)) < 0)
		return log_error_ret(-EIO, "cannot query %s", what);
	r = d.peer == p->client_ino ? 0
				    : log_error_ret(-EAGAIN,
						    "can't dump: the backlog of "
						    "socket:[%llu] changed",
						    (unsigned long long)lino);
	sockdiag_unix_free(&d);
	if (r < 0 || (type == SOCK_SEQPACKET && setopt_int(c, SO_PASSCRED, 1) < 0))
		return r < 0 ? r : -errno;
	r = read_queue(c, type, false, type == SOCK_SEQPACKET, &q, what);
	if (r < 0)
		return r;
	p->has_taken = p->taken = true;
	p->n_data = q.n;
	p->data = q.v;
	return 0;
}

/*
 * Connections not yet accepted that hold data: taken from the listener (in
 * queue order: accept() takes the oldest) after every refusal, since the
 * task cannot have them back. Only a dump that kills the tree gets here.
 */
static int take_pending(struct dump_ctx *ctx, FileEntry *f)
{
	SocketEntry *e = f->sock;
	_cleanup_close_ int l = -1;
	bool any = false;
	pid_t pid = 0;
	int fd, r;

	for (size_t i = 0; i < e->n_pending; i++)
		any |= e->pending[i]->queued;
	if (!any)
		return 0;
	fd = holder_of(ctx, f->id, &pid);
	if (fd < 0)
		return log_error_ret(fd, "no task holds socket:[%llu]", (unsigned long long)e->ino);
	l = task_fd(pid, fd);
	if (l < 0)
		return l;
	pr_info("taking the %zu connections not yet accepted by task %d fd %d to read their data",
		e->n_pending, pid, fd);
	for (size_t i = 0; i < e->n_pending; i++)
		if ((r = take_one(l, e->type, e->ino, e->pending[i])) < 0)
			return r;
	return 0;
}

int sockets_dump_finish(struct dump_ctx *ctx)
{
	int r = check_outside(ctx);

	for (size_t i = 0; r == 0 && i < ctx->files.nr; i++) {
		FileEntry *f = ctx->files.files[i];

		if (f->type == FILE_TYPE__SOCKET && f->sock && f->sock->n_pending)
			r = take_pending(ctx, f);
	}
	return r;
}

/* ---- validation ---- */

static const SocketEntry *image_sk(const struct restore_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->nr_files; i++) {
		const FileEntry *f = ctx->files[i];

		if (f->type == FILE_TYPE__SOCKET && f->sock && f->sock->has_ino &&
		    f->sock->ino == ino)
			return f->sock;
	}
	return NULL;
}

/* A path carries its NUL and no other; an abstract name is any bytes after its NUL. */
static bool good_name(const ProtobufCBinaryData *n)
{
	if (n->len < 1 || n->len > NAME_LEN)
		return false;
	return !n->data[0] || strnlen((const char *)n->data, n->len) == n->len - 1;
}

static bool good_msgs(SocketMsg *const *v, size_t n, int type)
{
	uint64_t bytes = 0;

	if (n > MAX_MSGS)
		return false;
	for (size_t i = 0; i < n; i++) {
		bytes += v[i]->data.len;
		if (bytes > MAX_QUEUE ||
		    (v[i]->has_sender && (type != SOCK_DGRAM || !good_name(&v[i]->sender))))
			return false;
	}
	return true;
}

static bool lists_client(const SocketEntry *l, uint64_t ino)
{
	for (size_t i = 0; i < l->n_pending; i++)
		if (l->pending[i]->client_ino == ino)
			return true;
	return false;
}

static const char *bad_connection(const struct restore_ctx *ctx, const SocketEntry *e)
{
	const SocketEntry *p = e->has_peer_ino ? image_sk(ctx, e->peer_ino) : NULL;
	const SocketEntry *l = e->has_listener_ino ? image_sk(ctx, e->listener_ino) : NULL;
	int links = e->has_peer_ino + e->peer_gone + e->has_listener_ino;

	if (links != (e->state == TCP_ESTABLISHED))
		return "connection";
	if (e->has_peer_name && (!e->peer_gone || (e->peer_name.len && !good_name(&e->peer_name))))
		return "peer name";
	if (e->accepted && (!is_stream(e->type) || !e->has_name || e->has_listener_ino))
		return "accepted";
	if (e->has_peer_ino &&
	    (!p || (p == e && is_stream(e->type)) || p->type != e->type ||
	     (is_stream(e->type) && (p->peer_ino != e->ino || (e->accepted && p->accepted)))))
		return "peer";
	if (e->has_listener_ino && (!l || l->state != TCP_LISTEN || l->type != e->type ||
				    !lists_client(l, e->ino) || e->n_queue))
		return "listener";
	return NULL;
}

static const char *bad_listener(const struct restore_ctx *ctx, const SocketEntry *e)
{
	if (e->state != TCP_LISTEN)
		return e->n_pending || e->has_backlog ? "backlog" : NULL;
	if (!e->has_name || e->backlog > MAX_BACKLOG || e->n_pending > MAX_PENDING || e->n_queue)
		return "listener";
	for (size_t i = 0; i < e->n_pending; i++) {
		const SocketPending *p = e->pending[i];
		const SocketEntry *c = p->client_ino ? image_sk(ctx, p->client_ino) : NULL;

		if ((p->client_ino && (!c || c->listener_ino != e->ino)) ||
		    !good_msgs(p->data, p->n_data, e->type) || (p->n_data && !p->taken))
			return "waiting connection";
	}
	return NULL;
}

static const char *bad_entry(const struct restore_ctx *ctx, const FileEntry *f)
{
	const SocketEntry *e = f->sock;
	const char *why;

	if (!e || e->family != AF_UNIX)
		return "family";
	if (e->type != SOCK_STREAM && e->type != SOCK_DGRAM && e->type != SOCK_SEQPACKET)
		return "type";
	if (!e->has_ino || !e->ino || e->ino > UINT32_MAX || image_sk(ctx, e->ino) != e)
		return "inode";
	if (!e->has_state ||
	    (e->state != TCP_ESTABLISHED && e->state != TCP_CLOSE && e->state != TCP_LISTEN) ||
	    (e->state == TCP_LISTEN && e->type == SOCK_DGRAM))
		return "state";
	if (f->flags & ~(O_ACCMODE | O_NONBLOCK) || e->shutdown > 3)
		return "flags";
	if ((e->has_name && !good_name(&e->name)) ||
	    ((e->name_dir || e->name_file) &&
	     (!e->has_name || !is_path(e->name.data, e->name.len))) ||
	    (e->name_dir && (e->name_dir[0] != '/' || e->name.data[0] == '/')))
		return "name";
	if ((why = bad_connection(ctx, e)) || (why = bad_listener(ctx, e)))
		return why;
	if (!good_msgs(e->queue, e->n_queue, e->type) ||
	    (e->n_queue && e->type != SOCK_DGRAM && e->state != TCP_ESTABLISHED))
		return "queue";
	if (e->sndbuf > INT32_MAX || e->rcvbuf > INT32_MAX || e->rcvlowat > INT32_MAX ||
	    (e->has_peek_off && e->peek_off < 0) || e->rcvtimeo_us > INT32_MAX * 1000000ull ||
	    e->sndtimeo_us > INT32_MAX * 1000000ull)
		return "options";
	return NULL;
}

int sockets_validate(struct restore_ctx *ctx, const FileEntry *f)
{
	const char *why = bad_entry(ctx, f);

	if (why)
		return log_error_ret(-EINVAL, "image files.img is corrupted: bad socket %u (%s)",
				     f->id, why);
	for (size_t i = 0; i < f->sock->n_pending; i++)
		if (f->sock->pending[i]->queued && !f->sock->pending[i]->taken)
			return log_error_ret(
			    -EINVAL,
			    "can't restore: the image lacks what a client sent on a "
			    "connection not yet accepted by socket %u (only a dump "
			    "that kills the tree takes it)",
			    f->id);
	return 0;
}

/* ---- restore ---- */

/* One socket of the image, while nestor makes them all. */
struct rsk {
	const FileEntry *f;
	const SocketEntry *e;
	int fd;
	struct rsk *peer; /* e->peer_ino */
	struct rsk *pair; /* made with it by socketpair() */
	int stand_in;	  /* the other end, for a peer since closed, until the queues are in */
	bool connected;	  /* datagrams: connected as saved */
};

/* A name nestor holds while it works: a listener, a datagram sender, a stand-in's. */
struct tmp_sk {
	int fd, type;
	const uint8_t *name;
	size_t len;
	const char *dir;
	bool listening, unlink;
};

struct rst {
	struct restore_ctx *ctx;
	struct rsk *v;
	size_t n;
	struct tmp_sk *tmp;
	size_t ntmp;
	int anon; /* an unnamed datagram sender */
	char nb[NAME_BUF];
};

static const char *pname(struct rst *s, const ProtobufCBinaryData *n)
{
	return name_str(n->data, n->len, s->nb);
}

static bool same_dir(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* A closed peer's name a stand-in can take: abstract, or an absolute path. */
static bool usable_peer_name(const SocketEntry *e)
{
	return e->peer_name.len &&
	       (!is_path(e->peer_name.data, e->peer_name.len) || e->peer_name.data[0] == '/');
}

static struct rsk *rsk_of(struct rst *s, uint64_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].e->ino == ino)
			return &s->v[i];
	return NULL;
}

static int enter_dir(const char *dir, int *ret_saved)
{
	*ret_saved = -1;
	if (!dir)
		return 0;
	char nb[NAME_BUF];
	int r;

	*ret_saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*ret_saved >= 0 && !chdir(dir))
		return 0;
	r = -errno;
	if (*ret_saved >= 0)
		close(steal_fd(*ret_saved));
	return log_error_errno(r, "can't restore: cannot enter %s, where a unix socket was bound",
			       str_str(dir, nb));
}

static void leave_dir(int saved)
{
	if (saved < 0)
		return;
	if (fchdir(saved))
		pr_warn("cannot go back to nestor's directory: %s", strerror(errno));
	close(saved);
}

/* Clears the way for a path: a socket file that no socket has any more goes. */
static int clear_path(const char *path, bool *ret_existed)
{
	char nb[NAME_BUF];
	struct stat st;
	int r;

	if (lstat(path, &st))
		return errno == ENOENT
			   ? 0
			   : log_error_errno(-errno, "cannot look at %s", str_str(path, nb));
	*ret_existed = true;
	if (!S_ISSOCK(st.st_mode))
		return log_error_ret(-EEXIST,
				     "can't restore: %s, where a unix socket was bound, is "
				     "not a socket file",
				     str_str(path, nb));
	r = sockdiag_unix_bound_at(&st);
	if (r < 0)
		return log_error_errno(r, "cannot list the unix sockets");
	if (r)
		return log_error_ret(-EADDRINUSE, "can't restore: %s is bound by a live socket",
				     str_str(path, nb));
	if (unlink(path))
		return log_error_errno(-errno, "cannot remove the stale socket file %s",
				       str_str(path, nb));
	return 0;
}

/* Binds fd to name (in dir, for a relative path); ret_existed: a file was in the way. */
static int bind_name(struct rst *s, int fd, const uint8_t *name, size_t len, const char *dir,
		     bool *ret_existed)
{
	struct sockaddr_un sa;
	socklen_t sl = sun_of(name, len, &sa);
	bool existed = false;
	int saved, r = enter_dir(dir, &saved);

	if (r == 0 && is_path(name, len))
		r = clear_path(sa.sun_path, &existed);
	if (r == 0 && bind(fd, (struct sockaddr *)&sa, sl))
		r = log_error_errno(-errno, "can't restore: cannot bind a unix socket to %s",
				    name_str(name, len, s->nb));
	leave_dir(saved);
	if (ret_existed)
		*ret_existed = existed;
	return r;
}

/* connect(), without a word: -errno. */
static int connect_to(int fd, const uint8_t *name, size_t len, const char *dir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNSPEC};
	socklen_t sl = len ? sun_of(name, len, &sa) : sizeof(sa_family_t);
	int saved, r = enter_dir(dir, &saved);

	if (r == 0 && connect(fd, (struct sockaddr *)&sa, sl))
		r = -errno;
	leave_dir(saved);
	return r;
}

static int new_socket(int type, int *ret)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return log_error_errno(-errno, "cannot create a unix socket");
	*ret = fd;
	return 0;
}

static int new_pair(int type, int *a, int *b)
{
	int p[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, p))
		return log_error_errno(-errno, "cannot create a unix socketpair");
	*a = p[0];
	*b = p[1];
	return 0;
}

static struct tmp_sk *tmp_add(struct rst *s, int type, const uint8_t *name, size_t len,
			      const char *dir)
{
	struct tmp_sk *t = realloc(s->tmp, (s->ntmp + 1) * sizeof(*t));

	if (!t)
		return NULL;
	s->tmp = t;
	t = &t[s->ntmp++];
	*t = (struct tmp_sk){.fd = -1, .type = type, .name = name, .len = len, .dir = dir};
	return t;
}

/* A socket bound to name while nestor works; a path it had to create goes after, unless keep. */
static int tmp_named(struct rst *s, int type, bool listening, const uint8_t *name, size_t len,
		     const char *dir, bool keep, int *ret_fd)
{
	struct tmp_sk *t;
	bool existed = false;
	int r;

	for (size_t i = 0; i < s->ntmp; i++) {
		t = &s->tmp[i];
		if (t->fd >= 0 && t->type == type && t->listening == listening && t->len == len &&
		    !memcmp(t->name, name, len) && same_dir(t->dir, dir)) {
			t->unlink &= !keep;
			*ret_fd = t->fd;
			return 0;
		}
	}
	t = tmp_add(s, type, name, len, dir);
	if (!t)
		return -ENOMEM;
	t->listening = listening;
	if ((r = new_socket(type, &t->fd)) < 0 ||
	    (r = bind_name(s, t->fd, name, len, dir, &existed)) < 0)
		return r;
	t->unlink = is_path(name, len) && !existed && !keep;
	if (listening && listen(t->fd, 64))
		return log_error_errno(-errno, "cannot listen on a unix socket");
	*ret_fd = t->fd;
	return 0;
}

static struct rsk *image_listener(struct rst *s, int type, const uint8_t *name, size_t len,
				  const char *dir)
{
	for (size_t i = 0; i < s->n; i++) {
		const SocketEntry *e = s->v[i].e;

		if (e->state == TCP_LISTEN && e->type == (uint32_t)type &&
		    same_bytes(&e->name, name, len) && same_dir(e->name_dir, dir))
			return &s->v[i];
	}
	return NULL;
}

/*
 * Connects client to the listener of name (the image's, or one made for
 * the time being) and accepts: the accepted end inherits the name, and the
 * client sees it as its peer's.
 */
static int connect_through(struct rst *s, int type, const uint8_t *name, size_t len,
			   const char *dir, bool keep, int client, int *ret)
{
	struct rsk *l = image_listener(s, type, name, len, dir);
	int lfd = l ? l->fd : -1, r = 0;

	if (!l)
		r = tmp_named(s, type, true, name, len, dir, keep, &lfd);
	if (r == 0 && (r = connect_to(client, name, len, dir)) < 0)
		return log_error_errno(r, "can't restore: cannot connect to the unix listener %s",
				       name_str(name, len, s->nb));
	if (r == 0 && (*ret = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return log_error_errno(-errno, "cannot accept a connection on %s",
				       name_str(name, len, s->nb));
	return r;
}

/* Connections where no end took its name from a listener: socketpair(). */
static int make_pairs(struct rst *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct rsk *k = &s->v[i], *p = k->peer;
		const SocketEntry *e = k->e;
		int r = 0;

		if (k->fd >= 0 || e->state != TCP_ESTABLISHED)
			continue;
		if (p && p != k &&
		    (e->type == SOCK_DGRAM ? !p->e->has_name : !e->accepted && !p->e->accepted)) {
			if (p->fd >= 0)
				return log_error_ret(-EINVAL,
						     "can't restore: the unnamed socket %u has "
						     "two peers",
						     p->f->id);
			r = new_pair(e->type, &k->fd, &p->fd);
			k->pair = p;
			p->pair = k;
		} else if (e->peer_gone &&
			   (e->type == SOCK_DGRAM || (!e->accepted && !usable_peer_name(e)))) {
			r = new_pair(e->type, &k->fd, &k->stand_in);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every other socket but the accepted ends; then the names they own; listening. */
static int make_plain(struct rst *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct rsk *k = &s->v[i];
		const SocketEntry *e = k->e;
		int r = 0;

		if (e->accepted)
			continue;
		if (k->fd < 0)
			r = new_socket(e->type, &k->fd);
		if (r == 0 && e->has_name)
			r = bind_name(s, k->fd, e->name.data, e->name.len, e->name_dir, NULL);
		if (r < 0)
			return r;
		if (e->state == TCP_LISTEN && listen(k->fd, MAX(e->backlog, e->n_pending)))
			return log_error_errno(-errno, "cannot listen on %s", pname(s, &e->name));
	}
	return 0;
}

/* A stand-in takes its peer's name: getpeername() must tell it. */
static int name_stand_in(struct rst *s, struct rsk *k)
{
	const ProtobufCBinaryData *n = &k->e->peer_name;
	struct tmp_sk *t = tmp_add(s, k->e->type, n->data, n->len, NULL);
	bool existed = false;
	int r;

	if (!t)
		return -ENOMEM;
	r = bind_name(s, k->stand_in, n->data, n->len, NULL, &existed);
	t->unlink = r == 0 && is_path(n->data, n->len) && !existed;
	return r;
}

/* The ends made by accept(), and the stand-ins of closed peers that have a name. */
static int make_accepted(struct rst *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct rsk *k = &s->v[i];
		const SocketEntry *e = k->e;
		const ProtobufCBinaryData *pn = &e->peer_name;
		int r = 0;

		if (e->state != TCP_ESTABLISHED)
			continue;
		if (e->type == SOCK_DGRAM) {
			r = k->stand_in >= 0 && usable_peer_name(e) ? name_stand_in(s, k) : 0;
		} else if (e->accepted && k->peer) {
			r = connect_through(s, e->type, e->name.data, e->name.len, e->name_dir,
					    e->name_file, k->peer->fd, &k->fd);
		} else if (e->accepted) {
			r = new_socket(e->type, &k->stand_in);
			if (r == 0 && usable_peer_name(e))
				r = name_stand_in(s, k);
			if (r == 0)
				r = connect_through(s, e->type, e->name.data, e->name.len,
						    e->name_dir, e->name_file, k->stand_in, &k->fd);
		} else if (e->peer_gone && k->stand_in < 0) {
			r = connect_through(s, e->type, pn->data, pn->len, NULL, false, k->fd,
					    &k->stand_in);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* A sender gets room for all it must queue again; its own size comes back at the end. */
static void boost(int fd)
{
	if (setopt_int(fd, SO_SNDBUFFORCE, FILL_SNDBUF) < 0)
		setopt_int(fd, SO_SNDBUF, FILL_SNDBUF);
}

static int send_msg(int fd, int type, const SocketMsg *m, const struct sockaddr_un *to,
		    socklen_t tolen)
{
	size_t off = 0;

	do {
		ssize_t n = sendto(fd, m->data.data + off, m->data.len - off,
				   MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)to, tolen);

		if (n < 0)
			return -errno;
		off += n;
	} while (off < m->data.len && type == SOCK_STREAM);
	return off == m->data.len ? 0 : -EMSGSIZE;
}

/* Connections still waiting to be accepted, in their order, with what the clients sent. */
static int make_backlog(struct rst *s, struct rsk *l)
{
	const SocketEntry *e = l->e;

	for (size_t i = 0; i < e->n_pending; i++) {
		const SocketPending *p = e->pending[i];
		struct rsk *c = p->client_ino ? rsk_of(s, p->client_ino) : NULL;
		int fd = c ? c->fd : -1, r = 0;

		if (!c)
			r = new_socket(e->type, &fd);
		if (r == 0 && (r = connect_to(fd, e->name.data, e->name.len, e->name_dir)) < 0)
			r = log_error_errno(r,
					    "can't restore: cannot connect to the unix listener %s",
					    pname(s, &e->name));
		if (r == 0 && p->n_data)
			boost(fd);
		for (size_t j = 0; r == 0 && j < p->n_data; j++)
			if ((r = send_msg(fd, e->type, p->data[j], NULL, 0)) < 0)
				r = log_error_errno(
				    r,
				    "can't restore: cannot queue again what a client "
				    "of %s sent",
				    pname(s, &e->name));
		if (!c && fd >= 0)
			close(fd); /* a client since closed: the waiting end sees it gone */
		if (r < 0)
			return r;
	}
	if (e->n_pending > e->backlog && listen(l->fd, e->backlog))
		return log_error_errno(-errno, "cannot listen on %s", pname(s, &e->name));
	return 0;
}

static int fill_stream(struct rst *s, struct rsk *k)
{
	int from = k->peer ? k->peer->fd : k->stand_in;

	boost(from);
	for (size_t i = 0; i < k->e->n_queue; i++) {
		int r = send_msg(from, k->e->type, k->e->queue[i], NULL, 0);

		if (r < 0)
			return log_error_errno(
			    r, "can't restore: cannot queue data on socket %u again", k->f->id);
	}
	return 0;
}

static bool has_name_of(const SocketEntry *e, const SocketMsg *m)
{
	return m->has_sender ? e->has_name && same_bytes(&e->name, m->sender.data, m->sender.len)
			     : !e->has_name;
}

/* Who sends a queued datagram again: its sender by name; ret_direct: k's own peer. */
static int dgram_sender(struct rst *s, struct rsk *k, const SocketMsg *m, int *ret_fd,
			bool *ret_direct)
{
	const ProtobufCBinaryData *n = &m->sender;
	bool gone_sent =
	    m->has_sender ? usable_peer_name(k->e) && same_bytes(&k->e->peer_name, n->data, n->len)
			  : !usable_peer_name(k->e);
	int r = 0;

	*ret_direct = true;
	if (k->pair && has_name_of(k->pair->e, m)) {
		*ret_fd = k->pair->fd;
		return 0;
	}
	if (k->stand_in >= 0 && gone_sent) {
		*ret_fd = k->stand_in;
		return 0;
	}
	*ret_direct = false;
	if (!m->has_sender) {
		if (s->anon < 0)
			r = new_socket(SOCK_DGRAM, &s->anon);
		*ret_fd = s->anon;
		return r;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].e->type == SOCK_DGRAM && has_name_of(s->v[i].e, m)) {
			*ret_fd = s->v[i].fd;
			return 0;
		}
	if (is_path(n->data, n->len) && n->data[0] != '/')
		return log_error_ret(-EINVAL,
				     "can't restore: a datagram queued on socket %u came from "
				     "%s, a relative name no socket of the image has",
				     k->f->id, pname(s, n));
	return tmp_named(s, SOCK_DGRAM, false, n->data, n->len, NULL, false, ret_fd);
}

static int fill_dgram(struct rst *s, struct rsk *k)
{
	const SocketEntry *e = k->e;
	struct sockaddr_un to;
	socklen_t tl = e->has_name ? sun_of(e->name.data, e->name.len, &to) : 0;
	int saved, r = enter_dir(e->name_dir, &saved);

	for (size_t i = 0; r == 0 && i < e->n_queue; i++) {
		bool direct;
		int fd;

		r = dgram_sender(s, k, e->queue[i], &fd, &direct);
		if (r == 0 && !direct && !tl)
			r = log_error_ret(
			    -EINVAL,
			    "can't restore: a datagram queued on the unnamed "
			    "socket %u came from %s, not its peer",
			    k->f->id,
			    name_str(e->queue[i]->sender.data, e->queue[i]->sender.len, s->nb));
		if (r < 0)
			break;
		boost(fd);
		r = send_msg(fd, SOCK_DGRAM, e->queue[i], direct ? NULL : &to, direct ? 0 : tl);
		if (r < 0)
			r = log_error_errno(
			    r, "can't restore: cannot queue a datagram on socket %u again%s",
			    k->f->id,
			    r == -EAGAIN ? " (its queue is longer than "
					   "net.unix.max_dgram_qlen)"
					 : "");
	}
	leave_dir(saved);
	return r;
}

/*
 * Datagram sockets connect as they were, by name, or apart (AF_UNSPEC).
 * Connecting to a socket connected elsewhere is refused (EPERM), so those
 * wait for a later round, after the sockets that target them.
 */
static int connect_dgrams(struct rst *s)
{
	size_t left = 0, before;
	int r;

	for (size_t i = 0; i < s->n; i++) {
		struct rsk *k = &s->v[i];

		k->connected = k->e->type != SOCK_DGRAM || k->stand_in >= 0 ||
			       (k->pair ? k->peer == k->pair : !k->peer);
		if (!k->connected && k->pair && (r = connect_to(k->fd, NULL, 0, NULL)) < 0)
			return log_error_errno(r, "cannot disconnect socket %u", k->f->id);
		left += !k->connected;
	}
	do {
		before = left;
		for (size_t i = 0; i < s->n; i++) {
			struct rsk *k = &s->v[i];
			const SocketEntry *p = k->peer ? k->peer->e : NULL;

			if (k->connected)
				continue;
			if (p && !p->has_name)
				return log_error_ret(-EINVAL,
						     "can't restore: socket %u is connected to "
						     "the unnamed socket %u, which has "
						     "another peer",
						     k->f->id, k->peer->f->id);
			r = p ? connect_to(k->fd, p->name.data, p->name.len, p->name_dir) : 0;
			if (r == -EPERM)
				continue;
			if (r < 0)
				return log_error_errno(r,
						       "can't restore: cannot connect socket %u to "
						       "%s",
						       k->f->id, pname(s, &p->name));
			k->connected = true;
			left--;
		}
	} while (left && left < before);
	if (left)
		return log_error_ret(-EINVAL, "can't restore: the datagram sockets cannot be "
					      "connected in any order");
	return 0;
}

static int set_buf(int fd, int opt, int force, uint32_t want)
{
	int cur;

	if (getopt_int(fd, opt, &cur) == 0 && (uint32_t)cur == want)
		return 0;
	if (setopt_int(fd, force, want / 2) < 0 && setopt_int(fd, opt, want / 2) < 0)
		return -errno;
	return 0;
}

static int set_timeo(int fd, int opt, uint64_t us)
{
	struct timeval tv = {us / 1000000, us % 1000000};

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) ? -errno : 0;
}

static int set_options(struct rst *s, struct rsk *k)
{
	const SocketEntry *e = k->e;
	const struct {
		bool on;
		int opt, v;
	} ints[] = {
	    {e->passcred, SO_PASSCRED, 1},
	    {e->passsec, SO_PASSSEC, 1},
	    {e->passpidfd, SO_PASSPIDFD, 1},
	    {e->no_passrights, SO_PASSRIGHTS, 0},
	    {e->has_rcvlowat, SO_RCVLOWAT, (int)e->rcvlowat},
	    {e->has_peek_off, SO_PEEK_OFF, e->peek_off},
	};
	int r = 0;

	if (e->has_sndbuf)
		r = set_buf(k->fd, SO_SNDBUF, SO_SNDBUFFORCE, e->sndbuf);
	if (r == 0 && e->has_rcvbuf)
		r = set_buf(k->fd, SO_RCVBUF, SO_RCVBUFFORCE, e->rcvbuf);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(ints); i++)
		if (ints[i].on)
			r = setopt_int(k->fd, ints[i].opt, ints[i].v);
	if (r == 0 && e->has_rcvtimeo_us)
		r = set_timeo(k->fd, SO_RCVTIMEO, e->rcvtimeo_us);
	if (r == 0 && e->has_sndtimeo_us)
		r = set_timeo(k->fd, SO_SNDTIMEO, e->sndtimeo_us);
	if (r == 0 && fcntl(k->fd, F_SETFL, k->f->flags & O_NONBLOCK))
		r = -errno;
	return r < 0 ? log_error_errno(r, "cannot set the options of socket %u", k->f->id) : 0;
}

/*
 * The socket file of a path name as it was: mode and owner, or gone. Done
 * on the file the socket is bound to (SIOCUNIXFILE), whatever the path
 * leads to by now.
 */
static int settle_file(struct rst *s, struct rsk *k)
{
	const SocketEntry *e = k->e;
	_cleanup_close_ int pf = ioctl(k->fd, SIOCUNIXFILE);
	const char *path = (const char *)e->name.data;
	char link[64];
	struct stat st, now;
	int saved, r;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", pf);
	if (pf < 0 || fstat(pf, &st))
		return log_error_errno(-errno, "cannot find the file of socket %u", k->f->id);
	if (e->name_file && e->has_name_mode &&
	    (chmod(link, e->name_mode) ||
	     fchownat(pf, "", e->name_uid, e->name_gid, AT_EMPTY_PATH)))
		return log_error_errno(
		    -errno, "cannot give the file of socket %u its mode and owner", k->f->id);
	if (e->name_file || (r = enter_dir(e->name_dir, &saved)) < 0)
		return e->name_file ? 0 : r;
	if (same_file(path, &st, &now) && unlink(path))
		r = log_error_errno(-errno, "cannot remove %s, gone at the dump",
				    pname(s, &e->name));
	leave_dir(saved);
	return r;
}

static int finish_one(struct rst *s, struct rsk *k)
{
	static const int how[] = {0, SHUT_RD, SHUT_WR, SHUT_RDWR};
	const SocketEntry *e = k->e;
	int r;

	if (e->shutdown && shutdown(k->fd, how[e->shutdown]) && errno != ENOTCONN)
		return log_error_errno(-errno, "cannot shut socket %u down", k->f->id);
	if ((r = set_options(s, k)) < 0)
		return r;
	if (e->has_name && !e->accepted && is_path(e->name.data, e->name.len))
		return settle_file(s, k);
	return 0;
}

static int make_all(struct rst *s)
{
	int r;

	if ((r = make_pairs(s)) < 0 || (r = make_plain(s)) < 0 || (r = make_accepted(s)) < 0)
		return r;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].e->state == TCP_LISTEN && (r = make_backlog(s, &s->v[i])) < 0)
			return r;
	for (size_t i = 0; i < s->n; i++) {
		struct rsk *k = &s->v[i];

		if (k->e->n_queue &&
		    (r = k->e->type == SOCK_DGRAM ? fill_dgram(s, k) : fill_stream(s, k)) < 0)
			return r;
	}
	if ((r = connect_dgrams(s)) < 0)
		return r;
	/* A closed stand-in leaves its end shut down, as a closed peer did. */
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].stand_in >= 0)
			close(steal_fd(s->v[i].stand_in));
	for (size_t i = 0; i < s->n; i++)
		if ((r = finish_one(s, &s->v[i])) < 0)
			return r;
	return 0;
}

static void rst_free(struct rst *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].fd >= 0)
			close(s->v[i].fd);
		if (s->v[i].stand_in >= 0)
			close(s->v[i].stand_in);
	}
	for (size_t i = 0; i < s->ntmp; i++) {
		struct tmp_sk *t = &s->tmp[i];
		int saved;

		if (t->fd >= 0)
			close(t->fd);
		if (t->unlink && enter_dir(t->dir, &saved) == 0) {
			unlink((const char *)t->name);
			leave_dir(saved);
		}
	}
	if (s->anon >= 0)
		close(s->anon);
	free(s->tmp);
	free(s->v);
}

static int collect(struct rst *s)
{
	struct restore_ctx *ctx = s->ctx;

	s->v = calloc(ctx->nr_files + 1, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->nr_files; i++) {
		const FileEntry *f = ctx->files[i];

		if (f->type != FILE_TYPE__SOCKET)
			continue;
		if (ctx->file_fds[f->id] >= 0)
			return log_error_ret(-EINVAL, "socket %u was made apart from the others",
					     f->id);
		s->v[s->n++] = (struct rsk){.f = f, .e = f->sock, .fd = -1, .stand_in = -1};
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].e->has_peer_ino)
			s->v[i].peer = rsk_of(s, s->v[i].e->peer_ino);
	return 0;
}

/* The socket asked for is returned; the others go into ctx->file_fds, above fd_base. */
static int hand_out(struct rst *s, const FileEntry *want)
{
	int ret = -ENOENT;

	for (size_t i = 0; i < s->n; i++) {
		struct rsk *k = &s->v[i];
		int fd;

		if (k->f == want) {
			ret = steal_fd(k->fd);
			continue;
		}
		fd = fd_move_above(k->fd, s->ctx->fd_base + 1);
		if (fd < 0)
			return log_error_errno(fd, "cannot move a unix socket's fd");
		k->fd = -1;
		s->ctx->file_fds[k->f->id] = fd;
	}
	return ret;
}

int sockets_open(struct restore_ctx *ctx, const FileEntry *f)
{
	struct rst s = {.ctx = ctx, .anon = -1};
	int r;

	if (!ctx->file_fds)
		return -EINVAL;
	r = collect(&s);
	if (r == 0)
		r = make_all(&s);
	if (r == 0) {
		pr_debug("made %zu unix sockets", s.n);
		r = hand_out(&s, f);
	}
	rst_free(&s);
	return r;
}
