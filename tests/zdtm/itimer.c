// SPDX-License-Identifier: GPL-2.0
/*
 * itimer: ITIMER_REAL, ITIMER_VIRTUAL and ITIMER_PROF stay armed with their
 * intervals and a remaining time that is plausible: not above what was set,
 * not zero, and for the real timer not below what the elapsed time allows.
 */
#include <sys/time.h>
#include <time.h>

#include "zdtm.h"

#define VALUE_S	   1000
#define INTERVAL_S 77

static const struct {
	int which;
	const char *name;
} timers[] = {
    {ITIMER_REAL, "ITIMER_REAL"},
    {ITIMER_VIRTUAL, "ITIMER_VIRTUAL"},
    {ITIMER_PROF, "ITIMER_PROF"},
};

static double tv(const struct timeval *t)
{
	return t->tv_sec + t->tv_usec / 1e6;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct itimerval set = {.it_interval = {INTERVAL_S, 250000}, .it_value = {VALUE_S, 0}};
	double start;

	test_init(argc, argv);
	for (int i = 0; i < 3; i++)
		if (setitimer(timers[i].which, &set, NULL))
			fail("setitimer(%s): %m", timers[i].name);
	start = now();

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 3; i++) {
		struct itimerval got;
		double left, min = 0;

		if (getitimer(timers[i].which, &got))
			fail("getitimer(%s): %m", timers[i].name);
		left = tv(&got.it_value);
		/* Time off between dump and restore may or may not count: allow both. */
		if (timers[i].which == ITIMER_REAL)
			min = VALUE_S - (now() - start) - 1;
		/* CPU-time timers round up to the tick: a few ms above is fine. */
		if (tv(&got.it_interval) != tv(&set.it_interval) || left > VALUE_S + 0.1 ||
		    left <= min)
			fail("%s: interval %.6f value %.6f, expected interval %.6f value in "
			     "(%.3f, %d]",
			     timers[i].name, tv(&got.it_interval), left, tv(&set.it_interval), min,
			     VALUE_S);
	}
	pass();
}
