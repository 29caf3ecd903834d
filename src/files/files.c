/*
 * The descriptor tables and the dispatcher of open file descriptions: which
 * description each fd of a task holds, shared descriptions found once, the
 * files tasks map or run; each description's own work is its kind's, reached
 * through fd_kinds[] (fd-ops.h).
 */
#define LOG_PREFIX "files: "
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "files/content.h"
#include "files/fown.h"
#include "files/fd-ops.h"
#include "files/files.h"
#include "files/locks.h"

static const struct fd_ops *kind_of_type(uint32_t type)
{
	for (size_t i = 0; i < nr_fd_kinds; i++)
		if (type < 32 && (fd_kinds[i]->types & FD_TYPE(type)))
			return fd_kinds[i];
	return NULL;
}

static bool is_late(const FileEntry *f)
{
	const struct fd_ops *o = kind_of_type(f->type);

	return o->late && o->late(f);
}

static const struct fd_ops *kind_claiming(const struct stat *st, const char *path, bool mapped)
{
	for (size_t i = 0; i < nr_fd_kinds; i++) {
		const struct fd_ops *o = fd_kinds[i];

		if (mapped && !o->dump_mapped)
			continue;
		if (mapped && o->claims_mapped ? o->claims_mapped(st, path) : o->claims(st, path))
			return o;
	}
	return NULL;
}

/* A file a task maps or runs, through link (map_files or exe) to path. */
static int dump_mapped(struct dump_ctx *ctx, pid_t pid, const char *link, const char *path,
		       bool exe, uint32_t *ret_id)
{
	const struct fd_ops *o;
	struct stat st;

	if (stat(link, &st))
		return log_error_errno(-errno, "cannot stat %s", link);
	o = kind_claiming(&st, path, true);
	if (!o)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d maps or runs %s (not supported)",
				     pid, path);
	return o->dump_mapped(ctx, &(struct fd_mapped){ pid, link, path, &st, exe }, ret_id);
}

int files_dump_mapped(struct dump_ctx *ctx, pid_t pid, const struct proc_vma *v, uint32_t *ret_id)
{
	char link[96];
	struct mapped_file *m;
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
	r = dump_mapped(ctx, pid, link, v->path, false, ret_id);
	if (r < 0)
		return r;
	m = array_add(&ctx->mapped, ctx->nr_mapped, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ctx->nr_mapped++;
	*m = (struct mapped_file){ v->ino, v->dev_major, v->dev_minor, *ret_id };
	return 0;
}

int files_dump_exe(struct dump_ctx *ctx, pid_t pid, uint32_t *ret_id)
{
	char link[64], path[4096];
	int r;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	r = files_read_link(link, path, sizeof(path));
	if (r < 0)
		return r;
	return dump_mapped(ctx, pid, link, path, true, ret_id);
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

/* Fills f's kind and kind-specific state, or refuses it naming the task and fd. */
static int dump_fd_kind(struct dump_ctx *ctx, struct dump_task *t, int fd, const char *link,
			const struct stat *st, FileEntry *f)
{
	const struct fd_ops *o = kind_claiming(st, f->path, false);

	if (!o)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d is %s (not supported yet)",
				     t->pid, fd, f->path);
	return o->dump(&(struct fd_dump){ ctx, t, fd, link, st }, f);
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
	r = files_read_link(link, path, sizeof(path));
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
	files_fill_stat(f, &st);
	f->flags = flags & ~O_CLOEXEC;
	f->pos = pos;
	f->path = arena_strdup(path);
	if (!f->path)
		return -ENOMEM;
	r = fown_dump(ctx, t, fd, f);
	if (r == 0)
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

int files_dump_finish(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < nr_fd_kinds; i++) {
		int r = fd_kinds[i]->dump_finish ? fd_kinds[i]->dump_finish(ctx) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

long files_dump_commit_size(struct dump_ctx *ctx)
{
	long total = 0;

	for (size_t i = 0; i < nr_fd_kinds; i++) {
		long n = fd_kinds[i]->dump_commit_size ? fd_kinds[i]->dump_commit_size(ctx) : 0;

		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

int files_dump_commit(struct dump_ctx *ctx, struct img *img)
{
	for (size_t i = 0; i < nr_fd_kinds; i++) {
		int r = fd_kinds[i]->dump_commit ? fd_kinds[i]->dump_commit(ctx, img) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- restore ---- */

/* An entry on its own; its kind's message, which other entries' checks read, is there. */
static bool entry_shape_ok(const FileEntry *f, size_t i)
{
	return f->id == i + 1 && f->path[0] && f->type >= FILE_TYPE__REG &&
	       f->type <= FILE_TYPE__MQUEUE && (f->path[0] == '/' || f->type > FILE_TYPE__TTY) &&
	       (!f->unlinked || (content_validate(f) == 0 && f->type == FILE_TYPE__REG) ||
		((f->type == FILE_TYPE__DIR || f->type == FILE_TYPE__CHR) && f->has_ino &&
		 f->has_dev) ||
		f->type == FILE_TYPE__FIFO) &&
	       (f->type != FILE_TYPE__PTY || f->pty) && (f->type != FILE_TYPE__SOCKET || f->sock) &&
	       (f->type != FILE_TYPE__ANON || f->anon) && kind_of_type(f->type);
}

/* Every entry's shape first: the kinds' checks look across entries. */
int files_validate(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		if (!entry_shape_ok(ctx->files[i], i))
			return log_error_ret(-EINVAL, "image files.img is corrupted: bad entry %zu", i);
	for (size_t i = 0; i < ctx->nr_files; i++) {
		const FileEntry *f = ctx->files[i];
		const struct fd_ops *o = kind_of_type(f->type);
		int r = o->validate ? o->validate(ctx, f) : 0;

		if (r == 0)
			r = fown_validate(f);
		if (r < 0)
			return r;
	}
	return 0;
}

int files_open_mapped(struct restore_ctx *ctx, uint32_t id, int mode)
{
	const FileEntry *f = restore_file(ctx, id);

	if (!f || f->flags != (uint32_t)-1)
		return log_error_ret(-EINVAL, "no mapped file %u in the images", id);
	return kind_of_type(f->type)->open(ctx, f, mode);
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

/* A shared mapping may be made writable later (VM_MAYWRITE, "mw") only if its file was open for writing. */
int files_map_mode(const VmaEntry *v)
{
	return v->kind == VMA_FILE_SHARED && (v->prot & PROT_WRITE || v->madv & VMF_MW) ? O_RDWR
										       : O_RDONLY;
}

int files_max_fd(const struct restore_task *t)
{
	int max = -1;

	for (size_t i = 0; i < t->fdinfo->n_fds; i++)
		max = MAX(max, (int)t->fdinfo->fds[i]->fd);
	return max;
}

static int prepare_kinds(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < nr_fd_kinds; i++) {
		int r = fd_kinds[i]->prepare ? fd_kinds[i]->prepare(ctx) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Every description is opened once, by nestor, before the tree is made:
 * the tasks inherit them all (at fd_base and above) and each dups its own
 * into place. Descriptions shared between tasks (inherited over fork) and
 * dup'ed in one task come back shared for free.
 */
int files_open_table(struct restore_ctx *ctx, int term_fd)
{
	int r;

	ctx->term_fd = term_fd;
	ctx->file_fds = malloc((ctx->nr_files + 1) * sizeof(int));
	if (!ctx->file_fds)
		return -ENOMEM;
	for (size_t i = 0; i <= ctx->nr_files; i++)
		ctx->file_fds[i] = -1;
	if ((r = open_mapped_files(ctx)) < 0 || (r = prepare_kinds(ctx)) < 0)
		return r;
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		const FdinfoEntry *fi = ctx->tasks[k].fdinfo;

		for (size_t i = 0; fi && i < fi->n_fds; i++) {
			uint32_t id = fi->fds[i]->file_id;
			const FileEntry *f = ctx->files[id - 1];
			int fd;

			if (ctx->file_fds[id] >= 0 || is_late(f))
				continue;
			fd = kind_of_type(f->type)->open(ctx, f,
							 OPEN_FLAGS_RESTORE(f->flags) | O_NOCTTY);
			fd = fd_move_above(fd, ctx->fd_base + 1);
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
	for (size_t i = 0; i < nr_fd_kinds; i++)
		if (fd_kinds[i]->close)
			fd_kinds[i]->close(ctx);
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

		if (is_late(ctx->files[e->file_id - 1]))
			continue;
		if (dup3(ctx->file_fds[e->file_id], e->fd, e->cloexec ? O_CLOEXEC : 0) < 0)
			return log_error_errno(-errno, "cannot install fd %u of task %d", e->fd,
					       t->pid);
	}
	return 0;
}

/* The fd of this task's that holds description id, below fd index n, or -1. */
static int earlier_fd(const FdinfoEntry *fi, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (fi->fds[i]->file_id == id)
			return fi->fds[i]->fd;
	return -1;
}

/*
 * The late descriptions, opened by the task now that the whole tree exists;
 * one description per task (tasks that shared one across fork each get
 * their own). A task sharing its table gets them from the table's owner.
 */
static int open_late(struct restore_ctx *ctx, struct restore_task *t)
{
	const FdinfoEntry *fi = t->fdinfo;

	for (size_t i = 0; !t->pe->clone_files && i < fi->n_fds; i++) {
		const FdEntry *e = fi->fds[i];
		const FileEntry *f = ctx->files[e->file_id - 1];
		int fd = earlier_fd(fi, i, e->file_id), r = 0;

		if (!is_late(f))
			continue;
		if (fd < 0) {
			fd = kind_of_type(f->type)->open(ctx, f,
							 OPEN_FLAGS_RESTORE(f->flags) | O_NOCTTY);
			fd = fd_move_above(fd, ctx->fd_base + 1);
			if (fd < 0)
				return fd;
			if (dup3(fd, e->fd, e->cloexec ? O_CLOEXEC : 0) < 0)
				r = -errno;
			close(fd);
		} else if (dup3(fd, e->fd, e->cloexec ? O_CLOEXEC : 0) < 0) {
			r = -errno;
		}
		if (r < 0)
			return log_error_errno(r, "cannot install fd %u of task %d", e->fd, t->pid);
	}
	return 0;
}

int files_restore_task(struct restore_ctx *ctx, struct restore_task *t)
{
	int r = open_late(ctx, t);

	if (r < 0)
		return r;
	for (size_t i = 0; i < nr_fd_kinds; i++) {
		int r = fd_kinds[i]->restore_task ? fd_kinds[i]->restore_task(ctx, t) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}
