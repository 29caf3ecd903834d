// SPDX-License-Identifier: GPL-2.0
/*
 * below_sp: what a task has below its stack pointers is its own. The main
 * thread waits inside a signal handler on a small alternate stack, and two
 * threads on theirs, each with known bytes just below its stack pointer (a
 * remote call of nestor's used to put its buffers there, so the image held
 * nestor's bytes). Every byte is the same after the dump.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

#define ALT_SIZE (32 * 1024)
#define MARGIN   1024 /* what the wait loop itself uses below the stack pointer */
#define SPAN     (12 * 1024)
#define NTHREADS 2
#define BIG      (4 << 20)

static char *big;
static char altstack[ALT_SIZE] __attribute__((aligned(64)));
static volatile int filled, done, bad[NTHREADS + 1];

static unsigned char pattern(int who, size_t i)
{
	return (unsigned char)(i * 131 + who * 17 + 1);
}

static void fill(int who, volatile unsigned char *low, size_t n)
{
	for (size_t i = 0; i < n; i++)
		low[i] = pattern(who, i);
}

static int check(int who, volatile unsigned char *low, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (low[i] != pattern(who, i))
			return (int)i + 1;
	return 0;
}

static void nap(void)
{
	struct timespec ts = {0, 1000000};

	syscall(SYS_nanosleep, &ts, NULL);
}

static void *worker(void *arg)
{
	int who = (int)(intptr_t)arg;
	volatile unsigned char here;
	volatile unsigned char *low = &here - MARGIN - SPAN;

	nap(); /* lazy binding saves the whole xsave area on the stack: done before the fill */
	fill(who, low, SPAN);
	__atomic_add_fetch(&filled, 1, __ATOMIC_SEQ_CST);
	while (!done)
		nap();
	bad[who] = check(who, low, SPAN);
	return NULL;
}

static void on_usr1(int sig)
{
	volatile unsigned char here;
	volatile unsigned char *low = &here - MARGIN - SPAN;
	sigset_t pending;

	(void)sig;
	if (low < (volatile unsigned char *)altstack)
		fail("the alternate stack is too small for the test");
	/* Before the fill: these use the stack (lazy binding: the whole xsave area). */
	test_daemon();
	nap();
	sigpending(&pending);
	(void)sigismember(&pending, SIGTERM);
	fill(0, low, SPAN);
	for (;;) {
		nap();
		if (!sigpending(&pending) && sigismember(&pending, SIGTERM))
			break;
	}
	bad[0] = check(0, low, SPAN);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK};
	stack_t ss = {.ss_sp = altstack, .ss_size = ALT_SIZE};
	pthread_t th[NTHREADS];
	sigset_t term;

	test_init(argc, argv);
	/* Enough memory that the task writes its own pages: remote calls in the main thread too. */
	big = malloc(BIG);
	if (!big)
		fail("malloc");
	memset(big, 0x5a, BIG);
	/* SIGTERM waits for the main thread: a frame pushed on a thread's stack would clobber it. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)(i + 1)))
			fail("pthread_create");
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	while (__atomic_load_n(&filled, __ATOMIC_SEQ_CST) < NTHREADS)
		nap();
	sa.sa_mask = term; /* the handler polls for it instead */
	if (sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL))
		fail("sigaltstack: %m");
	raise(SIGUSR1);
	done = 1;
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	while (!test_stop)
		nap();
	for (int i = 0; i <= NTHREADS; i++)
		if (bad[i])
			fail("%s %d: byte %d below its stack pointer changed", i ? "thread" : "main",
			     i, bad[i] - 1);
	pass();
}
