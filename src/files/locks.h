/* File locks: flock, POSIX record locks and OFD locks. */
#ifndef NESTOR_LOCKS_H
#define NESTOR_LOCKS_H

#include "core/model.h"
#include "infect/ptrace.h"
#include "restorer/restorer-abi.h"

enum { LOCK_KIND_FLOCK = 1, LOCK_KIND_POSIX = 2, LOCK_KIND_OFD = 3 };

/* Records the locks fdinfo shows for fd of task t, refusing the kinds not restored. */
int locks_dump(struct dump_task *t, int fd, const char *fdinfo);
int locks_validate(const struct restore_task *t);
/* In nestor: flock and OFD locks, on the descriptions it opened. */
int locks_restore_descriptions(struct restore_ctx *ctx);
/* In the task: the flocks it took itself (their pid is its own). */
int locks_restore_flocks(struct restore_ctx *ctx, const struct restore_task *taker);
/* POSIX locks for the blob, which takes them last. */
void locks_fill_args(const struct restore_task *t, struct rst_args *a);
/* A task whose fd table is shared: its POSIX locks, taken by nestor in the
 * task (rt: its main thread, stopped in the blob) after closing its own fds. */
int locks_restore_late(struct restore_ctx *ctx, struct restore_task *t, struct remote *rt);

#endif
