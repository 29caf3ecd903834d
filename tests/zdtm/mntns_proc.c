// SPDX-License-Identifier: GPL-2.0
/*
 * mntns_proc: a container's own /proc. The root clones c, init of a new
 * pid namespace in a new mount namespace (a copy of the runner's, made
 * private), with a child k. c mounts proc over /proc
 * (nosuid,nodev,noexec, hidepid=invisible) and a second, read-only one
 * with subset=pid over /sys, then both check, before the dump and after
 * the restore: /proc/self is their pid in the namespace (1 and 2), /proc/1
 * is c (its pid namespace link is their own, its stat names pid 1),
 * /proc/2 is k, the two proc mounts are on top with the same options and
 * propagation (private), in that order, and the subset one shows only
 * pids. The root checks that its own /proc is the machine's one, with
 * no proc mount added to its namespace.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "tree.h"

/* The line of the last mount at point in /proc/self/mountinfo. */
static void last_mount(const char *point, char *buf, size_t len)
{
	static char mi[1 << 16];
	char want[128], *line, *save = NULL;

	if (read_file("/proc/self/mountinfo", mi, sizeof(mi)) <= 0)
		tree_fail("cannot read mountinfo: %m");
	snprintf(want, sizeof(want), " %s ", point);
	buf[0] = 0;
	for (line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strchr(line, ' ');

		/* fields: id parent dev root point ... */
		for (int i = 0; p && i < 3; i++)
			p = strchr(p + 1, ' ');
		if (p && !strncmp(p, want, strlen(want)))
			snprintf(buf, len, "%s", strchr(line, ' ') + 1);
	}
	if (!buf[0])
		tree_fail("no mount at %s", point);
}

/* Drops the mount ids and the device (new at a restore). */
static const char *shape(const char *line)
{
	const char *p = strchr(line, ' ');

	p = p ? strchr(p + 1, ' ') : NULL;
	return p ? p + 1 : line;
}

struct seen {
	char proc[512], sys[512];
};

static void look(struct seen *s, pid_t want_self)
{
	char buf[64], mine[64], init[64];
	ssize_t n;
	struct stat st;

	n = readlink("/proc/self", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	if (atoi(buf) != want_self)
		tree_fail("/proc/self is '%s', expected %d", buf, want_self);
	n = readlink("/proc/self/ns/pid", mine, sizeof(mine) - 1);
	mine[n > 0 ? n : 0] = 0;
	n = readlink("/proc/1/ns/pid", init, sizeof(init) - 1);
	init[n > 0 ? n : 0] = 0;
	if (!mine[0] || strcmp(mine, init))
		tree_fail("/proc/1 is in pid namespace '%s', we are in '%s'", init, mine);
	if (read_file("/proc/1/stat", buf, sizeof(buf)) <= 0 || strncmp(buf, "1 (", 3))
		tree_fail("/proc/1/stat reads '%.20s'", buf);
	if (read_file("/proc/2/stat", buf, sizeof(buf)) <= 0 || strncmp(buf, "2 (", 3))
		tree_fail("/proc/2/stat reads '%.20s'", buf);
	/* subset=pid: no /sys/meminfo, but /sys/1 */
	if (!stat("/sys/meminfo", &st) || stat("/sys/1", &st))
		tree_fail("the subset=pid proc on /sys shows meminfo, or not pid 1");
	last_mount("/proc", s->proc, sizeof(s->proc));
	last_mount("/sys", s->sys, sizeof(s->sys));
	if (!strstr(s->proc, " rw,nosuid,nodev,noexec,relatime ") ||
	    !strstr(s->proc, " - proc proc rw,hidepid=invisible") || strstr(s->proc, "shared:"))
		tree_fail("/proc is '%s'", s->proc);
	if (!strstr(s->sys, " ro,") || !strstr(s->sys, " - proc none ro,subset=pid"))
		tree_fail("/sys is '%s'", s->sys);
}

static void compare(const struct seen *a, const struct seen *b)
{
	if (strcmp(shape(a->proc), shape(b->proc)) || strcmp(shape(a->sys), shape(b->sys)))
		tree_fail("mounts came back '%s' and '%s', expected '%s' and '%s'", b->proc,
			  b->sys, a->proc, a->sys);
}

static int go[2];

static int c_main(void *arg __attribute__((unused)))
{
	struct seen before, after;
	pid_t k;

	tree_enter_child("c", 0, true);
	if (pipe(go))
		tree_fail("pipe: %m");
	k = tree_fork("k");
	if (k == 0) {
		char ch;

		tree_read_exact(go[0], &ch, 1, "the go");
		look(&before, 2);
		tree_ready(2);
		test_waitsig();
		look(&after, 2);
		compare(&before, &after);
		tree_pass();
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") ||
	    mount("none", "/sys", "proc", MS_RDONLY, "subset=pid"))
		tree_fail("mount: %m");
	if (write(go[1], "g", 1) != 1)
		tree_fail("write: %m");
	look(&before, 1);
	tree_ready(1);
	test_waitsig();
	look(&after, 1);
	compare(&before, &after);
	tree_finish(k, "k");
	tree_pass();
}

/* The root's /proc: the machine's (nestor's) still, with no proc mount added. */
static int own_procs(void)
{
	static char mi[1 << 16];
	int n = 0;

	if (read_file("/proc/self/mountinfo", mi, sizeof(mi)) <= 0)
		fail("cannot read mountinfo: %m");
	for (char *p = mi; (p = strstr(p, " - proc ")); p++)
		n++;
	return n;
}

int main(int argc, char **argv)
{
	int procs;
	pid_t c;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	procs = own_procs();
	c = tree_clone(c_main, CLONE_NEWPID | CLONE_NEWNS, NULL);
	tree_barrier_wait(2, NULL);
	test_daemon();
	test_waitsig();
	if (own_procs() != procs || tree_proc_pid() != getpid())
		fail("the root's namespace has %d proc mounts, not %d, or /proc/self is not "
		     "its pid", own_procs(), procs);
	tree_finish(c, "c");
	pass();
}
