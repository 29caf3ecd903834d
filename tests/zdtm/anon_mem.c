// SPDX-License-Identifier: GPL-2.0
/*
 * anon_mem: private anonymous memory. Written pages keep their content;
 * pages never written (or dropped with MADV_DONTNEED, or only read) must
 * read back as zeroes, in a 64 MiB area and in a small one.
 */
#include <sys/mman.h>

#include "zdtm.h"

#define BIG_PAGES   (64UL << 20) / PAGE_SIZE
#define SMALL_PAGES 3

static uint64_t word(unsigned long seed, unsigned long page, unsigned long i)
{
	return (seed + page * 0x9e3779b97f4a7c15UL) ^ (i * 0xbf58476d1ce4e5b9UL) ^ i;
}

static bool written(unsigned long page)
{
	return page % 5 == 0 || page == BIG_PAGES - 1;
}

static void fill(uint64_t *p, unsigned long seed, unsigned long page)
{
	for (unsigned long i = 0; i < PAGE_SIZE / 8; i++)
		p[i] = word(seed, page, i);
}

static uint64_t sum(const uint64_t *p)
{
	uint64_t s = 0;

	for (unsigned long i = 0; i < PAGE_SIZE / 8; i++)
		s = s * 31 + p[i];
	return s;
}

static uint64_t expected_sum(unsigned long seed, unsigned long page, bool zero)
{
	uint64_t buf[PAGE_SIZE / 8] = {};

	if (!zero)
		fill(buf, seed, page);
	return sum(buf);
}

static void check(const char *what, char *area, unsigned long pages, unsigned long seed,
		  bool (*is_written)(unsigned long))
{
	for (unsigned long pg = 0; pg < pages; pg++) {
		uint64_t got = sum((uint64_t *)(area + pg * PAGE_SIZE));
		uint64_t want = expected_sum(seed, pg, !is_written(pg));

		if (got != want)
			fail("%s page %lu (%s): checksum %#lx, expected %#lx", what, pg,
			     is_written(pg) ? "written" : "never written, must be zero", got, want);
	}
}

static bool all_written(unsigned long page)
{
	(void)page;
	return true;
}

int main(int argc, char **argv)
{
	char *big, *small;
	volatile char sink;

	test_init(argc, argv);
	big = mmap(NULL, BIG_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	small = mmap(NULL, SMALL_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED || small == MAP_FAILED)
		fail("mmap: %m");
	for (unsigned long pg = 0; pg < BIG_PAGES; pg++)
		if (written(pg))
			fill((uint64_t *)(big + pg * PAGE_SIZE), 1, pg);
	for (unsigned long pg = 0; pg < SMALL_PAGES; pg++)
		fill((uint64_t *)(small + pg * PAGE_SIZE), 2, pg);
	/* Page 1 is only read (zero page mapped), page 2 written then dropped. */
	sink = big[PAGE_SIZE + 17];
	(void)sink;
	fill((uint64_t *)(big + 2 * PAGE_SIZE), 3, 2);
	if (madvise(big + 2 * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED))
		fail("madvise: %m");
	check("big", big, BIG_PAGES, 1, written);

	test_daemon();
	test_waitsig();

	check("big", big, BIG_PAGES, 1, written);
	check("small", small, SMALL_PAGES, 2, all_written);
	pass();
}
