// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_fown: owners of signal-driven I/O (F_SETOWN_EX) inside a pid
 * namespace. i, init of a new one, owns (O_ASYNC, SIGIO) the read end of a
 * pipe itself, and gives another pipe's read end to its child j. The
 * kernel keeps the owner, each task names it by its own number; after
 * restore i reads the same owners (1, and j's pid in the namespace), and a
 * write to j's pipe signals j.
 */
#include <sched.h>

#include "tree.h"

static volatile sig_atomic_t got_io;

static void on_io(int sig)
{
	(void)sig;
	got_io = 1;
}

static void own(int fd, int type, pid_t pid)
{
	struct f_owner_ex o = { type, pid };

	if (fcntl(fd, F_SETOWN_EX, &o) || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC))
		tree_fail("F_SETOWN_EX %d: %m", pid);
}

static void check_owner(int fd, int type, pid_t pid, const char *what)
{
	struct f_owner_ex o;

	if (fcntl(fd, F_GETOWN_EX, &o) || (int)o.type != type || o.pid != pid)
		tree_fail("%s: owner type %d pid %d, expected %d %d", what, o.type, o.pid, type,
			  pid);
}

static int i_main(void *arg)
{
	int a[2], b[2];
	pid_t j;

	(void)arg;
	tree_enter_child("i", 0, true);
	if (pipe(a) || pipe(b))
		tree_fail("pipe: %m");
	j = tree_fork("j");
	if (j == 0) {
		if (signal(SIGIO, on_io) == SIG_ERR)
			tree_fail("signal: %m");
		tree_ready(2);
		test_waitsig();
		/* i writes to b once we are checked: wait for the signal (bounded). */
		for (int n = 0; n < 500 && !got_io; n++)
			tree_sleep_ms(10);
		if (!got_io)
			tree_fail("no SIGIO for the pipe it owns");
		tree_pass();
	}
	if (signal(SIGIO, SIG_IGN) == SIG_ERR)
		tree_fail("signal: %m");
	own(a[0], F_OWNER_PID, getpid());
	own(b[0], F_OWNER_PID, j);
	tree_ready(1);
	test_waitsig();
	check_owner(a[0], F_OWNER_PID, 1, "own pipe");
	check_owner(b[0], F_OWNER_PID, j, "j's pipe");
	if (write(b[1], "x", 1) != 1)
		tree_fail("write: %m");
	tree_finish(j, "j");
	tree_pass();
}

int main(int argc, char **argv)
{
	pid_t i;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	i = tree_clone(i_main, CLONE_NEWPID, NULL);
	tree_barrier_wait(2, NULL);
	test_daemon();
	test_waitsig();
	tree_finish(i, "i");
	pass();
}
