/* Signal actions, blocked mask, pending signals with their siginfo, the
 * alternate stack and interval timers: dump and restore. */
#define LOG_PREFIX "signals: "
#include <sys/syscall.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/time.h>
#include "core/arena.h"
#include "core/log.h"
#include "tree/signals.h"
#include "core/sys.h"
#include "core/util.h"

#define NSIG_K 64

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

struct peek_args {
	uint64_t off;
	uint32_t flags, nr;
};

static int dump_sigactions(struct dump_task *t)
{
	TaskCoreEntry *core = t->core;

	core->sigactions = ANEW_ARRAY(SigactionEntry *, NSIG_K);
	if (!core->sigactions)
		return -ENOMEM;
	for (int sig = 1; sig <= NSIG_K; sig++) {
		const uint64_t *ka = t->pa->sigactions[sig - 1];
		SigactionEntry *e;

		if (sig == SIGKILL || sig == SIGSTOP || (!ka[0] && !ka[1] && !ka[3]))
			continue;
		e = ANEW(SigactionEntry);
		if (!e)
			return -ENOMEM;
		sigaction_entry__init(e);
		e->sig = sig;
		e->handler = ka[0];
		e->flags = ka[1];
		e->restorer = ka[2];
		e->mask = ka[3];
		core->sigactions[core->n_sigactions++] = e;
	}
	return 0;
}

int signals_dump_pending(pid_t pid, bool shared, SiginfoEntry ***ret, size_t *ret_n)
{
	siginfo_t si[32];
	struct peek_args pa = { 0, shared ? 1 /* PTRACE_PEEKSIGINFO_SHARED */ : 0, 32 };
	SiginfoEntry **v = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		long got = ptrace(PTRACE_PEEKSIGINFO, pid, &pa, si);

		if (got < 0)
			return log_error_errno(-errno, "cannot read pending signals of task %d", pid);
		if (got == 0)
			break;
		if (n + got > SIGNALS_MAX_PENDING)
			return log_error_ret(-EOPNOTSUPP, "can't dump: %s %d has more than %d "
							  "pending signals (not supported)",
					     shared ? "task" : "thread", pid, SIGNALS_MAX_PENDING);
		for (long i = 0; i < got; i++) {
			SiginfoEntry *e = ANEW(SiginfoEntry);

			if (!e)
				return -ENOMEM;
			siginfo_entry__init(e);
			e->raw.data = arena_memdup(&si[i], sizeof(si[i]));
			e->raw.len = sizeof(si[i]);
			if (!e->raw.data || arena_push(&v, &n, &cap, e) < 0)
				return -ENOMEM;
		}
		pa.off += got;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int dump_itimers(struct dump_task *t)
{
	t->core->itimers = ANEW_ARRAY(ItimerEntry *, 3);
	if (!t->core->itimers)
		return -ENOMEM;
	for (int which = 0; which < 3; which++) {
		const uint64_t *v = t->pa->itimers[which];
		ItimerEntry *e = ANEW(ItimerEntry);

		if (!e)
			return -ENOMEM;
		itimer_entry__init(e);
		e->interval_us = v[0] * 1000000 + v[1];
		e->value_us = v[2] * 1000000 + v[3];
		t->core->itimers[t->core->n_itimers++] = e;
	}
	return 0;
}

int signals_dump(struct dump_task *t)
{
	int r;

	if ((r = dump_sigactions(t)) < 0 ||
	    (r = signals_dump_pending(t->pid, true, &t->core->shared_pending,
				      &t->core->n_shared_pending)) < 0)
		return r;
	return dump_itimers(t);
}

/* ---- restore ---- */

bool siginfo_ok(const SiginfoEntry *e)
{
	const siginfo_t *si = (const siginfo_t *)e->raw.data;

	return e->raw.len == sizeof(siginfo_t) && si->si_signo > 0 && si->si_signo <= NSIG_K;
}

int signals_validate(struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;
	uint64_t seen = 0;

	for (size_t i = 0; i < c->n_sigactions; i++) {
		uint32_t sig = c->sigactions[i]->sig;
		if (sig == 0 || sig > NSIG_K || sig == SIGKILL || sig == SIGSTOP ||
		    seen & 1ULL << (sig - 1))
			goto bad;
		seen |= 1ULL << (sig - 1);
	}
	if (c->n_shared_pending > SIGNALS_MAX_PENDING)
		goto bad;
	for (size_t i = 0; i < c->n_shared_pending; i++)
		if (!siginfo_ok(c->shared_pending[i]))
			goto bad;
	return 0;
bad:
	return log_error_ret(-EINVAL, "image core-%d.img is corrupted: bad signal state", t->pid);
}

static int queue_pending(pid_t pid, SiginfoEntry **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		siginfo_t si;
		int r;

		memcpy(&si, v[i]->raw.data, sizeof(si));
		/* To ourselves, as our own pid namespace names us: a siginfo of the
		 * sender's choosing may go nowhere else. */
		r = sys_rt_sigqueueinfo(syscall(SYS_getpid), si.si_signo, &si);
		if (r)
			return log_error_errno(-errno, "cannot queue signal %d to task %d",
					       si.si_signo, pid);
	}
	return 0;
}

int signals_restore(struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;
	struct ksigaction dfl = { 0 };

	/*
	 * The image holds only the actions that are not the default: every
	 * other one starts as a new task's (SIG_DFL, no flags, empty mask),
	 * not as inherited from nestor, which ignores SIGPIPE for itself.
	 */
	for (int sig = 1; sig <= NSIG_K; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sys_rt_sigaction(sig, &dfl, NULL))
			return log_error_errno(-errno, "cannot reset action of signal %d", sig);
	for (size_t i = 0; i < c->n_sigactions; i++) {
		const SigactionEntry *e = c->sigactions[i];
		struct ksigaction ka = { e->handler, e->flags, e->restorer, e->mask };

		/* The raw syscall: libc would put its own restorer in. */
		if (sys_rt_sigaction(e->sig, &ka, NULL))
			return log_error_errno(-errno, "cannot set action of signal %u", e->sig);
	}
	/* Each thread's own pending signals are queued by that thread, in the blob. */
	return queue_pending(t->pid, c->shared_pending, c->n_shared_pending);
}

void signals_fill_args(struct restore_task *t, struct rst_args *a)
{
	const TaskCoreEntry *c = t->core;

	a->has_itimers = c->n_itimers == 3;
	for (size_t i = 0; i < c->n_itimers; i++) {
		a->itimers[i][0] = c->itimers[i]->interval_us / 1000000;
		a->itimers[i][1] = c->itimers[i]->interval_us % 1000000;
		a->itimers[i][2] = c->itimers[i]->value_us / 1000000;
		a->itimers[i][3] = c->itimers[i]->value_us % 1000000;
	}
}
