// SPDX-License-Identifier: GPL-2.0
/*
 * posix_shm: POSIX shared memory objects under /dev/shm (tmpfs files).
 *
 * Object A is shm_open()ed, sized, mapped MAP_SHARED, and its fd kept open;
 * object U is mapped, then shm_unlink()ed (mapped, unlinked; the root keeps
 * its fd too). A child opens A by name and maps it at an address of its
 * own, and inherits the mapping of U (not its fd). Both tasks write before
 * the checkpoint. After restore:
 * - every mapping holds what was written, is "rw-s" and names the object
 *   ("(deleted)" for U, which is still not under /dev/shm);
 * - A's fd, A's mapping and the name /dev/shm/A are one inode, U's fd and
 *   U's mapping too, and a write() to either fd shows in the mapping;
 * - a word the root writes into A and U after restore is seen by the child
 *   and one the child writes is seen by the root: still one object each.
 */
#include <sys/stat.h>

#include "tree.h"

#define NPAGES 4

static char name_a[64], name_u[64];
static volatile char *map_a, *map_u;

static char byte(int obj, int page, unsigned long i)
{
	return (char)(i * 3 + page * 41 + obj * 101 + 1);
}

static void fill(volatile char *map, int obj, int page)
{
	for (unsigned long i = 0; i < PAGE_SIZE; i++)
		map[page * PAGE_SIZE + i] = byte(obj, page, i);
}

static void check_page(volatile char *map, int obj, int page)
{
	for (unsigned long i = 0; i < PAGE_SIZE; i++)
		if (map[page * PAGE_SIZE + i] != byte(obj, page, i))
			tree_fail("object %c page %d byte %lu: %#x, expected %#x", "AU"[obj], page,
				  i, (unsigned char)map[page * PAGE_SIZE + i],
				  (unsigned char)byte(obj, page, i));
}

/* The area at map is the whole object, "rw-s", named path (+ " (deleted)"). */
static void check_area(volatile char *map, const char *name, bool deleted, struct stat *ret)
{
	char want[128], link[128];
	struct vma_info vma;

	snprintf(want, sizeof(want), "/dev/shm%s%s", name, deleted ? " (deleted)" : "");
	if (vma_find((void *)map, &vma))
		tree_fail("no mapping at %p", (void *)map);
	if (strcmp(vma.perms, "rw-s") || strcmp(vma.name, want) ||
	    vma.start != (unsigned long)map || vma.end != vma.start + NPAGES * PAGE_SIZE)
		tree_fail("mapping %lx-%lx %s '%s', expected %p-%p rw-s '%s'", vma.start, vma.end,
			  vma.perms, vma.name, (void *)map, (void *)(map + NPAGES * PAGE_SIZE),
			  want);
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", vma.start, vma.end);
	if (stat(link, ret))
		tree_fail("stat %s: %m", link);
}

static volatile char *map_obj(int fd)
{
	void *p = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		tree_fail("mmap: %m");
	return p;
}

static void unlink_a(void)
{
	shm_unlink(name_a);
}

static void child(int fd_u)
{
	volatile uint64_t *from_root_a, *from_root_u;
	struct stat st_a, st_u;
	volatile char *own_a;
	int fd;

	/* A mapping of A of the child's own, by name, not inherited. */
	fd = shm_open(name_a, O_RDWR, 0);
	if (fd < 0)
		tree_fail("shm_open %s in the child: %m", name_a);
	own_a = map_obj(fd);
	close(fd);
	close(fd_u);
	if (munmap((void *)map_a, NPAGES * PAGE_SIZE))
		tree_fail("munmap: %m");
	check_page(own_a, 0, 0);
	fill(own_a, 0, 1);
	fill(map_u, 1, 1);
	tree_ready(0);
	test_waitsig();

	check_area(own_a, name_a, false, &st_a);
	check_area(map_u, name_u, true, &st_u);
	for (int page = 0; page < 2; page++) {
		check_page(own_a, 0, page);
		check_page(map_u, 1, page);
	}
	from_root_a = (volatile uint64_t *)(own_a + 2 * PAGE_SIZE);
	from_root_u = (volatile uint64_t *)(map_u + 2 * PAGE_SIZE);
	if (*from_root_a != 0x1111222233334444ULL || *from_root_u != 0x5555666677778888ULL)
		tree_fail("the root's writes after restore not seen: A %#lx, U %#lx",
			  *from_root_a, *from_root_u);
	*(volatile uint64_t *)(own_a + 3 * PAGE_SIZE) = 0xa0a0a0a0b1b1b1b1ULL;
	*(volatile uint64_t *)(map_u + 3 * PAGE_SIZE) = 0xc2c2c2c2d3d3d3d3ULL;
	tree_pass();
}

int main(int argc, char **argv)
{
	struct stat st_fd, st_name, st_a, st_u;
	int fd_a, fd_u;
	char path[96];
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	/* The machine's pid: in a pid namespace of its own every run would be 2. */
	snprintf(name_a, sizeof(name_a), "/nestor-zdtm-shm-%d", tree_proc_pid());
	snprintf(name_u, sizeof(name_u), "/nestor-zdtm-shm-unl-%d", tree_proc_pid());
	fd_a = shm_open(name_a, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd_a < 0)
		fail("shm_open %s: %m", name_a);
	atexit(unlink_a);
	fd_u = shm_open(name_u, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd_u < 0)
		fail("shm_open %s: %m", name_u);
	if (ftruncate(fd_a, NPAGES * PAGE_SIZE) || ftruncate(fd_u, NPAGES * PAGE_SIZE))
		fail("ftruncate: %m");
	map_a = map_obj(fd_a);
	map_u = map_obj(fd_u);
	if (shm_unlink(name_u))
		fail("shm_unlink %s: %m", name_u);
	fill(map_a, 0, 0);
	fill(map_u, 1, 0);

	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid)
		child(fd_u);
	tree_barrier_wait(1, NULL);
	check_page(map_a, 0, 1);
	check_page(map_u, 1, 1);

	test_daemon();
	test_waitsig();

	check_area(map_a, name_a, false, &st_a);
	check_area(map_u, name_u, true, &st_u);
	for (int page = 0; page < 2; page++) {
		check_page(map_a, 0, page);
		check_page(map_u, 1, page);
	}
	/* The fd, the mapping and the name are still one object. */
	if (fstat(fd_a, &st_fd))
		fail("fstat the fd of %s: %m", name_a);
	if (stat("/dev/shm", &st_name) || st_name.st_dev != st_a.st_dev)
		fail("the mapping of %s is not on /dev/shm's filesystem", name_a);
	if (st_fd.st_dev != st_a.st_dev || st_fd.st_ino != st_a.st_ino)
		fail("the fd of %s is inode %lu, its mapping inode %lu", name_a,
		     (unsigned long)st_fd.st_ino, (unsigned long)st_a.st_ino);
	snprintf(path, sizeof(path), "/dev/shm%s", name_a);
	if (stat(path, &st_name) || st_name.st_ino != st_a.st_ino)
		fail("%s is not the mapped object", path);
	if (pwrite(fd_a, "fdwrite", 7, 2 * PAGE_SIZE + 100) != 7)
		fail("pwrite to the fd of %s: %m", name_a);
	if (memcmp((const char *)map_a + 2 * PAGE_SIZE + 100, "fdwrite", 7))
		fail("a write to the fd of %s does not show in its mapping", name_a);
	if (fstat(fd_u, &st_fd))
		fail("fstat the fd of the unlinked %s: %m", name_u);
	if (st_fd.st_dev != st_u.st_dev || st_fd.st_ino != st_u.st_ino)
		fail("the fd of the unlinked %s is inode %lu, its mapping inode %lu", name_u,
		     (unsigned long)st_fd.st_ino, (unsigned long)st_u.st_ino);
	if (pwrite(fd_u, "fdwrite", 7, 2 * PAGE_SIZE + 100) != 7)
		fail("pwrite to the fd of the unlinked %s: %m", name_u);
	if (memcmp((const char *)map_u + 2 * PAGE_SIZE + 100, "fdwrite", 7))
		fail("a write to the fd of the unlinked %s does not show in its mapping", name_u);
	snprintf(path, sizeof(path), "/dev/shm%s", name_u);
	if (!access(path, F_OK))
		fail("the unlinked object %s has a name again", path);
	if (st_u.st_nlink != 0)
		fail("the unlinked object has %lu links", (unsigned long)st_u.st_nlink);

	*(volatile uint64_t *)(map_a + 2 * PAGE_SIZE) = 0x1111222233334444ULL;
	*(volatile uint64_t *)(map_u + 2 * PAGE_SIZE) = 0x5555666677778888ULL;
	tree_finish(pid, "child");
	if (*(volatile uint64_t *)(map_a + 3 * PAGE_SIZE) != 0xa0a0a0a0b1b1b1b1ULL)
		fail("the child's write into %s after restore not seen: %#lx", name_a,
		     *(volatile uint64_t *)(map_a + 3 * PAGE_SIZE));
	if (*(volatile uint64_t *)(map_u + 3 * PAGE_SIZE) != 0xc2c2c2c2d3d3d3d3ULL)
		fail("the child's write into the unlinked %s after restore not seen: %#lx",
		     name_u, *(volatile uint64_t *)(map_u + 3 * PAGE_SIZE));
	pass();
}
