// SPDX-License-Identifier: GPL-2.0
/*
 * sigaltstack: the alternate signal stack (address, size, SS_AUTODISARM)
 * is restored, and an SA_ONSTACK handler really runs on it.
 */
#include <sys/mman.h>

#include "zdtm.h"

#define STACK_SIZE (64 * 1024)
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* linux/signal.h, which clashes with signal.h */
#endif

static char *stack;
static volatile uintptr_t handler_frame;

static void handler(int sig)
{
	(void)sig;
	handler_frame = (uintptr_t)__builtin_frame_address(0);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_ONSTACK};
	stack_t ss, got;

	test_init(argc, argv);
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED)
		fail("mmap: %m");
	ss = (stack_t){.ss_sp = stack, .ss_size = STACK_SIZE, .ss_flags = SS_AUTODISARM};
	sigemptyset(&sa.sa_mask);
	if (sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL))
		fail("sigaltstack: %m");

	test_daemon();
	test_waitsig();

	if (sigaltstack(NULL, &got))
		fail("sigaltstack: %m");
	if (got.ss_sp != ss.ss_sp || got.ss_size != ss.ss_size || got.ss_flags != ss.ss_flags)
		fail("alt stack %p size %zu flags %#x, expected %p size %zu flags %#x", got.ss_sp,
		     got.ss_size, got.ss_flags, ss.ss_sp, ss.ss_size, ss.ss_flags);
	raise(SIGUSR1);
	if (handler_frame < (uintptr_t)stack || handler_frame >= (uintptr_t)stack + STACK_SIZE)
		fail("handler ran with its frame at %#lx, outside the alt stack %p-%p",
		     (unsigned long)handler_frame, stack, stack + STACK_SIZE);
	pass();
}
