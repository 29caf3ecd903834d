/*
 * NETLINK_SOCK_DIAG for AF_UNIX: one socket by inode, or all of them in some
 * states. The kernel answers an exact query with one message (or an error)
 * and a dump with many, ended by NLMSG_DONE. It answers about the sockets
 * of the network namespace the netlink socket was made in: a caller that
 * asks about another namespace passes a socket made there (sockdiag_open()
 * while inside), which serves one query after the other (each answer is
 * read to its end; a sequence number tells stale ones).
 */
#define LOG_PREFIX "sockdiag: "
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include "core/log.h"
#include "net/sockdiag.h"
#include "core/util.h"

#define NL_BUF (32 << 10)

static uint32_t seq;

int sockdiag_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	return fd < 0 ? log_error_errno(-errno, "cannot open a NETLINK_SOCK_DIAG socket") : fd;
}

/* Sends the query on nl (or on a socket made for it, returned, when nl is -1). */
static int nl_request(int nl, uint32_t ino, uint32_t states, uint32_t show, bool dump)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req r;
	} req = {
	    .nh = {.nlmsg_len = sizeof(req),
		   .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		   .nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0),
		   .nlmsg_seq = ++seq},
	    .r = {.sdiag_family = AF_UNIX,
		  .udiag_states = states,
		  .udiag_ino = ino,
		  .udiag_show = show,
		  .udiag_cookie = {~0u, ~0u}},
	};
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd = nl >= 0 ? nl : sockdiag_open();

	if (fd < 0)
		return fd;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) != sizeof(req)) {
		int r = -errno;
		if (nl < 0)
			close(fd);
		return log_error_errno(r, "cannot query unix sockets");
	}
	return fd;
}

static int parse_one(const struct nlmsghdr *nh, struct sockdiag_unix *d)
{
	const struct unix_diag_msg *m = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	const struct rtattr *a;

	if (len < 0)
		return log_error_ret(-EBADMSG, "short sock_diag message");
	memset(d, 0, sizeof(*d));
	d->ino = m->udiag_ino;
	d->type = m->udiag_type;
	d->state = m->udiag_state;
	for (a = (const struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t plen = RTA_PAYLOAD(a);
		const void *p = RTA_DATA(a);

		switch (a->rta_type) {
		case UNIX_DIAG_NAME:
			d->name_len = MIN(plen, sizeof(d->name));
			memcpy(d->name, p, d->name_len);
			break;
		case UNIX_DIAG_VFS:
			if (plen >= sizeof(struct unix_diag_vfs)) {
				const struct unix_diag_vfs *v = p;
				d->has_vfs = true;
				d->vfs_ino = v->udiag_vfs_ino;
				d->vfs_dev = v->udiag_vfs_dev;
			}
			break;
		case UNIX_DIAG_PEER:
			if (plen >= 4) {
				d->has_peer = true;
				memcpy(&d->peer, p, 4);
			}
			break;
		case UNIX_DIAG_ICONS:
			free(d->icons);
			d->nr_icons = plen / 4;
			d->icons = malloc(plen ? plen : 1);
			if (!d->icons)
				return -ENOMEM;
			memcpy(d->icons, p, d->nr_icons * 4);
			break;
		case UNIX_DIAG_RQLEN:
			if (plen >= sizeof(struct unix_diag_rqlen)) {
				const struct unix_diag_rqlen *q = p;
				d->has_rqlen = true;
				d->rqueue = q->udiag_rqueue;
				d->wqueue = q->udiag_wqueue;
			}
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (plen >= 1)
				d->shutdown = *(const uint8_t *)p;
			break;
		}
	}
	return 0;
}

/*
 * Reads answers until the end (dump) or the first one (exact); fn sees
 * each until it returns non-zero, and the rest of a dump is read and
 * dropped, so that the socket can serve the next query.
 */
static int nl_collect(int fd, bool dump, int (*fn)(const struct sockdiag_unix *, void *), void *arg)
{
	_cleanup_free_ char *buf = malloc(NL_BUF);
	int res = 0;
	bool done = false;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = recv(fd, buf, NL_BUF, 0);
		struct nlmsghdr *nh;
		int len = n;

		if (n < 0)
			return log_error_errno(-errno, "cannot read the sock_diag answer");
		if (n == 0)
			return log_error_ret(-EBADMSG, "sock_diag answer ended early");
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			struct sockdiag_unix d;
			int r;

			if (nh->nlmsg_seq != seq)
				continue; /* the end of an answer given up on */
			if (nh->nlmsg_type == NLMSG_DONE)
				return res;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);
				return res ? res : e->error ? e->error : -EBADMSG;
			}
			if (nh->nlmsg_type != SOCK_DIAG_BY_FAMILY || done)
				continue;
			r = parse_one(nh, &d);
			if (r == 0)
				r = fn(&d, arg);
			sockdiag_unix_free(&d);
			if (!dump)
				return r;
			if (r != 0) {
				res = r;
				done = true;
			}
		}
	}
}

/* A copy of d that owns its own icons. */
static int copy_diag(const struct sockdiag_unix *d, struct sockdiag_unix *ret)
{
	*ret = *d;
	ret->icons = NULL;
	ret->nr_icons = 0;
	if (d->nr_icons) {
		ret->icons = malloc(d->nr_icons * 4);
		if (!ret->icons)
			return -ENOMEM;
		memcpy(ret->icons, d->icons, d->nr_icons * 4);
		ret->nr_icons = d->nr_icons;
	}
	return 0;
}

static int take_first(const struct sockdiag_unix *d, void *arg)
{
	return copy_diag(d, arg);
}

int sockdiag_unix_one(int nl, uint32_t ino, uint32_t show, struct sockdiag_unix *ret)
{
	struct sockdiag_unix d = {0};
	int fd = nl_request(nl, ino, ~0u, show, false), r;

	if (fd < 0)
		return fd;
	r = nl_collect(fd, false, take_first, &d);
	if (nl < 0)
		close(fd);
	if (r < 0)
		return r;
	if (d.ino != ino) {
		sockdiag_unix_free(&d);
		return -ENOENT;
	}
	*ret = d;
	return 0;
}

int sockdiag_unix_each(int nl, uint32_t states, uint32_t show,
		       int (*fn)(const struct sockdiag_unix *d, void *arg), void *arg)
{
	int fd = nl_request(nl, 0, states, show, true), r;

	if (fd < 0)
		return fd;
	r = nl_collect(fd, true, fn, arg);
	if (nl < 0)
		close(fd);
	return r;
}

void sockdiag_unix_free(struct sockdiag_unix *d)
{
	free(d->icons);
	d->icons = NULL;
	d->nr_icons = 0;
}

static int add_one(const struct sockdiag_unix *d, void *arg)
{
	struct sockdiag_list *l = arg;
	struct sockdiag_unix *n = realloc(l->v, (l->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	l->v = n;
	if (copy_diag(d, &n[l->n]) < 0)
		return -ENOMEM;
	l->n++;
	return 0;
}

int sockdiag_unix_list(int nl, uint32_t states, uint32_t show, struct sockdiag_list *ret)
{
	return sockdiag_unix_each(nl, states, show, add_one, ret);
}

void sockdiag_list_free(struct sockdiag_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		sockdiag_unix_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool sockdiag_unix_is_file(const struct sockdiag_unix *d, const struct stat *st)
{
	/* The kernel's own dev_t: the major above bit 20. */
	return d->has_vfs && d->vfs_ino == st->st_ino && d->vfs_dev >> 20 == major(st->st_dev) &&
	       (d->vfs_dev & 0xfffff) == minor(st->st_dev);
}

static int bound_at(const struct sockdiag_unix *d, void *arg)
{
	return sockdiag_unix_is_file(d, arg);
}

int sockdiag_unix_bound_at(int nl, const struct stat *st)
{
	return sockdiag_unix_each(nl, ~0u, UDIAG_SHOW_VFS, bound_at, (void *)st);
}
