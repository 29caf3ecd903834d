// SPDX-License-Identifier: GPL-2.0
/*
 * rlimits: every resource limit reads back as before, with several soft and
 * hard limits lowered (raising a hard limit needs CAP_SYS_RESOURCE, which
 * this machine's root lacks).
 */
#include <sys/resource.h>

#include "zdtm.h"

static const struct {
	int res;
	rlim_t soft, hard;
} lowered[] = {
    {RLIMIT_NOFILE, 300, 1000},
    {RLIMIT_CORE, 1 << 20, 2 << 20},
    {RLIMIT_FSIZE, 1UL << 30, 2UL << 30},
    {RLIMIT_DATA, 4UL << 30, 8UL << 30},
    {RLIMIT_CPU, 3000, 4000},
    {RLIMIT_MSGQUEUE, 4096, 8192},
    {RLIMIT_STACK, 4 << 20, 16 << 20},
};

int main(int argc, char **argv)
{
	struct rlimit before[RLIM_NLIMITS], got;

	test_init(argc, argv);
	for (unsigned int i = 0; i < sizeof(lowered) / sizeof(lowered[0]); i++) {
		struct rlimit rl = {lowered[i].soft, lowered[i].hard};

		if (getrlimit(lowered[i].res, &got))
			fail("getrlimit: %m");
		if (got.rlim_max != RLIM_INFINITY && got.rlim_max < rl.rlim_max)
			rl.rlim_max = got.rlim_max;
		if (rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
		if (setrlimit(lowered[i].res, &rl))
			fail("setrlimit(%d): %m", lowered[i].res);
	}
	for (int r = 0; r < RLIM_NLIMITS; r++)
		if (getrlimit(r, &before[r]))
			fail("getrlimit(%d): %m", r);

	test_daemon();
	test_waitsig();

	for (int r = 0; r < RLIM_NLIMITS; r++) {
		if (getrlimit(r, &got))
			fail("getrlimit(%d): %m", r);
		if (got.rlim_cur != before[r].rlim_cur || got.rlim_max != before[r].rlim_max)
			fail("limit %d: soft %lu hard %lu, expected soft %lu hard %lu", r,
			     got.rlim_cur, got.rlim_max, before[r].rlim_cur, before[r].rlim_max);
	}
	pass();
}
