/*
 * Contents of the files nestor makes again: unlinked regular files and
 * memfds. Dump: the data extents (SEEK_DATA / SEEK_HOLE), read into the
 * entry, and where each lies; a hole is saved as nothing. Restore: each
 * extent written at its offset, the file cut to its size, so st_blocks
 * stays what it was; then the owner.
 */
#define LOG_PREFIX "content: "
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "files/content.h"

/* Extents a file may have (a pair of numbers each in the image). */
#define MAX_EXTENTS (1u << 16)

/* Where the data of fd lies: pairs (offset, length) into ret (unless NULL),
 * *ret_n pairs. */
static int find_extents(int fd, uint64_t size, size_t max, uint64_t *ret, size_t *ret_n,
			uint64_t *ret_bytes)
{
	uint64_t off = 0, bytes = 0;
	size_t n = 0;

	while (off < size) {
		off_t d = lseek(fd, off, SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			break;
		if (d < 0 || (h = lseek(fd, d, SEEK_HOLE)) < 0)
			return -errno;
		if ((uint64_t)h > size)
			h = size;
		if ((uint64_t)d >= size)
			break;
		if (n == max)
			return -E2BIG;
		if (ret) {
			ret[2 * n] = d;
			ret[2 * n + 1] = h - d;
		}
		bytes += h - d;
		n++;
		off = h;
	}
	*ret_n = n;
	*ret_bytes = bytes;
	return 0;
}

int content_dump(int fd, const struct stat *st, pid_t pid, const char *what, FileEntry *f)
{
	uint64_t *ext, bytes = 0, bytes2 = 0;
	uint8_t *data, *p;
	size_t n = 0, n2 = 0;
	int r;

	r = find_extents(fd, st->st_size, MAX_EXTENTS, NULL, &n, &bytes);
	if (r == -E2BIG || (r == 0 && bytes > CONTENT_MAX))
		return log_error_ret(-EFBIG, "can't dump: task %d %s is a file of %" PRIu64 " bytes "
					     "with %s (at most %llu bytes of data in %u extents)",
				     pid, what, (uint64_t)st->st_size,
				     r ? "too many extents" : "too much data", CONTENT_MAX,
				     MAX_EXTENTS);
	if (r < 0)
		return log_error_errno(r, "cannot find the data of task %d %s", pid, what);
	ext = ANEW_ARRAY(uint64_t, 2 * n + 1);
	p = data = arena_alloc(bytes ? bytes : 1);
	if (!ext || !data)
		return -ENOMEM;
	/* Again, into the arrays: the same extents, unless the file changed. */
	r = find_extents(fd, st->st_size, n, ext, &n2, &bytes2);
	if (r < 0 || n2 != n || bytes2 != bytes)
		return log_error_errno(r < 0 ? r : -EAGAIN, "task %d %s changed while nestor read it",
				       pid, what);
	for (size_t i = 0; i < n; p += ext[2 * i + 1], i++)
		if ((r = pread_all(fd, p, ext[2 * i + 1], ext[2 * i])) < 0)
			return log_error_errno(r, "cannot read task %d %s", pid, what);
	f->has_data = true;
	f->data.data = data;
	f->data.len = bytes;
	f->extents = ext;
	f->n_extents = 2 * n;
	f->has_data_extents = true;
	f->data_extents = true;
	f->has_uid = f->has_gid = true;
	f->uid = st->st_uid;
	f->gid = st->st_gid;
	return 0;
}

int content_validate(const FileEntry *f)
{
	uint64_t end = 0, bytes = 0;

	if (!f->data_extents)
		return f->has_data && f->data.len == f->size && f->size <= CONTENT_MAX ? 0 : -EINVAL;
	if (!f->has_data || f->n_extents % 2 || f->n_extents > 2 * MAX_EXTENTS)
		return -EINVAL;
	for (size_t i = 0; i < f->n_extents; i += 2) {
		uint64_t off = f->extents[i], len = f->extents[i + 1];

		if (len == 0 || off < end || len > f->size || off > f->size - len)
			return -EINVAL;
		end = off + len;
		bytes += len;
	}
	return bytes == f->data.len && bytes <= CONTENT_MAX ? 0 : -EINVAL;
}

int content_restore(int fd, const FileEntry *f)
{
	const uint8_t *p = f->data.data;
	int r = 0;

	if (!f->data_extents)
		r = pwrite_all(fd, p, f->data.len, 0); /* an older image: the whole file */
	for (size_t i = 0; r == 0 && i < f->n_extents; p += f->extents[i + 1], i += 2)
		r = pwrite_all(fd, p, f->extents[i + 1], f->extents[i]);
	if (r == 0 && ftruncate(fd, f->size))
		r = -errno;
	if (r == 0 && f->has_uid && f->has_gid && fchown(fd, f->uid, f->gid))
		r = -errno;
	return r;
}
