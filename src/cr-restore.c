/* The restore orchestrator: read and validate everything, then create the
 * task with its pid, let it rebuild itself, and finish it through ptrace. */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "cr.h"
#include "files.h"
#include "kerndat.h"
#include "log.h"
#include "mem.h"
#include "signals.h"
#include "sys.h"
#include "task.h"
#include "util.h"
#include "vdso.h"

static int read_files(struct restore_ctx *ctx)
{
	struct img img;
	void *m;
	int r;

	r = img_open(ctx->dirfd, IMG_FILES, 0, &img);
	if (r < 0)
		return r;
	while ((r = img_read(&img, &m)) > 0) {
		FileEntry **n = realloc(ctx->files, (ctx->nr_files + 1) * sizeof(*n));
		if (!n) {
			img_free(IMG_FILES, m);
			r = -ENOMEM;
			break;
		}
		ctx->files = n;
		ctx->files[ctx->nr_files++] = m;
	}
	img_close(&img);
	return r;
}

static int read_images(struct restore_ctx *ctx)
{
	struct restore_task *t = &ctx->task;
	InventoryEntry *inv;
	int r;

	if (faccessat(ctx->dirfd, "inventory.img", F_OK, AT_SYMLINK_NOFOLLOW))
		return log_error_ret(-ENOENT, "can't restore: %s holds no complete dump "
					      "(no inventory.img)", ctx->opts->dir);
	r = img_read_one(ctx->dirfd, IMG_INVENTORY, 0, (void **)&ctx->inv);
	if (r < 0)
		return r;
	inv = ctx->inv;
	if (inv->n_pids != 1 || inv->pids[0] != inv->root_pid || inv->page_size != PAGE_SIZE ||
	    inv->root_pid == 0)
		return log_error_ret(-EINVAL, "image inventory.img is corrupted or from another machine");
	t->pid = inv->root_pid;
	if ((r = read_files(ctx)) < 0 ||
	    (r = img_read_one(ctx->dirfd, IMG_CORE, t->pid, (void **)&t->core)) < 0 ||
	    (r = img_read_one(ctx->dirfd, IMG_MM, t->pid, (void **)&t->mm)) < 0 ||
	    (r = img_read_one(ctx->dirfd, IMG_FDINFO, t->pid, (void **)&t->fdinfo)) < 0)
		return r;
	return 0;
}

static int validate(struct restore_ctx *ctx)
{
	struct restore_task *t = &ctx->task;
	int r;

	if ((r = files_validate(ctx)) < 0 || (r = task_validate(ctx, t)) < 0 ||
	    (r = signals_validate(t)) < 0 || (r = mem_validate(ctx, t)) < 0 ||
	    (r = vdso_validate(ctx->inv)) < 0)
		return r;
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

static void report(int fd, int err, uint32_t step, uint64_t addr, uint64_t len)
{
	struct rst_status st = { err, step, addr, len };

	(void)!write(fd, &st, sizeof(st));
}

static int move_fd(int *fd, int min_fd)
{
	int n = fd_move_above(*fd, min_fd);

	if (n < 0 && *fd >= 0)
		return n;
	*fd = n;
	return 0;
}

static int find_terminal(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (isatty(fd))
			return fd;
	return -1;
}

/* In the child: becomes the task, up to the jump into the blob. */
static int child_prepare(struct restore_ctx *ctx, int *status_fd, struct rst_region *reg)
{
	struct restore_task *t = &ctx->task;
	int term_fd = ctx->opts->shell_job ? find_terminal() : -1;
	int min_fd = MAX(files_max_fd(t) + 1, 3), r;
	struct rlimit nofile;

	/* Room for the task's fds and ours above them. */
	if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	if ((r = move_fd(status_fd, min_fd)) < 0 || (r = move_fd(&ctx->dirfd, min_fd + 1)) < 0 ||
	    (r = move_fd(&term_fd, min_fd + 1)) < 0 || (r = log_move_fd(min_fd + 1)) < 0)
		return log_error_errno(r, "cannot move nestor's descriptors above %d", min_fd);
	close_range(0, min_fd - 1, 0);
	if ((r = files_restore_fds(ctx, t, term_fd)) < 0 || (r = task_restore_early(ctx, t, term_fd)) < 0 ||
	    (r = signals_restore(t)) < 0 || (r = mem_prepare(ctx, t, min_fd + 1, reg)) < 0)
		return r;
	task_fill_args(t, reg->args);
	signals_fill_args(t, reg->args);
	reg->args->status_fd = *status_fd;
	reg->args->close_from = min_fd + 1;
	return files_restore_dirs(ctx, t);
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
		if (!syscall(SYS_rseq, area, sizes[i], 1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG))
			return 0;
	return log_error_errno(-errno, "cannot unregister nestor's own rseq area");
}

__attribute__((noreturn)) static void child_main(struct restore_ctx *ctx, int status_fd,
						 int go_fd)
{
	struct rst_region reg;
	sigset_t all;
	char c;
	int r;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	/* Wait until the parent traces us: the blob ends in a trap for it. */
	if (read(go_fd, &c, 1) != 1)
		_exit(1);
	close(go_fd);
	r = child_prepare(ctx, &status_fd, &reg);
	if (r < 0) {
		report(status_fd, r, RST_STEP_CHILD, 0, 0);
		_exit(1);
	}
	r = unregister_rseq();
	if (r < 0) {
		report(status_fd, r, RST_STEP_CHILD, 0, 0);
		_exit(1);
	}
	report(status_fd, 0, RST_STEP_READY, (uint64_t)reg.start, reg.len);
	log_close();
	asm volatile("mov %0, %%rsp\n\t"
		     "jmp *%1\n\t"
		     :
		     : "r"(reg.stack_top), "r"(reg.start), "D"(reg.args)
		     : "memory");
	__builtin_unreachable();
}

static const char *step_name(uint32_t step)
{
	static const char *const names[] = {
		[RST_STEP_UNMAP] = "unmapping nestor", [RST_STEP_VDSO] = "moving the vdso",
		[RST_STEP_MMAP] = "mapping an area",   [RST_STEP_PAGES] = "reading pages",
		[RST_STEP_PROTECT] = "protecting an area", [RST_STEP_MADVISE] = "advising an area",
		[RST_STEP_MM_MAP] = "setting the mm fields", [RST_STEP_THREAD] = "thread state",
		[RST_STEP_CREDS] = "credentials",      [RST_STEP_RLIMITS] = "resource limits",
		[RST_STEP_ITIMERS] = "interval timers",
	};

	return step < ARRAY_SIZE(names) && names[step] ? names[step] : "an unknown step";
}

/* Reads the child's first word: ready (with its region) or failed. */
static int wait_ready(pid_t pid, int status_fd, struct rst_status *st)
{
	ssize_t n = read(status_fd, st, sizeof(*st));

	if (n != sizeof(*st))
		return log_error_ret(-ECHILD, "task %d died while being restored", pid);
	if (st->step == RST_STEP_CHILD)
		return st->err < 0 ? st->err : -EIO; /* the child logged why */
	if (st->step != RST_STEP_READY)
		return log_error_ret(-EIO, "task %d sent a bad status", pid);
	return 0;
}

/* The blob either traps (done) or exits after writing why it failed. */
static int wait_blob(pid_t pid, int status_fd, const struct rst_status *ready)
{
	struct user_regs_struct regs = { 0 };
	struct rst_status st;
	int status, r;

	r = wait_stopped(pid, &status);
	if (r < 0)
		return log_error_errno(r, "cannot wait for task %d", pid);
	if (!WIFSTOPPED(status)) {
		if (read(status_fd, &st, sizeof(st)) == sizeof(st) && st.err < 0)
			return log_error_errno(st.err, "can't restore task %d: failed at %s (%#llx)",
					       pid, step_name(st.step), (unsigned long long)st.addr);
		return log_error_ret(-ECHILD, "task %d died in the restorer (status %#x)", pid,
				     status);
	}
	ptrace(PTRACE_GETREGS, pid, 0, &regs);
	if (WSTOPSIG(status) != SIGTRAP || regs.rip < ready->addr || regs.rip >= ready->addr + ready->len) {
		siginfo_t si = { 0 };

		ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
		return log_error_ret(-EIO, "task %d stopped with signal %d in the restorer "
					   "(ip %#llx, blob at %#llx, fault address %p)", pid,
				     WSTOPSIG(status), (unsigned long long)regs.rip,
				     (unsigned long long)ready->addr, si.si_addr);
	}
	return 0;
}

/* Unmaps the blob from inside the task, then gives it its registers and lets go. */
static int finish_task(struct restore_task *t, const struct rst_status *ready)
{
	struct remote rt = { .pid = t->pid };
	long ret;
	int r;

	if (ptrace(PTRACE_GETREGS, t->pid, 0, &rt.regs))
		return log_error_errno(-errno, "cannot read registers of task %d", t->pid);
	rt.gadget = ready->addr + RST_GADGET_OFF;
	r = remote_syscall(&rt, __NR_munmap, &ret, ready->addr, ready->len, 0, 0, 0, 0);
	if (r < 0 || ret < 0)
		return log_error_ret(r < 0 ? r : (int)ret, "cannot unmap the restorer of task %d",
				     t->pid);
	r = thread_restore_regs(t->pid, t->core->thread);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_DETACH, t->pid, 0, 0))
		return log_error_errno(-errno, "cannot detach from task %d", t->pid);
	return 0;
}

static pid_t create_task(struct restore_ctx *ctx, int status_pipe[2], int go_pipe[2])
{
	pid_t want = ctx->task.pid;
	struct clone_args ca = { .exit_signal = SIGCHLD, .set_tid = (uint64_t)&want,
				 .set_tid_size = 1 };
	pid_t pid = sys_clone3(&ca, sizeof(ca));

	if (pid < 0)
		return errno == EEXIST ? log_error_ret(-EEXIST, "can't restore: pid %d is taken", want)
				       : log_error_errno(-errno, "cannot create task %d", want);
	if (pid == 0) {
		close(status_pipe[0]);
		close(go_pipe[1]);
		child_main(ctx, status_pipe[1], go_pipe[0]);
	}
	return pid;
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

static int run_restore(struct restore_ctx *ctx)
{
	int status_pipe[2] = { -1, -1 }, go_pipe[2] = { -1, -1 };
	struct rst_status ready;
	pid_t pid;
	int r;

	if (pipe2(status_pipe, O_CLOEXEC) || pipe2(go_pipe, O_CLOEXEC))
		return log_error_errno(-errno, "cannot create pipes");
	pid = create_task(ctx, status_pipe, go_pipe);
	close(status_pipe[1]);
	close(go_pipe[0]);
	if (pid < 0) {
		r = pid;
		goto out;
	}
	/* EXITKILL: if nestor dies half way, the half-made task dies with it. */
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) {
		r = log_error_errno(-errno, "cannot trace task %d", pid);
		goto kill;
	}
	if (write(go_pipe[1], "g", 1) != 1) {
		r = log_error_errno(-errno, "cannot start task %d", pid);
		goto kill;
	}
	if ((r = wait_ready(pid, status_pipe[0], &ready)) < 0 ||
	    (r = wait_blob(pid, status_pipe[0], &ready)) < 0 ||
	    (r = finish_task(&ctx->task, &ready)) < 0)
		goto kill;
	r = pid;
	goto out;
kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
out:
	close(status_pipe[0]);
	close(go_pipe[1]);
	return r;
}

static void free_ctx(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		img_free(IMG_FILES, ctx->files[i]);
	free(ctx->files);
	img_free(IMG_INVENTORY, ctx->inv);
	img_free(IMG_CORE, ctx->task.core);
	img_free(IMG_MM, ctx->task.mm);
	img_free(IMG_FDINFO, ctx->task.fdinfo);
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
	pr_info("task %d restored", pid);
	if (o->pidfile && (r = write_pidfile(o->pidfile, pid)) < 0) {
		kill(pid, SIGKILL);
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
