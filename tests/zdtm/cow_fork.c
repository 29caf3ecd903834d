// SPDX-License-Identifier: GPL-2.0
/*
 * cow_fork: private anonymous memory shared copy-on-write after fork stays
 * shared. The root fills 64 MiB and forks A, B and C; A writes some pages
 * and forks G (a grandchild), which writes others; after the forks the
 * root writes some of its pages, B drops some with MADV_DONTNEED, C writes
 * some. After restore every task reads exactly its own bytes; the root
 * reads every relative's /proc/PID/pagemap (the tests run as root: PFNs
 * are shown) and checks that each page a child still shared with its
 * parent at the dump is one physical page with the parent's again, and
 * that the others are not; the area's Pss summed over the five tasks is
 * about one copy, not five. Then B and G write into pages they share:
 * their parents still read their own bytes (copy-on-write still works).
 * The heap, grown before the forks and shared, grows again after restore
 * as one area (a shared area comes back as a plain mapping would: it
 * merges with what is mapped beside it later). After the forks the root
 * shrinks its heap and B shrinks its own more, so A's heap ends past the
 * root's and B's before it (A's sbrk after the fork makes a second area:
 * the kernel does not grow a forked area): their heaps still share the
 * root's pages where both reach.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>

#include "tree.h"

#ifndef COW_WINDOW
#define COW_WINDOW 0 /* cow_window.c: restored through nestor's staging window */
#endif
#define NP      16384 /* 64 MiB */
#define ROOT_NAME "root"
#define AREA    ((size_t)NP * PAGE_SIZE)
#define PFN(e)  ((e) & ((1ULL << 55) - 1))
#define PRESENT (1ULL << 63)

enum { BASE, ROOT, A, B, C, G, ZERO };

static uint8_t *area;
static uint8_t *heap; /* HEAP bytes sbrk'd by the root before the forks */

#define HEAP      (1UL << 20)
#define HEAP_MORE (256UL << 10) /* the root shrinks its heap by this, B by twice as much */

struct range {
	unsigned lo, hi;
};

static const struct range r_root = { 0, 512 }, r_a = { 512, 1024 }, r_g = { 1024, 1280 },
			  r_bdrop = { 1280, 1344 }, r_c = { 1344, 1600 };

static bool in(const struct range *r, unsigned p)
{
	return p >= r->lo && p < r->hi;
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

static void write_range(int who, const struct range *r)
{
	for (unsigned p = r->lo; p < r->hi; p++)
		write_page(who, p);
}

/* Who wrote page p last, as task `self` sees it before any write after restore. */
static int origin(int self, unsigned p)
{
	switch (self) {
	case ROOT:
		return in(&r_root, p) ? ROOT : BASE;
	case A:
		return in(&r_a, p) ? A : BASE;
	case G:
		return in(&r_a, p) ? A : in(&r_g, p) ? G : BASE;
	case B:
		return in(&r_bdrop, p) ? ZERO : BASE;
	case C:
		return in(&r_c, p) ? C : BASE;
	}
	return BASE;
}

static void check_page(int self, unsigned p, int want)
{
	const uint8_t *pg = area + (size_t)p * PAGE_SIZE;
	uint64_t tag = want == ZERO ? 0 : (uint64_t)want << 32 | p;
	uint8_t b = fill_byte(want, p);

	if (*(const uint64_t *)pg != tag)
		tree_fail("task %d: page %u tagged %#" PRIx64 ", expected %#" PRIx64, self, p,
			  *(const uint64_t *)pg, tag);
	for (size_t i = 8; i < PAGE_SIZE; i++)
		if (pg[i] != b)
			tree_fail("task %d: page %u byte %zu is %#x, expected %#x", self, p, i, pg[i],
				  b);
}

static void check_all(int self)
{
	for (unsigned p = 0; p < NP; p++)
		check_page(self, p, origin(self, p));
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

/* Pages child shares with parent must be one page again; the others must not. */
static void check_shared(const char *name, pid_t child, pid_t parent, const struct range *own1,
			 const struct range *own2, uint64_t *cpm, uint64_t *ppm)
{
	unsigned shared = 0;

	read_pagemap(child, cpm);
	read_pagemap(parent, ppm);
	for (unsigned p = 0; p < NP; p++) {
		bool want = !in(own1, p) && !in(own2, p);
		bool same = cpm[p] & PRESENT && ppm[p] & PRESENT && PFN(cpm[p]) == PFN(ppm[p]);

		if (!PFN(ppm[p]) && ppm[p] & PRESENT)
			skip("pagemap shows no PFNs here");
		if (want != same)
			fail("%s (pid %d) page %u: %s its parent's (pid %d), expected %s", name, child,
			     p, same ? "the same physical page as" : "not the page of", parent,
			     want ? "shared" : "its own");
		shared += same;
	}
	test_msg("%s: %u of %u pages shared with its parent", name, shared, NP);
}

/* The heap grows in place: one [heap] area, from its start to the new break. */
static void check_heap_grows(void)
{
	char line[512], *brk;
	unsigned long s, e, lo = 0, hi = 0;
	int n = 0;
	FILE *f;

	if ((brk = sbrk(64 << 10)) == (void *)-1)
		fail("sbrk: %m");
	memset(brk, 0x5a, 64 << 10);
	brk += 64 << 10;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		fail("cannot open /proc/self/maps: %m");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[heap]") && sscanf(line, "%lx-%lx", &s, &e) == 2) {
			n++;
			lo = lo ? lo : s;
			hi = e;
		}
	fclose(f);
	if (n != 1 || hi < (unsigned long)brk)
		fail("after sbrk the heap is %d areas, %lx-%lx, break %p", n, lo, hi, (void *)brk);
}

static void check_heap(const char *who, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (heap[i] != (i < HEAP ? 0x33 : 0x44))
			tree_fail("%s: heap byte %zu is %#x", who, i, heap[i]);
}

/* The root's heap pages are the child's too, where the child's heap reaches. */
static void check_heap_shared(const char *name, pid_t child, size_t len)
{
	uint64_t c, p;
	char path[64];
	int fds[2];

	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "/proc/%d/pagemap", k ? getpid() : child);
		if ((fds[k] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			fail("cannot open %s: %m", path);
	}
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		off_t at = ((uintptr_t)heap + off) / PAGE_SIZE * 8;

		if (pread(fds[0], &c, 8, at) != 8 || pread(fds[1], &p, 8, at) != 8)
			fail("cannot read pagemap: %m");
		if (!(c & PRESENT) || !(p & PRESENT) || PFN(c) != PFN(p))
			fail("%s (pid %d): heap page %zu is not the root's", name, child,
			     off / PAGE_SIZE);
	}
	close(fds[0]);
	close(fds[1]);
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

static void child_g(void)
{
	write_range(G, &r_g);
	tree_ready(G);
	test_waitsig();
	check_all(G);
	write_page(G, NP - 2); /* a page it shares with A */
	check_page(G, NP - 2, G);
	tree_pass();
}

static void child_a(void)
{
	pid_t g;

	write_range(A, &r_a);
	if (sbrk(HEAP_MORE) != heap + HEAP)
		tree_fail("A: sbrk: %m");
	memset(heap + HEAP, 0x44, HEAP_MORE);
	g = tree_fork("G");
	if (!g)
		child_g();
	tree_ready(A);
	test_waitsig();
	check_all(A);
	check_heap("A", HEAP + HEAP_MORE);
	tree_stop(g, "G");
	tree_collect(g, "G");
	check_page(A, NP - 2, BASE);
	tree_pass();
}

static void child_b(void)
{
	if (madvise(area + r_bdrop.lo * PAGE_SIZE, (r_bdrop.hi - r_bdrop.lo) * PAGE_SIZE,
		    MADV_DONTNEED))
		tree_fail("madvise: %m");
	if (sbrk(-2 * (long)HEAP_MORE) == (void *)-1)
		tree_fail("B: sbrk: %m");
	tree_ready(B);
	test_waitsig();
	check_all(B);
	check_heap("B", HEAP - 2 * HEAP_MORE);
	write_page(B, NP - 1); /* a page it shares with the root */
	check_page(B, NP - 1, B);
	tree_pass();
}

static void child_c(void)
{
	write_range(C, &r_c);
	tree_ready(C);
	test_waitsig();
	check_all(C);
	tree_pass();
}

int main(int argc, char **argv)
{
	static const struct range none = { 0, 0 };
	struct tree_rec recs[4];
	pid_t a, b, c, g = 0;
	uint64_t *cpm, *ppm;
	long pss = 0;

	test_init(argc, argv);
	tree_init();
	area = mmap(NULL, AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cpm = malloc(NP * 8);
	ppm = malloc(NP * 8);
	if (area == MAP_FAILED || !cpm || !ppm)
		fail("mmap: %m");
	/* khugepaged may collapse shared pages into a new huge page: no huge pages here. */
	if (madvise(area, AREA, MADV_NOHUGEPAGE))
		fail("madvise: %m");
	for (unsigned p = 0; p < NP; p++)
		write_page(BASE, p);
	/*
	 * Heap pages the children share too. malloc's own heap first, below
	 * ours: it must not land in what the sbrk()s below take back.
	 */
	free(malloc(64));
	if ((heap = sbrk(HEAP)) == (void *)-1)
		fail("sbrk: %m");
	memset(heap, 0x33, HEAP);
	tree_barrier_init();
	if (!(a = tree_fork("A")))
		child_a();
	if (!(b = tree_fork("B")))
		child_b();
	if (!(c = tree_fork("C")))
		child_c();
	if (sbrk(-(long)HEAP_MORE) == (void *)-1)
		fail("sbrk: %m");
	tree_barrier_wait(4, recs);
	for (int i = 0; i < 4; i++)
		if (recs[i].tag == G)
			g = recs[i].ids.pid;
	write_range(ROOT, &r_root);
	check_all(ROOT);

	test_daemon();
	test_waitsig();

	check_all(ROOT);
	check_shared("A", a, getpid(), &r_root, &r_a, cpm, ppm);
	check_shared("B", b, getpid(), &r_root, &r_bdrop, cpm, ppm);
	check_shared("C", c, getpid(), &r_root, &r_c, cpm, ppm);
	check_shared("G", g, a, &r_g, &none, cpm, ppm);
	check_heap(ROOT_NAME, HEAP - HEAP_MORE);
	check_heap_shared("A", a, HEAP - HEAP_MORE);
	check_heap_shared("B", b, HEAP - 2 * HEAP_MORE);
	pss = area_pss(getpid()) + area_pss(a) + area_pss(b) + area_pss(c) + area_pss(g);
	test_msg("the area's Pss in the five tasks: %ld kB (one copy: %zu kB)", pss, AREA >> 10);
	if (pss > 2 * (long)(AREA >> 10))
		fail("the area takes %ld kB in the five tasks, more than two copies (%zu kB each)",
		     pss, AREA >> 10);
	tree_stop(a, "A");
	tree_stop(b, "B");
	tree_stop(c, "C");
	tree_collect(a, "A");
	tree_collect(b, "B");
	tree_collect(c, "C");
	check_page(ROOT, NP - 1, BASE);
	check_all(ROOT);
	if (!COW_WINDOW) /* there the heap grows as a second area, a named limit */
		check_heap_grows();
	pass();
}
