// SPDX-License-Identifier: GPL-2.0
/*
 * file_map_rights: shared mappings of a file keep the rights of the file
 * they were made from, not only their current protection. A file opened
 * read-write, mapped twice (read-only and read-write), then closed: after
 * restore the read-only mapping can be mprotect()ed writable ("mw" in
 * VmFlags) and a write through it shows in the other mapping and in the
 * file. A file opened read-only and mapped shared must stay without those
 * rights: mprotect(PROT_WRITE) fails with EACCES, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtm.h"

#define NPAGES 4

static char byte(unsigned long i)
{
	return (char)(i * 11 + 3);
}

static char *map_file(const char *name, int flags, int prot, off_t off, size_t len)
{
	char *path = test_path(name), *p;
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		fail("open %s: %m", path);
	p = mmap(NULL, len, prot, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		fail("mmap %s: %m", path);
	close(fd);
	return p;
}

static void check_flags(const char *what, const char *map, const char *perms, bool mw)
{
	struct vma_info vma;

	if (vma_find(map, &vma))
		fail("%s: no mapping at %p", what, map);
	if (strcmp(vma.perms, perms) || vma_has_flag(&vma, "mw") != mw)
		fail("%s: %s with VmFlags:%s, expected %s and mw %s", what, vma.perms, vma.flags,
		     perms, mw ? "set" : "clear");
}

int main(int argc, char **argv)
{
	char *ro, *rw, *other, *path;
	char buf[PAGE_SIZE];
	int fd;

	test_init(argc, argv);
	for (int f = 0; f < 2; f++) {
		path = test_path(f ? "other" : "data");
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, NPAGES * PAGE_SIZE))
			fail("create %s: %m", path);
		for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++)
			if (pwrite(fd, &(char){ byte(i) }, 1, i) != 1)
				fail("write %s: %m", path);
		close(fd);
	}
	ro = map_file("data", O_RDWR, PROT_READ, 0, 2 * PAGE_SIZE);
	rw = map_file("data", O_RDWR, PROT_READ | PROT_WRITE, 0, NPAGES * PAGE_SIZE);
	other = map_file("other", O_RDONLY, PROT_READ, 0, NPAGES * PAGE_SIZE);
	check_flags("read-only mapping of a read-write file", ro, "r--s", true);
	check_flags("read-only file", other, "r--s", false);

	test_daemon();
	test_waitsig();

	check_flags("read-only mapping of a read-write file", ro, "r--s", true);
	check_flags("read-only file", other, "r--s", false);
	check_flags("read-write mapping", rw, "rw-s", true);
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++)
		if (rw[i] != byte(i) || other[i] != byte(i) || (i < 2 * PAGE_SIZE && ro[i] != byte(i)))
			fail("byte %lu differs after restore", i);
	if (mprotect(ro, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE))
		fail("mprotect of the read-only mapping of a read-write file: %m");
	memset(ro + PAGE_SIZE, 0x77, 16);
	if (rw[PAGE_SIZE + 15] != 0x77)
		fail("a write through the mprotect()ed mapping is not seen in the other one");
	fd = open(test_path("data"), O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, buf, 16, PAGE_SIZE) != 16 || buf[15] != 0x77)
		fail("a write through the mprotect()ed mapping is not in the file: %m");
	close(fd);
	errno = 0;
	if (!mprotect(other, PAGE_SIZE, PROT_READ | PROT_WRITE) || errno != EACCES)
		fail("mprotect(PROT_WRITE) of a read-only file's mapping: %m, expected EACCES");
	pass();
}
