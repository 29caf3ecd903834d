/*
 * The kinds of open file descriptions and what each registers with the
 * dispatcher (files.c): how it recognises its descriptors at dump, dumps
 * them, validates its entries and opens them again at restore. The
 * dispatcher knows the kinds only through fd_kinds[] (kinds.c); the kinds
 * reach the descriptor table only through the services at the end
 * (desc.c), so no circle of calls forms.
 */
#ifndef NESTOR_FD_OPS_H
#define NESTOR_FD_OPS_H

#include <stdbool.h>
#include <sys/stat.h>
#include "core/model.h"

/* One descriptor being dumped: task t's fd, its /proc link and what it is. */
struct fd_dump {
	struct dump_ctx *ctx;
	struct dump_task *t;
	int fd;
	const char *link;      /* /proc/PID/fd/N */
	const struct stat *st; /* of link */
};

/* A file a task maps (link is a map_files link) or runs (/proc/PID/exe). */
struct fd_mapped {
	pid_t pid;
	const char *link;
	const char *path; /* link's target */
	const struct stat *st;
	bool exe;
};

struct fd_ops {
	const char *name;
	uint32_t types; /* FD_TYPE() bits of the entries this kind makes */
	/* Dump: whether this kind takes a descriptor or mapping (path: its link's target). */
	bool (*claims)(const struct stat *st, const char *path);
	/* Fills f (path, flags, pos and stat fields set), or refuses by name. */
	int (*dump)(const struct fd_dump *d, FileEntry *f);
	/* Optional: a mapped or executed file (claimed by claims_mapped, or
	 * claims if that is NULL); adds (or finds) its entry. */
	bool (*claims_mapped)(const struct stat *st, const char *path);
	int (*dump_mapped)(struct dump_ctx *ctx, const struct fd_mapped *m, uint32_t *ret_id);
	/* Optional: once every task is collected (checks across the tree). */
	int (*dump_finish)(struct dump_ctx *ctx);
	/* Optional, for a dump that kills the tree: the most bytes dump_commit
	 * writes (0: it has nothing to do), asked before the last point of
	 * refusal so that the room is reserved; <0 refuses the dump. */
	long (*dump_commit_size)(struct dump_ctx *ctx);
	/* Optional: after the last point of refusal, only for a dump that kills
	 * the tree: what cannot be undone, written to img (backlog.img, in the
	 * room reserved). Refusing is too late here. */
	int (*dump_commit)(struct dump_ctx *ctx, struct img *img);
	/* Optional: an entry of this kind, once every entry's shape is checked. */
	int (*validate)(struct restore_ctx *ctx, const FileEntry *f);
	/* Optional: in nestor, before any description or mapping is opened. */
	int (*prepare)(struct restore_ctx *ctx);
	/* In nestor: a new description for f, opened with flags (the mode, for a
	 * mapped file: f->flags is then (uint32_t)-1); returns the fd. */
	int (*open)(struct restore_ctx *ctx, const FileEntry *f, int flags);
	/* Optional: whether f is opened by the restored task itself once the
	 * whole tree exists (open is then called there), not by nestor before. */
	bool (*late)(const FileEntry *f);
	/* Optional: in a restoring task once its fds are in place. */
	int (*restore_task)(struct restore_ctx *ctx, struct restore_task *t);
	/* Optional: in nestor, once the tree has its descriptors (or failed). */
	void (*close)(struct restore_ctx *ctx);
};

#define FD_TYPE(t) (1u << (t))

/* The kinds, in the order they are asked whether they claim a descriptor. */
extern const struct fd_ops *const fd_kinds[];
extern const size_t nr_fd_kinds;

extern const struct fd_ops tty_fd_ops, memfd_fd_ops, regular_fd_ops, pipes_fd_ops,
	anonfd_fd_ops, sockets_fd_ops, mqueue_fd_ops;

/* ---- services of the descriptor table, for the kinds (desc.c) ---- */

/* A task and fd holding description id (the first seen), for pidfd_getfd and
 * messages: the fd, or -ENOENT. */
int files_holder(struct dump_ctx *ctx, uint32_t id, pid_t *ret_pid);
/* The stat fields every entry records: mode, size, mtime, rdev. */
void files_fill_stat(FileEntry *f, const struct stat *st);
uint64_t files_mtime_ns(const struct stat *st);
/* readlink into buf, NUL-terminated; -ENAMETOOLONG if it does not fit. */
int files_read_link(const char *link, char *buf, size_t len);

#endif
