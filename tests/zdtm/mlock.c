// SPDX-License-Identifier: GPL-2.0
/*
 * mlock: an mlock()ed area stays locked (VmFlags "lo", its pages counted in
 * Locked) with its content; an area locked on fault keeps "lf"; its
 * unlocked neighbour stays unlocked.
 */
#include <string.h>
#include <sys/mman.h>

#include "zdtm.h"

#define NPAGES 4

static void check_area(const char *what, char *p, bool lo, bool lf)
{
	struct vma_info vma;

	if (vma_find(p, &vma))
		fail("%s: no mapping at %p", what, p);
	if (vma.start != (unsigned long)p || vma.end != vma.start + NPAGES * PAGE_SIZE)
		fail("%s is %lx-%lx, expected %p-%p", what, vma.start, vma.end, p,
		     p + NPAGES * PAGE_SIZE);
	if (vma_has_flag(&vma, "lo") != lo || vma_has_flag(&vma, "lf") != lf)
		fail("%s: VmFlags:%s, expected%s%s", what, vma.flags, lo ? " lo" : " no lo",
		     lf ? " lf" : "");
	if (lo && !lf && vma.locked_kb != NPAGES * PAGE_SIZE / 1024)
		fail("%s: Locked %lu kB, expected %lu kB", what, vma.locked_kb,
		     NPAGES * PAGE_SIZE / 1024);
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++)
		if (p[i] != (char)(i % 61))
			fail("%s byte %lu: %#x, expected %#x", what, i, (unsigned char)p[i],
			     (unsigned char)(i % 61));
}

int main(int argc, char **argv)
{
	char *map;

	test_init(argc, argv);
	/* [locked][unlocked][locked on fault] */
	map = mmap(NULL, 3 * NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	for (unsigned long i = 0; i < 3 * NPAGES * PAGE_SIZE; i++)
		map[i] = (char)(i % (NPAGES * PAGE_SIZE) % 61);
	if (mlock(map, NPAGES * PAGE_SIZE))
		fail("mlock: %m");
	if (mlock2(map + 2 * NPAGES * PAGE_SIZE, NPAGES * PAGE_SIZE, MLOCK_ONFAULT))
		fail("mlock2(MLOCK_ONFAULT): %m");

	test_daemon();
	test_waitsig();

	check_area("locked area", map, true, false);
	check_area("unlocked area", map + NPAGES * PAGE_SIZE, false, false);
	check_area("lock-on-fault area", map + 2 * NPAGES * PAGE_SIZE, true, true);
	pass();
}
