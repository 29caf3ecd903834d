/*
 * Owners of descriptions for signal-driven I/O. fdinfo does not show them:
 * nestor takes a copy of the task's fd (pidfd_getfd: the owner belongs to
 * the description, which the copy shares) and asks F_GETOWN_EX and
 * F_GETSIG. The owner must be a task, thread or group of the tree: the
 * restore sets it with the same ids once all of them exist, in the task
 * itself, and turns O_ASYNC on through the task's own fd number (which the
 * signal's si_fd reports; open() ignores O_ASYNC).
 */
#define LOG_PREFIX "fown: "
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "files/fown.h"
#include "ns/ns.h"

/* A task or group of the tree; a thread only if it is a main thread: the
 * others are made later, in the blob, after the owners are set. */
static bool in_tree(const struct dump_ctx *ctx, int type, pid_t id)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const struct dump_task *t = &ctx->tasks[i];

		if (t->zombie)
			continue;
		if (type == F_OWNER_PGRP ? t->stat.pgid == id : t->pid == id)
			return true;
	}
	return false;
}

int fown_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, FileEntry *f)
{
	_cleanup_close_ int own = -1;
	struct f_owner_ex o;
	int sig;

	if (f->flags & O_PATH)
		return 0; /* no I/O, no owner: fcntl says EBADF */
	own = sys_dup_task_fd(t->pid, fd);
	if (own < 0)
		return log_error_errno(own, "cannot copy task %d fd %d", t->pid, fd);
	if (fcntl(own, F_GETOWN_EX, &o) || (sig = fcntl(own, F_GETSIG)) < 0)
		return log_error_errno(-errno, "cannot read the owner of task %d fd %d", t->pid, fd);
	if (o.pid && !in_tree(ctx, o.type, o.pid))
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is owned (F_SETOWN) by %s %d, not a "
				     "task or group of the tree (or a thread other than a main one: "
				     "not supported)",
				     t->pid, fd,
				     o.type == F_OWNER_PGRP ? "group" : o.type == F_OWNER_TID ? "thread" : "task",
				     o.pid);
	if (!o.pid && !sig)
		return 0;
	f->has_fown_type = f->has_fown_pid = f->has_fown_sig = true;
	f->fown_type = o.type;
	f->fown_pid = o.pid;
	f->fown_sig = sig;
	return 0;
}

int fown_validate(const FileEntry *f)
{
	if (!f->has_fown_type)
		return 0;
	if (!f->has_fown_pid || !f->has_fown_sig || f->fown_type > F_OWNER_PGRP ||
	    f->fown_pid < 0 || f->fown_sig >= _NSIG)
		return log_error_ret(-EINVAL, "image files.img is corrupted: bad owner of file %u",
				     f->id);
	return 0;
}

/* The owner is named as the task sees it: the image has nestor's numbers. */
static int restore_one(struct restore_ctx *ctx, struct restore_task *t, int fd,
		       const FileEntry *f)
{
	struct f_owner_ex o = { (int)f->fown_type, f->fown_pid };
	int fl;

	if (f->has_fown_type && o.pid &&
	    !(o.pid = pidns_translate(ctx, o.type, f->fown_pid, t - ctx->tasks)))
		return log_error_ret(-EOPNOTSUPP, "can't restore: task %d fd %d is owned by %s %d, "
						  "outside its pid namespace (not supported)",
				     t->pid, fd, f->fown_type == F_OWNER_PGRP ? "group" : "task",
				     (int)f->fown_pid);

	if (f->has_fown_type && ((o.pid && fcntl(fd, F_SETOWN_EX, &o)) ||
				 fcntl(fd, F_SETSIG, (int)f->fown_sig)))
		return log_error_errno(-errno, "can't restore: cannot set the owner of fd %d (%s %d)",
				       fd, o.type == F_OWNER_PGRP ? "group" : "task", o.pid);
	if (!(f->flags & O_ASYNC))
		return 0;
	/* Off first: a description nestor made with O_ASYNC names nestor's fd. */
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_ASYNC) ||
	    fcntl(fd, F_SETFL, fl | O_ASYNC))
		return log_error_errno(-errno, "can't restore: cannot set O_ASYNC on fd %d", fd);
	return 0;
}

int fown_restore_task(struct restore_ctx *ctx, struct restore_task *t)
{
	const FdinfoEntry *fi = t->fdinfo;
	_cleanup_free_ bool *done = NULL;
	int r;

	if (!fi || !fi->n_fds)
		return 0;
	done = calloc(ctx->nr_files + 1, sizeof(*done));
	if (!done)
		return -ENOMEM;
	/* One fd of each description: its first, whose number the signals name. */
	for (size_t i = 0; i < fi->n_fds; i++) {
		uint32_t id = fi->fds[i]->file_id;

		if (id == 0 || id > ctx->nr_files || done[id])
			continue;
		done[id] = true;
		if ((r = restore_one(ctx, t, fi->fds[i]->fd, ctx->files[id - 1])) < 0)
			return r;
	}
	return 0;
}
