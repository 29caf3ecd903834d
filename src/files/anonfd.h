/* Descriptors of anonymous inodes: eventfd, signalfd, timerfd, epoll, inotify. */
#ifndef NESTOR_ANONFD_H
#define NESTOR_ANONFD_H

#include "core/model.h"

/* Fills f for fd, whose link is "anon_inode:[KIND]" (or "anon_inode:KIND"),
 * or refuses the kind, naming the task, the fd and the kind. Runs syscalls
 * in the task (t->rt must be seized). A description an earlier fd of the
 * tree holds gets that fd's state. */
int anonfd_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, const char *link,
		FileEntry *f);
/* Checks every field of an ANON entry; the tasks' fd tables must be read. */
int anonfd_validate(struct restore_ctx *ctx, const FileEntry *f);
/* In nestor: a new description for f (called once per description). */
int anonfd_open(struct restore_ctx *ctx, const FileEntry *f);
/* In a restoring task, once all its fds are in place (epoll watches use
 * the task's own fd numbers). */
int anonfd_restore_task(struct restore_ctx *ctx, struct restore_task *t);

#endif
