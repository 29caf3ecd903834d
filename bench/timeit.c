// SPDX-License-Identifier: GPL-2.0
/*
 * timeit NSFILE CMD [ARGS...]: runs CMD and writes its wall time in
 * nanoseconds (CLOCK_MONOTONIC, from spawn to reap) into NSFILE. Exits with
 * CMD's status, 128+N if a signal N killed it. posix_spawn (a vfork), not a
 * shell's fork, so the figure is CMD's own cost plus a few microseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long long t0, t1;
	int status, r, fd;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: %s NSFILE CMD [ARGS...]\n", argv[0]);
		return 2;
	}
	t0 = now_ns();
	r = posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ);
	if (r) {
		fprintf(stderr, "timeit: cannot run %s: %s\n", argv[2], strerror(r));
		return 127;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("timeit: waitpid");
			return 126;
		}
	t1 = now_ns();
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%lld\n", t1 - t0) < 0) {
		perror("timeit: cannot write the time");
		return 126;
	}
	close(fd);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
