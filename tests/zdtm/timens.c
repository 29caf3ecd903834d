// SPDX-License-Identifier: GPL-2.0
/*
 * timens: two time namespaces in one tree. Helper h unshares one with
 * CLOCK_MONOTONIC +1000 s and CLOCK_BOOTTIME +2000 s, forks a (in it),
 * which forks a1 (inherited), then goes back to the root's namespace
 * (setns) and unshares another (+5000 s monotonic) for b. After restore a,
 * a1 and b read their clocks with the same offsets to the root's (within a
 * second either way), a and a1 share one namespace, and the root and h
 * are in the runner's.
 */
#include <sched.h>
#include <sys/stat.h>
#include <time.h>

#include "tree.h"

#define CLONE_NEWTIME_ 0x80

static long clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec;
}

static ino_t ns_of(pid_t pid, const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	if (stat(path, &st))
		tree_fail("stat %s: %m", path);
	return st.st_ino;
}

static void set_offsets(long mono, long boot)
{
	char buf[100];
	int fd, n;

	if (unshare(CLONE_NEWTIME_))
		tree_fail("unshare(CLONE_NEWTIME): %m");
	n = snprintf(buf, sizeof(buf), "monotonic %ld 0\nboottime %ld 0\n", mono, boot);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, n) != n)
		tree_fail("timens_offsets: %m");
	close(fd);
}

/* Its clocks against the machine's (the root's, which does not move). */
static void check_offsets(const char *who, long mono, long boot, long host_mono, long host_boot)
{
	long m = clock_s(CLOCK_MONOTONIC) - host_mono, b = clock_s(CLOCK_BOOTTIME) - host_boot;

	if (m < mono - 2 || m > mono + 2 || b < boot - 2 || b > boot + 2)
		tree_fail("%s: clocks %+ld s and %+ld s from the machine's, expected %+ld and %+ld",
			  who, m, b, mono, boot);
}

/* The machine's clocks, passed down before each check. */
static int clk[2];

static void clocked(const char *who, int tag, long mono, long boot)
{
	long host[2];

	tree_ready(tag);
	test_waitsig();
	tree_read_exact(clk[0], host, sizeof(host), "the machine's clocks");
	check_offsets(who, mono, boot, host[0], host[1]);
	tree_pass();
}

int main(int argc, char **argv)
{
	pid_t h, a = 0, b = 0, pids[2];
	int p[2];

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	if (pipe(clk) || pipe(p))
		fail("pipe: %m");
	h = tree_fork("h");
	if (h == 0) {
		pid_t a1;
		int own = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);

		set_offsets(1000, 2000);
		a = tree_fork("a");
		if (a == 0) {
			close(own);
			a1 = tree_fork("a1");
			if (a1 == 0)
				clocked("a1", 3, 1000, 2000);
			tree_ready(2);
			test_waitsig();
			if (ns_of(getpid(), "time") != ns_of(a1, "time"))
				tree_fail("a and a1 are in different time namespaces");
			{
				long host[2];

				tree_read_exact(clk[0], host, sizeof(host), "the machine's clocks");
				check_offsets("a", 1000, 2000, host[0], host[1]);
			}
			tree_finish(a1, "a1");
			tree_pass();
		}
		if (own < 0 || setns(own, CLONE_NEWTIME_))
			tree_fail("back to the root's time namespace: %m");
		close(own);
		set_offsets(5000, 0);
		b = tree_fork("b");
		if (b == 0)
			clocked("b", 4, 5000, 0);
		own = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
		if (own < 0 || setns(own, CLONE_NEWTIME_))
			tree_fail("back to the root's time namespace: %m");
		close(own);
		pids[0] = a;
		pids[1] = b;
		if (write(p[1], pids, sizeof(pids)) != sizeof(pids))
			tree_fail("write: %m");
		tree_ready(1);
		test_waitsig();
		tree_finish(a, "a");
		tree_finish(b, "b");
		tree_pass();
	}
	tree_barrier_wait(4, NULL);
	tree_read_exact(p[0], pids, sizeof(pids), "the pids of a and b");
	close(p[1]);
	test_daemon();
	test_waitsig();

	if (ns_of(getpid(), "time") != ns_of(h, "time") ||
	    ns_of(getpid(), "time") == ns_of(pids[0], "time") ||
	    ns_of(pids[0], "time") == ns_of(pids[1], "time"))
		fail("time namespaces: h should be in the root's, a and b each in one of its own");
	/* One reading of the machine's clocks for each of a, a1, b. */
	for (int i = 0; i < 3; i++) {
		long host[2] = { clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_BOOTTIME) };

		if (write(clk[1], host, sizeof(host)) != sizeof(host))
			fail("write: %m");
	}
	tree_finish(h, "h");
	pass();
}
