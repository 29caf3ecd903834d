// SPDX-License-Identifier: GPL-2.0
/*
 * cow_siblings: a preforked server. The root fills 32 MiB and forks four
 * workers; W1 forks a grandchild G. Then the root rewrites most of the
 * first half of its pages and drops the rest of that half (MADV_DONTNEED);
 * each worker and G write a few pages of their own in both halves, W2
 * drops a few. The workers still share the old pages of the first half
 * between themselves (and with G), not with the root. After restore every
 * task reads exactly its own bytes, and the root reads every relative's
 * /proc/PID/pagemap: two tasks show one physical page at an address
 * exactly when they did at the dump (the same writer, as this test knows
 * it), the root's new pages differ from the workers'. The area's Pss over
 * the six tasks is under 1.6 copies (one and a half are the least: the
 * old half and the root's new one). Then W0 writes a page it shares with
 * its siblings and one it shares with the root, G one it shares with W1
 * and the workers: the others still read the old bytes.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>

#include "tree.h"

#ifndef COW_WINDOW
#define COW_WINDOW 0 /* cow_siblings_window.c: restored through nestor's staging window */
#endif
#define NP      8192 /* 32 MiB */
#define NW      4
#define NT      (NW + 2) /* root, workers, G */
#define AREA    ((size_t)NP * PAGE_SIZE)
#define PFN(e)  ((e) & ((1ULL << 55) - 1))
#define PRESENT (1ULL << 63)

/* Who wrote a page: tags, and tasks (W0..W3 are W0 + k). */
enum { BASE, ROOT, G, W0, ZERO = 100 };
#define T_ROOT 0
#define T_G    (NW + 1) /* task index of G; workers are 1..NW */

static uint8_t *area;
static uint64_t zero_pfn; /* what a read of a dropped page maps */

struct range {
	unsigned lo, hi;
};

static const struct range r_root = { 0, 3840 }, r_rdrop = { 3840, 4096 },
			  r_w2drop[2] = { { 2000, 2016 }, { 6000, 6016 } },
			  r_g[2] = { { 3000, 3032 }, { 7000, 7032 } };
#define P_W0_SIB  3500 /* written by W0 after restore: shared with its siblings */
#define P_W0_ROOT 7500 /* and one shared with the root */
#define P_G_SIB   3600 /* written by G after restore */

static bool in(const struct range *r, unsigned p)
{
	return p >= r->lo && p < r->hi;
}

/* Worker k's own writes: 32 pages in each half. */
static bool worker_wrote(int k, unsigned p)
{
	unsigned lo1 = 1000 + k * 64, lo2 = 5000 + k * 64;

	return (p >= lo1 && p < lo1 + 32) || (p >= lo2 && p < lo2 + 32);
}

static uint8_t fill_byte(int who, unsigned p)
{
	return who == ZERO ? 0 : (uint8_t)(p * 31 + who * 50 + 7);
}

static void write_page(int who, unsigned p)
{
	uint8_t *pg = area + (size_t)p * PAGE_SIZE;

	memset(pg, fill_byte(who, p), PAGE_SIZE);
	*(uint64_t *)pg = (uint64_t)who << 32 | p;
}

/*
 * The physical page task t had at p at the dump, named by who wrote it
 * (ZERO: none, the page was dropped). Also what t reads there.
 */
static int origin(int t, unsigned p)
{
	if (t == T_ROOT)
		return in(&r_root, p) ? ROOT : in(&r_rdrop, p) ? ZERO : BASE;
	if (t == T_G) {
		if (in(&r_g[0], p) || in(&r_g[1], p))
			return G;
		return worker_wrote(1, p) ? W0 + 1 : BASE;
	}
	if (worker_wrote(t - 1, p))
		return W0 + t - 1;
	if (t - 1 == 2 && (in(&r_w2drop[0], p) || in(&r_w2drop[1], p)))
		return ZERO;
	return BASE;
}

static void check_page(int t, unsigned p, int want)
{
	const uint8_t *pg = area + (size_t)p * PAGE_SIZE;
	uint64_t tag = want == ZERO ? 0 : (uint64_t)want << 32 | p;
	uint8_t b = fill_byte(want, p);

	if (*(const uint64_t *)pg != tag)
		tree_fail("task %d: page %u tagged %#" PRIx64 ", expected %#" PRIx64, t, p,
			  *(const uint64_t *)pg, tag);
	for (size_t i = 8; i < PAGE_SIZE; i++)
		if (pg[i] != b)
			tree_fail("task %d: page %u byte %zu is %#x, expected %#x", t, p, i, pg[i],
				  b);
}

static void check_all(int t)
{
	for (unsigned p = 0; p < NP; p++)
		check_page(t, p, origin(t, p));
}

static void read_pagemap(pid_t pid, uint64_t *pm)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, pm, NP * 8, (uintptr_t)area / PAGE_SIZE * 8) != NP * 8)
		fail("cannot read %s: %m", path);
	close(fd);
}

static const char *tname(int t)
{
	static const char *names[NT] = { "root", "W0", "W1", "W2", "W3", "G" };

	return names[t];
}

/* The zero page's PFN: a fresh page read, not written. */
static void find_zero_pfn(void)
{
	volatile uint8_t *pg = mmap(NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (pg == MAP_FAILED || fd < 0)
		fail("cannot map a page or open pagemap: %m");
	(void)pg[0];
	if (pread(fd, &e, 8, (uintptr_t)pg / PAGE_SIZE * 8) != 8)
		fail("cannot read pagemap: %m");
	close(fd);
	zero_pfn = e & PRESENT ? PFN(e) : ~0ULL;
	munmap((void *)pg, PAGE_SIZE);
}

/* A page of its own: present, and not the zero page. */
static bool has_page(uint64_t e)
{
	return e & PRESENT && PFN(e) != zero_pfn;
}

/*
 * Every pair of tasks: one physical page at p exactly when both had the
 * page of the same writer (a dropped page is no page: absent, or the zero
 * page once read).
 */
static void check_sharing(const pid_t *pids, uint64_t **pm)
{
	unsigned sib_shared = 0;

	for (int t = 0; t < NT; t++)
		read_pagemap(pids[t], pm[t]);
	for (unsigned p = 0; p < NP; p++)
		for (int x = 0; x < NT; x++) {
			int ox = origin(x, p);

			if (pm[x][p] & PRESENT && !PFN(pm[x][p]))
				skip("pagemap shows no PFNs here");
			if ((ox == ZERO) == has_page(pm[x][p]))
				fail("%s page %u: %s, expected %s", tname(x), p,
				     has_page(pm[x][p]) ? "a page" : "no page",
				     ox == ZERO ? "none" : "a page");
			for (int y = x + 1; ox != ZERO && y < NT; y++) {
				bool want = ox == origin(y, p);
				bool same = pm[y][p] & PRESENT && PFN(pm[x][p]) == PFN(pm[y][p]);

				if (want != same)
					fail("%s and %s (pids %d, %d) page %u: %s, expected %s",
					     tname(x), tname(y), pids[x], pids[y], p,
					     same ? "one physical page" : "two pages",
					     want ? "one" : "two");
				sib_shared += same && x > 0 && ox == BASE && origin(0, p) != BASE;
			}
		}
	test_msg("pairs of siblings (and G) sharing a page the root rewrote: %u", sib_shared);
}

/* The area's Pss in kB in task pid, from smaps. */
static long area_pss(pid_t pid)
{
	char path[64], line[512];
	bool ours = false;
	FILE *f;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		fail("cannot open %s: %m", path);
	while (fgets(line, sizeof(line), f)) {
		unsigned long start;

		if (sscanf(line, "%lx-", &start) == 1 && strchr(line, '-') < strchr(line, ' '))
			ours = start == (uintptr_t)area;
		else if (ours && sscanf(line, "Pss: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	if (kb < 0)
		fail("no area at %p in %s", (void *)area, path);
	return kb;
}

static void own_writes(int t)
{
	for (unsigned p = 0; p < NP; p++)
		if (origin(t, p) != BASE && origin(t, p) != ZERO &&
		    (t != T_G || origin(t, p) == G))
			write_page(origin(t, p), p);
}

static void child_g(void)
{
	own_writes(T_G);
	tree_ready(G);
	test_waitsig();
	check_all(T_G);
	write_page(G, P_G_SIB);
	check_page(T_G, P_G_SIB, G);
	tree_pass();
}

static void worker(int k)
{
	pid_t g = 0;

	own_writes(1 + k);
	if (k == 2)
		for (int i = 0; i < 2; i++)
			if (madvise(area + (size_t)r_w2drop[i].lo * PAGE_SIZE,
				    (r_w2drop[i].hi - r_w2drop[i].lo) * PAGE_SIZE, MADV_DONTNEED))
				tree_fail("madvise: %m");
	if (k == 1 && !(g = tree_fork("G")))
		child_g();
	tree_ready(W0 + k);
	test_waitsig();
	check_all(1 + k);
	if (k == 0) {
		write_page(W0, P_W0_SIB);
		write_page(W0, P_W0_ROOT);
		check_page(1, P_W0_SIB, W0);
		check_page(1, P_W0_ROOT, W0);
	}
	if (k == 1) {
		tree_stop(g, "G");
		tree_collect(g, "G");
		check_page(2, P_G_SIB, BASE);
	}
	tree_pass();
}

int main(int argc, char **argv)
{
	static const char *wname[NW] = { "W0", "W1", "W2", "W3" };
	struct tree_rec recs[NW + 1];
	pid_t pids[NT];
	uint64_t *pm[NT];
	long pss = 0;

	test_init(argc, argv);
	tree_init();
	area = mmap(NULL, AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		fail("mmap: %m");
	for (int t = 0; t < NT; t++)
		if (!(pm[t] = malloc(NP * 8)))
			fail("malloc: %m");
	find_zero_pfn();
	/* khugepaged may collapse shared pages into a new huge page: no huge pages here. */
	if (madvise(area, AREA, MADV_NOHUGEPAGE))
		fail("madvise: %m");
	for (unsigned p = 0; p < NP; p++)
		write_page(BASE, p);
	tree_barrier_init();
	pids[T_ROOT] = getpid();
	for (int k = 0; k < NW; k++)
		if (!(pids[1 + k] = tree_fork(wname[k])))
			worker(k);
	for (unsigned p = r_root.lo; p < r_root.hi; p++)
		write_page(ROOT, p);
	if (madvise(area + (size_t)r_rdrop.lo * PAGE_SIZE, (r_rdrop.hi - r_rdrop.lo) * PAGE_SIZE,
		    MADV_DONTNEED))
		fail("madvise: %m");
	tree_barrier_wait(NW + 1, recs);
	for (int i = 0; i < NW + 1; i++)
		if (recs[i].tag == G)
			pids[T_G] = recs[i].ids.pid;
	check_all(T_ROOT);

	test_daemon();
	test_waitsig();

	check_all(T_ROOT);
	check_sharing(pids, pm);
	for (int t = 0; t < NT; t++)
		pss += area_pss(pids[t]);
	test_msg("the area's Pss in the six tasks: %ld kB (one copy: %zu kB)", pss, AREA >> 10);
	if (pss * 10 > 16 * (long)(AREA >> 10))
		fail("the area takes %ld kB in the six tasks, more than 1.6 copies (%zu kB each)",
		     pss, AREA >> 10);
	/* W0 writes first; the others then read their old bytes there. */
	tree_stop(pids[1], "W0");
	tree_collect(pids[1], "W0");
	check_page(T_ROOT, P_W0_ROOT, BASE);
	for (int k = 1; k < NW; k++)
		tree_stop(pids[1 + k], wname[k]);
	for (int k = 1; k < NW; k++)
		tree_collect(pids[1 + k], wname[k]);
	check_all(T_ROOT);
	(void)COW_WINDOW;
	pass();
}
