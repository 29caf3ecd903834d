// SPDX-License-Identifier: GPL-2.0
/*
 * cgroupns: cgroup namespaces rooted where they were made. a moves into a
 * cgroup of its own (pids hierarchy), unshares a cgroup namespace there,
 * then moves into a child cgroup (which it sees as /sub) and forks a1,
 * which shares the namespace; b unshares one in the root's cgroups, then
 * moves into a's cgroup (which it sees by its path below the root's). After
 * restore each sees /proc/self/cgroup as before (every hierarchy: the
 * namespace's root in each is kept), a and a1 share one namespace, b has
 * another, and the root is in the runner's.
 */
#include <sched.h>
#include <sys/stat.h>

#include "tree.h"

static char base[4200], mine[4300], sub[4400];

static int put(const char *dir, const char *file, const char *text)
{
	char path[4500];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = write(fd, text, strlen(text)) < 0 ? -1 : 0;
	close(fd);
	return r;
}

static int pids_path(char *buf, size_t len)
{
	char text[16384], *p;

	if (read_file("/proc/self/cgroup", text, sizeof(text)) < 0 || !(p = strstr(text, ":pids:")))
		return -1;
	p += 6;
	p[strcspn(p, "\n")] = 0;
	snprintf(buf, len, "%s", p);
	return 0;
}

static ino_t cgns_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", pid);
	if (stat(path, &st))
		fail("stat %s: %m", path);
	return st.st_ino;
}

/* The pids as the machine's /proc names them (a, a1, b), each told by itself. */
static pid_t seen[3];

static void tell(int ch[2], int who)
{
	pid_t rec[2] = { who, tree_proc_pid() };

	if (write(ch[1], rec, sizeof(rec)) != sizeof(rec))
		tree_fail("write: %m");
	close(ch[0]);
	close(ch[1]);
}

static void leave(void)
{
	rmdir(sub);
	rmdir(mine);
}

/* Sees its cgroups as before after restore, or fails. */
static void member(int tag, const char *want_pids)
{
	static char before[16384], after[16384];
	char path[4200];

	if (read_file("/proc/self/cgroup", before, sizeof(before)) < 0 ||
	    pids_path(path, sizeof(path)))
		tree_fail("read /proc/self/cgroup: %m");
	if (strcmp(path, want_pids))
		tree_fail("set-up: inside, the pids cgroup is %s, expected %s", path, want_pids);
	tree_ready(tag);
	test_waitsig();
	if (read_file("/proc/self/cgroup", after, sizeof(after)) < 0)
		tree_fail("read /proc/self/cgroup: %m");
	if (strcmp(before, after))
		tree_fail("/proc/self/cgroup inside differs after restore:\n%s---\n%s", before, after);
	tree_pass();
}

int main(int argc, char **argv)
{
	char path[4096], want[4400];
	pid_t a, b;
	int ch[2];
	struct stat st;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	if (stat("/sys/fs/cgroup/pids", &st) || pids_path(path, sizeof(path)))
		skip("no cgroup v1 pids hierarchy");
	snprintf(base, sizeof(base), "/sys/fs/cgroup/pids%s", strcmp(path, "/") ? path : "");
	snprintf(mine, sizeof(mine), "%s/nestor-cgns-%d", base, tree_proc_pid());
	snprintf(sub, sizeof(sub), "%s/sub", mine);
	if (mkdir(mine, 0755) || mkdir(sub, 0755))
		skip("cannot make a cgroup: %m");
	atexit(leave);
	if (pipe(ch))
		fail("pipe: %m");
	a = tree_fork("a");
	if (a == 0) {
		pid_t a1;

		if (put(mine, "cgroup.procs", "0") || unshare(CLONE_NEWCGROUP) ||
		    put(sub, "cgroup.procs", "0"))
			tree_fail("set-up of a: %m");
		if ((a1 = tree_fork("a1")) == 0) {
			tell(ch, 1);
			member(2, "/sub");
		}
		tell(ch, 0);
		member(1, "/sub");
	}
	b = tree_fork("b");
	if (b == 0) {
		tell(ch, 2);
		if (unshare(CLONE_NEWCGROUP) || put(mine, "cgroup.procs", "0"))
			tree_fail("set-up of b: %m");
		snprintf(want, sizeof(want), "%s", strrchr(mine, '/'));
		member(3, want);
	}
	close(ch[1]);
	tree_barrier_wait(3, NULL);
	for (int i = 0; i < 3; i++) {
		pid_t rec[2];

		tree_read_exact(ch[0], rec, sizeof(rec), "the pids of a, a1 and b");
		if (rec[0] < 0 || rec[0] > 2)
			fail("set-up: a bad record");
		seen[rec[0]] = rec[1];
	}
	close(ch[0]);
	test_daemon();
	test_waitsig();
	if (cgns_of(seen[0]) != cgns_of(seen[1]) || cgns_of(seen[0]) == cgns_of(seen[2]) ||
	    cgns_of(seen[0]) == cgns_of(tree_proc_pid()) ||
	    cgns_of(seen[2]) == cgns_of(tree_proc_pid()))
		fail("cgroup namespaces: a and a1 should share one, b have another, the root neither");
	/* The children answer from their own namespaces; a1 is a's. */
	tree_finish(a, "a");
	tree_finish(b, "b");
	pass();
}
