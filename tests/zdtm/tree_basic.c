// SPDX-License-Identifier: GPL-2.0
/*
 * tree_basic: a root with three children, the second of which has two
 * children of its own. Every task keeps its pid, its parent, its group and
 * session, and its private memory (a global array, a heap buffer and a
 * MAP_PRIVATE area written before the forks and rewritten after, so each
 * task holds its own copy of the pages).
 */
#include <sys/mman.h>

#include "tree.h"

#define NPAGES 3

static char global_buf[NPAGES * PAGE_SIZE];
static char *heap_buf, *map_buf;
static struct tree_ids ids;

static char byte(int seed, unsigned long i)
{
	return (char)(i * 31 + seed * 17 + i / PAGE_SIZE + 1);
}

/* Each task writes its own pattern over the copies it inherited. */
static void fill(int seed)
{
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++) {
		global_buf[i] = byte(seed, i);
		heap_buf[i] = byte(seed + 100, i);
		map_buf[i] = byte(seed + 200, i);
	}
	tree_ids_get(&ids);
}

static void check(int seed)
{
	tree_ids_check(&ids);
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++) {
		if (global_buf[i] != byte(seed, i))
			tree_fail("global byte %lu: %#x, expected %#x", i,
				  (unsigned char)global_buf[i], (unsigned char)byte(seed, i));
		if (heap_buf[i] != byte(seed + 100, i))
			tree_fail("heap byte %lu: %#x, expected %#x", i, (unsigned char)heap_buf[i],
				  (unsigned char)byte(seed + 100, i));
		if (map_buf[i] != byte(seed + 200, i))
			tree_fail("private map byte %lu: %#x, expected %#x", i,
				  (unsigned char)map_buf[i], (unsigned char)byte(seed + 200, i));
	}
}

/* A task with nothing below it. */
static void __attribute__((noreturn)) leaf(int seed)
{
	fill(seed);
	tree_ready(seed);
	test_waitsig();
	check(seed);
	tree_pass();
}

int main(int argc, char **argv)
{
	static const char *names[] = {"child1", "child2", "child3"};
	pid_t kids[3], grand[2];

	test_init(argc, argv);
	tree_init();
	heap_buf = malloc(NPAGES * PAGE_SIZE);
	map_buf = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!heap_buf || map_buf == MAP_FAILED)
		fail("alloc: %m");
	fill(0);
	tree_barrier_init();
	for (int i = 0; i < 3; i++) {
		kids[i] = tree_fork(names[i]);
		if (kids[i])
			continue;
		if (i != 1)
			leaf(i + 1);
		/* child2: two children of its own, forked after its own pattern. */
		fill(i + 1);
		grand[0] = tree_fork("grandchild1");
		if (!grand[0])
			leaf(4);
		grand[1] = tree_fork("grandchild2");
		if (!grand[1])
			leaf(5);
		tree_ready(i + 1);
		test_waitsig();
		tree_finish(grand[0], "grandchild1");
		tree_finish(grand[1], "grandchild2");
		check(i + 1);
		tree_pass();
	}
	tree_barrier_wait(5, NULL);

	test_daemon();
	test_waitsig();

	check(0);
	for (int i = 0; i < 3; i++)
		tree_finish(kids[i], names[i]);
	pass();
}
