// SPDX-License-Identifier: GPL-2.0
/*
 * cow_pageless: a read-only and an inaccessible private area without
 * pages, each right after an area of equal flags that is the task's own,
 * stay areas of their own. The root maps two areas (MAP_NORESERVE, so that
 * no VM_ACCOUNT tells them from areas never writable) and writes them, and
 * forks C; C writes every page of both (its own copies now), makes one
 * read-only and the other inaccessible, and maps a pageless area of the
 * same protection right after each: the kernel keeps them apart, because
 * the written ones are a fork's copies. After restore the written areas are
 * C's own (no page shared with the root): C checks that each of the four
 * is one area of its own with its protection and its bytes (it failed
 * before with the pageless areas merged into their neighbours). The root
 * also has a pageless area mapped writable, then made inaccessible: it
 * keeps VM_ACCOUNT ("ac" in its VmFlags), and so it must after restore
 * (it failed before: mapped inaccessible at once, it came back without).
 */
#include <inttypes.h>
#include <sys/mman.h>

#include "tree.h"

#define NP 4 /* pages of each written area */
#define NB 2 /* of each pageless one */
#define FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

enum { C_TAG = 1 };

static uint8_t *area[2];
static uint8_t *once_rw; /* mapped writable, never written, made inaccessible */
static const int prot[2] = { PROT_READ, PROT_NONE };

static uint8_t byte(int k, unsigned p, int who)
{
	return (uint8_t)(k * 64 + p * 7 + who * 3 + 1);
}

/* The area of /proc/self/maps that holds addr: its bounds and protection. */
static void area_of(uintptr_t addr, uintptr_t *s, uintptr_t *e, char perms[5])
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		tree_fail("cannot open /proc/self/maps: %m");
	*s = *e = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long ls, le;

		if (sscanf(line, "%lx-%lx %4s", &ls, &le, perms) == 3 && ls <= addr && addr < le) {
			*s = ls;
			*e = le;
			break;
		}
	}
	fclose(f);
	if (!*e)
		tree_fail("no area holds %#" PRIxPTR, addr);
}

static void check_one(const char *what, uintptr_t start, size_t len, const char *want)
{
	uintptr_t s, e;
	char perms[5];

	area_of(start, &s, &e, perms);
	if (s != start || e != start + len || strncmp(perms, want, 3))
		tree_fail("%s: area %#" PRIxPTR "-%#" PRIxPTR " %s, expected %#" PRIxPTR
			  "-%#" PRIxPTR " %.3s (merged with a neighbour?)",
			  what, s, e, perms, start, start + len, want);
}

static void check_c(void)
{
	static const char *names[2][2] = { { "read-only written", "read-only pageless" },
					   { "inaccessible written", "inaccessible pageless" } };
	static const char *perms[2] = { "r--p", "---p" };

	for (int k = 0; k < 2; k++) {
		check_one(names[k][0], (uintptr_t)area[k], NP * PAGE_SIZE, perms[k]);
		check_one(names[k][1], (uintptr_t)area[k] + NP * PAGE_SIZE, NB * PAGE_SIZE,
			  perms[k]);
	}
	/* The bytes: the inaccessible one is read after making it readable. */
	if (mprotect(area[1], (NP + NB) * PAGE_SIZE, PROT_READ))
		tree_fail("mprotect: %m");
	for (int k = 0; k < 2; k++)
		for (unsigned p = 0; p < NP + NB; p++)
			for (size_t i = 0; i < PAGE_SIZE; i++) {
				uint8_t want = p < NP ? byte(k, p, C_TAG) : 0;

				if (area[k][p * PAGE_SIZE + i] != want)
					tree_fail("area %d page %u byte %zu is %#x, expected %#x", k,
						  p, i, area[k][p * PAGE_SIZE + i], want);
			}
}

static void child_c(void)
{
	for (int k = 0; k < 2; k++) {
		uint8_t *b;

		for (unsigned p = 0; p < NP; p++)
			memset(area[k] + p * PAGE_SIZE, byte(k, p, C_TAG), PAGE_SIZE);
		if (mprotect(area[k], NP * PAGE_SIZE, prot[k]))
			tree_fail("mprotect: %m");
		b = mmap(area[k] + NP * PAGE_SIZE, NB * PAGE_SIZE, prot[k], FLAGS | MAP_FIXED, -1,
			 0);
		if (b != area[k] + NP * PAGE_SIZE)
			tree_fail("mmap: %m");
	}
	check_c();
	/* check_c made area 1 readable: back as it was. */
	if (mprotect(area[1], (NP + NB) * PAGE_SIZE, PROT_NONE))
		tree_fail("mprotect: %m");
	tree_ready(C_TAG);
	test_waitsig();
	check_c();
	tree_pass();
}

/* Whether the area at addr shows flag (two letters) in its VmFlags. */
static bool vmflag(const void *addr, const char *flag)
{
	char line[512], want[8];
	bool ours = false, found = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		fail("cannot open /proc/self/smaps: %m");
	snprintf(want, sizeof(want), " %s", flag);
	while (fgets(line, sizeof(line), f)) {
		unsigned long s;

		char *dash = strchr(line, '-'), *space = strchr(line, ' ');

		/* An area's first line: START-END then a blank ("Anonymous:" parses as hex too). */
		if (dash && space && dash < space && sscanf(line, "%lx-", &s) == 1)
			ours = s == (uintptr_t)addr;
		else if (ours && !strncmp(line, "VmFlags:", 8))
			found = strstr(line + 8, want) != NULL;
	}
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	pid_t c;

	test_init(argc, argv);
	tree_init();
	for (int k = 0; k < 2; k++) {
		/* Room for the pageless one after it, given back: C maps it there. */
		area[k] = mmap(NULL, (NP + NB) * PAGE_SIZE, PROT_READ | PROT_WRITE, FLAGS, -1, 0);
		if (area[k] == MAP_FAILED || munmap(area[k] + NP * PAGE_SIZE, NB * PAGE_SIZE))
			fail("mmap: %m");
		for (unsigned p = 0; p < NP; p++)
			memset(area[k] + p * PAGE_SIZE, byte(k, p, 0), PAGE_SIZE);
	}
	once_rw = mmap(NULL, NB * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (once_rw == MAP_FAILED || mprotect(once_rw, NB * PAGE_SIZE, PROT_NONE))
		fail("mmap: %m");
	if (!vmflag(once_rw, "ac"))
		skip("no VM_ACCOUNT shown for a private writable mapping here");
	tree_barrier_init();
	if (!(c = tree_fork("C")))
		child_c();
	tree_barrier_wait(1, NULL);

	test_daemon();
	test_waitsig();

	tree_stop(c, "C");
	tree_collect(c, "C");
	if (!vmflag(once_rw, "ac"))
		fail("the area once writable lost VM_ACCOUNT (ac)");
	for (int k = 0; k < 2; k++)
		for (unsigned p = 0; p < NP; p++)
			if (area[k][p * PAGE_SIZE] != byte(k, p, 0))
				fail("root: area %d page %u changed", k, p);
	pass();
}
