/* Copying a task's saved pages into pages-PID.img. */
#ifndef NESTOR_PAGES_H
#define NESTOR_PAGES_H

#include "core/model.h"

/* Writes the pages of mm->runs, in order, back to back. */
int pages_dump(struct dump_ctx *ctx, struct dump_task *t, const MmEntry *mm);

#endif
