// SPDX-License-Identifier: GPL-2.0
/*
 * shared_anon: MAP_SHARED | MAP_ANONYMOUS memory (a shmem file inside the
 * kernel). Content comes back, the area stays shared ("rw-s", /dev/zero),
 * and untouched pages read zero.
 */
#include <string.h>
#include <sys/mman.h>

#include "zdtm.h"

#define NPAGES 16

static char byte(unsigned long i)
{
	return (char)(i * 7 + i / PAGE_SIZE);
}

int main(int argc, char **argv)
{
	struct vma_info vma;
	char *map;

	test_init(argc, argv);
	map = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	/* The first half is written, the second never touched. */
	for (unsigned long i = 0; i < NPAGES / 2 * PAGE_SIZE; i++)
		map[i] = byte(i);

	test_daemon();
	test_waitsig();

	if (vma_find(map, &vma))
		fail("no mapping at %p", map);
	if (strcmp(vma.perms, "rw-s") || strncmp(vma.name, "/dev/zero", 9) ||
	    vma.start != (unsigned long)map || vma.end != vma.start + NPAGES * PAGE_SIZE)
		fail("mapping %lx-%lx %s '%s', expected %p-%p rw-s '/dev/zero (deleted)'",
		     vma.start, vma.end, vma.perms, vma.name, map, map + NPAGES * PAGE_SIZE);
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++) {
		char want = i < NPAGES / 2 * PAGE_SIZE ? byte(i) : 0;

		if (map[i] != want)
			fail("byte %lu (page %lu): %#x, expected %#x", i, i / PAGE_SIZE,
			     (unsigned char)map[i], (unsigned char)want);
	}
	pass();
}
