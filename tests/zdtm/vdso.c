// SPDX-License-Identifier: GPL-2.0
/*
 * vdso: the clock calls that glibc answers in the vDSO (which reads the
 * [vvar] pages) must work after restore: the vDSO stays where auxv says,
 * and its clocks agree with the raw system calls and never go back.
 */
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

static double ts(const struct timespec *t)
{
	return t->tv_sec + t->tv_nsec / 1e9;
}

static double sys_clock(clockid_t clk)
{
	struct timespec t;

	if (syscall(SYS_clock_gettime, clk, &t))
		fail("clock_gettime syscall: %m");
	return ts(&t);
}

static double vdso_clock(clockid_t clk)
{
	struct timespec t;

	if (clock_gettime(clk, &t))
		fail("clock_gettime: %m");
	return ts(&t);
}

/* The vDSO and the syscall must tell the same time, give or take a second. */
static void compare(const char *name, clockid_t clk, double before)
{
	double v = vdso_clock(clk), s = sys_clock(clk);

	if (v < before)
		fail("%s went back: %.6f, before checkpoint %.6f", name, v, before);
	if (v - s > 1 || s - v > 1)
		fail("%s: vDSO says %.6f, the system call %.6f", name, v, s);
}

int main(int argc, char **argv)
{
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	double mono, real, boot;
	struct vma_info vma;
	struct timeval tv;

	test_init(argc, argv);
	if (!vdso)
		skip("no vDSO");
	mono = vdso_clock(CLOCK_MONOTONIC);
	real = vdso_clock(CLOCK_REALTIME);
	boot = vdso_clock(CLOCK_BOOTTIME);

	test_daemon();
	test_waitsig();

	if (vma_find((void *)vdso, &vma) || strcmp(vma.name, "[vdso]") || vma.start != vdso)
		fail("auxv vDSO at %#lx, but that address holds '%s' at %#lx", vdso, vma.name,
		     vma.start);
	compare("CLOCK_MONOTONIC", CLOCK_MONOTONIC, mono);
	compare("CLOCK_REALTIME", CLOCK_REALTIME, real);
	compare("CLOCK_BOOTTIME", CLOCK_BOOTTIME, boot);
	if (gettimeofday(&tv, NULL))
		fail("gettimeofday: %m");
	if (tv.tv_sec + tv.tv_usec / 1e6 - sys_clock(CLOCK_REALTIME) > 1 ||
	    sys_clock(CLOCK_REALTIME) - (tv.tv_sec + tv.tv_usec / 1e6) > 1)
		fail("gettimeofday %ld.%06ld far from CLOCK_REALTIME %.6f", tv.tv_sec, tv.tv_usec,
		     sys_clock(CLOCK_REALTIME));
	if (time(NULL) < (time_t)real)
		fail("time() %ld, before checkpoint %.0f", time(NULL), real);
	/* Monotonic across many calls, as the vDSO's sequence counter must hold. */
	for (int i = 0; i < 100000; i++) {
		double t = vdso_clock(CLOCK_MONOTONIC);

		if (t < mono)
			fail("CLOCK_MONOTONIC went back from %.9f to %.9f", mono, t);
		mono = t;
	}
	pass();
}
