// SPDX-License-Identifier: GPL-2.0
/*
 * timerfd: timerfds in several states. A 10 ms periodic timer keeps
 * firing; a one-hour one-shot is armed; an absolute CLOCK_REALTIME timer
 * an hour ahead is armed; a one-shot that expired before the checkpoint
 * holds one unread expiration; an hourly periodic timer that fired once
 * holds one unread expiration and waits for the next. After restore each
 * has its clock, interval and remaining time, the unread expirations are
 * still there exactly (no lost or extra ticks), and the periodic one ticks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

#define HOUR 3600

enum { PERIODIC, ONESHOT, ABSOLUTE, EXPIRED, HOURLY, N };

static const char *const names[N] = {"periodic 10 ms", "one-shot 1 h", "absolute realtime +1 h",
				     "expired one-shot", "hourly, fired once"};
static int fd[N];

static int make(int clock, int flags, time_t value_s, long value_ns, time_t int_s, long int_ns)
{
	struct itimerspec its = {{int_s, int_ns}, {value_s, value_ns}};
	int t = timerfd_create(clock, TFD_NONBLOCK | TFD_CLOEXEC);

	if (t < 0 || timerfd_settime(t, flags, &its, NULL))
		fail("timerfd: %m");
	return t;
}

static uint64_t ticks(int i)
{
	uint64_t n = 0;

	if (read(fd[i], &n, sizeof(n)) != sizeof(n)) {
		if (errno == EAGAIN)
			return 0;
		fail("%s: read: %m", names[i]);
	}
	return n;
}

/* Remaining time in (lo, hi] seconds and the interval as given. */
static void check_time(int i, double lo, double hi, time_t int_s, long int_ns)
{
	struct itimerspec its;
	double left;

	if (timerfd_gettime(fd[i], &its))
		fail("%s: timerfd_gettime: %m", names[i]);
	left = its.it_value.tv_sec + its.it_value.tv_nsec / 1e9;
	if (left <= lo || left > hi || its.it_interval.tv_sec != int_s ||
	    its.it_interval.tv_nsec != int_ns)
		fail("%s: %.3f s left, interval %ld.%09ld; expected (%.0f, %.0f] s and %ld.%09ld",
		     names[i], left, its.it_interval.tv_sec, its.it_interval.tv_nsec, lo, hi, int_s,
		     int_ns);
}

/* The fdinfo lines a timer keeps as it was set: its clock and its flags. */
static void kind_of(int i, char *out, size_t len)
{
	char path[64], line[128];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd[i]);
	f = fopen(path, "r");
	if (!f)
		fail("%s: %m", path);
	out[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "clockid:", 8) || !strncmp(line, "settime flags:", 14))
			n += snprintf(out + n, n < len ? len - n : 0, "%s", line);
	fclose(f);
	if (!strstr(out, "clockid:") || !strstr(out, "settime flags:"))
		fail("%s: no clockid or settime flags: '%s'", path, out);
}

int main(int argc, char **argv)
{
	char kind[N][128], now_kind[128];
	struct timespec now, sleep = {0, 50000000};
	uint64_t n;

	test_init(argc, argv);
	clock_gettime(CLOCK_REALTIME, &now);
	fd[PERIODIC] = make(CLOCK_MONOTONIC, 0, 0, 10000000, 0, 10000000);
	fd[ONESHOT] = make(CLOCK_MONOTONIC, 0, HOUR, 0, 0, 0);
	fd[ABSOLUTE] = make(CLOCK_REALTIME, TFD_TIMER_ABSTIME, now.tv_sec + HOUR, 0, 0, 0);
	fd[EXPIRED] = make(CLOCK_MONOTONIC, 0, 0, 1000000, 0, 0);
	fd[HOURLY] = make(CLOCK_BOOTTIME, 0, 0, 1000000, HOUR, 0);
	nanosleep(&sleep, NULL);
	for (int i = 0; i < N; i++)
		kind_of(i, kind[i], sizeof(kind[i]));

	test_daemon();
	test_waitsig();

	for (int i = 0; i < N; i++) {
		kind_of(i, now_kind, sizeof(now_kind));
		if (strcmp(now_kind, kind[i]))
			fail("%s: clock and flags '%s', expected '%s'", names[i], now_kind, kind[i]);
	}

	/* An hour less the time the checkpoint took (ten minutes at most). */
	check_time(ONESHOT, HOUR - 600, HOUR, 0, 0);
	check_time(ABSOLUTE, HOUR - 600, HOUR, 0, 0);
	check_time(HOURLY, HOUR - 600, HOUR, HOUR, 0);
	check_time(EXPIRED, -1, 0, 0, 0);
	check_time(PERIODIC, 0, 0.010, 0, 10000000);
	if ((n = ticks(EXPIRED)) != 1)
		fail("%s: %lu expirations, expected 1", names[EXPIRED], n);
	if ((n = ticks(HOURLY)) != 1)
		fail("%s: %lu expirations, expected 1", names[HOURLY], n);
	if ((n = ticks(ONESHOT)) || (n = ticks(ABSOLUTE)))
		fail("a timer an hour ahead has fired %lu times", n);
	/* At least 5 ticks had piled up before the checkpoint (50 ms of 10 ms). */
	if ((n = ticks(PERIODIC)) < 5)
		fail("%s: %lu expirations, expected at least 5", names[PERIODIC], n);
	nanosleep(&sleep, NULL);
	if ((n = ticks(PERIODIC)) < 2)
		fail("%s: %lu expirations in 50 ms after restore, it does not tick",
		     names[PERIODIC], n);
	if (ticks(EXPIRED) || ticks(HOURLY))
		fail("a spent timer fired again");
	pass();
}
