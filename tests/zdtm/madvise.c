// SPDX-License-Identifier: GPL-2.0
/*
 * madvise: advice that the kernel keeps as VMA flags (fork and core dump
 * behaviour, transparent huge pages) must be set again on restore. Each
 * area must show exactly its own flag among those tested (access pattern
 * and KSM advice included), and its content.
 */
#include <string.h>
#include <sys/mman.h>

#include "zdtm.h"

#define NPAGES 4

static const struct {
	int advice;
	const char *flag;
} areas[] = {
    {MADV_DONTFORK, "dc"}, {MADV_DONTDUMP, "dd"},   {MADV_WIPEONFORK, "wf"},
    {MADV_HUGEPAGE, "hg"}, {MADV_NOHUGEPAGE, "nh"}, {MADV_SEQUENTIAL, "sr"},
    {MADV_RANDOM, "rr"},   {MADV_MERGEABLE, "mg"},  {MADV_NORMAL, NULL},
};
#define NAREAS (sizeof(areas) / sizeof(areas[0]))

static void check(char *map[])
{
	struct vma_info vma;

	for (unsigned int i = 0; i < NAREAS; i++) {
		if (vma_find(map[i], &vma))
			fail("area %u: no mapping at %p", i, map[i]);
		if (vma.start != (unsigned long)map[i] || vma.end != vma.start + NPAGES * PAGE_SIZE)
			fail("area %u is %lx-%lx, expected %p-%p", i, vma.start, vma.end, map[i],
			     map[i] + NPAGES * PAGE_SIZE);
		for (unsigned int j = 0; j < NAREAS; j++) {
			bool want = i == j, got;

			if (!areas[j].flag)
				continue;
			got = vma_has_flag(&vma, areas[j].flag);
			if (got != want)
				fail("area %u (%s): %s is %s in VmFlags:%s", i,
				     areas[i].flag ?: "no advice", areas[j].flag,
				     got ? "set" : "missing", vma.flags);
		}
		for (unsigned long k = 0; k < NPAGES * PAGE_SIZE; k++)
			if (map[i][k] != (char)(i + k))
				fail("area %u byte %lu: %#x, expected %#x", i, k,
				     (unsigned char)map[i][k], (unsigned char)(i + k));
	}
}

int main(int argc, char **argv)
{
	char *map[NAREAS], *guard;

	test_init(argc, argv);
	for (unsigned int i = 0; i < NAREAS; i++) {
		/* Guard pages between the areas, so that no two of them merge. */
		guard = mmap(NULL, (NPAGES + 2) * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
		if (guard == MAP_FAILED)
			fail("mmap: %m");
		map[i] = mmap(guard + PAGE_SIZE, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (map[i] == MAP_FAILED)
			fail("mmap: %m");
		if (madvise(map[i], NPAGES * PAGE_SIZE, areas[i].advice)) {
			if (areas[i].advice == MADV_HUGEPAGE)
				skip("no transparent huge pages: %m");
			fail("madvise(%s): %m", areas[i].flag);
		}
		for (unsigned long k = 0; k < NPAGES * PAGE_SIZE; k++)
			map[i][k] = (char)(i + k);
	}
	check(map);

	test_daemon();
	test_waitsig();

	check(map);
	pass();
}
