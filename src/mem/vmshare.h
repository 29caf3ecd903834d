/* Memory and signal handlers shared between processes (CLONE_VM, CLONE_SIGHAND
 * without CLONE_THREAD): found at dump, made again at restore (vmshare.c). */
#ifndef NESTOR_VMSHARE_H
#define NESTOR_VMSHARE_H

#include <linux/sched.h>
#include "mem/mem.h"
#include "core/model.h"
#include "restorer/restorer-abi.h"

/* Marks the tasks sharing their parent's memory or signal handlers; refuses
 * sharing the restore cannot make (with a task that is not an ancestor). */
int vmshare_check(struct dump_ctx *ctx);

typedef void (*vmshare_fn)(struct restore_ctx *ctx, int idx, void *arg);

/* In the parent: clones task idx into its memory, running fn(ctx, idx, arg)
 * on a stack of its own, and waits while it makes its family. */
pid_t vmshare_clone(struct restore_ctx *ctx, int idx, struct clone_args *ca, vmshare_fn fn,
		    void *arg);
/* In a sharer, its family made: lets its parent go on. */
void vmshare_parked(struct restore_task *t);
/* In a sharer, after the barrier: waits for its turn to run nestor's code. */
void vmshare_wait_turn(struct restore_ctx *ctx, struct restore_task *t);
/* Ties the blobs of a group together (after mem_prepare). */
void vmshare_fill_args(struct restore_ctx *ctx, struct restore_task *t, struct rst_region *reg);

#endif
