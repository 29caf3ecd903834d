// SPDX-License-Identifier: GPL-2.0
/*
 * subreaper CMD ARGS...: runs CMD as a child subreaper, so that every orphan
 * below it (test programs, detached restores) is reaped here instead of by a
 * pid 1 that may not reap at all. Exits with CMD's status after killing and
 * reaping whatever descendants are left, so a test run never leaks tasks.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t cmd_pid;

/* Ctrl-C or a kill of the runner must end CMD cleanly, not orphan it. */
static void forward(int sig)
{
	if (cmd_pid > 0)
		kill(cmd_pid, sig);
}

static pid_t stat_ppid(const char *pid)
{
	char path[300], buf[512], *p;
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	/* comm may hold spaces and parentheses: the state follows the last ')'. */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 1, " %*c %d", &ppid);
	fclose(f);
	return ppid;
}

static void kill_children(void)
{
	pid_t self = getpid();
	struct dirent *de;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && stat_ppid(de->d_name) == self)
			kill(atoi(de->d_name), SIGKILL);
	closedir(d);
}

/* Killing a child reparents its children to us: repeat until none is left. */
static void reap_all(void)
{
	for (;;) {
		kill_children();
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			return;
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = forward};
	int status = 0;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CMD [ARGS...]\n", argv[0]);
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("subreaper: PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("subreaper: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "subreaper: cannot run %s: %m\n", argv[1]);
		_exit(127);
	}
	cmd_pid = pid;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);

		if (w == pid) {
			status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (w < 0 && errno != EINTR) {
			status = 1;
			break;
		}
	}
	cmd_pid = 0;
	reap_all();
	return status;
}
