/* Dump mode of the restorer blob: run inside a seized task once, it answers
 * what only the task can tell (signal actions, timers, prctl values...). */
#ifndef NESTOR_PARASITE_H
#define NESTOR_PARASITE_H

#include "model.h"
#include "restorer-abi.h"

/* Maps the blob into the task and lets it run. */
int parasite_start(struct dump_task *t, struct parasite_args *args);
/* Waits for it, reads its answers into ret, unmaps it; nothing if not started. */
int parasite_finish(struct dump_task *t, struct parasite_args *ret);

#endif
