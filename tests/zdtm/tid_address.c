// SPDX-License-Identifier: GPL-2.0
/*
 * tid_address: the clear_child_tid address (set_tid_address) is restored.
 * The test moves it to its own variable so that an address left over from
 * the restorer or from glibc cannot match by chance.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

static int tid_word;

int main(int argc, char **argv)
{
	int *addr = NULL;

	test_init(argc, argv);
	syscall(SYS_set_tid_address, &tid_word);
	if (prctl(PR_GET_TID_ADDRESS, &addr, 0, 0, 0))
		skip("PR_GET_TID_ADDRESS: %m (no CONFIG_CHECKPOINT_RESTORE)");
	if (addr != &tid_word)
		fail("PR_GET_TID_ADDRESS says %p before checkpoint, expected %p", addr, &tid_word);

	test_daemon();
	test_waitsig();

	if (prctl(PR_GET_TID_ADDRESS, &addr, 0, 0, 0))
		fail("PR_GET_TID_ADDRESS: %m");
	if (addr != &tid_word)
		fail("clear_child_tid address %p, expected %p", addr, &tid_word);
	pass();
}
