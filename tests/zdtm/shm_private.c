// SPDX-License-Identifier: GPL-2.0
/*
 * shm_private: a private mapping of shared memory. A MAP_SHARED|MAP_ANONYMOUS
 * object is mapped a second time, MAP_PRIVATE, through its
 * /proc/self/map_files handle (the kernel shows it as "/dev/zero (deleted)",
 * private). After restore: pages written through the private mapping keep
 * their private copy; the others still show the object, including a write
 * made to the object after restore; the object itself is whole.
 * Also a shared anonymous area grown by mremap() past its object's end
 * (the kernel allows it; the pages past the end raise SIGBUS): it comes
 * back with its length, its object's size and content.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtm.h"

#define NPAGES 8

static char shared_byte(unsigned long i)
{
	return (char)(i * 7 + 1);
}

static char private_byte(unsigned long i)
{
	return (char)(i * 5 + 2);
}

/* Pages 1 and 4 of the private mapping are written, and so copied. */
static bool copied(unsigned long page)
{
	return page == 1 || page == 4;
}

static void check(const char *shm, const char *priv)
{
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++) {
		char want = copied(i / PAGE_SIZE) ? private_byte(i) : shared_byte(i);

		if (shm[i] != shared_byte(i))
			fail("shared byte %lu: %#x, expected %#x", i, (unsigned char)shm[i],
			     (unsigned char)shared_byte(i));
		if (priv[i] != want)
			fail("private byte %lu: %#x, expected %#x", i, (unsigned char)priv[i],
			     (unsigned char)want);
	}
}

static void check_grown(const char *grown)
{
	struct vma_info vma;
	char link[96];
	struct stat st;
	int fd;

	if (vma_find(grown, &vma) || strcmp(vma.perms, "rw-s") ||
	    vma.start != (unsigned long)grown || vma.end - vma.start != 4 * PAGE_SIZE)
		fail("grown area at %p: %lx-%lx %s", grown, vma.start, vma.end, vma.perms);
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", vma.start, vma.end);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || st.st_size != 2 * PAGE_SIZE)
		fail("grown area's object: %m, %ld bytes, expected %lu", fd < 0 ? 0L : (long)st.st_size,
		     2 * PAGE_SIZE);
	close(fd);
	for (unsigned long i = 0; i < 2 * PAGE_SIZE; i++)
		if (grown[i] != (char)(i ^ 0x3c))
			fail("grown area byte %lu: %#x", i, (unsigned char)grown[i]);
}

int main(int argc, char **argv)
{
	struct vma_info vma;
	char link[96], *shm, *priv, *grown;
	int fd;

	test_init(argc, argv);
	shm = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	if (shm == MAP_FAILED)
		fail("mmap: %m");
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++)
		shm[i] = shared_byte(i);
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)shm,
		 (unsigned long)shm + NPAGES * PAGE_SIZE);
	fd = open(link, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("open %s: %m", link);
	priv = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (priv == MAP_FAILED)
		fail("mmap private: %m");
	close(fd);
	for (unsigned long i = 0; i < NPAGES * PAGE_SIZE; i++)
		if (copied(i / PAGE_SIZE))
			priv[i] = private_byte(i);
	check(shm, priv);
	grown = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (grown == MAP_FAILED)
		fail("mmap: %m");
	for (unsigned long i = 0; i < 2 * PAGE_SIZE; i++)
		grown[i] = (char)(i ^ 0x3c);
	grown = mremap(grown, 2 * PAGE_SIZE, 4 * PAGE_SIZE, MREMAP_MAYMOVE);
	if (grown == MAP_FAILED)
		fail("mremap: %m");
	check_grown(grown);

	test_daemon();
	test_waitsig();

	if (vma_find(priv, &vma) || strcmp(vma.perms, "rw-p") ||
	    vma.end - vma.start != NPAGES * PAGE_SIZE)
		fail("private mapping at %p lost", priv);
	check(shm, priv);
	check_grown(grown);
	/* Pages never written privately still show the object. */
	shm[2 * PAGE_SIZE] = 0x42;
	if (priv[2 * PAGE_SIZE] != 0x42)
		fail("the private mapping's page 2 no longer shows the shared object");
	if (priv[PAGE_SIZE] != private_byte(PAGE_SIZE))
		fail("the private copy of page 1 changed");
	pass();
}
