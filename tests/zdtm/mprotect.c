// SPDX-License-Identifier: GPL-2.0
/*
 * mprotect: one mapping split by mprotect() into areas of different
 * protections, PROT_NONE guard pages among them. Each page must keep its
 * protection (as /proc/self/maps shows it) and its content.
 */
#include <string.h>
#include <sys/mman.h>

#include "zdtm.h"

static const struct {
	int prot;
	const char *perms;
} pages[] = {
    {PROT_READ, "r--p"},
    {PROT_NONE, "---p"},
    {PROT_READ | PROT_EXEC, "r-xp"},
    {PROT_READ | PROT_EXEC, "r-xp"},
    {PROT_READ | PROT_WRITE, "rw-p"},
    {PROT_NONE, "---p"},
    {PROT_WRITE, "-w-p"},
    {PROT_READ | PROT_WRITE | PROT_EXEC, "rwxp"},
};
#define NPAGES (sizeof(pages) / sizeof(pages[0]))

static void check(char *area)
{
	struct vma_info vma;

	for (unsigned int i = 0; i < NPAGES; i++) {
		char *p = area + i * PAGE_SIZE;
		int r = vma_find(p, &vma);

		if (r)
			fail("page %u at %p: no mapping (%s)", i, p, strerror(-r));
		if (strcmp(vma.perms, pages[i].perms))
			fail("page %u: protection %s, expected %s", i, vma.perms, pages[i].perms);
	}
	/* Now look inside: make everything readable for a moment. */
	if (mprotect(area, NPAGES * PAGE_SIZE, PROT_READ))
		fail("mprotect: %m");
	for (unsigned int i = 0; i < NPAGES; i++)
		for (unsigned long j = 0; j < PAGE_SIZE; j++)
			if (area[i * PAGE_SIZE + j] != (char)(i * 7 + j))
				fail("page %u byte %lu: %#x, expected %#x", i, j,
				     (unsigned char)area[i * PAGE_SIZE + j],
				     (unsigned char)(i * 7 + j));
	for (unsigned int i = 0; i < NPAGES; i++)
		if (mprotect(area + i * PAGE_SIZE, PAGE_SIZE, pages[i].prot))
			fail("mprotect: %m");
}

int main(int argc, char **argv)
{
	char *area;

	test_init(argc, argv);
	area = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (area == MAP_FAILED)
		fail("mmap: %m");
	for (unsigned long j = 0; j < NPAGES * PAGE_SIZE; j++)
		area[j] = (char)((j / PAGE_SIZE) * 7 + j % PAGE_SIZE);
	for (unsigned int i = 0; i < NPAGES; i++)
		if (mprotect(area + i * PAGE_SIZE, PAGE_SIZE, pages[i].prot))
			fail("mprotect page %u: %m", i);
	check(area);

	test_daemon();
	test_waitsig();

	check(area);
	pass();
}
