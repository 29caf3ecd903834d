/*
 * Making the tree, in the tasks: each task forks its own children with
 * their pids (clone3 set_tid), after it has made itself a session or group
 * leader if it is one, so that they inherit both. A helper stands in for a
 * dead leader and exits once its members exist; a zombie exits as it ended.
 */
#define LOG_PREFIX "restore: "
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "files/tty.h"
#include "mem/vmshare.h"
#include "ns/ns.h"
#include "restore/restore-priv.h"

static void sharer_main(struct restore_ctx *ctx, int idx, void *ch)
{
	task_main(ctx, idx, ch);
}

pid_t fork_task(struct restore_ctx *ctx, int idx, struct channels *ch)
{
	struct restore_task *t = &ctx->tasks[idx];
	pid_t want = t->pid, tids[MAX_NS_LEVEL];
	/* Traced from birth by nestor, as its creator (driver.c): nothing for the root. */
	struct clone_args ca = { .flags = CLONE_PTRACE,
				 .exit_signal = t->core ? t->core->exit_signal : SIGCHLD };
	int r;

	/* A helper's members are its parent's children. */
	if (t->creator >= 0 && ctx->tasks[t->creator].helper) {
		ca.flags |= CLONE_PARENT;
		ca.exit_signal = 0;
	}
	if (t->pe->clone_files)
		ca.flags |= CLONE_FILES;
	if (t->pe->clone_fs)
		ca.flags |= CLONE_FS;
	if ((r = pidns_prepare_clone(ctx, idx, &ca, tids)) < 0)
		return r;
	if (t->pe->clone_vm)
		return vmshare_clone(ctx, idx, &ca, sharer_main, ch);
	pid_t pid = sys_clone3(&ca, sizeof(ca));

	/* nestor makes the root: it goes back to making children in its own. */
	if (pid != 0 && idx == 0 && (r = pidns_back_home(ctx)) < 0)
		return r;
	if (pid < 0)
		return errno == EEXIST ? log_error_ret(-EEXIST, "can't restore: pid %d is taken", want)
				       : log_error_errno(-errno, "cannot create task %d", want);
	if (pid == 0)
		task_main(ctx, idx, ch);
	return pid;
}

/* Whether a child forked from now on gets the images of task k and of all it makes. */
static int keep_images(struct restore_ctx *ctx, int k, bool keep)
{
	int r = region_fork(&ctx->tasks[k].images, keep);

	if (r < 0)
		return log_error_errno(r, "cannot mark the images of task %d", ctx->tasks[k].pid);
	for (int m = ctx->tasks[k].first_made; m >= 0; m = ctx->tasks[m].next_made)
		if ((r = keep_images(ctx, m, keep)) < 0)
			return r;
	return 0;
}

/*
 * Each child gets the images of its ancestors and of its own subtree, not
 * its siblings': a root forking 10,000 children copied the page tables of
 * all their images each time. Not in memory shared with another task, whose
 * marks would change under it.
 */
static int fork_trimmed(struct restore_ctx *ctx, int idx, int k, struct channels *ch)
{
	const struct restore_task *t = &ctx->tasks[idx];
	bool trim = t->vm_owner < 0 && !t->nr_sharers;
	int r;

	if (trim && (r = keep_images(ctx, k, true)) < 0)
		return r;
	if ((r = fork_task(ctx, k, ch)) < 0)
		return r;
	return trim ? keep_images(ctx, k, false) : 0;
}

static int trim_images(struct restore_ctx *ctx, int idx)
{
	const struct restore_task *t = &ctx->tasks[idx];
	int r;

	if (t->vm_owner >= 0 || t->nr_sharers)
		return 0;
	for (int k = t->first_made; k >= 0; k = ctx->tasks[k].next_made)
		if ((r = keep_images(ctx, k, false)) < 0)
			return r;
	return 0;
}

/* Session and own group first, then the children: they inherit both. */
int make_family(struct restore_ctx *ctx, int idx, struct channels *ch)
{
	struct restore_task *t = &ctx->tasks[idx];
	PstreeEntry *e = t->pe;
	int r;

	if (e->sid == e->pid && setsid() < 0)
		return log_error_errno(-errno, "cannot make task %d a session leader", t->pid);
	if (e->sid == e->pid && (r = tty_set_ctty(t)) < 0)
		return r;
	if (e->sid != e->pid && e->pgid == e->pid && setpgid(0, 0))
		return log_error_errno(-errno, "cannot make task %d a group leader", t->pid);
	if ((r = trim_images(ctx, idx)) < 0)
		return r;
	for (int k = t->first_made; k >= 0; k = ctx->tasks[k].next_made)
		if ((r = fork_trimmed(ctx, idx, k, ch)) < 0)
			return r;
	return pidns_finish(ctx, idx);
}

/* After the barrier every group leader exists: members join their groups. */
int join_group(struct restore_ctx *ctx, int idx, struct channels *ch)
{
	PstreeEntry *e = ctx->tasks[idx].pe;
	/* The group as the task sees it; 0: its leader is outside its pid
	 * namespace, and the group was inherited at its birth. */
	pid_t pgid = e->ns_pgid[ns_pid_depth(ctx, e->ns->id[NS_PID])];
	char c;

	task_report(ch->status_wr, 0, RST_STEP_CREATED, 0, 0);
	vmshare_parked(&ctx->tasks[idx]);
	if (read(ch->barrier_rd, &c, 1) != 1)
		return log_error_ret(-EPIPE, "task %d: nestor went away", e->pid);
	vmshare_wait_turn(ctx, &ctx->tasks[idx]);
	if (pgid && getpgid(0) != pgid && setpgid(0, pgid))
		return log_error_errno(-errno, "cannot put task %d in group %u", e->pid, e->pgid);
	return tty_set_foreground(&ctx->tasks[idx],
				  ctx->tasks[idx].core && ctx->tasks[idx].core->has_ctty_fg
					  ? pidns_translate(ctx, 2 /* F_OWNER_PGRP */,
							    ctx->tasks[idx].core->ctty_fg, idx)
					  : 0);
}

/*
 * Zombie children exit while we restore; the SIGCHLD they raise is not one
 * the task had pending, so it is consumed here (the task's own pending
 * signals are queued afterwards).
 */
/* Child k of task idx, if a zombie-to-be, has exited (not reaped). */
static int wait_zombie(struct restore_ctx *ctx, int idx, int k, bool *any)
{
	siginfo_t si;

	if (ctx->tasks[k].parent != idx || !ctx->tasks[k].zombie)
		return 0;
	if (waitid(P_PID, pidns_pid_seen_by(ctx, k, idx), &si, WEXITED | WNOWAIT))
		return log_error_errno(-errno, "cannot wait for zombie %d", ctx->tasks[k].pid);
	*any = true;
	return 0;
}

int settle_zombies(struct restore_ctx *ctx, int idx)
{
	bool any = false;
	int r;

	/* Its children are what it made, and what the helpers it made made. */
	for (int k = ctx->tasks[idx].first_made; k >= 0; k = ctx->tasks[k].next_made) {
		struct restore_task *c = &ctx->tasks[k];

		/* Helpers never existed: reap them. Zombies stay for the task to reap. */
		if (c->helper) {
			if (waitpid(pidns_pid_seen_by(ctx, k, idx), NULL, 0) < 0)
				return log_error_errno(-errno, "cannot reap helper %d", c->pid);
			any = true;
			for (int m = c->first_made; m >= 0; m = ctx->tasks[m].next_made)
				if ((r = wait_zombie(ctx, idx, m, &any)) < 0)
					return r;
		} else if ((r = wait_zombie(ctx, idx, k, &any)) < 0) {
			return r;
		}
	}
	if (any) {
		sigset_t chld;
		struct timespec zero = { 0, 0 };

		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		while (sigtimedwait(&chld, NULL, &zero) > 0)
			;
	}
	return 0;
}
