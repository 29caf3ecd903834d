/* The I/O priority (ioprio_get/ioprio_set), which a restored task would
 * otherwise inherit from nestor. */
#ifndef NESTOR_IOPRIO_H
#define NESTOR_IOPRIO_H

#include "core/model.h"

/* The task's; a thread with another one is refused by name. */
int ioprio_dump(const struct dump_task *t, TaskCoreEntry *core);
/* In the restored task's main thread, before its threads are made (they inherit it). */
int ioprio_restore(const TaskCoreEntry *core);

#endif
