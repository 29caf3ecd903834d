// SPDX-License-Identifier: GPL-2.0
/*
 * exe: /proc/self/exe still names the test binary (same file, not deleted),
 * and the code runs from a mapping of that same file.
 */
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

static void read_exe(char *buf, struct stat *st)
{
	ssize_t n = readlink("/proc/self/exe", buf, PATH_MAX - 1);

	if (n < 0 || stat("/proc/self/exe", st))
		fail("/proc/self/exe: %m");
	buf[n] = '\0';
}

int main(int argc, char **argv)
{
	char want[PATH_MAX], got[PATH_MAX];
	struct stat st_want, st;
	struct vma_info vma;

	test_init(argc, argv);
	read_exe(want, &st_want);

	test_daemon();
	test_waitsig();

	read_exe(got, &st);
	if (strcmp(got, want))
		fail("exe '%s', expected '%s'", got, want);
	if (st.st_ino != st_want.st_ino || st.st_dev != st_want.st_dev)
		fail("exe inode %lu, expected %lu", st.st_ino, st_want.st_ino);
	if (vma_find((void *)main, &vma) || strcmp(vma.name, want))
		fail("code of main() is mapped from '%s', expected '%s'", vma.name, want);
	pass();
}
