// SPDX-License-Identifier: GPL-2.0
/*
 * cow_grown: areas a parent and its child share copy-on-write whose start
 * moved since the fork. The root maps and writes three areas and forks C:
 * S is a MAP_GROWSDOWN stack that C grows down by 16 pages (a stack grown
 * since the fork); the root unmaps the first 8 pages of H (C's starts
 * lower); C unmaps the first 8 pages of K (C's starts higher). Each then
 * writes a few pages of its own in each. After restore both read their own
 * bytes and areas; the root reads C's /proc/PID/pagemap: in the part both
 * areas cover, each page neither wrote is one physical page in both, the
 * others are not (it failed before: C saved each of these areas whole).
 * C's stack still grows down, as one area; writes after restore stay
 * private.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>

#include "tree.h"

#define NP      64 /* pages of each area as the root maps it */
#define GROW    16 /* pages C's stack grows down */
#define CUT     8  /* pages unmapped at the head of H (root) and K (C) */
#define PFN(e)  ((e) & ((1ULL << 55) - 1))
#define PRESENT (1ULL << 63)
#define MAXI(a, b) ((a) > (b) ? (a) : (b))
#define MINI(a, b) ((a) < (b) ? (a) : (b))

enum { S, H, K, NA };
enum { BASE, ROOT, CT }; /* who wrote a page */

static uint8_t *area[NA]; /* the root's start of each, as mapped */

/* Page p of area a (p < 0: below the root's start) and who wrote it, as task `who` sees it. */
static int origin(bool child, int a, int p)
{
	if (child) {
		if (a == S && p < 0)
			return CT;
		if (p >= 20 && p < 24)
			return CT;
		return BASE;
	}
	return p >= 40 && p < 44 ? ROOT : BASE;
}

/* Pages of area a task sees: [lo, hi) in page numbers from the root's start. */
static void bounds(bool child, int a, int *lo, int *hi)
{
	*lo = 0;
	*hi = NP;
	if (a == S && child)
		*lo = -GROW;
	if ((a == H && !child) || (a == K && child))
		*lo = CUT;
}

static uint8_t byte(int a, int p, int who)
{
	return (uint8_t)(a * 40 + p * 3 + who * 101 + 5);
}

static void write_page(int a, int p, int who)
{
	uint8_t *pg = area[a] + (long)p * PAGE_SIZE;

	memset(pg, byte(a, p, who), PAGE_SIZE);
	*(uint64_t *)pg = (uint64_t)who << 40 | (uint64_t)a << 32 | (uint32_t)(p + 1000);
}

static void check_page(bool child, int a, int p, int who)
{
	const uint8_t *pg = area[a] + (long)p * PAGE_SIZE;
	uint64_t tag = (uint64_t)who << 40 | (uint64_t)a << 32 | (uint32_t)(p + 1000);

	if (*(const uint64_t *)pg != tag)
		tree_fail("%s: area %d page %d tagged %#" PRIx64 ", expected %#" PRIx64,
			  child ? "C" : "root", a, p, *(const uint64_t *)pg, tag);
	for (size_t i = 8; i < PAGE_SIZE; i++)
		if (pg[i] != byte(a, p, who))
			tree_fail("%s: area %d page %d byte %zu is %#x", child ? "C" : "root", a, p,
				  i, pg[i]);
}

/* The area of /proc/self/maps holding addr, or fails. */
static void area_of(uintptr_t addr, uintptr_t *s, uintptr_t *e)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		tree_fail("cannot open /proc/self/maps: %m");
	*s = *e = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long ls, le;

		if (sscanf(line, "%lx-%lx", &ls, &le) == 2 && ls <= addr && addr < le) {
			*s = ls;
			*e = le;
			break;
		}
	}
	fclose(f);
	if (!*e)
		tree_fail("no area holds %#" PRIxPTR, addr);
}

static void check_all(bool child)
{
	for (int a = 0; a < NA; a++) {
		uintptr_t s, e;
		int lo, hi;

		bounds(child, a, &lo, &hi);
		area_of((uintptr_t)area[a] + (long)lo * PAGE_SIZE, &s, &e);
		if (s != (uintptr_t)area[a] + (long)lo * PAGE_SIZE ||
		    e != (uintptr_t)area[a] + (long)hi * PAGE_SIZE)
			tree_fail("%s: area %d is %#" PRIxPTR "-%#" PRIxPTR ", expected pages %d-%d "
				  "of %p", child ? "C" : "root", a, s, e, lo, hi, (void *)area[a]);
		for (int p = lo; p < hi; p++)
			check_page(child, a, p, origin(child, a, p));
	}
}

static void read_pm(pid_t pid, int a, uint64_t *pm)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, pm, NP * 8, (uintptr_t)area[a] / PAGE_SIZE * 8) != NP * 8)
		fail("cannot read %s: %m", path);
	close(fd);
}

/* Where both areas reach, a page neither wrote is one physical page in both. */
static void check_shared(pid_t c)
{
	uint64_t cpm[NP], ppm[NP];

	for (int a = 0; a < NA; a++) {
		int clo, chi, plo, phi, shared = 0;

		bounds(true, a, &clo, &chi);
		bounds(false, a, &plo, &phi);
		read_pm(c, a, cpm);
		read_pm(getpid(), a, ppm);
		for (int p = MAXI(clo, plo); p < MINI(chi, phi); p++) {
			bool want = origin(true, a, p) == BASE && origin(false, a, p) == BASE;
			bool same = cpm[p] & PRESENT && ppm[p] & PRESENT && PFN(cpm[p]) == PFN(ppm[p]);

			if (ppm[p] & PRESENT && !PFN(ppm[p]))
				skip("pagemap shows no PFNs here");
			if (want != same)
				fail("area %d page %d: %s, expected %s", a, p,
				     same ? "one physical page in both" : "two pages",
				     want ? "one" : "two");
			shared += same;
		}
		test_msg("area %d: %d pages shared", a, shared);
	}
}

static void child_c(void)
{
	uintptr_t s, e;

	/* The stack grows down on a fault below it, at once, before anything lands there. */
	for (int p = -1; p >= -GROW; p--)
		write_page(S, p, CT);
	if (munmap(area[K], CUT * PAGE_SIZE))
		tree_fail("munmap: %m");
	for (int a = 0; a < NA; a++)
		for (int p = 20; p < 24; p++)
			write_page(a, p, CT);
	check_all(true);
	tree_ready(1);
	test_waitsig();
	check_all(true);
	/* Still a stack: it grows down again, one area. */
	*(volatile char *)(area[S] - (GROW + 8) * PAGE_SIZE) = 1;
	area_of((uintptr_t)area[S], &s, &e);
	if (s != (uintptr_t)(area[S] - (GROW + 8) * PAGE_SIZE) ||
	    e != (uintptr_t)(area[S] + NP * PAGE_SIZE))
		tree_fail("C: the stack did not grow down as one area: %#" PRIxPTR "-%#" PRIxPTR, s,
			  e);
	write_page(S, 30, CT); /* a page shared with the root */
	check_page(true, S, 30, CT);
	tree_pass();
}

int main(int argc, char **argv)
{
	uint8_t *room;
	pid_t c;

	test_init(argc, argv);
	tree_init();
	/* K with other flags than H: the two never merge, wherever they land. */
	area[H] = mmap(NULL, NP * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	area[K] = mmap(NULL, NP * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	/*
	 * Room below the stack for it to grow into: a gap of 4 MiB, S at its
	 * top, mapped last (an accessible area within the guard gap below it
	 * would stop its growth).
	 */
	room = mmap(NULL, (4 << 20) + NP * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (room == MAP_FAILED || munmap(room, (4 << 20) + NP * PAGE_SIZE))
		fail("mmap: %m");
	area[S] = mmap(room + (4 << 20), NP * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
	if (area[S] == MAP_FAILED || area[H] == MAP_FAILED || area[K] == MAP_FAILED)
		fail("mmap: %m");
	for (int a = 0; a < NA; a++) {
		if (madvise(area[a], NP * PAGE_SIZE, MADV_NOHUGEPAGE))
			fail("madvise: %m");
		for (int p = 0; p < NP; p++)
			write_page(a, p, BASE);
	}
	tree_barrier_init();
	if (!(c = tree_fork("C")))
		child_c();
	if (munmap(area[H], CUT * PAGE_SIZE))
		fail("munmap: %m");
	for (int a = 0; a < NA; a++)
		for (int p = 40; p < 44; p++)
			write_page(a, p, ROOT);
	tree_barrier_wait(1, NULL);
	check_all(false);

	test_daemon();
	test_waitsig();

	check_all(false);
	check_shared(c);
	tree_stop(c, "C");
	tree_collect(c, "C");
	check_page(false, S, 30, BASE);
	pass();
}
