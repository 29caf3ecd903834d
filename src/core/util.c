/* Small helpers: whole-file reads, full reads/writes, checksums, number parsing. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/util.h"

int read_file_at(int dirfd, const char *path, char **ret, size_t max)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (len + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *n;

			if (ncap > max + 1)
				ncap = max + 1;
			if (len + 1 >= ncap)
				return -EFBIG;
			n = realloc(buf, ncap);
			if (!n)
				return -ENOMEM;
			buf = n;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		len += r;
	}
	buf[len] = 0;
	*ret = steal_ptr(buf);
	return len;
}

int write_file_at(int dirfd, const char *path, const char *s)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return write_all(fd, s, strlen(s));
}

/* Reads len bytes at off (or at the file position when off < 0). */
static int read_exact(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = off < 0 ? read(fd, (char *)buf + done, len - done)
				    : pread(fd, (char *)buf + done, len - done, off + done);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ENODATA;
		done += r;
	}
	return 0;
}

int read_all(int fd, void *buf, size_t len)
{
	return read_exact(fd, buf, len, -1);
}

int pread_all(int fd, void *buf, size_t len, off_t off)
{
	return off < 0 ? -EINVAL : read_exact(fd, buf, len, off);
}

/* Writes len bytes at off (or at the file position when off < 0). */
static int write_exact(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = off < 0 ? write(fd, (const char *)buf + done, len - done)
				    : pwrite(fd, (const char *)buf + done, len - done, off + done);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		done += r;
	}
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	return write_exact(fd, buf, len, -1);
}

int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	return off < 0 ? -EINVAL : write_exact(fd, buf, len, off);
}

/* CRC-32C (Castagnoli): the CPU's crc32 instruction where it has one, else a table. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
							    size_t len)
{
	uint64_t c = crc;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	for (; len; len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	static int hw = -1;
	const uint8_t *p = buf;

	if (hw < 0)
		hw = __builtin_cpu_supports("sse4.2");
	if (hw)
		return ~crc32c_hw(~crc, p, len);
	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint64_t now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_int(const char *s, int *ret)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < INT32_MIN || v > INT32_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

int fd_move_above(int fd, int min_fd)
{
	int nfd;

	if (fd < 0)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, min_fd);
	if (nfd < 0)
		return -errno;
	close(fd);
	return nfd;
}

int fd_reopen(int fd, int flags)
{
	char path[32];
	int nfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, OPEN_FLAGS_RESTORE(flags));
	return nfd < 0 ? -errno : nfd;
}

void *array_add(void *arr, size_t nr, size_t size)
{
	void **p = arr;
	char *n = realloc(*p, (nr + 1) * size);

	if (!n)
		return NULL;
	*p = n;
	memset(n + nr * size, 0, size);
	return n + nr * size;
}

long read_sysctl_long(const char *path, long dflt)
{
	char buf[32] = "";
	long v = dflt;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			v = strtol(buf, NULL, 10);
		close(fd);
	}
	return v;
}
