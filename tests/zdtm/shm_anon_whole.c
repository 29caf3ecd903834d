// SPDX-License-Identifier: GPL-2.0
/*
 * shm_anon_whole: a MAP_SHARED | MAP_ANONYMOUS object comes back whole,
 * not only the pages some task's page tables map at the checkpoint:
 *   - pages the root wrote, then dropped from its page tables (MADV_DONTNEED
 *     leaves them in the object);
 *   - pages written by a child that exited before the checkpoint;
 *   - pages written by a live child that it has since unmapped, so that no
 *     task maps them at all (the object keeps its size);
 *   - pages nobody ever wrote read zero.
 * After restore the root and the live child each read the whole object
 * through /proc/self/map_files (every page, the unmapped tail too) and
 * through their own mapping, and each sees a write of the other's.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "tree.h"

#define NPAGES 32
#define MAPPED 28 /* the live child unmaps pages MAPPED.. of its mapping */

static char *map;

/* Who writes each page before the checkpoint: 0 nobody. */
static int writer(int page)
{
	if (page < 8)
		return 1; /* the root; pages 2, 3 then MADV_DONTNEED */
	if (page == 10 || page == 11)
		return 2; /* a child that exits */
	if (page == 20 || page == 21 || page == 29 || page == 31)
		return 3; /* the live child; 29 and 31 it unmaps */
	return 0;
}

static char byte(int page, unsigned long i)
{
	return writer(page) ? (char)(i * 3 + page * 41 + writer(page)) : 0;
}

static void fill(int who)
{
	for (int p = 0; p < NPAGES; p++)
		if (writer(p) == who)
			for (unsigned long i = 0; i < PAGE_SIZE; i++)
				map[p * PAGE_SIZE + i] = byte(p, i);
}

/* Pages 14 and 15 carry the words the two tasks send each other after restore. */
static int skip_from = -1;

static void check_bytes(const char *how, const char *buf, int npages)
{
	for (int p = 0; p < npages; p++)
		for (unsigned long i = 0; i < PAGE_SIZE; i++)
			if ((p != skip_from || i >= 8) && buf[p * PAGE_SIZE + i] != byte(p, i))
				tree_fail("%s: page %d byte %lu: %#x, expected %#x", how, p, i,
					  (unsigned char)buf[p * PAGE_SIZE + i],
					  (unsigned char)byte(p, i));
}

/* The whole object, read through the kernel's handle of the mapping. */
static void check_object(int mapped)
{
	static char buf[NPAGES * PAGE_SIZE];
	struct vma_info vma;
	char link[96];
	struct stat st;
	ssize_t n;
	int fd;

	if (vma_find(map, &vma) || strcmp(vma.perms, "rw-s"))
		tree_fail("no shared mapping at %p", (void *)map);
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", vma.start, vma.end);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		tree_fail("open %s: %m", link);
	if (fstat(fd, &st) || st.st_size != NPAGES * PAGE_SIZE)
		tree_fail("object of %s is %ld bytes, expected %lu", link, (long)st.st_size,
			  NPAGES * PAGE_SIZE);
	n = pread(fd, buf, sizeof(buf), 0);
	if (n != (ssize_t)sizeof(buf))
		tree_fail("pread %s: %zd: %m", link, n);
	close(fd);
	check_bytes("object", buf, NPAGES);
	check_bytes("mapping", map, mapped);
}

int main(int argc, char **argv)
{
	volatile uint64_t *from_root, *from_child;
	pid_t pid, gone;
	int status;

	test_init(argc, argv);
	tree_init();
	map = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	from_root = (volatile uint64_t *)(map + 14 * PAGE_SIZE);
	from_child = (volatile uint64_t *)(map + 15 * PAGE_SIZE + 8);
	fill(1);
	if (madvise(map + 2 * PAGE_SIZE, 2 * PAGE_SIZE, MADV_DONTNEED))
		fail("madvise: %m");
	gone = fork();
	if (gone < 0)
		fail("fork: %m");
	if (!gone) {
		fill(2);
		_exit(0);
	}
	if (waitpid(gone, &status, 0) != gone || status)
		fail("the writing child ended with %#x", status);
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		fill(3);
		if (munmap(map + MAPPED * PAGE_SIZE, (NPAGES - MAPPED) * PAGE_SIZE))
			tree_fail("munmap: %m");
		tree_ready(0);
		test_waitsig();
		skip_from = 14; /* the root may have written its word already */
		check_object(MAPPED);
		if (*from_root != 0x1234567887654321ULL)
			tree_fail("the root's write after restore not seen: %#lx", *from_root);
		*from_child = 0xfeedfacecafebeefULL;
		tree_pass();
	}
	tree_barrier_wait(1, NULL);
	/* Only the root's own page tables hold some of it now. */
	if (munmap(map + 8 * PAGE_SIZE, (NPAGES - 8) * PAGE_SIZE))
		fail("munmap: %m");

	test_daemon();
	test_waitsig();

	/* Map the rest back from the object itself, through the first part's handle. */
	{
		char link[96];
		int fd;

		snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)map,
			 (unsigned long)map + 8 * PAGE_SIZE);
		fd = open(link, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fail("open %s: %m", link);
		if (mmap(map + 8 * PAGE_SIZE, (NPAGES - 8) * PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 8 * PAGE_SIZE) == MAP_FAILED)
			fail("mmap the rest of the object: %m");
		close(fd);
	}
	check_object(NPAGES);
	*from_root = 0x1234567887654321ULL;
	tree_finish(pid, "child");
	if (*from_child != 0xfeedfacecafebeefULL)
		fail("the child's write after restore not seen: %#lx", *from_child);
	pass();
}
