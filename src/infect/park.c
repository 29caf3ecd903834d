/*
 * The side-by-side stepping of a seized thread: the seize (begin, then the
 * interrupt's stop), the parasite's mapping (a bootstrap of syscall stops
 * through a frame below the stack pointer), the park (a frame of the
 * thread's own state, then the blob's harmless syscall), the hold and the
 * release. Each begins in one call and goes on a stop at a time, so that
 * many tasks answer side by side.
 */
#define LOG_PREFIX "ptrace: "
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include "core/log.h"
#include "core/util.h"
#include "tree/proc.h"
#include "infect/ptrace.h"
#include "infect/ptrace-priv.h"
#include "infect/rop.h"
#include "infect/sigframe.h"
#include "restorer/restorer-abi.h"

#define XSAVE_BUF (64 << 10)

static int sigreturn_stop(struct remote *rt);

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

/* The stop of a freshly seized and interrupted task; signals it was about to
 * take are delivered as usual. */
static int wait_interrupt(pid_t pid)
{
	int status, r;

	for (;;) {
		r = wait_interrupted(pid, &status);
		if (r < 0)
			return r;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH; /* the caller says what that means */
		if (status >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* A signal-delivery stop: let the signal go on as it would have. */
		if (ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(status)))
			return log_error_errno(-errno, "cannot resume task %d", pid);
	}
}

/* Gone, or a zombie: a task (or thread) that exited since it was found. */
static bool exited(pid_t pid)
{
	struct proc_status st;

	return proc_read_status(pid, &st) < 0 || st.state == 'Z' || st.state == 'X';
}

int remote_seize_begin(pid_t pid, struct remote *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->pid = pid;
	/*
	 * Suspended seccomp: our remote syscalls must not meet the task's
	 * filters. Never PTRACE_O_EXITKILL: a nestor that dies must not take
	 * the tree with it.
	 */
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP)) {
		if (exited(pid))
			return -ESRCH;
		return log_error_errno(-errno, "cannot seize task %d", pid);
	}
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0)) {
		int r = exited(pid) ? -ESRCH : log_error_errno(-errno, "cannot interrupt task %d", pid);

		ptrace(PTRACE_DETACH, pid, 0, 0);
		return r;
	}
	return 0;
}

int remote_seize(pid_t pid, struct remote *rt)
{
	int r = remote_seize_begin(pid, rt);

	return r < 0 ? r : remote_seize_end(rt);
}

int remote_seize_end(struct remote *rt)
{
	pid_t pid = rt->pid;
	int r = wait_interrupt(pid);

	if (r == -ESRCH)
		return r; /* exited meanwhile: the caller says what that means */
	if (r < 0)
		goto detach;
	if (ptrace(PTRACE_GETREGS, pid, 0, &rt->regs)) {
		r = log_error_errno(-errno, "cannot read registers of task %d", pid);
		goto detach;
	}
	if (ptrace(PTRACE_GETSIGMASK, pid, sizeof(uint64_t), &rt->sigmask)) {
		r = log_error_errno(-errno, "cannot read the signal mask of task %d", pid);
		goto detach;
	}
	return 0;
detach:
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return r;
}

/*
 * Without a frame: the mmap through the vDSO's syscall instruction, with
 * nestor's registers (a task whose vDSO or libc nestor does not know).
 * Right after it the task gets its own registers again (at a syscall exit
 * stop, which the kernel restarts on its own if nestor dies there).
 */
static int map_bare(struct remote *rt, size_t len, long *ret)
{
	uint64_t all = ~0ULL;
	int r;

	if (ptrace(PTRACE_SETSIGMASK, rt->pid, sizeof(uint64_t), &all))
		return log_error_errno(-errno, "cannot block signals of task %d", rt->pid);
	r = gadget_call(rt, __NR_mmap, ret, 0, len, PROT_READ | PROT_WRITE | PROT_EXEC,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ptrace(PTRACE_SETSIGMASK, rt->pid, sizeof(uint64_t), &rt->sigmask) ||
	    ptrace(PTRACE_SETREGS, rt->pid, 0, &rt->regs))
		return log_error_errno(-errno, "cannot set task %d back", rt->pid);
	return r;
}

/*
 * Runs a syscall from registers regs (the thread's own, or those of its stop
 * at the trampoline's rt_sigreturn) through the vDSO gadget, returning to
 * the trampoline.
 */
static int rop_run(struct remote *rt, struct user_regs_struct regs, long nr, long *ret, long a1,
		   long a2, long a3, long a4, long a5, long a6)
{
	int r;

	regs.orig_rax = nr;
	set_args(&regs, a1, a2, a3, a4, a5, a6);
	regs.rip = rt->rop_syscall + 2;
	regs.rsp = rt->rop.sp;
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot set registers of task %d", rt->pid);
	if ((r = syscall_stop(rt->pid)) < 0)
		return r;
	if (ptrace(PTRACE_GETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot read registers of task %d", rt->pid);
	*ret = regs.rax;
	return sigreturn_stop(rt);
}

/* At the entry stop of the trampoline's rt_sigreturn. */
static int check_sigreturn(struct remote *rt)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot read registers of task %d", rt->pid);
	if (regs.orig_rax != __NR_rt_sigreturn || regs.rip < rt->rop_sigret ||
	    regs.rip > rt->rop_sigret + 9)
		return log_error_ret(-EIO, "task %d did not come back to its trampoline", rt->pid);
	return 0;
}

/* The next stop: the entry of the trampoline's rt_sigreturn. */
static int sigreturn_stop(struct remote *rt)
{
	int r = syscall_stop(rt->pid);

	return r < 0 ? r : check_sigreturn(rt);
}

static int mapped(struct remote *rt, uint64_t *ret_addr)
{
	long addr = rt->map_addr;

	rt->map_step = 0;
	if (addr < 0 && addr > -4096)
		return log_error_errno((int)addr, "cannot map the parasite in task %d", rt->pid);
	*ret_addr = addr;
	return 1;
}

/*
 * The bootstrap: the thread first reads its altstack into the frame below
 * its stack pointer (rop.c) and stops at the rt_sigreturn that follows;
 * there its syscall becomes the mmap, which returns the same way.
 */
int remote_map_begin(struct remote *rt, size_t len)
{
	struct user_regs_struct regs = rt->regs;
	uint64_t all = ~0ULL;
	int r;

	rt->map_len = len;
	r = rop_enter(rt, rt->vmas, rt->nr_vmas, NULL, &rt->rop);
	if (r < 0) {
		pr_debug("task %d: mapping made with nestor's registers (%s)", rt->pid,
			 strerror(-r));
		if ((r = map_bare(rt, len, &rt->map_addr)) < 0)
			return r;
		rt->map_step = MAP_DONE;
		return 0;
	}
	regs.rip = rt->rop_syscall;
	regs.rax = __NR_sigaltstack;
	regs.orig_rax = -1;
	set_args(&regs, 0, sigframe_uc_stack(rt->rop.sp), 0, 0, 0, 0);
	regs.rsp = rt->rop.sp;
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot set registers of task %d", rt->pid);
	rt->ran_syscall = true;
	if (ptrace(PTRACE_SETSIGMASK, rt->pid, sizeof(uint64_t), &all))
		return log_error_errno(-errno, "cannot block signals of task %d", rt->pid);
	rt->map_step = MAP_ALTSTACK_ENTRY;
	return resume_syscall(rt->pid);
}

/* At the sigaltstack's rt_sigreturn: the altstack read, the syscall becomes the mmap. */
static int map_inject(struct remote *rt)
{
	struct user_regs_struct regs;
	int r;

	if ((r = check_sigreturn(rt)) < 0)
		return r;
	if ((r = remote_read(rt->pid, sigframe_uc_stack(rt->rop.sp), rt->altstack,
			     sizeof(rt->altstack))) < 0)
		return log_error_errno(r, "cannot read the frame of task %d", rt->pid);
	if (ptrace(PTRACE_GETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot read registers of task %d", rt->pid);
	regs.orig_rax = __NR_mmap;
	set_args(&regs, 0, rt->map_len, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	regs.rip = rt->rop_syscall + 2;
	regs.rsp = rt->rop.sp;
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot set registers of task %d", rt->pid);
	return 0;
}

/*
 * One stop of the bootstrap, so that many threads' go on side by side:
 * 1 once mapped (address in *ret_addr), 0 while under way.
 */
int remote_map_step(struct remote *rt, uint64_t *ret_addr)
{
	struct user_regs_struct regs;
	int r;

	if (rt->map_step == MAP_DONE)
		return mapped(rt, ret_addr);
	if ((r = wait_syscall(rt->pid)) < 0)
		return r;
	switch (rt->map_step++) {
	case MAP_ALTSTACK_ENTRY:
	case MAP_ALTSTACK_EXIT:
		break;
	case MAP_SIGRETURN_1:
		if ((r = map_inject(rt)) < 0)
			return r;
		break;
	case MAP_MMAP_EXIT:
		if (ptrace(PTRACE_GETREGS, rt->pid, 0, &regs))
			return log_error_errno(-errno, "cannot read registers of task %d", rt->pid);
		rt->map_addr = regs.rax;
		break;
	default: /* MAP_SIGRETURN_2 */
		if ((r = check_sigreturn(rt)) < 0)
			return r;
		return mapped(rt, ret_addr);
	}
	return resume_syscall(rt->pid);
}

int remote_map(struct remote *rt, size_t len, uint64_t *ret_addr)
{
	int r = remote_map_begin(rt, len);

	while (r == 0)
		r = remote_map_step(rt, ret_addr);
	return r < 0 ? r : 0;
}

static bool at_park(const struct remote *rt, const struct user_regs_struct *r)
{
	return r->rip == rt->base + RST_PARK_SYS_OFF + 2 && r->orig_rax == RST_PARK_NR &&
	       (long)r->rax == -ENOSYS;
}

/*
 * From any stop: the thread runs syscall nr at the blob's remote syscall,
 * whose return falls into the park. Resumed without nestor from any stop on
 * the way, it ends in the cure.
 */
static int park_begin(struct remote *rt, long nr, long a1, long a2)
{
	struct user_regs_struct regs = rt->regs;
	uint64_t all = ~0ULL;

	regs.rip = rt->base + RST_REMOTE_OFF;
	regs.rax = nr;
	regs.orig_rax = -1; /* at a syscall entry stop: that syscall is skipped */
	set_args(&regs, a1, a2, 0, 0, 0, 0);
	regs.rsp = sigframe_sp(rt->frame);
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot set registers of task %d", rt->pid);
	rt->ran_syscall = true;
	if (ptrace(PTRACE_SETSIGMASK, rt->pid, sizeof(uint64_t), &all))
		return log_error_errno(-errno, "cannot block signals of task %d", rt->pid);
	rt->park_stops = 0;
	return resume_syscall(rt->pid);
}

int remote_park_step(struct remote *rt)
{
	int r;

	if ((r = wait_syscall(rt->pid)) < 0)
		return r;
	if (ptrace(PTRACE_GETREGS, rt->pid, 0, &rt->pregs))
		return log_error_errno(-errno, "cannot read registers of task %d", rt->pid);
	if (at_park(rt, &rt->pregs)) {
		rt->parked = true;
		/* No frame below its stack pointer is needed any more. */
		return rop_leave(rt, &rt->rop) ?: 1;
	}
	/* (the skipped syscall's exit,) the syscall's entry and exit, the park's entry */
	if (++rt->park_stops == 4)
		return log_error_ret(-EIO, "task %d did not park (at %#llx, syscall %lld)", rt->pid,
				     rt->pregs.rip, (long long)rt->pregs.orig_rax);
	return resume_syscall(rt->pid);
}

int remote_park_begin(struct remote *rt, long nr, long a1)
{
	return park_begin(rt, nr, a1, 0);
}

int remote_frame(struct remote *rt, const uint64_t *altstack)
{
	static uint8_t xbuf[XSAVE_BUF];
	struct user_regs_struct own = rt->regs;
	size_t xlen = sizeof(xbuf), len;
	_cleanup_free_ uint8_t *frame = NULL;
	struct rst_cure *cure;
	int r;

	if (rt->parked)
		return 0;
	if ((r = ptrace_get_xsave(rt->pid, xbuf, &xlen)) < 0)
		return r;
	len = sigframe_size(xlen);
	if (len > rt->frame_len)
		return log_error_ret(-E2BIG, "the xsave area of task %d (%zu bytes) has no room",
				     rt->pid, xlen);
	frame = calloc(1, RST_CURE_SIZE + len);
	if (!frame)
		return -ENOMEM;
	/*
	 * What the kernel would do were the task to go on: an interrupted
	 * syscall starts again (rt_sigreturn leaves no restart block: one
	 * that had one is issued again with its arguments).
	 */
	regs_fixup_restart(&own, true);
	cure = (struct rst_cure *)frame;
	cure->main = rt->main_thread;
	cure->done = rt->done;
	cure->timeout[1] = 100 * 1000 * 1000;
	if ((r = sigframe_build(&own, rt->sigmask, xbuf, xlen, rt->frame, frame + RST_CURE_SIZE,
				len)) < 0)
		return r;
	if (altstack)
		memcpy(frame + RST_CURE_SIZE + (sigframe_uc_stack(rt->frame) - rt->frame), altstack,
		       3 * sizeof(uint64_t));
	if ((r = remote_write(rt->pid, rt->frame - RST_CURE_SIZE, frame, RST_CURE_SIZE + len)) < 0)
		return log_error_errno(r, "cannot write the frame of task %d", rt->pid);
	return 0;
}

int remote_park_start(struct remote *rt)
{
	int r;

	if ((r = remote_frame(rt, NULL)) < 0)
		return r;
	/*
	 * Its first syscall reads its altstack straight into its frame
	 * (rt_sigreturn sets the altstack from there).
	 */
	return park_begin(rt, __NR_sigaltstack, 0, sigframe_uc_stack(rt->frame));
}

int remote_park(struct remote *rt)
{
	int r;

	if (rt->parked)
		return 0;
	r = remote_park_start(rt);
	while (r == 0)
		r = remote_park_step(rt);
	return r < 0 ? r : 0;
}

int remote_hold(struct remote *rt, long nr, long a1, long a2, long a3)
{
	struct user_regs_struct regs;
	int r;

	if (!rt->parked && (r = remote_park(rt)) < 0)
		return r;
	regs = rt->pregs;
	regs.orig_rax = nr;
	set_args(&regs, a1, a2, a3, 0, 0, 0);
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot set registers of task %d", rt->pid);
	return 0;
}

/*
 * The main thread's mapping goes last, by a munmap that returns through a
 * frame below its stack pointer (rop.c): at no moment does the thread
 * depend on nestor. Without that frame (no trampoline found), only between
 * the unmap and the next call can a nestor that dies leave the task
 * without its registers.
 */
static int unmap_parked(struct remote *rt)
{
	long ret = 0;
	int r;

	if (rop_enter(rt, rt->vmas, rt->nr_vmas, rt->altstack, &rt->rop) == 0) {
		r = rop_run(rt, rt->pregs, __NR_munmap, &ret, rt->base, rt->unmap_len, 0, 0, 0, 0);
	} else {
		r = inject(rt, __NR_munmap, &ret, rt->base, rt->unmap_len, 0, 0, 0, 0);
	}
	if (r == 0 && ret < 0)
		r = log_error_errno((int)ret, "cannot unmap the parasite from task %d", rt->pid);
	return r;
}

/*
 * Parked, every step keeps the thread safe: the mapping's unmap (the main
 * thread, after the others), its own registers at an entry stop where no
 * syscall is left to run (the task's bytes below its stack pointer back
 * only then), its mask, the detach.
 */
static int release_parked(struct remote *rt)
{
	struct user_regs_struct regs = rt->regs;
	int r = 0;

	if (rt->unmap_len)
		r = unmap_parked(rt);
	regs_fixup_restart(&regs, false);
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		r = log_error_errno(-errno, "cannot restore registers of task %d", rt->pid);
	if (rop_leave(rt, &rt->rop) < 0 && r == 0)
		r = -EFAULT;
	if (ptrace(PTRACE_SETSIGMASK, rt->pid, sizeof(uint64_t), &rt->sigmask) && r == 0)
		r = log_error_errno(-errno, "cannot restore signal mask of task %d", rt->pid);
	rt->parked = false;
	if (ptrace(PTRACE_DETACH, rt->pid, 0, 0) && r == 0)
		r = log_error_errno(-errno, "cannot detach from task %d", rt->pid);
	return r;
}

int remote_release(struct remote *rt)
{
	struct user_regs_struct regs = rt->regs;
	int r = 0;

	if (rt->parked)
		return release_parked(rt);
	/*
	 * After a remote syscall the task sits in a syscall-exit stop, where the
	 * kernel will not restart the syscall we interrupted: do it as it would.
	 */
	if (rt->ran_syscall) {
		regs_fixup_restart(&regs, false);
		if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
			r = log_error_errno(-errno, "cannot restore registers of task %d", rt->pid);
		rop_leave(rt, &rt->rop);
		if (ptrace(PTRACE_SETSIGMASK, rt->pid, sizeof(uint64_t), &rt->sigmask))
			r = log_error_errno(-errno, "cannot restore signal mask of task %d",
					    rt->pid);
	}
	if (ptrace(PTRACE_DETACH, rt->pid, 0, 0) && r == 0)
		r = log_error_errno(-errno, "cannot detach from task %d", rt->pid);
	return r;
}
