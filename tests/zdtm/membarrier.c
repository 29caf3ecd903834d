// SPDX-License-Identifier: GPL-2.0
/*
 * membarrier: registrations for private expedited barriers (plain and
 * sync-core) and as a global expedited target belong to the memory; after
 * restore MEMBARRIER_CMD_GET_REGISTRATIONS says the same and a private
 * expedited barrier works (EPERM without the registration).
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

static long mb(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

int main(int argc, char **argv)
{
	const int regs[] = {MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
			    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
			    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED};
	long want = 0, got;

	test_init(argc, argv);
	if (mb(MEMBARRIER_CMD_GET_REGISTRATIONS) < 0)
		skip("no MEMBARRIER_CMD_GET_REGISTRATIONS: %m");
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		if (mb(regs[i]))
			skip("membarrier register %d: %m", regs[i]);
		want |= regs[i];
	}

	test_daemon();
	test_waitsig();

	got = mb(MEMBARRIER_CMD_GET_REGISTRATIONS);
	if (got != want)
		fail("registrations %#lx, expected %#lx", got, want);
	if (mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		fail("private expedited barrier: %m");
	if (mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE))
		fail("private expedited sync-core barrier: %m");
	pass();
}
