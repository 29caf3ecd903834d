/*
 * POSIX timers (timer_create): dump and restore. /proc/PID/timers gives each
 * timer's id, signal, notification and clock; timer_gettime and
 * timer_getoverrun, run inside the task, give the rest. On restore the timers
 * are made again with their ids (prctl PR_TIMER_CREATE_RESTORE_IDS), oldest
 * first so that the kernel lists them in the same order, and armed with the
 * time they had left. Raw syscalls throughout: the kernel's timer ids, not
 * glibc's timer_t, and no glibc SIGEV_THREAD emulation.
 */
#define LOG_PREFIX "timers: "
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/sys.h"
#include "tree/timers.h"
#include "core/util.h"

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS	77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON	1
#define PR_TIMER_CREATE_RESTORE_IDS_GET 2
#endif

#define NSEC	 1000000000ULL
#define NS_MAX	 (9223372036ULL * NSEC) /* KTIME_SEC_MAX seconds: settime's limit */
#define NSIG_K	 64
#define PROC_MAX (16 << 20)

/* CPU clocks: ~pid << 3 | per-thread bit | which (3: a clock device's fd). */
#define CPUCLOCK_PERTHREAD 4
#define CPUCLOCK_WHICH(c)  ((c)&3)
#define CLOCKFD		   3

/* The kernel's sigevent: 64 bytes, the thread id in the union. */
struct ksigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	uint8_t pad[64 - 20];
};

_Static_assert(sizeof(struct ksigevent) == 64, "the kernel copies 64 bytes of sigevent");

static pid_t cpuclock_pid(int32_t clock)
{
	return ~(clock >> 3);
}

/* The thread other than the main one a timer needs to exist, or 0. */
static uint32_t timer_thread(const PosixTimerEntry *e, const TaskCoreEntry *c)
{
	if ((e->notify & SIGEV_THREAD_ID) && e->notify_tid != c->pid)
		return e->notify_tid;
	if (e->clock < 0 && (e->clock & CPUCLOCK_PERTHREAD) && cpuclock_pid(e->clock) &&
	    (uint32_t)cpuclock_pid(e->clock) != c->pid)
		return cpuclock_pid(e->clock);
	return 0;
}

static bool task_has_thread(const TaskCoreEntry *c, uint32_t tid)
{
	if (tid == c->pid)
		return true;
	for (size_t i = 0; i < c->n_threads; i++)
		if (c->threads[i]->tid == tid)
			return true;
	return false;
}

/* Whether a timer of task c can be made again; why not, in why. */
static int timer_problem(const PosixTimerEntry *e, const TaskCoreEntry *c, char *why, size_t len)
{
#define PROBLEM(...) (snprintf(why, len, __VA_ARGS__), -EINVAL)
	uint32_t base = e->notify & ~SIGEV_THREAD_ID;
	pid_t cpid = cpuclock_pid(e->clock);

	if (e->id < 0)
		return PROBLEM("id %d out of range", e->id);
	if (e->clock >= 0 && e->clock != CLOCK_REALTIME && e->clock != CLOCK_MONOTONIC &&
	    e->clock != CLOCK_PROCESS_CPUTIME_ID && e->clock != CLOCK_THREAD_CPUTIME_ID &&
	    e->clock != CLOCK_BOOTTIME && e->clock != CLOCK_REALTIME_ALARM &&
	    e->clock != CLOCK_BOOTTIME_ALARM && e->clock != CLOCK_TAI)
		return PROBLEM("clock %d drives no timer", e->clock);
	if (e->clock < 0 && CPUCLOCK_WHICH(e->clock) == CLOCKFD)
		return PROBLEM("its clock (%d) is a clock device's", e->clock);
	if (e->clock < 0 && !(e->clock & CPUCLOCK_PERTHREAD) && cpid && (uint32_t)cpid != c->pid)
		return PROBLEM("its clock is the CPU clock of process %d, not its own", cpid);
	if (e->clock < 0 && (e->clock & CPUCLOCK_PERTHREAD) && cpid && !task_has_thread(c, cpid))
		return PROBLEM("its clock is the CPU clock of thread %d, not one of the task's",
			       cpid);
	if (e->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID)) {
		if (!e->has_notify_tid || !task_has_thread(c, e->notify_tid))
			return PROBLEM("it signals thread %u, not one of the task's",
				       e->notify_tid);
	} else if ((e->notify & SIGEV_THREAD_ID) || base > SIGEV_THREAD || e->has_notify_tid) {
		return PROBLEM("notification %u unknown", e->notify);
	}
	if (base != SIGEV_NONE && (e->signo <= 0 || e->signo > NSIG_K))
		return PROBLEM("signal %d out of range", e->signo);
	if (base == SIGEV_NONE && e->queued)
		return PROBLEM("it has no signal to queue");
	if (e->value_ns >= NS_MAX || e->interval_ns >= NS_MAX || e->overrun > INT32_MAX)
		return PROBLEM("time or overrun out of range");
	return 0;
#undef PROBLEM
}

/* ---- dump ---- */

static PosixTimerEntry *new_entry(int32_t id)
{
	PosixTimerEntry *e = ANEW(PosixTimerEntry);

	if (e) {
		posix_timer_entry__init(e);
		e->id = id;
	}
	return e;
}

/* One "notify: signal/pid.N" line into e; pid kinds must name the process. */
static int parse_notify(const char *s, pid_t pid, PosixTimerEntry *e)
{
	static const char *const kinds[] = {
	    [SIGEV_SIGNAL] = "signal", [SIGEV_NONE] = "none", [SIGEV_THREAD] = "thread"};
	char kind[16], who[4];
	int n;

	if (sscanf(s, "%15[a-z]/%3[a-z].%d", kind, who, &n) != 3 || n <= 0)
		return -EINVAL;
	e->notify = ARRAY_SIZE(kinds);
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (!strcmp(kind, kinds[k]))
			e->notify = k;
	if (e->notify == ARRAY_SIZE(kinds))
		return -EINVAL;
	if (!strcmp(who, "tid")) {
		e->notify |= SIGEV_THREAD_ID;
		e->has_notify_tid = true;
		e->notify_tid = n;
		return 0;
	}
	return !strcmp(who, "pid") && n == pid ? 0 : -EINVAL;
}

int timers_parse_proc(const char *text, pid_t pid, PosixTimerEntry ***ret, size_t *ret_n)
{
	enum { HAVE_SIGNAL = 1, HAVE_NOTIFY = 2, HAVE_CLOCK = 4, HAVE_ALL = 7 };
	PosixTimerEntry **v, *e = NULL;
	size_t n = 0, cap = 0;
	unsigned int have = HAVE_ALL;

	/* One ClockID line per timer: more ID lines than that is a bad file anyway. */
	for (const char *p = text; (p = strstr(p, "ClockID: ")); p++)
		cap++;
	v = ANEW_ARRAY(PosixTimerEntry *, cap ? cap : 1);
	if (!v)
		return -ENOMEM;
	for (const char *line = text, *end; *line; line = *end ? end + 1 : end) {
		unsigned long long value;
		int id, a;

		end = strchrnul(line, '\n');
		if (sscanf(line, "ID: %d", &id) == 1) {
			if (have != HAVE_ALL || n == cap || id < 0)
				return -EINVAL;
			if (!(e = new_entry(id)))
				return -ENOMEM;
			v[n++] = e;
			have = 0;
		} else if (e && sscanf(line, "signal: %d/%llx", &a, &value) == 2) {
			e->signo = a;
			e->sigev_value = value;
			have |= HAVE_SIGNAL;
		} else if (e && !strncmp(line, "notify: ", 8)) {
			if (parse_notify(line + 8, pid, e) < 0)
				return -EINVAL;
			have |= HAVE_NOTIFY;
		} else if (e && sscanf(line, "ClockID: %d", &a) == 1) {
			e->clock = a;
			have |= HAVE_CLOCK;
		} else if (line != end) {
			return -EINVAL;
		}
	}
	if (have != HAVE_ALL)
		return -EINVAL;
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Time left, interval and overrun, asked inside the task. */
static int dump_times(struct dump_task *t, uint64_t addr, PosixTimerEntry *e)
{
	struct itimerspec its;
	long v;
	int r;

	r = remote_syscall(&t->rt, __NR_timer_gettime, &v, e->id, addr, 0, 0, 0, 0);
	if (r == 0 && v < 0)
		r = v;
	if (r == 0 && remote_read(t->pid, addr, &its, sizeof(its)))
		r = -EIO;
	if (r < 0)
		return log_error_errno(r, "cannot read timer %d of task %d", e->id, t->pid);
	e->value_ns = its.it_value.tv_sec * NSEC + its.it_value.tv_nsec;
	e->interval_ns = its.it_interval.tv_sec * NSEC + its.it_interval.tv_nsec;
	r = remote_syscall(&t->rt, __NR_timer_getoverrun, &v, e->id, 0, 0, 0, 0, 0);
	if (r == 0 && v < 0)
		r = v;
	if (r < 0)
		return log_error_errno(r, "cannot read overrun of timer %d of task %d", e->id,
				       t->pid);
	e->overrun = v;
	return 0;
}

/* Takes the timer's signal out of a list of pending ones, if it is there. */
static bool take_queued(SiginfoEntry **v, size_t *n, const PosixTimerEntry *e)
{
	for (size_t i = 0; i < *n; i++) {
		const siginfo_t *si = (const siginfo_t *)v[i]->raw.data;

		if (v[i]->raw.len != sizeof(*si) || si->si_code != SI_TIMER ||
		    si->si_timerid != e->id || si->si_signo != e->signo)
			continue;
		memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
		(*n)--;
		return true;
	}
	return false;
}

/*
 * A timer's signal queued and not yet delivered is the timer's own: the kernel
 * drops it when the timer is deleted or set again, and rearms a periodic
 * timer only once it is delivered. Queued again as a plain signal it would be
 * none of that, and the rearmed timer would queue a second one. So it leaves
 * the pending signals (signals_dump and threads_dump ran before us) and the
 * timer, marked, fires at once on restore.
 */
static void find_queued(TaskCoreEntry *c, PosixTimerEntry *e)
{
	ThreadEntry *th = c->thread;

	if (!(e->notify & SIGEV_THREAD_ID)) {
		e->queued = take_queued(c->shared_pending, &c->n_shared_pending, e);
		return;
	}
	for (size_t i = 0; i < c->n_threads; i++)
		if (c->threads[i]->tid == e->notify_tid)
			th = c->threads[i];
	e->queued = take_queued(th->pending, &th->n_pending, e);
}

int timers_dump(struct dump_task *t)
{
	_cleanup_free_ char *buf = NULL;
	PosixTimerEntry **v;
	uint64_t addr;
	char p[64], why[128];
	size_t n;
	int r;

	snprintf(p, sizeof(p), "/proc/%d/timers", t->pid);
	r = read_file_at(AT_FDCWD, p, &buf, PROC_MAX);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", p);
	if (r == 0)
		return 0;
	if ((r = timers_parse_proc(buf, t->pid, &v, &n)) < 0)
		return log_error_errno(r, "cannot parse %s", p);
	if ((r = remote_scratch(&t->rt, sizeof(struct itimerspec), &addr)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((r = dump_times(t, addr, v[i])) < 0)
			return r;
		if (timer_problem(v[i], t->core, why, sizeof(why)) < 0)
			return log_error_ret(-EOPNOTSUPP, "can't dump: timer %d of task %d: %s",
					     v[i]->id, t->pid, why);
		find_queued(t->core, v[i]);
	}
	t->core->timers = v;
	t->core->n_timers = n;
	pr_debug("task %d: %zu timers", t->pid, n);
	return 0;
}

/* ---- restore ---- */

/* Whether timer_create can be told the id to use (a prctl since 2025). */
int timers_probe_restore_ids(void)
{
	static int probed; /* 0: not yet; 1: there; -errno: missing */

	if (probed)
		return probed;
	if (prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0) < 0)
		return probed = -errno;
	return probed = 1;
}

static int cmp_id(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static bool needs_late(const TaskCoreEntry *c)
{
	for (size_t i = 0; i < c->n_timers; i++)
		if (timer_thread(c->timers[i], c))
			return true;
	return false;
}

int timers_validate(struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;
	_cleanup_free_ int32_t *ids = NULL;
	char why[128];

	if (!c->n_timers)
		return 0;
	ids = malloc(c->n_timers * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_timers; i++) {
		if (timer_problem(c->timers[i], c, why, sizeof(why)) < 0)
			return log_error_ret(-EINVAL,
					     "image core-%d.img is corrupted: timer %d: %s", t->pid,
					     c->timers[i]->id, why);
		ids[i] = c->timers[i]->id;
	}
	qsort(ids, c->n_timers, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < c->n_timers; i++)
		if (ids[i] == ids[i - 1])
			return log_error_ret(-EINVAL,
					     "image core-%d.img is corrupted: timer %d twice",
					     t->pid, ids[i]);
	if (timers_probe_restore_ids() < 0)
		return log_error_ret(-EOPNOTSUPP,
				     "can't restore: task %d has POSIX timers, which "
				     "this kernel cannot make with given ids (no "
				     "PR_TIMER_CREATE_RESTORE_IDS)",
				     t->pid);
	return 0;
}

/* Everything one timer_create and timer_settime read, laid out together. */
struct timer_buf {
	struct ksigevent sev;
	int32_t id;
	int32_t pad;
	struct itimerspec its;
};

/* Where timers are made: in this very task (rt NULL), or in a trapped one. */
struct maker {
	struct remote *rt;
	pid_t pid;
	uint64_t scratch; /* in the trapped task */
	struct timer_buf local;
};

static int maker_call(struct maker *m, long nr, long *ret, long a1, long a2, long a3, long a4,
		      long a5)
{
	long v;

	if (m->rt)
		return remote_syscall(m->rt, nr, ret, a1, a2, a3, a4, a5, 0);
	v = syscall(nr, a1, a2, a3, a4, a5, 0);
	*ret = v < 0 ? -errno : v;
	return 0;
}

/* Puts b where the task reads it; its address in the task. */
static int maker_put(struct maker *m, const struct timer_buf *b, uint64_t *ret_at)
{
	if (!m->rt) {
		m->local = *b;
		*ret_at = (uint64_t)&m->local;
		return 0;
	}
	if (remote_write(m->pid, m->scratch, b, sizeof(*b)))
		return log_error_errno(-EFAULT, "cannot write into task %d", m->pid);
	*ret_at = m->scratch;
	return 0;
}

static int maker_got_id(struct maker *m, int32_t *ret)
{
	if (!m->rt) {
		*ret = m->local.id;
		return 0;
	}
	if (remote_read(m->pid, m->scratch + offsetof(struct timer_buf, id), ret, sizeof(*ret)))
		return log_error_errno(-EFAULT, "cannot read from task %d", m->pid);
	return 0;
}

static int make_timer(struct maker *m, const PosixTimerEntry *e)
{
	struct timer_buf b = {.sev = {.value = e->sigev_value,
				      .signo = e->signo,
				      .notify = e->notify,
				      .tid = e->notify_tid},
			      .id = e->id};
	uint64_t at;
	int32_t got;
	long v;
	int r;

	b.its.it_value.tv_sec = e->queued ? 0 : e->value_ns / NSEC;
	b.its.it_value.tv_nsec = e->queued ? 1 : e->value_ns % NSEC;
	b.its.it_interval.tv_sec = e->interval_ns / NSEC;
	b.its.it_interval.tv_nsec = e->interval_ns % NSEC;
	if ((r = maker_put(m, &b, &at)) < 0 ||
	    (r = maker_call(m, __NR_timer_create, &v, e->clock,
			    at + offsetof(struct timer_buf, sev),
			    at + offsetof(struct timer_buf, id), 0, 0)) < 0)
		return r;
	if (v < 0)
		return log_error_errno((int)v, "task %d: cannot create timer %d", m->pid, e->id);
	if ((r = maker_got_id(m, &got)) < 0)
		return r;
	if (got != e->id)
		return log_error_ret(-EIO, "task %d: timer %d came back as %d", m->pid, e->id, got);
	if (!e->value_ns && !e->queued)
		return 0;
	r = maker_call(m, __NR_timer_settime, &v, e->id, 0, at + offsetof(struct timer_buf, its), 0,
		       0);
	if (r == 0 && v < 0)
		r = v;
	if (r < 0)
		return log_error_errno(r, "task %d: cannot arm timer %d", m->pid, e->id);
	return 0;
}

/* Oldest first: the kernel lists the newest first, as the image has them. */
static int make_timers(struct maker *m, const TaskCoreEntry *c)
{
	long v = 0;
	int r, off;

	r = maker_call(m, __NR_prctl, &v, PR_TIMER_CREATE_RESTORE_IDS,
		       PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0);
	if (r == 0 && v < 0)
		r = v;
	if (r < 0)
		return log_error_errno(r, "task %d: cannot switch timer_create to given ids",
				       m->pid);
	for (size_t i = c->n_timers; i-- > 0 && r == 0;)
		r = make_timer(m, c->timers[i]);
	/* Left on, the task's own timer_create would read ids from its argument. */
	off = maker_call(m, __NR_prctl, &v, PR_TIMER_CREATE_RESTORE_IDS,
			 PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0);
	if (off == 0 && v < 0)
		off = v;
	if (r == 0 && off < 0)
		r = log_error_errno(off, "task %d: cannot switch timer_create back", m->pid);
	if (r == 0)
		pr_debug("task %d: %zu timers made", m->pid, c->n_timers);
	return r;
}

int timers_restore(struct restore_task *t)
{
	struct maker m = {.pid = t->pid};

	if (!t->core->n_timers || needs_late(t->core))
		return 0;
	return make_timers(&m, t->core);
}

int timers_restore_late(struct restore_task *t, struct remote *rt)
{
	struct maker m = {.rt = rt, .pid = t->pid};
	int r;

	if (!t->core->n_timers || !needs_late(t->core))
		return 0;
	/* The blob's stack, stopped in its trap: below its pointer is nestor's own memory. */
	remote_set_scratch(rt, (rt->regs.rsp - 4096 - 128) & ~63ULL, 4096);
	if ((r = remote_scratch(rt, sizeof(struct timer_buf), &m.scratch)) < 0)
		return r;
	return make_timers(&m, t->core);
}
