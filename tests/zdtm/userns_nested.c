// SPDX-License-Identifier: GPL-2.0
/*
 * userns_nested: three user namespaces, one inside the other, a task in
 * each with credentials and capabilities of its own.
 *   a: unshares U1; the root maps 0..9999 to 100000 (uid and gid); a is
 *      0/0 inside, groups {0, 5}, a few capabilities, one ambient; sets
 *      max_uts_namespaces = 9 in U1.
 *   b: a's child, unshares U2; a denies setgroups and maps 0..99 to U1's
 *      1000 (uid and gid); b is uids 0/0/4, gids 2, its groups (a's) not
 *      mapped, other capabilities; sets max_user_namespaces = 0 in U2 once
 *      U3 exists (a limit below what the namespace holds).
 *   c: b's child, unshares U3; b maps 0..4 to U2's 10; c is uid 3, gid 1,
 *      kept only CAP_NET_RAW (and CAP_CHOWN permitted).
 * After restore each task checks from inside: /proc/self/uid_map,
 * gid_map, setgroups, getresuid/getresgid, getgroups, capget, ambient and
 * its limit; the root checks the nesting (NS_GET_PARENT), the owners
 * (NS_GET_OWNER_UID) and a map as it sees it.
 */
#include <linux/capability.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <grp.h>

#include "tree.h"

#define NS_GET_PARENT_ _IO(0xb7, 0x2)
#define NS_GET_OWNER_UID_ _IO(0xb7, 0x4)
#define B(c) (1ULL << (c))

struct level {
	const char *name;
	const char *uid_map, *gid_map; /* as the task sees them, "first lower count" */
	const char *setgroups;
	uid_t uid[3];
	gid_t gid[3];
	int nr_groups;
	gid_t groups[2];
	uint64_t eff, prm, inh, amb;
	const char *limit;
	long limit_value;
};

static const struct level levels[3] = {
	{ "a", "0 100000 10000", "0 100000 10000", "allow", { 0, 0, 0 }, { 0, 0, 0 }, 2, { 0, 5 },
	  B(CAP_SETUID) | B(CAP_SETGID) | B(CAP_KILL) | B(CAP_SYS_ADMIN) | B(CAP_DAC_OVERRIDE) |
		  B(CAP_NET_BIND_SERVICE),
	  B(CAP_SETUID) | B(CAP_SETGID) | B(CAP_KILL) | B(CAP_SYS_ADMIN) | B(CAP_DAC_OVERRIDE) |
		  B(CAP_NET_BIND_SERVICE),
	  B(CAP_NET_BIND_SERVICE), B(CAP_NET_BIND_SERVICE), "max_uts_namespaces", 9 },
	{ "b", "0 1000 100", "0 1000 100", "deny", { 0, 0, 4 }, { 2, 2, 2 }, 2, { 65534, 65534 },
	  B(CAP_KILL) | B(CAP_SETUID) | B(CAP_CHOWN),
	  B(CAP_KILL) | B(CAP_SETUID) | B(CAP_CHOWN) | B(CAP_FOWNER), 0, 0, "max_user_namespaces",
	  0 },
	{ "c", "0 10 5", "0 10 5", "deny", { 3, 3, 3 }, { 1, 1, 1 }, 2, { 65534, 65534 },
	  B(CAP_NET_RAW), B(CAP_NET_RAW) | B(CAP_CHOWN), B(CAP_NET_RAW), 0, NULL, 0 },
};

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

static void set_limit(const char *name, long v)
{
	char path[128], buf[32];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/user/%s", name);
	snprintf(buf, sizeof(buf), "%ld", v);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
		tree_fail("write %s: %m", path);
	close(fd);
}

static void set_caps(const struct level *l)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)l->eff, (uint32_t)l->prm, (uint32_t)l->inh },
		{ (uint32_t)(l->eff >> 32), (uint32_t)(l->prm >> 32), (uint32_t)(l->inh >> 32) },
	};

	if (syscall(SYS_capset, &hdr, d))
		tree_fail("capset: %m");
	for (int c = 0; c < 64; c++)
		if ((l->amb & B(c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0))
			tree_fail("ambient raise %d: %m", c);
	if (prctl(PR_SET_KEEPCAPS, 0))
		tree_fail("keepcaps: %m");
}

/* The map's lines as "first lower count", spaces squeezed. */
static void read_map(const char *path, char *out, size_t len)
{
	char buf[256];
	unsigned a, b, c;
	int off = 0, n;

	if (read_file(path, buf, sizeof(buf)) < 0)
		tree_fail("read %s: %m", path);
	out[0] = '\0';
	for (const char *p = buf; sscanf(p, "%u %u %u%n", &a, &b, &c, &n) == 3; p += n)
		off += snprintf(out + off, len - off, "%s%u %u %u", off ? "," : "", a, b, c);
}

static void check_map(const char *path, const char *want)
{
	char got[256];

	read_map(path, got, sizeof(got));
	if (strcmp(got, want))
		tree_fail("%s: \"%s\", expected \"%s\"", path, got, want);
}

static void check_inside(const struct level *l)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uid_t u[3];
	gid_t g[3], groups[8];
	char buf[64];
	int n;

	check_map("/proc/self/uid_map", l->uid_map);
	check_map("/proc/self/gid_map", l->gid_map);
	if (read_file("/proc/self/setgroups", buf, sizeof(buf)) < 0 ||
	    strncmp(buf, l->setgroups, strlen(l->setgroups)))
		tree_fail("setgroups: %s, expected %s", buf, l->setgroups);
	if (getresuid(&u[0], &u[1], &u[2]) || getresgid(&g[0], &g[1], &g[2]))
		tree_fail("getresuid: %m");
	if (memcmp(u, l->uid, sizeof(u)) || memcmp(g, l->gid, sizeof(g)))
		tree_fail("ids %u/%u/%u %u/%u/%u, expected %u/%u/%u %u/%u/%u", u[0], u[1], u[2],
			  g[0], g[1], g[2], l->uid[0], l->uid[1], l->uid[2], l->gid[0], l->gid[1],
			  l->gid[2]);
	n = getgroups(8, groups);
	if (n != l->nr_groups || memcmp(groups, l->groups, n * sizeof(gid_t)))
		tree_fail("%d groups (%u ...), expected %d (%u ...)", n, n > 0 ? groups[0] : 0,
			  l->nr_groups, l->groups[0]);
	if (syscall(SYS_capget, &hdr, d))
		tree_fail("capget: %m");
	if ((d[0].effective | (uint64_t)d[1].effective << 32) != l->eff ||
	    (d[0].permitted | (uint64_t)d[1].permitted << 32) != l->prm ||
	    (d[0].inheritable | (uint64_t)d[1].inheritable << 32) != l->inh)
		tree_fail("capabilities %#x/%#x/%#x, expected %#llx/%#llx/%#llx", d[0].effective,
			  d[0].permitted, d[0].inheritable, (unsigned long long)l->eff,
			  (unsigned long long)l->prm, (unsigned long long)l->inh);
	for (int c = 0; c < 64; c++)
		if ((prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) != !!(l->amb & B(c)))
			tree_fail("ambient capability %d", c);
	if (l->limit) {
		char path[128];

		snprintf(path, sizeof(path), "/proc/sys/user/%s", l->limit);
		if (read_file(path, buf, sizeof(buf)) < 0 || atol(buf) != l->limit_value)
			tree_fail("%s: %s, expected %ld", path, buf, l->limit_value);
	}
}

/*
 * Level i (0: a): unshares, waits for its parent to map it, takes its ids;
 * makes and maps level i + 1; then its capabilities; checks after restore.
 */
static void __attribute__((noreturn)) level_main(int i, int up)
{
	const struct level *l = &levels[i];
	int sk[2];
	pid_t child = 0;

	if (unshare(CLONE_NEWUSER))
		tree_fail("unshare: %m");
	put(up);
	get(up, "mapped");
	close(up);
	if (setresgid(l->gid[0], l->gid[1], l->gid[2]))
		tree_fail("setresgid: %m");
	if (i == 0 && setgroups(l->nr_groups, l->groups))
		tree_fail("setgroups: %m");
	if (i == 2 && prctl(PR_SET_KEEPCAPS, 1))
		tree_fail("keepcaps: %m");
	if (setresuid(l->uid[0], l->uid[1], l->uid[2]))
		tree_fail("setresuid: %m");
	/* Our children's /proc files are ours to write their maps to. */
	if (prctl(PR_SET_DUMPABLE, 1))
		tree_fail("dumpable: %m");
	if (i < 2) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
			tree_fail("socketpair: %m");
		child = tree_fork(levels[i + 1].name);
		if (child == 0) {
			close(sk[0]);
			level_main(i + 1, sk[1]);
		}
		close(sk[1]);
		get(sk[0], "child unshared");
		if (!strcmp(levels[i + 1].setgroups, "deny") && !strcmp(l->setgroups, "allow"))
			write_to(child, "setgroups", "deny");
		write_to(child, "gid_map", i == 0 ? "0 1000 100\n" : "0 10 5\n");
		write_to(child, "uid_map", i == 0 ? "0 1000 100\n" : "0 10 5\n");
		put(sk[0]);
		close(sk[0]);
	}
	/* After the child exists: b's limit is below what U2 holds (U3). */
	if (l->limit)
		set_limit(l->limit, l->limit_value);
	set_caps(l);
	tree_ready(i + 1);
	test_waitsig();
	check_inside(l);
	if (child)
		tree_collect(child, levels[i + 1].name);
	tree_pass();
}

static ino_t ino_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		fail("fstat: %m");
	return st.st_ino;
}

static int userns_fd(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open %s: %m", path);
	return fd;
}

/* From the root: each namespace's parent is the one above, and its owner. */
static void check_nesting(const pid_t pids[3])
{
	static const uid_t owners[3] = { 0, 100000, 101000 };
	int above = userns_fd(getpid());

	for (int i = 0; i < 3; i++) {
		int fd = userns_fd(pids[i]), parent = ioctl(fd, NS_GET_PARENT_);
		uid_t owner;

		if (parent < 0 || ino_of(parent) != ino_of(above))
			fail("%s: its user namespace's parent is not the one above it", levels[i].name);
		if (ioctl(fd, NS_GET_OWNER_UID_, &owner) || owner != owners[i])
			fail("%s: owner uid %u, expected %u", levels[i].name, owner, owners[i]);
		close(parent);
		close(above);
		above = fd;
	}
	close(above);
}

int main(int argc, char **argv)
{
	struct tree_rec recs[3];
	pid_t pids[3];
	char path[64];
	int sk[2];

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		fail("socketpair: %m");
	pids[0] = tree_fork("a");
	if (pids[0] == 0) {
		close(sk[0]);
		level_main(0, sk[1]);
	}
	close(sk[1]);
	get(sk[0], "a unshared");
	write_to(pids[0], "gid_map", "0 100000 10000\n");
	write_to(pids[0], "uid_map", "0 100000 10000\n");
	put(sk[0]);
	close(sk[0]);
	tree_barrier_wait(3, recs);
	for (int i = 0; i < 3; i++)
		pids[recs[i].tag - 1] = recs[i].ids.pid;
	test_daemon();
	test_waitsig();

	check_nesting(pids);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pids[2]);
	check_map(path, "0 101010 5");
	for (int i = 2; i > 0; i--)
		tree_stop(pids[i], levels[i].name);
	tree_finish(pids[0], "a");
	pass();
}
