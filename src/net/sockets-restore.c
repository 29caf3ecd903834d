/*
 * Unix sockets, restore side (validation: sockets-validate.c): nestor makes
 * every socket of the tree (pairs, connections, names, listeners and their
 * waiting connections) and refills the queues; see sockets.c for the dump.
 * Each socket is made with nestor's thread inside its own network
 * namespace (netns_enter), where its abstract name is bound and looked
 * up; an accepted end is made by the kernel in its client's, as at the
 * dump. Every other call works from any namespace.
 */
#define LOG_PREFIX "sockets: "
#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "core/arena.h"
#include "core/log.h"
#include "net/sockdiag.h"
#include "net/sockets.h"
#include "net/sockets-priv.h"
#include "files/names.h"
#include "ns/ns.h"
#include "core/sys.h"
#include "core/util.h"

/* ---- restore ---- */

/* One socket of the image, while nestor makes them all. */
struct rsk {
	const FileEntry *f;
	const SocketEntry *e;
	int fd;
	uint32_t net;	  /* its network namespace, 0 for nestor's */
	struct rsk *peer; /* e->peer_ino */
	struct rsk *pair; /* made with it by socketpair() */
	int stand_in;	  /* the other end, for a peer since closed, until the queues are in */
	bool connected;	  /* datagrams: connected as saved */
	struct name_hold hold; /* a name gone at the dump, held while nestor works */
};

/* A name nestor holds while it works: a listener, a datagram sender, a stand-in's. */
struct tmp_sk {
	int fd, type;
	uint32_t net; /* made in this network namespace (0: nestor's) */
	bool anon;    /* an unnamed datagram sender */
	const uint8_t *name;
	size_t len;
	const char *dir;
	bool listening, unlink;
	bool external; /* a copy of a socket outside the tree: not ours to change */
};

struct rst {
	struct restore_ctx *ctx;
	struct rsk *v;
	size_t n;
	struct tmp_sk *tmp;
	size_t ntmp;
	int home;     /* nestor's network namespace */
	uint32_t cur; /* the one nestor's thread is in, 0: its own */
	int diag;     /* a sock_diag socket of nestor's network namespace */
	char nb[NAME_BUF];
};

/* Abstract names are per network namespace; a path is the same from all. */
static bool same_place(uint32_t a, uint32_t b, const uint8_t *name, size_t len)
{
	return a == b || is_path(name, len);
}

/* nestor's thread into network namespace net (0: its own), for the sockets it makes next. */
static int in_net(struct rst *s, uint32_t net)
{
	int r;

	if (net == s->cur)
		return 0;
	if (net)
		r = netns_enter(ns_fd(s->ctx, net), &s->home);
	else if ((r = setns(s->home, CLONE_NEWNET) ? -errno : 0) < 0)
		log_error_errno(r, "cannot come back to nestor's network namespace");
	if (r == 0)
		s->cur = net;
	return r;
}

static const char *pname(struct rst *s, const ProtobufCBinaryData *n)
{
	return name_str(n->data, n->len, s->nb);
}

static bool same_dir(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
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
static int clear_path(int diag, const char *path, bool *ret_existed)
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
	r = sockdiag_unix_bound_at(diag, &st);
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
		r = clear_path(s->diag, sa.sun_path, &existed);
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

static int new_socket(struct rst *s, uint32_t net, int type, int *ret)
{
	int fd, r = in_net(s, net);

	if (r < 0)
		return r;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(-errno, "cannot create a unix socket");
	*ret = fd;
	return 0;
}

static int new_pair(struct rst *s, uint32_t net, int type, int *a, int *b)
{
	int p[2], r = in_net(s, net);

	if (r < 0)
		return r;
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, p))
		return log_error_errno(-errno, "cannot create a unix socketpair");
	*a = p[0];
	*b = p[1];
	return 0;
}

static struct tmp_sk *tmp_add(struct rst *s, uint32_t net, int type, const uint8_t *name,
			      size_t len, const char *dir)
{
	struct tmp_sk *t = realloc(s->tmp, (s->ntmp + 1) * sizeof(*t));

	if (!t)
		return NULL;
	s->tmp = t;
	t = &t[s->ntmp++];
	*t = (struct tmp_sk){
	    .fd = -1, .type = type, .net = net, .name = name, .len = len, .dir = dir};
	return t;
}

/* A name nestor holds already, or a copy of the outside socket that holds it. */
static struct tmp_sk *tmp_find(struct rst *s, uint32_t net, int type, bool listening,
			       const uint8_t *name, size_t len, const char *dir)
{
	for (size_t i = 0; i < s->ntmp; i++) {
		struct tmp_sk *t = &s->tmp[i];

		if (t->fd >= 0 && !t->anon && t->type == type && t->listening == listening &&
		    t->len == len && !memcmp(t->name, name, len) && same_dir(t->dir, dir) &&
		    same_place(t->net, net, name, len))
			return t;
	}
	return NULL;
}

/* A socket bound to name while nestor works; a path it had to create goes after, unless keep. */
static int tmp_named(struct rst *s, uint32_t net, int type, bool listening, const uint8_t *name,
		     size_t len, const char *dir, bool keep, int *ret_fd)
{
	struct tmp_sk *t = tmp_find(s, net, type, listening, name, len, dir);
	bool existed = false;
	int r;

	if (t) {
		t->unlink &= !keep;
		*ret_fd = t->fd;
		return 0;
	}
	t = tmp_add(s, net, type, name, len, dir);
	if (!t)
		return -ENOMEM;
	t->listening = listening;
	if ((r = new_socket(s, net, type, &t->fd)) < 0 ||
	    (r = bind_name(s, t->fd, name, len, dir, &existed)) < 0)
		return r;
	t->unlink = is_path(name, len) && !existed && !keep;
	if (listening && listen(t->fd, 64))
		return log_error_errno(-errno, "cannot listen on a unix socket");
	*ret_fd = t->fd;
	return 0;
}

static struct rsk *image_listener(struct rst *s, uint32_t net, int type, const uint8_t *name,
				  size_t len, const char *dir)
{
	for (size_t i = 0; i < s->n; i++) {
		const SocketEntry *e = s->v[i].e;

		if (e->state == TCP_LISTEN && e->type == (uint32_t)type &&
		    same_bytes(&e->name, name, len) && same_dir(e->name_dir, dir) &&
		    same_place(s->v[i].net, net, name, len))
			return &s->v[i];
	}
	return NULL;
}

/*
 * Connects client (of network namespace net) to the listener of name (the
 * image's, or one made for the time being) and accepts: the accepted end
 * inherits the name, and the client sees it as its peer's.
 */
static int connect_through(struct rst *s, uint32_t net, int type, const uint8_t *name,
			   size_t len, const char *dir, bool keep, int client, int *ret)
{
	struct rsk *l = image_listener(s, net, type, name, len, dir);
	int lfd = l ? l->fd : -1, r = 0;

	if (!l)
		r = tmp_named(s, net, type, true, name, len, dir, keep, &lfd);
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
			r = new_pair(s, k->net, e->type, &k->fd, &p->fd);
			k->pair = p;
			p->pair = k;
		} else if (e->peer_gone &&
			   (e->type == SOCK_DGRAM || (!e->accepted && !usable_peer_name(e)))) {
			r = new_pair(s, k->net, e->type, &k->fd, &k->stand_in);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every other socket but the accepted ends; then the names they own; listening. */
/*
 * A name whose file was gone at the dump: held (its directories made, what
 * took the name since moved aside) until every socket is made, then removed
 * and everything put back.
 */
static int hold_gone_name(struct rsk *k)
{
	const SocketEntry *e = k->e;
	char path[PATH_MAX + NAME_LEN + 2];

	if (!e->has_name || !is_path(e->name.data, e->name.len) || !e->has_name_file ||
	    e->name_file)
		return 0;
	snprintf(path, sizeof(path), "%s%s%.*s", e->name_dir ? e->name_dir : "",
		 e->name_dir && strcmp(e->name_dir, "/") ? "/" : "",
		 (int)strnlen((const char *)e->name.data, e->name.len),
		 (const char *)e->name.data);
	return name_hold_take(path, &k->hold);
}

static int make_plain(struct rst *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct rsk *k = &s->v[i];
		const SocketEntry *e = k->e;
		int r = 0;

		if (e->accepted)
			continue;
		if (k->fd < 0)
			r = new_socket(s, k->net, e->type, &k->fd);
		if (r == 0 && e->has_name && (r = hold_gone_name(k)) == 0)
			r = bind_name(s, k->fd, e->name.data, e->name.len, e->name_dir, NULL);
		if (r < 0)
			return r;
		k->hold.made = k->hold.path != NULL;
		if (e->state == TCP_LISTEN && listen(k->fd, MAX(e->backlog, e->n_pending)))
			return log_error_errno(-errno, "cannot listen on %s", pname(s, &e->name));
	}
	return 0;
}

/* A stand-in takes its peer's name: getpeername() must tell it. */
static int name_stand_in(struct rst *s, struct rsk *k)
{
	const ProtobufCBinaryData *n = &k->e->peer_name;
	struct tmp_sk *t = tmp_add(s, k->net, k->e->type, n->data, n->len, NULL);
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
			r = connect_through(s, k->peer->net, e->type, e->name.data, e->name.len,
					    e->name_dir, e->name_file, k->peer->fd, &k->fd);
		} else if (e->accepted) {
			r = new_socket(s, k->net, e->type, &k->stand_in);
			if (r == 0 && usable_peer_name(e))
				r = name_stand_in(s, k);
			if (r == 0)
				r = connect_through(s, k->net, e->type, e->name.data, e->name.len,
						    e->name_dir, e->name_file, k->stand_in, &k->fd);
		} else if (e->peer_gone && k->stand_in < 0) {
			r = connect_through(s, k->net, e->type, pn->data, pn->len, NULL, false,
					    k->fd, &k->stand_in);
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

		/* A client since closed: in the listener's network namespace. */
		if (!c)
			r = new_socket(s, l->net, e->type, &fd);
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

/*
 * The sender of datagrams from n, a name no socket of the image has: the
 * live socket outside the tree that holds n (a copy), or else a socket of
 * nestor's bound to n for the time being.
 */
static int named_sender(struct rst *s, struct rsk *k, const ProtobufCBinaryData *n, int *ret_fd)
{
	bool peer = k->e->peer_external && same_bytes(&k->e->peer_name, n->data, n->len);
	struct tmp_sk *t = tmp_find(s, k->net, SOCK_DGRAM, false, n->data, n->len, NULL);
	int fd, r;

	if (t) {
		*ret_fd = t->fd;
		return 0;
	}
	if (is_path(n->data, n->len) && n->data[0] != '/')
		return log_error_ret(-EINVAL,
				     "can't restore: a datagram queued on socket %u came from "
				     "%s, a relative name no socket of the image has",
				     k->f->id, pname(s, n));
	/* Outside the tree, an abstract name is only nestor's namespace's. */
	r = k->net && !is_path(n->data, n->len) ? 0 : ext_sender(s->diag, n, k->f->id, peer, &fd);
	if (r == 0)
		return tmp_named(s, k->net, SOCK_DGRAM, false, n->data, n->len, NULL, false, ret_fd);
	if (r < 0)
		return r;
	t = tmp_add(s, 0, SOCK_DGRAM, n->data, n->len, NULL);
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	t->external = true;
	t->fd = *ret_fd = fd;
	return 0;
}

static bool is_external(const struct rst *s, int fd)
{
	for (size_t i = 0; i < s->ntmp; i++)
		if (s->tmp[i].external && s->tmp[i].fd == fd)
			return true;
	return false;
}

/* An unnamed datagram sender, in network namespace net: it reaches abstract names there. */
static int anon_sender(struct rst *s, uint32_t net, int *ret_fd)
{
	struct tmp_sk *t;
	int r;

	for (size_t i = 0; i < s->ntmp; i++)
		if (s->tmp[i].anon && s->tmp[i].net == net && s->tmp[i].fd >= 0) {
			*ret_fd = s->tmp[i].fd;
			return 0;
		}
	if (!(t = tmp_add(s, net, SOCK_DGRAM, NULL, 0, NULL)))
		return -ENOMEM;
	t->anon = true;
	if ((r = new_socket(s, net, SOCK_DGRAM, &t->fd)) < 0)
		return r;
	*ret_fd = t->fd;
	return 0;
}

/* Who sends a queued datagram again: its sender by name; ret_direct: k's own peer. */
static int dgram_sender(struct rst *s, struct rsk *k, const SocketMsg *m, int *ret_fd,
			bool *ret_direct)
{
	const ProtobufCBinaryData *n = &m->sender;
	bool gone_sent =
	    m->has_sender ? usable_peer_name(k->e) && same_bytes(&k->e->peer_name, n->data, n->len)
			  : !usable_peer_name(k->e);

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
	if (!m->has_sender)
		return anon_sender(s, k->net, ret_fd);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].e->type == SOCK_DGRAM && has_name_of(s->v[i].e, m) &&
		    same_place(s->v[i].net, k->net, n->data, n->len)) {
			*ret_fd = s->v[i].fd;
			return 0;
		}
	return named_sender(s, k, n, ret_fd);
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
		if (!is_external(s, fd))
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

		if (k->e->peer_external && (r = ext_connect(k->fd, k->e, k->f->id)) < 0)
			return r;
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
	if (e->name_file || k->hold.path || (r = enter_dir(e->name_dir, &saved)) < 0)
		return e->name_file || k->hold.path ? 0 : r;
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
	for (size_t i = s->n; i-- > 0;)
		name_hold_release(&s->v[i].hold);
	if (s->diag >= 0)
		close(s->diag);
	if (s->cur)
		netns_leave(&s->home);
	else if (s->home >= 0)
		close(s->home);
	free(s->tmp);
	free(s->v);
}

/* A socket's network namespace, 0 for nestor's (as in images made before it was kept). */
static uint32_t net_of(const struct restore_ctx *ctx, const SocketEntry *e)
{
	const NsEntry *n = e->has_netns ? ns_entry(ctx, e->netns) : NULL;

	return n && !n->host ? e->netns : 0;
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
		s->v[s->n - 1].net = net_of(ctx, f->sock);
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
	struct rst s = {.ctx = ctx, .home = -1, .diag = -1};
	int r;

	if (!ctx->file_fds)
		return -EINVAL;
	s.home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s.home < 0)
		return log_error_errno(-errno, "cannot open nestor's network namespace");
	if ((s.diag = sockdiag_open()) < 0) {
		close(s.home);
		return s.diag;
	}
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
