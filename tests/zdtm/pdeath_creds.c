// SPDX-License-Identifier: GPL-2.0
/*
 * pdeath_creds: a child that runs as another user (uid and gid 1000) and
 * set its parent-death signal after dropping to them. The restore sets the
 * credentials, which clears the signal in the kernel: it must come back
 * all the same, and still fire when the parent dies (here: checked by
 * value; pdeathsig checks the firing).
 */
#include "tree.h"

static void __attribute__((noreturn)) child(void)
{
	int sig = -1;

	if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
		tree_fail("setresuid: %m");
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1))
		tree_fail("PR_SET_PDEATHSIG: %m");
	tree_ready(0);
	test_waitsig();
	if (prctl(PR_GET_PDEATHSIG, &sig) || sig != SIGUSR1)
		tree_fail("parent-death signal %d, expected %d (SIGUSR1)", sig, SIGUSR1);
	if (getuid() != 1000 || geteuid() != 1000)
		tree_fail("uid %d euid %d, expected 1000", getuid(), geteuid());
	tree_pass();
}

int main(int argc, char **argv)
{
	struct tree_rec rec;
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid)
		child();
	tree_barrier_wait(1, &rec);

	test_daemon();
	test_waitsig();

	tree_finish(pid, "child");
	pass();
}
