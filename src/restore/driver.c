/*
 * nestor's side of the restore: it opens every file description once,
 * creates the root with its pid and traces the whole tree
 * (PTRACE_O_TRACEFORK). The tasks say how far they got through the status
 * pipe; the barrier lets them on once every task exists. Once all have
 * trapped at the end of their blob, nestor sets the registers, unmaps each
 * blob, parks every thread in an event stop, writes the pidfile, passes the
 * point of no return (EXITKILL cleared) and lets the tree go at once. On
 * any failure before that, it kills every task it made.
 */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/fault.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "files/files.h"
#include "files/locks.h"
#include "infect/ptrace.h"
#include "mem/mem.h"
#include "mem/cow.h"
#include "ns/ns.h"
#include "restore/restore-priv.h"
#include "tree/proc.h"
#include "tree/pstree.h"
#include "tree/thread.h"
#include "tree/timers.h"

static int find_terminal(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (isatty(fd))
			return fd;
	return -1;
}

static const char *step_name(uint32_t step)
{
	static const char *const names[] = {
		[RST_STEP_UNMAP] = "unmapping nestor", [RST_STEP_VDSO] = "moving the vdso",
		[RST_STEP_MMAP] = "mapping an area",   [RST_STEP_PAGES] = "reading pages",
		[RST_STEP_PROTECT] = "protecting an area", [RST_STEP_MADVISE] = "advising an area",
		[RST_STEP_MM_MAP] = "setting the mm fields", [RST_STEP_THREAD] = "thread state",
		[RST_STEP_CREDS] = "credentials",      [RST_STEP_RLIMITS] = "resource limits",
		[RST_STEP_ITIMERS] = "interval timers", [RST_STEP_LOCKS] = "taking a POSIX lock",
		[RST_STEP_SECCOMP] = "installing a seccomp filter",
		[RST_STEP_XSTATE] = "allowing an xsave feature",
		[RST_STEP_NS] = "entering a namespace",
	};

	return step < ARRAY_SIZE(names) && names[step] ? names[step] : "an unknown step";
}

/*
 * How nestor traces the tree; EXITKILL until the point of no return. Every
 * task and thread of the tree is made with CLONE_PTRACE (tree.c, the blob):
 * traced from birth with these options, in a stop of its own, and its
 * parent goes on (no fork event to wait for nestor at).
 */
#define RESTORE_TRACE_OPTS (PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP)

struct progress {
	size_t created, trapped, zombies_gone, live, zombies;
	bool released;
	/* By task index: a pidfd of each task nestor saw, or -1. Held so that a
	 * failed restore kills it whatever became of its parent, and never a
	 * stranger that took its pid since. */
	int *pidfds;
	struct assist_state as; /* helpers and the cursor assist (assist.c) */
};

/* A task nestor traces or fathered, seen alive: it is one of the tree's. */
static void note_task(struct restore_ctx *ctx, struct progress *pg, pid_t pid)
{
	int idx = pstree_index(ctx, pid);

	if (idx >= 0 && pg->pidfds[idx] < 0)
		pg->pidfds[idx] = fd_move_above(sys_pidfd_open(pid, 0), ctx->fd_base + 1);
	/* A task that is none of the tree's stops: one of the helpers, traced by birth. */
	if (idx < 0 && pstree_owner(ctx, pid) < 0)
		assist_note_helper(ctx, &pg->as, pid);
}

/* Reads what the tasks said; an error a task reported ends the restore. */
static int drain_status(struct restore_ctx *ctx, struct channels *ch, struct progress *pg)
{
	struct rst_status st;

	while (read(ch->status_rd, &st, sizeof(st)) == sizeof(st)) {
		int idx = pstree_index(ctx, st.pid), r;

		if (st.step == RST_STEP_CHILD) /* a task or a helper, which logged why */
			return st.err < 0 ? st.err : -EIO;
		if (st.step >= RST_STEP_ASSIST && st.step <= RST_STEP_ASSISTED_THREAD) {
			if ((r = assist_on_status(ctx, &pg->as, &st)) < 0)
				return r;
			continue;
		}
		if (idx < 0)
			return log_error_ret(-EIO, "an unknown task %d spoke", st.pid);
		switch (st.step) {
		case RST_STEP_CREATED:
			pg->created++;
			break;
		case RST_STEP_READY:
			ctx->tasks[idx].region = st.addr;
			ctx->tasks[idx].region_len = st.len;
			break;
		case RST_STEP_CHILD:
			return st.err < 0 ? st.err : -EIO; /* the task logged why */
		default:
			return log_error_errno(st.err < 0 ? st.err : -EIO,
					       "can't restore task %d: failed at %s (%#llx)", st.pid,
					       step_name(st.step), (unsigned long long)st.addr);
		}
	}
	if (pg->created == ctx->nr_tasks && !pg->released) {
		/* Every task exists and leads its own group if it should: let them go on. */
		for (size_t i = 0; i < ctx->nr_tasks; i++)
			if (!ctx->tasks[i].helper && write(ch->barrier_wr, "b", 1) != 1)
				return log_error_errno(-errno, "cannot release the tasks");
		pg->released = true;
	}
	return 0;
}

/* The task a thread belongs to, by tid; -1 if none. */
static int on_trap(struct restore_ctx *ctx, struct channels *ch, pid_t pid, struct progress *pg)
{
	int idx = pstree_owner(ctx, pid);
	struct user_regs_struct regs = { 0 };
	struct restore_task *t;
	siginfo_t si = { 0 };

	if (idx < 0)
		return log_error_ret(-EIO, "an unknown task %d stopped", pid);
	t = &ctx->tasks[idx];
	ptrace(PTRACE_GETREGS, pid, 0, &regs);
	/* The task said where its blob is before it jumped there. */
	if (!t->region && drain_status(ctx, ch, pg) < 0)
		return -EIO;
	if (!t->region || regs.rip < t->region || regs.rip >= t->region + t->region_len) {
		ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
		return log_error_ret(-EIO, "task %d stopped in the restorer (ip %#llx, blob at "
					   "%#llx, signal %d code %d, fault address %p)", pid,
				     (unsigned long long)regs.rip, (unsigned long long)t->region,
				     si.si_signo, si.si_code, si.si_addr);
	}
	t->trapped++;
	pg->trapped++;
	return 0;
}

static int on_stop(struct restore_ctx *ctx, struct channels *ch, pid_t pid, int status,
		   struct progress *pg)
{
	int event = status >> 16;

	if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
	    event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_STOP) {
		/* A task forked, or was born traced: on with it. */
		if (ptrace(PTRACE_CONT, pid, 0, 0))
			return log_error_errno(-errno, "cannot resume task %d", pid);
		return 0;
	}
	if (WSTOPSIG(status) == SIGTRAP)
		return on_trap(ctx, ch, pid, pg);
	/* A zombie-to-be dies of the signal it died of: let it through. */
	int idx = pstree_index(ctx, pid);
	if (idx >= 0 && ctx->tasks[idx].zombie) {
		if (ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(status)))
			return log_error_errno(-errno, "cannot resume task %d", pid);
		return 0;
	}
	return log_error_ret(-EIO, "task %d stopped with signal %d while being restored", pid,
			     WSTOPSIG(status));
}

static int on_exit_event(struct restore_ctx *ctx, struct channels *ch, pid_t pid, int status,
			 struct progress *pg)
{
	int idx = pstree_index(ctx, pid), r;

	/* A helper, or an owned init of the wrong pid that its helper killed. */
	if (idx < 0 || assist_is_victim(&pg->as, pid)) {
		pr_debug("helper %d exited", pid);
		return 0;
	}
	if (idx >= 0 && !is_live(&ctx->tasks[idx])) {
		pg->zombies_gone++;
		return 0;
	}
	r = drain_status(ctx, ch, pg);
	if (r < 0)
		return r;
	return log_error_ret(-ECHILD, "task %d died while being restored (status %#x)", pid,
			     status);
}

static int on_event(struct restore_ctx *ctx, struct channels *ch, struct progress *pg, pid_t pid,
		    int status)
{
	if (WIFSTOPPED(status))
		note_task(ctx, pg, pid);
	return WIFSTOPPED(status) ? on_stop(ctx, ch, pid, status, pg)
				  : on_exit_event(ctx, ch, pid, status, pg);
}

/*
 * The thread each SIGCHLD names, waited for alone: waitpid(-1) walks every
 * tracee in the kernel, so a wait per stop of a 10,000-task tree made the
 * restore quadratic. SIGCHLDs that come while one is pending are lost:
 * those stops are found by a sweep with waitpid(-1), as often as keeps its
 * cost (~150 ns a tracee here) near 10% of the time: every 2 us a thread,
 * 1 ms at least (a lost stop of a small tree waits no longer), 20 ms at most.
 */
static uint64_t sweep_ns(const struct progress *pg)
{
	uint64_t ns = (pg->live + pg->zombies) * 2000ULL;

	return MIN(MAX(ns, 1000000ULL), 20000000ULL);
}

static int wait_hinted(struct restore_ctx *ctx, struct channels *ch, struct progress *pg, int sfd,
		       size_t *ret_n)
{
	struct signalfd_siginfo si;
	int status, r;

	*ret_n = 0;
	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		pid_t pid = waitpid(si.ssi_pid, &status, __WALL | WNOHANG);

		if (pid <= 0)
			continue; /* reported already, or by a sweep */
		if ((r = on_event(ctx, ch, pg, pid, status)) < 0)
			return r;
		(*ret_n)++;
	}
	return 0;
}

static int sweep(struct restore_ctx *ctx, struct channels *ch, struct progress *pg, size_t *ret_n)
{
	int status, r;
	pid_t pid;

	*ret_n = 0;
	while ((pid = waitpid(-1, &status, __WALL | WNOHANG)) > 0) {
		if ((r = on_event(ctx, ch, pg, pid, status)) < 0)
			return r;
		(*ret_n)++;
	}
	if (pid < 0)
		return log_error_errno(-errno, "cannot wait for the tasks");
	return 0;
}

static bool tree_ready(const struct progress *pg)
{
	return pg->trapped >= pg->live && pg->zombies_gone >= pg->zombies;
}

/* Drives the tree through ptrace until every live task sits in its final trap. */
static int run_tree(struct restore_ctx *ctx, struct channels *ch, struct progress *pg)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC), deadline = now + RESTORE_TIMEOUT_NS +
								 ctx->nr_tasks * RESTORE_TASK_TIMEOUT_NS;
	uint64_t next_sweep = now;
	size_t hinted = 0, swept = 0, n;
	_cleanup_close_ int sfd = -1;
	sigset_t chld;
	int r;

	/* Woken by a task's word or by a stop (SIGCHLD), whichever comes first. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return log_error_errno(-errno, "cannot watch the tasks");

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		if (!is_live(&ctx->tasks[i]))
			pg->zombies++;
		else
			pg->live += 1 + ctx->tasks[i].pe->n_threads;
	}
	while (!tree_ready(pg)) {
		struct pollfd p[2] = { { ch->status_rd, POLLIN, 0 }, { sfd, POLLIN, 0 } };

		if ((r = drain_status(ctx, ch, pg)) < 0 || (r = wait_hinted(ctx, ch, pg, sfd, &n)) < 0)
			return r;
		hinted += n;
		if (n)
			continue;
		now = now_ns(CLOCK_MONOTONIC);
		if (now >= next_sweep) {
			if ((r = sweep(ctx, ch, pg, &n)) < 0)
				return r;
			swept += n;
			next_sweep = now + sweep_ns(pg);
			continue;
		}
		if (now > deadline)
			return log_error_ret(-ETIMEDOUT, "the tasks took too long to restore");
		poll(p, 2, (next_sweep - now) / 1000000 + 1);
	}
	pr_debug("every stop waited for: %zu named by their SIGCHLD, %zu found by sweeps", hinted,
		 swept);
	return 0;
}

/*
 * Sets every thread's registers, then starts the blob's unmap from inside
 * the task (finish_unmapped ends it): the unmaps of all tasks run side by
 * side.
 */
static int finish_task(struct restore_ctx *ctx, struct restore_task *t, struct remote *ret_rt)
{
	struct remote rt = { .pid = t->pid };
	long ret;
	int r;

	for (size_t k = 0; k < t->core->n_threads; k++)
		if ((r = thread_restore_regs(t->core->threads[k]->tid, t->core->threads[k])) < 0)
			return r;
	if (ptrace(PTRACE_GETREGS, t->pid, 0, &rt.regs))
		return log_error_errno(-errno, "cannot read registers of task %d", t->pid);
	rt.gadget = t->region + RST_GADGET_OFF;
	if (t->shared_files) {
		r = remote_syscall(&rt, __NR_close_range, &ret, ctx->fd_base, ~0U, 0, 0, 0, 0);
		if (r < 0 || ret < 0)
			return log_error_ret(r < 0 ? r : (int)ret, "cannot close nestor's fds in "
								  "task %d", t->pid);
	}
	if ((r = locks_restore_late(ctx, t, &rt)) < 0)
		return r;
	/* Timers tied to another thread: that thread exists only now. */
	if ((r = timers_restore_late(t, &rt)) < 0)
		return r;
	*ret_rt = rt;
	return remote_gadget_begin(ret_rt, __NR_munmap, t->region, t->region_len);
}

static int finish_unmapped(struct restore_task *t, struct remote *rt)
{
	long ret;
	int r = remote_gadget_end(rt, &ret);

	if (r < 0 || ret < 0)
		return log_error_ret(r < 0 ? r : (int)ret, "cannot unmap the restorer of task %d",
				     t->pid);
	return thread_restore_regs(t->pid, t->core->thread);
}

/* Calls fn for the main thread and every other thread of each live task; stops at an error. */
static int each_thread(struct restore_ctx *ctx, int (*fn)(pid_t tid))
{
	int r;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct restore_task *t = &ctx->tasks[i];

		if (!is_live(t))
			continue;
		for (size_t k = 0; k < t->core->n_threads; k++)
			if ((r = fn(t->core->threads[k]->tid)) < 0)
				return r;
		if ((r = fn(t->pid)) < 0)
			return r;
	}
	return 0;
}

/*
 * From the blob's final trap (a SIGTRAP signal-delivery stop) into a
 * PTRACE_EVENT_STOP, with the registers already set: a thread in that stop
 * whose tracer dies resumes at them, where the trap would have delivered
 * its SIGTRAP. Every thread is sent on its way first, then each is waited for.
 */
static int park_thread(pid_t tid)
{
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) || ptrace(PTRACE_CONT, tid, 0, 0))
		return log_error_errno(-errno, "cannot park thread %d", tid);
	return 0;
}

static int parked_thread(pid_t tid)
{
	int status;

	while (waitpid(tid, &status, __WALL) < 0)
		if (errno != EINTR)
			return log_error_errno(-errno, "cannot wait for thread %d", tid);
	if (!WIFSTOPPED(status) || status >> 16 != PTRACE_EVENT_STOP)
		return log_error_ret(-EIO, "thread %d did not park (status %#x)", tid, status);
	return 0;
}

/* The point of no return: from here, nestor's death lets the tree run. */
static int keep_thread(pid_t tid)
{
	if (ptrace(PTRACE_SETOPTIONS, tid, 0, RESTORE_TRACE_OPTS & ~PTRACE_O_EXITKILL))
		return log_error_errno(-errno, "cannot let thread %d outlive nestor", tid);
	return 0;
}

static int detach_thread(pid_t tid)
{
	if (ptrace(PTRACE_DETACH, tid, 0, 0))
		return log_error_errno(-errno, "cannot detach from thread %d", tid);
	return 0;
}

static int detach_tree(struct restore_ctx *ctx)
{
	bool first = true;
	int r;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct restore_task *t = &ctx->tasks[i];

		if (!is_live(t))
			continue;
		if (!first && (r = fault_point("detach-half")) < 0)
			return r;
		for (size_t k = 0; k < t->core->n_threads; k++)
			if ((r = detach_thread(t->core->threads[k]->tid)) < 0)
				return r;
		if ((r = detach_thread(t->pid)) < 0)
			return r;
		first = false;
	}
	return 0;
}

/*
 * Registers of every task first, then the pidfile, then the release of all
 * at once, so that no task runs before the whole tree is back and none runs
 * at all when the pidfile cannot be written.
 */
static int finish_tree(struct restore_ctx *ctx, struct pidfile *pf, pid_t root)
{
	_cleanup_free_ struct remote *rts = calloc(ctx->nr_tasks, sizeof(*rts));
	int last = -1, r = 0, rr;
	size_t begun = 0;

	if (!rts)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (is_live(&ctx->tasks[i]))
			last = i;
	for (int i = 0; i <= last && r == 0; i++) {
		if (i == last && (r = fault_point("finish-last")) < 0)
			break;
		if (is_live(&ctx->tasks[i]) && (r = finish_task(ctx, &ctx->tasks[i], &rts[i])) < 0)
			break;
		begun = i + 1;
	}
	/* Every unmap started is waited for, so that no task is left running. */
	for (size_t i = 0; i < begun; i++) {
		if (!is_live(&ctx->tasks[i]))
			continue;
		rr = finish_unmapped(&ctx->tasks[i], &rts[i]);
		r = r ? r : rr;
	}
	if (r < 0)
		return r;
	pr_debug("registers set, blobs unmapped");
	/* Every task has attached its segments: those destroyed at dump go again. */
	if ((r = ns_restore_late(ctx)) < 0)
		return r;
	if ((r = each_thread(ctx, park_thread)) < 0 || (r = each_thread(ctx, parked_thread)) < 0 ||
	    (r = pidfile_commit(pf, root)) < 0 ||
	    (r = fault_point("pidfile-written")) < 0 || (r = each_thread(ctx, keep_thread)) < 0 ||
	    (r = fault_point("kept")) < 0)
		return r;
	return detach_tree(ctx);
}

/* Opens a pidfd for each task nestor traces or fathered and has not seen yet. */
static bool find_unseen(struct restore_ctx *ctx, struct progress *pg)
{
	bool found = false;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct proc_status st;

		if (pg->pidfds[i] >= 0 || proc_read_status(ctx->tasks[i].pid, &st) < 0 ||
		    (st.tracer != getpid() && st.ppid != getpid()))
			continue;
		note_task(ctx, pg, ctx->tasks[i].pid);
		found |= pg->pidfds[i] >= 0;
	}
	return found;
}

/*
 * Kills what nestor made: each task it saw (by pidfd: a task released
 * already has another parent, and a pid of the images may belong to
 * someone else), and each it traces or fathered. Passes repeat until one
 * finds none new: a task being killed may have just forked. Returns once
 * every one is dead.
 */
static void kill_tree(struct restore_ctx *ctx, struct progress *pg)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + 5000000000ULL;
	bool more = true;

	for (int pass = 0; more && pass < 64; pass++) {
		for (size_t i = 0; i < ctx->nr_tasks; i++)
			if (pg->pidfds[i] >= 0)
				sys_pidfd_send_signal(pg->pidfds[i], SIGKILL);
		assist_kill_helpers(&pg->as);
		more = find_unseen(ctx, pg);
	}
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct pollfd p = { pg->pidfds[i], POLLIN, 0 };

		/* A pidfd is readable once its task has exited. */
		while (p.fd >= 0 && poll(&p, 1, 100) == 0 && now_ns(CLOCK_MONOTONIC) < deadline)
			;
	}
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
}

/* The pipes, and nestor's own fds, at fd_base and above: below is the tasks'. */
static int open_channels(struct restore_ctx *ctx, struct channels *ch)
{
	int p[3][2], base = ctx->fd_base, r;

	for (int i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC))
			return log_error_errno(-errno, "cannot create pipes");
		p[i][0] = fd_move_above(p[i][0], base + 1);
		p[i][1] = fd_move_above(p[i][1], base + 1);
	}
	ch->status_rd = p[0][0];
	ch->barrier_rd = p[1][0];
	ch->barrier_wr = p[1][1];
	ch->go_rd = p[2][0];
	ch->go_wr = p[2][1];
	if ((r = log_move_fd(base + 1)) < 0 || (ctx->dirfd = fd_move_above(ctx->dirfd, base + 1)) < 0)
		return log_error_errno(r < 0 ? r : ctx->dirfd, "cannot move nestor's fds");
	/* Reached through nestor's own /proc: a task's mount namespace may have none. */
	ctx->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->proc_fd >= 0 && (ctx->proc_fd = fd_move_above(ctx->proc_fd, base + 1)) < 0)
		ctx->proc_fd = -1;
	/*
	 * The status pipe sits exactly at fd_base: the blob closes all above it.
	 * nestor's own fds are above it by now, so whatever is still there was
	 * left open by nestor's caller (a shell's `exec {fd}>`): replaced.
	 */
	ch->status_wr = dup3(p[0][1], base, O_CLOEXEC);
	close(p[0][1]);
	if (ch->status_rd < 0 || ch->barrier_rd < 0 || ch->barrier_wr < 0 || ch->go_rd < 0 ||
	    ch->go_wr < 0 || ch->status_wr != base)
		return log_error_ret(-EBADF, "cannot place nestor's pipes at fd %d", base);
	fcntl(ch->status_rd, F_SETFL, O_NONBLOCK);
	return 0;
}

static void close_channels(struct channels *ch)
{
	int *fds[] = { &ch->status_rd, &ch->status_wr, &ch->barrier_rd,
		       &ch->barrier_wr, &ch->go_rd, &ch->go_wr };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

static int start_tree(struct restore_ctx *ctx, struct channels *ch, struct progress *pg,
		      pid_t *ret_root)
{
	sigset_t all, old;
	pid_t root;
	int r;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old); /* the tasks start with everything blocked */
	root = fork_task(ctx, 0, ch);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (root < 0)
		return root;
	*ret_root = root;
	note_task(ctx, pg, root);
	if ((r = fault_point("forked")) < 0)
		return r;
	/* EXITKILL: if nestor dies half way, the half-made tree dies with it. */
	if (ptrace(PTRACE_SEIZE, root, 0, RESTORE_TRACE_OPTS))
		return log_error_errno(-errno, "cannot trace task %d", root);
	if (write(ch->go_wr, "g", 1) != 1)
		return log_error_errno(-errno, "cannot start task %d", root);
	return 0;
}

int run_restore(struct restore_ctx *ctx, struct pidfile *pf)
{
	struct channels ch = { -1, -1, -1, -1, -1, -1 };
	int term_fd = ctx->opts->shell_job ? find_terminal() : -1, r;
	struct progress pg = { 0 };
	struct rlimit nofile;
	pid_t root = -1;

	/* Room for the tasks' fds and ours above them. */
	if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	pg.pidfds = malloc(ctx->nr_tasks * sizeof(*pg.pidfds));
	if (!pg.pidfds)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		pg.pidfds[i] = -1;
	assist_init(&pg.as, pg.pidfds);
	if ((r = open_channels(ctx, &ch)) < 0 || (r = files_open_table(ctx, term_fd)) < 0 ||
	    (r = locks_restore_descriptions(ctx)) < 0 || (r = mem_open_shms(ctx)) < 0 ||
	    (r = cow_plan(ctx)) < 0 ||
	    (pr_debug("descriptions opened"), r = start_tree(ctx, &ch, &pg, &root)) < 0 ||
	    (r = run_tree(ctx, &ch, &pg)) < 0 || (pr_debug("every task in its final trap"),
						   r = fault_point("tree-made")) < 0 ||
	    (r = finish_tree(ctx, pf, root)) < 0) {
		kill_tree(ctx, &pg);
		pidfile_abort(pf);
	}
	files_close_table(ctx);
	close_channels(&ch);
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (pg.pidfds[i] >= 0)
			close(pg.pidfds[i]);
	assist_free(&pg.as);
	free(pg.pidfds);
	return r < 0 ? r : root;
}
