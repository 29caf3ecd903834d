/*
 * The restore orchestrator. Everything is read and validated first. Then
 * nestor opens every file description once, creates the root with its pid,
 * and traces the whole tree (PTRACE_O_TRACEFORK): each task forks its own
 * children with their pids, sets its session and group, waits at a barrier
 * until every task exists, rebuilds itself and enters the restorer blob,
 * which ends in a trap. Once all tasks have trapped, nestor unmaps each
 * blob, sets the registers and lets the tree go at once.
 */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/signalfd.h>
#include <time.h>
#include <sys/wait.h>
#include "core/cr.h"
#include "tree/cgroup.h"
#include "files/files.h"
#include "core/kerndat.h"
#include "files/locks.h"
#include "core/log.h"
#include "mem/mem.h"
#include "tree/proc.h"
#include "tree/pstree.h"
#include "mem/vmshare.h"
#include "tree/signals.h"
#include "core/sys.h"
#include "tree/task.h"
#include "tree/thread.h"
#include "files/tty.h"
#include "tree/timers.h"
#include "files/anonfd.h"
#include "core/util.h"
#include "infect/vdso.h"

#define RESTORE_TIMEOUT_NS (60ULL * 1000000000)

/* The pipes every task inherits. */
struct channels {
	int status_rd, status_wr; /* tasks -> nestor: struct rst_status */
	int barrier_rd, barrier_wr; /* nestor -> tasks: one byte each once all exist */
	int go_rd, go_wr;           /* nestor -> root: traced, go on */
};

static int read_files(struct restore_ctx *ctx)
{
	struct img img;
	void *m;
	int r;

	r = img_open(ctx->dirfd, IMG_FILES, 0, &img);
	if (r < 0)
		return r;
	while ((r = img_read(&img, &m)) > 0) {
		FileEntry **n = array_add(&ctx->files, ctx->nr_files, sizeof(*n));

		if (!n) {
			img_free(IMG_FILES, m);
			r = -ENOMEM;
			break;
		}
		ctx->nr_files++;
		*n = m;
	}
	img_close(&img);
	return r;
}

/* A task that runs again, as opposed to a zombie or a helper. */
static bool is_live(const struct restore_task *t)
{
	return !t->zombie && !t->helper;
}

static int read_task_images(struct restore_ctx *ctx, struct restore_task *t)
{
	int r;

	if (!is_live(t))
		return 0;
	if ((r = img_read_one(ctx->dirfd, IMG_CORE, t->pid, (void **)&t->core)) < 0 ||
	    (t->vm_owner < 0 && (r = img_read_one(ctx->dirfd, IMG_MM, t->pid, (void **)&t->mm)) < 0) ||
	    (r = img_read_one(ctx->dirfd, IMG_FDINFO, t->pid, (void **)&t->fdinfo)) < 0)
		return r;
	return 0;
}

static int read_images(struct restore_ctx *ctx)
{
	InventoryEntry *inv;
	int r;

	if (faccessat(ctx->dirfd, "inventory.img", F_OK, AT_SYMLINK_NOFOLLOW))
		return log_error_ret(-ENOENT, "can't restore: %s holds no complete dump "
					      "(no inventory.img)", ctx->opts->dir);
	r = img_read_one(ctx->dirfd, IMG_INVENTORY, 0, (void **)&ctx->inv);
	if (r < 0)
		return r;
	inv = ctx->inv;
	if (inv->page_size != PAGE_SIZE || inv->root_pid == 0)
		return log_error_ret(-EINVAL, "image inventory.img is corrupted or from another machine");
	if ((r = pstree_read(ctx)) < 0 || (r = read_files(ctx)) < 0)
		return r;
	size_t helpers = 0;
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		helpers += ctx->tasks[i].helper;
	if (inv->n_pids != ctx->nr_tasks - helpers || ctx->tasks[0].pid != (pid_t)inv->root_pid)
		return log_error_ret(-EINVAL, "images inventory.img and pstree.img disagree");
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if ((r = read_task_images(ctx, &ctx->tasks[i])) < 0)
			return r;
	return 0;
}

static int validate_fds(struct restore_ctx *ctx, struct restore_task *t)
{
	for (size_t i = 0; i < t->fdinfo->n_fds; i++) {
		const FdEntry *e = t->fdinfo->fds[i];
		const FileEntry *f = restore_file(ctx, e->file_id);

		if (!f || f->flags == (uint32_t)-1 || e->fd > 1 << 20 ||
		    (i && e->fd <= t->fdinfo->fds[i - 1]->fd))
			return log_error_ret(-EINVAL, "image fdinfo-%d.img is corrupted", t->pid);
		if (f->type == FILE_TYPE__TTY && !ctx->opts->shell_job)
			return log_error_ret(-EINVAL, "can't restore: task %d had a terminal; restore "
						      "with --shell-job", t->pid);
	}
	return 0;
}

static int check_free(pid_t pid)
{
	char p[32];

	snprintf(p, sizeof(p), "/proc/%d", pid);
	if (!access(p, F_OK))
		return log_error_ret(-EEXIST, "can't restore: pid %d is taken by a running process",
				     pid);
	return 0;
}

static int validate(struct restore_ctx *ctx)
{
	int r;

	if ((r = files_validate(ctx)) < 0 || (r = vdso_validate(ctx->inv)) < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct restore_task *t = &ctx->tasks[i];

		if ((r = check_free(t->pid)) < 0)
			return r;
		for (size_t k = 0; k < t->pe->n_threads; k++)
			if ((r = check_free(t->pe->threads[k])) < 0)
				return r;
		if (!is_live(t))
			continue;
		if ((r = task_validate(ctx, t)) < 0 || (r = signals_validate(t)) < 0 ||
		    (r = timers_validate(t)) < 0 || (r = cgroup_validate(t)) < 0 ||
		    (t->mm && (r = mem_validate(ctx, t)) < 0) || (r = validate_fds(ctx, t)) < 0 ||
		    (r = locks_validate(t)) < 0 || (r = tty_validate_ctty(ctx, t)) < 0)
			return r;
		ctx->fd_base = MAX(ctx->fd_base, files_max_fd(t) + 1);
	}
	ctx->fd_base = MAX(ctx->fd_base, 3);
	return 0;
}

static void report(int fd, int err, uint32_t step, uint64_t addr, uint64_t len)
{
	struct rst_status st = { err, step, addr, len, getpid(), 0 };

	(void)!write(fd, &st, sizeof(st));
}

static int find_terminal(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (isatty(fd))
			return fd;
	return -1;
}

/*
 * glibc's rseq area is about to vanish with our memory: the kernel would
 * kill us writing to it. __rseq_size may be the feature size (20) while
 * glibc registered its whole 32-byte area, so try both.
 */
static int unregister_rseq(void)
{
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
	unsigned int sizes[] = { __rseq_size, 32 };

	if (!__rseq_size)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		if (!sys_rseq(area, sizes[i], 1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG))
			return 0;
	return log_error_errno(-errno, "cannot unregister nestor's own rseq area");
}

/* ---- in the tasks ---- */

__attribute__((noreturn)) static void task_main(struct restore_ctx *ctx, int idx,
						 struct channels *ch);

static void sharer_main(struct restore_ctx *ctx, int idx, void *ch)
{
	task_main(ctx, idx, ch);
}

static pid_t fork_task(struct restore_ctx *ctx, int idx, struct channels *ch)
{
	struct restore_task *t = &ctx->tasks[idx];
	pid_t want = t->pid;
	struct clone_args ca = { .exit_signal = t->core ? t->core->exit_signal : SIGCHLD,
				 .set_tid = (uint64_t)&want, .set_tid_size = 1 };

	/* A helper's members are its parent's children. */
	if (t->creator >= 0 && ctx->tasks[t->creator].helper) {
		ca.flags = CLONE_PARENT;
		ca.exit_signal = 0;
	}
	if (t->pe->clone_files)
		ca.flags |= CLONE_FILES;
	if (t->pe->clone_fs)
		ca.flags |= CLONE_FS;
	if (t->pe->clone_vm)
		return vmshare_clone(ctx, idx, &ca, sharer_main, ch);
	pid_t pid = sys_clone3(&ca, sizeof(ca));

	if (pid < 0)
		return errno == EEXIST ? log_error_ret(-EEXIST, "can't restore: pid %d is taken", want)
				       : log_error_errno(-errno, "cannot create task %d", want);
	if (pid == 0)
		task_main(ctx, idx, ch);
	return pid;
}

/* Session and own group first, then the children: they inherit both. */
static int make_family(struct restore_ctx *ctx, int idx, struct channels *ch)
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
	return 0;
}

/* After the barrier every group leader exists: members join their groups. */
static int join_group(struct restore_ctx *ctx, int idx, struct channels *ch)
{
	PstreeEntry *e = ctx->tasks[idx].pe;
	char c;

	report(ch->status_wr, 0, RST_STEP_CREATED, 0, 0);
	vmshare_parked(&ctx->tasks[idx]);
	if (read(ch->barrier_rd, &c, 1) != 1)
		return log_error_ret(-EPIPE, "task %d: nestor went away", e->pid);
	vmshare_wait_turn(ctx, &ctx->tasks[idx]);
	if (getpgid(0) != (pid_t)e->pgid && setpgid(0, e->pgid))
		return log_error_errno(-errno, "cannot put task %d in group %u", e->pid, e->pgid);
	return tty_set_foreground(&ctx->tasks[idx]);
}

/* A zombie ends as it ended: its parent reaps it after the restore. */
__attribute__((noreturn)) static void become_zombie(uint32_t status)
{
	struct rlimit none = { 0, 0 };
	sigset_t all;

	if (WIFSIGNALED(status)) {
		setrlimit(RLIMIT_CORE, &none);
		signal(WTERMSIG(status), SIG_DFL);
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		kill(getpid(), WTERMSIG(status));
	}
	_exit(WEXITSTATUS(status));
}

/*
 * Zombie children exit while we restore; the SIGCHLD they raise is not one
 * the task had pending, so it is consumed here (the task's own pending
 * signals are queued afterwards).
 */
static int settle_zombies(struct restore_ctx *ctx, int idx)
{
	bool any = false;

	for (size_t k = idx + 1; k < ctx->nr_tasks; k++) {
		struct restore_task *c = &ctx->tasks[k];
		siginfo_t si;

		/* Helpers never existed: reap them. Zombies stay for the task to reap. */
		if (c->helper && c->creator == idx) {
			if (waitpid(c->pid, NULL, 0) < 0)
				return log_error_errno(-errno, "cannot reap helper %d", c->pid);
			any = true;
		}
		if (c->parent != idx || !c->zombie)
			continue;
		if (waitid(P_PID, c->pid, &si, WEXITED | WNOWAIT))
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

/* Becomes the task, up to the jump into the blob. */
static int task_prepare(struct restore_ctx *ctx, struct restore_task *t, struct channels *ch,
			struct rst_region *reg)
{
	int base = ctx->fd_base, r;

	if ((!t->pe->clone_files && (r = anonfd_restore_task(ctx, t)) < 0) ||
	    (r = task_restore_early(ctx, t)) < 0 || (r = signals_restore(t)) < 0 ||
	    (r = timers_restore(t)) < 0 || (r = cgroup_restore(t)) < 0 ||
	    (r = mem_prepare(ctx, t, base + 1, reg)) < 0)
		return r;
	task_fill_args(t, reg->args);
	signals_fill_args(t, reg->args);
	mem_fill_shms(ctx, t, reg->args);
	vmshare_fill_args(ctx, t, reg);
	locks_fill_args(t, reg->args);
	reg->args->status_fd = ch->status_wr;
	/* A shared table is not the blob's to close: another task may still need
	 * its descriptors there. nestor closes them at the end. */
	reg->args->close_from = t->shared_files ? -1 : base + 1;
	reg->args->pid = t->pid;
	return files_restore_dirs(ctx, t);
}

__attribute__((noreturn)) static void task_main(struct restore_ctx *ctx, int idx,
						 struct channels *ch)
{
	struct restore_task *t = &ctx->tasks[idx];
	struct rst_region reg;
	char c;
	int r;

	/*
	 * The root waits until nestor traces it; the others are traced from
	 * birth. Its copy of the write end goes first: a nestor that dies
	 * before the go ends the wait (EOF), and the root with it.
	 */
	if (idx == 0 && (close(ch->go_wr), read(ch->go_rd, &c, 1) != 1))
		_exit(1);
	/*
	 * Descriptors before children: a child sharing this table (CLONE_FILES)
	 * must not open anything while its owner fills it; the others close
	 * what they inherit and fill their own.
	 */
	if (is_live(t) && !t->pe->clone_files) {
		close_range(0, ctx->fd_base - 1, 0);
		if ((r = files_restore_fds(ctx, t)) < 0)
			goto fail;
	}
	if ((r = make_family(ctx, idx, ch)) < 0)
		goto fail;
	if (t->helper) { /* its members exist: the leader dies again */
		report(ch->status_wr, 0, RST_STEP_CREATED, 0, 0);
		_exit(0);
	}
	if ((r = join_group(ctx, idx, ch)) < 0)
		goto fail;
	if (t->zombie)
		become_zombie(t->pe->exit_status);
	if ((r = settle_zombies(ctx, idx)) < 0 || (r = task_prepare(ctx, t, ch, &reg)) < 0 ||
	    (!t->no_rseq && (r = unregister_rseq()) < 0))
		goto fail;
	report(ch->status_wr, 0, RST_STEP_READY, (uint64_t)reg.start, reg.len);
	/*
	 * In a shared table our log fd is also the other task's: closed here, its
	 * number could become one of the other's files while that one still
	 * logs to it. nestor closes it with the rest at the end.
	 */
	if (!t->shared_files && t->vm_owner < 0 && !t->nr_sharers)
		log_close();
	asm volatile("mov %0, %%rsp\n\t"
		     "jmp *%1\n\t"
		     :
		     : "r"(reg.stack_top), "r"(reg.start), "D"(reg.args)
		     : "memory");
	__builtin_unreachable();
fail:
	report(ch->status_wr, r, RST_STEP_CHILD, 0, 0);
	_exit(1);
}

/* ---- in nestor ---- */

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
	};

	return step < ARRAY_SIZE(names) && names[step] ? names[step] : "an unknown step";
}

struct progress {
	size_t created, trapped, zombies_gone, live, zombies;
	bool released;
};

/* Reads what the tasks said; an error a task reported ends the restore. */
static int drain_status(struct restore_ctx *ctx, struct channels *ch, struct progress *pg)
{
	struct rst_status st;

	while (read(ch->status_rd, &st, sizeof(st)) == sizeof(st)) {
		int idx = pstree_index(ctx, st.pid);

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
static int owner_of(const struct restore_ctx *ctx, pid_t tid)
{
	int idx = pstree_index(ctx, tid);

	for (size_t i = 0; idx < 0 && i < ctx->nr_tasks; i++)
		for (size_t k = 0; k < ctx->tasks[i].pe->n_threads; k++)
			if (ctx->tasks[i].pe->threads[k] == (uint32_t)tid)
				idx = i;
	return idx;
}

static int on_trap(struct restore_ctx *ctx, struct channels *ch, pid_t pid, struct progress *pg)
{
	int idx = owner_of(ctx, pid);
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

/* Drives the tree through ptrace until every live task sits in its final trap. */
static int run_tree(struct restore_ctx *ctx, struct channels *ch)
{
	struct progress pg = { 0 };
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + RESTORE_TIMEOUT_NS;
	_cleanup_close_ int sfd = -1;
	sigset_t chld;
	int status, r;

	/* Woken by a task's word or by a stop (SIGCHLD), whichever comes first. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return log_error_errno(-errno, "cannot watch the tasks");

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		if (!is_live(&ctx->tasks[i]))
			pg.zombies++;
		else
			pg.live += 1 + ctx->tasks[i].pe->n_threads;
	}
	while (pg.trapped < pg.live || pg.zombies_gone < pg.zombies) {
		pid_t pid;

		if ((r = drain_status(ctx, ch, &pg)) < 0)
			return r;
		pid = waitpid(-1, &status, __WALL | WNOHANG);
		if (pid < 0)
			return log_error_errno(-errno, "cannot wait for the tasks");
		if (pid == 0) {
			struct pollfd p[2] = { { ch->status_rd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
			struct signalfd_siginfo si;

			if (now_ns(CLOCK_MONOTONIC) > deadline)
				return log_error_ret(-ETIMEDOUT, "the tasks took too long to restore");
			poll(p, 2, 100);
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			continue;
		}
		r = WIFSTOPPED(status) ? on_stop(ctx, ch, pid, status, &pg)
				       : on_exit_event(ctx, ch, pid, status, &pg);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Sets every thread's registers, then unmaps the blob from inside the task. */
static int finish_task(struct restore_ctx *ctx, struct restore_task *t)
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
	/* Timers tied to another thread: that thread exists only now. */
	if ((r = timers_restore_late(t, &rt)) < 0)
		return r;
	r = remote_syscall(&rt, __NR_munmap, &ret, t->region, t->region_len, 0, 0, 0, 0);
	if (r < 0 || ret < 0)
		return log_error_ret(r < 0 ? r : (int)ret, "cannot unmap the restorer of task %d",
				     t->pid);
	return thread_restore_regs(t->pid, t->core->thread);
}

static int detach_task(struct restore_task *t)
{
	for (size_t k = 0; k < t->core->n_threads; k++)
		if (ptrace(PTRACE_DETACH, t->core->threads[k]->tid, 0, 0))
			return log_error_errno(-errno, "cannot detach from thread %u",
					       t->core->threads[k]->tid);
	if (ptrace(PTRACE_DETACH, t->pid, 0, 0))
		return log_error_errno(-errno, "cannot detach from task %d", t->pid);
	return 0;
}

static int finish_tree(struct restore_ctx *ctx)
{
	int r;

	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (is_live(&ctx->tasks[i]) && (r = finish_task(ctx, &ctx->tasks[i])) < 0)
			return r;
	/* All at once, so that no task runs before the whole tree is back. */
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (is_live(&ctx->tasks[i]) && (r = detach_task(&ctx->tasks[i])) < 0)
			return r;
	return 0;
}

/*
 * Kills what nestor made: a task it traces or fathered. A pid of the images
 * may belong to someone else (a restore refused because the pid is taken).
 */
static void kill_tree(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct proc_status st;

		if (proc_read_status(ctx->tasks[i].pid, &st) == 0 &&
		    (st.tracer == getpid() || st.ppid == getpid()))
			kill(ctx->tasks[i].pid, SIGKILL);
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
	/* The status pipe sits exactly at fd_base: the blob closes all above it. */
	ch->status_wr = fcntl(p[0][1], F_DUPFD_CLOEXEC, base);
	close(p[0][1]);
	if (ch->status_rd < 0 || ch->barrier_rd < 0 || ch->barrier_wr < 0 || ch->go_rd < 0 ||
	    ch->go_wr < 0 || ch->status_wr != base)
		return log_error_ret(-EBADF, "cannot place nestor's pipes at fd %d", base);
	fcntl(ch->status_rd, F_SETFL, O_NONBLOCK);
	return 0;
}

static int run_restore(struct restore_ctx *ctx)
{
	struct channels ch = { -1, -1, -1, -1, -1, -1 };
	int term_fd = ctx->opts->shell_job ? find_terminal() : -1, r;
	struct rlimit nofile;
	sigset_t all, old;
	pid_t root;

	/* Room for the tasks' fds and ours above them. */
	if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	if ((r = open_channels(ctx, &ch)) < 0 || (r = files_open_table(ctx, term_fd)) < 0 ||
	    (r = locks_restore_descriptions(ctx)) < 0 || (r = mem_open_shms(ctx)) < 0)
		return r;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old); /* the tasks start with everything blocked */
	root = fork_task(ctx, 0, &ch);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (root < 0)
		return root;
	/* EXITKILL: if nestor dies half way, the half-made tree dies with it. */
	if (ptrace(PTRACE_SEIZE, root, 0,
		   PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
			   PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_SUSPEND_SECCOMP)) {
		r = log_error_errno(-errno, "cannot trace task %d", root);
		goto kill;
	}
	if (write(ch.go_wr, "g", 1) != 1) {
		r = log_error_errno(-errno, "cannot start task %d", root);
		goto kill;
	}
	if ((r = run_tree(ctx, &ch)) < 0 || (r = finish_tree(ctx)) < 0)
		goto kill;
	files_close_table(ctx);
	return root;
kill:
	kill_tree(ctx);
	files_close_table(ctx);
	return r;
}

static int write_pidfile(const char *path, pid_t pid)
{
	char buf[32];
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return log_error_errno(-errno, "cannot create pidfile %s", path);
	snprintf(buf, sizeof(buf), "%d", pid);
	return write_all(fd, buf, strlen(buf));
}

static void free_ctx(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		img_free(IMG_FILES, ctx->files[i]);
	free(ctx->files);
	img_free(IMG_INVENTORY, ctx->inv);
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		img_free(IMG_PSTREE, ctx->tasks[i].pe);
		img_free(IMG_CORE, ctx->tasks[i].core);
		img_free(IMG_MM, ctx->tasks[i].mm);
		img_free(IMG_FDINFO, ctx->tasks[i].fdinfo);
	}
	free(ctx->tasks);
	for (size_t i = 0; i < ctx->nr_shms; i++)
		if (ctx->shms[i].addr)
			munmap((void *)ctx->shms[i].addr, ctx->shms[i].size);
	free(ctx->shms);
	if (ctx->dirfd >= 0)
		close(ctx->dirfd);
}

int cr_restore(const struct opts *o)
{
	struct restore_ctx ctx = { .opts = o, .dirfd = -1 };
	int r, status;
	pid_t pid;

	ctx.dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx.dirfd < 0) {
		r = log_error_errno(-errno, "can't restore: cannot open images dir %s", o->dir);
		goto out;
	}
	r = log_init(o->verbosity, ctx.dirfd, o->log_file);
	if (r < 0) {
		log_error_errno(r, "cannot open log file %s", o->log_file);
		goto out;
	}
	if ((r = kerndat_init()) < 0 || (r = read_images(&ctx)) < 0 || (r = validate(&ctx)) < 0)
		goto out;
	r = pid = run_restore(&ctx);
	if (r < 0)
		goto out;
	pr_info("tree of task %d restored (%zu tasks)", pid, ctx.nr_tasks);
	if (o->pidfile && (r = write_pidfile(o->pidfile, pid)) < 0) {
		kill_tree(&ctx);
		goto out;
	}
	if (o->detach) {
		r = 0;
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	free_ctx(&ctx);
	return r;
}
