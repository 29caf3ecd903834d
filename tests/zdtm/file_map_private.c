// SPDX-License-Identifier: GPL-2.0
/*
 * file_map_private: a MAP_PRIVATE file mapping with some pages written
 * (copied on write). Written pages keep the new content, the file on disk
 * stays unchanged, and the pages never written still come from the file:
 * a change to the file after restore shows through them.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

#define NPAGES 8

static bool cow_page(int i)
{
	return i == 1 || i == 5;
}

static char file_byte(int page, unsigned long off)
{
	return (char)(page * 13 + off % 251);
}

static char cow_byte(int page, unsigned long off)
{
	return (char)(0xa5 ^ (page + off % 127));
}

static void check_page(const char *what, const char *p, int page, char (*byte)(int, unsigned long))
{
	for (unsigned long off = 0; off < PAGE_SIZE; off++)
		if (p[off] != byte(page, off))
			fail("%s page %d byte %lu: %#x, expected %#x", what, page, off,
			     (unsigned char)p[off], (unsigned char)byte(page, off));
}

int main(int argc, char **argv)
{
	char *path, *map, buf[PAGE_SIZE];
	struct stat st_before, st;
	struct vma_info vma;
	int fd;

	test_init(argc, argv);
	path = test_path("map.dat");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("open %s: %m", path);
	for (int i = 0; i < NPAGES; i++) {
		for (unsigned long off = 0; off < PAGE_SIZE; off++)
			buf[off] = file_byte(i, off);
		if (write(fd, buf, PAGE_SIZE) != PAGE_SIZE)
			fail("write: %m");
	}
	map = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	if (fstat(fd, &st_before))
		fail("fstat: %m");
	close(fd);
	for (int i = 0; i < NPAGES; i++)
		if (cow_page(i))
			for (unsigned long off = 0; off < PAGE_SIZE; off++)
				map[i * PAGE_SIZE + off] = cow_byte(i, off);

	test_daemon();
	test_waitsig();

	if (vma_find(map, &vma) || strcmp(vma.name, path) || strcmp(vma.perms, "rw-p"))
		fail("mapping at %p is '%s' %s, expected '%s' rw-p", map, vma.name, vma.perms,
		     path);
	for (int i = 0; i < NPAGES; i++)
		check_page(cow_page(i) ? "written" : "file", map + i * PAGE_SIZE, i,
			   cow_page(i) ? cow_byte : file_byte);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		fail("open %s: %m", path);
	if (st.st_ino != st_before.st_ino || st.st_size != NPAGES * (off_t)PAGE_SIZE)
		fail("file changed: inode %lu size %ld, expected inode %lu size %lu", st.st_ino,
		     st.st_size, st_before.st_ino, NPAGES * PAGE_SIZE);
	for (int i = 0; i < NPAGES; i++) {
		if (pread(fd, buf, PAGE_SIZE, i * PAGE_SIZE) != PAGE_SIZE)
			fail("pread: %m");
		check_page("on-disk", buf, i, file_byte);
	}
	/* Page 3 was never written: it must still be the file's page, not a copy. */
	memset(buf, 0x3c, PAGE_SIZE);
	if (pwrite(fd, buf, PAGE_SIZE, 3 * PAGE_SIZE) != PAGE_SIZE)
		fail("pwrite: %m");
	if (map[3 * PAGE_SIZE + 100] != 0x3c)
		fail("page 3 does not follow the file (%#x, expected 0x3c): restored as a copy?",
		     (unsigned char)map[3 * PAGE_SIZE + 100]);
	if (map[5 * PAGE_SIZE] != cow_byte(5, 0))
		fail("written page 5 changed with the file");
	close(fd);
	pass();
}
