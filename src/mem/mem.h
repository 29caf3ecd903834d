/* Memory: areas, mm fields and pages. Dump collects them from /proc and the
 * pagemap; restore validates them and lays them out for the restorer blob. */
#ifndef NESTOR_MEM_H
#define NESTOR_MEM_H

#include "core/model.h"
#include "restorer/restorer-abi.h"

/* Collects areas and the runs of pages to save; writes nothing. */
int mem_dump(struct dump_ctx *ctx, struct dump_task *t);
/* Writes the pages and the mm image, once every collector has succeeded. */
int mem_write(struct dump_ctx *ctx, struct dump_task *t);

/* Checks the mm image against itself, the pages file and this machine. */
int mem_validate(struct restore_ctx *ctx, struct restore_task *t);

/* Region layout for the blob, computed in the restoring child. */
struct rst_region {
	uint8_t *start;
	size_t len;
	struct rst_args *args;
	uint8_t *stack_top;
};

/* Maps the blob region in a gap of the saved layout and fills the memory
 * part of its args; fds for files and pages are opened at or above min_fd. */
int mem_prepare(struct restore_ctx *ctx, struct restore_task *t, int min_fd,
		struct rst_region *ret);

/* In nestor, before the tree: maps each shared anonymous object once. */
int mem_open_shms(struct restore_ctx *ctx);
/* Tells the blob where the task's shared objects are (after mem_prepare). */
void mem_fill_shms(struct restore_ctx *ctx, struct restore_task *t, struct rst_args *a);

#endif
