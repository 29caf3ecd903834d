// SPDX-License-Identifier: GPL-2.0
/*
 * userns_pidns3: user and pid namespaces nested three deep, each level's
 * pid namespace owned by that level's user namespace (a container running
 * a container running a container).
 *
 *   root (the runner's namespaces)
 *   └── a1: unshare(CLONE_NEWUSER) (0..9999 mapped to 300000 by the root),
 *       root in it, unshare(CLONE_NEWPID)
 *       └── i1, init of level 1
 *           └── a2: user namespace (0..999 mapped to i1's 1000), pid namespace
 *               └── i2, init of level 2
 *                   └── a3: user namespace (0..99 mapped to i2's 100), pid namespace
 *                       └── i3, init of level 3
 *                           └── x (pid 2 at level 3)
 *
 * Every task records its whole NSpid vector, ppid, the Uid, Gid and CapEff
 * lines of /proc/self/status and its uid_map before the checkpoint and
 * compares them after, and checks that its pid namespace (a task that
 * unshared one: its pid namespace for children) is owned by its own user
 * namespace (NS_GET_USERNS).
 */
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "tree.h"

#define NS_GET_USERNS_ _IO(0xb7, 0x1)
#define LEVELS 3

struct me {
	char nspid[128], uid[128], gid[128], cap[64], uid_map[128];
	pid_t ppid;
};

static void line_of(const char *st, const char *key, char *buf, size_t len)
{
	const char *p = strstr(st, key), *e;

	if (!p || !(e = strchr(p, '\n')))
		tree_fail("no %s in /proc/self/status", key);
	snprintf(buf, len, "%.*s", (int)(e - p), p);
}

static ino_t ino_of_fd(int fd, const char *what)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		tree_fail("%s: %m", what);
	close(fd);
	return st.st_ino;
}

static void me_get(struct me *m)
{
	char st[4096];

	if (read_file("/proc/self/status", st, sizeof(st)) <= 0 ||
	    read_file("/proc/self/uid_map", m->uid_map, sizeof(m->uid_map)) <= 0)
		tree_fail("cannot read /proc/self/status or uid_map");
	line_of(st, "NSpid:", m->nspid, sizeof(m->nspid));
	line_of(st, "\nUid:", m->uid, sizeof(m->uid));
	line_of(st, "\nGid:", m->gid, sizeof(m->gid));
	line_of(st, "CapEff:", m->cap, sizeof(m->cap));
	m->ppid = getppid();
}

static void check_owner(const char *link)
{
	int fd = open(link, O_RDONLY | O_CLOEXEC);
	ino_t owner = ino_of_fd(fd < 0 ? -1 : ioctl(fd, NS_GET_USERNS_), link);

	close(fd);
	if (owner != ino_of_fd(open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC), "ns/user"))
		tree_fail("%s is not owned by the task's user namespace", link);
}

static void me_check(const struct me *want, int levels, const char *pidns)
{
	struct me now;
	int n = 0;

	me_get(&now);
	if (strcmp(now.nspid, want->nspid) || now.ppid != want->ppid ||
	    strcmp(now.uid, want->uid) || strcmp(now.gid, want->gid) ||
	    strcmp(now.cap, want->cap) || strcmp(now.uid_map, want->uid_map))
		tree_fail("%s ppid %d %s %s %s uid_map %s, expected %s ppid %d %s %s %s %s",
			  now.nspid, now.ppid, now.uid, now.gid, now.cap, now.uid_map, want->nspid,
			  want->ppid, want->uid, want->gid, want->cap, want->uid_map);
	for (char *p = now.nspid; *p; p++)
		n += *p == '\t';
	if (n != levels)
		tree_fail("%s: %d levels, expected %d", now.nspid, n, levels);
	check_owner(pidns);
}

static void put(int fd)
{
	if (write(fd, "x", 1) != 1)
		tree_fail("sync write: %m");
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

static void __attribute__((noreturn)) a_main(int level, int up);

/* Forks a_<level>, waits for its user namespace and maps it. */
static pid_t make_a(int level)
{
	static const char *const maps[] = { "0 300000 10000\n", "0 1000 1000\n", "0 100 100\n" };
	static const char *const names[] = { "a1", "a2", "a3" };
	int sk[2];
	pid_t a, host;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		tree_fail("socketpair: %m");
	a = tree_fork(names[level - 1]);
	if (a == 0) {
		close(sk[0]);
		a_main(level, sk[1]);
	}
	close(sk[1]);
	/* Its pid in the machine's /proc, which ours may not show as `a`. */
	tree_read_exact(sk[0], &host, sizeof(host), "unshared");
	write_to(host, "gid_map", maps[level - 1]);
	write_to(host, "uid_map", maps[level - 1]);
	put(sk[0]);
	close(sk[0]);
	return a;
}

/* Tags: a1 1, i1 2, a2 3, i2 4, a3 5, i3 6, x 7. */
static void __attribute__((noreturn)) i_main(int level)
{
	struct me m;
	pid_t child;

	if (level < LEVELS) {
		child = make_a(level + 1);
	} else {
		child = tree_fork("x");
		if (child == 0) {
			me_get(&m);
			tree_ready(7);
			test_waitsig();
			me_check(&m, LEVELS + 1, "/proc/self/ns/pid");
			if (getpid() != 2 || m.ppid != 1)
				tree_fail("x: pid %d ppid %d, expected 2 and 1", getpid(), m.ppid);
			tree_pass();
		}
	}
	me_get(&m);
	tree_ready(2 * level);
	test_waitsig();
	me_check(&m, level + 1, "/proc/self/ns/pid");
	if (getpid() != 1 || m.ppid != 0)
		tree_fail("i%d: pid %d ppid %d, expected 1 and 0", level, getpid(), m.ppid);
	tree_finish(child, "child");
	tree_pass();
}

static void __attribute__((noreturn)) a_main(int level, int up)
{
	struct me m;
	char c;
	pid_t i;

	pid_t host = tree_proc_pid();

	if (unshare(CLONE_NEWUSER))
		tree_fail("unshare user: %m");
	if (write(up, &host, sizeof(host)) != sizeof(host))
		tree_fail("sync write: %m");
	tree_read_exact(up, &c, 1, "mapped");
	close(up);
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0) || prctl(PR_SET_DUMPABLE, 1))
		tree_fail("setresuid 0: %m");
	if (unshare(CLONE_NEWPID))
		tree_fail("unshare pid: %m");
	i = fork();
	if (i < 0)
		tree_fail("fork: %m");
	if (i == 0) {
		/* Its parent is outside its pid namespace: getppid() says 0. */
		tree_enter_child(level == 1 ? "i1" : level == 2 ? "i2" : "i3", 0, true);
		i_main(level);
	}
	me_get(&m);
	tree_ready(2 * level - 1);
	test_waitsig();
	me_check(&m, level, "/proc/self/ns/pid_for_children");
	tree_finish(i, "i");
	tree_pass();
}

int main(int argc, char **argv)
{
	pid_t a;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	a = make_a(1);
	tree_barrier_wait(2 * LEVELS + 1, NULL);
	test_daemon();
	test_waitsig();
	tree_finish(a, "a1");
	pass();
}
