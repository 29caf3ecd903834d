/*
 * Files reached by their path: regular files (linked, or unlinked with their
 * content saved), directories, character devices and the caller's terminal
 * (--shell-job); the files tasks map or run; cwd and root.
 */
#define LOG_PREFIX "files: "
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/sysmacros.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "tree/pstree.h"
#include "files/content.h"
#include "files/fd-ops.h"
#include "files/files.h"
#include "files/identity.h"
#include "files/names.h"
#include "restorer/restorer-abi.h"


static bool deleted_suffix(const char *path)
{
	size_t l = strlen(path);

	return l > 10 && !strcmp(path + l - 10, " (deleted)");
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
	int r;

	/* The task's file keeps its access time: it is given back at restore. */
	rfd = open(link, O_RDONLY | O_CLOEXEC | O_NOATIME);
	if (rfd < 0 && errno == EPERM)
		rfd = open(link, O_RDONLY | O_CLOEXEC);
	if (rfd < 0)
		return log_error_errno(-errno, "cannot open %s", link);
	if ((r = content_dump(rfd, st, pid, what, f)) < 0)
		return r;
	f->unlinked = true;
	f->has_ino = f->has_dev = true;
	f->ino = st->st_ino;
	f->dev = st->st_dev;
	f->has_atime_ns = true;
	f->atime_ns = st->st_atim.tv_sec * 1000000000ULL + st->st_atim.tv_nsec;
	return 0;
}

/* A regular file a task maps though its name is gone (a POSIX shm object after shm_unlink). */
static int add_unlinked_mapped(struct dump_ctx *ctx, const struct fd_mapped *m, uint32_t *ret_id)
{
	FileEntry *f;

	if (!S_ISREG(m->st->st_mode))
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d maps %s, which is deleted and not a regular file",
				     m->pid, m->path);
	f = file_table_add(&ctx->files);
	if (!f)
		return -ENOMEM;
	f->type = FILE_TYPE__REG;
	f->path = arena_strdup(m->path);
	if (!f->path)
		return -ENOMEM;
	f->path[strlen(m->path) - 10] = 0; /* without " (deleted)" */
	f->flags = (uint32_t)-1; /* not an open description: a mapped file */
	files_fill_stat(f, m->st);
	*ret_id = f->id;
	return dump_unlinked_data(m->pid, m->link, m->path, m->st, f);
}

/* A file a task maps or runs: one entry per file, found by dev and inode. */
static int dump_mapped(struct dump_ctx *ctx, const struct fd_mapped *m, uint32_t *ret_id)
{
	const struct stat *st = m->st;
	struct stat now;
	FileEntry *f;

	if (deleted_suffix(m->path) && m->exe) {
		/* A program deleted (or upgraded) while it runs: its text is mapped. */
		for (size_t i = 0; i < ctx->nr_mapped; i++) {
			const struct mapped_file *mf = &ctx->mapped[i];

			if (mf->ino == st->st_ino && mf->major == major(st->st_dev) &&
			    mf->minor == minor(st->st_dev)) {
				*ret_id = mf->id;
				return 0;
			}
		}
	}
	if (deleted_suffix(m->path))
		return add_unlinked_mapped(ctx, m, ret_id);
	if (stat(m->path, &now) || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d maps or runs %s, which is no longer at that path",
				     m->pid, m->path);
	for (size_t i = 0; i < ctx->files.nr; i++) {
		f = ctx->files.files[i];
		if (f->type == FILE_TYPE__REG && f->flags == (uint32_t)-1 &&
		    f->size == (uint64_t)st->st_size && f->mtime_ns == files_mtime_ns(st) &&
		    !strcmp(f->path, m->path)) {
			*ret_id = f->id;
			return 0;
		}
	}
	f = file_table_add(&ctx->files);
	if (!f)
		return -ENOMEM;
	f->type = FILE_TYPE__REG;
	f->path = arena_strdup(m->path);
	f->flags = (uint32_t)-1; /* not an open description: a mapped or executed file */
	files_fill_stat(f, st);
	*ret_id = f->id;
	return f->path ? ident_record(f, m->link, st) : -ENOMEM;
}

/* The last cwd and root entries made (ids; one dump per nestor run). */
static uint32_t dirs_made[16];
static size_t nr_dirs_made;

int files_dump_dir(struct dump_ctx *ctx, pid_t pid, const char *which, uint32_t *ret_id)
{
	char link[64], path[4096];
	FileEntry *f;
	struct stat st;
	int r;

	snprintf(link, sizeof(link), "/proc/%d/%s", pid, which);
	r = files_read_link(link, path, sizeof(path));
	if (r < 0)
		return r;
	if (stat(link, &st))
		return log_error_errno(-errno, "cannot stat %s", link);
	/* Most tasks of a tree share their cwd and root: one entry each, proven once. */
	for (size_t i = 0; i < ARRAY_SIZE(dirs_made); i++) {
		f = dirs_made[i] && dirs_made[i] <= ctx->files.nr ? ctx->files.files[dirs_made[i] - 1]
							       : NULL;
		if (f && f->type == FILE_TYPE__DIR && !f->unlinked && f->has_ino &&
		    f->ino == st.st_ino && f->dev == st.st_dev && !strcmp(f->path, path)) {
			*ret_id = f->id;
			return 0;
		}
	}
	f = file_table_add(&ctx->files);
	if (!f)
		return -ENOMEM;
	dirs_made[nr_dirs_made++ % ARRAY_SIZE(dirs_made)] = f->id;
	f->type = FILE_TYPE__DIR;
	f->path = arena_strdup(path);
	f->flags = O_RDONLY | O_DIRECTORY;
	files_fill_stat(f, &st);
	*ret_id = f->id;
	if (!f->path)
		return -ENOMEM;
	if (st.st_nlink || !deleted_suffix(path))
		return ident_record(f, link, &st);
	/* A directory removed since: made again for the restore, and removed. */
	f->path[strlen(path) - 10] = 0;
	f->unlinked = true;
	f->has_ino = f->has_dev = true;
	f->ino = st.st_ino;
	f->dev = st.st_dev;
	return 0;
}

static bool is_tty(const struct stat *st)
{
	unsigned maj = major(st->st_rdev);

	return S_ISCHR(st->st_mode) && (maj == 4 || maj == 5 || (maj >= 136 && maj <= 143));
}

/* A file by its path: a namespace's descriptor (nsfs, "time:[4026531834]") has none. */
static bool claims(const struct stat *st, const char *path)
{
	return (S_ISREG(st->st_mode) || S_ISCHR(st->st_mode) || S_ISDIR(st->st_mode)) &&
	       path[0] == '/';
}

/* Whatever is mapped and not a memfd: reopened by its path. */
static bool claims_mapped(const struct stat *st, const char *path)
{
	return true;
}

/* The pid in a /proc/PID[/...] path, or 0. */
static pid_t proc_pid_of(const char *path, const char **ret_rest)
{
	char *end;
	long n;

	if (strncmp(path, "/proc/", 6) || path[6] < '1' || path[6] > '9')
		return 0;
	n = strtol(path + 6, &end, 10);
	if ((*end && *end != '/') || n <= 0 || n > INT32_MAX)
		return 0;
	*ret_rest = end;
	return n;
}

static bool in_tree(const struct dump_ctx *ctx, pid_t pid)
{
	return pstree_has(ctx, pid);
}

/*
 * A file of /proc/PID: PID must be a task of the tree, which the restore
 * brings back with that pid; its file is opened once the tree exists. A
 * thread's directory (task/TID) does not exist before the blob makes the
 * threads, and a process outside the tree does not come back: refused.
 */
static int dump_proc_file(const struct fd_dump *d, FileEntry *f)
{
	const char *rest = NULL;
	pid_t pid = proc_pid_of(f->path, &rest), tid;
	static dev_t proc_dev;
	struct statfs sf;
	struct stat pr;

	/* proc has an anonymous device (major 0): no statfs for the rest. */
	if (major(d->st->st_dev) || statfs(d->link, &sf) || sf.f_type != PROC_SUPER_MAGIC)
		return 0;
	/* Another proc than nestor's (a container's own /proc): its pids are
	 * its pid namespace's, and it is mounted only at the end of a restore. */
	if (!proc_dev && stat("/proc", &pr) == 0)
		proc_dev = pr.st_dev;
	if (d->st->st_dev != proc_dev)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is %s, a file of a proc mounted "
				     "in its mount namespace (not supported yet)",
				     d->t->pid, d->fd, f->path);
	if (!pid)
		return 0;
	if (!in_tree(d->ctx, pid))
		return log_error_ret(-EOPNOTSUPP,
					     "can't dump: task %d fd %d is %s, a /proc file of "
					     "process %d, which is not a task of the tree",
					     d->t->pid, d->fd, f->path, pid);
	if (!strncmp(rest, "/task/", 6) && (tid = atoi(rest + 6)) != pid)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is %s, a /proc file of thread %d "
				     "(not supported yet)", d->t->pid, d->fd, f->path, tid);
	f->has_proc_pid = true;
	f->proc_pid = pid;
	return 0;
}

static int dump_fd(const struct fd_dump *d, FileEntry *f)
{
	const struct stat *st = d->st;
	char what[32];
	int r;

	if (is_tty(st)) {
		if (!d->ctx->opts->shell_job)
			return log_error_ret(-EOPNOTSUPP,
					     "can't dump: task %d fd %d is the terminal %s (use --shell-job)",
					     d->t->pid, d->fd, f->path);
		f->type = FILE_TYPE__TTY;
		return 0;
	}
	if ((S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) && (r = dump_proc_file(d, f)) < 0)
		return r;
	if (f->has_proc_pid) {
		f->type = S_ISREG(st->st_mode) ? FILE_TYPE__REG : FILE_TYPE__DIR;
		return 0;
	}
	if (S_ISREG(st->st_mode)) {
		f->type = FILE_TYPE__REG;
		if (st->st_nlink)
			return ident_record(f, d->link, st);
		if (deleted_suffix(f->path))
			f->path[strlen(f->path) - 10] = 0;
		snprintf(what, sizeof(what), "fd %d", d->fd);
		return dump_unlinked_data(d->t->pid, d->link, what, st, f);
	}
	f->type = S_ISCHR(st->st_mode) ? FILE_TYPE__CHR : FILE_TYPE__DIR;
	if (st->st_nlink || !deleted_suffix(f->path))
		return f->type == FILE_TYPE__DIR ? ident_record(f, d->link, st) : 0;
	/* A removed directory or device node: made again at restore, and removed. */
	f->path[strlen(f->path) - 10] = 0;
	f->unlinked = true;
	f->has_ino = f->has_dev = true;
	f->ino = st->st_ino;
	f->dev = st->st_dev;
	return 0;
}

/* ---- restore ---- */

/* Who holds f, for messages: a task's fd, cwd, root, exe or mapping. */
static const char *holder(const struct restore_ctx *ctx, const FileEntry *f, char *buf,
			  size_t len)
{
	snprintf(buf, len, "file %u", f->id);
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		const struct restore_task *t = &ctx->tasks[k];
		const FdinfoEntry *fi = t->fdinfo;
		const MmEntry *mm = t->mm;

		for (size_t i = 0; fi && i < fi->n_fds; i++)
			if (fi->fds[i]->file_id == f->id)
				return snprintf(buf, len, "task %d fd %u", t->pid, fi->fds[i]->fd), buf;
		if (t->core && (t->core->cwd_id == f->id || t->core->root_id == f->id))
			return snprintf(buf, len, "task %d %s", t->pid,
					t->core->cwd_id == f->id ? "cwd" : "root"), buf;
		if (mm && mm->exe_file_id == f->id)
			return snprintf(buf, len, "task %d exe", t->pid), buf;
		for (size_t i = 0; mm && i < mm->n_vmas; i++)
			if (mm->vmas[i]->has_file_id && mm->vmas[i]->file_id == f->id &&
			    (mm->vmas[i]->kind == VMA_FILE_PRIVATE ||
			     mm->vmas[i]->kind == VMA_FILE_SHARED))
				return snprintf(buf, len, "task %d mapping %llx-%llx", t->pid,
						(unsigned long long)mm->vmas[i]->start,
						(unsigned long long)mm->vmas[i]->end), buf;
	}
	return buf;
}

/* A file reopened by its path (not made again, not a /proc file). */
static bool by_path(const FileEntry *f)
{
	return (f->type == FILE_TYPE__REG || f->type == FILE_TYPE__DIR) && !f->unlinked &&
	       !f->has_proc_pid;
}

/* The file at f's path, or the open fd, is f as it was at the dump. */
static int check_file(const struct restore_ctx *ctx, const FileEntry *f, int fd)
{
	char who[96], why[128];
	int r = ident_compare(f, fd, why, sizeof(why));

	if (r < 0)
		return log_error_ret(r, "can't restore: %s: %s %s", holder(ctx, f, who, sizeof(who)),
				     f->path, why);
	return 0;
}

static bool late(const FileEntry *f)
{
	return f->has_proc_pid;
}

/* A /proc file's task must be one of the tree's. */
static int validate_proc(struct restore_ctx *ctx, const FileEntry *f)
{
	char want[32];
	int n = snprintf(want, sizeof(want), "/proc/%u", f->proc_pid);

	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].pid == (pid_t)f->proc_pid && !ctx->tasks[i].helper && !f->unlinked &&
		    f->flags != (uint32_t)-1 && !strncmp(f->path, want, n) &&
		    (f->path[n] == '/' || !f->path[n]))
			return 0;
	return log_error_ret(-EINVAL, "image files.img is corrupted: bad /proc file %u", f->id);
}

/* Files reopened by path must be there, the same and unchanged, before anything is made. */
static int validate(struct restore_ctx *ctx, const FileEntry *f)
{
	if (f->has_proc_pid)
		return validate_proc(ctx, f);
	if (!by_path(f) || ctx->images_only)
		return 0;
	return check_file(ctx, f, -1);
}

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){ ns / 1000000000, ns % 1000000000 };
}

/* The times the file had (writing its content made them now). */
static int set_times(int fd, const FileEntry *f)
{
	struct timespec ts[2] = { ts_of(f->has_atime_ns ? f->atime_ns : f->mtime_ns),
				  ts_of(f->mtime_ns) };

	return futimens(fd, ts);
}

/*
 * Brings an unlinked file back under its old name, so /proc shows
 * "path (deleted)" again: made there (the name held for the moment, see
 * names.h), filled, opened and unlinked.
 */
static int open_unlinked(const FileEntry *f, int flags)
{
	struct name_hold h;
	int fd, r = name_hold_take(f->path, &h);

	if (r < 0)
		return r;
	fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, f->mode & 07777);
	if (fd < 0) {
		r = log_error_errno(-errno, "cannot recreate unlinked file %s", f->path);
		name_hold_release(&h);
		return r;
	}
	h.made = true;
	r = content_restore(fd, f);
	if (r == 0 && (fchmod(fd, f->mode & 07777) || set_times(fd, f)))
		r = -errno;
	close(fd);
	fd = r < 0 ? r : open(f->path, flags | O_CLOEXEC);
	if (fd < 0)
		r = log_error_errno(fd == r ? r : -errno, "cannot recreate unlinked file %s", f->path);
	name_hold_release(&h);
	return r < 0 ? r : fd;
}

/* The object itself, made again: what every description of it reopens. */
static int make_unlinked(const FileEntry *f)
{
	if (f->type == FILE_TYPE__REG)
		return open_unlinked(f, O_RDONLY); /* never writable: it may be a program to run */
	return names_open_deleted(f->path, (f->type == FILE_TYPE__DIR ? S_IFDIR : S_IFCHR) |
						   (f->mode & 07777),
				  f->rdev, O_PATH);
}

struct unlinked_obj {
	uint64_t dev, ino;
	int fd;
};

/*
 * O_NOFOLLOW (shm_open sets it) stays in the description, and /proc's link
 * cannot be opened with it (ELOOP): the inode is opened again by its handle.
 */
static int reopen_by_handle(int fd, int flags)
{
	struct {
		struct file_handle h;
		unsigned char bytes[MAX_HANDLE_SZ];
	} fh = { .h.handle_bytes = MAX_HANDLE_SZ };
	int mnt_id, nfd;

	if (name_to_handle_at(fd, "", &fh.h, &mnt_id, AT_EMPTY_PATH))
		return -errno;
	nfd = open_by_handle_at(fd, &fh.h, OPEN_FLAGS_RESTORE(flags));
	return nfd < 0 ? -errno : nfd;
}

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
		fd = fd_move_above(make_unlinked(f), ctx->fd_base + 1);
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
	fd = flags & O_NOFOLLOW ? reopen_by_handle(o->fd, flags) : fd_reopen(o->fd, flags);
	if (fd < 0)
		return log_error_errno(fd, "cannot reopen %s, made again", f->path);
	return fd;
}

static int open_mapped(struct restore_ctx *ctx, const FileEntry *f, int mode)
{
	int fd, r;

	if (f->unlinked)
		return unlinked_open(ctx, f, mode);
	fd = open(f->path, mode | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s", f->path);
	r = check_file(ctx, f, fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int open_terminal(struct restore_ctx *ctx, const FileEntry *f)
{
	int fd;

	if (ctx->term_fd < 0)
		return log_error_ret(-ENOTTY, "can't restore: the task had the terminal %s "
					      "and nestor has none (restore with --shell-job "
					      "from a terminal)", f->path);
	fd = fcntl(ctx->term_fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? log_error_errno(-errno, "cannot dup the terminal") : fd;
}

#define SETFL_BITS (O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME)

/*
 * The new description has exactly the dumped flags, or the restore stops.
 * O_ASYNC is left out: it is armed later, with the description's owner.
 */
static int check_flags(const FileEntry *f, int fd)
{
	uint32_t want = f->flags & ~O_ASYNC;
	int got = fcntl(fd, F_GETFL);

	if (got >= 0 && ((uint32_t)got & ~O_ASYNC) != want &&
	    !(((uint32_t)got ^ want) & ~(SETFL_BITS | O_ASYNC)) && !fcntl(fd, F_SETFL, want))
		got = fcntl(fd, F_GETFL);
	if (got < 0)
		return log_error_errno(-errno, "cannot read the flags of %s", f->path);
	if (((uint32_t)got & ~O_ASYNC) != want)
		return log_error_ret(-EINVAL, "can't restore: %s opens with flags 0%o, not 0%o "
					      "as it had", f->path, got, f->flags);
	return 0;
}

static int open_fd(struct restore_ctx *ctx, const FileEntry *f, int flags)
{
	struct stat st;
	int fd, r;

	if (f->flags == (uint32_t)-1)
		return open_mapped(ctx, f, flags);
	if (f->type == FILE_TYPE__TTY)
		return open_terminal(ctx, f);
	if (f->unlinked)
		fd = unlinked_open(ctx, f, flags);
	else
		fd = open(f->path, flags);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s", f->path);
	if (fstat(fd, &st)) {
		r = -errno;
		close(fd);
		return log_error_errno(r, "cannot stat %s", f->path);
	}
	if ((r = check_flags(f, fd)) < 0) {
		close(fd);
		return r;
	}
	if (f->type == FILE_TYPE__CHR && st.st_rdev != f->rdev) {
		close(fd);
		return log_error_ret(-ESTALE, "can't restore: %s is not the device it was", f->path);
	}
	if (by_path(f) && (r = check_file(ctx, f, fd)) < 0) {
		close(fd);
		return r;
	}
	/* A directory's position is a cookie of its file system: lseek takes it back. */
	if ((f->type == FILE_TYPE__REG || f->type == FILE_TYPE__DIR) && !(f->flags & O_PATH) &&
	    lseek(fd, f->pos, SEEK_SET) < 0) {
		close(fd);
		return log_error_errno(-errno, "cannot seek %s", f->path);
	}
	return fd;
}

static void close_all(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_unlinked; i++)
		close(ctx->unlinked[i].fd);
	free(ctx->unlinked);
	ctx->unlinked = NULL;
	ctx->nr_unlinked = 0;
}

/* The fd nestor holds of an object it made again, or -1. */
static int made_fd(const struct restore_ctx *ctx, const FileEntry *f)
{
	for (size_t i = 0; i < ctx->nr_unlinked; i++)
		if (ctx->unlinked[i].dev == f->dev && ctx->unlinked[i].ino == f->ino)
			return ctx->unlinked[i].fd;
	return -1;
}

/* Removed directories that are a task's cwd or root, made before the tree. */
static int prepare(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_files; i++) {
		const FileEntry *f = ctx->files[i];
		int fd;

		if (f->type != FILE_TYPE__DIR || !f->unlinked || made_fd(ctx, f) >= 0)
			continue;
		fd = unlinked_open(ctx, f, O_PATH | O_DIRECTORY);
		if (fd < 0)
			return fd;
		close(fd);
	}
	return 0;
}

int files_restore_dirs(struct restore_ctx *ctx, struct restore_task *t)
{
	const FileEntry *root = restore_file(ctx, t->core->root_id);
	const FileEntry *cwd = restore_file(ctx, t->core->cwd_id);

	if (!root || !cwd || root->type != FILE_TYPE__DIR || cwd->type != FILE_TYPE__DIR)
		return log_error_ret(-EINVAL, "image core-%d.img is corrupted: bad cwd or root", t->pid);
	/* Both paths are as nestor sees them, so cwd first: chroot leaves it be.
	 * A removed one was made again by nestor, which holds it. */
	if (cwd->unlinked ? fchdir(made_fd(ctx, cwd)) : chdir(cwd->path))
		return log_error_errno(-errno, "cannot change directory to %s", cwd->path);
	if (root->unlinked) {
		char held[32];

		snprintf(held, sizeof(held), "/proc/self/fd/%d", made_fd(ctx, root));
		if (chroot(held))
			return log_error_errno(-errno, "cannot change root to %s", root->path);
	} else if (strcmp(root->path, "/") && chroot(root->path)) {
		return log_error_errno(-errno, "cannot change root to %s", root->path);
	}
	return 0;
}

const struct fd_ops regular_fd_ops = {
	.name = "file",
	.types = FD_TYPE(FILE_TYPE__REG) | FD_TYPE(FILE_TYPE__DIR) | FD_TYPE(FILE_TYPE__CHR) |
		 FD_TYPE(FILE_TYPE__TTY),
	.claims = claims,
	.dump = dump_fd,
	.claims_mapped = claims_mapped,
	.dump_mapped = dump_mapped,
	.validate = validate,
	.late = late,
	.prepare = prepare,
	.open = open_fd,
	.close = close_all,
};
