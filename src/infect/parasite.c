/*
 * A remote syscall costs a ptrace round trip (set registers, step, read
 * registers, wait): about 70 of them per task made a tree of 100 tasks take
 * 200 ms to dump. Instead, the restorer blob is mapped into the seized task
 * (one remote mmap) and run in its dump mode until its int3: two stops per
 * task. The task's registers, signal mask and stack are put back by
 * remote_release as after any remote syscall.
 *
 * The dump starts the parasite in every task before it waits for the first:
 * the tasks answer side by side, on the other CPUs, while nestor reads /proc.
 * It stays mapped until the tree is released (a dump that kills the tree
 * does not unmap it: the remote munmap would cost a round trip per task).
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
#include "core/util.h"

#define PARASITE_STACK (16 << 10)

extern const uint8_t _binary_restorer_bin_start[], _binary_restorer_bin_end[];

static size_t region_len(void)
{
	size_t blob_len = _binary_restorer_bin_end - _binary_restorer_bin_start;

	return PAGE_ALIGN(blob_len) + PAGE_ALIGN(sizeof(struct parasite_args)) + PARASITE_STACK;
}

int parasite_unmap(struct dump_task *t)
{
	long unmapped;
	int r;

	if (!t->parasite)
		return 0;
	r = remote_syscall(&t->rt, __NR_munmap, &unmapped, t->parasite, region_len(), 0, 0,
			       0, 0);

	if (r < 0 || unmapped < 0)
		return log_error_ret(r < 0 ? r : (int)unmapped,
				     "cannot unmap the parasite from task %d", t->pid);
	t->parasite = 0;
	return 0;
}

int parasite_start(struct dump_task *t, struct parasite_args *args)
{
	size_t blob_len = _binary_restorer_bin_end - _binary_restorer_bin_start;
	size_t code = PAGE_ALIGN(blob_len), len = region_len();
	struct user_regs_struct regs = t->rt.regs;
	long addr;
	int r;

	r = remote_syscall(&t->rt, __NR_mmap, &addr, 0, len, PROT_READ | PROT_WRITE | PROT_EXEC,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r < 0)
		return r;
	if (addr < 0 && addr > -4096)
		return log_error_errno((int)addr, "cannot map the parasite in task %d", t->pid);
	t->parasite = addr;
	memset(args, 0, sizeof(*args));
	args->magic = PARASITE_MAGIC;
	if ((r = remote_write(t->pid, addr, _binary_restorer_bin_start, blob_len)) < 0 ||
	    (r = remote_write(t->pid, addr + code, args, sizeof(*args))) < 0) {
		log_error_errno(r, "cannot load the parasite into task %d", t->pid);
		parasite_unmap(t);
		return r;
	}
	regs.rip = addr + RST_PARASITE_OFF;
	regs.rdi = addr + code;
	regs.rsp = addr + len;
	regs.orig_rax = -1; /* no syscall restart on the way out of this stop */
	if (ptrace(PTRACE_SETREGS, t->pid, 0, &regs) || ptrace(PTRACE_CONT, t->pid, 0, 0)) {
		r = log_error_errno(-errno, "cannot run the parasite in task %d", t->pid);
		parasite_unmap(t);
		return r;
	}
	t->rt.ran_syscall = true;
	t->parasite_running = true;
	return 0;
}

/* Waits for the parasite's int3. */
static int wait_blob(struct dump_task *t)
{
	int status, r;

	t->parasite_running = false;
	r = wait_stopped(t->pid, &status);
	if (r < 0)
		return log_error_errno(r, "cannot wait for task %d", t->pid);
	if (!WIFSTOPPED(status))
		return log_error_ret(-ESRCH, "task %d died running the parasite", t->pid);
	if (WSTOPSIG(status) != SIGTRAP)
		return log_error_ret(-EIO, "the parasite in task %d got signal %d", t->pid,
				     WSTOPSIG(status));
	return 0;
}

int parasite_finish(struct dump_task *t, struct parasite_args *ret)
{
	size_t code = PAGE_ALIGN(_binary_restorer_bin_end - _binary_restorer_bin_start);
	int r;

	if (!t->parasite || !t->parasite_running)
		return 0;
	r = wait_blob(t);
	if (r == 0 && (r = remote_read(t->pid, t->parasite + code, ret, sizeof(*ret))) < 0)
		log_error_errno(r, "cannot read the parasite's answers in task %d", t->pid);
	if (r == 0 && ret->err)
		r = log_error_errno((int)ret->err, "the parasite in task %d failed at step %u",
				    t->pid, ret->step);
	/* A task that died or got a signal is beyond unmapping. */
	if (r == -ESRCH || r == -EIO)
		t->parasite = 0;
	return r;
}
