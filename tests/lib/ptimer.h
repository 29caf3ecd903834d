/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptimer: POSIX timers through the raw syscalls, for the tests that need
 * the kernel's timer ids (what /proc/PID/timers and si_timerid show), not
 * glibc's timer_t. Each helper fails the test on error.
 */
#ifndef ZDTM_PTIMER_H
#define ZDTM_PTIMER_H

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

static inline int ptimer_create(clockid_t clk, struct sigevent *sev)
{
	int id;

	if (syscall(SYS_timer_create, clk, sev, &id))
		fail("timer_create(clock %d, notify %d): %m", clk, sev ? sev->sigev_notify : -1);
	return id;
}

static inline void ptimer_arm(int id, long value_ns, long interval_ns)
{
	struct itimerspec its = {
	    .it_value = {value_ns / 1000000000, value_ns % 1000000000},
	    .it_interval = {interval_ns / 1000000000, interval_ns % 1000000000}};

	if (syscall(SYS_timer_settime, id, 0, &its, NULL))
		fail("timer_settime(%d): %m", id);
}

static inline void ptimer_get(int id, struct itimerspec *its)
{
	if (syscall(SYS_timer_gettime, id, its))
		fail("timer %d is gone: %m", id);
}

#endif
