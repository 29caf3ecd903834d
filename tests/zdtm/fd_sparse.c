// SPDX-License-Identifier: GPL-2.0
/*
 * fd_sparse: an unlinked file of 200 MiB that holds three small pieces of
 * data and holes between them, chmod 0640 and chowned to 1234:5678, and a
 * memfd of 1 GiB with one page of data in its middle. After restore both
 * have their size, data, holes (SEEK_DATA/SEEK_HOLE, st_blocks as before),
 * and the file its mode and owner.
 */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

#define MiB (1024 * 1024LL)

struct piece {
	off_t off;
	const char *s;
};

static const struct piece file_pieces[] = { { 0, "head" }, { 100 * MiB, "middle" },
					    { 200 * MiB - 4, "tail" } };
static const struct piece memfd_pieces[] = { { 512 * MiB, "memfd" } };

static void put(int fd, const struct piece *p, int n)
{
	for (int i = 0; i < n; i++)
		if (pwrite(fd, p[i].s, strlen(p[i].s), p[i].off) != (ssize_t)strlen(p[i].s))
			fail("pwrite: %m");
}

/* Data where the pieces are, holes elsewhere (at page granularity). */
static void check(int fd, const char *what, const struct piece *p, int n, off_t size,
		  blkcnt_t blocks)
{
	struct stat st;
	char buf[16];
	off_t off = 0;

	if (fstat(fd, &st))
		fail("fstat: %m");
	if (st.st_size != size || st.st_blocks != blocks)
		fail("%s: size %lld, %lld blocks, expected %lld and %lld", what,
		     (long long)st.st_size, (long long)st.st_blocks, (long long)size,
		     (long long)blocks);
	for (int i = 0; i < n; i++) {
		off_t page = p[i].off & ~(off_t)4095, d = lseek(fd, off, SEEK_DATA);

		if (d != page)
			fail("%s: data from %lld on at %lld, expected %lld", what, (long long)off,
			     (long long)d, (long long)page);
		memset(buf, 0, sizeof(buf));
		if (pread(fd, buf, strlen(p[i].s), p[i].off) != (ssize_t)strlen(p[i].s) ||
		    strcmp(buf, p[i].s))
			fail("%s: '%s' at %lld, expected '%s'", what, buf, (long long)p[i].off,
			     p[i].s);
		off = lseek(fd, p[i].off, SEEK_HOLE);
	}
	if (off < size && lseek(fd, off, SEEK_DATA) != -1)
		fail("%s: data after the last piece", what);
}

int main(int argc, char **argv)
{
	char *path;
	struct stat fst, mst;
	int fd, mfd;

	test_init(argc, argv);
	path = test_path("sparse");
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	mfd = memfd_create("zdtm-sparse", MFD_CLOEXEC);
	if (fd < 0 || mfd < 0)
		fail("open or memfd_create: %m");
	put(fd, file_pieces, 3);
	if (fchown(fd, 1234, 5678) || fchmod(fd, 0640) || unlink(path))
		fail("fchown, fchmod or unlink: %m");
	if (ftruncate(mfd, 1024 * MiB))
		fail("ftruncate: %m");
	put(mfd, memfd_pieces, 1);
	if (fstat(fd, &fst) || fstat(mfd, &mst))
		fail("fstat: %m");
	check(fd, "the file", file_pieces, 3, 200 * MiB, fst.st_blocks);
	check(mfd, "the memfd", memfd_pieces, 1, 1024 * MiB, mst.st_blocks);

	test_daemon();
	test_waitsig();

	check(fd, "the file", file_pieces, 3, 200 * MiB, fst.st_blocks);
	check(mfd, "the memfd", memfd_pieces, 1, 1024 * MiB, mst.st_blocks);
	if (fstat(fd, &fst))
		fail("fstat: %m");
	if ((fst.st_mode & 07777) != 0640 || fst.st_uid != 1234 || fst.st_gid != 5678)
		fail("the file: mode %#o owner %u:%u, expected 0640 1234:5678", fst.st_mode & 07777,
		     fst.st_uid, fst.st_gid);
	pass();
}
