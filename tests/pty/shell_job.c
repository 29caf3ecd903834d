/*
 * The --shell-job test: makes a pty and, on it, a "shell" (session leader,
 * controlling terminal) that starts tests/pty/job in the foreground, then
 * runs nestor dump -j and nestor restore -j -d from that terminal, as a
 * user at a shell would. CI has no terminal of its own, so we make one.
 * Usage: shell_job NESTOR JOB WORKDIR; prints PASS/FAIL lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *nestor, *job, *dir;
static FILE *verdict;

static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool wait_file(const char *name, int ms)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	for (int i = 0; i < ms / 10; i++) {
		if (!access(p, F_OK))
			return true;
		usleep(10000);
	}
	return false;
}

/* The shell: its own session on the pty; reaps what reparents to it. */
static int shell(void)
{
	char img[512], pidstr[32], result[256] = "", path[512];
	pid_t pid;
	int fd;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)job, (char *)dir, NULL };
		setpgid(0, 0);
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(0, getpid());
		signal(SIGTTOU, SIG_DFL);
		execv(job, argv);
		_exit(127);
	}
	setpgid(pid, pid);
	if (!wait_file("ready", 10000))
		return fprintf(verdict, "FAIL shell_job: the job did not get ready\n"), 1;
	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	char *dump[] = { (char *)nestor, "dump", "-j", "-t", pidstr, "-D", img, "-v4", "-o", "dump.log", NULL };
	char *rst[] = { (char *)nestor, "restore", "-j", "-d", "-D", img, "-v4", "-o", "restore.log", NULL };
	if (run(dump))
		return fprintf(verdict, "FAIL shell_job: nestor dump -j failed\n"), 1;
	waitpid(pid, NULL, 0); /* the killed original */
	if (run(rst))
		return fprintf(verdict, "FAIL shell_job: nestor restore -j failed\n"), 1;
	kill(pid, SIGTERM);
	if (!wait_file("result", 10000)) {
		kill(pid, SIGKILL);
		return fprintf(verdict, "FAIL shell_job: no result after restore\n"), 1;
	}
	waitpid(pid, NULL, 0);
	snprintf(path, sizeof(path), "%s/result", dir);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		(void)!read(fd, result, sizeof(result) - 1);
		close(fd);
	}
	result[strcspn(result, "\n")] = 0;
	if (strncmp(result, "PASS", 4))
		return fprintf(verdict, "FAIL shell_job: %s\n", result), 1;
	return fprintf(verdict, "PASS shell_job (restore)\n"), 0;
}

int main(int argc, char **argv)
{
	int master, slave, status;
	pid_t sh;

	if (argc != 4)
		return fprintf(stderr, "usage: shell_job NESTOR JOB WORKDIR\n"), 2;
	nestor = argv[1], job = argv[2], dir = argv[3];
	setvbuf(stdout, NULL, _IONBF, 0);
	if (openpty(&master, &slave, NULL, NULL, NULL))
		return printf("FAIL shell_job: openpty: %s\n", strerror(errno)), 1;
	int out = dup(1);
	sh = fork();
	if (sh == 0) {
		close(master);
		setsid();
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(slave);
		/* Verdicts go to our real stdout; stdio stays on the terminal. */
		verdict = fdopen(fcntl(out, F_DUPFD_CLOEXEC, 3), "w");
		close(out);
		if (!verdict)
			_exit(1);
		setvbuf(verdict, NULL, _IONBF, 0);
		/* A job holds only its terminal: nothing we inherited leaks into it. */
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		_exit(shell());
	}
	close(slave);
	close(out);
	/* Drain the terminal so nothing blocks on a full pty. */
	for (;;) {
		char buf[4096];
		struct pollfd p = { master, POLLIN, 0 };

		if (waitpid(sh, &status, WNOHANG) == sh)
			break;
		if (poll(&p, 1, 100) > 0 && read(master, buf, sizeof(buf)) < 0 && errno != EAGAIN)
			usleep(10000);
	}
	close(master);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
