// SPDX-License-Identifier: GPL-2.0
/*
 * thread_creds: credentials are per thread in the kernel, and raw syscalls
 * change only the calling thread's. Four threads each take credentials of
 * their own (an effective gid; all uids 1000, which clears its
 * capabilities; supplementary groups; a capability dropped from its
 * effective, permitted and bounding sets); the main thread keeps root's.
 * Each thread compares the credential lines of /proc/thread-self/status
 * after restore with those it had before.
 */
#include <linux/capability.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "zdtm.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { EGID, UIDS, GROUPS, CAPS, MAIN, NT };
static const char *const tname[NT] = {"egid", "uids", "groups", "caps", "main"};
static const char *const keys[] = {"\nUid:", "\nGid:", "\nGroups:", "\nCapInh:", "\nCapPrm:",
				   "\nCapEff:", "\nCapBnd:", "\nCapAmb:"};

static char before[NT][1024], verdict[NT][1200];
static volatile int nr_ready, go;

/* The credential lines of the calling thread, one after the other. */
static int creds_text(char *out, size_t len)
{
	char st[4096];
	size_t n = 0;

	if (read_file("/proc/thread-self/status", st, sizeof(st)) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *p = strstr(st, keys[i]);
		int l;

		if (!p)
			return -1;
		l = strcspn(p + 1, "\n");
		n += snprintf(out + n, len - n, "%.*s|", l, p + 1);
	}
	return 0;
}

static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[cap / 32].effective &= ~(1u << (cap % 32));
	d[cap / 32].permitted &= ~(1u << (cap % 32));
	if (syscall(SYS_capset, &h, d))
		return -1;
	return prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0);
}

static int set_up(int t)
{
	const gid_t groups[2] = {5, 7};

	switch (t) {
	case EGID: return syscall(SYS_setresgid, -1, 4321, -1);
	case UIDS: return syscall(SYS_setresuid, 1000, 1000, 1000);
	case GROUPS: return syscall(SYS_setgroups, 2, groups);
	case CAPS: return drop_cap(CAP_NET_RAW);
	}
	return 0;
}

static void *thread_fn(void *arg)
{
	int t = (int)(long)arg;
	char now[1024];

	if (set_up(t) || creds_text(before[t], sizeof(before[t])))
		snprintf(verdict[t], sizeof(verdict[t]), "set-up failed: %m");
	__atomic_add_fetch(&nr_ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (!verdict[t][0] && (creds_text(now, sizeof(now)) || strcmp(now, before[t])))
		snprintf(verdict[t], sizeof(verdict[t]), "credentials %s, expected %s", now,
			 before[t]);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[MAIN];
	sigset_t term, old;
	char now[1024];

	test_init(argc, argv);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	for (int t = 0; t < MAIN; t++)
		if (pthread_create(&th[t], NULL, thread_fn, (void *)(long)t))
			fail("pthread_create failed");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (__atomic_load_n(&nr_ready, __ATOMIC_ACQUIRE) < MAIN)
		usleep(1000);
	if (creds_text(before[MAIN], sizeof(before[MAIN])))
		fail("cannot read /proc/thread-self/status");

	test_daemon();
	test_waitsig();

	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	for (int t = 0; t < MAIN; t++)
		pthread_join(th[t], NULL);
	if (creds_text(now, sizeof(now)) || strcmp(now, before[MAIN]))
		fail("thread main: credentials %s, expected %s", now, before[MAIN]);
	for (int t = 0; t < MAIN; t++)
		if (verdict[t][0])
			fail("thread %s: %s", tname[t], verdict[t]);
	pass();
}
