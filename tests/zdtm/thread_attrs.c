// SPDX-License-Identifier: GPL-2.0
/*
 * thread_attrs: what the kernel keeps per thread comes back per thread. A
 * child of the root (its parent-death signals must not fire when the
 * restoring nestor leaves) runs five threads:
 *   plain   made before anything else: no seccomp, no no_new_privs;
 *   own1    the shared filter plus one of its own, parent-death SIGUSR1,
 *           its own timer slack, personality, securebits and login uid;
 *   own2    the shared filter plus another of its own, SIGUSR2, its slack;
 *   shared  only the filter every thread but plain got from the main one;
 *   main    the shared filter and one added after the threads were made.
 * Each thread checks itself after the restore: which syscalls its filters
 * refuse (and with which errno), Seccomp, Seccomp_filters and NoNewPrivs in
 * /proc/thread-self/status, PR_GET_PDEATHSIG, PR_GET_TIMERSLACK,
 * personality, PR_GET_SECUREBITS and /proc/thread-self/loginuid.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/securebits.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>

#include "tree.h"

enum { PLAIN, OWN1, OWN2, SHARED, MAIN, NT };
static const char *const tname[NT] = {"plain", "own1", "own2", "shared", "main"};

/* The syscalls the filters refuse, each with its errno. */
enum { S_SYSINFO, S_TIMES, S_SYSLOG, S_GETRUSAGE, NS };
static const int snr[NS] = {SYS_sysinfo, SYS_times, SYS_syslog, SYS_getrusage};
static const int serr[NS] = {EDOM, ENOTTY, EXDEV, ENOENT};

struct want {
	unsigned filters_mask; /* which S_* fail */
	int mode, nr_filters, nnp, pdeath;
	unsigned long slack;
	unsigned pers, secbits;
	long loginuid; /* -1: whatever the process has */
};

static const struct want want[NT] = {
	[PLAIN] = {0, 0, 0, 0, 0, 70000, 0, 0, -1},
	[OWN1] = {1 << S_SYSINFO | 1 << S_TIMES, 2, 2, 1, SIGUSR1, 111111, ADDR_NO_RANDOMIZE,
		  SECBIT_NO_SETUID_FIXUP, 4242},
	[OWN2] = {1 << S_SYSINFO | 1 << S_SYSLOG, 2, 2, 1, SIGUSR2, 222222, 0, 0, -1},
	[SHARED] = {1 << S_SYSINFO, 2, 1, 1, 0, 50000, 0, 0, -1},
	[MAIN] = {1 << S_SYSINFO | 1 << S_GETRUSAGE, 2, 2, 1, SIGKILL, 333333, 0, 0, -1},
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int nr_ready, phase; /* phase 1: check now */
static char verdict[NT][256];
static bool done[NT];

static int add_filter(int which)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, snr[which], 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | serr[which]),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};

	/* Without TSYNC: this thread only. */
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static int status_field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? atoi(p + strlen(key)) : -1;
}

static long read_loginuid(void)
{
	char buf[32];

	if (read_file("/proc/thread-self/loginuid", buf, sizeof(buf)) <= 0)
		return -2;
	return strtol(buf, NULL, 10);
}

/* Empty when the calling thread is as wanted, else what differs. */
static void check_self(int t, char *out, size_t len)
{
	const struct want *w = &want[t];
	char st[4096];
	int sig = -1, v;
	long r;

	out[0] = 0;
	for (int s = 0; s < NS; s++) {
		errno = 0;
		if (s == S_SYSLOG)
			r = syscall(snr[s], 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
		else {
			char buf[256];
			r = syscall(snr[s], s == S_GETRUSAGE ? RUSAGE_SELF : (long)buf, buf);
		}
		if ((w->filters_mask >> s & 1) != (r == -1 && errno == serr[s])) {
			snprintf(out, len, "syscall %d gave %ld errno %d, filtered should be %d",
				 snr[s], r, errno, w->filters_mask >> s & 1);
			return;
		}
	}
	if (read_file("/proc/thread-self/status", st, sizeof(st)) < 0) {
		snprintf(out, len, "/proc/thread-self/status: %m");
		return;
	}
	if ((v = status_field(st, "\nSeccomp:\t")) != w->mode ||
	    (w->mode && status_field(st, "\nSeccomp_filters:\t") != w->nr_filters) ||
	    status_field(st, "\nNoNewPrivs:\t") != w->nnp) {
		snprintf(out, len, "Seccomp %d filters %d NoNewPrivs %d, expected %d %d %d", v,
			 status_field(st, "\nSeccomp_filters:\t"), status_field(st, "\nNoNewPrivs:\t"),
			 w->mode, w->nr_filters, w->nnp);
		return;
	}
	prctl(PR_GET_PDEATHSIG, &sig);
	if (sig != w->pdeath)
		snprintf(out, len, "parent-death signal %d, expected %d", sig, w->pdeath);
	else if ((unsigned long)prctl(PR_GET_TIMERSLACK) != w->slack)
		snprintf(out, len, "timer slack %d, expected %lu", prctl(PR_GET_TIMERSLACK), w->slack);
	else if ((unsigned)personality(0xffffffff) != w->pers)
		snprintf(out, len, "personality %#x, expected %#x", personality(0xffffffff), w->pers);
	else if ((unsigned)prctl(PR_GET_SECUREBITS) != w->secbits)
		snprintf(out, len, "securebits %#x, expected %#x", prctl(PR_GET_SECUREBITS),
			 w->secbits);
	else if (w->loginuid >= 0 && read_loginuid() != w->loginuid)
		snprintf(out, len, "login uid %ld, expected %ld", read_loginuid(), w->loginuid);
}

static int set_up(int t)
{
	const struct want *w = &want[t];
	char buf[32];
	int fd;

	if (t == OWN1 && add_filter(S_TIMES))
		return -1;
	if (t == OWN2 && add_filter(S_SYSLOG))
		return -1;
	if (t == MAIN && add_filter(S_GETRUSAGE))
		return -1;
	if (t != MAIN && prctl(PR_SET_PDEATHSIG, w->pdeath))
		return -1;
	if (prctl(PR_SET_TIMERSLACK, w->slack) || personality(w->pers) < 0 ||
	    (w->secbits && prctl(PR_SET_SECUREBITS, w->secbits)))
		return -1;
	if (w->loginuid >= 0) {
		snprintf(buf, sizeof(buf), "%ld", w->loginuid);
		fd = open("/proc/thread-self/loginuid", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
			return -1;
		close(fd);
	}
	return 0;
}

static void *thread_fn(void *arg)
{
	int t = (int)(long)arg;
	int r = set_up(t);

	pthread_mutex_lock(&mu);
	if (r)
		snprintf(verdict[t], sizeof(verdict[t]), "set-up failed: %m");
	nr_ready++;
	pthread_cond_broadcast(&cv);
	while (phase == 0)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if (!verdict[t][0])
		check_self(t, verdict[t], sizeof(verdict[t]));
	pthread_mutex_lock(&mu);
	done[t] = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void wait_ready(int n)
{
	pthread_mutex_lock(&mu);
	while (nr_ready < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

/* SIGTERM is the main thread's: test_waitsig() there waits for it. */
static void spawn(pthread_t *th, int t)
{
	sigset_t term, old;
	int e;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	e = pthread_create(th, NULL, thread_fn, (void *)(long)t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e)
		tree_fail("pthread_create: %s", strerror(e));
}

static void __attribute__((noreturn)) child(void)
{
	pthread_t th[NT];
	char mine[256] = "";

	spawn(&th[PLAIN], PLAIN);
	wait_ready(1);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || add_filter(S_SYSINFO))
		tree_fail("shared filter: %m");
	spawn(&th[OWN1], OWN1);
	spawn(&th[OWN2], OWN2);
	spawn(&th[SHARED], SHARED);
	wait_ready(4);
	if (set_up(MAIN))
		tree_fail("main thread set-up: %m");
	tree_ready(0);
	test_waitsig();

	check_self(MAIN, mine, sizeof(mine));
	pthread_mutex_lock(&mu);
	phase = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int t = 0; t < MAIN; t++)
		pthread_join(th[t], NULL);
	if (mine[0])
		tree_fail("thread main: %s", mine);
	for (int t = 0; t < MAIN; t++)
		if (verdict[t][0])
			tree_fail("thread %s: %s", tname[t], verdict[t]);
	tree_pass();
}

int main(int argc, char **argv)
{
	struct tree_rec rec;
	pid_t pid;

	test_init(argc, argv);
	if (read_loginuid() == -2)
		skip("no /proc/thread-self/loginuid");
	tree_init();
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		/* tree_fork set SIGKILL: the main thread's own, as want[MAIN] says. */
		child();
	}
	tree_barrier_wait(1, &rec);

	test_daemon();
	test_waitsig();

	tree_finish(pid, "child");
	pass();
}
