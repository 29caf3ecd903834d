// SPDX-License-Identifier: GPL-2.0
/*
 * sigaction: signal dispositions, handler address, SA_* flags, restorer and
 * sa_mask of every signal, read with the raw syscall (glibc hides 32 and
 * 33). The handlers must also still run: a lost restorer would crash.
 */
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

/* The kernel's struct sigaction on x86_64. */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static volatile int hits[65];

static void h_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_signo == sig)
		hits[sig]++;
}

static void h_plain(int sig)
{
	hits[sig]++;
}

static void set(int sig, void *handler, int flags, int masked1, int masked2)
{
	struct sigaction sa = {.sa_flags = flags};

	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (masked1)
		sigaddset(&sa.sa_mask, masked1);
	if (masked2)
		sigaddset(&sa.sa_mask, masked2);
	if (sigaction(sig, &sa, NULL))
		fail("sigaction(%d): %m", sig);
}

static void get_all(struct ksigaction *ka)
{
	for (int sig = 1; sig <= 64; sig++)
		if (syscall(SYS_rt_sigaction, sig, NULL, &ka[sig], 8))
			fail("rt_sigaction(%d): %m", sig);
}

int main(int argc, char **argv)
{
	struct ksigaction before[65], after[65];

	test_init(argc, argv);
	set(SIGUSR1, h_info, SA_SIGINFO | SA_RESTART | SA_NODEFER, SIGUSR2, SIGHUP);
	set(SIGUSR2, h_plain, SA_ONSTACK | SA_RESETHAND, SIGRTMIN + 1, 0);
	set(SIGHUP, SIG_IGN, 0, 0, 0);
	set(SIGPIPE, SIG_IGN, 0, 0, 0);
	set(SIGCHLD, h_plain, SA_NOCLDSTOP | SA_NOCLDWAIT, SIGALRM, 0);
	set(SIGALRM, h_plain, 0, SIGRTMAX, SIGWINCH);
	set(SIGINT, SIG_DFL, SA_RESTART, 0, 0);
	set(SIGRTMIN + 2, h_info, SA_SIGINFO, SIGUSR1, 0);
	set(SIGRTMAX, h_plain, SA_RESTART, 0, 0);
	get_all(before);

	test_daemon();
	test_waitsig();

	get_all(after);
	for (int sig = 1; sig <= 64; sig++)
		if (memcmp(&before[sig], &after[sig], sizeof(before[sig])))
			fail("signal %d: handler %p flags %#lx restorer %p mask %#lx, expected "
			     "handler %p flags %#lx restorer %p mask %#lx",
			     sig, after[sig].handler, after[sig].flags, after[sig].restorer,
			     after[sig].mask, before[sig].handler, before[sig].flags,
			     before[sig].restorer, before[sig].mask);
	raise(SIGUSR1);
	raise(SIGUSR2);
	raise(SIGALRM);
	raise(SIGRTMIN + 2);
	raise(SIGRTMAX);
	raise(SIGHUP);
	if (hits[SIGUSR1] != 1 || hits[SIGUSR2] != 1 || hits[SIGALRM] != 1 ||
	    hits[SIGRTMIN + 2] != 1 || hits[SIGRTMAX] != 1)
		fail("handlers ran USR1 %d, USR2 %d, ALRM %d, RTMIN+2 %d, RTMAX %d times, "
		     "expected once each",
		     hits[SIGUSR1], hits[SIGUSR2], hits[SIGALRM], hits[SIGRTMIN + 2],
		     hits[SIGRTMAX]);
	pass();
}
