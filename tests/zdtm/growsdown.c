// SPDX-License-Identifier: GPL-2.0
/*
 * growsdown: a MAP_GROWSDOWN area keeps its content and its "gd" flag, and
 * still grows when the page below it is touched. The area is placed above
 * a hole, with an inaccessible area below the hole so nothing blocks growth.
 */
#include <string.h>
#include <sys/mman.h>

#include "zdtm.h"

#define NPAGES 4

int main(int argc, char **argv)
{
	char *base, *gd;
	struct vma_info vma;

	test_init(argc, argv);
	/* [PROT_NONE 4 pages][hole 4 pages][growsdown 4 pages] */
	base = mmap(NULL, 12 * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		fail("mmap: %m");
	gd = mmap(base + 8 * PAGE_SIZE, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
	if (gd == MAP_FAILED || munmap(base + 4 * PAGE_SIZE, 4 * PAGE_SIZE))
		fail("mmap growsdown: %m");
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++)
		gd[i] = (char)(i * 5 + 1);

	test_daemon();
	test_waitsig();

	if (vma_find(gd, &vma))
		fail("no mapping at %p", gd);
	if (vma.start != (unsigned long)gd || vma.end != (unsigned long)gd + NPAGES * PAGE_SIZE)
		fail("area %lx-%lx, expected %p-%p", vma.start, vma.end, gd,
		     gd + NPAGES * PAGE_SIZE);
	if (!vma_has_flag(&vma, "gd"))
		fail("no gd in VmFlags:%s", vma.flags);
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++)
		if (gd[i] != (char)(i * 5 + 1))
			fail("byte %lu: %#x, expected %#x", i, (unsigned char)gd[i],
			     (unsigned char)(i * 5 + 1));
	gd[-1] = 'x';
	if (vma_find(gd, &vma) || vma.start != (unsigned long)gd - PAGE_SIZE)
		fail("touching below %p did not grow the area (it starts at %lx)", gd, vma.start);
	pass();
}
