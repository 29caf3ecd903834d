/*
 * chroot: the task's root directory is its work dir, and its cwd a
 * directory below it. Both must be the same directories after restore.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "zdtm.h"

int main(int argc, char **argv)
{
	struct stat root_before, cwd_before, st;

	test_init(argc, argv);
	if (mkdir(test_path("sub"), 0755) || stat(test_dir, &root_before) ||
	    stat(test_path("sub"), &cwd_before))
		fail("setup: %m");
	if (chroot(test_dir) || chdir("/sub"))
		fail("chroot %s: %m", test_dir);
	test_dir = "/"; /* ready and result now live at our new root */
	test_daemon();
	test_waitsig();
	if (stat("/", &st) || st.st_ino != root_before.st_ino || st.st_dev != root_before.st_dev)
		fail("root is inode %lu, expected %lu (the work dir)", (unsigned long)st.st_ino,
		     (unsigned long)root_before.st_ino);
	if (stat("/..", &st) || st.st_ino != root_before.st_ino)
		fail("/.. escapes the root: inode %lu", (unsigned long)st.st_ino);
	if (stat(".", &st) || st.st_ino != cwd_before.st_ino)
		fail("cwd is inode %lu, expected %lu (/sub)", (unsigned long)st.st_ino,
		     (unsigned long)cwd_before.st_ino);
	if (access("/ready", F_OK))
		fail("/ready is not visible at the root");
	pass();
}
