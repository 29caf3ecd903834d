// SPDX-License-Identifier: GPL-2.0
/*
 * userns_threads: threads of tasks inside a user namespace other than
 * nestor's, whose thread ids the task cannot set at every level itself.
 *
 *   root (the runner's namespaces)
 *   └── a: unshare(CLONE_NEWUSER) (0..999 mapped to 500000), root in it
 *       ├── b, in the runner's pid namespace, two threads
 *       └── (a unshares CLONE_NEWPID) i, the init of that pid namespace
 *           (owned by a's user namespace), two threads
 *
 * One thread of each task takes uid and gid 7 inside for itself alone
 * (the raw setresuid/setresgid: per-thread credentials), the other keeps
 * root. Every thread records its whole NSpid vector
 * (/proc/thread-self/status), its Uid, Gid and CapEff lines before the
 * checkpoint and compares them after.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "tree.h"

struct rec {
	char nspid[128], uid[128], gid[128], cap[64];
};

static void line_of(const char *st, const char *key, char *buf, size_t len)
{
	const char *p = strstr(st, key), *e;

	if (!p || !(e = strchr(p, '\n')))
		tree_fail("no %s in /proc/thread-self/status", key);
	snprintf(buf, len, "%.*s", (int)(e - p), p);
}

static void rec_get(struct rec *r)
{
	char st[4096];

	memset(r, 0, sizeof(*r));
	if (read_file("/proc/thread-self/status", st, sizeof(st)) <= 0)
		tree_fail("cannot read /proc/thread-self/status");
	line_of(st, "NSpid:", r->nspid, sizeof(r->nspid));
	line_of(st, "\nUid:", r->uid, sizeof(r->uid));
	line_of(st, "\nGid:", r->gid, sizeof(r->gid));
	line_of(st, "CapEff:", r->cap, sizeof(r->cap));
}

/* What a thread found, for its task to report (threads cannot tree_fail). */
struct thr {
	pthread_t th;
	int own_uid;
	volatile int state; /* 1: recorded, 2: check now, 3: checked */
	struct rec before;
	char msg[1400];
};

static void *thread_fn(void *arg)
{
	struct thr *t = arg;
	struct rec now;

	if (t->own_uid && (syscall(SYS_setresgid, 7, 7, 7) || syscall(SYS_setresuid, 7, 7, 7)))
		snprintf(t->msg, sizeof(t->msg), "thread setresuid 7: %m");
	rec_get(&t->before);
	t->state = 1;
	while (t->state != 2)
		tree_sleep_ms(1);
	rec_get(&now);
	if (memcmp(&now, &t->before, sizeof(now)))
		snprintf(t->msg, sizeof(t->msg), "thread: %s %s %s %s, expected %s %s %s %s",
			 now.nspid, now.uid, now.gid, now.cap, t->before.nspid, t->before.uid,
			 t->before.gid, t->before.cap);
	t->state = 3;
	return NULL;
}

static void start_threads(struct thr *t)
{
	for (int k = 0; k < 2; k++) {
		t[k].own_uid = k;
		if (pthread_create(&t[k].th, NULL, thread_fn, &t[k]))
			tree_fail("pthread_create failed");
		while (t[k].state != 1)
			tree_sleep_ms(1);
	}
}

static void check_threads(struct thr *t, int levels)
{
	for (int k = 0; k < 2; k++) {
		int n = 0;

		t[k].state = 2;
		pthread_join(t[k].th, NULL);
		if (t[k].msg[0])
			tree_fail("%s", t[k].msg);
		for (char *p = t[k].before.nspid; *p; p++)
			n += *p == '\t';
		if (n != levels)
			tree_fail("thread %s: %d levels, expected %d", t[k].before.nspid, n, levels);
	}
}

static void __attribute__((noreturn)) i_main(void)
{
	static struct thr t[2];
	struct rec me, now;

	start_threads(t);
	rec_get(&me);
	tree_ready(2);
	test_waitsig();
	check_threads(t, 2);
	rec_get(&now);
	if (memcmp(&now, &me, sizeof(me)))
		tree_fail("i: %s %s, expected %s %s", now.nspid, now.uid, me.nspid, me.uid);
	tree_pass();
}

static void __attribute__((noreturn)) b_main(void)
{
	static struct thr t[2];

	start_threads(t);
	tree_ready(3);
	test_waitsig();
	check_threads(t, 1);
	tree_pass();
}

static void __attribute__((noreturn)) a_main(int up)
{
	pid_t host = tree_proc_pid(), i, b;
	char c;

	if (unshare(CLONE_NEWUSER) || write(up, &host, sizeof(host)) != sizeof(host))
		tree_fail("unshare user: %m");
	tree_read_exact(up, &c, 1, "mapped");
	close(up);
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0) || prctl(PR_SET_DUMPABLE, 1))
		tree_fail("setresuid 0: %m");
	b = tree_fork("b");
	if (b == 0)
		b_main();
	if (unshare(CLONE_NEWPID))
		tree_fail("unshare pid: %m");
	i = fork();
	if (i < 0)
		tree_fail("fork: %m");
	if (i == 0) {
		/* Its parent is outside its pid namespace: getppid() says 0. */
		tree_enter_child("i", 0, true);
		i_main();
	}
	tree_ready(1);
	test_waitsig();
	tree_finish(i, "i");
	tree_finish(b, "b");
	tree_pass();
}

static void write_to(pid_t pid, const char *file, const char *s)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		tree_fail("write %s: %m", path);
	close(fd);
}

int main(int argc, char **argv)
{
	pid_t a, host;
	int sk[2];

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		fail("socketpair: %m");
	a = tree_fork("a");
	if (a == 0) {
		close(sk[0]);
		a_main(sk[1]);
	}
	close(sk[1]);
	tree_read_exact(sk[0], &host, sizeof(host), "a unshared");
	write_to(host, "gid_map", "0 500000 1000\n");
	write_to(host, "uid_map", "0 500000 1000\n");
	if (write(sk[0], "m", 1) != 1)
		fail("write: %m");
	close(sk[0]);
	tree_barrier_wait(3, NULL);
	test_daemon();
	test_waitsig();
	tree_finish(a, "a");
	pass();
}
