/* Shared anonymous memory saved and restored whole, as objects (shmem.c). */
#ifndef NESTOR_SHMEM_H
#define NESTOR_SHMEM_H

#include "core/model.h"
#include "restorer/restorer-abi.h"

/* Notes which object a shared anonymous area maps (its inode) and its size. */
int shmem_dump_area(pid_t pid, VmaEntry *v);
/* Lists the pages of each object the task is the first to map (after its areas). */
int shmem_dump(struct dump_ctx *ctx, struct dump_task *t, MmEntry *mm);
/* Writes shmem-ID.img for each object the task saved. */
int shmem_write(struct dump_ctx *ctx, struct dump_task *t, const MmEntry *mm);

/* Checks the task's shared areas and objects against every task's images. */
int shmem_validate(struct restore_ctx *ctx, struct restore_task *t);
/* Whether [start, end) is free in every task's saved layout. */
bool mem_free_in_all(const struct restore_ctx *ctx, uint64_t start, uint64_t end);
/* Bytes of the blob's args the task's objects need (their runs). */
size_t shmem_args_size(const MmEntry *mm);
/* Opens the task's object images at or above min_fd and lays out their runs. */
int shmem_prepare(struct restore_ctx *ctx, struct restore_task *t, int min_fd,
		  struct rst_args *a, struct rst_run *runs);

#endif
