/*
 * The identity of a file reopened by its path. A regular file must be the
 * same file, neither replaced, truncated nor modified: its size and mtime
 * are compared, and on the same file system as at the dump (same f_fsid and
 * st_dev) its file handle too (name_to_handle_at: the inode and its
 * generation, so a file deleted and another made with its inode number is
 * told apart), or its inode number where the file system gives no handle. A
 * directory (an fd's, cwd, root) must be the same directory: only its
 * identity is compared, as its mtime changes with every entry made in it.
 *
 * ctime is not compared: chmod, chown, rename and hard links change it
 * without changing what the task reads. A writer that puts the mtime back
 * (touch -d, utimensat) to the nanosecond without changing the size is not
 * seen on another file system. On another file system (a restore on another
 * machine, the files copied there) the handle and inode cannot match and
 * are not compared: size and mtime are. Files of pseudo file systems
 * (proc, sysfs, cgroup, debugfs...) are made by the kernel as they are read:
 * nothing of theirs is compared.
 */
#define LOG_PREFIX "files: "
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "core/arena.h"
#include "core/log.h"
#include "files/fd-ops.h"
#include "files/identity.h"

#define HANDLE_MAX 128

struct handle_buf {
	struct file_handle h;
	unsigned char bytes[HANDLE_MAX];
};

static uint64_t fsid_of(const struct statfs *sf)
{
	uint64_t v;

	memcpy(&v, &sf->f_fsid, sizeof(v));
	return v;
}

/* The handle of what dirfd/path names (following links); 0 or -errno. */
static int get_handle(int dirfd, const char *path, int flags, struct handle_buf *b)
{
	int mnt;

	b->h.handle_bytes = HANDLE_MAX;
	return name_to_handle_at(dirfd, path, &b->h, &mnt, flags) ? -errno : 0;
}

static bool pseudo_fs(long type)
{
	static const long types[] = { PROC_SUPER_MAGIC,	 SYSFS_MAGIC,	    CGROUP_SUPER_MAGIC,
				      CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC,    TRACEFS_MAGIC,
				      SECURITYFS_MAGIC,	 BPF_FS_MAGIC,	    0x62656570 /* configfs */,
				      0xde5e81e4 /* efivarfs */, 0x6165676c /* pstore */ };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (type == types[i])
			return true;
	return false;
}

int ident_record(FileEntry *f, const char *link, const struct stat *st)
{
	struct handle_buf b;
	struct statfs sf;

	if (statfs(link, &sf) == 0 && pseudo_fs(sf.f_type)) {
		f->has_pseudo = f->pseudo = true;
		return 0;
	}
	f->has_dev = f->has_ino = true;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	if (statfs(link, &sf) == 0) {
		f->has_fsid = true;
		f->fsid = fsid_of(&sf);
	}
	/* EOPNOTSUPP: a file system that gives no handles (overlayfs, procfs). */
	if (get_handle(AT_FDCWD, link, AT_SYMLINK_FOLLOW, &b) < 0)
		return 0;
	f->has_handle_type = f->has_handle = true;
	f->handle_type = b.h.handle_type;
	f->handle.len = b.h.handle_bytes;
	f->handle.data = arena_memdup(b.bytes, b.h.handle_bytes);
	return f->handle.data ? 0 : -ENOMEM;
}

/* Whether the file is the one of the dump, on the same file system. */
static bool same_file(const FileEntry *f, int fd, const struct stat *st)
{
	struct handle_buf b;
	struct statfs sf;
	int r;

	r = fd >= 0 ? fstatfs(fd, &sf) : statfs(f->path, &sf);
	if (r || !f->has_fsid || fsid_of(&sf) != f->fsid || !f->has_dev || st->st_dev != f->dev)
		return true; /* another file system: only size and mtime tell */
	if (!f->has_handle)
		return !f->has_ino || st->st_ino == f->ino;
	r = fd >= 0 ? get_handle(fd, "", AT_EMPTY_PATH, &b)
		    : get_handle(AT_FDCWD, f->path, AT_SYMLINK_FOLLOW, &b);
	return r == 0 && b.h.handle_type == f->handle_type && b.h.handle_bytes == f->handle.len &&
	       !memcmp(b.bytes, f->handle.data, f->handle.len);
}

int ident_compare(const FileEntry *f, int fd, char *why, size_t len)
{
	bool dir = f->type == FILE_TYPE__DIR;
	struct stat st;

	if (f->pseudo)
		return 0;
	if (fd >= 0 ? fstat(fd, &st) : stat(f->path, &st)) {
		snprintf(why, len, "cannot be found: %s", strerror(errno));
		return -errno;
	}
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		snprintf(why, len, "is no longer a %s", dir ? "directory" : "regular file");
	else if (!same_file(f, fd, &st))
		snprintf(why, len, "was replaced by another %s since the dump",
			 dir ? "directory" : "file");
	else if (!dir && (uint64_t)st.st_size != f->size)
		snprintf(why, len, "changed since the dump (size %llu, was %llu)",
			 (unsigned long long)st.st_size, (unsigned long long)f->size);
	else if (!dir && files_mtime_ns(&st) != f->mtime_ns)
		snprintf(why, len, "changed since the dump (modified: its mtime differs)");
	else
		return 0;
	return -ESTALE;
}
