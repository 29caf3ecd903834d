// SPDX-License-Identifier: GPL-2.0
/*
 * The floors nestor's big-memory figures are compared with (DESIGN.md,
 * "fresh pages"): what this machine needs at least to fill fresh pages.
 *   floor dump DIR MIB N     N times: write MIB MiB from a hot buffer into a
 *                            fresh file DIR/floor-image (the dump's least work:
 *                            fill the image's tmpfs pages), unlinked after
 *   floor restore MIB N      N times: mmap MIB MiB of fresh anonymous memory
 *                            and fill it (the restore's least work)
 *   floor warm MIB           fault in MIB MiB of anonymous memory and free it
 * dump and restore print one time in nanoseconds per line.
 *
 * Why "warm": this VM's balloon reports free pages to the host, which drops
 * them; a page allocated after that costs a host fault, several times the
 * guest's own work, and whether a run meets such pages is a lottery. Each
 * timed run (the floors' and nestor's alike) is preceded by a warm-up that
 * cycles more memory than it will allocate, so all of them start from pages
 * the host still backs and the figures compare the software, not the luck.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (8UL << 20)

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		dprintf(2, "floor: mmap %zu bytes: %m\n", len);
		exit(1);
	}
	return p;
}

static void warm(size_t len)
{
	char *p = map_anon(len);

	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
	munmap(p, len);
}

static long long write_once(const char *path, const char *buf, size_t len)
{
	long long t0 = now_ns(), t1;
	size_t off;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		dprintf(2, "floor: cannot create %s: %m\n", path);
		exit(1);
	}
	for (off = 0; off < len; off += n) {
		n = write(fd, buf + off, len - off < CHUNK ? len - off : CHUNK);
		if (n <= 0) {
			dprintf(2, "floor: write %s: %m\n", path);
			exit(1);
		}
	}
	close(fd);
	t1 = now_ns();
	unlink(path);
	return t1 - t0;
}

static void floor_dump(const char *dir, size_t len, int reps)
{
	char path[4096];
	char *buf = map_anon(len);

	snprintf(path, sizeof(path), "%s/floor-image", dir);
	memset(buf, 0x5a, len); /* hot: faulted in before the clock starts */
	for (int i = 0; i < reps; i++) {
		warm(len + len / 2);
		printf("%lld\n", write_once(path, buf, len));
	}
	munmap(buf, len);
}

static void floor_restore(size_t len, int reps)
{
	for (int i = 0; i < reps; i++) {
		long long t0;
		char *p;

		warm(len + len / 2);
		t0 = now_ns();
		p = map_anon(len);
		memset(p, 0x5a, len);
		/* The compiler must not drop the fill as a dead store. */
		__asm__ volatile("" : : "r"(p) : "memory");
		printf("%lld\n", now_ns() - t0);
		munmap(p, len);
	}
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "dump"))
		floor_dump(argv[2], (size_t)atol(argv[3]) << 20, atoi(argv[4]));
	else if (argc == 4 && !strcmp(argv[1], "restore"))
		floor_restore((size_t)atol(argv[2]) << 20, atoi(argv[3]));
	else if (argc == 3 && !strcmp(argv[1], "warm"))
		warm((size_t)atol(argv[2]) << 20);
	else {
		dprintf(2, "usage: %s dump DIR MIB N | restore MIB N | warm MIB\n", argv[0]);
		return 2;
	}
	return 0;
}
