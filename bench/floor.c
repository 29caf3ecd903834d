// SPDX-License-Identifier: GPL-2.0
/*
 * The floors nestor's big-memory figures are compared with (DESIGN.md,
 * "fresh pages"): what this machine needs at least to fill fresh pages.
 *   floor dump DIR MIB N [S] N times: write MIB MiB from a buffer filled
 *                            beforehand into a fresh file DIR/floor-image (the
 *                            dump's least work: fill the image's tmpfs pages),
 *                            unlinked after
 *   floor restore MIB N [S]  N times: mmap MIB MiB of fresh anonymous memory
 *                            and fill it (the restore's least work)
 *   floor warm MIB           fault in MIB MiB of anonymous memory and free it
 * dump and restore print one time in nanoseconds per line.
 *
 * Warm or cold: this VM's balloon reports free pages to the host (2 s after
 * they are freed), which drops them; a page allocated after that costs a
 * host fault, several times the guest's own work. Without S, each timed run
 * comes right after a warm-up that cycles more memory than it will allocate
 * (pages the host still backs: the figures compare the software). With S,
 * each comes after S seconds of sleep instead, so that every free page is
 * the host's again: the fresh pages cost what they cost a user whose machine
 * freed nothing just before. bench/run.sh treats nestor's runs the same way.
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

/* Before a timed run: a warm-up, or settle seconds of sleep (cold). */
static void prepare(size_t len, int settle)
{
	if (settle > 0) {
		fflush(stdout);
		sleep(settle);
	} else {
		warm(len + len / 2);
	}
}

static void floor_dump(const char *dir, size_t len, int reps, int settle)
{
	char path[4096];
	char *buf = map_anon(len);

	snprintf(path, sizeof(path), "%s/floor-image", dir);
	memset(buf, 0x5a, len); /* faulted in before the clock starts, like a task's memory */
	for (int i = 0; i < reps; i++) {
		prepare(len, settle);
		printf("%lld\n", write_once(path, buf, len));
	}
	munmap(buf, len);
}

static void floor_restore(size_t len, int reps, int settle)
{
	for (int i = 0; i < reps; i++) {
		long long t0;
		char *p;

		prepare(len, settle);
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
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "dump"))
		floor_dump(argv[2], (size_t)atol(argv[3]) << 20, atoi(argv[4]),
			   argc == 6 ? atoi(argv[5]) : 0);
	else if ((argc == 4 || argc == 5) && !strcmp(argv[1], "restore"))
		floor_restore((size_t)atol(argv[2]) << 20, atoi(argv[3]),
			      argc == 5 ? atoi(argv[4]) : 0);
	else if (argc == 3 && !strcmp(argv[1], "warm"))
		warm((size_t)atol(argv[2]) << 20);
	else {
		dprintf(2, "usage: %s dump DIR MIB N [S] | restore MIB N [S] | warm MIB\n",
			argv[0]);
		return 2;
	}
	return 0;
}
