// SPDX-License-Identifier: GPL-2.0
/*
 * shared_fd: a regular file opened before fork is one open file
 * description in parent and child. After restore it still is: a write by
 * the root moves the child's offset and a write by the child moves the
 * root's, status flags set in one show in the other, and kcmp() sees one
 * file. Files each task opened for itself stay separate.
 */
#include <linux/kcmp.h>
#include <sys/syscall.h>

#include "tree.h"

#define START 64

static int kcmp_file(pid_t a, pid_t b, int fa, int fb)
{
	return syscall(SYS_kcmp, a, b, KCMP_FILE, fa, fb);
}

static void check_offset(int fd, off_t want, const char *what)
{
	off_t off = lseek(fd, 0, SEEK_CUR);

	if (off != want)
		tree_fail("%s at offset %ld, expected %ld", what, (long)off, (long)want);
}

static void __attribute__((noreturn)) child(int fd, const char *path)
{
	int own = open(path, O_RDWR | O_CLOEXEC);

	if (own < 0 || lseek(own, 10, SEEK_SET) != 10)
		tree_fail("open: %m");
	/* The root moves the shared offset after the fork: wait for it (5 s at most). */
	for (int i = 0; i < 5000 && lseek(fd, 0, SEEK_CUR) != START; i++)
		usleep(1000);
	check_offset(fd, START, "set-up: shared fd");
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		tree_fail("F_SETFL: %m");
	tree_ready(own);
	test_waitsig();
	/* The root wrote "ROOT" through its copy before telling us. */
	check_offset(fd, START + 4, "shared fd (the root wrote 4 bytes)");
	check_offset(own, 10, "own fd");
	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
		tree_fail("O_NONBLOCK set before the checkpoint is gone");
	if (write(fd, "CHILD", 5) != 5)
		tree_fail("write: %m");
	lseek(own, 30, SEEK_SET);
	tree_pass();
}

int main(int argc, char **argv)
{
	char *path, buf[16] = "";
	struct tree_rec rec;
	int fd, own;
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	path = test_path("shared_fd.dat");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, 200))
		fail("open %s: %m", path);
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid)
		child(fd, path);
	own = open(path, O_RDWR | O_CLOEXEC);
	if (own < 0 || lseek(fd, START, SEEK_SET) != START || lseek(own, 20, SEEK_SET) != 20)
		fail("set-up: %m");
	tree_barrier_wait(1, &rec);
	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
		fail("set-up: O_NONBLOCK set by the child not seen");

	test_daemon();
	test_waitsig();

	if (kcmp_file(getpid(), pid, fd, fd) != 0 || kcmp_file(getpid(), pid, fd, rec.tag) == 0)
		fail("kcmp: the root's and the child's fd %d are %s, the child's own fd %d %s", fd,
		     kcmp_file(getpid(), pid, fd, fd) ? "different files" : "one file", rec.tag,
		     kcmp_file(getpid(), pid, fd, rec.tag) ? "differs" : "is the same file");
	if (write(fd, "ROOT", 4) != 4)
		fail("write: %m");
	tree_finish(pid, "child");
	check_offset(fd, START + 9, "the root's fd (the child wrote 5 bytes)");
	check_offset(own, 20, "the root's own fd");
	if (pread(own, buf, 9, START) != 9 || memcmp(buf, "ROOTCHILD", 9))
		fail("file holds '%.9s' at %d, expected 'ROOTCHILD'", buf, START);
	pass();
}
