// SPDX-License-Identifier: GPL-2.0
/*
 * userns_pidns: the `unshare -U -p -f` shape, a pid namespace owned by an
 * inner user namespace.
 *
 *   root (the runner's namespaces)
 *   └── a: unshare(CLONE_NEWUSER) (0..999 mapped to 200000 by the root),
 *       root in it, then unshare(CLONE_NEWPID): a pid namespace a's user
 *       namespace owns
 *       └── i, its init (pid 1)
 *           ├── c (pid 2, uid 5 inside: no capabilities)
 *           │   └── g, a grandchild
 *           ├── o, an orphan i adopted (its parent exited)
 *           └── z, a zombie i has not reaped (exit status 5)
 *
 * Each task records its whole NSpid vector, ppid, the Uid, Gid and CapEff
 * lines of /proc/self/status, and its uid_map (0 200000 1000) before the checkpoint and compares them
 * after; each checks that its pid namespace (a: its pid namespace for
 * children) is owned by its own user namespace (NS_GET_USERNS). i then
 * reaps z with status 5, o's parent is 1.
 */
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "tree.h"

#define NS_GET_USERNS_ _IO(0xb7, 0x1)

struct me {
	char nspid[128], uid[128], gid[128], cap[64];
	pid_t ppid;
	char uid_map[128];
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

static ino_t ino(const char *path)
{
	return ino_of_fd(open(path, O_RDONLY | O_CLOEXEC), path);
}

static void me_get(struct me *m)
{
	char st[4096];

	if (read_file("/proc/self/status", st, sizeof(st)) <= 0)
		tree_fail("cannot read /proc/self/status");
	line_of(st, "NSpid:", m->nspid, sizeof(m->nspid));
	line_of(st, "\nUid:", m->uid, sizeof(m->uid));
	line_of(st, "\nGid:", m->gid, sizeof(m->gid));
	line_of(st, "CapEff:", m->cap, sizeof(m->cap));
	m->ppid = getppid();
	if (read_file("/proc/self/uid_map", m->uid_map, sizeof(m->uid_map)) <= 0)
		tree_fail("cannot read /proc/self/uid_map");
}

/* The pid namespace behind link is owned by the caller's user namespace. */
static void check_owner(const char *link)
{
	int fd = open(link, O_RDONLY | O_CLOEXEC);
	ino_t owner = ino_of_fd(fd < 0 ? -1 : ioctl(fd, NS_GET_USERNS_), link);

	close(fd);
	if (owner != ino("/proc/self/ns/user"))
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

static void settle(struct me *m, int tag)
{
	me_get(m);
	tree_ready(tag);
	test_waitsig();
}

static void __attribute__((noreturn)) leaf(int tag, pid_t ppid)
{
	struct me m;

	settle(&m, tag);
	me_check(&m, 2, "/proc/self/ns/pid");
	if (ppid && m.ppid != ppid)
		tree_fail("ppid %d, expected %d", m.ppid, ppid);
	tree_pass();
}

static void __attribute__((noreturn)) c_main(void)
{
	struct me m;
	pid_t g;

	if (setresgid(5, 5, 5) || setresuid(5, 5, 5) || prctl(PR_SET_DUMPABLE, 1))
		tree_fail("c: setresuid 5: %m");
	g = tree_fork("g");
	if (g == 0)
		leaf(4, 2);
	settle(&m, 3);
	me_check(&m, 2, "/proc/self/ns/pid");
	if (getpid() != 2 || m.ppid != 1)
		tree_fail("c: pid %d ppid %d, expected 2 and 1", getpid(), m.ppid);
	tree_finish(g, "g");
	tree_pass();
}

static void __attribute__((noreturn)) i_main(void)
{
	pid_t c, z, op, o;
	int status, p[2];
	struct me m;

	c = tree_fork("c");
	if (c == 0)
		c_main();
	z = fork();
	if (z == 0)
		_exit(5);
	if (z < 0 || pipe(p))
		tree_fail("fork: %m");
	op = tree_fork("op");
	if (op == 0) {
		o = tree_fork_opt("o", false);
		if (o == 0) {
			close(p[0]);
			close(p[1]);
			while (getppid() != 1)
				tree_sleep_ms(1);
			leaf(5, 1);
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
	settle(&m, 2);
	me_check(&m, 2, "/proc/self/ns/pid");
	if (getpid() != 1 || m.ppid != 0)
		tree_fail("i: pid %d ppid %d, expected 1 and 0", getpid(), m.ppid);
	if (waitpid(z, &status, WNOHANG) != z || !WIFEXITED(status) || WEXITSTATUS(status) != 5)
		tree_fail("zombie %d: not reaped with status 5 (status %#x)", z, status);
	tree_finish(o, "o");
	tree_finish(c, "c");
	tree_pass();
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

static void __attribute__((noreturn)) a_main(int up)
{
	struct me m;
	char c;
	pid_t i;

	if (unshare(CLONE_NEWUSER))
		tree_fail("unshare user: %m");
	put(up);
	tree_read_exact(up, &c, 1, "mapped");
	close(up);
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0) || prctl(PR_SET_DUMPABLE, 1))
		tree_fail("setresuid 0: %m");
	if (unshare(CLONE_NEWPID))
		tree_fail("unshare pid: %m");
	i = fork();
	if (i < 0)
		tree_fail("fork i: %m");
	if (i == 0) {
		/* Its parent is outside its pid namespace: getppid() says 0. */
		tree_enter_child("i", 0, true);
		i_main();
	}
	settle(&m, 1);
	me_check(&m, 1, "/proc/self/ns/pid_for_children");
	tree_finish(i, "i");
	tree_pass();
}

int main(int argc, char **argv)
{
	int sk[2];
	char c;
	pid_t a;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		fail("socketpair: %m");
	a = tree_fork("a");
	if (a == 0) {
		close(sk[0]);
		a_main(sk[1]);
	}
	close(sk[1]);
	tree_read_exact(sk[0], &c, 1, "a unshared");
	write_to(a, "gid_map", "0 200000 1000\n");
	write_to(a, "uid_map", "0 200000 1000\n");
	put(sk[0]);
	close(sk[0]);
	tree_barrier_wait(5, NULL);
	test_daemon();
	test_waitsig();
	tree_finish(a, "a");
	pass();
}
