// SPDX-License-Identifier: GPL-2.0
/*
 * nested flat|ns: the workload of bench/nested.sh, 30 tasks in three
 * levels. Each level is an unsharer a_k, its child i_k and i_k's leaves
 * (9, 7, 7); i_k's first child is a_(k+1). With "ns" each a_k unshares a
 * user namespace (root in it, mapped by its parent) and a pid namespace it
 * owns, so that i_k is that namespace's init: a container running a
 * container running a container. With "flat" the same tree has no
 * namespace. The root writes "ready" once every task exists; then all sleep.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define LEVELS 3
static const int leaves[LEVELS] = { 9, 7, 7 };
static bool ns;
static int bar[2]; /* every task writes one byte once it exists */

static void die(const char *what)
{
	perror(what);
	_exit(1);
}

static void __attribute__((noreturn)) sleep_forever(void)
{
	if (write(bar[1], "x", 1) != 1)
		die("write");
	close(bar[1]);
	close(bar[0]);
	for (;;)
		pause();
}

static void write_map(pid_t pid, const char *file, const char *map)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
		die(path);
	close(fd);
}

static void __attribute__((noreturn)) a_main(int level, int up);

/* Forks a_level; with namespaces, maps its user namespace once it made it. */
static void make_a(int level)
{
	static const char *const maps[] = { "0 400000 10000\n", "0 1000 1000\n", "0 100 100\n" };
	int sk[2];
	pid_t a, host;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		die("socketpair");
	a = fork();
	if (a < 0)
		die("fork");
	if (a == 0) {
		close(sk[0]);
		a_main(level, sk[1]);
	}
	close(sk[1]);
	if (ns) {
		if (read(sk[0], &host, sizeof(host)) != sizeof(host))
			die("read");
		write_map(host, "gid_map", maps[level]);
		write_map(host, "uid_map", maps[level]);
		if (write(sk[0], "m", 1) != 1)
			die("write");
	}
	close(sk[0]);
}

static void __attribute__((noreturn)) i_main(int level)
{
	if (level + 1 < LEVELS)
		make_a(level + 1);
	for (int k = 0; k < leaves[level]; k++) {
		pid_t p = fork();

		if (p < 0)
			die("fork");
		if (p == 0)
			sleep_forever();
	}
	sleep_forever();
}

static void __attribute__((noreturn)) a_main(int level, int up)
{
	char self[32] = "", c;
	pid_t i;

	if (ns) {
		pid_t host;

		if (readlink("/proc/self", self, sizeof(self) - 1) <= 0)
			die("readlink");
		host = atoi(self);
		if (unshare(CLONE_NEWUSER) || write(up, &host, sizeof(host)) != sizeof(host) ||
		    read(up, &c, 1) != 1)
			die("unshare user");
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0) || prctl(PR_SET_DUMPABLE, 1) ||
		    unshare(CLONE_NEWPID))
			die("unshare pid");
	}
	close(up);
	i = fork();
	if (i < 0)
		die("fork");
	if (i == 0)
		i_main(level);
	sleep_forever();
}

int main(int argc, char **argv)
{
	int n = 0, want = 1;
	char c;

	if (argc != 2 || (strcmp(argv[1], "flat") && strcmp(argv[1], "ns"))) {
		fprintf(stderr, "usage: nested flat|ns\n");
		return 2;
	}
	ns = !strcmp(argv[1], "ns");
	for (int l = 0; l < LEVELS; l++)
		want += 2 + leaves[l];
	if (pipe(bar))
		die("pipe");
	make_a(0);
	close(bar[1]);
	while (n < want - 1 && read(bar[0], &c, 1) == 1)
		n++;
	close(bar[0]);
	if (n != want - 1)
		die("a task died in set-up");
	close(open("ready", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	for (;;)
		pause();
}
