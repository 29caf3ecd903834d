/*
 * IPC namespaces as a kind of the namespace model (src/ns/): System V
 * shared memory, semaphores and message queues (ipc-sysv.c), POSIX message
 * queues (mqueue.c) and the namespace's sysctls (ipc.c), in ipc-ID.img.
 */
#ifndef NESTOR_IPC_H
#define NESTOR_IPC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/model.h"

/* The kind's hooks (struct ns_kind_ops, see the model): dump runs with
 * nestor's thread inside namespace id; restore in a process inside the
 * fresh, empty namespace; restore_late with nestor's helper inside it once
 * every task has attached its segments, before the tree runs. */
int ipc_ns_dump(struct dump_ctx *ctx, uint32_t id, int nsfd);
int ipc_ns_dump_commit(struct dump_ctx *ctx, uint32_t id, int nsfd);
void ipc_ns_dump_abort(struct dump_ctx *ctx, uint32_t id, int nsfd);
int ipc_ns_validate(struct restore_ctx *ctx, uint32_t id);
int ipc_ns_restore(struct restore_ctx *ctx, uint32_t id);
int ipc_ns_restore_late(struct restore_ctx *ctx, uint32_t id);
void ipc_ns_free(struct restore_ctx *ctx, uint32_t id);

/* mem.c, dump: whether shmid is a segment saved with task pid's IPC namespace. */
bool ipc_dump_has_shm(pid_t pid, uint64_t shmid);
/* mem.c, restore: the segment shmid of task t's IPC namespace, or NULL. */
const IpcShmEntry *ipc_restore_shm(struct restore_ctx *ctx, const struct restore_task *t,
				   uint64_t shmid);

/*
 * GLUE until the namespace model is merged (src/ns/ipc-glue.c, to be
 * replaced by the model's hook calls): every task of the tree shares one
 * IPC namespace; when it is not nestor's, it is namespace 1 of the images.
 */
int ipc_glue_dump(struct dump_ctx *ctx);
int ipc_glue_dump_commit(struct dump_ctx *ctx);
void ipc_glue_dump_abort(struct dump_ctx *ctx);
int ipc_glue_validate(struct restore_ctx *ctx);
int ipc_glue_restore(struct restore_ctx *ctx);
int ipc_glue_enter_task(struct restore_ctx *ctx, int idx);
int ipc_glue_restore_late(struct restore_ctx *ctx);
void ipc_glue_free(struct restore_ctx *ctx);
/* The glue's stand-ins for the model's ns_priv() and the task's IPC namespace id. */
void **ipc_glue_priv(struct restore_ctx *ctx, uint32_t id);
uint32_t ipc_glue_task_ns(const struct restore_ctx *ctx, const struct restore_task *t);
uint32_t ipc_glue_dump_ns(pid_t pid);
/* nestor's descriptor of restored namespace id, or -1. */
int ipc_glue_nsfd(struct restore_ctx *ctx, uint32_t id);

#endif
