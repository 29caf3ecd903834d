/* ptrace-based control of a task: seize, remote syscalls, registers. */
#define LOG_PREFIX "ptrace: "
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "core/log.h"
#include "tree/proc.h"
#include "infect/ptrace.h"
#include "core/util.h"

#define SCRATCH_MAX 4096
#define RED_ZONE    128

#define ERESTARTSYS           512
#define ERESTARTNOINTR        513
#define ERESTARTNOHAND        514
#define ERESTART_RESTARTBLOCK 516

int wait_stopped(pid_t pid, int *ret_status)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, __WALL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		break;
	}
	*ret_status = status;
	return 0;
}

int remote_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)addr, len };
	ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int remote_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec l = { (void *)buf, len }, r = { (void *)addr, len };
	ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

#define STOP_TIMEOUT_S 3

static volatile sig_atomic_t stop_expired;

static void on_alarm(int sig)
{
	stop_expired = 1;
}

/*
 * A task asleep where no signal reaches it (waiting for a vfork child to
 * exec or exit, or in uninterruptible sleep) never stops: the wait for the
 * interrupt gives up after STOP_TIMEOUT_S, and says where it sleeps.
 */
static int wait_interrupted(pid_t pid, int *status)
{
	static bool handler;
	struct itimerval it = { .it_value = { STOP_TIMEOUT_S, 0 } }, off = { 0 };
	_cleanup_free_ char *wchan = NULL;
	char path[64];
	pid_t r;

	if (!handler) {
		struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */

		sigaction(SIGALRM, &sa, NULL);
		handler = true;
	}
	r = waitpid(pid, status, __WALL | WNOHANG);
	if (r == 0) {
		stop_expired = 0;
		setitimer(ITIMER_REAL, &it, NULL);
		do
			r = waitpid(pid, status, __WALL);
		while (r < 0 && errno == EINTR && !stop_expired);
		setitimer(ITIMER_REAL, &off, NULL);
	}
	if (r == pid)
		return 0;
	if (!stop_expired)
		return log_error_errno(-errno, "cannot wait for task %d", pid);
	if (proc_in_vfork(pid))
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d waits for a child it made "
						  "with vfork() to exec or exit (not supported)", pid);
	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if (read_file_at(AT_FDCWD, path, &wchan, 256) < 0 && !(wchan = strdup("")))
		return -ENOMEM;
	return log_error_ret(-ETIMEDOUT, "can't dump: task %d does not stop: it sleeps where "
					 "signals cannot reach it%s%s", pid, wchan[0] ? ", in " : "",
			     wchan);
}

/* Stops a freshly seized task; signals it was about to take are delivered as usual. */
static int interrupt_task(pid_t pid)
{
	int status, r;

	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0))
		return log_error_errno(-errno, "cannot interrupt task %d", pid);
	for (;;) {
		r = wait_interrupted(pid, &status);
		if (r < 0)
			return r;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return log_error_ret(-ESRCH, "task %d exited while being seized", pid);
		if (status >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* A signal-delivery stop: let the signal go on as it would have. */
		if (ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(status)))
			return log_error_errno(-errno, "cannot resume task %d", pid);
	}
}

int remote_seize(pid_t pid, struct remote *rt)
{
	uint64_t all = ~0ULL;
	int r;

	memset(rt, 0, sizeof(*rt));
	rt->pid = pid;
	/* Suspended seccomp: our remote syscalls must not meet the task's filters. */
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP))
		return log_error_errno(-errno, "cannot seize task %d", pid);
	r = interrupt_task(pid);
	if (r < 0)
		goto detach;
	if (ptrace(PTRACE_GETREGS, pid, 0, &rt->regs)) {
		r = log_error_errno(-errno, "cannot read registers of task %d", pid);
		goto detach;
	}
	if (ptrace(PTRACE_GETSIGMASK, pid, sizeof(uint64_t), &rt->sigmask) ||
	    ptrace(PTRACE_SETSIGMASK, pid, sizeof(uint64_t), &all)) {
		r = log_error_errno(-errno, "cannot block signals of task %d", pid);
		goto detach;
	}
	return 0;
detach:
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return r;
}

void regs_fixup_restart(struct user_regs_struct *r, bool new_task)
{
	if ((long)r->orig_rax < 0)
		return;
	switch ((long)r->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case -ERESTART_RESTARTBLOCK:
		/*
		 * The same task resumes its sleep from the kernel's restart
		 * block; a restored one has none (restart_syscall would say
		 * EINTR), so it issues the interrupted call again with its
		 * arguments, which are all still in the registers: an absolute
		 * sleep ends when it would have, a relative one starts over.
		 */
		r->rax = new_task ? r->orig_rax : SYS_restart_syscall;
		r->rip -= 2;
		break;
	}
	r->orig_rax = -1;
}

int remote_release(struct remote *rt)
{
	struct user_regs_struct regs = rt->regs;
	int r = 0;

	if (rt->scratch_saved) {
		if (remote_write(rt->pid, rt->scratch, rt->scratch_saved, rt->scratch_len))
			r = log_error_errno(-EFAULT, "cannot restore the stack of task %d", rt->pid);
		free(rt->scratch_saved);
		rt->scratch_saved = NULL;
	}
	/*
	 * After a remote syscall the task sits in a syscall-exit stop, where the
	 * kernel will not restart the syscall we interrupted: do it as it would.
	 */
	if (rt->ran_syscall)
		regs_fixup_restart(&regs, false);
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		r = log_error_errno(-errno, "cannot restore registers of task %d", rt->pid);
	if (ptrace(PTRACE_SETSIGMASK, rt->pid, sizeof(uint64_t), &rt->sigmask))
		r = log_error_errno(-errno, "cannot restore signal mask of task %d", rt->pid);
	if (ptrace(PTRACE_DETACH, rt->pid, 0, 0) && r == 0)
		r = log_error_errno(-errno, "cannot detach from task %d", rt->pid);
	return r;
}

int remote_find_gadget(struct remote *rt, uint64_t start, uint64_t end)
{
	size_t len = end - start;
	_cleanup_free_ uint8_t *buf = malloc(len);

	if (!buf)
		return -ENOMEM;
	if (remote_read(rt->pid, start, buf, len))
		return log_error_errno(-EFAULT, "cannot read the vdso of task %d", rt->pid);
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
			rt->gadget = start + i;
			return 0;
		}
	}
	return log_error_ret(-ENOENT, "no syscall instruction in the vdso of task %d", rt->pid);
}

int remote_scratch(struct remote *rt, size_t len, uint64_t *ret_addr)
{
	if (len > SCRATCH_MAX)
		return -E2BIG;
	if (!rt->scratch_saved) {
		rt->scratch_len = SCRATCH_MAX;
		rt->scratch = ((rt->regs.rsp - RED_ZONE - SCRATCH_MAX) & ~63ULL);
		rt->scratch_saved = malloc(SCRATCH_MAX);
		if (!rt->scratch_saved)
			return -ENOMEM;
		if (remote_read(rt->pid, rt->scratch, rt->scratch_saved, SCRATCH_MAX)) {
			free(rt->scratch_saved);
			rt->scratch_saved = NULL;
			return log_error_errno(-EFAULT, "task %d has no usable stack below %#llx",
					       rt->pid, (unsigned long long)rt->regs.rsp);
		}
	}
	*ret_addr = rt->scratch;
	return 0;
}

/*
 * Single-stepping over the syscall instruction costs one stop (the trap
 * after it), where PTRACE_SYSCALL costs two (entry and exit).
 */
static int syscall_step(pid_t pid)
{
	int status, r;

	if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0))
		return log_error_errno(-errno, "cannot resume task %d", pid);
	r = wait_stopped(pid, &status);
	if (r < 0)
		return log_error_errno(r, "cannot wait for task %d", pid);
	if (!WIFSTOPPED(status))
		return log_error_ret(-ESRCH, "task %d died in a remote syscall", pid);
	if (WSTOPSIG(status) != SIGTRAP)
		return log_error_ret(-EIO, "task %d stopped with signal %d in a remote syscall",
				     pid, WSTOPSIG(status));
	return 0;
}

int remote_syscall(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4,
		   long a5, long a6)
{
	struct user_regs_struct regs = rt->regs;
	int r;

	if (!rt->gadget)
		return log_error_ret(-EINVAL, "no syscall gadget in task %d", rt->pid);
	regs.rip = rt->gadget;
	regs.rax = nr;
	regs.orig_rax = -1; /* no restart fix-ups when resuming from the trap */
	regs.rdi = a1;
	regs.rsi = a2;
	regs.rdx = a3;
	regs.r10 = a4;
	regs.r8 = a5;
	regs.r9 = a6;
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot set registers of task %d", rt->pid);
	rt->ran_syscall = true;
	r = syscall_step(rt->pid);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_GETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot read registers of task %d", rt->pid);
	*ret = regs.rax;
	return 0;
}

int ptrace_get_xsave(pid_t pid, void *buf, size_t *len)
{
	struct iovec iov = { buf, *len };

	if (ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov))
		return log_error_errno(-errno, "cannot read xsave state of task %d", pid);
	*len = iov.iov_len;
	return 0;
}

int ptrace_set_xsave(pid_t pid, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };

	if (ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, &iov))
		return log_error_errno(-errno, "cannot set xsave state of task %d", pid);
	return 0;
}
