/*
 * File locks, from the "lock:" lines of /proc/PID/fdinfo/FD. flock and OFD
 * locks belong to an open file description: nestor takes them on the
 * descriptions it opens for the tree. POSIX locks belong to the process and
 * die with any close of the file by it, so the blob takes them after it has
 * closed nestor's descriptors; in a table shared between processes, nestor
 * takes them from inside the task (ptrace) once it has closed its own fds
 * there. Leases, delegations, mandatory locks and
 * waiters are refused.
 */
#define LOG_PREFIX "locks: "
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include "core/arena.h"
#include "files/locks.h"
#include "core/log.h"
#include "core/util.h"
#include "tree/pstree.h"

static int parse_line(pid_t pid, int fd, const char *line, LockEntry *e)
{
	char kind[16], mode[16], rw[16], end[32];
	unsigned maj, min;
	unsigned long long ino, start;
	int owner;

	if (strstr(line, "->"))
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d waits for a lock on fd %d "
						  "(not supported)", pid, fd);
	if (sscanf(line, "lock: %*d: %15s %15s %15s %d %x:%x:%llu %llu %31s", kind, mode, rw, &owner,
		   &maj, &min, &ino, &start, end) != 9)
		return log_error_ret(-EINVAL, "cannot parse lock of task %d fd %d: %s", pid, fd, line);
	e->kind = !strcmp(kind, "FLOCK") ? LOCK_KIND_FLOCK : !strcmp(kind, "POSIX") ? LOCK_KIND_POSIX :
		  !strcmp(kind, "OFDLCK") ? LOCK_KIND_OFD : 0;
	if (!e->kind || strcmp(mode, "ADVISORY"))
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d holds a %s %s lock "
						  "(not supported)", pid, fd, mode, kind);
	e->fd = fd;
	e->type = !strcmp(rw, "WRITE") ? F_WRLCK : F_RDLCK;
	e->start = start;
	e->len = !strcmp(end, "EOF") ? 0 : strtoull(end, NULL, 10) - start + 1;
	e->ino = ino;
	e->has_pid = true;
	e->pid = owner;
	return 0;
}

/* A POSIX lock shows under every fd the task has on the file: keep it once. */
static bool known(const FdinfoEntry *fi, const LockEntry *e)
{
	for (size_t i = 0; i < fi->n_locks; i++) {
		const LockEntry *o = fi->locks[i];

		if (o->kind == e->kind && o->ino == e->ino && o->start == e->start &&
		    o->len == e->len && o->type == e->type && (e->kind == LOCK_KIND_POSIX || o->fd == e->fd))
			return true;
	}
	return false;
}

int locks_dump(struct dump_task *t, int fd, const char *fdinfo)
{
	FdinfoEntry *fi = t->fdinfo;

	for (const char *p = strstr(fdinfo, "\nlock:"); p; p = strstr(p + 1, "\nlock:")) {
		char line[256];
		LockEntry *e = ANEW(LockEntry);
		int r;

		if (!e)
			return -ENOMEM;
		lock_entry__init(e);
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
		r = parse_line(t->pid, fd, line, e);
		if (r < 0)
			return r;
		if (known(fi, e))
			continue;
		if (fi->n_locks % 16 == 0) {
			LockEntry **n = ANEW_ARRAY(LockEntry *, fi->n_locks + 16);
			if (!n)
				return -ENOMEM;
			if (fi->n_locks)
				memcpy(n, fi->locks, fi->n_locks * sizeof(*n));
			fi->locks = n;
		}
		fi->locks[fi->n_locks++] = e;
	}
	return 0;
}

/* ---- restore ---- */

int locks_validate(const struct restore_task *t)
{
	const FdinfoEntry *fi = t->fdinfo;
	size_t posix = 0;

	for (size_t i = 0; i < fi->n_locks; i++) {
		const LockEntry *e = fi->locks[i];
		bool has_fd = false;

		for (size_t k = 0; k < fi->n_fds; k++)
			has_fd |= fi->fds[k]->fd == e->fd;
		if (!has_fd || e->kind < LOCK_KIND_FLOCK || e->kind > LOCK_KIND_OFD ||
		    (e->type != F_RDLCK && e->type != F_WRLCK) || e->start > INT64_MAX ||
		    e->len > INT64_MAX)
			return log_error_ret(-EINVAL, "image fdinfo-%d.img is corrupted: bad lock %zu",
					     t->pid, i);
		posix += e->kind == LOCK_KIND_POSIX;
	}
	if (posix > RST_MAX_LOCKS)
		return log_error_ret(-EOPNOTSUPP, "can't restore: task %d holds %zu POSIX locks "
						  "(at most %d)", t->pid, posix, RST_MAX_LOCKS);
	return 0;
}

static int file_of(const struct restore_task *t, uint32_t fd)
{
	for (size_t k = 0; k < t->fdinfo->n_fds; k++)
		if (t->fdinfo->fds[k]->fd == fd)
			return t->fdinfo->fds[k]->file_id;
	return -1;
}

static int lock_description(int fd, const LockEntry *e)
{
	struct flock fl = { .l_type = e->type, .l_whence = SEEK_SET, .l_start = e->start,
			    .l_len = e->len };

	if (e->kind == LOCK_KIND_FLOCK)
		return flock(fd, (e->type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB) ? -errno : 0;
	return fcntl(fd, F_OFD_SETLK, &fl) ? -errno : 0;
}

/* The task of the tree whose pid a flock shows (it took the lock), or NULL. */
static struct restore_task *flock_taker(struct restore_ctx *ctx, const LockEntry *e)
{
	int i = e->kind == LOCK_KIND_FLOCK && e->has_pid ? pstree_index(ctx, e->pid) : -1;

	return i >= 0 ? &ctx->tasks[i] : NULL;
}

int locks_restore_descriptions(struct restore_ctx *ctx)
{
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		const struct restore_task *t = &ctx->tasks[k];

		for (size_t i = 0; t->fdinfo && i < t->fdinfo->n_locks; i++) {
			const LockEntry *e = t->fdinfo->locks[i];
			struct restore_task *taker = flock_taker(ctx, e);
			int r;

			/* Each task of a big tree must not look through every lock of it. */
			if (taker)
				taker->takes_flocks = true;
			if (e->kind == LOCK_KIND_POSIX || taker)
				continue;
			r = lock_description(ctx->file_fds[file_of(t, e->fd)], e);
			if (r < 0)
				return log_error_errno(r, "can't restore the lock of task %d fd %u "
							  "(someone else holds the file locked?)",
						       t->pid, e->fd);
		}
	}
	return 0;
}

void locks_fill_args(const struct restore_task *t, struct rst_args *a)
{
	a->nr_locks = 0;
	/* A shared table's locks would die when nestor closes its fds there. */
	for (size_t i = 0; !t->shared_files && i < t->fdinfo->n_locks; i++) {
		const LockEntry *e = t->fdinfo->locks[i];

		if (e->kind != LOCK_KIND_POSIX)
			continue;
		a->locks[a->nr_locks].fd = e->fd;
		a->locks[a->nr_locks].type = e->type;
		a->locks[a->nr_locks].start = e->start;
		a->locks[a->nr_locks].len = e->len;
		a->nr_locks++;
	}
}

/* Whether the lock's owner pid is another task of the tree (which takes it). */
static bool taken_by_other(const struct restore_ctx *ctx, const struct restore_task *t,
			   const LockEntry *e)
{
	int i = e->has_pid && e->pid != t->pid ? pstree_index(ctx, e->pid) : -1;

	return i >= 0 && ctx->tasks[i].shared_files && !ctx->tasks[i].zombie &&
	       !ctx->tasks[i].helper;
}

int locks_restore_late(struct restore_ctx *ctx, struct restore_task *t, struct remote *rt)
{
	uint64_t addr;
	int r = 0;

	if (!t->shared_files || !t->fdinfo)
		return 0;
	/* The blob's stack, stopped in its trap: below its pointer is nestor's own memory. */
	remote_set_scratch(rt, (rt->regs.rsp - 4096 - 128) & ~63ULL, 4096);
	for (size_t i = 0; r == 0 && i < t->fdinfo->n_locks; i++) {
		const LockEntry *e = t->fdinfo->locks[i];
		struct flock fl = { .l_type = e->type, .l_whence = SEEK_SET, .l_start = e->start,
				    .l_len = e->len };
		long ret;

		if (e->kind != LOCK_KIND_POSIX || taken_by_other(ctx, t, e))
			continue;
		if ((r = remote_scratch(rt, sizeof(fl), &addr)) < 0 ||
		    (r = remote_write(t->pid, addr, &fl, sizeof(fl))) < 0 ||
		    (r = remote_syscall(rt, __NR_fcntl, &ret, e->fd, F_SETLK, addr, 0, 0, 0)) < 0)
			break;
		if (ret < 0)
			r = log_error_errno((int)ret, "can't restore the POSIX lock of task %d fd %u "
						      "(someone else holds the file locked?)",
					    t->pid, e->fd);
	}
	return r;
}

/*
 * A flock shows the pid of whoever called flock(): the task of the tree with
 * that pid takes it (a zombie or a dead leader's helper before it exits),
 * on nestor's description, which every task inherits.
 */
int locks_restore_flocks(struct restore_ctx *ctx, const struct restore_task *taker)
{
	for (size_t k = 0; taker->takes_flocks && k < ctx->nr_tasks; k++) {
		const struct restore_task *t = &ctx->tasks[k];

		for (size_t i = 0; t->fdinfo && i < t->fdinfo->n_locks; i++) {
			const LockEntry *e = t->fdinfo->locks[i];
			int r;

			if (flock_taker(ctx, e) != taker)
				continue;
			r = lock_description(ctx->file_fds[file_of(t, e->fd)], e);
			if (r < 0)
				return log_error_errno(r, "can't restore the flock of task %d fd %u "
							  "(someone else holds the file locked?)",
						       t->pid, e->fd);
		}
	}
	return 0;
}
