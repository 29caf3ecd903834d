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
#include <string.h>
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

/* Copies the unread data without taking it from the pipe. */
static int peek_data(pid_t pid, int fd, FileEntry *f)
{
	char link[64];
	_cleanup_close_ int rfd = -1;
	int tmp[2], size;
	ssize_t n;
	uint8_t *buf;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, fd);
	rfd = open(link, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rfd < 0)
		return log_error_errno(-errno, "cannot open %s", link);
	size = fcntl(rfd, F_GETPIPE_SZ);
	if (size < 0 || size > PIPE_MAX)
		return log_error_ret(-EINVAL, "can't dump: task %d fd %d is a pipe of %d bytes", pid,
				     fd, size);
	f->has_pipe_size = true;
	f->pipe_size = size;
	if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	fcntl(tmp[1], F_SETPIPE_SZ, size);
	n = tee(rfd, tmp[1], size, SPLICE_F_NONBLOCK);
	if (n < 0 && errno == EAGAIN)
		n = 0;
	buf = arena_alloc(n > 0 ? n : 1);
	if (n < 0 || !buf || (n > 0 && read(tmp[0], buf, n) != n)) {
		int r = n < 0 ? -errno : -EIO;
		close(tmp[0]);
		close(tmp[1]);
		return log_error_errno(r, "cannot copy the data of task %d fd %d", pid, fd);
	}
	close(tmp[0]);
	close(tmp[1]);
	f->has_pipe_data = true;
	f->pipe_data.data = buf;
	f->pipe_data.len = n;
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
};

int pipes_validate(struct restore_ctx *ctx, const FileEntry *f)
{
	if (!f->has_pipe_ino || (f->has_pipe_data && (!f->has_pipe_size ||
						       f->pipe_data.len > f->pipe_size ||
						       f->pipe_size > PIPE_MAX)))
		return log_error_ret(-EINVAL, "image files.img is corrupted: bad pipe %u", f->id);
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
	if (d && fcntl(o->wr, F_SETPIPE_SZ, d->pipe_size) < 0)
		return log_error_errno(-errno, "cannot size pipe %llu to %u",
				       (unsigned long long)f->pipe_ino, d->pipe_size);
	if (d && d->pipe_data.len && write_all(o->wr, d->pipe_data.data, d->pipe_data.len) < 0)
		return log_error_errno(-errno, "cannot refill pipe %llu",
				       (unsigned long long)f->pipe_ino);
	return 0;
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
		r = make_pipe(ctx, f, o);
		if (r < 0)
			return r;
	}
	/* A new description of the same pipe, with the saved flags. */
	fd = fd_reopen((f->flags & O_ACCMODE) == O_RDONLY ? o->fd : o->wr, f->flags | O_NONBLOCK);
	if (fd < 0)
		return log_error_errno(fd, "cannot open a pipe end");
	if (!(f->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, f->flags & ~O_NONBLOCK) < 0) {
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
