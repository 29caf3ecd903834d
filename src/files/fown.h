/* A description's owner for signal-driven I/O: F_SETOWN_EX (task, thread or
 * group), F_SETSIG, and O_ASYNC with the fd number its signals name. */
#ifndef NESTOR_FOWN_H
#define NESTOR_FOWN_H

#include "core/model.h"

/* Reads the owner and signal of task t's fd into f (nothing when unset);
 * refuses an owner outside the tree. */
int fown_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, FileEntry *f);
int fown_validate(const FileEntry *f);
/* In restoring task t, once every task exists: owners, signals, O_ASYNC. */
int fown_restore_task(struct restore_ctx *ctx, struct restore_task *t);

#endif
