/*
 * The end of a dump that kills the tree: all of it dies, or none of it.
 *
 * Once every image is written and synced (the inventory still under its
 * temporary name), every thread of the tree is held: parked, the park's
 * harmless syscall replaced, in the main thread, by a read() of a pipe
 * whose write ends only nestor and a killer process hold, in the others by
 * a wait for the main thread's cure. The killer, nestor's child in a session
 * of its own, waits for nestor to close its word pipe (or to die), then
 * kills every task of the tree if inventory.img is in place, and exits.
 * The dump is so decided by one atomic step, the inventory's rename. A
 * nestor that dies before it: the killer goes without killing, the read
 * sees the end of the file and each thread goes on by itself (its cure).
 * After it: each thread waits in that read, running none of its code,
 * until the killer (or nestor) kills its task. No moment leaves part of the
 * tree dead and part running, whatever order the kills take.
 */
#define LOG_PREFIX "pstree: "
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/fault.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "infect/givefd.h"
#include "tree/kill.h"

static int cmp_fd(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Every descriptor from 3 up but the n in keep (sorted here). */
static void close_all_but(int *keep, int n)
{
	int from = 3;

	qsort(keep, n, sizeof(*keep), cmp_fd);
	for (int i = 0; i < n; i++) {
		if (keep[i] < from)
			continue;
		if (keep[i] > from)
			close_range(from, keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

/* The killer: nestor's word (its end closed, or its death), then the verdict. */
__attribute__((noreturn)) static void killer_main(int word, int dirfd, const int *pidfds, int n)
{
	char c;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	setsid(); /* not in the way of a kill of nestor's group or session */
	while (read(word, &c, 1) < 0 && errno == EINTR)
		;
	if (!faccessat(dirfd, "inventory.img", F_OK, AT_SYMLINK_NOFOLLOW))
		for (int i = 0; i < n; i++)
			if (pidfds[i] >= 0)
				sys_pidfd_send_signal(pidfds[i], SIGKILL);
	_exit(0);
}

static int start_killer(struct dump_ctx *ctx)
{
	_cleanup_free_ int *pidfds = calloc(ctx->nr_tasks, sizeof(int));
	_cleanup_free_ int *keep = calloc(ctx->nr_tasks + 3, sizeof(int));
	int word[2], n = 0;
	pid_t pid;

	if (!pidfds || !keep)
		return -ENOMEM;
	/* A pidfd per task: the killer must never hit a stranger that took a pid since. */
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		pidfds[i] = ctx->tasks[i].seized ? sys_pidfd_open(ctx->tasks[i].pid, 0) : -1;
		if (ctx->tasks[i].seized && pidfds[i] < 0)
			return log_error_errno(-errno, "cannot open a pidfd of task %d",
					       ctx->tasks[i].pid);
		if (pidfds[i] >= 0)
			keep[n++] = pidfds[i];
	}
	if (pipe2(word, O_CLOEXEC))
		return log_error_errno(-errno, "cannot make the killer's pipe");
	pid = fork();
	if (pid == 0) {
		keep[n++] = word[0];
		keep[n++] = ctx->hold_wr;
		keep[n++] = ctx->dirfd;
		close_all_but(keep, n);
		killer_main(word[0], ctx->dirfd, pidfds, ctx->nr_tasks);
	}
	close(word[0]);
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (pidfds[i] >= 0)
			close(pidfds[i]);
	if (pid < 0) {
		close(word[1]);
		return log_error_errno(-errno, "cannot start the killer");
	}
	ctx->killer = pid;
	ctx->killer_fd = word[1];
	return 0;
}

/*
 * The main thread of t in a read() of the hold pipe, the others (first) in
 * a wait for the main thread's cure to say it is done (the word it wakes
 * them with): none but the main thread touches the descriptor, whose
 * number the task may use again once that cure has closed it.
 */
static int hold_task(struct dump_task *t, int rd)
{
	int fd = -1, r;

	r = remote_give_fd(&t->rt, rd, &fd);
	if (r == -EMFILE) {
		/*
		 * Every descriptor its limit allows is open: it stays in its
		 * ptrace stop. A nestor that dies after the dump is decided
		 * lets it run on for the moment the killer takes to kill it.
		 */
		pr_info("task %d has no free descriptor: held in its ptrace stop", t->pid);
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "cannot hold task %d for its end", t->pid);
	t->hold_fd = fd;
	for (size_t k = 0; k < t->nr_threads; k++)
		if ((r = remote_hold(&t->threads[k], __NR_futex, t->threads[k].done,
				     FUTEX_WAIT_PRIVATE, 0)) < 0)
			return r;
	return remote_hold(&t->rt, __NR_read, fd, t->rt.scratch, 1);
}

int pstree_hold(struct dump_ctx *ctx)
{
	size_t threads = 0;
	int p[2], r;
	bool first = true;

	if (pipe2(p, O_CLOEXEC))
		return log_error_errno(-errno, "cannot make the hold pipe");
	ctx->hold_wr = p[1];
	r = start_killer(ctx);
	for (size_t i = 0; r == 0 && i < ctx->nr_tasks; i++) {
		if (!ctx->tasks[i].seized)
			continue;
		if (!first && (r = fault_point("end-held")) < 0)
			break;
		r = hold_task(&ctx->tasks[i], p[0]);
		threads += 1 + ctx->tasks[i].nr_threads;
		first = false;
	}
	close(p[0]);
	if (r == 0)
		pr_debug("the tree is held: %zu threads, killer %d", threads, ctx->killer);
	return r;
}

/* The killer goes (killing only if inventory.img is in place), and is reaped. */
static void end_killer(struct dump_ctx *ctx)
{
	if (ctx->killer_fd >= 0)
		close(ctx->killer_fd);
	if (ctx->hold_wr >= 0)
		close(ctx->hold_wr);
	ctx->killer_fd = ctx->hold_wr = -1;
	while (ctx->killer > 0 && waitpid(ctx->killer, NULL, 0) < 0 && errno == EINTR)
		;
	ctx->killer = 0;
}

void pstree_unhold(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct dump_task *t = &ctx->tasks[i];
		long ret;

		/* The next remote syscall puts each thread's harmless park back. */
		if (t->seized && t->hold_fd >= 0)
			remote_syscall(&t->rt, __NR_close, &ret, t->hold_fd, 0, 0, 0, 0, 0);
		t->hold_fd = -1;
	}
	end_killer(ctx);
}

/*
 * Once SIGKILL is queued to every task, none of them runs its own code again
 * (SIGKILL wakes even a traced stop) and nestor is done: it does not wait
 * for the kernel to tear the tasks down. Freeing 1 GiB of a task's memory
 * takes 0.2-0.4 s here, longer than a third of writing it; the tasks' own
 * exits do it after nestor has gone, and a restore waits for a pid a dying
 * task still holds (restore.c, check_free).
 */
void pstree_kill(struct dump_ctx *ctx)
{
	bool first = true;

	/* Children first, as ever; in any order the held tree dies whole. */
	for (size_t i = ctx->nr_tasks; i-- > 0;) {
		if (!ctx->tasks[i].seized)
			continue;
		if (!first)
			fault_point("end-killing");
		kill(ctx->tasks[i].pid, SIGKILL);
		ctx->tasks[i].seized = false;
		first = false;
	}
	pr_debug("killed");
	end_killer(ctx);
}
