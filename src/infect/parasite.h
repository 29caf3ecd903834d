/* Dump mode of the restorer blob: run inside a seized task once, it answers
 * what only the task can tell (signal actions, timers, prctl values...). Its
 * mapping also holds every thread's scratch room and signal frame. */
#ifndef NESTOR_PARASITE_H
#define NESTOR_PARASITE_H

#include "core/model.h"
#include "restorer/restorer-abi.h"

/* Maps the blob into the task and lets the parasite run in its main thread. */
int parasite_start(struct dump_task *t, struct parasite_args *args);
/* Lets it run until it parks and reads its answers into ret; nothing if not running. */
int parasite_finish(struct dump_task *t, struct parasite_args *ret);
/* The same for every task running one, side by side; answers into each t->pa. */
int parasite_finish_all(struct dump_task *tasks, size_t n);
/* Closes the socket the parasites connect to (the dump is over). */
void parasite_cleanup(void);

#endif
