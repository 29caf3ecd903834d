/*
 * tree_exec: a child that exec'd (its own vDSO, elsewhere than its parent's)
 * keeps running after restore and keeps using the vDSO: it writes a
 * clock_gettime() heartbeat that the root checks moves on.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "zdtm.h"

static long long beat(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atoll(buf);
}

/* The exec'd child: a heartbeat from the vDSO's clock every 20 ms. */
static int child_main(const char *path)
{
	char tmp[4200];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		struct timespec ts, nap = { 0, 20 * 1000 * 1000 };
		char buf[32];
		int fd;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(buf, sizeof(buf), "%lld\n", ts.tv_sec * 1000000000LL + ts.tv_nsec);
		/* Written aside and renamed: the root never reads half a beat. */
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			if (write(fd, buf, strlen(buf)) < 0)
				return 1;
			close(fd);
			rename(tmp, path);
		}
		nanosleep(&nap, NULL);
	}
}

int main(int argc, char **argv)
{
	char *path, self[4096];
	long long b0, b1;
	pid_t child;
	int status;

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child_main(argv[2]);
	test_init(argc, argv);
	path = test_path("beat");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		fail("readlink: %m");
	self[n] = 0;
	child = fork();
	if (child == 0) {
		execl(self, self, "--child", path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && beat(path) <= 0; i++)
		usleep(10000);
	if (beat(path) <= 0)
		fail("the exec'd child gives no heartbeat");
	test_daemon();
	test_waitsig();
	b0 = beat(path);
	usleep(200000);
	b1 = beat(path);
	if (kill(child, 0) || waitpid(child, &status, WNOHANG) != 0)
		fail("the exec'd child %d is gone", child);
	if (b1 <= b0)
		fail("the exec'd child's heartbeat stopped (%lld, then %lld)", b0, b1);
	kill(child, SIGKILL);
	if (waitpid(child, &status, 0) != child || !WIFSIGNALED(status))
		fail("the exec'd child %d did not die of SIGKILL", child);
	pass();
}
