// SPDX-License-Identifier: GPL-2.0
/*
 * pipe_tree: pipes between the root and its child. up (child to root):
 * 64 KiB capacity, 60000 unread bytes, O_NONBLOCK on the root's read end.
 * down (root to child): 128 KiB, 100000 unread bytes (more than a default
 * pipe holds), blocking. wake (root to child): one page, empty, and the
 * child asleep in read() on it at the checkpoint. After restore each end
 * is in the right task with its flags and capacity, the data comes out
 * exactly, the sleeping read wakes only for the root's byte, and both
 * directions still carry new data.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include "tree.h"

#define UP_SZ	 (64 * 1024)
#define UP_LEN	 60000
#define DOWN_SZ	 (128 * 1024)
#define DOWN_LEN 100000
#define WAKE_SZ	 4096

static char buf[DOWN_LEN + 1];

static char byte(int seed, int i)
{
	return (char)(i * 7 + i / 251 + seed);
}

static void check_end(int fd, int size, bool nonblock, const char *what)
{
	int sz = fcntl(fd, F_GETPIPE_SZ), fl = fcntl(fd, F_GETFL);

	if (sz != size || !(fl & O_NONBLOCK) != !nonblock)
		tree_fail("%s: capacity %d flags %#x, expected %d and O_NONBLOCK %s", what, sz, fl,
			  size, nonblock ? "set" : "clear");
}

/* Reads exactly len bytes (bounded), then checks nothing more is there. */
static void read_all(int fd, size_t len, int seed, const char *what)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t n = 0;

	while (n < len) {
		ssize_t r;

		if (poll(&pfd, 1, TREE_TIMEOUT_MS) != 1)
			tree_fail("%s: %zu of %zu bytes, then nothing", what, n, len);
		r = read(fd, buf + n, len - n);
		if (r <= 0)
			tree_fail("%s: read after %zu bytes: %zd (%m)", what, n, r);
		n += r;
	}
	if (poll(&pfd, 1, 0) != 0)
		tree_fail("%s: more than the %zu bytes written", what, len);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != byte(seed, i))
			tree_fail("%s: byte %zu is %#x, expected %#x", what, i,
				  (unsigned char)buf[i], (unsigned char)byte(seed, i));
}

static void write_all(int fd, size_t len, int seed, const char *what)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = byte(seed, i);
	if (write(fd, buf, len) != (ssize_t)len)
		tree_fail("%s: write: %m", what);
}

static void __attribute__((noreturn)) child(int up, int down, int wake)
{
	char c = 0;
	ssize_t r;

	write_all(up, UP_LEN, 1, "up");
	tree_ready(0);
	/* Asleep here at the checkpoint; only the root's byte may end it. */
	r = read(wake, &c, 1);
	if (r != 1 || c != 'g')
		tree_fail("read on the wake pipe gave %zd (%s) byte %#x, expected 'g'", r,
			  r < 0 ? strerror(errno) : "-", c);
	check_end(wake, WAKE_SZ, false, "wake read end");
	check_end(up, UP_SZ, false, "up write end");
	check_end(down, DOWN_SZ, false, "down read end");
	read_all(down, DOWN_LEN, 2, "down");
	write_all(up, 100, 3, "up after restore");
	read_all(down, 200, 4, "down after restore");
	tree_pass();
}

/* The child's fd is the other end of the pipe the root holds. */
static void check_peer(pid_t pid, int fd, int child_fd, const char *what)
{
	struct stat a, b;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, child_fd);
	if (fstat(fd, &a) || stat(path, &b) || a.st_ino != b.st_ino || !S_ISFIFO(b.st_mode))
		fail("%s: the child's fd %d is not the other end of the root's fd %d", what,
		     child_fd, fd);
}

int main(int argc, char **argv)
{
	int up[2], down[2], wake[2];
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	if (pipe2(up, O_CLOEXEC) || pipe2(down, O_CLOEXEC) || pipe2(wake, O_CLOEXEC) ||
	    fcntl(up[0], F_SETPIPE_SZ, UP_SZ) != UP_SZ ||
	    fcntl(down[0], F_SETPIPE_SZ, DOWN_SZ) != DOWN_SZ ||
	    fcntl(wake[0], F_SETPIPE_SZ, WAKE_SZ) != WAKE_SZ || fcntl(up[0], F_SETFL, O_NONBLOCK))
		fail("pipe set-up: %m");
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		close(up[0]);
		close(down[1]);
		close(wake[1]);
		child(up[1], down[0], wake[0]);
	}
	close(up[1]);
	close(down[0]);
	close(wake[0]);
	write_all(down[1], DOWN_LEN, 2, "down");
	tree_barrier_wait(1, NULL);
	tree_wait_syscall(pid, pid, SYS_read, "child");

	test_daemon();
	test_waitsig();

	check_end(up[0], UP_SZ, true, "up read end");
	check_end(down[1], DOWN_SZ, false, "down write end");
	check_end(wake[1], WAKE_SZ, false, "wake write end");
	check_peer(pid, up[0], up[1], "up");
	check_peer(pid, down[1], down[0], "down");
	check_peer(pid, wake[1], wake[0], "wake");
	if (tree_syscall_nr(pid, pid) != SYS_read)
		fail("the child is in syscall %ld, expected still in read()",
		     tree_syscall_nr(pid, pid));
	read_all(up[0], UP_LEN, 1, "up");
	if (read(up[0], buf, 1) != -1 || errno != EAGAIN)
		fail("up: empty non-blocking read did not give EAGAIN");
	if (write(wake[1], "g", 1) != 1)
		fail("wake: write: %m");
	read_all(up[0], 100, 3, "up after restore");
	write_all(down[1], 200, 4, "down after restore");
	tree_collect(pid, "child");
	pass();
}
