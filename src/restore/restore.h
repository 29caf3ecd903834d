/* What the restore offers besides cr_restore: its validation alone, for the fuzzer. */
#ifndef NESTOR_RESTORE_H
#define NESTOR_RESTORE_H

#include "core/model.h"

/*
 * Reads and validates the images of dir as a restore does, creating
 * nothing and looking at nothing of this machine (free pids, mapped files,
 * vDSO, cgroups): the images alone. Fills *ctx, which restore_ctx_free
 * releases whatever the result.
 */
int restore_check_images(const struct opts *o, struct restore_ctx *ctx);
void restore_ctx_free(struct restore_ctx *ctx);

#endif
