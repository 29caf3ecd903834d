/* ptrace-based control of a task: remote syscalls (through the vDSO gadget or
 * injected at a park), registers, memory. Seizing, the mapping, parking and
 * the release, one stop at a time: park.c. */
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
#include "infect/ptrace-priv.h"
#include "core/util.h"
#include "infect/rop.h"
#include "infect/sigframe.h"
#include "restorer/restorer-abi.h"

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
int resume_syscall(pid_t pid)
{
	if (ptrace(PTRACE_SYSCALL, pid, 0, 0))
		return log_error_errno(-errno, "cannot resume task %d", pid);
	return 0;
}

/* The next stop of a thread resumed with PTRACE_SYSCALL: a syscall stop. */
int wait_syscall(pid_t pid)
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

int syscall_stop(pid_t pid)
{
	int r = resume_syscall(pid);

	return r < 0 ? r : wait_syscall(pid);
}

void set_args(struct user_regs_struct *r, long a1, long a2, long a3, long a4, long a5,
		     long a6)
{
	r->rdi = a1;
	r->rsi = a2;
	r->rdx = a3;
	r->r10 = a4;
	r->r8 = a5;
	r->r9 = a6;
}

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

int gadget_call(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4,
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
int inject(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4,
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
