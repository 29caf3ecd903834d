/* POSIX timers (timer_create): ids, clocks, signals, values. */
#ifndef NESTOR_TIMERS_H
#define NESTOR_TIMERS_H

#include "model.h"

/* From /proc/PID/timers and the task itself (remote syscalls through t->rt). */
int timers_dump(struct dump_task *t);
int timers_validate(struct restore_task *t);
/* In the restoring task, before the blob, with every signal blocked. */
int timers_restore(struct restore_task *t);

#endif
