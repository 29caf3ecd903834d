// SPDX-License-Identifier: GPL-2.0
/*
 * droppable: a MAP_DROPPABLE area (glibc keeps its getrandom state in one)
 * holds memory the kernel may drop at any time; it must come back droppable
 * ("dp" in VmFlags, with the "wf dd" the kernel gives it), where it was, and
 * empty, never with its old contents (restored random state would repeat
 * output across restores). A MADV_WIPEONFORK area keeps its data: the
 * restored task is the task, not a child of it; a fork after restore still
 * wipes it in the child.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtm.h"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#define NPAGES 4

static void check_area(const char *what, char *map, const char *const *flags)
{
	struct vma_info vma;

	if (vma_find(map, &vma))
		fail("%s: no mapping at %p", what, map);
	if (vma.start != (unsigned long)map || vma.end != vma.start + NPAGES * PAGE_SIZE)
		fail("%s is %lx-%lx, expected %p-%p", what, vma.start, vma.end, map,
		     map + NPAGES * PAGE_SIZE);
	for (; *flags; flags++)
		if (!vma_has_flag(&vma, *flags))
			fail("%s: %s missing in VmFlags:%s", what, *flags, vma.flags);
}

/* Field 22 of /proc/self/stat: a restored task is a new process, started later. */
static unsigned long long start_time(void)
{
	char buf[1024], *p;
	unsigned long long t = 0;

	if (read_file("/proc/self/stat", buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
		fail("cannot read /proc/self/stat");
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			  "%*d %*d %llu", &t) != 1)
		fail("cannot parse /proc/self/stat");
	return t;
}

int main(int argc, char **argv)
{
	unsigned long long started;
	bool restored;
	static const char *const dp_flags[] = { "dp", "wf", "dd", NULL };
	static const char *const wf_flags[] = { "wf", NULL };
	char *drop, *wipe;
	int status;
	pid_t pid;

	test_init(argc, argv);
	drop = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	if (drop == MAP_FAILED)
		skip("no MAP_DROPPABLE here: %m");
	wipe = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (wipe == MAP_FAILED || madvise(wipe, NPAGES * PAGE_SIZE, MADV_WIPEONFORK))
		fail("wipe-on-fork area: %m");
	memset(drop, 0x5a, NPAGES * PAGE_SIZE);
	memset(wipe, 0xa5, NPAGES * PAGE_SIZE);
	check_area("droppable area", drop, dp_flags);
	check_area("wipe-on-fork area", wipe, wf_flags);

	started = start_time();

	test_daemon();
	test_waitsig();

	/* Without a restore (no checkpoint, or one that left us running) the kernel may keep it. */
	restored = start_time() != started;

	check_area("droppable area", drop, dp_flags);
	check_area("wipe-on-fork area", wipe, wf_flags);
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++) {
		if (drop[i] && (restored || (unsigned char)drop[i] != 0x5a))
			fail("droppable byte %lu came back as %#x, expected 0", i,
			     (unsigned char)drop[i]);
		if ((unsigned char)wipe[i] != 0xa5)
			fail("wipe-on-fork byte %lu: %#x, expected 0xa5", i, (unsigned char)wipe[i]);
	}
	pid = fork();
	if (pid < 0)
		fail("fork: %m");
	if (!pid) {
		for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++)
			if (wipe[i])
				_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || status)
		fail("a child forked after restore saw the wipe-on-fork area not wiped (%#x)",
		     status);
	pass();
}
