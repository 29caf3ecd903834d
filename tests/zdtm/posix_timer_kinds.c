// SPDX-License-Identifier: GPL-2.0
/*
 * posix_timer_kinds: every kind of POSIX timer a single-threaded process can
 * have comes back as it was (/proc/self/timers compared exactly): the
 * default sigevent (SIGALRM, value = id), a signal to the main thread
 * (SIGEV_THREAD_ID) with a 64-bit value, CPU-time clocks (process, thread,
 * and the process clock by pid), the kernel's SIGEV_THREAD kind, SIGEV_NONE,
 * and ids with holes. Timers whose signal is blocked and queued keep exactly
 * one signal queued. After restore timer_create picks fresh ids again.
 * The ticker's signal (37, SIGRTMIN + 3) is pending for a moment each time
 * it fires (tests/lib/snapshot.sh):
 * zdtm-snapshot-allow: status\.SigPnd\.37
 */
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ptimer.h"
#include "zdtm.h"

#define LONG_S	  1000
#define VALUE_PTR 0xfedcba9876543210ULL
#define MS	  1000000L

static volatile int ticks, bad_ticks;
static int ticker_id;
static pid_t main_tid;

static void tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (si->si_code == SI_TIMER && si->si_timerid == ticker_id &&
	    (unsigned long long)si->si_value.sival_ptr == VALUE_PTR && gettid() == main_tid)
		ticks++;
	else
		bad_ticks++;
}

static int create(clockid_t clk, int notify, int sig, unsigned long long value)
{
	struct sigevent sev = {.sigev_notify = notify, .sigev_signo = sig};

	sev.sigev_value.sival_ptr = (void *)value;
	if (notify & SIGEV_THREAD_ID)
		sev._sigev_un._tid = gettid();
	return ptimer_create(clk, &sev);
}

static void wait_pending(int sig)
{
	sigset_t set;

	for (int i = 0; i < 500; i++) {
		sigpending(&set);
		if (sigismember(&set, sig))
			return;
		usleep(1000);
	}
	fail("signal %d never became pending", sig);
}

/* The ticker's signals cut sleeps short: sleeps until ms have passed. */
static void sleep_ms(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += ms % 1000 * MS;
	if (t.tv_nsec >= 1000 * MS) {
		t.tv_sec++;
		t.tv_nsec -= 1000 * MS;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL))
		;
}

/* The one queued instance of a timer's signal, then none. */
static void take_one(int sig, int id, const char *what)
{
	struct timespec zero = {0, 0};
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigtimedwait(&set, &si, &zero) != sig)
		fail("%s: signal %d not queued: %m", what, sig);
	if (si.si_code != SI_TIMER || si.si_timerid != id)
		fail("%s: signal %d with code %d timer %d, expected code %d timer %d", what, sig,
		     si.si_code, si.si_timerid, SI_TIMER, id);
	if (sigtimedwait(&set, &si, &zero) == sig)
		fail("%s: signal %d queued twice (code %d timer %d)", what, sig, si.si_code,
		     si.si_timerid);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_sigaction = tick, .sa_flags = SA_SIGINFO | SA_RESTART};
	char want[8192], got[8192];
	int dflt, cpu_proc, cpu_thread, by_pid, periodic_q, oneshot_q, hole, fresh, before;
	struct itimerspec its;
	clockid_t pid_clock;
	sigset_t blocked;

	test_init(argc, argv);
	main_tid = gettid();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN + 3, &sa, NULL);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGRTMIN + 6);
	sigaddset(&blocked, SIGRTMIN + 7);
	sigprocmask(SIG_BLOCK, &blocked, NULL);
	if (clock_getcpuclockid(getpid(), &pid_clock))
		fail("clock_getcpuclockid");

	dflt = ptimer_create(CLOCK_REALTIME, NULL);
	ptimer_arm(dflt, LONG_S * 1000 * MS, 0);
	ticker_id =
	    create(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGRTMIN + 3, VALUE_PTR);
	ptimer_arm(ticker_id, 50 * MS, 50 * MS);
	cpu_proc = create(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGRTMIN + 4, 4);
	ptimer_arm(cpu_proc, LONG_S * 1000 * MS, 0);
	cpu_thread = create(CLOCK_THREAD_CPUTIME_ID, SIGEV_NONE, 0, 5);
	ptimer_arm(cpu_thread, 500 * 1000 * MS, 7000 * MS);
	by_pid = create(pid_clock, SIGEV_THREAD, SIGRTMIN + 5, 6);
	create(CLOCK_BOOTTIME, SIGEV_NONE, 0, 7);
	hole = create(CLOCK_BOOTTIME, SIGEV_NONE, 0, 8);
	create(CLOCK_BOOTTIME, SIGEV_NONE, 0, 9);
	if (syscall(SYS_timer_delete, hole))
		fail("timer_delete: %m");
	/* Blocked: a periodic one whose signal waits (and which waits to be rearmed)... */
	periodic_q = create(CLOCK_TAI, SIGEV_SIGNAL, SIGRTMIN + 6, 10);
	ptimer_arm(periodic_q, 1 * MS, 200 * MS);
	wait_pending(SIGRTMIN + 6);
	/* ...and a one-shot one that went off. */
	oneshot_q = create(CLOCK_BOOTTIME, SIGEV_SIGNAL, SIGRTMIN + 7, 11);
	ptimer_arm(oneshot_q, 1 * MS, 0);
	wait_pending(SIGRTMIN + 7);
	if (read_file("/proc/self/timers", want, sizeof(want)) < 0)
		fail("cannot read /proc/self/timers");

	test_daemon();
	test_waitsig();

	if (read_file("/proc/self/timers", got, sizeof(got)) < 0 || strcmp(got, want))
		fail("/proc/self/timers: '%s', expected '%s'", got, want);
	ptimer_get(dflt, &its);
	if (its.it_value.tv_sec >= LONG_S || (!its.it_value.tv_sec && !its.it_value.tv_nsec))
		fail("default timer: %ld s left, expected in (0, %d)", its.it_value.tv_sec, LONG_S);
	ptimer_get(cpu_proc, &its);
	if (its.it_value.tv_sec >= LONG_S || (!its.it_value.tv_sec && !its.it_value.tv_nsec))
		fail("process CPU timer: %ld s left, expected in (0, %d)", its.it_value.tv_sec,
		     LONG_S);
	ptimer_get(cpu_thread, &its);
	if (its.it_interval.tv_sec != 7 || its.it_interval.tv_nsec || its.it_value.tv_sec >= 500 ||
	    (!its.it_value.tv_sec && !its.it_value.tv_nsec))
		fail("thread CPU timer: %ld s left, every %ld.%09ld s; expected (0, 500), 7 s",
		     its.it_value.tv_sec, its.it_interval.tv_sec, its.it_interval.tv_nsec);
	ptimer_get(by_pid, &its);
	if (its.it_value.tv_sec || its.it_value.tv_nsec)
		fail("disarmed timer %d is armed", by_pid);
	ptimer_get(periodic_q, &its);
	if (its.it_interval.tv_sec || its.it_interval.tv_nsec != 200 * MS)
		fail("periodic blocked timer: interval %ld.%09ld s, expected 0.2 s",
		     its.it_interval.tv_sec, its.it_interval.tv_nsec);
	sleep_ms(500); /* past two periods: no second signal may join the queued one */
	take_one(SIGRTMIN + 6, periodic_q, "periodic blocked timer");
	take_one(SIGRTMIN + 7, oneshot_q, "one-shot blocked timer");
	ptimer_get(oneshot_q, &its);
	if (its.it_value.tv_sec || its.it_value.tv_nsec)
		fail("one-shot timer %d is armed again", oneshot_q);

	before = ticks;
	for (int i = 0; i < 100 && ticks < before + 3; i++)
		usleep(20000);
	if (ticks < before + 3 || bad_ticks)
		fail("main-thread timer: %d ticks in 2 s (expected 3 or more), %d wrong ones",
		     ticks - before, bad_ticks);

	/* Ids chosen by the kernel again: the one in the argument is not read. */
	if (prctl(77 /* PR_TIMER_CREATE_RESTORE_IDS */, 2 /* _GET */, 0, 0, 0) > 0)
		fail("timer_create still restores ids");
	fresh = dflt;
	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, &fresh))
		fail("timer_create after restore: %m");
	if (fresh == dflt || fresh == ticker_id || fresh == periodic_q || fresh == oneshot_q)
		fail("timer_create after restore gave id %d, already taken", fresh);
	pass();
}
