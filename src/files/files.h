/* Files: open descriptions, descriptor tables, and the files tasks map or run.
 * The kinds of descriptions are behind fd-ops.h. */
#ifndef NESTOR_FILES_H
#define NESTOR_FILES_H

#include "core/model.h"

int files_dump_mapped(struct dump_ctx *ctx, pid_t pid, const struct proc_vma *v,
		      uint32_t *ret_id);
int files_dump_exe(struct dump_ctx *ctx, pid_t pid, uint32_t *ret_id);
/* cwd and root, as directory entries. */
int files_dump_dir(struct dump_ctx *ctx, pid_t pid, const char *which, uint32_t *ret_id);
int files_dump_fds(struct dump_ctx *ctx, struct dump_task *t);
/* Once every task is collected: each kind's checks across the tree. */
int files_dump_finish(struct dump_ctx *ctx);
/* The most bytes files_dump_commit writes (0: nothing to commit), or <0. */
long files_dump_commit_size(struct dump_ctx *ctx);
/* After the last point of refusal, once every other image is written and
 * synced: each kind's irreversible step (taking waiting connections),
 * written to img (backlog.img) in the room reserved for it. */
int files_dump_commit(struct dump_ctx *ctx, struct img *img);

/* Checks the files image: ids, types, and that mapped files are unchanged. */
int files_validate(struct restore_ctx *ctx);
/* Opens a file a task maps or runs, refusing it if it changed since the dump. */
int files_open_mapped(struct restore_ctx *ctx, uint32_t id, int mode);
/* A file tasks map or run, opened once (by nestor, before the tree) per mode. */
int files_mapped_fd(struct restore_ctx *ctx, uint32_t id, int mode);
/* The mode an area's file is opened with. */
int files_map_mode(const VmaEntry *v);
/* The highest fd number the task had, or -1. */
int files_max_fd(const struct restore_task *t);
/* In nestor: opens every description the tasks hold, above ctx->fd_base;
 * term_fd is the caller's terminal for --shell-job (or -1). */
int files_open_table(struct restore_ctx *ctx, int term_fd);
void files_close_table(struct restore_ctx *ctx);
/* In a restoring task: dups its descriptors into place from the table. */
int files_restore_fds(struct restore_ctx *ctx, struct restore_task *t);
int files_restore_dirs(struct restore_ctx *ctx, struct restore_task *t);
/* In a restoring task once its fds are in place (epoll watches). */
int files_restore_task(struct restore_ctx *ctx, struct restore_task *t);

#endif
