/* User namespaces (userns.c): what the rest of nestor asks of them. */
#ifndef NESTOR_USERNS_H
#define NESTOR_USERNS_H

#include "core/model.h"

/* After ns_collect: what nestor cannot make again yet, refused by name. */
int userns_check(struct dump_ctx *ctx);
/* Task t's credentials, read from /proc as nestor sees them, turned into
 * the ids its own user namespace shows (what setresuid takes in there). */
int userns_creds_inside(const struct dump_ctx *ctx, const struct dump_task *t, CredsEntry *c);
/* In task idx, last before its blob: its supplementary groups (as nestor
 * sees them; the blob then leaves them), then into its user namespace. */
struct rst_args;
int userns_enter_task(struct restore_ctx *ctx, int idx, struct rst_args *a);

#endif
