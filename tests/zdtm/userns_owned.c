// SPDX-License-Identifier: GPL-2.0
/*
 * userns_owned: UTS and network namespaces owned by inner user namespaces.
 * a unshares a user namespace (mapped 0..999 to 300000 by the root),
 * becomes root in it, then unshares a UTS namespace ("owned-a") and a
 * network namespace (loopback only; b and b1 share it); its child b
 * unshares a user namespace inside a's (0..9 to a's 100) and a UTS
 * namespace of its own ("owned-b"); b's child b1 shares both. After
 * restore: each UTS namespace's owner (NS_GET_USERNS) is its task's user
 * namespace, the network namespace's is a's, the names are back,
 * sethostname works from inside (the owner's CAP_SYS_ADMIN) and b1 sees
 * b's new name; the root's names are the machine's.
 */
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "tree.h"

#define NS_GET_USERNS_ _IO(0xb7, 0x1)

static void put(int fd)
{
	if (write(fd, "x", 1) != 1)
		tree_fail("sync write: %m");
}

static void get(int fd, const char *what)
{
	char c;

	tree_read_exact(fd, &c, 1, what);
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

static ino_t ino(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		tree_fail("stat %s: %m", path);
	return st.st_ino;
}

/* The owner of pid's namespace of kind is pid's user namespace. */
static void check_owner_of(pid_t pid, const char *kind, const char *who)
{
	char path[64];
	struct stat st;
	int fd, owner;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, kind);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (owner = ioctl(fd, NS_GET_USERNS_)) < 0 || fstat(owner, &st))
		tree_fail("%s: NS_GET_USERNS of %s: %m", who, path);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	if (st.st_ino != ino(path))
		tree_fail("%s: its %s namespace is not owned by its user namespace", who, kind);
	close(owner);
	close(fd);
}

static void check_owner(pid_t pid, const char *who)
{
	check_owner_of(pid, "uts", who);
}

static void check_name(const char *want, const char *who)
{
	struct utsname u;

	if (uname(&u) || strcmp(u.nodename, want))
		tree_fail("%s: hostname %s, expected %s", who, u.nodename, want);
}

/* Unshares a user namespace, waits for its maps, becomes root in it. */
static void enter_own(int up)
{
	if (unshare(CLONE_NEWUSER))
		tree_fail("unshare user: %m");
	put(up);
	get(up, "mapped");
	close(up);
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
		tree_fail("setresuid: %m");
	if (prctl(PR_SET_DUMPABLE, 1))
		tree_fail("dumpable: %m");
}

static void own_uts(const char *name)
{
	if (unshare(CLONE_NEWUTS) || sethostname(name, strlen(name)))
		tree_fail("unshare uts / sethostname: %m");
}

static void __attribute__((noreturn)) b_main(int up)
{
	pid_t b1;

	enter_own(up);
	own_uts("owned-b");
	b1 = tree_fork("b1");
	if (b1 == 0) {
		tree_ready(3);
		test_waitsig();
		/* b renames after its own check, maybe before this one: either
		 * name is b's, then wait for the new one (bounded). */
		{
			struct utsname u;

			if (uname(&u) || (strcmp(u.nodename, "owned-b") &&
					  strcmp(u.nodename, "owned-b2")))
				tree_fail("b1: hostname %s, expected b's", u.nodename);
		}
		for (int i = 0; i < 400; i++) {
			struct utsname u;

			uname(&u);
			if (!strcmp(u.nodename, "owned-b2"))
				tree_pass();
			tree_sleep_ms(10);
		}
		tree_fail("b1 never saw b's new name");
	}
	tree_ready(2);
	test_waitsig();
	check_name("owned-b", "b");
	check_owner(getpid(), "b");
	if (sethostname("owned-b2", 8))
		tree_fail("b: sethostname inside: %m");
	tree_collect(b1, "b1");
	tree_pass();
}

static void __attribute__((noreturn)) a_main(int up)
{
	int sk[2];
	pid_t b;

	enter_own(up);
	own_uts("owned-a");
	if (unshare(CLONE_NEWNET))
		tree_fail("unshare net: %m");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		tree_fail("socketpair: %m");
	b = tree_fork("b");
	if (b == 0) {
		close(sk[0]);
		b_main(sk[1]);
	}
	close(sk[1]);
	get(sk[0], "b unshared");
	write_to(b, "gid_map", "0 100 10\n");
	write_to(b, "uid_map", "0 100 10\n");
	put(sk[0]);
	close(sk[0]);
	tree_ready(1);
	test_waitsig();
	check_name("owned-a", "a");
	check_owner(getpid(), "a");
	check_owner_of(getpid(), "net", "a");
	if (sethostname("owned-a2", 8))
		tree_fail("a: sethostname inside: %m");
	check_name("owned-a2", "a");
	tree_collect(b, "b");
	tree_pass();
}

int main(int argc, char **argv)
{
	struct tree_rec recs[3];
	struct utsname own;
	pid_t a, pids[3];
	int sk[2];

	test_init(argc, argv);
	tree_init();
	if (uname(&own))
		fail("uname: %m");
	tree_barrier_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		fail("socketpair: %m");
	a = tree_fork("a");
	if (a == 0) {
		close(sk[0]);
		a_main(sk[1]);
	}
	close(sk[1]);
	get(sk[0], "a unshared");
	write_to(a, "gid_map", "0 300000 1000\n");
	write_to(a, "uid_map", "0 300000 1000\n");
	put(sk[0]);
	close(sk[0]);
	tree_barrier_wait(3, recs);
	for (int i = 0; i < 3; i++)
		pids[recs[i].tag - 1] = recs[i].ids.pid;
	test_daemon();
	test_waitsig();

	check_name(own.nodename, "root");
	for (int i = 0; i < 3; i++)
		check_owner(pids[i], i == 0 ? "a" : i == 1 ? "b" : "b1");
	check_owner_of(pids[0], "net", "a");
	tree_stop(pids[2], "b1");
	tree_stop(pids[1], "b");
	tree_finish(a, "a");
	pass();
}
