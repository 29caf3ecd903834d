/*
 * backlog.img: the connections waiting in listeners' backlogs with data.
 * Their data can only be read by accepting them, which the task cannot
 * undo: a dump that kills the tree takes them in the commit step, after
 * the last point of refusal, into room reserved before it (cr-dump.c), and
 * the restore gives them back to the listeners of files.img.
 */
#define LOG_PREFIX "sockets: "
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include "core/log.h"
#include "files/fd-ops.h"
#include "net/sockets.h"
#include "net/sockets-priv.h"

/* ---- dump ---- */

/* Accepts one waiting connection in nestor and reads all it holds. */
static int take_one(struct dump_ctx *ctx, int l, const SocketEntry *e, SocketPending *p)
{
	_cleanup_close_ int c = -1;
	struct pollfd pfd = {l, POLLIN, 0};
	struct sockdiag_unix d = {0};
	struct queue q = {0};
	struct stat st;
	uint64_t lino = e->ino;
	int type = e->type;
	char what[96];
	int r;

	snprintf(what, sizeof(what), "a connection not yet accepted by socket:[%llu]",
		 (unsigned long long)lino);
	if (poll(&pfd, 1, 0) != 1 || (c = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return log_error_ret(-EAGAIN, "can't dump: the backlog of socket:[%llu] changed",
				     (unsigned long long)lino);
	/* The accepted end is in its client's network namespace: near the listener's, mostly. */
	if (fstat(c, &st) || (r = sk_diag_one(ctx, e->netns, st.st_ino, UDIAG_SHOW_PEER, &d)) < 0)
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

static bool takes_pending(const FileEntry *f)
{
	if (f->type != FILE_TYPE__SOCKET || !f->sock)
		return false;
	for (size_t i = 0; i < f->sock->n_pending; i++)
		if (f->sock->pending[i]->queued)
			return true;
	return false;
}

/* What any socket may have sent before it closed: a send buffer at its largest. */
static long closed_client_bound(void)
{
	long max = read_sysctl_long("/proc/sys/net/core/wmem_max", 0);

	return 2 * MAX(max, 212992L) + CHUNK;
}

/*
 * The most a waiting connection holds: its client's send queue, which
 * counts each buffer in full (more than its data and its record's place in
 * the image); for a client since closed, what a send buffer may hold.
 */
static long pending_bound(struct dump_ctx *ctx, const SocketEntry *e, const SocketPending *p)
{
	struct sockdiag_unix c;
	long n;
	int r;

	if (!p->queued)
		return 0;
	if (!p->client_ino)
		return closed_client_bound();
	r = sk_diag_one(ctx, e->netns, p->client_ino, UDIAG_SHOW_RQLEN, &c);
	if (r < 0)
		return log_error_errno(r, "cannot query socket:[%llu]",
				       (unsigned long long)p->client_ino);
	n = c.wqueue + 64;
	sockdiag_unix_free(&c);
	return n;
}

/* Room for backlog.img's entries: asked before the last point of refusal. */
long sockets_backlog_size(struct dump_ctx *ctx)
{
	long total = 0;

	if (ctx->opts->leave_running)
		return 0;
	for (size_t i = 0; i < ctx->files.nr; i++) {
		FileEntry *f = ctx->files.files[i];

		if (!takes_pending(f))
			continue;
		total += 64;
		for (size_t k = 0; k < f->sock->n_pending; k++) {
			long n = pending_bound(ctx, f->sock, f->sock->pending[k]);

			if (n < 0)
				return n;
			total += 32 + n;
		}
	}
	return total;
}

/*
 * Connections not yet accepted that hold data: taken from the listener (in
 * queue order: accept() takes the oldest) after every refusal, since the
 * task cannot have them back, and written to backlog.img. Only a dump that
 * kills the tree gets here.
 */
static int take_pending(struct dump_ctx *ctx, FileEntry *f, struct img *img)
{
	SocketEntry *e = f->sock;
	SocketBacklog b = SOCKET_BACKLOG__INIT;
	_cleanup_close_ int l = -1;
	pid_t pid = 0;
	int fd, r;

	fd = files_holder(ctx, f->id, &pid);
	if (fd < 0)
		return log_error_ret(fd, "no task holds socket:[%llu]", (unsigned long long)e->ino);
	l = task_fd(pid, fd);
	if (l < 0)
		return l;
	pr_info("taking the %zu connections not yet accepted by task %d fd %d to read their data",
		e->n_pending, pid, fd);
	for (size_t i = 0; i < e->n_pending; i++)
		if ((r = take_one(ctx, l, e, e->pending[i])) < 0)
			return r;
	b.ino = e->ino;
	b.n_pending = e->n_pending;
	b.pending = e->pending;
	return img_write(img, &b);
}

/* Connections waiting in backlogs are taken only here, after every refusal. */
int sockets_backlog_take(struct dump_ctx *ctx, struct img *img)
{
	int r = 0;

	if (ctx->opts->leave_running)
		return 0;
	for (size_t i = 0; r == 0 && i < ctx->files.nr; i++)
		if (takes_pending(ctx->files.files[i]))
			r = take_pending(ctx, ctx->files.files[i], img);
	return r;
}

/* ---- restore ---- */


static int attach(struct restore_ctx *ctx, SocketBacklog *b)
{
	SocketEntry *e = (SocketEntry *)image_sk(ctx, b->ino);

	if (!e || e->state != TCP_LISTEN || e->n_pending != b->n_pending)
		return log_error_ret(-EINVAL, "image backlog.img is corrupted: socket:[%llu] is "
					      "no listener of files.img with %zu connections waiting",
				     (unsigned long long)b->ino, b->n_pending);
	for (size_t i = 0; i < b->n_pending; i++) {
		const SocketPending *p = b->pending[i], *q = e->pending[i];

		if (p->client_ino != q->client_ino || p->queued != q->queued || !p->taken ||
		    q->taken)
			return log_error_ret(-EINVAL, "image backlog.img is corrupted: connection "
						      "%zu waiting on socket:[%llu] is not the one "
						      "of files.img",
					     i, (unsigned long long)b->ino);
	}
	/* Each message frees what it holds: the taken ones go to files.img's entry. */
	for (size_t i = 0; i < b->n_pending; i++) {
		SocketPending *t = e->pending[i];

		e->pending[i] = b->pending[i];
		b->pending[i] = t;
	}
	return 0;
}

int sockets_read_backlog(struct restore_ctx *ctx)
{
	struct img img;
	void *m;
	int r;

	if (faccessat(ctx->dirfd, "backlog.img", F_OK, AT_SYMLINK_NOFOLLOW))
		return 0;
	if ((r = img_open(ctx->dirfd, IMG_BACKLOG, 0, &img)) < 0)
		return r;
	while ((r = img_read(&img, &m)) > 0) {
		r = attach(ctx, m);
		img_free(IMG_BACKLOG, m);
		if (r < 0)
			break;
	}
	img_close(&img);
	return r;
}
