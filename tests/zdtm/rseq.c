// SPDX-License-Identifier: GPL-2.0
/*
 * rseq: glibc registers a restartable-sequences area for the thread. After
 * restore that same registration must exist: registering the area again
 * fails with EBUSY (0 means it was gone, EINVAL that it differs), and the
 * kernel keeps the area's cpu_id up to date as the task moves between CPUs.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

#define RSEQ_SIG 0x53053053 /* glibc's signature on x86 */

static struct rseq *area(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

static int reregister(unsigned int len)
{
	return syscall(SYS_rseq, area(), len, 0, RSEQ_SIG) ? errno : 0;
}

/* Moves to each allowed CPU in turn; the kernel must write its number. */
static void check_cpu_id(void)
{
	cpu_set_t all, one;

	if (sched_getaffinity(0, sizeof(all), &all))
		fail("sched_getaffinity: %m");
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &all))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			fail("sched_setaffinity(%d): %m", cpu);
		sched_yield();
		if ((int)area()->cpu_id != cpu || (int)area()->cpu_id_start != cpu)
			fail("on cpu %d the rseq area says cpu_id %d, cpu_id_start %u", cpu,
			     (int)area()->cpu_id, area()->cpu_id_start);
	}
	if (sched_setaffinity(0, sizeof(all), &all))
		fail("sched_setaffinity: %m");
}

int main(int argc, char **argv)
{
	unsigned int len = 0;
	int err;

	test_init(argc, argv);
	if (__rseq_size == 0)
		skip("glibc did not register rseq (glibc.pthread.rseq=0?)");
	/* glibc 2.36 registers 32 bytes; later ones may pass a different length. */
	for (unsigned int l = 32; l <= 1024 && !len; l *= 2)
		if (reregister(l) == EBUSY)
			len = l;
	if (!len && reregister(__rseq_size) == EBUSY)
		len = __rseq_size;
	if (!len)
		fail("cannot find the length glibc registered rseq with");
	check_cpu_id();

	test_daemon();
	test_waitsig();

	err = reregister(len);
	if (err != EBUSY)
		fail("registering the rseq area again gave %s, expected EBUSY (%s)",
		     err ? strerrorname_np(err) : "success",
		     err == EINVAL  ? "registered with another address or length"
		     : err == EPERM ? "registered with another signature"
				    : "not registered");
	check_cpu_id();
	pass();
}
