/* Small helpers every file uses: cleanup attributes, ownership transfer, sizes. */
#ifndef NESTOR_UTIL_H
#define NESTOR_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/user.h> /* PAGE_SIZE */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f) {
		int saved = errno;
		fclose(*f);
		errno = saved;
	}
}

static inline void closedirp(DIR **d)
{
	if (*d) {
		int saved = errno;
		closedir(*d);
		errno = saved;
	}
}

#define _cleanup_(f)      __attribute__((cleanup(f)))
#define _cleanup_free_    _cleanup_(freep)
#define _cleanup_close_   _cleanup_(closep)
#define _cleanup_fclose_  _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hands a cleanup-owned value to someone else. */
#define steal_ptr(p)                                                                               \
	({                                                                                         \
		__typeof__(p) _t = (p);                                                            \
		(p) = NULL;                                                                        \
		_t;                                                                                \
	})
#define steal_fd(fd)                                                                               \
	({                                                                                         \
		int _t = (fd);                                                                     \
		(fd) = -1;                                                                         \
		_t;                                                                                \
	})

#define xzalloc(sz) calloc(1, (sz))

/* Reads a whole small file (at most max bytes) into a NUL-terminated buffer. */
int read_file_at(int dirfd, const char *path, char **ret, size_t max);
int write_file_at(int dirfd, const char *path, const char *s);
int read_all(int fd, void *buf, size_t len);
int write_all(int fd, const void *buf, size_t len);
int pread_all(int fd, void *buf, size_t len, off_t off);
int pwrite_all(int fd, const void *buf, size_t len, off_t off);
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
uint64_t now_ns(int clock);
int parse_u64(const char *s, uint64_t *ret);
int parse_int(const char *s, int *ret);
/* The number a /proc/sys file holds, or dflt when it cannot be read. */
long read_sysctl_long(const char *path, long dflt);
/* Moves fd (closing it) to the first free number >= min_fd; a negative fd passes through. */
int fd_move_above(int fd, int min_fd);
/* Saved open flags as they are given back: no creation flags, close-on-exec for nestor,
 * no O_ASYNC (open() marks the file with it but never arms it, and F_SETFL cannot arm
 * it after that: fown.c turns it on in the task). */
#define OPEN_FLAGS_RESTORE(flags) (((flags) & ~(O_CREAT | O_EXCL | O_TRUNC | O_ASYNC)) | O_CLOEXEC)
/* A new open file description of what fd refers to, with flags; -errno on failure. */
int fd_reopen(int fd, int flags);
/*
 * Makes room for one more element after the nr in the array *arr (arr is
 * the address of the array pointer) and returns it zeroed; NULL when out of
 * memory, *arr then unchanged. The caller counts the element in.
 */
void *array_add(void *arr, size_t nr, size_t size);

#endif
