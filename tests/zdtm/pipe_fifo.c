// SPDX-License-Identifier: GPL-2.0
/*
 * pipe_fifo: a named FIFO in WORKDIR, open in the root for reading
 * (O_NONBLOCK) and for writing, and in a child read-write; a 128 KiB
 * capacity and 6000 unread bytes from both tasks. After restore every fd
 * is the FIFO at that path (a fresh open of the path reaches the same
 * pipe), with its access mode and flags, and the bytes come out in order.
 */
#include <sys/stat.h>

#include "tree.h"

#define PIPE_SZ	  (128 * 1024)
#define ROOT_LEN  5000
#define CHILD_LEN 1000

static char *path;

static char byte(int i)
{
	return (char)(i * 11 + i / 253);
}

static void check_fd(int fd, int flags, const char *what)
{
	struct stat a, b;
	int fl = fcntl(fd, F_GETFL);

	if (fstat(fd, &a) || stat(path, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev ||
	    !S_ISFIFO(a.st_mode))
		tree_fail("%s: fd %d is not the FIFO %s", what, fd, path);
	if ((fl & (O_ACCMODE | O_NONBLOCK)) != flags)
		tree_fail("%s: flags %#x, expected %#x", what, fl, flags);
	if (fcntl(fd, F_GETPIPE_SZ) != PIPE_SZ)
		tree_fail("%s: capacity %d, expected %d", what, fcntl(fd, F_GETPIPE_SZ), PIPE_SZ);
}

static void write_bytes(int fd, int from, int len)
{
	char buf[ROOT_LEN];

	for (int i = 0; i < len; i++)
		buf[i] = byte(from + i);
	if (write(fd, buf, len) != len)
		tree_fail("write: %m");
}

/* Non-blocking read of exactly len bytes with the pattern from 'from'. */
static void read_bytes(int fd, int from, int len, const char *what)
{
	char buf[ROOT_LEN + CHILD_LEN + 1];
	int n = 0;

	for (long deadline = tree_now_ms() + TREE_TIMEOUT_MS; n < len;) {
		ssize_t r = read(fd, buf + n, len + 1 - n);

		if (r > 0)
			n += r;
		else if (r == 0 || errno != EAGAIN || tree_now_ms() > deadline)
			fail("%s: %d of %d bytes, then %s", what, n, len,
			     r ? strerror(errno) : "EOF");
		else
			tree_sleep_ms(2);
	}
	if (n != len || read(fd, buf, 1) != -1 || errno != EAGAIN)
		fail("%s: more than the %d bytes written", what, len);
	for (int i = 0; i < len; i++)
		if (buf[i] != byte(from + i))
			fail("%s: byte %d is %#x, expected %#x", what, i, (unsigned char)buf[i],
			     (unsigned char)byte(from + i));
}

int main(int argc, char **argv)
{
	int rd, wr, other;
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	path = test_path("fifo");
	if (mkfifo(path, 0600))
		fail("mkfifo: %m");
	rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	wr = open(path, O_WRONLY | O_CLOEXEC);
	if (rd < 0 || wr < 0 || fcntl(wr, F_SETPIPE_SZ, PIPE_SZ) != PIPE_SZ)
		fail("open %s: %m", path);
	write_bytes(wr, 0, ROOT_LEN);
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		int fd;

		close(rd);
		close(wr);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			tree_fail("open: %m");
		write_bytes(fd, ROOT_LEN, CHILD_LEN);
		tree_ready(fd);
		test_waitsig();
		check_fd(fd, O_RDWR, "child's fd");
		write_bytes(fd, 0, 5);
		tree_pass();
	}
	tree_barrier_wait(1, NULL);

	test_daemon();
	test_waitsig();

	check_fd(rd, O_RDONLY | O_NONBLOCK, "read fd");
	check_fd(wr, O_WRONLY, "write fd");
	read_bytes(rd, 0, ROOT_LEN + CHILD_LEN, "queued data");
	tree_finish(pid, "child");
	read_bytes(rd, 0, 5, "the child's write after restore");
	write_bytes(wr, 7, 10);
	read_bytes(rd, 7, 10, "the root's write after restore");
	other = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (other < 0)
		fail("open %s for writing after restore: %m (no reader?)", path);
	write_bytes(other, 3, 20);
	read_bytes(rd, 3, 20, "a write through a fresh open of the path");
	pass();
}
