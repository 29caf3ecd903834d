/* Regular files, directories, character devices and terminals: their open
 * descriptions and the descriptor table, dumped and restored together. */
#define LOG_PREFIX "files: "
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include "core/arena.h"
#include "files/files.h"
#include "files/locks.h"
#include "core/log.h"
#include "files/anonfd.h"
#include "files/memfd.h"
#include "files/pipes.h"
#include "net/sockets.h"
#include "files/tty.h"
#include "core/sys.h"
#include "core/util.h"

#define MAX_UNLINKED_SIZE (64u << 20)

FileEntry *file_table_add(struct file_table *ft)
{
	FileEntry *f = ANEW(FileEntry);

	if (!f)
		return NULL;
	file_entry__init(f);
	f->id = ft->nr + 1;
	return arena_push(&ft->files, &ft->nr, &ft->cap, f) < 0 ? NULL : f;
}

static uint64_t mtime_ns(const struct stat *st)
{
	return st->st_mtim.tv_sec * 1000000000ULL + st->st_mtim.tv_nsec;
}

static void fill_stat(FileEntry *f, const struct stat *st)
{
	f->mode = st->st_mode;
	f->size = st->st_size;
	f->mtime_ns = mtime_ns(st);
	f->rdev = st->st_rdev;
}

/* A memfd a task maps or runs: one entry per memfd. */
static int add_memfd(struct dump_ctx *ctx, pid_t pid, const char *link, const char *path,
		     const struct stat *st, uint32_t *ret_id)
{
	FileEntry *f;

	for (size_t i = 0; i < ctx->files.nr; i++) {
		f = ctx->files.files[i];
		if (f->type == FILE_TYPE__MEMFD && f->flags == (uint32_t)-1 && f->ino == st->st_ino) {
			*ret_id = f->id;
			return 0;
		}
	}
	f = file_table_add(&ctx->files);
	if (!f)
		return -ENOMEM;
	f->flags = (uint32_t)-1;
	fill_stat(f, st);
	*ret_id = f->id;
	return memfd_dump(ctx, pid, link, path, st, f);
}

/* A file a task maps or runs: one entry per file, found by dev and inode. */
static int add_whole_file(struct dump_ctx *ctx, pid_t pid, const char *link, const char *path,
			  uint32_t *ret_id)
{
	struct stat st, now;
	FileEntry *f;
	size_t plen = strlen(path);

	if (stat(link, &st))
		return log_error_errno(-errno, "cannot stat %s", link);
	if (memfd_path(path))
		return add_memfd(ctx, pid, link, path, &st, ret_id);
	if (plen > 10 && !strcmp(path + plen - 10, " (deleted)"))
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d maps or runs %s, which is deleted", pid, path);
	if (stat(path, &now) || now.st_dev != st.st_dev || now.st_ino != st.st_ino)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d maps or runs %s, which is no longer at that path",
				     pid, path);
	for (size_t i = 0; i < ctx->files.nr; i++) {
		f = ctx->files.files[i];
		if (f->type == FILE_TYPE__REG && f->flags == (uint32_t)-1 && f->size == (uint64_t)st.st_size &&
		    f->mtime_ns == mtime_ns(&st) && !strcmp(f->path, path)) {
			*ret_id = f->id;
			return 0;
		}
	}
	f = file_table_add(&ctx->files);
	if (!f)
		return -ENOMEM;
	f->type = FILE_TYPE__REG;
	f->path = arena_strdup(path);
	f->flags = (uint32_t)-1; /* not an open description: a mapped or executed file */
	fill_stat(f, &st);
	*ret_id = f->id;
	return f->path ? 0 : -ENOMEM;
}

/*
 * The content of an unlinked regular file, read through link (an fd or a
 * map_files link of task pid), what names it in refusals. Its dev and ino
 * make its descriptions and mappings one file again at restore.
 */
static int dump_unlinked_data(pid_t pid, const char *link, const char *what,
			      const struct stat *st, FileEntry *f)
{
	_cleanup_close_ int rfd = -1;
	uint8_t *data;
	int r;

	if (f->size > MAX_UNLINKED_SIZE)
		return log_error_ret(-EFBIG, "can't dump: task %d %s is an unlinked file of %llu bytes "
					     "(at most %u supported)",
				     pid, what, (unsigned long long)f->size, MAX_UNLINKED_SIZE);
	rfd = open(link, O_RDONLY | O_CLOEXEC);
	if (rfd < 0)
		return log_error_errno(-errno, "cannot open %s", link);
	data = arena_alloc(f->size ? f->size : 1);
	if (!data)
		return -ENOMEM;
	r = pread_all(rfd, data, f->size, 0);
	if (r < 0)
		return log_error_errno(r, "cannot read unlinked file of task %d %s", pid, what);
	f->has_data = true;
	f->data.data = data;
	f->data.len = f->size;
	f->unlinked = true;
	f->has_ino = f->has_dev = true;
	f->ino = st->st_ino;
	f->dev = st->st_dev;
	return 0;
}

/* A regular file a task maps though its name is gone (a POSIX shm object after shm_unlink). */
static int add_unlinked_mapped(struct dump_ctx *ctx, pid_t pid, const char *link,
			       const char *path, uint32_t *ret_id)
{
	struct stat st;
	FileEntry *f;

	if (stat(link, &st))
		return log_error_errno(-errno, "cannot stat %s", link);
	if (!S_ISREG(st.st_mode))
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d maps %s, which is deleted and not a regular file",
				     pid, path);
	f = file_table_add(&ctx->files);
	if (!f)
		return -ENOMEM;
	f->type = FILE_TYPE__REG;
	f->path = arena_strdup(path);
	if (!f->path)
		return -ENOMEM;
	f->path[strlen(path) - 10] = 0; /* without " (deleted)" */
	f->flags = (uint32_t)-1; /* not an open description: a mapped file */
	fill_stat(f, &st);
	*ret_id = f->id;
	return dump_unlinked_data(pid, link, path, &st, f);
}

int files_dump_mapped(struct dump_ctx *ctx, pid_t pid, const struct proc_vma *v, uint32_t *ret_id)
{
	char link[96];
	struct mapped_file *m;
	size_t plen;
	int r;

	/* A file is mapped many times (libc alone five): seen once, known by dev and inode. */
	for (size_t i = 0; i < ctx->nr_mapped; i++) {
		m = &ctx->mapped[i];
		if (m->ino == v->ino && m->major == v->dev_major && m->minor == v->dev_minor) {
			*ret_id = m->id;
			return 0;
		}
	}
	snprintf(link, sizeof(link), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	plen = strlen(v->path);
	if (plen > 10 && !strcmp(v->path + plen - 10, " (deleted)") && !memfd_path(v->path))
		r = add_unlinked_mapped(ctx, pid, link, v->path, ret_id);
	else
		r = add_whole_file(ctx, pid, link, v->path, ret_id);
	if (r < 0)
		return r;
	m = array_add(&ctx->mapped, ctx->nr_mapped, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ctx->nr_mapped++;
	*m = (struct mapped_file){ v->ino, v->dev_major, v->dev_minor, *ret_id };
	return 0;
}

static int read_link(const char *link, char *buf, size_t len)
{
	ssize_t n = readlink(link, buf, len - 1);

	if (n < 0)
		return log_error_errno(-errno, "cannot read link %s", link);
	if ((size_t)n >= len - 1)
		return log_error_ret(-ENAMETOOLONG, "link %s is too long", link);
	buf[n] = 0;
	return 0;
}

int files_dump_exe(struct dump_ctx *ctx, pid_t pid, uint32_t *ret_id)
{
	char link[64], path[4096];
	int r;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	r = read_link(link, path, sizeof(path));
	if (r < 0)
		return r;
	return add_whole_file(ctx, pid, link, path, ret_id);
}

int files_dump_dir(struct dump_ctx *ctx, pid_t pid, const char *which, uint32_t *ret_id)
{
	char link[64], path[4096];
	FileEntry *f;
	struct stat st;
	int r;

	snprintf(link, sizeof(link), "/proc/%d/%s", pid, which);
	r = read_link(link, path, sizeof(path));
	if (r < 0)
		return r;
	if (stat(link, &st))
		return log_error_errno(-errno, "cannot stat %s", link);
	if (strstr(path, " (deleted)"))
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d has its %s in a deleted directory %s",
				     pid, which, path);
	f = file_table_add(&ctx->files);
	if (!f)
		return -ENOMEM;
	f->type = FILE_TYPE__DIR;
	f->path = arena_strdup(path);
	f->flags = O_RDONLY | O_DIRECTORY;
	fill_stat(f, &st);
	*ret_id = f->id;
	return f->path ? 0 : -ENOMEM;
}

static bool is_tty(const struct stat *st)
{
	unsigned maj = major(st->st_rdev);

	return S_ISCHR(st->st_mode) && (maj == 4 || maj == 5 || (maj >= 136 && maj <= 143));
}

static int read_fdinfo(struct dump_task *t, int fd, uint64_t *ret_pos, uint32_t *ret_flags)
{
	pid_t pid = t->pid;
	char path[64];
	_cleanup_free_ char *buf = NULL;
	char *p;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	r = read_file_at(AT_FDCWD, path, &buf, 1 << 20);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", path);
	p = strstr(buf, "pos:");
	if (!p)
		return log_error_ret(-EINVAL, "no pos in %s", path);
	*ret_pos = strtoull(p + 4, NULL, 10);
	p = strstr(buf, "flags:");
	if (!p)
		return log_error_ret(-EINVAL, "no flags in %s", path);
	*ret_flags = strtoul(p + 6, NULL, 8);
	return locks_dump(t, fd, buf);
}

/* Builds the description behind one fd, refusing kinds we cannot restore. */
/* Fills f's kind and kind-specific state, or refuses it naming the task and fd. */
static int dump_fd_kind(struct dump_ctx *ctx, struct dump_task *t, int fd, const char *link,
			const struct stat *st, FileEntry *f)
{
	size_t l = strlen(f->path);
	char what[32];

	if (tty_is_pty(st))
		return tty_dump(ctx, t, fd, st, f);
	if (is_tty(st)) {
		if (!ctx->opts->shell_job)
			return log_error_ret(-EOPNOTSUPP,
					     "can't dump: task %d fd %d is the terminal %s (use --shell-job)",
					     t->pid, fd, f->path);
		f->type = FILE_TYPE__TTY;
		return 0;
	}
	if (S_ISREG(st->st_mode) && memfd_path(f->path))
		return memfd_dump(ctx, t->pid, link, f->path, st, f);
	if (S_ISREG(st->st_mode)) {
		f->type = FILE_TYPE__REG;
		if (st->st_nlink)
			return 0;
		if (l > 10 && !strcmp(f->path + l - 10, " (deleted)"))
			f->path[l - 10] = 0;
		snprintf(what, sizeof(what), "fd %d", fd);
		return dump_unlinked_data(t->pid, link, what, st, f);
	}
	if (S_ISCHR(st->st_mode) || S_ISDIR(st->st_mode)) {
		f->type = S_ISCHR(st->st_mode) ? FILE_TYPE__CHR : FILE_TYPE__DIR;
		return 0;
	}
	if (S_ISFIFO(st->st_mode))
		return pipes_dump(ctx, t->pid, fd, st, f);
	if (!strncmp(f->path, "anon_inode:", 11))
		return anonfd_dump(ctx, t, fd, f->path, f);
	if (S_ISSOCK(st->st_mode))
		return sockets_dump(ctx, t, fd, st, f);
	return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d is %s (not supported yet)",
			     t->pid, fd, f->path);
}

/*
 * The description an fd shares with one dumped before (dup'ed, or inherited
 * over fork), found by inode first (all anonymous-inode fds share one), then
 * kcmp; before any of its kind's work, which is done once per description.
 */
static FileEntry *shared_description(struct dump_ctx *ctx, struct dump_task *t, int fd,
				     const struct stat *st)
{
	for (size_t i = 0; i < ctx->nr_descs; i++) {
		const struct open_desc *d = &ctx->descs[i];

		if (d->ino == st->st_ino && d->dev == st->st_dev &&
		    sys_kcmp(d->pid, t->pid, KCMP_FILE, d->fd, fd) == 0)
			return d->f;
	}
	return NULL;
}

int files_holder(struct dump_ctx *ctx, uint32_t id, pid_t *ret_pid)
{
	for (size_t i = 0; i < ctx->nr_descs; i++)
		if (ctx->descs[i].f->id == id) {
			*ret_pid = ctx->descs[i].pid;
			return ctx->descs[i].fd;
		}
	return -ENOENT;
}

static int add_description(struct dump_ctx *ctx, struct dump_task *t, int fd,
			   const struct stat *st, FileEntry *f)
{
	FileEntry *slot = file_table_add(&ctx->files);
	struct open_desc *d;

	if (!slot)
		return -ENOMEM;
	f->id = slot->id;
	ctx->files.files[f->id - 1] = f;
	d = array_add(&ctx->descs, ctx->nr_descs, sizeof(*d));
	if (!d)
		return -ENOMEM;
	ctx->nr_descs++;
	*d = (struct open_desc){ st->st_dev, st->st_ino, t->pid, fd, f };
	return 0;
}

/* Builds the description behind one fd. */
static int dump_one_fd(struct dump_ctx *ctx, struct dump_task *t, int fd, FdEntry *e,
		       FileEntry **ret)
{
	char link[64], path[4096];
	struct stat st;
	FileEntry *f;
	uint32_t flags;
	uint64_t pos;
	int r;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", t->pid, fd);
	r = read_link(link, path, sizeof(path));
	if (r < 0)
		return r;
	if (stat(link, &st))
		return log_error_errno(-errno, "cannot stat %s", link);
	r = read_fdinfo(t, fd, &pos, &flags);
	if (r < 0)
		return r;
	e->fd = fd;
	e->cloexec = !!(flags & O_CLOEXEC);
	if ((*ret = shared_description(ctx, t, fd, &st)))
		return 0;
	f = ANEW(FileEntry);
	if (!f)
		return -ENOMEM;
	file_entry__init(f);
	fill_stat(f, &st);
	f->flags = flags & ~O_CLOEXEC;
	f->pos = pos;
	f->path = arena_strdup(path);
	if (!f->path)
		return -ENOMEM;
	r = dump_fd_kind(ctx, t, fd, link, &st, f);
	if (r < 0 || (r = add_description(ctx, t, fd, &st, f)) < 0)
		return r;
	*ret = f;
	return 0;
}

static int fd_compare(const void *a, const void *b)
{
	return (*(FdEntry *const *)a)->fd - (*(FdEntry *const *)b)->fd;
}

int files_dump_fds(struct dump_ctx *ctx, struct dump_task *t)
{
	char path[64];
	_cleanup_closedir_ DIR *d = NULL;
	FdinfoEntry *fi = ANEW(FdinfoEntry);
	size_t cap = 64;
	struct dirent *de;

	if (!fi)
		return -ENOMEM;
	fdinfo_entry__init(fi);
	t->fdinfo = fi;
	fi->fds = ANEW_ARRAY(FdEntry *, cap);
	snprintf(path, sizeof(path), "/proc/%d/fd", t->pid);
	d = opendir(path);
	if (!d)
		return log_error_errno(-errno, "cannot open %s", path);
	while ((de = readdir(d))) {
		FileEntry *f;
		FdEntry *e;
		int fd, r;

		if (de->d_name[0] == '.' || parse_int(de->d_name, &fd) < 0)
			continue;
		if (fi->n_fds == cap) {
			FdEntry **n = ANEW_ARRAY(FdEntry *, cap * 2);
			if (!n)
				return -ENOMEM;
			memcpy(n, fi->fds, cap * sizeof(*n));
			fi->fds = n;
			cap *= 2;
		}
		e = ANEW(FdEntry);
		if (!e || !fi->fds)
			return -ENOMEM;
		fd_entry__init(e);
		r = dump_one_fd(ctx, t, fd, e, &f);
		if (r < 0)
			return r;
		e->file_id = f->id;
		fi->fds[fi->n_fds++] = e;
	}
	qsort(fi->fds, fi->n_fds, sizeof(*fi->fds), fd_compare);
	return 0;
}

/* ---- restore ---- */

const FileEntry *restore_file(const struct restore_ctx *ctx, uint32_t id)
{
	if (id == 0 || id > ctx->nr_files)
		return NULL;
	return ctx->files[id - 1];
}

static int check_unchanged(const FileEntry *f, const struct stat *st)
{
	if ((uint64_t)st->st_size != f->size || mtime_ns(st) != f->mtime_ns)
		return log_error_ret(-ESTALE, "can't restore: %s changed since the dump "
					      "(size %llu, was %llu; mtime differs: %s)",
				     f->path, (unsigned long long)st->st_size,
				     (unsigned long long)f->size,
				     mtime_ns(st) != f->mtime_ns ? "yes" : "no");
	return 0;
}

/* An entry on its own; its kind's message, which other entries' checks read, is there. */
static bool entry_shape_ok(const FileEntry *f, size_t i)
{
	return f->id == i + 1 && f->path[0] && f->type >= FILE_TYPE__REG &&
	       f->type <= FILE_TYPE__PTY && (f->path[0] == '/' || f->type > FILE_TYPE__TTY) &&
	       (!f->unlinked || (f->has_data && f->data.len == f->size && f->type == FILE_TYPE__REG)) &&
	       (f->type != FILE_TYPE__PTY || f->pty) && (f->type != FILE_TYPE__SOCKET || f->sock) &&
	       (f->type != FILE_TYPE__ANON || f->anon);
}

static int validate_kind(struct restore_ctx *ctx, const FileEntry *f)
{
	switch (f->type) {
	case FILE_TYPE__PIPE:
	case FILE_TYPE__FIFO:
		return pipes_validate(ctx, f);
	case FILE_TYPE__ANON:
		return anonfd_validate(ctx, f);
	case FILE_TYPE__MEMFD:
		return memfd_validate(ctx, f);
	case FILE_TYPE__PTY:
		return tty_validate(ctx, f);
	case FILE_TYPE__SOCKET:
		return sockets_validate(ctx, f);
	default:
		return 0;
	}
}

/* Every entry's shape first: the kinds' checks look across entries. */
int files_validate(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		if (!entry_shape_ok(ctx->files[i], i))
			return log_error_ret(-EINVAL, "image files.img is corrupted: bad entry %zu", i);
	for (size_t i = 0; i < ctx->nr_files; i++) {
		const FileEntry *f = ctx->files[i];
		struct stat st;

		if (validate_kind(ctx, f) < 0)
			return -EINVAL;
		if (f->type != FILE_TYPE__REG || f->flags != (uint32_t)-1 || f->unlinked ||
		    ctx->images_only)
			continue;
		if (stat(f->path, &st))
			return log_error_errno(-errno, "can't restore: cannot find %s", f->path);
		if (check_unchanged(f, &st) < 0)
			return -ESTALE;
	}
	return 0;
}

/*
 * Brings an unlinked file back under its old name, so /proc shows
 * "path (deleted)" again: made beside it, swapped in with RENAME_EXCHANGE
 * when another file took the name since, unlinked, and swapped back.
 */
static int open_unlinked(const FileEntry *f, int flags)
{
	char tmp[4200];
	bool taken;
	int fd, r;

	snprintf(tmp, sizeof(tmp), "%s.nestor-%u-%d", f->path, f->id, getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, f->mode & 07777);
	if (fd < 0)
		return log_error_errno(-errno, "cannot recreate unlinked file %s", f->path);
	r = write_all(fd, f->data.data, f->data.len);
	close(fd);
	fd = r < 0 ? r : open(tmp, flags | O_CLOEXEC);
	if (fd < 0) {
		unlink(tmp);
		return log_error_errno(fd == r ? r : -errno, "cannot recreate unlinked file %s", f->path);
	}
	taken = !access(f->path, F_OK);
	if (taken ? renameat2(AT_FDCWD, tmp, AT_FDCWD, f->path, RENAME_EXCHANGE)
		  : rename(tmp, f->path)) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return log_error_errno(r, "cannot put unlinked file %s back", f->path);
	}
	unlink(f->path);
	if (taken && rename(tmp, f->path)) {
		r = -errno;
		close(fd);
		return log_error_errno(r, "cannot put %s back after restoring an unlinked file",
				       f->path);
	}
	return fd;
}

struct unlinked_obj {
	uint64_t dev, ino;
	int fd;
};

/*
 * An unlinked file is made once (kept open read-write by nestor) and every
 * description or mapping of it reopens that one, so all share its inode
 * (its pages, for a POSIX shm object mapped by several tasks).
 */
static int unlinked_open(struct restore_ctx *ctx, const FileEntry *f, int flags)
{
	struct unlinked_obj *o = NULL;
	int fd;

	if (!f->has_ino || !f->has_dev)
		return open_unlinked(f, OPEN_FLAGS_RESTORE(flags)); /* an older image */
	for (size_t i = 0; i < ctx->nr_unlinked; i++)
		if (ctx->unlinked[i].dev == f->dev && ctx->unlinked[i].ino == f->ino)
			o = &ctx->unlinked[i];
	if (!o) {
		fd = fd_move_above(open_unlinked(f, O_RDWR), ctx->fd_base + 1);
		if (fd < 0)
			return fd;
		o = array_add(&ctx->unlinked, ctx->nr_unlinked, sizeof(*o));
		if (!o) {
			close(fd);
			return -ENOMEM;
		}
		*o = (struct unlinked_obj){ f->dev, f->ino, fd };
		ctx->nr_unlinked++;
	}
	/* shm_open's O_NOFOLLOW mattered only for the lookup: /proc's link must be followed. */
	fd = fd_reopen(o->fd, flags & ~O_NOFOLLOW);
	if (fd < 0)
		return log_error_errno(fd, "cannot reopen unlinked file %s", f->path);
	return fd;
}

int files_open_mapped(struct restore_ctx *ctx, uint32_t id, int mode)
{
	const FileEntry *f = restore_file(ctx, id);
	struct stat st;
	int fd;

	if (!f)
		return log_error_ret(-EINVAL, "no file %u in the images", id);
	if (f->type == FILE_TYPE__MEMFD)
		return memfd_open(ctx, f, mode);
	if (f->unlinked)
		return unlinked_open(ctx, f, mode);
	fd = open(f->path, mode | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s", f->path);
	if (fstat(fd, &st) || check_unchanged(f, &st) < 0) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int files_mapped_fd(struct restore_ctx *ctx, uint32_t id, int mode)
{
	int *slot, fd;

	if (!ctx->mapped_fds || id == 0 || id > ctx->nr_files)
		return log_error_ret(-EINVAL, "no file %u in the images", id);
	slot = &ctx->mapped_fds[id][mode == O_RDWR];
	if (*slot >= 0)
		return *slot;
	fd = fd_move_above(files_open_mapped(ctx, id, mode), ctx->fd_base + 1);
	if (fd < 0)
		return fd;
	return *slot = fd;
}

/* Files the tasks map or run, opened (and checked) once, before the tree. */
static int open_mapped_files(struct restore_ctx *ctx)
{
	ctx->mapped_fds = malloc((ctx->nr_files + 1) * sizeof(*ctx->mapped_fds));
	if (!ctx->mapped_fds)
		return -ENOMEM;
	for (size_t i = 0; i <= ctx->nr_files; i++)
		ctx->mapped_fds[i][0] = ctx->mapped_fds[i][1] = -1;
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		const MmEntry *mm = ctx->tasks[k].mm;
		int r;

		for (size_t i = 0; mm && i < mm->n_vmas; i++) {
			const VmaEntry *v = mm->vmas[i];

			if (v->kind != VMA_FILE_PRIVATE && v->kind != VMA_FILE_SHARED)
				continue;
			r = files_mapped_fd(ctx, v->file_id, files_map_mode(v));
			if (r < 0)
				return r;
		}
		if (mm && (r = files_mapped_fd(ctx, mm->exe_file_id, O_RDONLY)) < 0)
			return r;
	}
	return 0;
}

int files_map_mode(const VmaEntry *v)
{
	return v->kind == VMA_FILE_SHARED && (v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
}

int files_max_fd(const struct restore_task *t)
{
	int max = -1;

	for (size_t i = 0; i < t->fdinfo->n_fds; i++)
		max = MAX(max, (int)t->fdinfo->fds[i]->fd);
	return max;
}

static int open_description(struct restore_ctx *ctx, const FileEntry *f, int term_fd)
{
	int flags = OPEN_FLAGS_RESTORE(f->flags) | O_NOCTTY;
	struct stat st;
	int fd;

	switch (f->type) {
	case FILE_TYPE__TTY:
		if (term_fd < 0)
			return log_error_ret(-ENOTTY, "can't restore: the task had the terminal %s "
						      "and nestor has none (restore with --shell-job "
						      "from a terminal)", f->path);
		fd = fcntl(term_fd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? log_error_errno(-errno, "cannot dup the terminal") : fd;
	case FILE_TYPE__REG:
		if (f->unlinked)
			fd = unlinked_open(ctx, f, flags);
		else
			fd = open(f->path, flags);
		break;
	case FILE_TYPE__PIPE:
	case FILE_TYPE__FIFO:
		return pipes_open(ctx, f);
	case FILE_TYPE__ANON:
		return anonfd_open(ctx, f);
	case FILE_TYPE__PTY:
		return tty_open(ctx, f, flags);
	case FILE_TYPE__MEMFD:
		fd = memfd_open(ctx, f, flags);
		if (fd >= 0 && lseek(fd, f->pos, SEEK_SET) < 0) {
			close(fd);
			return log_error_errno(-errno, "cannot seek %s", f->path);
		}
		return fd;
	case FILE_TYPE__SOCKET:
		return sockets_open(ctx, f);
	default:
		fd = open(f->path, flags);
		break;
	}
	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s", f->path);
	if (fstat(fd, &st) || (f->type == FILE_TYPE__CHR && st.st_rdev != f->rdev)) {
		close(fd);
		return log_error_ret(-ESTALE, "can't restore: %s is not the device it was", f->path);
	}
	/* A directory's position is a cookie of its file system: lseek takes it back. */
	if ((f->type == FILE_TYPE__REG || f->type == FILE_TYPE__DIR) && !(f->flags & O_PATH) &&
	    lseek(fd, f->pos, SEEK_SET) < 0) {
		close(fd);
		return log_error_errno(-errno, "cannot seek %s", f->path);
	}
	return fd;
}

/*
 * Every description is opened once, by nestor, before the tree is made:
 * the tasks inherit them all (at fd_base and above) and each dups its own
 * into place. Descriptions shared between tasks (inherited over fork) and
 * dup'ed in one task come back shared for free.
 */
int files_open_table(struct restore_ctx *ctx, int term_fd)
{
	ctx->file_fds = malloc((ctx->nr_files + 1) * sizeof(int));
	if (!ctx->file_fds)
		return -ENOMEM;
	for (size_t i = 0; i <= ctx->nr_files; i++)
		ctx->file_fds[i] = -1;
	if (open_mapped_files(ctx) < 0)
		return -ESTALE;
	/* Every memfd exists before the tree, so that the tasks' mappings share it. */
	for (size_t i = 0; i < ctx->nr_files; i++) {
		if (ctx->files[i]->type != FILE_TYPE__MEMFD || !ctx->files[i]->has_data)
			continue;
		int fd = memfd_open(ctx, ctx->files[i], O_RDONLY);
		if (fd < 0)
			return fd;
		close(fd);
	}
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		const FdinfoEntry *fi = ctx->tasks[k].fdinfo;

		for (size_t i = 0; fi && i < fi->n_fds; i++) {
			uint32_t id = fi->fds[i]->file_id;
			int fd;

			if (ctx->file_fds[id] >= 0)
				continue;
			fd = fd_move_above(open_description(ctx, ctx->files[id - 1], term_fd),
					   ctx->fd_base + 1);
			if (fd < 0)
				return fd;
			ctx->file_fds[id] = fd;
		}
	}
	return 0;
}

void files_close_table(struct restore_ctx *ctx)
{
	for (size_t i = 0; ctx->mapped_fds && i <= ctx->nr_files; i++)
		for (int m = 0; m < 2; m++)
			if (ctx->mapped_fds[i][m] >= 0)
				close(ctx->mapped_fds[i][m]);
	free(ctx->mapped_fds);
	ctx->mapped_fds = NULL;
	for (size_t i = 0; i < ctx->nr_unlinked; i++)
		close(ctx->unlinked[i].fd);
	free(ctx->unlinked);
	ctx->unlinked = NULL;
	ctx->nr_unlinked = 0;
	pipes_close(ctx);
	memfd_close(ctx);
	tty_close(ctx);
	for (size_t i = 0; ctx->file_fds && i <= ctx->nr_files; i++)
		if (ctx->file_fds[i] >= 0)
			close(ctx->file_fds[i]);
	free(ctx->file_fds);
	ctx->file_fds = NULL;
}

int files_restore_fds(struct restore_ctx *ctx, struct restore_task *t)
{
	FdinfoEntry *fi = t->fdinfo;

	for (size_t i = 0; i < fi->n_fds; i++) {
		const FdEntry *e = fi->fds[i];

		if (dup3(ctx->file_fds[e->file_id], e->fd, e->cloexec ? O_CLOEXEC : 0) < 0)
			return log_error_errno(-errno, "cannot install fd %u of task %d", e->fd,
					       t->pid);
	}
	return 0;
}

int files_restore_dirs(struct restore_ctx *ctx, struct restore_task *t)
{
	const FileEntry *root = restore_file(ctx, t->core->root_id);
	const FileEntry *cwd = restore_file(ctx, t->core->cwd_id);

	if (!root || !cwd || root->type != FILE_TYPE__DIR || cwd->type != FILE_TYPE__DIR)
		return log_error_ret(-EINVAL, "image core-%d.img is corrupted: bad cwd or root", t->pid);
	/* Both paths are as nestor sees them, so cwd first: chroot leaves it be. */
	if (chdir(cwd->path))
		return log_error_errno(-errno, "cannot change directory to %s", cwd->path);
	if (strcmp(root->path, "/") && chroot(root->path))
		return log_error_errno(-errno, "cannot change root to %s", root->path);
	return 0;
}
