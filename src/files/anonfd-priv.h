/* Shared between the anonymous-inode kinds (anonfd.c) and inotify.c. */
#ifndef NESTOR_ANONFD_PRIV_H
#define NESTOR_ANONFD_PRIV_H

#include "core/model.h"

#define MAX_WATCHES (1 << 20)
/* Dummy watches allowed to bring a restored inotify to its watch numbers. */
#define MAX_WD_SKIPS (1u << 20)

/* What a kind's dumper gets: the fd, its task and its fdinfo text. */
struct anon_dump {
	struct dump_ctx *ctx;
	struct dump_task *t;
	int fd;
	const char *info;
};

int anonfd_bad_entry(const FileEntry *f, const char *what);
const char *anonfd_fdinfo_field(const char *info, const char *key);
int anonfd_remote_fd_call(const struct anon_dump *d, long nr, const char *name, long arg,
			  void *buf, size_t len);
int anonfd_count_watches(const struct anon_dump *d, const char *key, const char *kind,
			 size_t *ret);

int dump_inotify(struct anon_dump *d, AnonfdEntry *a);
int validate_inotify(struct restore_ctx *ctx, const FileEntry *f);
int open_inotify(const FileEntry *f);

#endif
