// SPDX-License-Identifier: GPL-2.0
/*
 * brk: the heap made by sbrk() and malloc(). Content and the program break
 * come back, and the heap can still grow and shrink from there.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtm.h"

#define GROW (5 * PAGE_SIZE)

static void check(const char *what, const unsigned char *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (unsigned char)(seed + i * 3))
			fail("%s byte %zu: %#x, expected %#x", what, i, p[i],
			     (unsigned char)(seed + i * 3));
}

static void fill(unsigned char *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = seed + i * 3;
}

int main(int argc, char **argv)
{
	unsigned char *heap, *more, *m;
	void *end, *now;
	struct vma_info vma;

	test_init(argc, argv);
	m = malloc(10000);
	if (!m)
		fail("malloc: %m");
	fill(m, 10000, 7);
	heap = sbrk(GROW);
	if (heap == (void *)-1)
		fail("sbrk: %m");
	fill(heap, GROW, 1);
	test_daemon();
	/* After test_daemon(): its malloc may have moved the break. */
	end = sbrk(0);
	test_waitsig();

	now = sbrk(0);
	if (now != end)
		fail("program break %p, expected %p", now, end);
	check("sbrk area", heap, GROW, 1);
	check("malloc area", m, 10000, 7);
	more = sbrk(GROW);
	if (more != end)
		fail("sbrk(%lu) gave %p, expected %p: %m", GROW, more, end);
	fill(more, GROW, 9);
	check("grown area", more, GROW, 9);
	if (sbrk(-(long)GROW) == (void *)-1 || sbrk(0) != end)
		fail("shrinking the heap back to %p failed: %m", end);
	if (vma_find(heap, &vma) || strcmp(vma.name, "[heap]"))
		fail("sbrk area %p is not in [heap] but in '%s'", heap, vma.name);
	free(m);
	pass();
}
