/*
 * cgroup: the task moved itself into a cgroup of its own (a child of the
 * one it started in, in the pids hierarchy); after restore it is in it again.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "zdtm.h"

static char base[4200], mine[4300];

static int put(const char *dir, const char *file, const char *text)
{
	char path[4300];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	r = write(fd, text, strlen(text)) < 0 ? -1 : 0;
	close(fd);
	return r;
}

/* Our path in the pids hierarchy, from /proc/self/cgroup. */
static int pids_path(char *buf, size_t len)
{
	char line[4200];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int r = -1;

	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, ":pids:");
		if (p) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", p + 6);
			r = 0;
		}
	}
	if (f)
		fclose(f);
	return r;
}

/* Back where we started, and our cgroup gone, whatever happened. */
static void leave(void)
{
	put(base, "cgroup.procs", "0");
	rmdir(mine);
}

int main(int argc, char **argv)
{
	char path[4096], want[4200];
	struct stat st;

	test_init(argc, argv);
	if (stat("/sys/fs/cgroup/pids", &st) || pids_path(path, sizeof(path)))
		skip("no cgroup v1 pids hierarchy");
	snprintf(base, sizeof(base), "/sys/fs/cgroup/pids%s", strcmp(path, "/") ? path : "");
	snprintf(mine, sizeof(mine), "%s/nestor-zdtm-%d", base, getpid());
	if (mkdir(mine, 0755) || put(mine, "cgroup.procs", "0"))
		skip("cannot make a cgroup: %m");
	atexit(leave);
	snprintf(want, sizeof(want), "%s/nestor-zdtm-%d", strcmp(path, "/") ? path : "", getpid());
	test_daemon();
	test_waitsig();
	if (pids_path(path, sizeof(path)) || strcmp(path, want))
		fail("in pids cgroup %s, expected %s", path, want);
	pass();
}
