// SPDX-License-Identifier: GPL-2.0
/*
 * pty_owner: a pty inside the task whose slave (/dev/pts/N) was given to
 * 1234:5678 with mode 0600, as login programs give a terminal to its user.
 * After restore the slave has the same index, owner and mode.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

int main(int argc, char **argv)
{
	char path[64];
	struct stat st;
	int m, s, index;

	test_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || unlockpt(m) || ioctl(m, TIOCGPTN, &index))
		fail("posix_openpt: %m");
	snprintf(path, sizeof(path), "/dev/pts/%d", index);
	s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || fchown(s, 1234, 5678) || fchmod(s, 0600))
		fail("open, fchown or fchmod %s: %m", path);

	test_daemon();
	test_waitsig();

	if (ioctl(m, TIOCGPTN, &index) || snprintf(path, sizeof(path), "/dev/pts/%d", index) < 0 ||
	    fstat(s, &st))
		fail("TIOCGPTN or fstat: %m");
	if (st.st_uid != 1234 || st.st_gid != 5678 || (st.st_mode & 07777) != 0600)
		fail("%s: owner %u:%u mode %#o, expected 1234:5678 0600", path, st.st_uid, st.st_gid,
		     st.st_mode & 07777);
	pass();
}
