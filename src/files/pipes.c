/*
 * Pipes and FIFOs. Dump: the unread data is copied with tee() from a
 * reader opened through /proc/PID/fd, so the task's pipe keeps it. A pipe
 * that a process outside the tree holds too is refused. Restore: nestor
 * makes each pipe once (capacity, data), and every description of it is a
 * fresh open of /proc/self/fd/N with the saved flags, so that the tasks'
 * descriptions are as many and as shared as they were.
 */
#define LOG_PREFIX "pipes: "
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include "core/arena.h"
#include "core/log.h"
#include "files/fd-ops.h"
#include "files/names.h"
#include "files/pipes.h"
#include "tree/pstree.h"
#include "core/util.h"

#define PIPE_MAX (1 << 20)

static bool data_saved(struct dump_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->files.nr; i++)
		if (ctx->files.files[i]->has_pipe_ino && ctx->files.files[i]->pipe_ino == ino)
			return true;
	return false;
}

struct pipe_copy {
	int fd[2];
};

static void copy_close(struct pipe_copy *c)
{
	closep(&c->fd[0]);
	closep(&c->fd[1]);
}

/* A pipe of the source's capacity holding what it holds (tee: the source
 * keeps its data); checked against the bytes the source says it holds. */
static int copy_make(pid_t pid, int fd, int rfd, int size, int held, struct pipe_copy *c)
{
	ssize_t n;
	int got;

	c->fd[0] = c->fd[1] = -1;
	if (pipe2(c->fd, O_CLOEXEC | O_NONBLOCK))
		return log_error_errno(-errno, "cannot make a pipe");
	got = fcntl(c->fd[1], F_SETPIPE_SZ, size);
	if (got < size)
		return log_error_errno(got < 0 ? -errno : -ENOSPC,
				       "cannot make a pipe of %d bytes to copy task %d fd %d", size,
				       pid, fd);
	n = held ? tee(rfd, c->fd[1], size, SPLICE_F_NONBLOCK) : 0;
	if (n < 0)
		return log_error_errno(-errno, "cannot copy the data of task %d fd %d", pid, fd);
	if (n != held)
		return log_error_ret(-EIO, "can't dump: task %d fd %d: copied %zd of the %d bytes its "
					   "pipe holds", pid, fd, n, held);
	return 0;
}

/* Reads the copy back. A read ends at a packet's end or at the end of the
 * data: more than one read means packets, each read's length one. */
static int copy_read(struct pipe_copy *c, uint8_t *buf, int held, FileEntry *f)
{
	uint32_t *segs = ANEW_ARRAY(uint32_t, held ? held : 1);
	size_t n = 0;

	if (!segs)
		return -ENOMEM;
	for (int off = 0; off < held; off += segs[n++]) {
		ssize_t r = read(c->fd[0], buf + off, held - off);

		if (r <= 0)
			return log_error_errno(r < 0 ? -errno : -EIO, "cannot read a pipe's copy");
		segs[n] = r;
	}
	if (n > 1) {
		f->pipe_packets = segs;
		f->n_pipe_packets = n;
	}
	return 0;
}

/* Whether the last piece of the data is a packet: reading 1 byte of a packet
 * drops its rest. Probed on a second copy, read up to it. */
static int last_is_packet(pid_t pid, int fd, int rfd, int size, const FileEntry *f, bool *ret)
{
	struct pipe_copy c;
	char buf[PIPE_BUF];
	size_t len = f->pipe_data.len, last;
	int r, left = 0;

	for (size_t i = 0; i + 1 < f->n_pipe_packets; i++)
		len -= f->pipe_packets[i];
	last = len;
	if ((r = copy_make(pid, fd, rfd, size, f->pipe_data.len, &c)) < 0)
		goto out;
	for (size_t i = 0; i + 1 < f->n_pipe_packets; i++)
		if (read(c.fd[0], buf, f->pipe_packets[i]) != (ssize_t)f->pipe_packets[i]) {
			r = log_error_errno(-EIO, "cannot read a pipe's copy");
			goto out;
		}
	if (read(c.fd[0], buf, 1) != 1 || ioctl(c.fd[0], FIONREAD, &left)) {
		r = log_error_errno(-EIO, "cannot read a pipe's copy");
		goto out;
	}
	*ret = last > 1 && left == 0;
out:
	copy_close(&c);
	return r;
}

/* Copies the unread data without taking it from the pipe. */
static int peek_data(pid_t pid, int fd, FileEntry *f)
{
	char link[64];
	_cleanup_close_ int rfd = -1;
	struct pipe_copy c;
	int size, held = 0, r;
	bool packet = false;
	uint8_t *buf;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, fd);
	rfd = open(link, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rfd < 0)
		return log_error_errno(-errno, "cannot open %s", link);
	size = fcntl(rfd, F_GETPIPE_SZ);
	if (size < 0 || size > PIPE_MAX)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d is a pipe of %d bytes "
						  "(at most %d supported)", pid, fd, size, PIPE_MAX);
	if (ioctl(rfd, FIONREAD, &held) || held < 0 || held > size)
		return log_error_ret(-EIO, "cannot tell how much task %d fd %d's pipe holds", pid, fd);
	f->has_pipe_size = true;
	f->pipe_size = size;
	buf = arena_alloc(held ? held : 1);
	if (!buf)
		return -ENOMEM;
	r = copy_make(pid, fd, rfd, size, held, &c);
	if (r == 0)
		r = copy_read(&c, buf, held, f);
	copy_close(&c);
	if (r < 0)
		return r;
	f->has_pipe_data = true;
	f->pipe_data.data = buf;
	f->pipe_data.len = held;
	if (held > 1 && (r = last_is_packet(pid, fd, rfd, size, f, &packet)) < 0)
		return r;
	if (packet && !f->n_pipe_packets) {
		f->pipe_packets = ANEW_ARRAY(uint32_t, 1);
		if (!f->pipe_packets)
			return -ENOMEM;
		f->pipe_packets[f->n_pipe_packets++] = held;
	} else if (!packet && f->n_pipe_packets) {
		f->n_pipe_packets--; /* the last piece is plain bytes */
	}
	return 0;
}

int pipes_dump(struct dump_ctx *ctx, pid_t pid, int fd, const struct stat *st, FileEntry *f)
{
	bool named = f->path[0] == '/';
	size_t l = strlen(f->path);

	f->type = named ? FILE_TYPE__FIFO : FILE_TYPE__PIPE;
	/* A FIFO removed since it was opened: made again for a moment at restore. */
	if (named && !st->st_nlink && l > 10 && !strcmp(f->path + l - 10, " (deleted)")) {
		f->path[l - 10] = 0;
		f->unlinked = true;
	}
	if (!data_saved(ctx, st->st_ino)) {
		int r = peek_data(pid, fd, f);
		if (r < 0)
			return r;
	}
	f->has_pipe_ino = true;
	f->pipe_ino = st->st_ino;
	return 0;
}

static bool is_dumped_pipe(struct dump_ctx *ctx, const char *link)
{
	unsigned long long ino;

	if (sscanf(link, "pipe:[%llu]", &ino) != 1)
		return false;
	for (size_t i = 0; i < ctx->files.nr; i++)
		if (ctx->files.files[i]->type == FILE_TYPE__PIPE && ctx->files.files[i]->pipe_ino == ino)
			return true;
	return false;
}

static int scan_process(struct dump_ctx *ctx, pid_t pid, void *arg)
{
	char path[64], link[300], target[256];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return 0; /* gone, or a kernel thread */
	while ((de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/%d/fd/%s", pid, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (is_dumped_pipe(ctx, target))
			return log_error_ret(-EOPNOTSUPP, "can't dump: process %d, outside the tree, "
							  "holds %s too (fd %s)", pid, target,
					     de->d_name);
	}
	return 0;
}

int pipes_check_outside(struct dump_ctx *ctx)
{
	bool any = false;

	for (size_t i = 0; i < ctx->files.nr; i++)
		any |= ctx->files.files[i]->type == FILE_TYPE__PIPE;
	return any ? pstree_for_each_outside(ctx, scan_process, NULL) : 0;
}

/* ---- restore ---- */

struct pipe_obj {
	uint64_t ino;
	int fd; /* a read-write (FIFO) or read end holder, kept until the tree is made */
	int wr;
	bool rd_given, wr_given; /* pipe2()'s own description of that end handed out */
};

int pipes_validate(struct restore_ctx *ctx, const FileEntry *f)
{
	uint64_t sum = 0;

	if (!f->has_pipe_ino || (f->has_pipe_data && (!f->has_pipe_size ||
						       f->pipe_data.len > f->pipe_size ||
						       f->pipe_size > PIPE_MAX)))
		return log_error_ret(-EINVAL, "image files.img is corrupted: bad pipe %u", f->id);
	for (size_t i = 0; i < f->n_pipe_packets; i++) {
		if (f->pipe_packets[i] == 0 || f->pipe_packets[i] > PIPE_BUF)
			return log_error_ret(-EINVAL, "image files.img is corrupted: bad packet in "
						      "pipe %u", f->id);
		sum += f->pipe_packets[i];
	}
	if (f->n_pipe_packets && (!f->has_pipe_data || sum > f->pipe_data.len))
		return log_error_ret(-EINVAL, "image files.img is corrupted: packets of pipe %u",
				     f->id);
	return 0;
}

static const FileEntry *data_entry(struct restore_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		if (ctx->files[i]->has_pipe_ino && ctx->files[i]->pipe_ino == ino &&
		    ctx->files[i]->has_pipe_data)
			return ctx->files[i];
	return NULL;
}

/* Writes packets through an O_DIRECT writer, each one write, then the rest. */
static int write_data(const FileEntry *d, int wr)
{
	const uint8_t *p = d->pipe_data.data;
	size_t left = d->pipe_data.len;
	int r;

	if (d->n_pipe_packets && fcntl(wr, F_SETFL, O_NONBLOCK | O_DIRECT))
		return -errno;
	for (size_t i = 0; i < d->n_pipe_packets; i++) {
		if (write(wr, p, d->pipe_packets[i]) != (ssize_t)d->pipe_packets[i])
			return errno ? -errno : -EIO;
		p += d->pipe_packets[i];
		left -= d->pipe_packets[i];
	}
	if (d->n_pipe_packets && fcntl(wr, F_SETFL, O_NONBLOCK))
		return -errno;
	r = left ? write_all(wr, p, left) : 0;
	return r;
}

/* The pipe's capacity exactly, its data, and nothing else: checked. */
static int fill_pipe(const FileEntry *d, struct pipe_obj *o)
{
	unsigned long long ino = d->pipe_ino;
	int got, held = -1, r;

	got = fcntl(o->wr, F_SETPIPE_SZ, d->pipe_size);
	if (got < 0)
		return log_error_errno(-errno, "can't restore: cannot size pipe %llu to %u bytes",
				       ino, d->pipe_size);
	if ((unsigned)got != d->pipe_size)
		return log_error_ret(-EIO, "can't restore: pipe %llu came out of %d bytes, not %u",
				     ino, got, d->pipe_size);
	errno = 0;
	if ((r = write_data(d, o->wr)) < 0)
		return log_error_errno(r, "can't restore: cannot refill pipe %llu", ino);
	if (ioctl(o->fd, FIONREAD, &held) || held < 0 || (size_t)held != d->pipe_data.len)
		return log_error_ret(-EIO, "can't restore: pipe %llu holds %d bytes, not %zu", ino,
				     held, d->pipe_data.len);
	return 0;
}

static int make_pipe(struct restore_ctx *ctx, const FileEntry *f, struct pipe_obj *o)
{
	const FileEntry *d = data_entry(ctx, f->pipe_ino);
	int p[2] = { -1, -1 };

	if (f->type == FILE_TYPE__FIFO) {
		/* Held read-write, opening either end later never blocks. */
		p[0] = p[1] = f->unlinked ? names_open_deleted(f->path, S_IFIFO | (f->mode & 07777), 0,
							       O_RDWR | O_NONBLOCK)
					  : open(f->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (p[0] < 0)
			return log_error_errno(-errno, "cannot open FIFO %s", f->path);
	} else if (pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		return log_error_errno(-errno, "cannot create a pipe");
	}
	o->ino = f->pipe_ino;
	o->fd = p[0];
	o->wr = p[1];
	return d ? fill_pipe(d, o) : 0;
}

/*
 * open() always adds O_LARGEFILE here and F_SETFL cannot take it away: a
 * description without it is one pipe2() made, at most one per end. That
 * one is handed out (nestor keeps its own fd to it until the tree is made).
 */
static int pipe2_end(struct pipe_obj *o, const FileEntry *f)
{
	bool rd = (f->flags & O_ACCMODE) == O_RDONLY;
	bool *given = rd ? &o->rd_given : &o->wr_given;
	int fd;

	if (*given)
		return log_error_ret(-EINVAL, "can't restore: pipe %llu has two %s ends without "
					      "O_LARGEFILE", (unsigned long long)o->ino,
				     rd ? "read" : "write");
	fd = fcntl(rd ? o->fd : o->wr, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(-errno, "cannot dup a pipe end");
	if (fcntl(fd, F_SETFL, f->flags & ~O_ASYNC) < 0) { /* O_ASYNC: armed with its owner */
		close(fd);
		return log_error_errno(-errno, "cannot set the flags of a pipe end");
	}
	*given = true;
	return fd;
}

int pipes_open(struct restore_ctx *ctx, const FileEntry *f)
{
	struct pipe_obj *o = NULL;
	int fd, r;

	for (size_t i = 0; i < ctx->nr_pipes; i++)
		if (ctx->pipes[i].ino == f->pipe_ino)
			o = &ctx->pipes[i];
	if (!o) {
		o = array_add(&ctx->pipes, ctx->nr_pipes, sizeof(*o));
		if (!o)
			return -ENOMEM;
		ctx->nr_pipes++;
		o->fd = o->wr = -1;
		o->rd_given = o->wr_given = false;
		r = make_pipe(ctx, f, o);
		if (r < 0)
			return r;
	}
	if (f->type != FILE_TYPE__FIFO && !(f->flags & O_LARGEFILE))
		return pipe2_end(o, f);
	/* A new description of the same pipe, with the saved flags. */
	/* open() refuses O_DIRECT on a pipe, F_SETFL takes it. */
	fd = fd_reopen((f->flags & O_ACCMODE) == O_RDONLY ? o->fd : o->wr,
		       (f->flags & ~O_DIRECT) | O_NONBLOCK);
	if (fd < 0)
		return log_error_errno(fd, "cannot open a pipe end");
	if ((f->flags & (O_NONBLOCK | O_DIRECT)) != O_NONBLOCK &&
	    fcntl(fd, F_SETFL, f->flags & ~O_ASYNC) < 0) {
		close(fd);
		return log_error_errno(-errno, "cannot set the flags of a pipe end");
	}
	return fd;
}

void pipes_close(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_pipes; i++) {
		if (ctx->pipes[i].wr >= 0 && ctx->pipes[i].wr != ctx->pipes[i].fd)
			close(ctx->pipes[i].wr);
		if (ctx->pipes[i].fd >= 0)
			close(ctx->pipes[i].fd);
	}
	free(ctx->pipes);
	ctx->pipes = NULL;
	ctx->nr_pipes = 0;
}

static bool claims(const struct stat *st, const char *path)
{
	return S_ISFIFO(st->st_mode);
}

static int dump_fd(const struct fd_dump *d, FileEntry *f)
{
	return pipes_dump(d->ctx, d->t->pid, d->fd, d->st, f);
}

static int open_fd(struct restore_ctx *ctx, const FileEntry *f, int flags)
{
	return pipes_open(ctx, f);
}

const struct fd_ops pipes_fd_ops = {
	.name = "pipe",
	.types = FD_TYPE(FILE_TYPE__PIPE) | FD_TYPE(FILE_TYPE__FIFO),
	.claims = claims,
	.dump = dump_fd,
	.dump_finish = pipes_check_outside,
	.validate = pipes_validate,
	.open = open_fd,
	.close = pipes_close,
};
