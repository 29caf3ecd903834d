/* A task's identity and attributes: ids, session, creds, limits, scheduling,
 * and the per-thread state (registers, rseq, robust list). */
#ifndef NESTOR_TASK_H
#define NESTOR_TASK_H

#include "core/model.h"
#include "restorer/restorer-abi.h"
#include "tree/thread.h"

/* Checks that the task is one nestor can dump now, naming why not; 1 for a
 * zombie child. */
int task_check_dumpable(struct dump_ctx *ctx, pid_t pid, struct dump_task *t, bool is_child);
/* Refuses a thread (tid == pid: the main one) in another namespace than nestor's. */
/* Once seized: status and stat again, the ones saved. */
int task_reread(struct dump_task *t);
int task_dump_core(struct dump_ctx *ctx, struct dump_task *t);
/* Ids, groups and capabilities as /proc/PID/status gives them. */
int task_creds_from_status(const struct proc_status *s, CredsEntry **ret);
/* A validated creds entry into the blob's form. */
void task_fill_creds(const CredsEntry *cr, struct rst_creds *ret);

int task_validate(struct restore_ctx *ctx, struct restore_task *t);
/* In the restoring child, before the blob: session, group, scheduling, misc. */
int task_restore_early(struct restore_ctx *ctx, struct restore_task *t);
/* Fills the blob's args with thread state, creds and limits. */
void task_fill_args(struct restore_task *t, struct rst_args *a);

#endif
