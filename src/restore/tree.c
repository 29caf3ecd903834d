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
	struct clone_args ca = { .exit_signal = t->core ? t->core->exit_signal : SIGCHLD };
	int r;

	/* A helper's members are its parent's children. */
	if (t->creator >= 0 && ctx->tasks[t->creator].helper) {
		ca.flags = CLONE_PARENT;
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
	for (size_t k = idx + 1; k < ctx->nr_tasks; k++) {
		if (ctx->tasks[k].creator != idx)
			continue;
		if ((r = fork_task(ctx, k, ch)) < 0)
			return r;
	}
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
int settle_zombies(struct restore_ctx *ctx, int idx)
{
	bool any = false;

	for (size_t k = idx + 1; k < ctx->nr_tasks; k++) {
		struct restore_task *c = &ctx->tasks[k];
		siginfo_t si;

		/* Helpers never existed: reap them. Zombies stay for the task to reap. */
		if (c->helper && c->creator == idx) {
			if (waitpid(pidns_pid_seen_by(ctx, k, idx), NULL, 0) < 0)
				return log_error_errno(-errno, "cannot reap helper %d", c->pid);
			any = true;
		}
		if (c->parent != idx || !c->zombie)
			continue;
		if (waitid(P_PID, pidns_pid_seen_by(ctx, k, idx), &si, WEXITED | WNOWAIT))
			return log_error_errno(-errno, "cannot wait for zombie %d", c->pid);
		any = true;
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
