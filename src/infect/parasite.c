/*
 * The parasite: the restorer blob, mapped into a seized task, answers what
 * only the task can tell (signal actions, itimers, prctl values...) in one
 * run, where a remote syscall per item would cost ~70 ptrace round trips.
 *
 * Its mapping is nestor's scratch room in the task: one remote mmap with
 * its arguments in registers makes it (no byte of the task is written),
 * and then it holds the blob, the parasite's answers and stack, and a slot
 * per thread: the buffers of that thread's remote calls and the signal
 * frame that takes it back to its own registers, signal mask and xsave
 * area. A thread nestor runs code in is parked (ptrace.c) at the entry of
 * a harmless syscall followed by the cure: if nestor dies, the thread is
 * detached, closes what nestor opened in the task (the main thread) and
 * rt_sigreturns through that frame, and goes on as it was. No
 * trap and no signal is involved: the task's SIGTRAP handler is never
 * touched, and nothing nestor writes goes below a stack pointer.
 *
 * The parasite runs under PTRACE_SYSCALL: every syscall it makes stops, and
 * nestor lets it go on, until it parks. Every task's parasite is started
 * before the first is driven, and they are driven in turn, so the tasks run
 * side by side. The mapping stays until the task is released (a dump that
 * kills the tree does not unmap it); the main thread unmaps it last.
 */
#define LOG_PREFIX "parasite: "
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "core/log.h"
#include "infect/parasite.h"
#include "infect/sigframe.h"
#include "core/util.h"

#define PARASITE_STACK (16 << 10)
#define SCRATCH        4096
#define XSAVE_BUF      (64 << 10)

extern const uint8_t _binary_restorer_bin_start[], _binary_restorer_bin_end[];

static size_t code_len(void)
{
	return PAGE_ALIGN(_binary_restorer_bin_end - _binary_restorer_bin_start);
}

static size_t args_off(void)
{
	return code_len();
}

static size_t slots_off(void)
{
	return args_off() + PAGE_ALIGN(sizeof(struct parasite_args)) + PARASITE_STACK;
}

/* The blob must have its remote syscall and its park where nestor expects them. */
static int check_blob(void)
{
	const uint8_t *b = _binary_restorer_bin_start;

	if (b[RST_REMOTE_OFF] != 0x0f || b[RST_REMOTE_OFF + 1] != 0x05 ||
	    b[RST_PARK_SYS_OFF] != 0x0f || b[RST_PARK_SYS_OFF + 1] != 0x05)
		return log_error_ret(-EINVAL, "the restorer blob has no park at its offsets");
	return 0;
}

/* Gives every thread of t its slot: its scratch, then room for its frame. */
static void assign_slots(struct dump_task *t, uint64_t base, size_t slot, size_t len)
{
	struct remote *all[1 + t->nr_threads];

	all[0] = &t->rt;
	for (size_t k = 0; k < t->nr_threads; k++)
		all[k + 1] = &t->threads[k];
	for (size_t k = 0; k < t->nr_threads + 1; k++) {
		uint64_t at = base + slots_off() + k * slot;

		all[k]->base = base;
		remote_set_scratch(all[k], at, SCRATCH);
		all[k]->frame = at + SCRATCH + RST_CURE_SIZE;
		all[k]->frame_len = slot - SCRATCH - RST_CURE_SIZE;
		all[k]->done = t->rt.frame - RST_CURE_SIZE + offsetof(struct rst_cure, done_word);
	}
	t->rt.main_thread = true;
	t->rt.unmap_len = len;
}

/* Maps the region, loads the blob and parks the main thread. */
static int load(struct dump_task *t, struct parasite_args *args)
{
	static uint8_t xbuf[XSAVE_BUF];
	size_t xlen = sizeof(xbuf), slot, len;
	uint64_t base;
	int r;

	if ((r = check_blob()) < 0 || (r = ptrace_get_xsave(t->pid, xbuf, &xlen)) < 0)
		return r;
	slot = PAGE_ALIGN(SCRATCH + RST_CURE_SIZE + sigframe_size(xlen));
	len = slots_off() + (t->nr_threads + 1) * slot;
	if ((r = remote_map(&t->rt, len, &base)) < 0)
		return r;
	t->parasite = base;
	assign_slots(t, base, slot, len);
	memset(args, 0, sizeof(*args));
	args->magic = PARASITE_MAGIC;
	if ((r = remote_write(t->pid, base, _binary_restorer_bin_start,
			      _binary_restorer_bin_end - _binary_restorer_bin_start)) < 0 ||
	    (r = remote_write(t->pid, base + args_off(), args, sizeof(*args))) < 0)
		return log_error_errno(r, "cannot load the parasite into task %d", t->pid);
	return remote_park(&t->rt);
}

int parasite_start(struct dump_task *t, struct parasite_args *args)
{
	struct user_regs_struct regs;
	int r = load(t, args);

	if (r < 0)
		return r;
	/* At the park's entry stop: no syscall (-1), the parasite instead. */
	regs = t->rt.pregs;
	regs.orig_rax = -1;
	regs.rip = t->parasite + RST_PARASITE_OFF;
	regs.rdi = t->parasite + args_off();
	regs.rsi = t->rt.pregs.rsp;
	regs.rsp = t->parasite + slots_off();
	if (ptrace(PTRACE_SETREGS, t->pid, 0, &regs))
		return log_error_errno(-errno, "cannot run the parasite in task %d", t->pid);
	t->rt.parked = false;
	if (ptrace(PTRACE_SYSCALL, t->pid, 0, 0))
		return log_error_errno(-errno, "cannot run the parasite in task %d", t->pid);
	t->parasite_running = true;
	return 0;
}

/* One stop of a running parasite: 1 once it has parked, 0 while it runs. */
static int step(struct dump_task *t)
{
	struct remote *rt = &t->rt;
	struct user_regs_struct regs;
	int status, r;

	r = wait_stopped(t->pid, &status);
	if (r < 0)
		return log_error_errno(r, "cannot wait for task %d", t->pid);
	if (!WIFSTOPPED(status))
		return log_error_ret(-ESRCH, "task %d died running the parasite", t->pid);
	if (WSTOPSIG(status) != (SIGTRAP | 0x80))
		return log_error_ret(-EIO, "the parasite in task %d got signal %d", t->pid,
				     WSTOPSIG(status));
	if (ptrace(PTRACE_GETREGS, t->pid, 0, &regs))
		return log_error_errno(-errno, "cannot read registers of task %d", t->pid);
	if (regs.rip == t->parasite + RST_PARK_SYS_OFF + 2 && regs.orig_rax == RST_PARK_NR) {
		rt->pregs = regs;
		rt->parked = true;
		return 1;
	}
	if (ptrace(PTRACE_SYSCALL, t->pid, 0, 0))
		return log_error_errno(-errno, "cannot resume task %d", t->pid);
	return 0;
}

static int collect_answers(struct dump_task *t, struct parasite_args *ret)
{
	int r = remote_read(t->pid, t->parasite + args_off(), ret, sizeof(*ret));

	if (r < 0)
		return log_error_errno(r, "cannot read the parasite's answers in task %d", t->pid);
	if (ret->err)
		return log_error_errno((int)ret->err, "the parasite in task %d failed at step %u",
				       t->pid, ret->step);
	return 0;
}

int parasite_finish(struct dump_task *t, struct parasite_args *ret)
{
	int r = 0;

	if (!t->parasite_running)
		return 0;
	while ((r = step(t)) == 0)
		;
	t->parasite_running = false;
	return r < 0 ? r : collect_answers(t, ret);
}

int parasite_finish_all(struct dump_task *tasks, size_t n)
{
	size_t running;
	int r = 0;

	do {
		running = 0;
		for (size_t i = 0; i < n; i++) {
			struct dump_task *t = &tasks[i];
			int s;

			if (!t->parasite_running)
				continue;
			s = step(t);
			if (s == 0) {
				running++;
				continue;
			}
			t->parasite_running = false;
			if (s > 0)
				s = collect_answers(t, t->pa);
			r = r ? r : s;
		}
	} while (running);
	return r;
}
