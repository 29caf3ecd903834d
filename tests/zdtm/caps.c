// SPDX-License-Identifier: GPL-2.0
/*
 * caps: capability sets that differ from a plain root task: effective and
 * permitted reduced, an inheritable set, an ambient capability, a smaller
 * bounding set and securebits. All must read back the same.
 */
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

struct capstate {
	struct __user_cap_data_struct data[2];
	uint64_t bounding, ambient;
	int securebits;
};

/* One 64-bit set out of the two 32-bit halves capget() returns. */
#define SET64(cs, f) ((cs)->data[0].f | (uint64_t)(cs)->data[1].f << 32)

static uint64_t bit(int cap)
{
	return 1ULL << cap;
}

static void read_caps(struct capstate *cs, int last)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};

	memset(cs, 0, sizeof(*cs));
	if (syscall(SYS_capget, &hdr, cs->data))
		fail("capget: %m");
	for (int c = 0; c <= last; c++) {
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			cs->bounding |= bit(c);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
			cs->ambient |= bit(c);
	}
	cs->securebits = prctl(PR_GET_SECUREBITS);
}

int main(int argc, char **argv)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	const int secbits = SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS;
	struct capstate want, got;
	char buf[16];
	int last;

	test_init(argc, argv);
	if (read_file("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) < 0)
		fail("cap_last_cap: %m");
	last = atoi(buf);
	read_caps(&want, last);
	if (!(want.data[0].effective & bit(CAP_SETPCAP)) || !(want.bounding & bit(CAP_MKNOD)))
		skip("needs root with CAP_SETPCAP and CAP_MKNOD");
	want.data[0].effective &= ~(bit(CAP_NET_RAW) | bit(CAP_SYS_TIME));
	want.data[0].permitted &= ~bit(CAP_SYS_TIME);
	want.data[0].inheritable = bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE);
	if (syscall(SYS_capset, &hdr, want.data))
		fail("capset: %m");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) ||
	    prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0) || prctl(PR_SET_SECUREBITS, secbits))
		fail("prctl: %m");
	read_caps(&want, last);

	test_daemon();
	test_waitsig();

	read_caps(&got, last);
	if (memcmp(got.data, want.data, sizeof(got.data)))
		fail("effective %#lx permitted %#lx inheritable %#lx, expected %#lx %#lx %#lx",
		     SET64(&got, effective), SET64(&got, permitted), SET64(&got, inheritable),
		     SET64(&want, effective), SET64(&want, permitted), SET64(&want, inheritable));
	if (got.bounding != want.bounding || got.ambient != want.ambient)
		fail("bounding %#lx ambient %#lx, expected %#lx %#lx", got.bounding, got.ambient,
		     want.bounding, want.ambient);
	if (got.securebits != want.securebits)
		fail("securebits %#x, expected %#x", got.securebits, want.securebits);
	pass();
}
