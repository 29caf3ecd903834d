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
 * the tree takes it in its commit step (fd_ops.dump_commit), after the
 * last point of refusal, once every other image is written.
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
#include "core/arena.h"
#include "files/fd-ops.h"
#include "core/log.h"
#include "net/sockdiag.h"
#include "tree/pstree.h"
#include "net/sockets.h"
#include "net/sockets-priv.h"
#include "ns/ns.h"
#include "core/sys.h"
#include "core/util.h"

/* ---- dump ---- */

/* A socket being dumped: nestor's copy of the task's fd, and what diag said. */
struct skd {
	struct dump_ctx *ctx;
	pid_t pid;
	int fd; /* the task's number, for messages */
	int sk;
	uint32_t net; /* its network namespace, an id of the model */
	int nl;	      /* a sock_diag socket of that namespace */
	struct sockdiag_unix d;
	SocketEntry *e;
	char nb[NAME_BUF];
};

int task_fd(pid_t pid, int fd)
{
	int r = sys_dup_task_fd(pid, fd);

	return r < 0 ? log_error_errno(r, "cannot take fd %d of task %d", fd, pid) : r;
}

int fd_holding(pid_t pid, uint64_t ino)
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

/*
 * sock_diag about ino when no namespace searched so far has it: a task of
 * the tree that holds it tells its network namespace (SIOCGSKNS), which
 * joins the model.
 */
static int diag_by_holder(struct dump_ctx *ctx, uint64_t ino, uint32_t show,
			  struct sockdiag_unix *ret)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		pid_t pid = ctx->tasks[i].pid;
		int fd = ctx->tasks[i].zombie ? -1 : fd_holding(pid, ino), sk, nl, r;
		char who[64];
		uint32_t id;

		if (fd < 0)
			continue;
		snprintf(who, sizeof(who), "task %d fd %d", pid, fd);
		if ((sk = task_fd(pid, fd)) < 0)
			return sk;
		r = netns_of_socket(ctx, sk, who, &id);
		close(sk);
		if (r < 0 || (nl = netns_diag(ctx, id)) < 0)
			return r < 0 ? r : nl;
		return sockdiag_unix_one(nl, ino, show, ret);
	}
	return -ENOENT;
}

int sk_diag_one(struct dump_ctx *ctx, uint32_t home, uint64_t ino, uint32_t show,
		struct sockdiag_unix *ret)
{
	int nl = netns_diag(ctx, home), r;

	if (nl < 0)
		return nl;
	r = sockdiag_unix_one(nl, ino, show, ret);
	for (uint32_t id = netns_next(ctx, 0); r == -ENOENT && id; id = netns_next(ctx, id)) {
		if (id == home)
			continue;
		if ((nl = netns_diag(ctx, id)) < 0)
			return nl;
		r = sockdiag_unix_one(nl, ino, show, ret);
	}
	return r == -ENOENT ? diag_by_holder(ctx, ino, show, ret) : r;
}

int sk_diag_list(struct dump_ctx *ctx, uint32_t states, uint32_t show, struct sockdiag_list *ret)
{
	int r = 0;

	for (uint32_t id = netns_next(ctx, 0); r == 0 && id; id = netns_next(ctx, id)) {
		int nl = netns_diag(ctx, id);

		r = nl < 0 ? nl : sockdiag_unix_list(nl, states, show, ret);
	}
	return r;
}

static bool held_in_tree(const struct dump_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (!ctx->tasks[i].zombie && fd_holding(ctx->tasks[i].pid, ino) >= 0)
			return true;
	return false;
}

struct holder_search {
	uint64_t ino;
	int fd;
};

static int holds_ino(struct dump_ctx *ctx, pid_t pid, void *arg)
{
	struct holder_search *h = arg;

	h->fd = fd_holding(pid, h->ino);
	return h->fd >= 0 ? pid : 0;
}

/* A process outside the tree that holds socket:[ino] (0: none), and its fd. */
static pid_t holder_outside(const struct dump_ctx *ctx, uint64_t ino, int *ret_fd)
{
	struct holder_search h = { ino, -1 };
	int pid = pstree_for_each_outside((struct dump_ctx *)ctx, holds_ino, &h);

	if (pid <= 0)
		return 0;
	*ret_fd = h.fd;
	return pid;
}

/*
 * Refuses a socket whose peer or listener is outside the tree, naming it,
 * and saying whether --ext-unix-sk would allow it.
 */
static const char *held_by(struct skd *s, uint64_t ino, char who[64])
{
	int fd = -1;
	pid_t p = holder_outside(s->ctx, ino, &fd);

	if (p)
		snprintf(who, 64, "held by process %d (fd %d)", p, fd);
	else
		snprintf(who, 64, "held by no process (in flight, or closing)");
	return who;
}

static int refuse_outside(struct skd *s, const char *how, uint64_t ino, const uint8_t *name,
			  size_t len)
{
	char who[64];

	held_by(s, ino, who);
	return log_error_ret(
	    -EOPNOTSUPP,
	    "can't dump: task %d fd %d is a unix socket %s socket:[%llu] %s, outside the "
	    "tree, %s (%s)",
	    s->pid, s->fd, how, (unsigned long long)ino, name_str(name, len, s->nb), who,
	    is_stream(s->d.type) ? "a stream or seqpacket connection cannot be made again with a "
				   "process outside the tree, not even with --ext-unix-sk"
				 : "--ext-unix-sk allows it: the socket is connected to that name "
				   "again at restore");
}

/* A peer no task of the tree holds: a datagram one is allowed by --ext-unix-sk. */
static int dump_outside(struct skd *s, const struct sockdiag_unix *p)
{
	char who[64];

	if (s->d.type != SOCK_DGRAM || !s->ctx->opts->ext_unix_sk)
		return refuse_outside(s, "connected to", p->ino, p->name, p->name_len);
	return ext_dump_peer(s->pid, s->fd, p, held_by(s, p->ino, who),
			     netns_is_host(s->ctx, s->net), s->e);
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
	r = sk_diag_list(s->ctx, 1 << TCP_LISTEN, UDIAG_SHOW_NAME | UDIAG_SHOW_ICONS, &ls);
	if (r == 0) {
		mine = named_like_listener(&ls, s->d.type, s->d.name, s->d.name_len);
		theirs = named_like_listener(&ls, s->d.type, pname, plen);
		s->e->accepted = mine != theirs ? mine : s->d.ino < pino;
	}
	sockdiag_list_free(&ls);
	return r < 0 ? log_error_errno(r, "cannot list the unix listeners") : 0;
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
			r = sk_diag_one(s->ctx, s->net, p->client_ino, UDIAG_SHOW_RQLEN, &c);
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
		    : sk_diag_list(s->ctx, 1 << TCP_LISTEN, UDIAG_SHOW_NAME | UDIAG_SHOW_ICONS, &ls);
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

		r = sk_diag_one(s->ctx, s->net, s->d.peer, UDIAG_SHOW_NAME | UDIAG_SHOW_VFS, &p);
		if (r < 0)
			return log_error_errno(r, "cannot query socket:[%u]", s->d.peer);
		if (!held_in_tree(s->ctx, s->d.peer)) {
			r = dump_outside(s, &p);
		} else {
			e->has_peer_ino = true;
			e->peer_ino = s->d.peer;
			r = is_stream(s->d.type) ? dump_accepted(s, p.name, p.name_len, p.ino) : 0;
		}
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

static int queue_add(struct queue *q, void *data, size_t len, const struct sockaddr_un *from,
		     socklen_t fromlen)
{
	SocketMsg *m = ANEW(SocketMsg);

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
	if (arena_push(&q->v, &q->n, &q->cap, m) < 0)
		return -ENOMEM;
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
int read_queue(int sk, int type, bool peek, bool eof_creds, struct queue *q,
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
	int r = sockdiag_unix_one(s->nl, ino, DIAG_ALL, &s->d);

	if (r < 0)
		return log_error_errno(r, "cannot query the unix socket of task %d fd %d", s->pid,
				       s->fd);
	if (s->d.state != TCP_ESTABLISHED && s->d.state != TCP_CLOSE && s->d.state != TCP_LISTEN)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is a unix socket in "
				     "state %d (not supported yet)",
				     s->pid, s->fd, s->d.state);
	/* O_ASYNC, its owner and signal: fown.c. */
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

/*
 * The network namespace the socket was made in (SIOCGSKNS), which need not
 * be its holder's: sock_diag is asked from inside it. nestor's own is in
 * the model too, where the searches across namespaces look last.
 */
static int socket_netns(struct skd *s)
{
	char who[64];
	uint32_t own;
	int r;

	snprintf(who, sizeof(who), "task %d fd %d", s->pid, s->fd);
	if ((r = netns_own(s->ctx, &own)) < 0 || (r = netns_of_socket(s->ctx, s->sk, who, &s->net)) < 0)
		return r;
	s->nl = netns_diag(s->ctx, s->net);
	return s->nl < 0 ? s->nl : 0;
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
	} else if ((r = socket_netns(&s)) < 0) {
		;
	} else if (!(s.e = ANEW(SocketEntry))) {
		r = -ENOMEM;
	} else {
		socket_entry__init(s.e);
		s.e->family = family;
		s.e->type = type;
		s.e->has_netns = true;
		s.e->netns = s.net;
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

struct ino_set {
	const uint64_t *inos;
	size_t n;
};

static int scan_outside(struct dump_ctx *ctx, pid_t pid, void *arg)
{
	const uint64_t *inos = ((struct ino_set *)arg)->inos;
	size_t n = ((struct ino_set *)arg)->n;
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
	size_t n = 0;

	if (!inos)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->files.nr; i++)
		if (ctx->files.files[i]->type == FILE_TYPE__SOCKET && ctx->files.files[i]->sock)
			inos[n++] = ctx->files.files[i]->sock->ino;
	if (!n)
		return 0;
	return pstree_for_each_outside(ctx, scan_outside, &(struct ino_set){ inos, n });
}

int sockets_dump_finish(struct dump_ctx *ctx)
{
	return check_outside(ctx);
}


static bool claims(const struct stat *st, const char *path)
{
	return S_ISSOCK(st->st_mode);
}

static int dump_fd(const struct fd_dump *d, FileEntry *f)
{
	return sockets_dump(d->ctx, d->t, d->fd, d->st, f);
}

static int open_fd(struct restore_ctx *ctx, const FileEntry *f, int flags)
{
	return sockets_open(ctx, f);
}

const struct fd_ops sockets_fd_ops = {
	.name = "socket",
	.types = FD_TYPE(FILE_TYPE__SOCKET),
	.claims = claims,
	.dump = dump_fd,
	.dump_finish = sockets_dump_finish,
	.dump_commit_size = sockets_backlog_size,
	.dump_commit = sockets_backlog_take,
	.validate = sockets_validate,
	.open = open_fd,
};
