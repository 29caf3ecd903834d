// SPDX-License-Identifier: GPL-2.0
/*
 * sigmask: the blocked signal mask, standard and real-time signals alike.
 * (SIGTERM stays unblocked: the runner stops the test with it.)
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

int main(int argc, char **argv)
{
	const int sigs[] = {SIGHUP, SIGUSR1, SIGPIPE, SIGCHLD,	    SIGWINCH,
			    SIGSYS, 32,	     33,      SIGRTMIN + 3, SIGRTMAX};
	sigset_t set, got;

	test_init(argc, argv);
	sigemptyset(&set);
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	/* 32 and 33 are glibc's internal signals: the raw syscall can block them. */
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8))
		fail("rt_sigprocmask: %m");

	test_daemon();
	test_waitsig();

	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &got, 8))
		fail("rt_sigprocmask: %m");
	for (int sig = 1; sig <= 64; sig++)
		if (sigismember(&got, sig) != sigismember(&set, sig))
			fail("signal %d is %s, expected %s", sig,
			     sigismember(&got, sig) ? "blocked" : "unblocked",
			     sigismember(&set, sig) ? "blocked" : "unblocked");
	pass();
}
