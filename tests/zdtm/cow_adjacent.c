// SPDX-License-Identifier: GPL-2.0
/*
 * cow_adjacent: adjacent private anonymous areas of equal flags that the
 * kernel kept apart (by their anon_vmas) come back apart, whatever their
 * origin: the task's own, inherited from its parent, shared copy-on-write
 * or not, with or without pages. In a span of 64 KiB slots:
 *   root: s2 and s3, both its own and written, kept apart (it maps s3 while
 *         s2 is MADV_DONTDUMP); it forks A and B, then rewrites part of s2;
 *   A:    maps s1 below s2 (written) and s4 above s3 (never written), writes
 *         part of s2, maps s6 and s7 (its own, written, apart), forks G;
 *   G:    writes part of s1 and all of s7, maps s8 above s7 (written);
 *   B:    maps s1 (written), s4 and s5 (its own, written, apart).
 * After restore each task checks that each of its slots is one area of its
 * own in /proc/self/maps and holds its bytes (never written: zero).
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>

#include "tree.h"

#define NS   10
#define SP   16 /* pages per slot */
#define SLOT ((size_t)SP * PAGE_SIZE)

enum { ROOT = 1, ROOT2, A, G, B };

static uint8_t *span;

static uint8_t *slot(int s)
{
	return span + (size_t)s * SLOT;
}

static uint8_t byte(int who, int s, int p)
{
	return (uint8_t)(who * 40 + s * 3 + p + 1);
}

static void write_pages(int who, int s, int lo, int hi)
{
	for (int p = lo; p < hi; p++)
		memset(slot(s) + (size_t)p * PAGE_SIZE, byte(who, s, p), PAGE_SIZE);
}

static void map_slot(int s)
{
	if (mmap(slot(s), SLOT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED)
		tree_fail("mmap slot %d: %m", s);
}

/* Maps slot s, written by who, as an area apart from slot prev (its own, beside it). */
static void map_apart(int s, int prev, int who)
{
	if (madvise(slot(prev), SLOT, MADV_DONTDUMP))
		tree_fail("madvise: %m");
	map_slot(s);
	write_pages(who, s, 0, SP);
	if (madvise(slot(prev), SLOT, MADV_DODUMP))
		tree_fail("madvise: %m");
}

/* Who wrote page p of slot s last, as task self sees it (0: never written). */
static int origin(int self, int s, int p)
{
	switch (s) {
	case 1:
		return self == B ? B : self == G && p < SP / 2 ? G : A;
	case 2:
		if (self == ROOT)
			return p < 4 ? ROOT2 : ROOT;
		return (self == A || self == G) && p >= 4 && p < 8 ? A : ROOT;
	case 3:
		return ROOT;
	case 4:
		return self == B ? B : 0;
	case 5:
		return B;
	case 6:
		return A;
	case 7:
		return self == G ? G : A;
	default:
		return G;
	}
}

/* The slots each task has mapped. */
static bool has_slot(int self, int s)
{
	static const char *const slots[] = { [ROOT] = "23", [A] = "123467", [G] = "1234678",
					     [B] = "12345" };

	return strchr(slots[self], '0' + s) != NULL;
}

static void check_maps(const char *name, int self)
{
	FILE *f = fopen("/proc/self/maps", "re");
	bool seen[NS] = { false };
	char line[512];

	if (!f)
		tree_fail("%s: /proc/self/maps: %m", name);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char prot[8];
		long s;

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, prot) != 3 || hi <= (uintptr_t)span ||
		    lo >= (uintptr_t)slot(NS) || !strcmp(prot, "---p"))
			continue;
		s = (long)((lo - (uintptr_t)span) / SLOT);
		if (lo != (uintptr_t)slot(s) || hi != (uintptr_t)slot(s + 1) || !has_slot(self, s))
			tree_fail("%s: area %lx-%lx %s is not one of its slots (slot %ld at %p)",
				  name, lo, hi, prot, s, (void *)slot(s));
		seen[s] = true;
	}
	fclose(f);
	for (int s = 1; s < NS; s++)
		if (has_slot(self, s) && !seen[s])
			tree_fail("%s: slot %d (%p) is not an area of its own", name, s,
				  (void *)slot(s));
}

static void check_all(const char *name, int self)
{
	check_maps(name, self);
	for (int s = 1; s < NS; s++)
		for (int p = 0; has_slot(self, s) && p < SP; p++) {
			int who = origin(self, s, p);
			uint8_t want = who ? byte(who, s, p) : 0;
			const uint8_t *pg = slot(s) + (size_t)p * PAGE_SIZE;

			for (size_t i = 0; i < PAGE_SIZE; i++)
				if (pg[i] != want)
					tree_fail("%s: slot %d page %d byte %zu is %#x, expected %#x",
						  name, s, p, i, pg[i], want);
		}
}

static void child_g(void)
{
	write_pages(G, 1, 0, SP / 2);
	write_pages(G, 7, 0, SP);
	map_slot(8);
	write_pages(G, 8, 0, SP);
	check_all("G", G);
	tree_ready(G);
	test_waitsig();
	check_all("G", G);
	tree_pass();
}

static void child_a(void)
{
	pid_t g;

	map_slot(1);
	write_pages(A, 1, 0, SP);
	map_slot(4);
	write_pages(A, 2, 4, 8);
	map_slot(6);
	write_pages(A, 6, 0, SP);
	map_apart(7, 6, A);
	if (!(g = tree_fork("G")))
		child_g();
	check_all("A", A);
	tree_ready(A);
	test_waitsig();
	check_all("A", A);
	tree_stop(g, "G");
	tree_collect(g, "G");
	tree_pass();
}

static void child_b(void)
{
	map_slot(1);
	write_pages(B, 1, 0, SP);
	map_slot(4);
	write_pages(B, 4, 0, SP);
	map_apart(5, 4, B);
	check_all("B", B);
	tree_ready(B);
	test_waitsig();
	check_all("B", B);
	tree_pass();
}

int main(int argc, char **argv)
{
	struct tree_rec recs[3];
	pid_t a, b;

	test_init(argc, argv);
	tree_init();
	/* A PROT_NONE span, guards at both ends: slot 0 and slot NS stay so. */
	span = mmap(NULL, (NS + 1) * SLOT, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (span == MAP_FAILED)
		fail("mmap: %m");
	map_slot(2);
	write_pages(ROOT, 2, 0, SP);
	map_apart(3, 2, ROOT);
	tree_barrier_init();
	if (!(a = tree_fork("A")))
		child_a();
	if (!(b = tree_fork("B")))
		child_b();
	write_pages(ROOT2, 2, 0, 4);
	tree_barrier_wait(3, recs);
	check_all("root", ROOT);

	test_daemon();
	test_waitsig();

	check_all("root", ROOT);
	tree_stop(a, "A");
	tree_stop(b, "B");
	tree_collect(a, "A");
	tree_collect(b, "B");
	pass();
}
