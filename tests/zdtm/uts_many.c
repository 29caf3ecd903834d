// SPDX-License-Identifier: GPL-2.0
/*
 * uts_many: several UTS namespaces in one tree. Child a unshares one
 * ("uts-a"/"dom-a"), child b another ("uts-b"/"dom-b") and forks b1,
 * which inherits it; child c enters a's with setns. The root stays in the
 * runner's, but for one of its threads, which unshares one alone
 * ("uts-thread"). After restore each task has its names, a and c share one
 * namespace (a name a sets is seen by c), b and b1 another, and neither is
 * the root's, whose names are the machine's as before; the thread has its
 * own names and namespace, the root's main thread not.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "tree.h"

static void check_names(const char *host, const char *dom, const char *when)
{
	struct utsname u;

	if (uname(&u))
		tree_fail("uname: %m");
	if (strcmp(u.nodename, host) || strcmp(u.domainname, dom))
		tree_fail("%s: names %s/%s, expected %s/%s", when, u.nodename, u.domainname, host,
			  dom);
}

static void set_names(const char *host, const char *dom)
{
	if (sethostname(host, strlen(host)) || setdomainname(dom, strlen(dom)))
		tree_fail("sethostname: %m");
}

static ino_t uts_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/uts", pid);
	if (stat(path, &st))
		tree_fail("stat %s: %m", path);
	return st.st_ino;
}

static volatile int thread_tid, thread_done;
static char thread_verdict[200];

/* A thread of the root in a UTS namespace of its own; it checks its names at the end. */
static void *uts_thread(void *arg)
{
	struct utsname u;

	(void)arg;
	if (unshare(CLONE_NEWUTS) || sethostname("uts-thread", 10)) {
		snprintf(thread_verdict, sizeof(thread_verdict), "thread: unshare: %m");
		thread_tid = -1;
		return NULL;
	}
	thread_tid = syscall(SYS_gettid);
	while (!thread_done)
		tree_sleep_ms(1);
	uname(&u);
	if (strcmp(u.nodename, "uts-thread"))
		snprintf(thread_verdict, sizeof(thread_verdict), "thread: hostname %s, expected "
			 "uts-thread", u.nodename);
	return NULL;
}

static ino_t thread_uts(pid_t tid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/task/%d/ns/uts", tid);
	if (stat(path, &st))
		fail("stat %s: %m", path);
	return st.st_ino;
}

/* A child of the root: its names set, then checked after the restore. */
static void child_main(const char *host, const char *dom, int ready_tag)
{
	tree_ready(ready_tag);
	test_waitsig();
	check_names(host, dom, "after restore");
	tree_pass();
}

int main(int argc, char **argv)
{
	struct utsname own;
	pid_t a, b, c, b1 = 0;
	int sync[2];

	test_init(argc, argv);
	tree_init();
	if (uname(&own))
		fail("uname: %m");
	tree_barrier_init();
	if (pipe(sync))
		fail("pipe: %m");
	a = tree_fork("a");
	if (a == 0) {
		if (unshare(CLONE_NEWUTS))
			tree_fail("unshare: %m");
		set_names("uts-a", "dom-a");
		close(sync[0]);
		if (write(sync[1], "x", 1) != 1)
			tree_fail("write: %m");
		close(sync[1]);
		tree_ready(1);
		test_waitsig();
		check_names("uts-a", "dom-a", "after restore");
		/* c shares the namespace: it sees this. */
		set_names("uts-a2", "dom-a");
		tree_pass();
	}
	close(sync[1]);
	tree_read_exact(sync[0], &(char){ 0 }, 1, "a's namespace");
	close(sync[0]);
	c = tree_fork("c");
	if (c == 0) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/ns/uts", a);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWUTS))
			tree_fail("setns %s: %m", path);
		close(fd);
		tree_ready(2);
		test_waitsig();
		/* a renames after its own check: wait for it (bounded). */
		for (int i = 0; i < 400; i++) {
			struct utsname u;

			uname(&u);
			if (!strcmp(u.nodename, "uts-a2"))
				tree_pass();
			tree_sleep_ms(10);
		}
		check_names("uts-a2", "dom-a", "after a renamed (shared namespace)");
		tree_pass();
	}
	b = tree_fork("b");
	if (b == 0) {
		if (unshare(CLONE_NEWUTS))
			tree_fail("unshare: %m");
		set_names("uts-b", "dom-b");
		b1 = tree_fork("b1");
		if (b1 == 0)
			child_main("uts-b", "dom-b", 4);
		tree_ready(3);
		test_waitsig();
		check_names("uts-b", "dom-b", "after restore");
		if (uts_of(getpid()) != uts_of(b1))
			tree_fail("b and b1 are in different UTS namespaces");
		tree_finish(b1, "b1");
		tree_pass();
	}
	tree_barrier_wait(4, NULL);
	{
		pthread_t th;

		if (pthread_create(&th, NULL, uts_thread, NULL))
			fail("pthread_create failed");
		while (!thread_tid)
			tree_sleep_ms(1);
		if (thread_tid < 0)
			fail("%s", thread_verdict);
		test_daemon();
		test_waitsig();
		if (thread_uts(thread_tid) == uts_of(getpid()))
			fail("the thread shares the main thread's UTS namespace after restore");
		thread_done = 1;
		pthread_join(th, NULL);
		if (thread_verdict[0])
			fail("%s", thread_verdict);
	}

	check_names(own.nodename, own.domainname, "root after restore");
	if (uts_of(a) != uts_of(c))
		fail("a and c are in different UTS namespaces");
	if (uts_of(a) == uts_of(b) || uts_of(a) == uts_of(getpid()) ||
	    uts_of(b) == uts_of(getpid()))
		fail("a, b and the root should each have a UTS namespace of their own");
	tree_finish(a, "a");
	tree_finish(c, "c");
	tree_finish(b, "b");
	pass();
}
