/* Dump mode of the restorer blob: run inside a seized task once, it answers
 * what only the task can tell (signal actions, timers, prctl values...). */
#ifndef NESTOR_PARASITE_H
#define NESTOR_PARASITE_H

#include "core/model.h"
#include "restorer/restorer-abi.h"

/* Maps the blob into the task and lets it run. */
int parasite_start(struct dump_task *t, struct parasite_args *args);
/* Waits for it and reads its answers into ret; nothing if not running. */
int parasite_finish(struct dump_task *t, struct parasite_args *ret);
/* Unmaps it from the task (once it stopped); nothing if not mapped. */
int parasite_unmap(struct dump_task *t);

#endif
