/*
 * memfd objects. A memfd shows as "/memfd:NAME (deleted)" in fd links and
 * maps; it is known by its inode. Dump: its content is read once (through
 * the /proc link that opens it; data extents only, content.c), with its
 * seals, mode and owner. Restore: nestor makes each
 * memfd once, before the tree, and every description or mapping of it is a
 * fresh open of /proc/self/fd/N, so that all still share its pages.
 */
#define LOG_PREFIX "memfd: "
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include "core/arena.h"
#include "core/log.h"
#include "files/content.h"
#include "files/fd-ops.h"
#include "files/memfd.h"
#include "core/util.h"

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#define SEALS_OK                                                                                   \
	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)

bool memfd_path(const char *path)
{
	return !strncmp(path, "/memfd:", 7);
}

static FileEntry *content_of(struct dump_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->files.nr; i++)
		if (ctx->files.files[i]->type == FILE_TYPE__MEMFD && ctx->files.files[i]->ino == ino &&
		    ctx->files.files[i]->has_data)
			return ctx->files.files[i];
	return NULL;
}

static int read_content(pid_t pid, const char *link, const struct stat *st, FileEntry *f)
{
	_cleanup_close_ int fd = open(link, O_RDONLY | O_CLOEXEC);
	int seals, r;

	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s", link);
	if ((r = content_dump(fd, st, pid, f->path, f)) < 0)
		return r;
	seals = fcntl(fd, F_GET_SEALS);
	f->has_seals = true;
	f->seals = seals < 0 ? F_SEAL_SEAL : seals; /* EINVAL: made without MFD_ALLOW_SEALING */
	return 0;
}

int memfd_dump(struct dump_ctx *ctx, pid_t pid, const char *link, const char *path,
	       const struct stat *st, FileEntry *f)
{
	size_t len = strlen(path);

	f->type = FILE_TYPE__MEMFD;
	f->path = arena_strdup(path);
	if (!f->path)
		return -ENOMEM;
	if (len > 10 && !strcmp(f->path + len - 10, " (deleted)"))
		f->path[len - 10] = 0;
	f->has_ino = true;
	f->ino = st->st_ino;
	f->size = st->st_size;
	if (content_of(ctx, st->st_ino))
		return 0;
	return read_content(pid, link, st, f);
}

/* ---- restore ---- */

struct memfd_obj {
	uint64_t ino;
	int fd;
	bool given; /* a description of a task is the memfd_create() one */
};

int memfd_validate(struct restore_ctx *ctx, const FileEntry *f)
{
	bool found = false;

	for (size_t i = 0; i < ctx->nr_files; i++)
		found |= ctx->files[i]->type == FILE_TYPE__MEMFD && ctx->files[i]->has_ino &&
			 f->has_ino && ctx->files[i]->ino == f->ino && ctx->files[i]->has_data;
	if (!found || !f->has_ino || !memfd_path(f->path) || strlen(f->path) > 7 + 249 ||
	    (f->has_data && (content_validate(f) < 0 || !f->has_seals || f->seals & ~SEALS_OK)))
		return log_error_ret(-EINVAL, "image files.img is corrupted: bad memfd %u", f->id);
	return 0;
}

static const FileEntry *content_entry(struct restore_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		if (ctx->files[i]->type == FILE_TYPE__MEMFD && ctx->files[i]->ino == ino &&
		    ctx->files[i]->has_data)
			return ctx->files[i];
	return NULL;
}

static int make_memfd(struct restore_ctx *ctx, uint64_t ino)
{
	const FileEntry *c = content_entry(ctx, ino);
	bool sealable = c->seals != F_SEAL_SEAL; /* only that: made without MFD_ALLOW_SEALING */
	int fd, r;

	fd = memfd_create(c->path + 7, MFD_CLOEXEC | (sealable ? MFD_ALLOW_SEALING : 0));
	if (fd < 0)
		return log_error_errno(-errno, "cannot create memfd %s", c->path);
	r = content_restore(fd, c);
	if (r == 0 && fchmod(fd, c->mode & 07777))
		r = -errno;
	if (r == 0 && sealable && c->seals && fcntl(fd, F_ADD_SEALS, c->seals))
		r = -errno;
	if (r < 0) {
		close(fd);
		return log_error_errno(r, "cannot refill memfd %s", c->path);
	}
	return fd_move_above(fd, ctx->fd_base + 1);
}

/*
 * The description memfd_create() made does not count as a writer of the
 * inode, a reopen for writing does, and exec refuses a file with writers
 * (ETXTBSY). So writable mappings and the first read-write description
 * are that description itself, shared with nestor until it lets go.
 */
static int original_fd(struct memfd_obj *o, const FileEntry *f, int flags)
{
	bool mapped = f->flags == (uint32_t)-1;
	int fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return log_error_errno(-errno, "cannot dup memfd %s", f->path);
	if (!mapped && fcntl(fd, F_SETFL, flags)) {
		close(fd);
		return log_error_errno(-errno, "cannot set the flags of memfd %s", f->path);
	}
	o->given |= !mapped;
	return fd;
}

int memfd_open(struct restore_ctx *ctx, const FileEntry *f, int flags)
{
	struct memfd_obj *o = NULL;
	int fd;

	for (size_t i = 0; i < ctx->nr_memfds; i++)
		if (ctx->memfds[i].ino == f->ino)
			o = &ctx->memfds[i];
	if (!o) {
		o = array_add(&ctx->memfds, ctx->nr_memfds, sizeof(*o));
		if (!o)
			return -ENOMEM;
		o->ino = f->ino;
		o->fd = make_memfd(ctx, f->ino);
		if (o->fd < 0)
			return o->fd;
		ctx->nr_memfds++;
	}
	if ((flags & O_ACCMODE) == O_RDWR && (f->flags == (uint32_t)-1 || !o->given))
		return original_fd(o, f, flags);
	fd = fd_reopen(o->fd, flags);
	if (fd < 0)
		return log_error_errno(fd, "cannot open memfd %s", f->path);
	return fd;
}

void memfd_close(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_memfds; i++)
		close(ctx->memfds[i].fd);
	free(ctx->memfds);
	ctx->memfds = NULL;
	ctx->nr_memfds = 0;
}

static bool claims(const struct stat *st, const char *path)
{
	return S_ISREG(st->st_mode) && memfd_path(path);
}

static int dump_fd(const struct fd_dump *d, FileEntry *f)
{
	return memfd_dump(d->ctx, d->t->pid, d->link, f->path, d->st, f);
}

/* A memfd a task maps or runs: one entry per memfd. */
static int dump_mapped(struct dump_ctx *ctx, const struct fd_mapped *m, uint32_t *ret_id)
{
	FileEntry *f;

	for (size_t i = 0; i < ctx->files.nr; i++) {
		f = ctx->files.files[i];
		if (f->type == FILE_TYPE__MEMFD && f->flags == (uint32_t)-1 && f->ino == m->st->st_ino) {
			*ret_id = f->id;
			return 0;
		}
	}
	f = file_table_add(&ctx->files);
	if (!f)
		return -ENOMEM;
	f->flags = (uint32_t)-1;
	files_fill_stat(f, m->st);
	*ret_id = f->id;
	return memfd_dump(ctx, m->pid, m->link, m->path, m->st, f);
}

/* Every memfd exists before the tree, so that the tasks' mappings share it. */
static int prepare(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_files; i++) {
		if (ctx->files[i]->type != FILE_TYPE__MEMFD || !ctx->files[i]->has_data)
			continue;
		int fd = memfd_open(ctx, ctx->files[i], O_RDONLY);
		if (fd < 0)
			return fd;
		close(fd);
	}
	return 0;
}

static int open_fd(struct restore_ctx *ctx, const FileEntry *f, int flags)
{
	int fd = memfd_open(ctx, f, flags);

	if (fd >= 0 && f->flags != (uint32_t)-1 && lseek(fd, f->pos, SEEK_SET) < 0) {
		close(fd);
		return log_error_errno(-errno, "cannot seek %s", f->path);
	}
	return fd;
}

const struct fd_ops memfd_fd_ops = {
	.name = "memfd",
	.types = FD_TYPE(FILE_TYPE__MEMFD),
	.claims = claims,
	.dump = dump_fd,
	.dump_mapped = dump_mapped,
	.validate = memfd_validate,
	.prepare = prepare,
	.open = open_fd,
	.close = memfd_close,
};
