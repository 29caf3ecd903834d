// SPDX-License-Identifier: GPL-2.0
/*
 * posix_timer_thread: POSIX timers tied to a thread other than the main one
 * (SIGEV_THREAD_ID to it, and one on its CPU clock), mixed with a process
 * timer, come back in the same order with the same ids (/proc/self/timers
 * compared exactly). The periodic one keeps signalling that very thread, and
 * the one whose signal the thread blocks keeps exactly one signal queued in
 * the thread's own queue.
 * The periodic timer's signal (42, SIG_T) is pending for a moment each time
 * it fires (tests/lib/snapshot.sh):
 * zdtm-snapshot-allow: status\.SigPnd\.42
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ptimer.h"
#include "zdtm.h"

#define MS    1000000L
#define SIG_T (SIGRTMIN + 8) /* the periodic timer's, handled by the thread */
#define SIG_Q (SIGRTMIN + 9) /* blocked in the thread: queued */

static volatile int ticks, bad_ticks, go, done;
static int ticker_id, queued_id;
static pid_t thread_tid;
static char thread_msg[256];

static void tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (si->si_code == SI_TIMER && si->si_timerid == ticker_id &&
	    si->si_value.sival_int == 0x77 && gettid() == thread_tid)
		ticks++;
	else
		bad_ticks++;
}

static int create(clockid_t clk, int notify, int sig, int value, pid_t tid)
{
	struct sigevent sev = {.sigev_notify = notify, .sigev_signo = sig};

	sev.sigev_value.sival_int = value;
	sev._sigev_un._tid = tid;
	return ptimer_create(clk, &sev);
}

/* After restore: the queued signal is in this thread's queue, once. */
static void check_queued(void)
{
	struct timespec zero = {0, 0};
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIG_Q);
	if (sigtimedwait(&set, &si, &zero) != SIG_Q)
		snprintf(thread_msg, sizeof(thread_msg), "thread: signal %d not queued: %m", SIG_Q);
	else if (si.si_code != SI_TIMER || si.si_timerid != queued_id)
		snprintf(thread_msg, sizeof(thread_msg), "thread: code %d timer %d, expected %d %d",
			 si.si_code, si.si_timerid, SI_TIMER, queued_id);
	else if (sigtimedwait(&set, &si, &zero) == SIG_Q)
		snprintf(thread_msg, sizeof(thread_msg), "thread: signal %d queued twice", SIG_Q);
}

static void *thread_main(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIG_Q);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	thread_tid = gettid();
	while (!go)
		usleep(1000);
	check_queued();
	done = 1;
	while (1)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_sigaction = tick, .sa_flags = SA_SIGINFO | SA_RESTART};
	char want[4096], got[4096];
	struct itimerspec its;
	clockid_t thread_clock;
	int process_id, cpu_id, before;
	pthread_t th;
	sigset_t set;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaction(SIG_T, &sa, NULL);
	/* The thread's signals are for the thread alone. */
	sigemptyset(&set);
	sigaddset(&set, SIG_T);
	sigaddset(&set, SIG_Q);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&th, NULL, thread_main, NULL))
		fail("pthread_create");
	while (!thread_tid)
		usleep(1000);
	if (pthread_getcpuclockid(th, &thread_clock))
		fail("pthread_getcpuclockid");

	ticker_id =
	    create(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIG_T, 0x77, thread_tid);
	ptimer_arm(ticker_id, 50 * MS, 50 * MS);
	process_id = create(CLOCK_REALTIME, SIGEV_SIGNAL, SIGRTMIN + 10, 0x78, 0);
	cpu_id = create(thread_clock, SIGEV_NONE, 0, 0x79, 0);
	ptimer_arm(cpu_id, 1000L * 1000 * MS, 0);
	queued_id = create(CLOCK_BOOTTIME, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIG_Q, 0x7a, thread_tid);
	ptimer_arm(queued_id, 1 * MS, 0);
	usleep(20 * 1000);
	if (read_file("/proc/self/timers", want, sizeof(want)) < 0)
		fail("cannot read /proc/self/timers");

	test_daemon();
	test_waitsig();

	if (read_file("/proc/self/timers", got, sizeof(got)) < 0 || strcmp(got, want))
		fail("/proc/self/timers: '%s', expected '%s'", got, want);
	if (syscall(SYS_timer_gettime, process_id, &its) || its.it_value.tv_sec ||
	    its.it_value.tv_nsec)
		fail("disarmed timer %d: gone or armed: %m", process_id);
	if (syscall(SYS_timer_gettime, cpu_id, &its) || its.it_value.tv_sec >= 1000 ||
	    (!its.it_value.tv_sec && !its.it_value.tv_nsec))
		fail("thread CPU timer %d: gone or %ld s left, expected in (0, 1000): %m", cpu_id,
		     its.it_value.tv_sec);
	go = 1;
	for (int i = 0; i < 2000 && !done; i++)
		usleep(1000);
	if (!done)
		fail("the thread did not answer");
	if (thread_msg[0])
		fail("%s", thread_msg);
	before = ticks;
	for (int i = 0; i < 100 && ticks < before + 3; i++)
		usleep(20000);
	if (ticks < before + 3 || bad_ticks)
		fail("thread timer: %d ticks in 2 s (expected 3 or more), %d wrong ones",
		     ticks - before, bad_ticks);
	pass();
}
