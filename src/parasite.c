/*
 * A remote syscall costs a ptrace round trip (set registers, step, read
 * registers, wait): about 70 of them per task made a tree of 100 tasks take
 * 200 ms to dump. Instead, the restorer blob is mapped into the seized task
 * (one remote mmap), run in its dump mode until its int3, and unmapped (one
 * remote munmap): three stops per task. The task's registers, signal mask and
 * stack are put back by remote_release as after any remote syscall.
 */
#define LOG_PREFIX "parasite: "
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "log.h"
#include "parasite.h"
#include "util.h"

#define PARASITE_STACK (16 << 10)

extern const uint8_t _binary_restorer_bin_start[], _binary_restorer_bin_end[];

static int run_blob(struct remote *rt, uint64_t entry, uint64_t arg, uint64_t stack_top)
{
	struct user_regs_struct regs = rt->regs;
	int status, r;

	regs.rip = entry;
	regs.rdi = arg;
	regs.rsp = stack_top;
	regs.orig_rax = -1; /* no syscall restart on the way out of this stop */
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs) || ptrace(PTRACE_CONT, rt->pid, 0, 0))
		return log_error_errno(-errno, "cannot run the parasite in task %d", rt->pid);
	rt->ran_syscall = true;
	r = wait_stopped(rt->pid, &status);
	if (r < 0)
		return log_error_errno(r, "cannot wait for task %d", rt->pid);
	if (!WIFSTOPPED(status))
		return log_error_ret(-ESRCH, "task %d died running the parasite", rt->pid);
	if (WSTOPSIG(status) != SIGTRAP)
		return log_error_ret(-EIO, "the parasite in task %d got signal %d", rt->pid,
				     WSTOPSIG(status));
	return 0;
}

int parasite_run(struct dump_task *t, struct parasite_args *ret)
{
	size_t blob_len = _binary_restorer_bin_end - _binary_restorer_bin_start;
	size_t code = PAGE_ALIGN(blob_len), args = PAGE_ALIGN(sizeof(*ret));
	size_t len = code + args + PARASITE_STACK;
	long addr, unmapped;
	int r, rr;

	r = remote_syscall(&t->rt, __NR_mmap, &addr, 0, len, PROT_READ | PROT_WRITE | PROT_EXEC,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r < 0)
		return r;
	if (addr < 0 && addr > -4096)
		return log_error_errno((int)addr, "cannot map the parasite in task %d", t->pid);
	memset(ret, 0, sizeof(*ret));
	ret->magic = PARASITE_MAGIC;
	if ((r = remote_write(t->pid, addr, _binary_restorer_bin_start, blob_len)) < 0 ||
	    (r = remote_write(t->pid, addr + code, ret, sizeof(*ret))) < 0) {
		log_error_errno(r, "cannot load the parasite into task %d", t->pid);
		goto unmap;
	}
	r = run_blob(&t->rt, addr + RST_PARASITE_OFF, addr + code, addr + len);
	if (r == 0 && (r = remote_read(t->pid, addr + code, ret, sizeof(*ret))) < 0)
		log_error_errno(r, "cannot read the parasite's answers in task %d", t->pid);
	if (r == 0 && ret->err)
		r = log_error_errno((int)ret->err, "the parasite in task %d failed at step %u",
				    t->pid, ret->step);
unmap:
	rr = remote_syscall(&t->rt, __NR_munmap, &unmapped, addr, len, 0, 0, 0, 0);
	if (rr < 0 || unmapped < 0)
		return log_error_ret(rr < 0 ? rr : (int)unmapped,
				     "cannot unmap the parasite from task %d", t->pid);
	return r;
}
