// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_fill: the workload of tests/memcg.sh, which starts it in a memory
 * cgroup of its own that its memory fills to ~80%: 64 MiB of private
 * anonymous memory, every page written but one in 64 (so the dump sees
 * many runs). After the restore every written page keeps its content, the
 * others read back as zeroes, and the task is still in the memory cgroup
 * it started in.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "zdtm.h"

#define PAGES ((64UL << 20) / PAGE_SIZE)

static uint64_t word(unsigned long page, unsigned long i)
{
	return (page + 1) * 0x9e3779b97f4a7c15UL ^ (i * 0xbf58476d1ce4e5b9UL);
}

static bool written(unsigned long page)
{
	return page % 64 != 63;
}

/* The memory line of /proc/self/cgroup (v1 "N:memory:/path"), or the v2 one. */
static void memcg_line(char *buf, size_t size)
{
	char all[8192], *line, *save;

	if (read_file("/proc/self/cgroup", all, sizeof(all)) < 0)
		fail("cannot read /proc/self/cgroup: %m");
	snprintf(buf, size, "none");
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, ":memory:") || !strncmp(line, "0::", 3))
			snprintf(buf, size, "%s", line);
		if (strstr(line, ":memory:"))
			return;
	}
}

int main(int argc, char **argv)
{
	char before[4096], after[4096];
	uint64_t *mem;

	test_init(argc, argv);
	mem = mmap(NULL, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap: %m");
	for (unsigned long pg = 0; pg < PAGES; pg++)
		if (written(pg))
			for (unsigned long i = 0; i < PAGE_SIZE / 8; i++)
				mem[pg * PAGE_SIZE / 8 + i] = word(pg, i);
	memcg_line(before, sizeof(before));
	test_daemon();
	test_waitsig();

	for (unsigned long pg = 0; pg < PAGES; pg++)
		for (unsigned long i = 0; i < PAGE_SIZE / 8; i++) {
			uint64_t want = written(pg) ? word(pg, i) : 0;

			if (mem[pg * PAGE_SIZE / 8 + i] != want)
				fail("page %lu word %lu: %#lx, expected %#lx", pg, i,
				     mem[pg * PAGE_SIZE / 8 + i], want);
		}
	memcg_line(after, sizeof(after));
	if (strcmp(before, after))
		fail("memory cgroup changed: '%s', was '%s'", after, before);
	pass();
}
