// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_nested: three pid namespaces nested inside the dumped tree.
 *
 *   root (the runner's namespace)
 *   └── l1, init of ns1 (clone CLONE_NEWPID)
 *       ├── a1 (pid 2 in ns1)
 *       └── l2, init of ns2
 *           ├── z, a zombie l2 has not reaped (exit status 7)
 *           ├── o, an orphan l2 adopted (its parent exited)
 *           └── l3, init of ns3
 *               └── x
 *
 * Every task records its whole pid vector (NSpid of the machine's
 * /proc/self/status), getpid() and getppid() before the checkpoint and
 * compares them after. l2 then reaps z (status 7) and o's parent is l2
 * (1); x signals its init with SIGUSR1, which an init ignores (it has no
 * handler), and l3 lives on. x has a second thread, whose id vector
 * (/proc/thread-self/status) comes back whole too.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

#include "tree.h"

struct me {
	char nspid[128];
	pid_t pid, ppid;
};

static void nspid_of(const char *path, char *buf, size_t len)
{
	char st[4096], *p, *e;

	if (read_file(path, st, sizeof(st)) <= 0 || !(p = strstr(st, "NSpid:")) ||
	    !(e = strchr(p, '\n')))
		tree_fail("cannot read NSpid");
	snprintf(buf, len, "%.*s", (int)(e - p - 6), p + 6);
}

static void nspid(char *buf, size_t len)
{
	nspid_of("/proc/self/status", buf, len);
}

static void me_get(struct me *m)
{
	nspid(m->nspid, sizeof(m->nspid));
	m->pid = getpid();
	m->ppid = getppid();
}

static void me_check(const struct me *want, int levels)
{
	struct me now;
	int n = 0;

	me_get(&now);
	if (strcmp(now.nspid, want->nspid) || now.pid != want->pid || now.ppid != want->ppid)
		tree_fail("NSpid%s pid %d ppid %d, expected NSpid%s pid %d ppid %d", now.nspid,
			  now.pid, now.ppid, want->nspid, want->pid, want->ppid);
	for (char *p = now.nspid; *p; p++)
		n += *p == '\t';
	if (n != levels)
		tree_fail("NSpid%s: %d levels, expected %d", now.nspid, n, levels);
}

/* Records itself, says ready, waits for the end; the caller checks. */
static void settle(struct me *m, int tag)
{
	me_get(m);
	tree_ready(tag);
	test_waitsig();
}

static volatile int x_thread_state; /* 1: recorded, 2: check now, 3: checked */
static char x_thread_vec[128], x_thread_msg[300];

static void *x_thread(void *arg)
{
	char now[128];

	(void)arg;
	nspid_of("/proc/thread-self/status", x_thread_vec, sizeof(x_thread_vec));
	x_thread_state = 1;
	while (x_thread_state != 2)
		tree_sleep_ms(1);
	nspid_of("/proc/thread-self/status", now, sizeof(now));
	if (strcmp(now, x_thread_vec))
		snprintf(x_thread_msg, sizeof(x_thread_msg), "thread: NSpid%s, expected NSpid%s",
			 now, x_thread_vec);
	x_thread_state = 3;
	return NULL;
}

static void x_main(void)
{
	struct me m;
	pthread_t th;

	if (pthread_create(&th, NULL, x_thread, NULL))
		tree_fail("pthread_create failed");
	while (x_thread_state != 1)
		tree_sleep_ms(1);
	settle(&m, 6);
	x_thread_state = 2;
	pthread_join(th, NULL);
	if (x_thread_msg[0])
		tree_fail("%s", x_thread_msg);
	me_check(&m, 4);
	if (m.ppid != 1 || m.pid != 2 || kill(1, SIGUSR1))
		tree_fail("pid %d ppid %d, or kill(1): %m", m.pid, m.ppid);
	tree_pass();
}

static int l3_main(void *arg __attribute__((unused)))
{
	struct me m;
	pid_t x;

	tree_enter_child("l3", 0, true);
	x = tree_fork("x");
	if (x == 0)
		x_main();
	settle(&m, 5);
	me_check(&m, 4);
	if (m.pid != 1 || m.ppid != 0)
		tree_fail("pid %d ppid %d, expected 1 and 0 (an init)", m.pid, m.ppid);
	/* x's SIGUSR1 to its init was dropped: we are still here to collect it. */
	tree_finish(x, "x");
	tree_pass();
}

static int l2_main(void *arg __attribute__((unused)))
{
	struct me m;
	pid_t z, op, o, l3;
	int status, p[2];

	tree_enter_child("l2", 0, true);
	z = fork();
	if (z == 0)
		_exit(7);
	if (z < 0 || pipe(p))
		tree_fail("fork: %m");
	/* op forks o and exits: o is l2's, the init's, from then on. */
	op = tree_fork("op");
	if (op == 0) {
		o = tree_fork_opt("o", false);
		if (o == 0) {
			close(p[0]);
			close(p[1]);
			while (getppid() != 1)
				tree_sleep_ms(1);
			settle(&m, 4);
			me_check(&m, 3);
			if (m.ppid != 1)
				tree_fail("ppid %d, expected 1 (adopted by its init)", m.ppid);
			tree_pass();
		}
		if (write(p[1], &o, sizeof(o)) != sizeof(o))
			tree_fail("write: %m");
		_exit(0);
	}
	close(p[1]);
	tree_read_exact(p[0], &o, sizeof(o), "the orphan's pid");
	close(p[0]);
	if (tree_wait(op, &status, 0, TREE_TIMEOUT_MS) || status)
		tree_fail("op did not exit cleanly");
	if (tree_wait_zombie(z, TREE_TIMEOUT_MS))
		tree_fail("z did not die");
	l3 = tree_clone(l3_main, CLONE_NEWPID, NULL);
	settle(&m, 3);
	me_check(&m, 3);
	if (m.pid != 1 || m.ppid != 0)
		tree_fail("pid %d ppid %d, expected 1 and 0 (an init)", m.pid, m.ppid);
	if (waitpid(z, &status, WNOHANG) != z || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		tree_fail("zombie %d: not reaped with status 7 (status %#x)", z, status);
	tree_finish(o, "o");
	tree_finish(l3, "l3");
	tree_pass();
}

static int l1_main(void *arg __attribute__((unused)))
{
	struct me m;
	pid_t a1, l2;

	tree_enter_child("l1", 0, true);
	a1 = tree_fork("a1");
	if (a1 == 0) {
		settle(&m, 2);
		me_check(&m, 2);
		if (m.pid != 2 || m.ppid != 1)
			tree_fail("pid %d ppid %d, expected 2 and 1", m.pid, m.ppid);
		tree_pass();
	}
	l2 = tree_clone(l2_main, CLONE_NEWPID, NULL);
	settle(&m, 1);
	me_check(&m, 2);
	if (m.pid != 1 || m.ppid != 0)
		tree_fail("pid %d ppid %d, expected 1 and 0 (an init)", m.pid, m.ppid);
	tree_finish(a1, "a1");
	tree_finish(l2, "l2");
	tree_pass();
}

int main(int argc, char **argv)
{
	struct me m;
	pid_t l1;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	l1 = tree_clone(l1_main, CLONE_NEWPID, NULL);
	tree_barrier_wait(6, NULL);
	me_get(&m);
	test_daemon();
	test_waitsig();
	me_check(&m, 1);
	tree_finish(l1, "l1");
	pass();
}
