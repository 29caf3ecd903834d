// SPDX-License-Identifier: GPL-2.0
/*
 * big_mem: 512 MiB of private anonymous memory, every page written with its
 * own pattern, intact after the restore. A dump that kills it returns before
 * the kernel has freed that memory (0.1-0.2 s here): tests/cli.sh restores
 * it at once, and the restore must wait for the pid the dying task holds.
 * Not in zdtm.list (its size would slow every flavour); tests/cli.sh runs it.
 */
#include <sys/mman.h>

#include "zdtm.h"

#define PAGES ((512UL << 20) / PAGE_SIZE)

static uint64_t word(unsigned long page, unsigned long i)
{
	return (page + 1) * 0x9e3779b97f4a7c15UL ^ (i * 0xbf58476d1ce4e5b9UL);
}

int main(int argc, char **argv)
{
	uint64_t *mem;

	test_init(argc, argv);
	mem = mmap(NULL, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap: %m");
	for (unsigned long pg = 0; pg < PAGES; pg++)
		for (unsigned long i = 0; i < PAGE_SIZE / 8; i++)
			mem[pg * PAGE_SIZE / 8 + i] = word(pg, i);

	test_daemon();
	test_waitsig();

	for (unsigned long pg = 0; pg < PAGES; pg++)
		for (unsigned long i = 0; i < PAGE_SIZE / 8; i++)
			if (mem[pg * PAGE_SIZE / 8 + i] != word(pg, i))
				fail("page %lu word %lu: %#lx, expected %#lx", pg, i,
				     mem[pg * PAGE_SIZE / 8 + i], word(pg, i));
	pass();
}
