// SPDX-License-Identifier: GPL-2.0
/*
 * cwd: the working directory (a directory inside WORKDIR, not where the
 * test was started) is the same directory after restore, and relative
 * paths resolve in it.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

int main(int argc, char **argv)
{
	char *dir, want[PATH_MAX], got[PATH_MAX];
	struct stat st_dir, st;
	int fd;

	test_init(argc, argv);
	dir = test_path("cwd.d");
	if (mkdir(dir, 0755) || chdir(dir) || !getcwd(want, sizeof(want)) || stat(".", &st_dir))
		fail("making and entering %s: %m", dir);
	fd = open("marker", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("creating marker: %m");
	close(fd);

	test_daemon();
	test_waitsig();

	if (!getcwd(got, sizeof(got)))
		fail("getcwd: %m");
	if (strcmp(got, want))
		fail("cwd '%s', expected '%s'", got, want);
	if (stat(".", &st) || st.st_ino != st_dir.st_ino || st.st_dev != st_dir.st_dev)
		fail("cwd is another directory with the same name (inode %lu, expected %lu)",
		     st.st_ino, st_dir.st_ino);
	if (access("marker", F_OK))
		fail("relative path 'marker' does not resolve: %m");
	pass();
}
