/*
 * What the parts of the restore share, and nothing else sees:
 *   restore.c  reads and validates the images, runs the whole (cr_restore)
 *   tree.c     makes the tree: forks each task with its pid, sessions,
 *              groups, helpers for dead leaders, zombies
 *   task.c     what each restored task runs until it enters the blob
 *   driver.c   nestor's side: the channels, the ptrace driver, the final
 *              registers, the release, and killing a half-made tree
 */
#ifndef NESTOR_RESTORE_PRIV_H
#define NESTOR_RESTORE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/model.h"

/* How long the tree may take to reach its final traps: a minute, and 10 ms a task more. */
#define RESTORE_TIMEOUT_NS      (60ULL * 1000000000)
#define RESTORE_TASK_TIMEOUT_NS (10ULL * 1000000)

/* The pipes every task inherits. */
struct channels {
	int status_rd, status_wr; /* tasks -> nestor: struct rst_status */
	int barrier_rd, barrier_wr; /* nestor -> tasks: one byte each once all exist */
	int go_rd, go_wr;           /* nestor -> root: traced, go on */
};

/*
 * The pidfile: proven writable (made and removed) before any task exists,
 * so that a place it cannot be written refuses the restore before anything
 * is made; written under a temporary name beside it and renamed into place
 * with the root's pid just before the tree is let go.
 */
struct pidfile {
	const char *path; /* NULL: none asked for */
	char tmp[4200];
	bool made, committed;
};

/* A task that runs again, as opposed to a zombie or a helper. */
static inline bool is_live(const struct restore_task *t)
{
	return !t->zombie && !t->helper;
}

/* tree.c: in the tasks, making the tree. */
pid_t fork_task(struct restore_ctx *ctx, int idx, struct channels *ch);
int make_family(struct restore_ctx *ctx, int idx, struct channels *ch);
int join_group(struct restore_ctx *ctx, int idx, struct channels *ch);
int settle_zombies(struct restore_ctx *ctx, int idx);

/* task.c: what a restored task runs. */
/* In nestor, before the tree is made: what task_report() names tasks by. */
int task_reports_prepare(const struct restore_ctx *ctx);
void task_report(int fd, int err, uint32_t step, uint64_t addr, uint64_t len);
__attribute__((noreturn)) void task_main(struct restore_ctx *ctx, int idx, struct channels *ch);

/* restore.c */
int pidfile_commit(struct pidfile *pf, pid_t pid);
/* Removes what pidfile_prepare or pidfile_commit made. */
void pidfile_abort(struct pidfile *pf);

/* driver.c: in nestor. Returns the root's pid once the tree runs; on any
 * failure, nothing of the tree is left. */
int run_restore(struct restore_ctx *ctx, struct pidfile *pf);

#endif
