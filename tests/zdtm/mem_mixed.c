/*
 * mem_mixed: a dump big enough for the task to write its own pages, with
 * areas it cannot read (PROT_NONE, write-only is the same here) among them,
 * so the fast and the slow page paths take turns in one image.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "zdtm.h"

#define AREA   (1UL << 20)
#define NAREAS 8

static uint8_t pattern(int a, size_t off)
{
	return (uint8_t)(a * 31 + off / 4096 * 7 + off % 251);
}

int main(int argc, char **argv)
{
	uint8_t *base;

	test_init(argc, argv);
	base = mmap(NULL, AREA * NAREAS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		fail("mmap: %m");
	for (int a = 0; a < NAREAS; a++)
		for (size_t off = 0; off < AREA; off++)
			base[a * AREA + off] = pattern(a, off);
	/* Every other area unreadable; the separate mappings keep them apart. */
	for (int a = 1; a < NAREAS; a += 2)
		if (mprotect(base + a * AREA, AREA, PROT_NONE))
			fail("mprotect: %m");
	test_daemon();
	test_waitsig();
	for (int a = 1; a < NAREAS; a += 2)
		if (mprotect(base + a * AREA, AREA, PROT_READ))
			fail("mprotect back: %m");
	for (int a = 0; a < NAREAS; a++)
		for (size_t off = 0; off < AREA; off++)
			if (base[a * AREA + off] != pattern(a, off))
				fail("area %d offset %zu: %#x, expected %#x", a, off,
				     base[a * AREA + off], pattern(a, off));
	pass();
}
