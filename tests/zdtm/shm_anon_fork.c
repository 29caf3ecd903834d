// SPDX-License-Identifier: GPL-2.0
/*
 * shm_anon_fork: a MAP_SHARED | MAP_ANONYMOUS area mapped before fork is
 * one piece of memory for the root and its child. Both wrote into it
 * before the checkpoint; after restore both see both writes, a word the
 * root writes is seen by the child and one the child writes is seen by
 * the root, and the area is where it was, "rw-s".
 */
#include <sys/mman.h>

#include "tree.h"

#define NPAGES 4

static volatile char *map;

static char byte(int page, unsigned long i)
{
	return (char)(i * 5 + page * 77 + 1);
}

static void fill(int page)
{
	for (unsigned long i = 0; i < PAGE_SIZE; i++)
		map[page * PAGE_SIZE + i] = byte(page, i);
}

static void check_page(int page)
{
	for (unsigned long i = 0; i < PAGE_SIZE; i++)
		if (map[page * PAGE_SIZE + i] != byte(page, i))
			tree_fail("page %d byte %lu: %#x, expected %#x", page, i,
				  (unsigned char)map[page * PAGE_SIZE + i],
				  (unsigned char)byte(page, i));
}

static void check_area(void)
{
	struct vma_info vma;

	if (vma_find((void *)map, &vma))
		tree_fail("no mapping at %p", (void *)map);
	if (strcmp(vma.perms, "rw-s") || vma.start != (unsigned long)map ||
	    vma.end != vma.start + NPAGES * PAGE_SIZE)
		tree_fail("mapping %lx-%lx %s, expected %p-%p rw-s", vma.start, vma.end, vma.perms,
			  (void *)map, (void *)(map + NPAGES * PAGE_SIZE));
}

int main(int argc, char **argv)
{
	volatile uint64_t *from_root, *from_child;
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	map = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	from_root = (volatile uint64_t *)(map + 2 * PAGE_SIZE);
	from_child = (volatile uint64_t *)(map + 3 * PAGE_SIZE + 64);
	fill(0);
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		fill(1);
		tree_ready(0);
		test_waitsig();
		check_area();
		check_page(0);
		check_page(1);
		if (*from_root != 0x1234567887654321ULL)
			tree_fail("the root's write after restore not seen: %#lx", *from_root);
		*from_child = 0xfeedfacecafebeefULL;
		tree_pass();
	}
	tree_barrier_wait(1, NULL);
	check_page(1);

	test_daemon();
	test_waitsig();

	check_area();
	check_page(0);
	check_page(1);
	if (*from_root || *from_child)
		fail("pages never written hold %#lx %#lx", *from_root, *from_child);
	*from_root = 0x1234567887654321ULL;
	tree_finish(pid, "child");
	if (*from_child != 0xfeedfacecafebeefULL)
		fail("the child's write after restore not seen: %#lx", *from_child);
	pass();
}
