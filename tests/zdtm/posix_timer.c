// SPDX-License-Identifier: GPL-2.0
/*
 * posix_timer: POSIX timers keep their kernel ids, clocks, signals and
 * values (/proc/self/timers shows them all), a long one-shot timer stays
 * armed with a plausible remaining time, and a periodic one keeps firing
 * its signal with its sigev value.
 */
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ptimer.h"
#include "zdtm.h"

#define LONG_S 1000

static volatile int ticks, bad_ticks;
static int periodic_id;

static void tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (si->si_code == SI_TIMER && si->si_value.sival_int == 0x222 &&
	    si->si_timerid == periodic_id)
		ticks++;
	else
		bad_ticks++;
}

/* Raw syscalls: the test needs the kernel's timer ids, not glibc's timer_t. */
static int create(clockid_t clk, int notify, int sig, int value)
{
	struct sigevent sev = {.sigev_notify = notify, .sigev_signo = sig};

	sev.sigev_value.sival_int = value;
	return ptimer_create(clk, &sev);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_sigaction = tick, .sa_flags = SA_SIGINFO | SA_RESTART};
	char want[4096], got[4096];
	struct itimerspec its;
	int oneshot, idle, before;
	bool have_proc;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	oneshot = create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 2, 0x111);
	periodic_id = create(CLOCK_REALTIME, SIGEV_SIGNAL, SIGUSR1, 0x222);
	idle = create(CLOCK_BOOTTIME, SIGEV_NONE, 0, 0x333);
	ptimer_arm(oneshot, LONG_S * 1000000000L, 0);
	ptimer_arm(periodic_id, 100 * 1000 * 1000, 100 * 1000 * 1000);
	have_proc = read_file("/proc/self/timers", want, sizeof(want)) >= 0;

	test_daemon();
	test_waitsig();

	if (have_proc &&
	    (read_file("/proc/self/timers", got, sizeof(got)) < 0 || strcmp(got, want)))
		fail("/proc/self/timers: '%s', expected '%s'", got, want);
	if (syscall(SYS_timer_gettime, oneshot, &its))
		fail("timer %d is gone: %m", oneshot);
	if (its.it_value.tv_sec >= LONG_S ||
	    (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0))
		fail("one-shot timer: %ld.%09ld s left, expected in (0, %d)", its.it_value.tv_sec,
		     its.it_value.tv_nsec, LONG_S);
	if (syscall(SYS_timer_gettime, idle, &its) || its.it_value.tv_sec || its.it_value.tv_nsec)
		fail("disarmed timer %d: gone or armed (%ld s): %m", idle, its.it_value.tv_sec);
	before = ticks;
	for (int i = 0; i < 100 && ticks < before + 3; i++)
		usleep(20000);
	if (ticks < before + 3 || bad_ticks)
		fail("periodic timer: %d ticks in 2 s after restore (expected 3 or more), %d with "
		     "a wrong siginfo",
		     ticks - before, bad_ticks);
	pass();
}
