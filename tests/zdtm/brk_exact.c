// SPDX-License-Identifier: GPL-2.0
/*
 * brk_exact: the kernel's program break is a byte address, not a page one.
 * Set to an unaligned value, brk(0) (the raw syscall: glibc's sbrk(0) only
 * answers from its own cache) must give exactly that value after restore,
 * the heap's bytes must be back, and the break must still move from there.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

static unsigned long raw_brk(unsigned long addr)
{
	return syscall(SYS_brk, addr);
}

int main(int argc, char **argv)
{
	unsigned long start, want, got;
	unsigned char *heap;
	void *volatile arena;

	test_init(argc, argv);
	/* malloc's arena first (test_daemon() allocates): it would move the break later. */
	arena = malloc(64);
	free((void *)arena);
	start = raw_brk(0);
	want = start + 3 * PAGE_SIZE + 123;
	if (raw_brk(want) != want)
		fail("brk(%#lx) failed", want);
	heap = (unsigned char *)start;
	for (unsigned long i = 0; i < want - start; i++)
		heap[i] = (unsigned char)(i * 13 + 5);

	test_daemon();
	test_waitsig();

	got = raw_brk(0);
	if (got != want)
		fail("brk(0) is %#lx, expected %#lx", got, want);
	for (unsigned long i = 0; i < want - start; i++)
		if (heap[i] != (unsigned char)(i * 13 + 5))
			fail("heap byte %lu: %#x, expected %#x", i, heap[i],
			     (unsigned char)(i * 13 + 5));
	if (raw_brk(want + PAGE_SIZE) != want + PAGE_SIZE)
		fail("the break does not grow from %#lx", want);
	heap[want - start + PAGE_SIZE - 1] = 1;
	if (raw_brk(want) != want)
		fail("the break does not shrink back to %#lx", want);
	pass();
}
