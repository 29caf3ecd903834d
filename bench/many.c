/*
 * A workload of many sleeping tasks for the tree and thread benchmarks.
 *   many children N WORKDIR   N children, each asleep in pause()
 *   many threads N WORKDIR    N extra threads, each asleep in pause()
 * It creates WORKDIR/ready once all are asleep, then sleeps itself. After a
 * restore, SIGUSR1 makes it count its children or threads and write
 * "OK n" or "BAD n" to WORKDIR/result.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char *dir;
static int want;
static int threads;
static volatile sig_atomic_t check;

static void on_usr1(int sig)
{
	(void)sig;
	check = 1;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* Children (of every thread) or threads, as /proc tells them now. */
static int count(void)
{
	char path[64], buf[1 << 16];
	int n = 0, fd;
	ssize_t len;

	if (threads) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *de;

		while (d && (de = readdir(d)))
			n += de->d_name[0] != '.';
		if (d)
			closedir(d);
		return n - 1;
	}
	/* 10,000 children take more than one read of buf. */
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", getpid());
	fd = open(path, O_RDONLY);
	while (fd >= 0 && (len = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < len; i++)
			n += buf[i] == ' ';
	if (fd >= 0)
		close(fd);
	return n;
}

static void put(const char *name, const char *text)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			fd = fd;
		close(fd);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	char text[64];

	if (argc != 4 || (strcmp(argv[1], "children") && strcmp(argv[1], "threads"))) {
		fprintf(stderr, "usage: many children|threads N WORKDIR\n");
		return 2;
	}
	threads = !strcmp(argv[1], "threads");
	want = atoi(argv[2]);
	dir = argv[3];
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < want; i++) {
		pthread_t t;

		if (threads) {
			if (pthread_create(&t, NULL, sleeper, NULL))
				return 1;
		} else if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}
	while (count() < want)
		usleep(1000);
	usleep(20000); /* all asleep */
	put("ready", "ready\n");
	while (!check)
		pause();
	snprintf(text, sizeof(text), "%s %d\n", count() == want ? "OK" : "BAD", count());
	put("result", text);
	for (;;)
		pause();
}
