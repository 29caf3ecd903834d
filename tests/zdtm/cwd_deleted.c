// SPDX-License-Identifier: GPL-2.0
/*
 * cwd_deleted: a task whose cwd was removed, and a child whose root (and
 * cwd) is a directory removed after it chrooted there. After restore both
 * are directories removed again (their links say "(deleted)"), and nothing
 * is left at the old names.
 */
#include <errno.h>
#include <sys/stat.h>

#include "tree.h"

static void check_link(const char *link, const char *path)
{
	char got[4200], want[4200];
	ssize_t n = readlink(link, got, sizeof(got) - 1);

	got[n < 0 ? 0 : n] = '\0';
	snprintf(want, sizeof(want), "%s (deleted)", path);
	if (strcmp(got, want))
		fail("%s links to '%s', expected '%s'", link, got, want);
	if (access(path, F_OK) == 0 || errno != ENOENT)
		fail("%s exists again after restore", path);
}

int main(int argc, char **argv)
{
	char *gone, *jail, link[64];
	struct stat st;
	pid_t pid;
	int p[2];

	test_init(argc, argv);
	tree_init();
	gone = test_path("gone");
	jail = test_path("jail");
	if (mkdir(gone, 0755) || mkdir(jail, 0755) || pipe(p))
		fail("setup: %m");
	pid = tree_fork("jailed");
	if (!pid) {
		close(p[0]);
		if (chroot(jail) || chdir("/") || write(p[1], "j", 1) != 1)
			_exit(1);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], link, 1) != 1)
		fail("the child did not chroot");
	close(p[0]);
	if (rmdir(jail) || chdir(gone) || rmdir(gone))
		fail("rmdir: %m");

	test_daemon();
	test_waitsig();

	check_link("/proc/self/cwd", gone);
	if (stat(".", &st) || !S_ISDIR(st.st_mode) || st.st_nlink != 0)
		fail("cwd: mode %#o links %lu, expected a removed directory", st.st_mode,
		     (unsigned long)st.st_nlink);
	snprintf(link, sizeof(link), "/proc/%d/root", pid);
	check_link(link, jail);
	snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
	check_link(link, jail);
	kill(pid, SIGKILL);
	tree_wait(pid, NULL, 0, 5000);
	pass();
}
