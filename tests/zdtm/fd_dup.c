// SPDX-License-Identifier: GPL-2.0
/*
 * fd_dup: duplicated descriptors share one open file description (offset
 * and status flags move together) while a second open() of the same file
 * stays separate; kcmp() confirms it where the kernel has it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

static int kcmp_file(int a, int b)
{
	pid_t pid = getpid();

	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b);
}

int main(int argc, char **argv)
{
	int a, b, c, other;
	char *path;

	test_init(argc, argv);
	path = test_path("fd_dup.dat");
	a = open(path, O_RDWR | O_CREAT, 0644);
	other = open(path, O_RDWR | O_CLOEXEC);
	if (a < 0 || other < 0 || ftruncate(a, 100))
		fail("open %s: %m", path);
	b = dup(a);
	c = fcntl(a, F_DUPFD_CLOEXEC, 50);
	if (b < 0 || c < 0 || lseek(a, 10, SEEK_SET) != 10 || lseek(other, 3, SEEK_SET) != 3)
		fail("dup: %m");

	test_daemon();
	test_waitsig();

	if (lseek(b, 42, SEEK_SET) != 42)
		fail("lseek: %m");
	if (lseek(a, 0, SEEK_CUR) != 42 || lseek(c, 0, SEEK_CUR) != 42)
		fail("seek on fd %d moved fd %d to %ld and fd %d to %ld, expected both at 42", b, a,
		     lseek(a, 0, SEEK_CUR), c, lseek(c, 0, SEEK_CUR));
	if (lseek(other, 0, SEEK_CUR) != 3)
		fail("separately opened fd %d at offset %ld, expected 3", other,
		     lseek(other, 0, SEEK_CUR));
	if (fcntl(c, F_SETFL, O_NONBLOCK) || !(fcntl(a, F_GETFL) & O_NONBLOCK) ||
	    (fcntl(other, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK set on fd %d: fd %d %s, fd %d %s", c, a,
		     fcntl(a, F_GETFL) & O_NONBLOCK ? "has it" : "lacks it (must share)", other,
		     fcntl(other, F_GETFL) & O_NONBLOCK ? "has it (must not)" : "lacks it");
	if (fcntl(a, F_GETFD) != 0 || fcntl(b, F_GETFD) != 0 || fcntl(c, F_GETFD) != FD_CLOEXEC)
		fail("fd flags %d %d %d, expected 0 0 1", fcntl(a, F_GETFD), fcntl(b, F_GETFD),
		     fcntl(c, F_GETFD));
	if (kcmp_file(a, b) < 0 && errno == ENOSYS)
		pass();
	if (kcmp_file(a, b) || kcmp_file(a, c) || kcmp_file(a, other) == 0)
		fail("kcmp: %d and %d %s, %d and %d %s", a, b, kcmp_file(a, b) ? "differ" : "same",
		     a, other, kcmp_file(a, other) ? "differ" : "same (must differ)");
	pass();
}
