/*
 * What each restored task runs, from its birth to the jump into the
 * restorer blob: its descriptors, its family (tree.c), the barrier, then
 * everything it must do itself before its memory is replaced.
 */
#define LOG_PREFIX "restore: "
#include <sys/rseq.h>
#include <unistd.h>
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "files/fown.h"
#include "files/files.h"
#include "files/locks.h"
#include "mem/cow.h"
#include "mem/mem.h"
#include "mem/vmshare.h"
#include "ns/ns.h"
#include "ns/userns.h"
#include "restore/restore-priv.h"
#include "tree/cgroup.h"
#include "tree/signals.h"
#include "tree/task.h"
#include "tree/timers.h"
#include "tree/zombie.h"

/*
 * This task's pid as nestor sees it: getpid() tells the innermost one, and
 * nestor's /proc the outermost. Not kept in memory: a task sharing memory
 * with its parent (CLONE_VM) would overwrite the parent's.
 */
static int proc_fd = -1;

int task_reports_prepare(const struct restore_ctx *ctx)
{
	/* nestor's /proc, held: a task chrooted, or in a pid namespace whose
	 * getpid() is not nestor's number, still names itself right. */
	proc_fd = fd_move_above(open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC), ctx->fd_base + 1);
	if (proc_fd < 0)
		return log_error_errno(-errno, "cannot open /proc");
	return 0;
}

static pid_t self_pid(void)
{
	char buf[16];
	ssize_t n = proc_fd >= 0 ? readlinkat(proc_fd, "self", buf, sizeof(buf) - 1) :
				   readlink("/proc/self", buf, sizeof(buf) - 1);
	int pid;

	if (n <= 0)
		return getpid();
	buf[n] = 0;
	return parse_int(buf, &pid) < 0 ? getpid() : pid;
}

void task_report(int fd, int err, uint32_t step, uint64_t addr, uint64_t len)
{
	struct rst_status st = { err, step, addr, len, self_pid(), 0 };

	(void)!write(fd, &st, sizeof(st));
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

/*
 * Memory shared copy-on-write with children is made before they are forked
 * (mem/cow.c), in the task's own cgroups so that its pages are charged
 * where they were. A task sharing another's memory (CLONE_VM) stages
 * nothing: its owner did.
 */
static int stage_memory(struct restore_ctx *ctx, struct restore_task *t)
{
	int r;

	if (!is_live(t) || !t->mm)
		return 0;
	if (t->cow_how && (r = cgroup_restore(t)) < 0)
		return r;
	return cow_stage(ctx, t);
}

/* Becomes the task, up to the jump into the blob. */
static int task_prepare(struct restore_ctx *ctx, struct restore_task *t, struct channels *ch,
			struct rst_region *reg)
{
	int base = ctx->fd_base, r;

	if ((r = files_restore_task(ctx, t)) < 0 ||
	    (r = task_restore_early(ctx, t)) < 0 || (r = signals_restore(t)) < 0 ||
	    (r = timers_restore(t)) < 0 || (r = cgroup_restore(t)) < 0 ||
	    (r = mem_prepare(ctx, t, base + 1, reg)) < 0)
		return r;
	task_fill_args(t, reg->args);
	if ((r = ns_fill_args(ctx, t - ctx->tasks, reg->args)) < 0)
		return r;
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

__attribute__((noreturn)) void task_main(struct restore_ctx *ctx, int idx,
						 struct channels *ch)
{
	struct restore_task *t = &ctx->tasks[idx];
	struct rst_region reg;
	char c;
	int r;

	/* The root waits until nestor traces it; the others are traced from birth. */
	/* Only nestor writes to these: were a task to hold them, a nestor that died
	 * before tracing the root would leave it waiting for the word forever. */
	if (idx == 0) {
		close(ch->go_wr);
		close(ch->barrier_wr);
	}
	if (idx == 0 && read(ch->go_rd, &c, 1) != 1)
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
	if ((r = stage_memory(ctx, t)) < 0 || (r = ns_enter_task(ctx, idx)) < 0 ||
	    (r = make_family(ctx, idx, ch)) < 0 || (r = cow_unstage(ctx, t)) < 0 ||
	    (r = locks_restore_flocks(ctx, t)) < 0)
		goto fail;
	if (t->helper) { /* its members exist: the leader dies again */
		task_report(ch->status_wr, 0, RST_STEP_CREATED, 0, 0);
		_exit(0);
	}
	if ((r = join_group(ctx, idx, ch)) < 0 || (r = fown_restore_task(ctx, t)) < 0)
		goto fail;
	if (t->zombie) {
		r = zombie_exit(t->pe, userns_fd_to_enter(ctx, idx));
		goto fail;
	}
	/* Last of all, once its children exist: into its user namespace. */
	if ((r = settle_zombies(ctx, idx)) < 0 || (r = task_prepare(ctx, t, ch, &reg)) < 0 ||
	    (r = userns_enter_task(ctx, idx, reg.args)) < 0 || (!t->no_rseq && (r = unregister_rseq()) < 0))
		goto fail;
	task_report(ch->status_wr, 0, RST_STEP_READY, (uint64_t)reg.start, reg.len);
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
	task_report(ch->status_wr, r, RST_STEP_CHILD, 0, 0);
	_exit(1);
}
