// SPDX-License-Identifier: GPL-2.0
/*
 * fd_file: regular file descriptors keep their file, access mode and status
 * flags, fd flags and offsets; an O_APPEND descriptor still writes at the end.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

#define DATA "0123456789abcdefghij"

static const struct {
	int flags;
	off_t off;
} fds[] = {
    {O_RDWR | O_CLOEXEC, 5},
    {O_WRONLY | O_APPEND, 20},
    {O_RDONLY | O_NONBLOCK | O_NOATIME, 12},
};
#define NFDS 3

int main(int argc, char **argv)
{
	int fd[NFDS], fl[NFDS], fdfl[NFDS];
	char *path = NULL, buf[8];
	struct stat st_file, st;

	test_init(argc, argv);
	path = test_path("fd_file.dat");
	fd[0] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd[0] < 0 || write(fd[0], DATA, 20) != 20 || stat(path, &st_file))
		fail("creating %s: %m", path);
	close(fd[0]);
	for (int i = 0; i < NFDS; i++) {
		fd[i] = open(path, fds[i].flags);
		if (fd[i] < 0 || lseek(fd[i], fds[i].off, SEEK_SET) != fds[i].off)
			fail("open %s flags %#x: %m", path, fds[i].flags);
		fl[i] = fcntl(fd[i], F_GETFL);
		fdfl[i] = fcntl(fd[i], F_GETFD);
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NFDS; i++) {
		off_t off = lseek(fd[i], 0, SEEK_CUR);

		if (fstat(fd[i], &st) || st.st_ino != st_file.st_ino || st.st_dev != st_file.st_dev)
			fail("fd %d: not the file %s (inode %lu, expected %lu): %m", fd[i], path,
			     st.st_ino, st_file.st_ino);
		if (fcntl(fd[i], F_GETFL) != fl[i] || fcntl(fd[i], F_GETFD) != fdfl[i])
			fail("fd %d: flags %#x fd flags %#x, expected %#x %#x", fd[i],
			     fcntl(fd[i], F_GETFL), fcntl(fd[i], F_GETFD), fl[i], fdfl[i]);
		if (off != fds[i].off)
			fail("fd %d: offset %ld, expected %ld", fd[i], off, fds[i].off);
	}
	if (read(fd[0], buf, 3) != 3 || memcmp(buf, "567", 3))
		fail("read at offset 5 gave '%.3s', expected '567'", buf);
	if (lseek(fd[1], 0, SEEK_SET) || write(fd[1], "XYZ", 3) != 3)
		fail("append write: %m");
	if (pread(fd[2], buf, 4, 19) != 4 || memcmp(buf, "jXYZ", 4))
		fail("O_APPEND write did not go to the end: bytes 19-22 are '%.4s'", buf);
	pass();
}
