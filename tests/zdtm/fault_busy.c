// SPDX-License-Identifier: GPL-2.0
/*
 * fault_busy: a busy tree for tests/fault.sh (nestor killed mid-dump and
 * mid-restore), and a checkpoint/restore test of its own. Three processes,
 * six threads (the root and two of its threads, child "a" and one thread,
 * child "b" with 4 MiB of memory, which it writes its own pages of). Every
 * thread loops writing memory, making syscalls and sleeping, and checks
 * itself on every round: its memory, a floating-point sum, its signal mask.
 * The root's main thread also runs breakpoints into its SIGTRAP handler and
 * checks the handler and its altstack. A sleep may end early (EINTR): that
 * is allowed. The result says whether any round ever found a difference.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>

#include "tree.h"

#define WORDS     2048
#define BIG       (4 << 20)
#define MAXTHR    3
#define ALT_SIZE  (64 * 1024)

struct worker {
	int seed;
	sigset_t mask;
	uint64_t *buf;
	pthread_t th;
	char bad[200];
};

static atomic_int stop_all;
static volatile sig_atomic_t traps;
static char altstack[ALT_SIZE] __attribute__((aligned(64)));

static void on_trap(int sig)
{
	(void)sig;
	traps++;
}

static void note(struct worker *w, const char *what, uint64_t round)
{
	if (!w->bad[0])
		snprintf(w->bad, sizeof(w->bad), "thread %d round %llu: %s", w->seed,
			 (unsigned long long)round, what);
}

static void nap(void)
{
	struct timespec ts = {0, 1000000};

	nanosleep(&ts, NULL); /* EINTR: fine */
}

static void trap_round(struct worker *w, uint64_t round)
{
	struct sigaction got;
	stack_t ss;
	int before = traps;

	asm volatile("int3");
	if (traps != before + 1)
		note(w, "the breakpoint did not reach the SIGTRAP handler", round);
	if (sigaction(SIGTRAP, NULL, &got) || got.sa_handler != on_trap)
		note(w, "the SIGTRAP handler changed", round);
	if (sigaltstack(NULL, &ss) || ss.ss_sp != altstack || ss.ss_size != ALT_SIZE)
		note(w, "the altstack changed", round);
}

static bool stopping(struct worker *w)
{
	if (w->seed % 10 == 0 && test_stop) /* a process's main thread: SIGTERM came */
		atomic_store(&stop_all, 1);
	return atomic_load(&stop_all);
}

/* One thread's work; seed 0 is the root's main thread (breakpoints). */
static void *busy(void *arg)
{
	struct worker *w = arg;
	double sum = 0;
	sigset_t cur;

	pthread_sigmask(SIG_SETMASK, &w->mask, NULL);
	for (uint64_t round = 1; !stopping(w); round++) {
		for (int i = 0; i < WORDS; i++)
			w->buf[i] = round * 1000003 + i;
		sum += 1.0;
		if (syscall(SYS_getppid) <= 0)
			note(w, "getppid", round);
		if (round % 3 == 0)
			nap();
		for (int i = 0; i < WORDS; i++)
			if (w->buf[i] != round * 1000003 + i)
				note(w, "memory changed", round);
		if (sum != (double)round)
			note(w, "the floating-point sum is off", round);
		memset(&cur, 0, sizeof(cur)); /* the kernel fills its 8 bytes */
		if (pthread_sigmask(SIG_SETMASK, NULL, &cur) || memcmp(&cur, &w->mask, 8))
			note(w, "the signal mask changed", round);
		if (w->seed == 0 && round % 8 == 0)
			trap_round(w, round);
	}
	return NULL;
}

/* This process's workers: seeds base, base + 1...; the main thread is the first. */
static void start(struct worker *ws, int base, int nthr)
{
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	for (int i = 0; i < nthr; i++) {
		ws[i].seed = base + i;
		ws[i].buf = calloc(WORDS, sizeof(uint64_t));
		if (!ws[i].buf)
			tree_fail("calloc");
		/* SIGTERM goes to the main thread; each thread has a mask of its own. */
		sigemptyset(&ws[i].mask);
		if (i > 0)
			ws[i].mask = term;
		sigaddset(&ws[i].mask, SIGRTMIN + base + i);
	}
	for (int i = 1; i < nthr; i++)
		if (pthread_create(&ws[i].th, NULL, busy, &ws[i]))
			tree_fail("pthread_create");
}

/* Works until SIGTERM, then checks every thread's verdict. */
static void work(struct worker *ws, int nthr)
{
	busy(&ws[0]);
	for (int i = 1; i < nthr; i++)
		pthread_join(ws[i].th, NULL);
	for (int i = 0; i < nthr; i++)
		if (ws[i].bad[0])
			tree_fail("%s", ws[i].bad);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_trap, .sa_flags = SA_ONSTACK | SA_NODEFER};
	stack_t ss = {.ss_sp = altstack, .ss_size = ALT_SIZE};
	static struct worker ws[MAXTHR];
	pid_t a, b;

	test_init(argc, argv);
	tree_init();
	sigemptyset(&sa.sa_mask);
	if (sigaltstack(&ss, NULL) || sigaction(SIGTRAP, &sa, NULL))
		fail("sigaction: %m");
	tree_barrier_init();
	a = tree_fork("a");
	if (!a) {
		start(ws, 10, 2);
		tree_ready(1);
		work(ws, 2);
		tree_pass();
	}
	b = tree_fork("b");
	if (!b) {
		/*
		 * Between two PROT_NONE guards: a fresh area next to one inherited
		 * over fork is a separate VMA for the kernel (another anon_vma),
		 * which a restore would make as one (not what this test is about).
		 */
		char *big = mmap(NULL, BIG + 2 * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);

		if (big == MAP_FAILED || mprotect(big + PAGE_SIZE, BIG, PROT_READ | PROT_WRITE))
			tree_fail("mmap: %m");
		big += PAGE_SIZE;
		memset(big, 0x6b, BIG);
		start(ws, 20, 1);
		tree_ready(2);
		work(ws, 1);
		for (size_t i = 0; i < BIG; i++)
			if (big[i] != 0x6b)
				tree_fail("byte %zu of the big buffer changed", i);
		tree_pass();
	}
	start(ws, 0, 3);
	tree_barrier_wait(2, NULL);
	test_daemon();
	work(ws, 3);
	tree_finish(a, "a");
	tree_finish(b, "b");
	pass();
}
