/*
 * The parasite: the restorer blob, mapped into a seized task, answers what
 * only the task can tell (signal actions, itimers, prctl values, membarrier
 * registrations...) in one run, where a remote syscall per item would cost
 * ~70 ptrace round trips.
 *
 * Its mapping is nestor's scratch room in the task: one remote mmap with
 * its arguments in registers makes it (no byte of the task is written),
 * and then it holds the blob, the parasite's answers and stack, and a slot
 * per thread: the buffers of that thread's remote calls and the signal
 * frame that takes it back to its own registers, signal mask and xsave
 * area. A thread nestor runs code in is parked (park.c) at the entry of
 * a harmless syscall followed by the cure: if nestor dies, the thread is
 * detached, closes what nestor opened in the task (the main thread) and
 * rt_sigreturns through that frame, and goes on as it was. No
 * trap and no signal is involved: the task's SIGTRAP handler is never
 * touched, and nothing nestor writes goes below a stack pointer.
 *
 * The parasite first connects to nestor, stopping at every syscall; then
 * it runs without any stop (PTRACE_CONT), says it is done on the
 * connection and waits in poll() there until nestor interrupts it (or dies:
 * the hang-up lets it park and cure by itself). A parasite that cannot
 * connect stops at every syscall until it parks, as it always did. Every
 * task's parasite is started before the first is driven, and one driver
 * takes them all through their phases a stop each in turn, so the tasks
 * run side by side. The mapping stays until the task is released (a dump
 * that kills the tree does not unmap it); the main thread unmaps it last.
 */
#define LOG_PREFIX "parasite: "
#include <poll.h>
#include <sys/epoll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/fault.h"
#include "core/log.h"
#include "core/pidmap.h"
#include "infect/parasite.h"
#include "infect/rop.h"
#include "infect/sigframe.h"
#include "core/util.h"

#define PARASITE_STACK (16 << 10)
#define SCRATCH        4096
#define XSAVE_BUF      (64 << 10)
#define STASH_MAX      (1 << 16)

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

/*
 * nestor's listening socket (abstract, named by the kernel) the parasites
 * connect to. A connection accepted while looking for another task's waits
 * in the stash for its own.
 */
static int listener = -1;
static struct sockaddr_un listen_addr;
static socklen_t listen_len;
static struct pidmap stash; /* pid -> fd: thousands of tasks connect side by side */

static int listen_once(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(listen_addr);
	int fd;

	if (listener >= 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(-errno, "cannot make the parasites' socket");
	/* An address of sun_family only: the kernel picks a free abstract name. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) || listen(fd, SOMAXCONN) ||
	    getsockname(fd, (struct sockaddr *)&listen_addr, &len) || len > sizeof(listen_addr)) {
		int r = -errno;

		close(fd);
		return log_error_errno(r, "cannot listen for the parasites");
	}
	listen_len = len;
	listener = fd;
	return 0;
}

void parasite_cleanup(void)
{
	for (size_t i = 0; i < stash.cap; i++)
		if (stash.slots[i].pid)
			close(stash.slots[i].val);
	pidmap_free(&stash);
	if (listener >= 0)
		close(listener);
	listener = -1;
}

/* The connection task pid made (it has, connect returned 0 there). */
static int accept_for(pid_t pid)
{
	int stashed = pidmap_take(&stash, pid);

	if (stashed >= 0)
		return stashed;
	for (;;) {
		struct ucred uc;
		socklen_t len = sizeof(uc);
		int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return log_error_errno(-errno, "no connection from the parasite of task %d", pid);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 && uc.pid == pid)
			return fd;
		/* Another task's (or a stranger's: the name is visible to all). */
		if (uc.pid <= 0 || pidmap_get(&stash, uc.pid) >= 0 || stash.nr >= STASH_MAX ||
		    pidmap_put(&stash, uc.pid, fd) < 0)
			close(fd);
	}
}

/* Mapped: loads the blob and its arguments, builds the main thread's frame. */
static int load(struct dump_task *t, uint64_t base)
{
	struct parasite_args *args = t->pa;
	size_t len = slots_off() + (t->nr_threads + 1) * t->parasite_slot;
	/* The mapping's first syscall read it (through a frame below the stack pointer). */
	bool altstack_known = t->rt.rop.saved != NULL;
	int r;

	t->parasite = base;
	assign_slots(t, base, t->parasite_slot, len);
	memset(args, 0, sizeof(*args));
	args->magic = PARASITE_MAGIC;
	if (!altstack_known)
		args->frame_uc_stack = sigframe_uc_stack(t->rt.frame);
	if (listen_once() == 0) {
		args->notify_len = listen_len;
		memcpy(args->notify_addr, &listen_addr, listen_len);
	}
	if ((r = remote_write(t->pid, base, _binary_restorer_bin_start,
			      _binary_restorer_bin_end - _binary_restorer_bin_start)) < 0 ||
	    (r = remote_write(t->pid, base + args_off(), args, sizeof(*args))) < 0)
		return log_error_errno(r, "cannot load the parasite into task %d", t->pid);
	return remote_frame(&t->rt, altstack_known ? t->rt.altstack : NULL);
}

/*
 * Straight from the mapping's last stop: the frame below the stack pointer
 * is no longer needed (the parasite ends in the park and the cure, with the
 * frame in the mapping).
 */
static int launch(struct dump_task *t, uint64_t base)
{
	struct user_regs_struct regs = t->rt.regs;
	int r;

	if ((r = load(t, base)) < 0)
		return r;
	regs.orig_rax = -1; /* at a syscall stop: no syscall (-1), the parasite instead */
	regs.rip = t->parasite + RST_PARASITE_OFF;
	regs.rdi = t->parasite + args_off();
	regs.rsi = sigframe_sp(t->rt.frame);
	regs.rsp = t->parasite + slots_off();
	if (ptrace(PTRACE_SETREGS, t->pid, 0, &regs))
		return log_error_errno(-errno, "cannot run the parasite in task %d", t->pid);
	t->rt.parked = false;
	if ((r = rop_leave(&t->rt, &t->rt.rop)) < 0)
		return r;
	if (ptrace(PTRACE_SYSCALL, t->pid, 0, 0))
		return log_error_errno(-errno, "cannot run the parasite in task %d", t->pid);
	t->parasite_phase = PARASITE_STEPPING;
	return 0;
}

/* Only begins the mapping: the parasites of many tasks are made side by side. */
int parasite_start(struct dump_task *t, struct parasite_args *args)
{
	static uint8_t xbuf[XSAVE_BUF];
	size_t xlen = sizeof(xbuf);
	int r;

	t->parasite_conn = t->parasite_fd = -1;
	t->parasite_err = 0;
	t->pa = args;
	if ((r = check_blob()) < 0 || (r = ptrace_get_xsave(t->pid, xbuf, &xlen)) < 0)
		return r;
	t->parasite_slot = PAGE_ALIGN(SCRATCH + RST_CURE_SIZE + sigframe_size(xlen));
	r = remote_map_begin(&t->rt, slots_off() + (t->nr_threads + 1) * t->parasite_slot);
	if (r < 0)
		return r;
	t->parasite_phase = PARASITE_MAPPING;
	t->parasite_running = true;
	return 0;
}

/* One stop of the mapping; launched once mapped. 0 while under way. */
static int map_step(struct dump_task *t)
{
	uint64_t base;
	int r = remote_map_step(&t->rt, &base);

	if (r <= 0)
		return r;
	return launch(t, base);
}

/*
 * The exit of the parasite's connect: connected, it runs on without
 * syscall stops; else (or if nestor finds no connection) it is told it
 * failed, closes its socket and goes on stopping at every syscall.
 */
static int connected(struct dump_task *t, struct user_regs_struct *regs)
{
	if ((long)regs->rax == 0 && (t->parasite_conn = accept_for(t->pid)) >= 0) {
		t->parasite_phase = PARASITE_WAITING;
		if (ptrace(PTRACE_CONT, t->pid, 0, 0))
			return log_error_errno(-errno, "cannot resume task %d", t->pid);
		return fault_point("parasite-connected");
	}
	if ((long)regs->rax == 0) {
		regs->rax = -ECONNREFUSED;
		if (ptrace(PTRACE_SETREGS, t->pid, 0, regs))
			return log_error_errno(-errno, "cannot set registers of task %d", t->pid);
	}
	return 1;
}

/* One stop of a parasite under PTRACE_SYSCALL: 1 once it has parked, 0 while it runs. */
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
		pr_debug("task %d: its parasite ran unconnected, stopping at every syscall", t->pid);
		rt->pregs = regs;
		rt->parked = true;
		return 1;
	}
	if ((long)regs.rax != -ENOSYS) { /* an exit stop: the socket's fd, while it is open */
		if (regs.orig_rax == __NR_socket)
			t->parasite_fd = (long)regs.rax >= 0 ? (int)regs.rax : -1;
		else if (regs.orig_rax == __NR_close && (int)regs.rdi == t->parasite_fd)
			t->parasite_fd = -1;
		else if (regs.orig_rax == __NR_connect && (r = connected(t, &regs)) <= 0)
			return r;
	}
	if (ptrace(PTRACE_SYSCALL, t->pid, 0, 0))
		return log_error_errno(-errno, "cannot resume task %d", t->pid);
	return 0;
}

/*
 * The parasite waits in poll() on its connection (or a signal stopped it):
 * it is stopped there by PTRACE_INTERRUPT, then it closes its socket and
 * parks (take_step, park_step: a stop each).
 */
static int take(struct dump_task *t)
{
	if (ptrace(PTRACE_INTERRUPT, t->pid, 0, 0))
		return log_error_errno(-errno, "cannot interrupt task %d", t->pid);
	t->parasite_phase = PARASITE_TAKING;
	return 0;
}

/* A stop after the interrupt: that one, or a signal's first (failed, as before). */
static int taken(struct dump_task *t, int st)
{
	int r;

	if (!WIFSTOPPED(st)) {
		close(t->parasite_conn);
		t->parasite_conn = -1;
		return log_error_ret(-ESRCH, "task %d died running the parasite", t->pid);
	}
	if (st >> 16 != PTRACE_EVENT_STOP || WSTOPSIG(st) != SIGTRAP) {
		/* Only SIGSTOP gets through the parasite's mask; the interrupt's stop follows. */
		if (!t->parasite_err)
			t->parasite_err = log_error_ret(-EIO, "the parasite in task %d got signal %d",
							t->pid, WSTOPSIG(st));
		if (ptrace(PTRACE_CONT, t->pid, 0, 0))
			return log_error_errno(-errno, "cannot resume task %d", t->pid);
		return 0;
	}
	if ((r = fault_point("parasite-interrupted")) < 0)
		return r;
	r = t->parasite_fd >= 0 ? remote_park_begin(&t->rt, __NR_close, t->parasite_fd)
				: remote_park_begin(&t->rt, __NR_getppid, 0);
	t->parasite_fd = -1;
	t->parasite_phase = PARASITE_PARKING;
	return r;
}

static int take_step(struct dump_task *t)
{
	int st, r = wait_stopped(t->pid, &st);

	return r < 0 ? log_error_errno(r, "cannot wait for task %d", t->pid) : taken(t, st);
}

static int park_step(struct dump_task *t)
{
	int r = remote_park_step(&t->rt);

	if (r <= 0)
		return r;
	close(t->parasite_conn);
	t->parasite_conn = -1;
	return t->parasite_err ?: 1;
}

/* Its connection is readable: done (taken back), dead, or not yet (0). */
static int notified(struct dump_task *t)
{
	char done;
	ssize_t n = recv(t->parasite_conn, &done, 1, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		close(t->parasite_conn);
		t->parasite_conn = -1;
		return log_error_ret(-ESRCH, "task %d died running the parasite", t->pid);
	}
	return fault_point("parasite-waiting") ?: take(t);
}

/* No word for a while: a parasite stopped by a signal, or a task that died. */
static int check_stray(struct dump_task *t)
{
	int status, r;
	pid_t p = waitpid(t->pid, &status, WNOHANG | __WALL);

	if (p == 0 || (p < 0 && errno == EINTR))
		return 0;
	if (p < 0)
		return log_error_errno(-errno, "cannot wait for task %d", t->pid);
	if (WIFSTOPPED(status) && (r = take(t)) < 0)
		return r;
	return taken(t, status);
}

/* One stop of a parasite not waiting on its connection: 0 while it runs, 1 parked. */
static int drive(struct dump_task *t)
{
	switch (t->parasite_phase) {
	case PARASITE_MAPPING:
		return map_step(t);
	case PARASITE_STEPPING:
		return step(t);
	case PARASITE_TAKING:
		return take_step(t);
	default:
		return park_step(t);
	}
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

static void finished(struct dump_task *t, int s, struct parasite_args *ret, int *r)
{
	t->parasite_running = false;
	if (s > 0)
		s = collect_answers(t, ret ? ret : t->pa);
	*r = *r ? *r : s;
}

/*
 * The parasites waiting on their connections, in an epoll set: a poll() of
 * every connection for each word was quadratic in a tree of thousands.
 * act holds the others (being mapped, stepped, taken back or parked), in
 * turn.
 */
struct driver {
	struct dump_task *tasks;
	struct parasite_args *ret;
	int ep;
	size_t *act, nact, nwait;
	bool *polled;
	int r;
};

static int watch(struct driver *d, size_t i)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };

	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->tasks[i].parasite_conn, &ev))
		return log_error_errno(-errno, "cannot watch the parasite of task %d",
				       d->tasks[i].pid);
	d->polled[i] = true;
	d->nwait++;
	return 0;
}

/* After a word or a stray stop: back to act (or done) unless still waiting. */
static void after_wait(struct driver *d, size_t i, int s)
{
	struct dump_task *t = &d->tasks[i];

	if (s >= 0 && t->parasite_phase == PARASITE_WAITING)
		return;
	if (t->parasite_conn >= 0)
		epoll_ctl(d->ep, EPOLL_CTL_DEL, t->parasite_conn, NULL);
	d->polled[i] = false;
	d->nwait--;
	if (s < 0)
		finished(t, s, d->ret, &d->r);
	else
		d->act[d->nact++] = i;
}

/* One stop of each parasite of act; the waiting ones go to the epoll set. */
static void drive_all(struct driver *d)
{
	size_t keep = 0;

	for (size_t j = 0; j < d->nact; j++) {
		size_t i = d->act[j];
		struct dump_task *t = &d->tasks[i];
		int s;

		if (!t->parasite_running)
			continue;
		if (t->parasite_phase == PARASITE_WAITING) {
			if ((s = watch(d, i)) < 0)
				finished(t, s, d->ret, &d->r);
			continue;
		}
		s = drive(t);
		if (s != 0)
			finished(t, s, d->ret, &d->r);
		else
			d->act[keep++] = i;
	}
	d->nact = keep;
}

/* No word for a while: a parasite stopped by a signal, or a task that died. */
static void check_strays(struct driver *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d->polled[i])
			after_wait(d, i, check_stray(&d->tasks[i]));
}

/*
 * Every running parasite at once: those being mapped, stopping at each
 * syscall or being taken back are stepped in turn, a stop each; the others
 * say they are done on their connections, in any order, and are stopped.
 */
static int finish_set(struct dump_task *tasks, size_t n, struct parasite_args *ret)
{
	_cleanup_free_ size_t *act = malloc((n + 1) * sizeof(*act));
	_cleanup_free_ bool *polled = calloc(n + 1, sizeof(*polled));
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	struct driver d = { tasks, ret, ep, act, 0, 0, polled, 0 };
	struct epoll_event ev[64];

	if (ep < 0 || !act || !polled)
		return log_error_errno(ep < 0 ? -errno : -ENOMEM, "cannot drive the parasites");
	for (size_t i = 0; i < n; i++)
		if (tasks[i].parasite_running)
			act[d.nact++] = i;
	for (;;) {
		int k;

		drive_all(&d);
		if (!d.nact && !d.nwait)
			return d.r;
		if (!d.nwait)
			continue;
		k = epoll_wait(ep, ev, ARRAY_SIZE(ev), d.nact ? 0 : 20);
		for (int j = 0; j < k; j++)
			after_wait(&d, ev[j].data.u64, notified(&tasks[ev[j].data.u64]));
		if (k == 0 && !d.nact)
			check_strays(&d, n);
	}
}

int parasite_finish(struct dump_task *t, struct parasite_args *ret)
{
	if (!t->parasite_running)
		return 0;
	return finish_set(t, 1, ret);
}

int parasite_finish_all(struct dump_task *tasks, size_t n)
{
	return finish_set(tasks, n, NULL);
}
