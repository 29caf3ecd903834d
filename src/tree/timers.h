/* POSIX timers (timer_create): ids, clocks, signals, values. */
#ifndef NESTOR_TIMERS_H
#define NESTOR_TIMERS_H

#include "core/model.h"

/* From /proc/PID/timers and the task itself (remote syscalls through t->rt). */
int timers_dump(struct dump_task *t);
int timers_validate(struct restore_task *t);
/* In the restoring task, before the blob, with every signal blocked. */
int timers_restore(struct restore_task *t);
/*
 * In nestor, once the task sits in the blob's final trap with all its threads
 * made and before the blob is unmapped; rt: its main thread, with the blob's
 * syscall gadget. Makes the timers when one of them needs a thread other than
 * the main one (all of them then, so that their order is kept).
 */
int timers_restore_late(struct restore_task *t, struct remote *rt);

/* Parses /proc/PID/timers of process pid into arena-allocated entries. */
int timers_parse_proc(const char *text, pid_t pid, PosixTimerEntry ***ret, size_t *ret_n);

/* 1 if timer_create can be given ids (PR_TIMER_CREATE_RESTORE_IDS), -errno if not. */
int timers_probe_restore_ids(void);

#endif
