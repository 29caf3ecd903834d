/* ptrace-based control of a task: seize, remote syscalls, registers. */
#define LOG_PREFIX "ptrace: "
#include <dirent.h>
#include <elf.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "core/fault.h"
#include "core/log.h"
#include "tree/proc.h"
#include "infect/ptrace.h"
#include "core/util.h"
#include "infect/rop.h"
#include "infect/sigframe.h"
#include "restorer/restorer-abi.h"

#define XSAVE_BUF (64 << 10)

_Static_assert(offsetof(struct rst_cure, nr_fds) == 4 && offsetof(struct rst_cure, done) == 8 &&
		       offsetof(struct rst_cure, timeout) == 16 &&
		       offsetof(struct rst_cure, fds) == 40 && sizeof(struct rst_cure) <= RST_CURE_SIZE,
	       "entry.S reads struct rst_cure at these offsets");

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

void remote_set_scratch(struct remote *rt, uint64_t addr, size_t len)
{
	rt->scratch = addr;
	rt->scratch_len = len;
}

int remote_scratch(struct remote *rt, size_t len, uint64_t *ret_addr)
{
	if (!rt->scratch_len)
		return log_error_ret(-EINVAL, "no memory of nestor's in task %d for a remote call",
				     rt->pid);
	if (len > rt->scratch_len)
		return -E2BIG;
	*ret_addr = rt->scratch;
	return 0;
}

/*
 * Remote syscalls stop at the syscall's entry and exit (PTRACE_SYSCALL),
 * never with a trap: a single-step or an int3 raises a SIGTRAP that the
 * kernel forces (resetting the task's SIGTRAP handler when the signal is
 * blocked) and that the task takes itself if nestor dies in that stop.
 * A syscall stop is no signal: a detached task just goes on.
 */
static int resume_syscall(pid_t pid)
{
	if (ptrace(PTRACE_SYSCALL, pid, 0, 0))
		return log_error_errno(-errno, "cannot resume task %d", pid);
	return 0;
}

/* The next stop of a thread resumed with PTRACE_SYSCALL: a syscall stop. */
static int wait_syscall(pid_t pid)
{
	int status, r;

	r = wait_stopped(pid, &status);
	if (r < 0)
		return log_error_errno(r, "cannot wait for task %d", pid);
	if (!WIFSTOPPED(status))
		return log_error_ret(-ESRCH, "task %d died in a remote syscall", pid);
	if (WSTOPSIG(status) != (SIGTRAP | 0x80))
		return log_error_ret(-EIO, "task %d stopped with signal %d in a remote syscall",
				     pid, WSTOPSIG(status));
	return 0;
}

static int syscall_stop(pid_t pid)
{
	int r = resume_syscall(pid);

	return r < 0 ? r : wait_syscall(pid);
}

static void set_args(struct user_regs_struct *r, long a1, long a2, long a3, long a4, long a5,
		     long a6)
{
	r->rdi = a1;
	r->rsi = a2;
	r->rdx = a3;
	r->r10 = a4;
	r->r8 = a5;
	r->r9 = a6;
}


static int sigreturn_stop(struct remote *rt);

/* From a stop outside a syscall: the registers point at the gadget. */
static int gadget_begin(struct remote *rt, long nr, long a1, long a2, long a3, long a4, long a5,
			long a6)
{
	struct user_regs_struct regs = rt->regs;

	if (!rt->gadget)
		return log_error_ret(-EINVAL, "no syscall gadget in task %d", rt->pid);
	regs.rip = rt->gadget;
	regs.rax = nr;
	regs.orig_rax = -1; /* no restart of what the task was doing */
	set_args(&regs, a1, a2, a3, a4, a5, a6);
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot set registers of task %d", rt->pid);
	rt->ran_syscall = true;
	return resume_syscall(rt->pid);
}

int remote_gadget_begin(struct remote *rt, long nr, long a1, long a2)
{
	return gadget_begin(rt, nr, a1, a2, 0, 0, 0, 0);
}

int remote_gadget_end(struct remote *rt, long *ret)
{
	struct user_regs_struct regs;
	int r;

	if ((r = wait_syscall(rt->pid)) < 0 || (r = syscall_stop(rt->pid)) < 0)
		return r;
	if (ptrace(PTRACE_GETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot read registers of task %d", rt->pid);
	*ret = regs.rax;
	return 0;
}

static int gadget_call(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4,
		       long a5, long a6)
{
	int r = gadget_begin(rt, nr, a1, a2, a3, a4, a5, a6);

	return r < 0 ? r : remote_gadget_end(rt, ret);
}

/* Back to the park's entry stop, from the exit of an injected syscall. */
static int repark(struct remote *rt)
{
	struct user_regs_struct regs = rt->pregs;

	regs.rip = rt->base + RST_PARK_OFF;
	regs.orig_rax = -1;
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot set registers of task %d", rt->pid);
	return syscall_stop(rt->pid);
}

static int write_fds(struct remote *rt)
{
	uint64_t at = rt->frame - RST_CURE_SIZE;
	int r;

	if ((r = remote_write(rt->pid, at + offsetof(struct rst_cure, fds), rt->fds,
			      rt->nr_fds * sizeof(rt->fds[0]))) < 0 ||
	    (r = remote_write(rt->pid, at + offsetof(struct rst_cure, nr_fds), &rt->nr_fds,
			      sizeof(rt->nr_fds))) < 0)
		return log_error_errno(r, "cannot write into task %d", rt->pid);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The n lowest free descriptor numbers of the task: where its next fds go. */
static int lowest_free(pid_t pid, int n, int *ret)
{
	char path[64];
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ int *v = NULL;
	size_t nr = 0, cap = 0;
	struct dirent *de;
	int want = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if (!(d = opendir(path)))
		return log_error_errno(-errno, "cannot open %s", path);
	while ((de = readdir(d))) {
		int fd;

		if (parse_int(de->d_name, &fd) < 0)
			continue;
		if (nr == cap) {
			int *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));

			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[nr++] = fd;
	}
	qsort(v, nr, sizeof(*v), cmp_int);
	for (size_t i = 0; n > 0; want++) {
		while (i < nr && v[i] < want)
			i++;
		if (i < nr && v[i] == want)
			continue;
		*ret++ = want;
		n--;
	}
	return 0;
}

/* How many descriptors syscall nr makes in the task (recvmsg: one at most, here). */
static int fds_made(long nr)
{
	switch (nr) {
	case __NR_socket: case __NR_recvmsg: case __NR_open: case __NR_openat: case __NR_dup:
	case __NR_memfd_create: case __NR_accept4: case __NR_eventfd2:
		return 1;
	case __NR_pipe2: case __NR_socketpair:
		return 2;
	}
	return 0;
}

/*
 * The main thread's cure block lists nestor's fds in the task before any
 * syscall that makes or closes one runs: the next fds go to the lowest free
 * numbers, and a close that runs removes its fd. Whatever stop nestor dies
 * in, the cure closes exactly nestor's fds.
 */
static int track_fds(struct remote *rt, long nr, long a1, bool *ret_changed)
{
	int n = fds_made(nr), r;

	*ret_changed = false;
	if (!rt->main_thread)
		return 0;
	if (nr == __NR_close) {
		for (int i = 0; i < rt->nr_fds; i++)
			if (rt->fds[i] == a1) {
				rt->fds[i] = rt->fds[--rt->nr_fds];
				*ret_changed = true;
				return write_fds(rt);
			}
		return 0;
	}
	if (!n)
		return 0;
	if (rt->nr_fds + n > RST_CURE_FDS)
		return log_error_ret(-EMFILE, "nestor holds too many fds in task %d", rt->pid);
	if ((r = lowest_free(rt->pid, n, rt->fds + rt->nr_fds)) < 0)
		return r;
	rt->nr_fds += n;
	*ret_changed = true;
	return write_fds(rt);
}

/* After the syscall: fds predicted that were not made (a failure) are dropped. */
static int check_fds(struct remote *rt, long nr)
{
	int n = fds_made(nr), kept = rt->nr_fds - n;
	char path[64];

	for (int i = rt->nr_fds - n; i < rt->nr_fds; i++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", rt->pid, rt->fds[i]);
		if (!access(path, F_OK) || errno != ENOENT)
			rt->fds[kept++] = rt->fds[i];
	}
	if (kept == rt->nr_fds)
		return 0;
	rt->nr_fds = kept;
	return write_fds(rt);
}

/* Parked: the park's syscall at the entry stop becomes syscall nr. */
static int inject(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4,
		  long a5, long a6)
{
	struct user_regs_struct regs = rt->pregs;
	bool tracked;
	int r;

	regs.orig_rax = nr;
	set_args(&regs, a1, a2, a3, a4, a5, a6);
	/*
	 * The cure's list gets a descriptor the syscall makes before the
	 * syscall is armed, and loses one it closes only after: a nestor
	 * killed in between leaves the cure closing exactly nestor's.
	 */
	if (nr != __NR_close && (r = track_fds(rt, nr, a1, &tracked)) < 0)
		return r;
	if (ptrace(PTRACE_SETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot set registers of task %d", rt->pid);
	if (fds_made(nr))
		fault_point("fd-armed");
	if ((nr == __NR_close && (r = track_fds(rt, nr, a1, &tracked)) < 0) ||
	    (r = syscall_stop(rt->pid)) < 0)
		return r;
	if (ptrace(PTRACE_GETREGS, rt->pid, 0, &regs))
		return log_error_errno(-errno, "cannot read registers of task %d", rt->pid);
	*ret = regs.rax;
	if (tracked && nr != __NR_close && (r = check_fds(rt, nr)) < 0)
		return r;
	return nr == __NR_munmap && a1 == (long)rt->base ? 0 : repark(rt);
}

int remote_syscall(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4,
		   long a5, long a6)
{
	int r;

	if (rt->base && !rt->parked && (r = remote_park(rt)) < 0)
		return r;
	if (rt->parked)
		return inject(rt, nr, ret, a1, a2, a3, a4, a5, a6);
	return gadget_call(rt, nr, ret, a1, a2, a3, a4, a5, a6);
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
