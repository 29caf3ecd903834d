// SPDX-License-Identifier: GPL-2.0
/*
 * threads: a process with four threads besides the main one, caught in
 * different states: one counting in user space, one in pthread_cond_wait
 * (futex), one in a one-hour nanosleep, one ticking through 1 ms sleeps.
 * After restore each thread checks its own tid, its thread-local data (at
 * the same address), its own signal mask and its counter; the sleepers
 * must wake only when told to, and the counters must keep counting.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "tree.h"

#define NTHREADS   4
#define MAGIC	   0x3c3c3c3c3c3c3c3cUL
#define LONG_SLEEP 3600

enum { BUSY, COND, SLEEP, TICK };

static const char *const names[NTHREADS] = {"busy", "cond_wait", "nanosleep", "ticker"};

static struct {
	pthread_t th;
	pid_t tid;
	unsigned long *tls_addr;
	volatile unsigned long cnt; /* counter ^ MAGIC, written by the thread */
	char msg[256];		    /* why the thread failed, empty when it passed */
} th[NTHREADS];

static __thread unsigned long tls_val;
static __thread char tls_name[32];

static atomic_int nready;
static volatile int stop, go, usr1_sent;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void usr1_handler(int sig)
{
	(void)sig;
}

/* The mask each thread sets for itself (SIGTERM stays with main). */
static void own_mask(int i, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, i < 0 ? SIGRTMIN + 10 : SIGRTMIN + 1 + i);
	if (i >= 0)
		sigaddset(set, SIGTERM);
}

/* Compares the raw kernel mask (glibc hides its own signals) with set. */
static int check_mask(const sigset_t *set, char *msg, size_t len)
{
	sigset_t cur;

	if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8))
		return snprintf(msg, len, "rt_sigprocmask: %m");
	for (int sig = 1; sig <= 64; sig++)
		if (sigismember(&cur, sig) != sigismember(set, sig))
			return snprintf(msg, len, "signal %d %s, expected %s", sig,
					sigismember(&cur, sig) ? "blocked" : "unblocked",
					sigismember(set, sig) ? "blocked" : "unblocked");
	return 0;
}

/* A thread's own checks after restore; the result goes to th[i].msg. */
static void check_self(int i, unsigned long local, unsigned long at_ready)
{
	char *msg = th[i].msg;
	size_t len = sizeof(th[i].msg);
	char comm[16] = "";
	sigset_t set;

	own_mask(i, &set);
	prctl(PR_GET_NAME, comm);
	if (gettid() != th[i].tid)
		snprintf(msg, len, "tid %d, expected %d", gettid(), th[i].tid);
	else if (&tls_val != th[i].tls_addr || tls_val != (MAGIC ^ i) || strcmp(tls_name, names[i]))
		snprintf(msg, len, "thread-local data at %p = %#lx '%s', expected at %p %#lx '%s'",
			 (void *)&tls_val, tls_val, tls_name, (void *)th[i].tls_addr, MAGIC ^ i,
			 names[i]);
	else if (check_mask(&set, msg, len))
		;
	else if (strcmp(comm, names[i]))
		snprintf(msg, len, "thread name '%s', expected '%s'", comm, names[i]);
	else if ((th[i].cnt ^ MAGIC) != local)
		snprintf(msg, len, "counter %lu in memory, %lu on the stack", th[i].cnt ^ MAGIC,
			 local);
	else if (local <= at_ready)
		snprintf(msg, len, "counter %lu did not grow past %lu", local, at_ready);
}

static void *thread_fn(void *arg)
{
	int i = (int)(long)arg, r = 0;
	unsigned long local = 0, at_ready;
	struct timespec ts = {LONG_SLEEP, 0}, tick = {0, 1000000};
	sigset_t set;

	th[i].tid = gettid();
	th[i].tls_addr = &tls_val;
	tls_val = MAGIC ^ i;
	snprintf(tls_name, sizeof(tls_name), "%s", names[i]);
	if (prctl(PR_SET_NAME, names[i]))
		snprintf(th[i].msg, sizeof(th[i].msg), "PR_SET_NAME: %m");
	own_mask(i, &set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* Some counting first, so that values at the checkpoint are not zero. */
	for (local = 0; local < 1000; local++)
		th[i].cnt = local ^ MAGIC;
	at_ready = local;
	atomic_fetch_add(&nready, 1);

	switch (i) {
	case BUSY:
		while (!stop)
			th[i].cnt = ++local ^ MAGIC;
		break;
	case COND:
		pthread_mutex_lock(&lock);
		while (!go && !r)
			r = pthread_cond_wait(&cond, &lock);
		pthread_mutex_unlock(&lock);
		th[i].cnt = ++local ^ MAGIC;
		if (r)
			snprintf(th[i].msg, sizeof(th[i].msg), "pthread_cond_wait: %s",
				 strerror(r));
		break;
	case SLEEP:
		r = nanosleep(&ts, &ts);
		th[i].cnt = ++local ^ MAGIC;
		if (!usr1_sent)
			snprintf(th[i].msg, sizeof(th[i].msg),
				 "the one-hour nanosleep ended before SIGUSR1 (returned %d, %s)", r,
				 r ? strerror(errno) : "slept through");
		else if (r != -1 || errno != EINTR || ts.tv_sec < LONG_SLEEP - 600)
			snprintf(
			    th[i].msg, sizeof(th[i].msg),
			    "nanosleep returned %d (%s), %ld s left; expected EINTR with nearly "
			    "an hour left",
			    r, strerror(errno), (long)ts.tv_sec);
		break;
	case TICK:
		while (!stop) {
			nanosleep(&tick, NULL);
			th[i].cnt = ++local ^ MAGIC;
		}
		break;
	}
	if (!th[i].msg[0])
		check_self(i, local, at_ready);
	return NULL;
}

/* Counting threads must move after restore, not just hold their values. */
static void check_counting(void)
{
	unsigned long before[NTHREADS], deadline = tree_now_ms() + TREE_TIMEOUT_MS;

	for (int i = 0; i < NTHREADS; i++)
		before[i] = th[i].cnt ^ MAGIC;
	for (;;) {
		if ((th[BUSY].cnt ^ MAGIC) > before[BUSY] + 100 &&
		    (th[TICK].cnt ^ MAGIC) > before[TICK] + 3)
			return;
		if ((unsigned long)tree_now_ms() > deadline)
			fail("counters stuck after restore: %s %lu -> %lu, %s %lu -> %lu",
			     names[BUSY], before[BUSY], th[BUSY].cnt ^ MAGIC, names[TICK],
			     before[TICK], th[TICK].cnt ^ MAGIC);
		tree_sleep_ms(5);
	}
}

static bool asleep(pid_t pid, int i, long nr)
{
	long now = tree_syscall_nr(pid, th[i].tid);

	return now == nr || now == SYS_restart_syscall;
}

static void check_tids(void)
{
	int n = 0;
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		fail("opendir /proc/self/task: %m");
	while ((de = readdir(d))) {
		int tid = atoi(de->d_name), known = tid == getpid();

		for (int i = 0; i < NTHREADS; i++)
			known |= tid == th[i].tid;
		if (tid > 0 && !known)
			fail("unexpected thread %d", tid);
		n += tid > 0;
	}
	closedir(d);
	if (n != NTHREADS + 1)
		fail("%d threads, expected %d", n, NTHREADS + 1);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = usr1_handler};
	pid_t pid = getpid();
	sigset_t term, mine;
	char msg[256];

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		fail("sigaction: %m");
	/* Threads start with SIGTERM blocked: the runner's signal is main's. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	for (long i = 0; i < NTHREADS; i++)
		if ((errno = pthread_create(&th[i].th, NULL, thread_fn, (void *)i)))
			fail("pthread_create: %m");
	own_mask(-1, &mine);
	sigprocmask(SIG_SETMASK, &mine, NULL);
	for (long deadline = tree_now_ms() + TREE_TIMEOUT_MS; atomic_load(&nready) < NTHREADS;)
		if (tree_now_ms() > deadline)
			fail("%d of %d threads started", atomic_load(&nready), NTHREADS);
	tree_wait_syscall(pid, th[COND].tid, SYS_futex, names[COND]);
	tree_wait_syscall(pid, th[SLEEP].tid, SYS_clock_nanosleep, names[SLEEP]);
	check_tids();

	test_daemon();
	test_waitsig();

	if (getpid() != pid)
		fail("pid %d, expected %d", getpid(), pid);
	for (int i = 0; i < NTHREADS; i++)
		if (th[i].msg[0])
			fail("thread %s (tid %d) before the end: %s", names[i], th[i].tid,
			     th[i].msg);
	check_tids();
	if (check_mask(&mine, msg, sizeof(msg)))
		fail("main thread: %s", msg);
	check_counting();
	/*
	 * The sleepers must still be asleep where they were; an interrupted
	 * sleep comes back as restart_syscall, as after any SIGSTOP.
	 */
	if (!asleep(pid, COND, SYS_futex) || !asleep(pid, SLEEP, SYS_clock_nanosleep))
		fail("after restore %s is in syscall %ld, %s in %ld; expected %d and %d (or %d)",
		     names[COND], tree_syscall_nr(pid, th[COND].tid), names[SLEEP],
		     tree_syscall_nr(pid, th[SLEEP].tid), SYS_futex, SYS_clock_nanosleep,
		     SYS_restart_syscall);
	stop = 1;
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	usr1_sent = 1;
	if (syscall(SYS_tgkill, pid, th[SLEEP].tid, SIGUSR1))
		fail("tgkill: %m");
	for (int i = 0; i < NTHREADS; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += TREE_TIMEOUT_MS / 1000;
		if ((errno = pthread_timedjoin_np(th[i].th, NULL, &ts)))
			fail("thread %s (tid %d) did not finish: %m", names[i], th[i].tid);
		if (th[i].msg[0])
			fail("thread %s (tid %d): %s", names[i], th[i].tid, th[i].msg);
	}
	pass();
}
