// SPDX-License-Identifier: GPL-2.0
/*
 * fd_path: a directory descriptor and an O_PATH descriptor keep pointing at
 * the same objects and keep working as bases for *at() calls; the directory
 * descriptor, read part way, goes on reading where it was.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

#define NFILES 40

struct dirent64_k {
	unsigned long long ino;
	long long off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* The name of the next entry dfd reads, and where dfd is after it. */
static void next_entry(int dfd, char *name, size_t len, off_t *pos)
{
	/* Room for one short name only: one entry a call. */
	char buf[40] __attribute__((aligned(8)));
	long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));

	if (n <= 0)
		fail("getdents64: %ld: %m", n);
	snprintf(name, len, "%s", ((struct dirent64_k *)buf)->name);
	*pos = lseek(dfd, 0, SEEK_CUR);
}

int main(int argc, char **argv)
{
	char name[256], want[256], path[PATH_MAX];
	off_t pos, want_pos;
	char *dir, *file, proc[64], link[PATH_MAX];
	struct stat st_dir, st_file, st;
	int dfd, pfd, fd;
	ssize_t n;

	test_init(argc, argv);
	dir = test_path("dir");
	file = test_path("dir/file");
	if (mkdir(dir, 0755) || (fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) < 0)
		fail("creating %s: %m", file);
	close(fd);
	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		if ((fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) < 0)
			fail("creating %s: %m", path);
		close(fd);
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pfd = open(file, O_PATH | O_CLOEXEC);
	if (dfd < 0 || pfd < 0 || stat(dir, &st_dir) || stat(file, &st_file))
		fail("open: %m");
	/* Read a few entries, note the one after them, and go back to it. */
	for (int i = 0; i < 5; i++)
		next_entry(dfd, name, sizeof(name), &pos);
	next_entry(dfd, want, sizeof(want), &want_pos);
	if (lseek(dfd, pos, SEEK_SET) != pos)
		fail("lseek on the directory: %m");

	test_daemon();
	test_waitsig();

	if (fstat(dfd, &st) || st.st_ino != st_dir.st_ino || !S_ISDIR(st.st_mode))
		fail("directory fd: inode %lu, expected %lu", st.st_ino, st_dir.st_ino);
	if (lseek(dfd, 0, SEEK_CUR) != pos)
		fail("directory fd at %lld, expected %lld", (long long)lseek(dfd, 0, SEEK_CUR),
		     (long long)pos);
	next_entry(dfd, name, sizeof(name), &pos);
	if (strcmp(name, want) || pos != want_pos)
		fail("directory fd reads '%s' (then at %lld), expected '%s' (then at %lld)", name,
		     (long long)pos, want, (long long)want_pos);
	if (fstatat(dfd, "file", &st, 0) || st.st_ino != st_file.st_ino)
		fail("fstatat(dirfd, \"file\") failed or found another file: %m");
	if (!(fcntl(pfd, F_GETFL) & O_PATH))
		fail("fd %d lost O_PATH: flags %#x", pfd, fcntl(pfd, F_GETFL));
	if (fstatat(pfd, "", &st, AT_EMPTY_PATH) || st.st_ino != st_file.st_ino)
		fail("O_PATH fd: inode %lu, expected %lu", st.st_ino, st_file.st_ino);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("reopening the O_PATH fd through /proc: %m");
	close(fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	if (strcmp(link, file))
		fail("O_PATH fd links to '%s', expected '%s'", link, file);
	pass();
}
