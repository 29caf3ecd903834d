// SPDX-License-Identifier: GPL-2.0
/*
 * thread_cgroup: a thread moved itself into a pids cgroup of its own (cgroup
 * v1 places threads one by one: its tid into "tasks"); the main thread stays
 * where the process started. After restore each is where it was.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "zdtm.h"

static char base[4300], mine[4400], want_main[4300], want_thread[4400];
static char thread_err[9000];
static volatile int phase; /* 1: set up, 2: check, 3: checked */

static int put(const char *dir, const char *file, const char *text)
{
	char path[4400];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	r = write(fd, text, strlen(text)) < 0 ? -1 : 0;
	close(fd);
	return r;
}

/* The calling thread's path in the pids hierarchy. */
static int pids_path(char *buf, size_t len)
{
	char text[8192], *p;

	if (read_file("/proc/thread-self/cgroup", text, sizeof(text)) < 0 ||
	    !(p = strstr(text, ":pids:")))
		return -1;
	p += 6;
	p[strcspn(p, "\n")] = 0;
	snprintf(buf, len, "%s", p);
	return 0;
}

static void *thread_fn(void *arg)
{
	char path[4200];

	(void)arg;
	if (put(mine, "tasks", "0"))
		snprintf(thread_err, sizeof(thread_err), "cannot enter %s: %m", mine);
	__atomic_store_n(&phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 2)
		usleep(1000);
	if (!thread_err[0] && (pids_path(path, sizeof(path)) || strcmp(path, want_thread)))
		snprintf(thread_err, sizeof(thread_err), "thread in pids cgroup %s, expected %s",
			 path, want_thread);
	put(base, "tasks", "0");
	__atomic_store_n(&phase, 3, __ATOMIC_RELEASE);
	return NULL;
}

int main(int argc, char **argv)
{
	char path[4200];
	struct stat st;
	pthread_t th;

	test_init(argc, argv);
	if (stat("/sys/fs/cgroup/pids", &st) || pids_path(path, sizeof(path)))
		skip("no cgroup v1 pids hierarchy");
	snprintf(base, sizeof(base), "/sys/fs/cgroup/pids%s", strcmp(path, "/") ? path : "");
	snprintf(mine, sizeof(mine), "%s/nestor-zdtm-thr-%d", base, getpid());
	snprintf(want_main, sizeof(want_main), "%s", path);
	snprintf(want_thread, sizeof(want_thread), "%s/nestor-zdtm-thr-%d",
		 strcmp(path, "/") ? path : "", getpid());
	if (mkdir(mine, 0755))
		skip("cannot make a cgroup: %m");
	if (pthread_create(&th, NULL, thread_fn, NULL)) {
		rmdir(mine);
		fail("pthread_create failed");
	}
	while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 1)
		usleep(1000);
	test_daemon();
	test_waitsig();

	__atomic_store_n(&phase, 2, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	rmdir(mine);
	if (thread_err[0])
		fail("%s", thread_err);
	if (pids_path(path, sizeof(path)) || strcmp(path, want_main))
		fail("main thread in pids cgroup %s, expected %s", path, want_main);
	pass();
}
