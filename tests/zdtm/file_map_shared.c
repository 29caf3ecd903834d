// SPDX-License-Identifier: GPL-2.0
/*
 * file_map_shared: a MAP_SHARED file mapping. What was written through it
 * before the checkpoint is in the file, and after restore it is still the
 * file's page cache: writes through the mapping reach the file and writes
 * to the file show in the mapping.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtm.h"

#define NPAGES 4

static void check_file(int fd, int page, char c)
{
	char buf[PAGE_SIZE];

	if (pread(fd, buf, PAGE_SIZE, page * PAGE_SIZE) != PAGE_SIZE)
		fail("pread page %d: %m", page);
	for (unsigned long off = 0; off < PAGE_SIZE; off++)
		if (buf[off] != c)
			fail("file page %d byte %lu: %#x, expected %#x", page, off,
			     (unsigned char)buf[off], (unsigned char)c);
}

int main(int argc, char **argv)
{
	char *path, *map;
	struct vma_info vma;
	int fd;

	test_init(argc, argv);
	path = test_path("shared.dat");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, NPAGES * PAGE_SIZE))
		fail("create %s: %m", path);
	map = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	close(fd);
	memset(map, 'a', PAGE_SIZE);
	memset(map + PAGE_SIZE, 'b', PAGE_SIZE);

	test_daemon();
	test_waitsig();

	if (vma_find(map, &vma) || strcmp(vma.name, path) || strcmp(vma.perms, "rw-s"))
		fail("mapping at %p is '%s' %s, expected '%s' rw-s", map, vma.name, vma.perms,
		     path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("open %s: %m", path);
	check_file(fd, 0, 'a');
	check_file(fd, 1, 'b');
	check_file(fd, 2, 0);
	memset(map + 2 * PAGE_SIZE, 'c', PAGE_SIZE);
	check_file(fd, 2, 'c');
	if (pwrite(fd, "zz", 2, 3 * PAGE_SIZE) != 2)
		fail("pwrite: %m");
	if (memcmp(map + 3 * PAGE_SIZE, "zz", 2))
		fail("a write to the file does not show in the mapping: %#x %#x",
		     (unsigned char)map[3 * PAGE_SIZE], (unsigned char)map[3 * PAGE_SIZE + 1]);
	close(fd);
	pass();
}
