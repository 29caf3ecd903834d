// SPDX-License-Identifier: GPL-2.0
/*
 * mntns_copy: mount namespaces that are copies of the runner's (nestor's),
 * differing only in propagation, with peer groups shared across them.
 * a unshares one and makes every mount shared (groups of its own), then
 * /dev unbindable; a1, its child, unshares a copy of a's (peers of a's
 * mounts, /dev still unbindable) and makes /proc private; b unshares one,
 * makes every mount shared, and b1 copies it and makes all slaves of b's;
 * c stays in the runner's. The root records each task's mountinfo as
 * propagation patterns (peer groups renamed in order of first appearance
 * over the whole tree, ids dropped) and compares after restore; then it
 * proves the groups work: a tmpfs mounted in a's namespace shows in a1's
 * (peers) but not in b's, one mounted in b's shows in b1's (slave).
 * c and the root share the runner's namespace, a, a1, b, b1 each have one.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "tree.h"

#define MAX_GROUPS 4096

static uint32_t gfrom[MAX_GROUPS];
static size_t ngroups;

static unsigned label(uint32_t g)
{
	for (size_t i = 0; i < ngroups; i++)
		if (gfrom[i] == g)
			return i + 1;
	if (ngroups == MAX_GROUPS)
		fail("too many peer groups");
	gfrom[ngroups++] = g;
	return ngroups;
}

struct line {
	char *text;
	char point[4096];
	size_t at;
};

/* By mount point, then as listed (a mount on another at the same point after it). */
static int by_point(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int c = strcmp(x->point, y->point);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/*
 * One task's mounts: "point tags" lines, peer groups as labels. Lines go
 * by mount point: mountinfo lists mounts in the order they were made, and
 * a restore makes a proc of the tree's pid namespaces after the copy of
 * the rest (the ns flavour's container has its own /proc).
 */
static void pattern(pid_t pid, char *out, size_t len)
{
	static char text[1 << 20];
	static struct line lines[1024];
	char path[64], *save = NULL;
	size_t o = 0, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	if (read_file(path, text, sizeof(text)) < 0)
		fail("read %s: %m", path);
	out[0] = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (n == 1024 || sscanf(l, "%*s %*s %*s %*s %4095s", lines[n].point) != 1)
			fail("bad mountinfo line %s", l);
		lines[n].text = l;
		lines[n].at = n;
		n++;
	}
	qsort(lines, n, sizeof(*lines), by_point);
	for (size_t i = 0; i < n; i++) {
		char *l = lines[i].text;
		char point[4096], *dash = strstr(l, " - "), *w, *s2 = NULL;
		int field = 0;

		if (!dash || sscanf(l, "%*s %*s %*s %*s %4095s", point) != 1)
			fail("bad mountinfo line %s", l);
		*dash = 0;
		o += snprintf(out + o, len - o, "%s", point);
		for (w = strtok_r(l, " ", &s2); w; w = strtok_r(NULL, " ", &s2), field++) {
			unsigned long g;

			if (field < 6)
				continue;
			if (sscanf(w, "shared:%lu", &g) == 1)
				o += snprintf(out + o, len - o, " shared:%u", label(g));
			else if (sscanf(w, "master:%lu", &g) == 1)
				o += snprintf(out + o, len - o, " master:%u", label(g));
			else if (!strcmp(w, "unbindable"))
				o += snprintf(out + o, len - o, " unbindable");
		}
		o += snprintf(out + o, len - o, "\n");
		if (o >= len)
			fail("mountinfo of %d too long", pid);
	}
}

static ino_t mnt_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	if (stat(path, &st))
		fail("stat %s: %m", path);
	return st.st_ino;
}

static void set(const char *path, unsigned long flags)
{
	if (mount(NULL, path, NULL, flags, NULL))
		tree_fail("mount --make %#lx %s: %m", flags, path);
}

/* Tells the root our pid as the machine's /proc names it. */
static void tell(int ch[2], int who)
{
	pid_t rec[2] = { who, tree_proc_pid() };

	if (write(ch[1], rec, sizeof(rec)) != sizeof(rec))
		tree_fail("write: %m");
}

static void member(int tag)
{
	tree_ready(tag);
	test_waitsig();
	tree_pass();
}

static bool shows(pid_t pid, const char *point)
{
	static char text[1 << 20];
	char path[64], want[4200];

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	if (read_file(path, text, sizeof(text)) < 0)
		fail("read %s: %m", path);
	snprintf(want, sizeof(want), " %s ", point);
	return strstr(text, want) != NULL;
}

/* Mounts a tmpfs on dir inside pid's mount namespace, then comes back. */
static void mount_in(pid_t pid, const char *dir, bool on)
{
	char path[64];
	int own = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC), fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (own < 0 || fd < 0 || setns(fd, CLONE_NEWNS))
		fail("enter the mount namespace of %d: %m", pid);
	if (on ? mount("mntns_copy", dir, "tmpfs", 0, "size=4k") : umount2(dir, MNT_DETACH))
		fail("%s %s in %d: %m", on ? "mount" : "umount", dir, pid);
	if (setns(own, CLONE_NEWNS))
		fail("back to our mount namespace: %m");
	close(fd);
	close(own);
}

int main(int argc, char **argv)
{
	static char before[6][1 << 16], after[6][1 << 16];
	pid_t p[6]; /* root, a, a1, b, b1, c: as the machine's /proc names them */
	pid_t ia, ib, ic;
	const char *names[6] = { "root", "a", "a1", "b", "b1", "c" };
	char *dir;
	int ch[2];

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	dir = test_path("prop");
	if (mkdir(dir, 0755) || pipe(ch))
		fail("set-up: %m");
	p[0] = tree_proc_pid();
	if ((ia = tree_fork("a")) == 0) {
		pid_t a1;

		tell(ch, 1);
		if (unshare(CLONE_NEWNS))
			tree_fail("unshare: %m");
		set("/", MS_SHARED | MS_REC);
		set("/dev", MS_UNBINDABLE);
		if ((a1 = tree_fork("a1")) == 0) {
			tell(ch, 2);
			close(ch[0]);
			close(ch[1]);
			if (unshare(CLONE_NEWNS))
				tree_fail("unshare: %m");
			set("/proc", MS_PRIVATE);
			member(2);
		}
		close(ch[0]);
		close(ch[1]);
		tree_ready(1);
		test_waitsig();
		tree_finish(a1, "a1");
		tree_pass();
	}
	if ((ib = tree_fork("b")) == 0) {
		pid_t b1;

		tell(ch, 3);
		if (unshare(CLONE_NEWNS))
			tree_fail("unshare: %m");
		set("/", MS_SHARED | MS_REC);
		if ((b1 = tree_fork("b1")) == 0) {
			tell(ch, 4);
			close(ch[0]);
			close(ch[1]);
			if (unshare(CLONE_NEWNS))
				tree_fail("unshare: %m");
			set("/", MS_SLAVE | MS_REC);
			member(4);
		}
		close(ch[0]);
		close(ch[1]);
		tree_ready(3);
		test_waitsig();
		tree_finish(b1, "b1");
		tree_pass();
	}
	if ((ic = tree_fork("c")) == 0) {
		tell(ch, 5);
		close(ch[0]);
		close(ch[1]);
		member(5);
	}
	close(ch[1]);
	tree_barrier_wait(5, NULL);
	for (int i = 0; i < 5; i++) {
		pid_t rec[2];

		tree_read_exact(ch[0], rec, sizeof(rec), "the pids of the tasks");
		if (rec[0] < 1 || rec[0] > 5)
			fail("set-up: a bad record");
		p[rec[0]] = rec[1];
	}
	close(ch[0]);
	for (int i = 0; i < 6; i++)
		pattern(p[i], before[i], sizeof(before[i]));
	test_daemon();
	test_waitsig();

	ngroups = 0;
	for (int i = 0; i < 6; i++) {
		pattern(p[i], after[i], sizeof(after[i]));
		if (strcmp(before[i], after[i]))
			fail("the mounts of %s differ after restore:\n%s---\n%s", names[i], before[i],
			     after[i]);
	}
	if (mnt_of(p[0]) != mnt_of(p[5]))
		fail("c is not in the root's mount namespace");
	for (int i = 1; i < 5; i++)
		for (int k = 0; k < 6; k++)
			if (k != i && mnt_of(p[i]) == mnt_of(p[k]))
				fail("%s and %s share a mount namespace", names[i], names[k]);
	mount_in(p[1], dir, true);
	if (!shows(p[2], dir) || shows(p[3], dir) || shows(p[0], dir))
		fail("a mount in a's namespace is not seen by a1 alone (peers): a1 %d b %d root %d",
		     shows(p[2], dir), shows(p[3], dir), shows(p[0], dir));
	mount_in(p[1], dir, false);
	mount_in(p[3], dir, true);
	if (!shows(p[4], dir) || shows(p[1], dir) || shows(p[0], dir))
		fail("a mount in b's namespace is not seen by b1 alone (slave): b1 %d a %d root %d",
		     shows(p[4], dir), shows(p[1], dir), shows(p[0], dir));
	mount_in(p[3], dir, false);
	tree_finish(ia, "a");
	tree_finish(ib, "b");
	tree_finish(ic, "c");
	pass();
}
