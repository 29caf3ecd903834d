// SPDX-License-Identifier: GPL-2.0
/*
 * sleep_restart: the main thread is asleep in clock_nanosleep() (a syscall
 * with a restart block) when it is frozen. Every sleep must end by itself
 * (0, having slept at least what it asked) or by the SIGTERM that ends the
 * test (EINTR): on release (-R) the kernel's restart block is used, so
 * nothing nestor runs in the thread may replace it (a poll() interrupted by
 * nestor did, and the sleep then failed with EFAULT); a restored task issues
 * the sleep again with its arguments.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "zdtm.h"

static long long ns_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	const struct timespec nap = { 0, 200 * 1000 * 1000 };
	long naps = 0;

	test_init(argc, argv);
	test_daemon();
	while (!test_stop) {
		long long t0 = ns_now();
		int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);

		if (r == EINTR && test_stop)
			break;
		if (r)
			fail("clock_nanosleep returned %d (%s) after %ld naps", r, strerror(r), naps);
		if (ns_now() - t0 < nap.tv_nsec)
			fail("a 200 ms sleep ended after %lld ns", ns_now() - t0);
		naps++;
	}
	pass();
}
