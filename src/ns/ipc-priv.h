/* What ipc.c, ipc-sysv.c and mqueue.c share, and nothing else sees. */
#ifndef NESTOR_IPC_PRIV_H
#define NESTOR_IPC_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include "core/model.h"

/* Dump: one namespace, from its dump to its commit. */
struct ipc_dump_ns {
	uint32_t id;
	IpcNsEntry *e;
	int *mq_fds;               /* by index in e->mqs, read-write, non-blocking */
	dev_t mq_dev;              /* the device of its queues' file system */
	int *shm_ids;              /* its segments' ids, as collected */
	size_t nr_shm_ids;
	IpcMqMsgEntry **taken;     /* messages taken out of the queues at commit */
	size_t nr_taken, cap_taken, nr_back; /* how many were put back */
};

/* Restore: what validate read, for restore and restore_late. */
struct ipc_rst_ns {
	uint32_t id;
	IpcNsEntry *e;
	int shm_fd; /* ipcshm-ID.img */
	IpcMqMsgEntry **msgs;
	size_t nr_msgs;
};

/* ipc.c */
/* Dump: the namespace whose queues live on device dev, or 0. */
uint32_t ipc_dump_ns_of_mq_dev(dev_t dev);
/* Restore: whether namespace id is restored with a queue of this name. */
bool ipc_restore_has_mq(struct restore_ctx *ctx, uint32_t id, const char *name);
/* The saved value of a sysctl ("kernel/shmmax"), or NULL. */
const char *ipc_sysctl_saved(const IpcNsEntry *e, const char *name);
int ipc_sysctl_write(const char *name, const char *value);
/* Runs fn with the effective ids of an object's creator (cuid/cgid), then back. */
int ipc_as_creator(const IpcPermEntry *p, int (*fn)(void *arg), void *arg);

/* ipc-sysv.c */
/* The ids of the current namespace's segments. */
int ipc_shm_ids(uint32_t ns, int **ret, size_t *ret_n);
int ipc_sysv_dump(int dirfd, uint32_t id, IpcNsEntry *e, bool rmid_forced);
int ipc_sysv_validate(uint32_t id, const IpcNsEntry *e, int shm_fd);
int ipc_sysv_restore(struct ipc_rst_ns *n);
/* Segments destroyed at dump but still attached: destroyed again. */
int ipc_shm_restore_late(struct ipc_rst_ns *n);

/* mqueue.c */
/* The device of the current namespace's queues. */
int mq_dev(uint32_t ns, dev_t *ret);
int mq_dump(struct ipc_dump_ns *d);
int mq_dump_commit(int dirfd, struct ipc_dump_ns *d);
void mq_dump_abort(struct ipc_dump_ns *d);
int mq_validate(struct ipc_rst_ns *n, int dirfd);
int mq_restore(struct ipc_rst_ns *n);

#endif
