/* Private anonymous memory a parent and its children share copy-on-write (cow.c). */
#ifndef NESTOR_COW_H
#define NESTOR_COW_H

#include "core/model.h"
#include "restorer/restorer-abi.h"

/* How a task's area is staged before it forks (restore_task.cow_how). */
enum {
	COW_NONE,
	COW_FRESH,   /* mapped and filled by the task */
	COW_INHERIT, /* the parent's staged area, kept where it is */
	COW_RESIZE,  /* the parent's, with other bounds: resized or moved (same start) */
	COW_WINDOW = 0x10, /* staged in nestor's window, not at its own address */
};
#define COW_KIND(how) ((how) & 0xf)

/* Moves the pages a child shares with its parent from mm->runs to mm->parent_runs. */
int cow_dump(struct dump_ctx *ctx, struct dump_task *t, MmEntry *mm);

/*
 * After every task's memory is collected: pages siblings share that their
 * parent has not (it wrote or dropped its own since their forks) go to
 * their stage_runs, saved by the first of them only.
 */
int cow_dump_siblings(struct dump_ctx *ctx);

/* Checks the task's pages from its parent against the parent's images. */
int cow_validate(const struct restore_ctx *ctx, const struct restore_task *t);

/* In nestor, before the tree: which areas are staged where; reserves the place. */
int cow_plan(struct restore_ctx *ctx);
/* In the task, before it forks: maps and fills its staged areas. */
int cow_stage(struct restore_ctx *ctx, struct restore_task *t);
/*
 * In the task, once its children are forked: what it staged below its
 * areas for them goes, its own pages come back over its stage.
 */
int cow_unstage(struct restore_ctx *ctx, struct restore_task *t);
/* Tells the blob where each staged area is (after mem_prepare filled the areas). */
void cow_fill_args(const struct restore_task *t, struct rst_vma *vmas);
void cow_free(struct restore_ctx *ctx);

#endif
