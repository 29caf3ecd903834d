/*
 * Threads. Dump: every thread is seized (until no new one appears) and
 * gives its registers, whole xsave area, signal mask and pending signals,
 * rseq registration, clear-tid address, robust list, altstack and
 * scheduling. Restore: the blob creates the threads with their tids and
 * each restores its own state (the kernel keeps these per thread), then
 * traps; nestor sets the registers, xsave area and mask through ptrace.
 */
#define LOG_PREFIX "thread: "
#include <fcntl.h>
#include <stddef.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include "core/arena.h"
#include "core/log.h"
#include "tree/cgroup.h"
#include "tree/proc.h"
#include "tree/seccomp.h"
#include "tree/signals.h"
#include "tree/task.h"
#include "core/sys.h"
#include "tree/thread.h"
#include "core/util.h"

#define XSAVE_MAX   (64 << 10)
#define MAX_THREADS 4096


/* Each register's place in the image and in the kernel's struct user_regs_struct. */
static const struct {
	size_t image, kernel;
} reg_map[] = {
#define R(f, k) { offsetof(UserRegsEntry, f), offsetof(struct user_regs_struct, k) }
	R(r15, r15), R(r14, r14), R(r13, r13), R(r12, r12), R(bp, rbp), R(bx, rbx),
	R(r11, r11), R(r10, r10), R(r9, r9), R(r8, r8), R(ax, rax), R(cx, rcx),
	R(dx, rdx), R(si, rsi), R(di, rdi), R(orig_ax, orig_rax), R(ip, rip), R(cs, cs),
	R(flags, eflags), R(sp, rsp), R(ss, ss), R(fs_base, fs_base), R(gs_base, gs_base),
	R(ds, ds), R(es, es), R(fs, fs), R(gs, gs),
#undef R
};

static bool seized_already(const struct dump_task *t, pid_t tid)
{
	if (tid == t->pid)
		return true;
	for (size_t i = 0; i < t->nr_threads; i++)
		if (t->threads[i].pid == tid)
			return true;
	return false;
}

/* One pass over /proc/PID/task; returns how many new threads it seized. */
static int seize_pass(struct dump_task *t)
{
	char path[64];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	d = opendir(path);
	if (!d)
		return log_error_errno(-errno, "cannot open %s", path);
	while ((de = readdir(d))) {
		struct remote *n;
		int tid, r;

		if (parse_int(de->d_name, &tid) < 0 || seized_already(t, tid))
			continue;
		if (t->nr_threads == MAX_THREADS)
			return log_error_ret(-E2BIG, "can't dump: task %d has too many threads", t->pid);
		n = realloc(t->threads, (t->nr_threads + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->threads = n;
		r = remote_seize(tid, &t->threads[t->nr_threads]);
		if (r == -ESRCH)
			continue; /* it ended since it was listed: not part of the dump */
		if (r < 0)
			return r;
		t->nr_threads++;
		found++;
	}
	return found;
}

int threads_seize(struct dump_task *t)
{
	int r;

	/* A seized thread cannot make new ones: repeat until a pass finds none. */
	while ((r = seize_pass(t)) > 0)
		;
	return r;
}

static int dump_regs(struct remote *rt, ThreadEntry *th)
{
	const struct user_regs_struct *g = &rt->regs;
	UserRegsEntry *re = ANEW(UserRegsEntry);
	static uint8_t xbuf[XSAVE_MAX];
	size_t xlen = XSAVE_MAX;
	int r;

	if (!re)
		return -ENOMEM;
	user_regs_entry__init(re);
	th->regs = re;
	for (size_t i = 0; i < ARRAY_SIZE(reg_map); i++)
		*(uint64_t *)((char *)re + reg_map[i].image) =
			*(const uint64_t *)((const char *)g + reg_map[i].kernel);
	r = ptrace_get_xsave(rt->pid, xbuf, &xlen);
	if (r < 0)
		return r;
	th->xsave.data = arena_memdup(xbuf, xlen); /* ~11 KiB here, of 64 KiB at most */
	th->xsave.len = xlen;
	if (!th->xsave.data)
		return -ENOMEM;
	th->sigmask = rt->sigmask;
	return 0;
}

static int dump_rseq(struct remote *rt, ThreadEntry *th)
{
	struct ptrace_rseq_configuration_k rc = { 0 };

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, rt->pid, sizeof(rc), &rc) != sizeof(rc) ||
	    !rc.rseq_abi_pointer)
		return 0;
	th->rseq = ANEW(RseqEntry);
	if (!th->rseq)
		return -ENOMEM;
	rseq_entry__init(th->rseq);
	th->rseq->ptr = rc.rseq_abi_pointer;
	th->rseq->len = rc.rseq_abi_size;
	th->rseq->sig = rc.signature;
	th->rseq->flags = rc.flags;
	return 0;
}

/*
 * Speculation control (PR_SET_SPECULATION_CTRL) is per thread and not
 * restored yet: a thread whose flags differ from what a new task gets
 * (nestor's own) is refused by name. Where the CPU or the kernel offers no
 * control (as here), they cannot differ.
 */
int thread_check_spec(struct remote *rt, pid_t pid)
{
	static const char *const names[] = { "store bypass", "indirect branch", "L1D flush" };

	for (int w = 0; w < 3; w++) {
		long own = prctl(PR_GET_SPECULATION_CTRL, w, 0, 0, 0), v;
		int r;

		/* Not settable per task (no PR_SPEC_PRCTL): every task has the same. */
		if (own < 0 || !(own & PR_SPEC_PRCTL))
			continue;
		r = remote_syscall(rt, __NR_prctl, &v, PR_GET_SPECULATION_CTRL, w, 0, 0, 0, 0);
		if (r < 0)
			return r;
		if (v != own)
			return log_error_ret(-EOPNOTSUPP, "can't dump: thread %d of task %d has "
							  "speculation control for %s set (%#lx; "
							  "not supported yet)", rt->pid, pid, names[w], v);
	}
	return 0;
}

/*
 * The attributes the kernel keeps per thread that only the thread tells
 * (the main thread's come from the parasite and /proc, into the core).
 */
static int dump_attrs(struct remote *rt, uint64_t addr, ThreadEntry *th)
{
	uint32_t sig = 0;
	long v;
	int r;

	r = remote_syscall(rt, __NR_prctl, &v, PR_GET_PDEATHSIG, addr, 0, 0, 0, 0);
	if (r < 0 || v < 0 || remote_read(rt->pid, addr, &sig, sizeof(sig)))
		return log_error_ret(r < 0 ? r : -EIO, "cannot read the parent-death signal of "
						       "thread %d", rt->pid);
	th->has_pdeath_sig = true;
	th->pdeath_sig = sig;
	if ((r = remote_syscall(rt, __NR_prctl, &v, PR_GET_SECUREBITS, 0, 0, 0, 0, 0)) < 0 || v < 0)
		return log_error_ret(r < 0 ? r : (int)v, "cannot read the securebits of thread %d",
				     rt->pid);
	th->has_securebits = true;
	th->securebits = v;
	if ((r = remote_syscall(rt, __NR_prctl, &v, PR_GET_TIMERSLACK, 0, 0, 0, 0, 0)) < 0 || v < 0)
		return log_error_ret(r < 0 ? r : (int)v, "cannot read the timer slack of thread %d",
				     rt->pid);
	th->has_timerslack_ns = true;
	th->timerslack_ns = v;
	r = remote_syscall(rt, __NR_personality, &v, 0xffffffff, 0, 0, 0, 0, 0);
	if (r < 0 || v < 0)
		return log_error_ret(r < 0 ? r : (int)v, "cannot read the personality of thread %d",
				     rt->pid);
	th->has_personality = true;
	th->personality = v;
	return 0;
}

static int dump_loginuid(pid_t tid, ThreadEntry *th)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/loginuid", tid);
	r = read_file_at(AT_FDCWD, path, &buf, 64);
	if (r == -ENOENT) /* no audit in this kernel */
		return 0;
	if (r < 0)
		return log_error_errno(r, "cannot read %s", path);
	th->has_loginuid = true;
	th->loginuid = strtoul(buf, NULL, 10);
	return 0;
}

/* What only the thread itself can tell: from the parasite (the main thread),
 * or asked with syscalls run in it. */
static int dump_in_thread(struct remote *rt, const struct parasite_args *pa, ThreadEntry *th)
{
	uint64_t addr, buf[3] = { 0 };
	void *head;
	size_t hlen;
	long v;
	int r;

	if (sys_get_robust_list(rt->pid, &head, &hlen))
		return log_error_errno(-errno, "cannot read the robust list of thread %d", rt->pid);
	th->robust_list = (uint64_t)head;
	th->robust_list_len = hlen;
	if (pa) {
		th->clear_tid_addr = pa->tid_address;
		th->altstack_sp = pa->altstack[0];
		th->altstack_flags = (uint32_t)pa->altstack[1];
		th->altstack_size = pa->altstack[2];
		return 0;
	}
	if ((r = remote_scratch(rt, sizeof(buf), &addr)) < 0)
		return r;
	r = remote_syscall(rt, __NR_prctl, &v, PR_GET_TID_ADDRESS, addr, 0, 0, 0, 0);
	if (r < 0 || v < 0 || remote_read(rt->pid, addr, buf, 8))
		return log_error_ret(r < 0 ? r : -EIO, "cannot read the clear-tid address of thread %d",
				     rt->pid);
	th->clear_tid_addr = buf[0];
	r = remote_syscall(rt, __NR_sigaltstack, &v, 0, addr, 0, 0, 0, 0);
	if (r < 0 || v < 0 || remote_read(rt->pid, addr, buf, 24))
		return log_error_ret(r < 0 ? r : -EIO, "cannot read the altstack of thread %d", rt->pid);
	th->altstack_sp = buf[0];
	th->altstack_flags = (uint32_t)buf[1];
	th->altstack_size = buf[2];
	return dump_attrs(rt, addr, th);
}

static int dump_affinity(pid_t tid, ThreadEntry *th)
{
	uint8_t mask[128];
	long n = sys_sched_getaffinity(tid, sizeof(mask), mask);

	if (n < 0)
		return log_error_errno(-errno, "cannot read the CPU affinity of thread %d", tid);
	th->has_cpu_mask = true;
	th->cpu_mask.len = n;
	th->cpu_mask.data = arena_memdup(mask, n);
	return th->cpu_mask.data ? 0 : -ENOMEM;
}

static int dump_sched(pid_t tid, ThreadEntry *th)
{
	struct sched_attr_k attr = { 0 };

	if (sys_sched_getattr(tid, &attr, sizeof(attr)))
		return log_error_errno(-errno, "cannot read scheduling of thread %d", tid);
	if (attr.sched_policy == SCHED_DEADLINE)
		return log_error_ret(-EOPNOTSUPP, "can't dump: thread %d uses SCHED_DEADLINE", tid);
	th->has_sched_policy = th->has_sched_prio = th->has_sched_nice = th->has_sched_flags = true;
	th->sched_policy = attr.sched_policy;
	th->sched_prio = attr.sched_priority;
	th->sched_nice = attr.sched_nice;
	th->sched_flags = attr.sched_flags;
	return dump_affinity(tid, th);
}

int thread_dump(struct remote *rt, const struct parasite_args *pa, ThreadEntry **ret)
{
	ThreadEntry *th = ANEW(ThreadEntry);
	int r;

	if (!th)
		return -ENOMEM;
	thread_entry__init(th);
	th->tid = rt->pid;
	if ((r = dump_regs(rt, th)) < 0 || (r = dump_rseq(rt, th)) < 0 ||
	    (r = dump_in_thread(rt, pa, th)) < 0 || (r = dump_sched(rt->pid, th)) < 0 ||
	    (r = dump_loginuid(rt->pid, th)) < 0 ||
	    (r = signals_dump_pending(rt->pid, false, &th->pending, &th->n_pending)) < 0)
		return r;
	*ret = th;
	return 0;
}

/*
 * What /proc says of a thread other than the main one: its name, its
 * no_new_privs and seccomp mode, and its credentials. These are per
 * thread in the kernel; libc keeps them the same in every thread, but a
 * raw setresuid, setgroups or capset in one thread changes only it: such
 * a thread keeps credentials of its own.
 */
static int dump_thread_status(const struct dump_task *t, pid_t tid, ThreadEntry *th)
{
	const struct proc_status *m = &t->status;
	struct proc_status s;
	int r = proc_read_status(tid, &s);

	if (r < 0)
		return log_error_errno(r, "cannot read the status of thread %d", tid);
	if (memcmp(s.uid, m->uid, sizeof(s.uid)) || memcmp(s.gid, m->gid, sizeof(s.gid)) ||
	    s.nr_groups != m->nr_groups ||
	    memcmp(s.groups, m->groups, s.nr_groups * sizeof(s.groups[0])) ||
	    s.cap_inh != m->cap_inh || s.cap_prm != m->cap_prm || s.cap_eff != m->cap_eff ||
	    s.cap_bnd != m->cap_bnd || s.cap_amb != m->cap_amb) {
		if ((r = task_creds_from_status(&s, &th->creds)) < 0)
			return r;
	}
	if (s.seccomp == 1)
		return log_error_ret(-EOPNOTSUPP, "can't dump: thread %d of task %d is in strict "
						  "seccomp mode (not supported)", tid, t->pid);
	th->has_no_new_privs = true;
	th->no_new_privs = s.no_new_privs;
	th->comm = arena_strdup(s.name);
	return th->comm ? 0 : -ENOMEM;
}

/*
 * Every thread nestor will run syscalls in is parked first, side by side (a
 * stop each in turn), rather than each on its first remote syscall. Every
 * park started is waited for, even after a failure.
 */
static int park_threads(struct dump_task *t)
{
	bool going[t->nr_threads + 1];
	size_t left = 0;
	int r = 0;

	for (size_t i = 0; i < t->nr_threads; i++) {
		struct remote *rt = &t->threads[i];

		going[i] = r == 0 && rt->base && !rt->parked && (r = remote_park_start(rt)) == 0;
		left += going[i];
	}
	while (left) {
		for (size_t i = 0; i < t->nr_threads; i++) {
			int s;

			if (!going[i])
				continue;
			s = remote_park_step(&t->threads[i]);
			if (s == 0)
				continue;
			going[i] = false;
			left--;
			r = r ? r : s < 0 ? s : 0;
		}
	}
	return r;
}

int threads_dump(struct dump_task *t)
{
	TaskCoreEntry *c = t->core;
	int r;

	c->threads = ANEW_ARRAY(ThreadEntry *, t->nr_threads + 1);
	if (!c->threads)
		return -ENOMEM;
	if ((r = park_threads(t)) < 0)
		return r;
	for (size_t i = 0; i < t->nr_threads; i++) {
		t->threads[i].gadget = t->rt.gadget; /* one address space */
		r = thread_dump(&t->threads[i], NULL, &c->threads[c->n_threads]);
		if (r == 0)
			r = dump_thread_status(t, t->threads[i].pid, c->threads[c->n_threads]);
		if (r == 0)
			r = thread_check_spec(&t->threads[i], t->pid);
		if (r < 0)
			return r;
		c->n_threads++;
	}
	return 0;
}

/* ---- restore ---- */

int thread_validate(const ThreadEntry *th)
{
	if (!th->regs || th->xsave.len < 576 || th->xsave.len > XSAVE_MAX ||
	    (th->has_cpu_mask && (th->cpu_mask.len > 128 || th->cpu_mask.len % 8)) ||
	    (th->rseq && th->rseq->len > 1024) || (th->comm && strlen(th->comm) > 15) ||
	    th->n_pending > SIGNALS_MAX_PENDING || !th->tid || th->pdeath_sig > 64 ||
	    (th->creds && (th->creds->n_uids != 4 || th->creds->n_gids != 4 ||
			   th->creds->n_groups > RST_MAX_GROUPS)) ||
	    th->tid > 4194304)
		return -EINVAL;
	for (size_t i = 0; i < th->n_pending; i++)
		if (!siginfo_ok(th->pending[i]))
			return -EINVAL;
	return 0;
}

/* nestor's own audit login uid, which the tasks it forks inherit. */
static uint32_t own_loginuid(void)
{
	static uint32_t own = UINT32_MAX;
	static bool read_it;
	_cleanup_free_ char *buf = NULL;

	if (!read_it && read_file_at(AT_FDCWD, "/proc/self/loginuid", &buf, 64) >= 0)
		own = strtoul(buf, NULL, 10);
	read_it = true;
	return own;
}

/*
 * A thread's login uid other than nestor's is written back, from inside
 * the thread (the kernel allows no other writer). Once nestor's is set,
 * changing it needs CAP_AUDIT_CONTROL: refused here without it, by name.
 */
int threads_check_loginuid(const TaskCoreEntry *c)
{
	struct proc_status st;
	const ThreadEntry *th;

	for (size_t i = 0; i <= c->n_threads; i++) {
		th = i ? c->threads[i - 1] : c->thread;
		if (!th->has_loginuid || th->loginuid == own_loginuid() ||
		    own_loginuid() == UINT32_MAX)
			continue;
		if (proc_read_status(getpid(), &st) == 0 && (st.cap_eff & (1ULL << 30)))
			continue;
		return log_error_ret(-EPERM, "can't restore: thread %u of task %u has audit login "
					     "uid %u, nestor's is %u and changing it needs "
					     "CAP_AUDIT_CONTROL", th->tid, c->pid, th->loginuid,
				     own_loginuid());
	}
	return 0;
}

static size_t nr_pending(const TaskCoreEntry *c)
{
	size_t n = c->thread->n_pending;

	for (size_t i = 0; i < c->n_threads; i++)
		n += c->threads[i]->n_pending;
	return n;
}

size_t threads_args_size(const TaskCoreEntry *c)
{
	size_t filters = seccomp_chain_size(c->thread->seccomp, c->thread->n_seccomp);

	for (size_t i = 0; i < c->n_threads; i++)
		filters += seccomp_chain_size(c->threads[i]->seccomp, c->threads[i]->n_seccomp);
	return (c->n_threads + 1) * sizeof(struct rst_thread) + nr_pending(c) * 128 + filters +
	       c->n_threads * RST_THREAD_STACK + 64;
}

/* Per-thread attributes: the thread's own, or (main thread) the task's. */
static void fill_attrs(const TaskCoreEntry *c, const ThreadEntry *th, struct rst_thread *rt)
{
	rt->no_new_privs = th->has_no_new_privs ? th->no_new_privs : c->creds->no_new_privs;
	rt->securebits = th->has_securebits ? th->securebits : c->creds->securebits;
	rt->pdeath_sig = th->has_pdeath_sig ? th->pdeath_sig : c->pdeath_sig;
	rt->timerslack_ns = th->has_timerslack_ns ? th->timerslack_ns : c->timerslack_ns;
	rt->personality = th->has_personality ? th->personality : c->personality;
	if (th->has_loginuid && th->loginuid != own_loginuid())
		snprintf(rt->loginuid, sizeof(rt->loginuid), "%u", th->loginuid);
}

static void fill_one(const TaskCoreEntry *c, const ThreadEntry *th, struct rst_thread *rt,
		     uint8_t **cursor)
{
	memset(rt, 0, sizeof(*rt));
	rt->tid = th->tid;
	rt->clear_tid = th->clear_tid_addr;
	rt->robust_list = th->robust_list;
	rt->robust_len = th->robust_list_len;
	if (th->rseq) {
		rt->has_rseq = 1;
		rt->rseq_ptr = th->rseq->ptr;
		rt->rseq_len = th->rseq->len;
		rt->rseq_sig = th->rseq->sig;
	}
	rt->ss_sp = th->altstack_sp;
	rt->ss_size = th->altstack_size;
	/* We are not on it now, whatever the thread was doing when dumped. */
	rt->ss_flags = th->altstack_flags & ~SS_ONSTACK;
	rt->has_sched = th->has_sched_policy;
	if (th->has_cpu_mask && th->cpu_mask.len <= sizeof(rt->cpu_mask)) {
		rt->cpu_mask_len = th->cpu_mask.len;
		memcpy(rt->cpu_mask, th->cpu_mask.data, th->cpu_mask.len);
	}
	if (th->comm)
		memcpy(rt->comm, th->comm, strlen(th->comm) + 1); /* validated: at most 15 */
	rt->sched_policy = th->sched_policy;
	rt->sched_prio = th->sched_prio;
	rt->sched_nice = th->sched_nice;
	rt->sched_flags = th->sched_flags;
	fill_attrs(c, th, rt);
	if (th->creds) {
		rt->has_creds = 1;
		task_fill_creds(th->creds, &rt->creds);
	}
	rt->nr_pending = th->n_pending;
	rt->pending = (uint64_t)*cursor;
	for (size_t i = 0; i < th->n_pending; i++, *cursor += 128)
		memcpy(*cursor, th->pending[i]->raw.data, 128);
	*cursor += seccomp_chain_fill(th->seccomp, th->n_seccomp, *cursor, &rt->nr_seccomp,
				      &rt->seccomp);
}

void threads_fill_args(const TaskCoreEntry *c, struct rst_args *a, uint8_t *at, uint8_t *stacks)
{
	struct rst_thread *v = (struct rst_thread *)at;
	uint8_t *cursor = at + (c->n_threads + 1) * sizeof(*v);

	a->nr_threads = c->n_threads + 1;
	a->threads = (uint64_t)v;
	fill_one(c, c->thread, &v[0], &cursor);
	v[0].args = (uint64_t)a;
	/* One memory, registered once, by the main thread. */
	v[0].membarrier = c->has_membarrier ? c->membarrier : 0;
	for (size_t i = 0; i < c->n_threads; i++) {
		fill_one(c, c->threads[i], &v[i + 1], &cursor);
		v[i + 1].args = (uint64_t)a;
		v[i + 1].stack_top = (uint64_t)(stacks + (i + 1) * RST_THREAD_STACK - 64);
	}
}

int thread_restore_regs(pid_t tid, const ThreadEntry *th)
{
	const UserRegsEntry *re = th->regs;
	struct user_regs_struct g;
	uint64_t mask = th->sigmask;

	for (size_t i = 0; i < ARRAY_SIZE(reg_map); i++)
		*(uint64_t *)((char *)&g + reg_map[i].kernel) =
			*(const uint64_t *)((const char *)re + reg_map[i].image);
	/* The thread was stopped inside a syscall: restart it as a signal would have. */
	regs_fixup_restart(&g, true);
	if (ptrace(PTRACE_SETREGS, tid, 0, &g))
		return log_error_errno(-errno, "cannot set registers of thread %d", tid);
	if (ptrace_set_xsave(tid, th->xsave.data, th->xsave.len) < 0)
		return -EINVAL;
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask))
		return log_error_errno(-errno, "cannot set signal mask of thread %d", tid);
	return cgroup_restore_thread(th);
}
