/*
 * Making the tree, in the tasks: each task forks its own children with
 * their pids (clone3 set_tid), after it has made itself a session or group
 * leader if it is one, so that they inherit both. A helper stands in for a
 * dead leader and exits once its members exist; a zombie exits as it ended.
 */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <sched.h>
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
#include "ns/userns.h"
#include "restore/restore-priv.h"

static void sharer_main(struct restore_ctx *ctx, int idx, void *ch)
{
	task_main(ctx, idx, ch);
}

static int wait_helper(pid_t pid, pid_t for_pid)
{
	int status;

	while (waitpid(pid, &status, __WALL) < 0)
		if (errno != EINTR)
			return log_error_errno(-errno, "cannot wait for the helper of task %d",
					       for_pid);
	/* A helper that failed said why. */
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

/*
 * The helper that clones an owned init (ns/pid-owned.c): inside the owner
 * of the init's pid namespace, so that the namespace is owned by it; nestor
 * sets the outer levels' cursors once it asks, and the whole vector is
 * proved after. The init is the creator's child (CLONE_PARENT).
 */
static __attribute__((noreturn)) void assist_main(struct restore_ctx *ctx, int idx,
						  struct channels *ch)
{
	struct restore_task *t = &ctx->tasks[idx];
	int go[2] = { -1, -1 }, pidfd = -1, r;
	struct clone_args ca = { .flags = CLONE_PTRACE | CLONE_PARENT | CLONE_PIDFD,
				 .pidfd = (uint64_t)&pidfd };
	pid_t tids[MAX_NS_LEVEL], pid = -1;
	char c;

	if ((r = userns_enter_owner(ctx, idx, pidns_owner_of_init(ctx, idx))) < 0)
		goto out;
	if (pipe2(go, O_CLOEXEC) || (go[0] = fd_move_above(go[0], ctx->fd_base + 1)) < 0) {
		r = log_error_errno(-errno, "cannot make a pipe");
		goto out;
	}
	task_report(ch->status_wr, 0, RST_STEP_ASSIST, idx, go[0]);
	if (read(go[0], &c, 1) != 1) {
		r = log_error_ret(-EPIPE, "task %d: nestor went away", t->pid);
		goto out;
	}
	pidns_prepare_owned(ctx, idx, &ca, tids);
	pid = sys_clone3(&ca, sizeof(ca));
	if (pid == 0)
		task_main(ctx, idx, ch);
	if (pid < 0)
		r = errno == EEXIST ? log_error_ret(-EEXIST, "can't restore: pid %d is taken", t->pid)
				    : log_error_errno(-errno, "cannot create task %d", t->pid);
	else if ((r = pidns_check_got(ctx, idx, pidfd)) < 0)
		sys_pidfd_send_signal(pidfd, SIGKILL);
	task_report(ch->status_wr, r, RST_STEP_ASSISTED, idx, 0);
out:
	if (r < 0)
		task_report(ch->status_wr, r, RST_STEP_CHILD, 0, 0);
	_exit(r < 0);
}

static bool has_children(const struct restore_ctx *ctx, int idx)
{
	for (size_t k = idx + 1; k < ctx->nr_tasks; k++)
		if (ctx->tasks[k].creator == idx)
			return true;
	return false;
}

/*
 * An owned init's children: made by a proxy in the init's pid namespace,
 * privileged as their creator would be outside (every level set); when
 * the proxy exits they are the init's, as orphans of its namespace.
 */
static int make_owned_children(struct restore_ctx *ctx, int idx, struct channels *ch)
{
	struct clone_args ca = { .flags = CLONE_PTRACE, .exit_signal = SIGCHLD };
	pid_t tids[MAX_NS_LEVEL], pid;
	int r;

	if ((r = pidns_prepare_spare(ctx, pidns_of(ctx, idx), 2 * idx + 2, &ca, tids)) < 0)
		return r;
	pid = sys_clone3(&ca, sizeof(ca));
	if (pid == 0) {
		for (size_t k = idx + 1; k < ctx->nr_tasks; k++)
			if (ctx->tasks[k].creator == idx && (r = fork_task(ctx, k, ch)) < 0) {
				task_report(ch->status_wr, r, RST_STEP_CHILD, 0, 0);
				_exit(1);
			}
		_exit(0);
	}
	if (pid < 0)
		return log_error_errno(-errno, "cannot fork the proxy of task %d",
				       ctx->tasks[idx].pid);
	return wait_helper(pid, ctx->tasks[idx].pid);
}

static pid_t fork_owned_init(struct restore_ctx *ctx, int idx, struct channels *ch)
{
	struct restore_task *t = &ctx->tasks[idx];
	/* The init takes the helper's exit signal (CLONE_PARENT). */
	struct clone_args ca = { .flags = CLONE_PTRACE,
				 .exit_signal = t->core ? t->core->exit_signal : SIGCHLD };
	pid_t tids[MAX_NS_LEVEL], pid;
	int *rd = t->owned_ready, r;
	sigset_t chld;
	struct timespec zero = { 0, 0 };

	if (pipe2(rd, O_CLOEXEC) || (rd[0] = fd_move_above(rd[0], ctx->fd_base + 1)) < 0 ||
	    (rd[1] = fd_move_above(rd[1], ctx->fd_base + 1)) < 0)
		return log_error_errno(-errno, "cannot make a pipe");
	r = pidns_prepare_spare(ctx, pidns_parent_of(ctx, pidns_of(ctx, idx)), 2 * idx + 1, &ca,
				tids);
	pid = r < 0 ? -1 : sys_clone3(&ca, sizeof(ca));
	if (pid == 0)
		assist_main(ctx, idx, ch);
	if (r == 0 && pid < 0)
		r = log_error_errno(-errno, "cannot fork the helper of task %d", t->pid);
	if (r == 0)
		r = wait_helper(pid, t->pid);
	if (r == 0 && has_children(ctx, idx))
		r = make_owned_children(ctx, idx, ch);
	if (r == 0 && write(rd[1], "r", 1) != 1)
		r = log_error_errno(-errno, "cannot wake task %d", t->pid);
	close(rd[0]);
	close(rd[1]);
	/* The helpers' exits are no signal the task had pending. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (sigtimedwait(&chld, NULL, &zero) > 0)
		;
	return r < 0 ? r : 1;
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
	if (pidns_owned_init(ctx, idx))
		return fork_owned_init(ctx, idx, ch);
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
	if (pidns_owned_init(ctx, idx)) {
		char c;

		/* Its creator made its children (make_owned_children). */
		close(t->owned_ready[1]);
		if (read(t->owned_ready[0], &c, 1) != 1)
			return log_error_ret(-EPIPE, "task %d: its children were not made", t->pid);
		close(t->owned_ready[0]);
	}
	for (size_t k = idx + 1; k < ctx->nr_tasks && !pidns_owned_init(ctx, idx); k++) {
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
