/* User namespaces (userns.c): what the rest of nestor asks of them. */
#ifndef NESTOR_USERNS_H
#define NESTOR_USERNS_H

#include <stdbool.h>
#include "core/image.h"
#include "core/model.h"

/* At dump, after ns_collect: t is the init of a pid namespace owned by a
 * user namespace other than nestor's (made from inside it at restore). */
bool userns_owned_init(const struct dump_ctx *ctx, const struct dump_task *t);
/* After ns_collect: what nestor cannot make again yet, refused by name. */
int userns_check(struct dump_ctx *ctx);
/* Task t's credentials, read from /proc as nestor sees them, turned into
 * the ids its own user namespace shows (what setresuid takes in there). */
int userns_creds_inside(const struct dump_ctx *ctx, const struct dump_task *t, CredsEntry *c);
/* After ns_restore: each user namespace's /proc/sys/user limits, from inside. */
int userns_restore_limits(struct restore_ctx *ctx);
/* In task idx, last before its blob: its supplementary groups (as nestor
 * sees them; the blob then leaves them), then into its user namespace. */
struct rst_args;
int userns_enter_task(struct restore_ctx *ctx, int idx, struct rst_args *a);
/* In the helper that clones task idx, an owned init: its groups, then into
 * owner, the user namespace owning its pid namespace. */
int userns_enter_owner(struct restore_ctx *ctx, int idx, uint32_t owner);
/* A descriptor of task idx's user namespace if the caller is not in it yet, else -1. */
int userns_fd_to_enter(struct restore_ctx *ctx, int idx);

/* An id map (lines "first lower_first count") the kernel would take. */
bool userns_map_ok(UsernsExtent *const *m, size_t n);
/* Through map m: the inside id of lower id lower; -ENOENT if unmapped. */
int userns_map_down(UsernsExtent *const *m, size_t n, uint32_t lower, uint32_t *ret);
/* At restore, after validation: uid (gid) out, as nestor sees it, as user
 * namespace id sees it (through every level's map); -ENOENT if unmapped.
 * For kinds that keep ids in nestor's terms and set them inside (SysV
 * owners in an IPC namespace an inner user namespace owns). */
int userns_to_inside(struct restore_ctx *ctx, uint32_t id, bool gid, uint32_t out, uint32_t *ret);

#endif
