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
#include <sys/prctl.h>
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
 * Spins a moment before it sleeps: the word comes right after nestor set
 * the machine's ns_last_pid, and any fork of anyone in between takes the pid.
 */
static ssize_t read_word(int fd, char *c)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + 20000000;
	ssize_t n;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while ((n = read(fd, c, 1)) < 0 && errno == EAGAIN && now_ns(CLOCK_MONOTONIC) < end)
		;
	fcntl(fd, F_SETFL, 0);
	return n < 0 && errno == EAGAIN ? read(fd, c, 1) : n;
}

#define ASSIST_TRIES 16

/* One clone of owned init idx with nestor's cursors: its pid, 0 in the child. */
static pid_t assisted_clone(struct restore_ctx *ctx, int idx, struct channels *ch, int go,
			    bool reparent, int *ret_pidfd, int ok[2])
{
	struct clone_args ca = { .flags = CLONE_PTRACE | CLONE_PIDFD,
				 .pidfd = (uint64_t)ret_pidfd };
	pid_t tids[MAX_NS_LEVEL], pid;
	char c;

	/* Reparented to its creator when this helper exits, or its creator's from birth. */
	if (reparent)
		ca.exit_signal = SIGCHLD;
	else
		ca.flags |= CLONE_PARENT;
	task_report(ch->status_wr, 0, RST_STEP_ASSIST, idx, go);
	if (read_word(go, &c) != 1)
		return log_error_ret(-EPIPE, "task %d: nestor went away", ctx->tasks[idx].pid);
	pidns_prepare_owned(ctx, idx, &ca, tids);
	pr_debug("assist: word got, cloning");
	pid = sys_clone3(&ca, sizeof(ca));
	if (pid == 0) {
		char c;

		/* Nothing until its pids are proved: a wrong one only dies. */
		close(ok[1]);
		if (read(ok[0], &c, 1) != 1)
			_exit(1);
		close(ok[0]);
	}
	if (pid < 0)
		return errno == EEXIST ? log_error_ret(-EEXIST, "can't restore: pid %d is taken",
						       ctx->tasks[idx].pid)
				       : log_error_errno(-errno, "cannot create task %d",
							 ctx->tasks[idx].pid);
	return pid;
}

/*
 * The helper that clones an owned init (ns/pid-owned.c): inside the owner
 * of the init's pid namespace, so that the namespace is owned by it; nestor
 * sets the outer levels' cursors once it asks, and the whole vector is
 * proved after. When the creator is a subreaper in this helper's pid
 * namespace (reparent), the init is the helper's child until it exits: one
 * that came out with a pid another process took meanwhile is killed and
 * reaped here, and the clone tried again once that pid is free.
 */
static __attribute__((noreturn)) void assist_main(struct restore_ctx *ctx, int idx,
						  struct channels *ch, bool reparent)
{
	int go[2] = { -1, -1 }, pidfd = -1, r;
	pid_t pid = -1;

	if ((r = userns_enter_owner(ctx, idx, pidns_owner_of_init(ctx, idx))) < 0)
		goto out;
	if (pipe2(go, O_CLOEXEC) || (go[0] = fd_move_above(go[0], ctx->fd_base + 1)) < 0) {
		r = log_error_errno(-errno, "cannot make a pipe");
		goto out;
	}
	for (int tries = 1;; tries++) {
		int ok[2];
		pid_t got = 0;

		if (pipe2(ok, O_CLOEXEC)) {
			r = log_error_errno(-errno, "cannot make a pipe");
			break;
		}
		pid = assisted_clone(ctx, idx, ch, go[0], reparent, &pidfd, ok);
		if (pid == 0)
			task_main(ctx, idx, ch);
		close(ok[0]);
		r = pid < 0 ? pid
			    : pidns_check_got(ctx, idx, pidfd, tries == ASSIST_TRIES || !reparent,
					      &got);
		/* A wrong one is named: its pid may be another task's. */
		task_report(ch->status_wr, r == -EAGAIN ? 0 : r, RST_STEP_ASSISTED, idx,
			    r < 0 ? got : 0);
		if (r == 0 && write(ok[1], "k", 1) != 1)
			r = log_error_errno(-errno, "cannot start task %d", ctx->tasks[idx].pid);
		close(ok[1]);
		if (r != -EAGAIN)
			break;
		sys_pidfd_send_signal(pidfd, SIGKILL);
		while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
			;
		close(pidfd);
		pidns_wait_free(ctx->tasks[idx].pe->ns_pid[0]);
	}
	if (r < 0 && pid > 0)
		sys_pidfd_send_signal(pidfd, SIGKILL);
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
	pid_t pid = pidns_clone_spare(ctx, pidns_of(ctx, idx), 2 * idx + 2, &ca);
	int r;

	if (pid == 0) {
		for (int k = ctx->tasks[idx].first_made; k >= 0; k = ctx->tasks[k].next_made)
			if ((r = fork_task(ctx, k, ch)) < 0) {
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
	int *rd = t->owned_ready, r = 0;
	sigset_t chld;
	pid_t pid;
	struct timespec zero = { 0, 0 };

	/* The helper is in the namespace the creator is in: the init it made comes to the
	 * creator when it exits, so failed tries can be its own to reap. */
	bool reparent = pidns_parent_of(ctx, pidns_of(ctx, idx)) == pidns_of(ctx, t->creator);

	if (reparent && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		return log_error_errno(-errno, "cannot make task %d's creator a subreaper", t->pid);
	if (pipe2(rd, O_CLOEXEC) || (rd[0] = fd_move_above(rd[0], ctx->fd_base + 1)) < 0 ||
	    (rd[1] = fd_move_above(rd[1], ctx->fd_base + 1)) < 0)
		return log_error_errno(-errno, "cannot make a pipe");
	pid = pidns_clone_spare(ctx, pidns_parent_of(ctx, pidns_of(ctx, idx)), 2 * idx + 1, &ca);
	if (pid == 0)
		assist_main(ctx, idx, ch, reparent);
	if (pid < 0)
		r = log_error_errno(-errno, "cannot fork the helper of task %d", t->pid);
	if (r == 0)
		r = wait_helper(pid, t->pid);
	/* Its own setting comes back later (task_restore_early). */
	if (reparent)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
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

	/* Another process on the machine may hold it for a moment (a fork right
	 * after a clone that took nestor's cursor for its pid): most go soon. */
	if (pid < 0 && errno == EEXIST && ctx->pid_nested) {
		pidns_wait_free(want);
		pid = sys_clone3(&ca, sizeof(ca));
	}

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
	if (pidns_owned_init(ctx, idx)) {
		char c;

		/* Its creator made its children (make_owned_children). */
		close(t->owned_ready[1]);
		if (read(t->owned_ready[0], &c, 1) != 1)
			return log_error_ret(-EPIPE, "task %d: its children were not made", t->pid);
		close(t->owned_ready[0]);
		return pidns_finish(ctx, idx);
	}
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
