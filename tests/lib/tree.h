/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tree: header-only helpers for the tests whose state spans several tasks.
 *
 * The root (the pid the runner dumps) decides the result; every other task
 * reports to its parent. A child forked with tree_fork() fails through
 * tree_fail(): the message goes to WORKDIR/verdict.PID (PID as recorded
 * before the checkpoint) and the task exits with status 1; its parent's
 * tree_collect() turns that into its own failure, up to the root, whose
 * tree_fail() is fail(). A status the child did not choose (a signal, a
 * timeout, ECHILD because the pid is not a child any more) fails too.
 *
 * Set-up barrier: tree_barrier_init() makes a pipe before the first fork;
 * each task writes one record with tree_ready() once its state is in place
 * (closing its copies, so no pipe is left for the checkpoint), and the root
 * reads them all in tree_barrier_wait() before test_daemon().
 *
 * Stop: the root forwards SIGTERM (tree_stop()) after its own
 * test_waitsig(); children inherit the library's SIGTERM handler and wait
 * in test_waitsig() too. Every wait is bounded by TREE_TIMEOUT_MS.
 *
 * Clean-up: tree_init() registers an exit hook in the root that SIGKILLs
 * every task whose argv names WORKDIR (the runner's own test for "ours"),
 * so pass() and fail() never leave a task behind; tree_fork() also sets
 * PR_SET_PDEATHSIG(SIGKILL) for the case where the root is killed.
 *
 * Children must never call fail(), pass() or exit(): only tree_fail() and
 * tree_pass() (both _exit). Do not use these helpers in CLONE_VM children:
 * they share the statics below with their parent; tree_vm_* at the end is
 * their reporting path instead.
 *
 * Also here: bounded reads (tree_read_exact), a wait for a task to sleep
 * in a given syscall before the checkpoint (tree_wait_syscall), and
 * tree_clone() for children sharing parts of the root.
 */
#ifndef ZDTM_TREE_H
#define ZDTM_TREE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

#define TREE_TIMEOUT_MS 5000

/* Ids of one task, taken before the checkpoint and compared after. */
struct tree_ids {
	pid_t pid, ppid, pgid, sid;
};

/* What tree_ready() sends up the barrier pipe. */
struct tree_rec {
	int tag;
	struct tree_ids ids;
};

static const char *tree_name = "root";
static pid_t tree_self;
static bool tree_is_child;
static int tree_bar[2] = {-1, -1};

static inline long tree_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void tree_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline void __attribute__((noreturn)) tree_vfail(const char *fmt, va_list ap)
{
	char msg[1536], path[4096];
	int fd, n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!tree_is_child)
		fail("%s", msg);
	snprintf(path, sizeof(path), "%s/verdict.%d", test_dir, tree_self);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		n = dprintf(fd, "%s: %s", tree_name, msg);
		(void)n;
		close(fd);
	}
	dprintf(2, "%s (pid %d): FAIL: %s\n", tree_name, tree_self, msg);
	_exit(1);
}

/* fail() in the root; in a child: verdict file and exit status 1. */
static inline void __attribute__((noreturn, format(printf, 1, 2))) tree_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tree_vfail(fmt, ap);
}

static inline void __attribute__((noreturn)) tree_pass(void)
{
	if (!tree_is_child)
		pass();
	_exit(0);
}

static inline bool tree_ours(const char *pid)
{
	char path[300], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* argv[1] follows the first NUL: the test's WORKDIR. */
	n = strlen(buf) + 1;
	return n < (ssize_t)sizeof(buf) && !strcmp(buf + n, test_dir);
}

static inline void tree_kill_ours(void)
{
	struct dirent *de;
	pid_t self = getpid();
	DIR *d;

	if (tree_is_child)
		return;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && atoi(de->d_name) != self &&
		    tree_ours(de->d_name))
			kill(atoi(de->d_name), SIGKILL);
	closedir(d);
}

/* After test_init(), in the root. */
static inline void tree_init(void)
{
	tree_self = getpid();
	if (atexit(tree_kill_ours))
		fail("atexit failed");
}

static inline void tree_ids_get(struct tree_ids *ret)
{
	ret->pid = getpid();
	ret->ppid = getppid();
	ret->pgid = getpgid(0);
	ret->sid = getsid(0);
}

/* The caller's ids now against those recorded before the checkpoint. */
static inline void tree_ids_check(const struct tree_ids *want)
{
	struct tree_ids now;

	tree_ids_get(&now);
	if (memcmp(&now, want, sizeof(now)))
		tree_fail("pid %d ppid %d pgid %d sid %d, expected pid %d ppid %d pgid %d sid %d",
			  now.pid, now.ppid, now.pgid, now.sid, want->pid, want->ppid, want->pgid,
			  want->sid);
}

static inline void tree_barrier_init(void)
{
	if (pipe2(tree_bar, O_CLOEXEC))
		tree_fail("pipe: %m");
}

/* Sends this task's record; a task sharing the root's fd table stops here. */
static inline void tree_ready_write(int tag)
{
	struct tree_rec rec = {.tag = tag};

	tree_ids_get(&rec.ids);
	if (write(tree_bar[1], &rec, sizeof(rec)) != sizeof(rec))
		tree_fail("barrier write: %m");
}

/* In a child (or any task but the root): state is set up. */
static inline void tree_ready(int tag)
{
	tree_ready_write(tag);
	close(tree_bar[0]);
	close(tree_bar[1]);
	tree_bar[0] = tree_bar[1] = -1;
}

/*
 * First thing in a new child (fork, or clone without CLONE_VM): who it is
 * for tree_fail(), and PR_SET_PDEATHSIG(SIGKILL) unless pdeath is false
 * (orphans-to-be must survive their parent).
 */
/* The caller's pid as the machine's /proc names it (getpid() in a pid namespace of its own
 * would say 1): what verdict files are named by. */
static inline pid_t tree_proc_pid(void)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? atoi(buf) : getpid();
}

static inline void tree_enter_child(const char *name, pid_t parent, bool pdeath)
{
	tree_name = name;
	tree_self = tree_proc_pid();
	tree_is_child = true;
	if (pdeath && (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent))
		_exit(1);
}

/* Forks a child that reports through tree_fail()/tree_pass(). */
static inline pid_t tree_fork_opt(const char *name, bool pdeath)
{
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid < 0)
		tree_fail("fork %s: %m", name);
	if (pid == 0)
		tree_enter_child(name, parent, pdeath);
	return pid;
}

static inline pid_t tree_fork(const char *name)
{
	return tree_fork_opt(name, true);
}

/* ", first failure: ..." from any child's verdict file, or "". */
static inline const char *tree_any_verdict(void)
{
	static char msg[1700];
	char path[4096], text[1600];
	struct dirent *de;
	DIR *d = opendir(test_dir);

	msg[0] = '\0';
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "verdict.", 8)) {
			snprintf(path, sizeof(path), "%s/%s", test_dir, de->d_name);
			if (read_file(path, text, sizeof(text)) > 0) {
				snprintf(msg, sizeof(msg), ", first failure: %s", text);
				break;
			}
		}
	if (d)
		closedir(d);
	return msg;
}

/* Root: every task has called tree_ready(); n records into ret (or NULL). */
static inline void tree_barrier_wait(int n, struct tree_rec *ret)
{
	long deadline = tree_now_ms() + TREE_TIMEOUT_MS;
	struct tree_rec rec;

	for (int i = 0; i < n; i++) {
		struct pollfd pfd = {.fd = tree_bar[0], .events = POLLIN};
		long left = deadline - tree_now_ms();
		ssize_t r;

		if (left < 0)
			tree_fail("set-up: %d of %d tasks ready after %d ms%s", i, n,
				  TREE_TIMEOUT_MS, tree_any_verdict());
		/* A child that failed in set-up ends the wait at once. */
		if (poll(&pfd, 1, left < 20 ? left : 20) != 1) {
			if (*tree_any_verdict())
				tree_fail("set-up: %d of %d tasks ready%s", i, n,
					  tree_any_verdict());
			i--;
			continue;
		}
		r = read(tree_bar[0], &rec, sizeof(rec));
		if (r != sizeof(rec))
			tree_fail("set-up: %d of %d tasks ready, then a short read", i, n);
		if (ret)
			ret[i] = rec;
	}
	/* Only now: a child sharing the fd table writes through these very fds. */
	close(tree_bar[0]);
	close(tree_bar[1]);
	tree_bar[0] = tree_bar[1] = -1;
}

/*
 * clone(flags | SIGCHLD) onto a fresh 256 KiB stack. Without CLONE_VM, fn
 * starts with tree_enter_child(). With CLONE_VM, the child shares the
 * statics above (and glibc's thread data) with its parent: it must use
 * none of these helpers, only plain syscalls, and report through memory.
 */
static inline pid_t tree_clone(int (*fn)(void *), int flags, void *arg)
{
	size_t size = 256 * 1024;
	char *stack;
	pid_t pid;

	stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		     -1, 0);
	if (stack == MAP_FAILED)
		tree_fail("mmap stack: %m");
	pid = clone(fn, stack + size, flags | SIGCHLD, arg);
	if (pid < 0)
		tree_fail("clone(%#x): %m", flags);
	return pid;
}

/* Waits for pid (with waitpid flags) at most timeout_ms: 0 or -errno. */
static inline int tree_wait(pid_t pid, int *status, int flags, long timeout_ms)
{
	long deadline = tree_now_ms() + timeout_ms;

	for (;;) {
		pid_t r = waitpid(pid, status, flags | WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (tree_now_ms() > deadline)
			return -ETIMEDOUT;
		tree_sleep_ms(5);
	}
}

/* Like tree_wait() with waitid(): sees a zombie without reaping it. */
static inline int tree_wait_zombie(pid_t pid, long timeout_ms)
{
	long deadline = tree_now_ms() + timeout_ms;

	for (;;) {
		siginfo_t si = {};

		if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT | WNOHANG))
			return -errno;
		if (si.si_pid == pid)
			return 0;
		if (tree_now_ms() > deadline)
			return -ETIMEDOUT;
		tree_sleep_ms(5);
	}
}

static inline void tree_stop(pid_t pid, const char *name)
{
	if (kill(pid, SIGTERM))
		tree_fail("cannot signal %s (pid %d): %m", name, pid);
}

/* Reaps a child told to verify; its failure becomes the caller's. */
static inline void tree_collect(pid_t pid, const char *name)
{
	char path[4096], msg[1600];
	int status, r;

	r = tree_wait(pid, &status, 0, TREE_TIMEOUT_MS);
	if (r == -ETIMEDOUT)
		tree_fail("%s (pid %d) gave no verdict within %d ms", name, pid, TREE_TIMEOUT_MS);
	if (r == -ECHILD)
		tree_fail("%s (pid %d) is not a child of %s (pid %d) any more", name, pid,
			  tree_name, getpid());
	if (r)
		tree_fail("waitpid %s (pid %d): %s", name, pid, strerror(-r));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	snprintf(path, sizeof(path), "%s/verdict.%d", test_dir, pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1 && read_file(path, msg, sizeof(msg)) > 0)
		tree_fail("%s", msg);
	/* A child in a pid namespace below ours names its verdict by another number. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1 && *tree_any_verdict())
		tree_fail("%s (pid %d) failed%s", name, pid, tree_any_verdict());
	if (WIFSIGNALED(status))
		tree_fail("%s (pid %d) killed by signal %d", name, pid, WTERMSIG(status));
	tree_fail("%s (pid %d) exited with status %d and no verdict", name, pid,
		  WEXITSTATUS(status));
}

/* Reads exactly len bytes from a stream (bounded wait). */
static inline void tree_read_exact(int fd, void *buf, size_t len, const char *what)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t n = 0;

	while (n < len) {
		ssize_t r;

		/* A peer that gave up explains why in its verdict: pass that on. */
		if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1)
			tree_fail("%s: %zu of %zu bytes, then nothing for %d ms%s", what, n, len,
				  TREE_TIMEOUT_MS, tree_any_verdict());
		r = read(fd, (char *)buf + n, len - n);
		if (r == 0)
			tree_fail("%s: %zu of %zu bytes, then EOF%s", what, n, len,
				  tree_any_verdict());
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			const char *err = strerror(errno);

			tree_fail("%s: %zu of %zu bytes, then %s%s", what, n, len, err,
				  tree_any_verdict());
		}
		if (r > 0)
			n += r;
	}
}

/* Nothing more to read now. */
static inline void tree_expect_empty(int fd, const char *what)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	if (poll(&pfd, 1, 0) != 0)
		tree_fail("%s: readable (revents %#x), expected nothing more", what, pfd.revents);
}

/* tree_stop() then tree_collect(). */
static inline void tree_finish(pid_t pid, const char *name)
{
	tree_stop(pid, name);
	tree_collect(pid, name);
}

/* First number of /proc/PID/task/TID/syscall: the syscall it sleeps in. */
static inline long tree_syscall_nr(pid_t pid, pid_t tid)
{
	char path[128], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -2;
	if (!strncmp(buf, "running", 7))
		return -1;
	return strtol(buf, NULL, 10);
}

/* Waits (bounded) until a task sleeps in syscall nr, so the dump sees it there. */
static inline void tree_wait_syscall(pid_t pid, pid_t tid, long nr, const char *what)
{
	long deadline = tree_now_ms() + TREE_TIMEOUT_MS;
	char path[128], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	for (;;) {
		/* Sleeping, not just passing through on its way in. */
		if (tree_syscall_nr(pid, tid) == nr && read_file(path, buf, sizeof(buf)) > 0 &&
		    (p = strrchr(buf, ')')) && p[2] == 'S')
			return;
		if (tree_now_ms() > deadline)
			tree_fail("%s (tid %d) not asleep in syscall %ld after %d ms (now %ld)",
				  what, tid, nr, TREE_TIMEOUT_MS, tree_syscall_nr(pid, tid));
		tree_sleep_ms(2);
	}
}

/*
 * Reporting for CLONE_VM children: they write into this shared struct and
 * _exit(); the parent reads it after tree_vm_collect(). tree_vm_wait()
 * polls go, so a child with a memory of its own (a broken restore) never
 * sees it and times out in tree_vm_collect().
 */
static struct {
	volatile int ready, go;
	char msg[512];
} tree_vm;

static inline void __attribute__((noreturn, format(printf, 1, 2)))
tree_vm_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tree_vm.msg, sizeof(tree_vm.msg), fmt, ap);
	va_end(ap);
	_exit(1);
}

static inline void tree_vm_wait(void)
{
	struct timespec ts = {0, 1000000};

	while (!tree_vm.go)
		nanosleep(&ts, NULL);
}

/* Parent: waits (bounded) until the child has set ready. */
static inline void tree_vm_ready(pid_t pid)
{
	long deadline = tree_now_ms() + TREE_TIMEOUT_MS;
	int status;

	while (!tree_vm.ready) {
		if (tree_wait(pid, &status, 0, 0) == 0)
			fail("child (pid %d) died in set-up, status %#x: %s", pid, status,
			     tree_vm.msg);
		if (tree_now_ms() > deadline)
			fail("child (pid %d) not ready after %d ms", pid, TREE_TIMEOUT_MS);
		tree_sleep_ms(2);
	}
}

/* Parent: sets go, reaps the child, fails with its message. */
static inline void tree_vm_collect(pid_t pid, const char *name)
{
	int status, r;

	tree_vm.go = 1;
	r = tree_wait(pid, &status, 0, TREE_TIMEOUT_MS);
	if (r == -ETIMEDOUT)
		fail("%s (pid %d) gave no verdict within %d ms (it does not see the root's "
		     "memory?)",
		     name, pid, TREE_TIMEOUT_MS);
	if (r)
		fail("waitpid %s (pid %d): %s", name, pid, strerror(-r));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("%s (pid %d): status %#x: %s", name, pid, status, tree_vm.msg);
}

#endif
