// SPDX-License-Identifier: GPL-2.0
/*
 * nsinit: the small init of tests/run.sh's "ns" and "uns" flavours, a
 * container around one test program. Usage: nsinit [-u] TEST WORKDIR.
 * It clones an init in fresh pid, UTS, IPC, mount and network namespaces
 * (and, with -u, a new user namespace whose map it writes from outside:
 * 0 -> 100000, 65536 ids), writes the init's pid (as the machine's /proc
 * names it) to WORKDIR/nsinit.pid and exits. With -u it stays instead, a
 * session leader in nestor's namespaces above the init, the root of the
 * tree (nsinit.pid names it) until the init exits: the init of a pid
 * namespace an inner user namespace owns cannot be the root of a dump
 * (nestor clones such an init from inside its owner). The init sets its hostname,
 * brings loopback up, mounts its own proc on /proc (nosuid,nodev,noexec,
 * its mounts made private first), becomes a session leader, forks and execs TEST
 * WORKDIR (the test becomes a session leader of its own and writes its
 * pid to WORKDIR/nsinit.test), reaps whatever comes to it and exits with
 * the test's status when the test exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAP_LOWER 100000
#define MAP_COUNT 65536

static char *test_bin, *workdir;
static bool user_ns;
static int go[2];
static char stack[256 << 10] __attribute__((aligned(16)));

static void die(const char *what)
{
	dprintf(2, "nsinit: %s: %s\n", what, strerror(errno));
	_exit(2);
}

static void put(const char *name, pid_t pid)
{
	char path[4096], buf[32];
	int fd, n = snprintf(buf, sizeof(buf), "%d\n", pid);

	snprintf(path, sizeof(path), "%s/%s.tmp", workdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, n) != n || close(fd))
		die(path);
	{
		char final[4096];

		snprintf(final, sizeof(final), "%s/%s", workdir, name);
		if (rename(path, final))
			die(final);
	}
}

/* Our pid as the machine's /proc (held open as machine_proc) names it. */
static pid_t proc_pid(int machine_proc)
{
	char buf[32];
	ssize_t n = readlinkat(machine_proc, "self", buf, sizeof(buf) - 1);

	if (n <= 0)
		die("readlink /proc/self");
	buf[n] = 0;
	return atoi(buf);
}

static void lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr))
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr))
		die("SIOCSIFFLAGS lo");
	close(sk);
}

static int init_main(void *arg)
{
	pid_t test, p;
	int status, machine_proc;
	char c;

	(void)arg;
	/* With -u our parent is the tree's root: we do not outlive it. */
	if (user_ns && prctl(PR_SET_PDEATHSIG, SIGKILL))
		die("PR_SET_PDEATHSIG");
	close(go[1]);
	if (read(go[0], &c, 1) != 1) /* the maps are written, our parent gone */
		_exit(2);
	close(go[0]);
	/* Root inside (100000 outside): a new user namespace's first task keeps the
	 * ids it had, unmapped there, and the test would exec without capabilities. */
	if (user_ns && (setresgid(0, 0, 0) || setresuid(0, 0, 0)))
		die("setresuid 0 inside");
	if (setsid() < 0)
		die("setsid");
	if (sethostname("zdtm-ns", 7))
		die("sethostname");
	lo_up();
	if ((machine_proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("open /proc");
	/* Our own proc on /proc, as a container mounts it: tests look tasks up by
	 * the pids this namespace gives. Private first, so that it cannot
	 * propagate to the namespace we were copied from. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("mount --make-rprivate /");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		die("mount proc");
	test = fork();
	if (test < 0)
		die("fork");
	if (test > 0)
		close(machine_proc); /* not in the tree's dump */
	if (test == 0) {
		if (setsid() < 0)
			die("setsid (test)");
		put("nsinit.test", proc_pid(machine_proc));
		close(machine_proc);
		execl(test_bin, test_bin, workdir, (char *)NULL);
		die(test_bin);
	}
	for (;;) {
		p = wait(&status);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			_exit(2);
		if (p == test)
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}

static void write_map(pid_t pid, const char *file, const char *text)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd))
		die(path);
}

int main(int argc, char **argv)
{
	int flags = CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET;
	bool user = argc == 4 && !strcmp(argv[1], "-u");
	char map[64];
	pid_t init, p;
	int status;

	if (argc != 3 && !user) {
		dprintf(2, "usage: nsinit [-u] TEST WORKDIR\n");
		return 2;
	}
	test_bin = argv[argc - 2];
	workdir = argv[argc - 1];
	user_ns = user;
	if (user)
		flags |= CLONE_NEWUSER;
	if (user && setsid() < 0)
		die("setsid");
	if (pipe(go))
		die("pipe");
	init = clone(init_main, stack + sizeof(stack), flags | SIGCHLD, NULL);
	if (init < 0)
		die("clone");
	close(go[0]);
	if (user) {
		snprintf(map, sizeof(map), "0 %d %d\n", MAP_LOWER, MAP_COUNT);
		write_map(init, "uid_map", map);
		write_map(init, "setgroups", "deny");
		write_map(init, "gid_map", map);
	}
	put("nsinit.pid", user ? getpid() : init);
	if (write(go[1], "g", 1) != 1)
		die("write");
	close(go[1]);
	if (!user)
		return 0;
	while ((p = waitpid(init, &status, 0)) < 0 && errno == EINTR)
		;
	if (p < 0)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
