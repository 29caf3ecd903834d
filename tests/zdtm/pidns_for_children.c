// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_for_children: the root forks h in its own pid namespace, then
 * unshares CLONE_NEWPID: its pid namespace stays the runner's, but its
 * next children go to a new one. It forks i (init of it, pid 1) and c
 * (pid 2, a sibling of its init, parent outside: ppid 0), which forks g.
 * After restore the root's pid_for_children is i's namespace, h's is the
 * root's, every vector (NSpid) is as before, and a child the root forks
 * now goes to the new namespace (two levels, ppid 0 there).
 */
#include <sched.h>
#include <sys/stat.h>

#include "tree.h"

static void nspid(pid_t pid, char *buf, size_t len)
{
	char path[64], st[4096], *p, *e;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, st, sizeof(st)) <= 0 || !(p = strstr(st, "NSpid:")) ||
	    !(e = strchr(p, '\n')))
		tree_fail("cannot read NSpid of %d", pid);
	snprintf(buf, len, "%.*s", (int)(e - p - 6), p + 6);
}

static ino_t ns_ino(pid_t pid, const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	if (stat(path, &st))
		tree_fail("stat %s: %m", path);
	return st.st_ino;
}

/* A task of the new namespace: pid and ppid as it sees them, kept and checked. */
static void member(int tag, pid_t want_pid, pid_t want_ppid)
{
	tree_ready(tag);
	test_waitsig();
	if (getpid() != want_pid || getppid() != want_ppid)
		tree_fail("pid %d ppid %d, expected %d and %d", getpid(), getppid(), want_pid,
			  want_ppid);
	tree_pass();
}

int main(int argc, char **argv)
{
	char before[4][128], after[128];
	pid_t h, i, c, n, pids[4];
	int status;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	h = tree_fork("h");
	if (h == 0)
		member(1, tree_proc_pid(), getppid());
	if (unshare(CLONE_NEWPID))
		fail("unshare: %m");
	/* No parent-death check: the parent is outside their namespace (ppid 0). */
	i = tree_fork_opt("i", false);
	if (i == 0)
		member(2, 1, 0);
	c = tree_fork_opt("c", false);
	if (c == 0) {
		pid_t g = tree_fork("g");

		if (g == 0)
			member(4, 3, 2);
		tree_ready(3);
		test_waitsig();
		if (getpid() != 2 || getppid() != 0)
			tree_fail("pid %d ppid %d, expected 2 and 0", getpid(), getppid());
		tree_finish(g, "g");
		tree_pass();
	}
	tree_barrier_wait(4, NULL);
	pids[0] = h;
	pids[1] = i;
	pids[2] = c;
	pids[3] = getpid();
	for (int k = 0; k < 4; k++)
		nspid(pids[k], before[k], sizeof(before[k]));
	test_daemon();
	test_waitsig();

	for (int k = 0; k < 4; k++) {
		nspid(pids[k], after, sizeof(after));
		if (strcmp(after, before[k]))
			fail("task %d: NSpid%s, expected NSpid%s", pids[k], after, before[k]);
	}
	if (ns_ino(getpid(), "pid_for_children") != ns_ino(i, "pid") ||
	    ns_ino(getpid(), "pid") == ns_ino(i, "pid") || ns_ino(h, "pid") != ns_ino(getpid(), "pid"))
		fail("pid namespaces: the root's children should go to i's, h be in the root's");
	/* The next child goes where i is. */
	n = fork();
	if (n < 0)
		fail("fork: %m");
	if (n == 0)
		_exit(getpid() != 1 && getppid() == 0 ? 0 : 1);
	if (tree_wait(n, &status, 0, TREE_TIMEOUT_MS) || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("a child forked after restore is not in the new namespace (status %#x)", status);
	tree_finish(h, "h");
	/* An init's exit waits for every task of its namespace to be reaped: c first. */
	tree_finish(c, "c");
	tree_finish(i, "i");
	pass();
}
