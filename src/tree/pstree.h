/* The process tree: who is whose child, sessions and groups, zombies. */
#ifndef NESTOR_PSTREE_H
#define NESTOR_PSTREE_H

#include "core/model.h"

/* Seizes the root and every descendant, parents first; zombies are noted. */
int pstree_collect(struct dump_ctx *ctx, pid_t root);
/* Refuses layouts the restore cannot rebuild, naming the task. */
int pstree_check_layout(struct dump_ctx *ctx);
int pstree_write(struct dump_ctx *ctx);
/* Releases every seized task as it was (kill.c kills them). */
int pstree_release(struct dump_ctx *ctx);

bool pstree_has(const struct dump_ctx *ctx, pid_t pid);
/* Calls fn for every process outside the tree (nestor too is left out)
 * until fn returns non-zero, and returns that. */
int pstree_for_each_outside(struct dump_ctx *ctx, int (*fn)(struct dump_ctx *, pid_t, void *),
			    void *arg);

int pstree_read(struct restore_ctx *ctx);
int pstree_index(const struct restore_ctx *ctx, pid_t pid);
/* The task a pid or thread id belongs to, or -1. */
int pstree_owner(const struct restore_ctx *ctx, pid_t tid);

#endif
