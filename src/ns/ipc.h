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

/* The kind's hooks are ipc_ns_ops (ns/ns.h), in the model's table. */

/* mem.c, dump: whether shmid is a segment of IPC namespace ns, saved with it
 * (0: nestor's own, not saved). */
bool ipc_dump_has_shm(uint32_t ns, uint64_t shmid);
/* mem.c, restore: the segment shmid of task t's IPC namespace, or NULL. */
const IpcShmEntry *ipc_restore_shm(struct restore_ctx *ctx, const struct restore_task *t,
				   uint64_t shmid);

#endif
