// SPDX-License-Identifier: GPL-2.0
/*
 * sigtrap: the program's own SIGTRAP handler survives the dump (live with
 * -R, and in the image): nestor stops its parasite without a trap, so the
 * kernel never resets the handler, and a breakpoint still reaches it.
 */
#include <string.h>

#include "zdtm.h"

static volatile sig_atomic_t traps;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	traps++;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_sigaction = on_trap, .sa_flags = SA_SIGINFO | SA_RESTART}, got;
	sigset_t mask;

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	if (sigaction(SIGTRAP, &sa, NULL))
		fail("sigaction: %m");
	asm volatile("int3");
	if (traps != 1)
		fail("the handler did not run before the dump");

	test_daemon();
	test_waitsig();

	if (sigaction(SIGTRAP, NULL, &got))
		fail("sigaction: %m");
	if (got.sa_sigaction != on_trap)
		fail("SIGTRAP handler is %p, not %p", (void *)got.sa_sigaction, (void *)on_trap);
	if ((got.sa_flags & (SA_SIGINFO | SA_RESTART)) != (SA_SIGINFO | SA_RESTART) ||
	    !sigismember(&got.sa_mask, SIGUSR2))
		fail("SIGTRAP flags %#x or mask changed", got.sa_flags);
	if (sigprocmask(SIG_BLOCK, NULL, &mask) || sigismember(&mask, SIGTRAP))
		fail("SIGTRAP is blocked");
	asm volatile("int3");
	if (traps != 2)
		fail("the handler did not run after the dump (%d)", (int)traps);
	pass();
}
