/* Threads: seizing every thread of a task, and the state each thread owns
 * (registers, xsave, signal mask and pending signals, rseq, clear-tid
 * address, robust list, altstack, scheduling). */
#ifndef NESTOR_THREAD_H
#define NESTOR_THREAD_H

#include "core/model.h"
#include "restorer/restorer-abi.h"

/* Seizes the task's other threads, until no new one appears. */
int threads_seize(struct dump_task *t);
/* pa: the parasite's answers for the main thread, NULL for the others. */
int thread_dump(struct remote *rt, const struct parasite_args *pa, ThreadEntry **ret);
/* Refuses speculation-control flags other than a new task's (by name). */
int thread_check_spec(struct remote *rt, pid_t pid);
/* The other threads' entries, into core->threads. */
int threads_dump(struct dump_task *t);

int thread_validate(const ThreadEntry *th);
/* Refuses a login uid restore cannot set (one line, naming the thread). */
int threads_check_loginuid(const TaskCoreEntry *c);
/* Bytes the blob's region needs for the threads of a task. */
size_t threads_args_size(const TaskCoreEntry *c);
/* Lays out struct rst_thread for each thread at `at` in the region. */
void threads_fill_args(const TaskCoreEntry *c, struct rst_args *a, uint8_t *at, uint8_t *stacks);
/* In nestor, once the blob trapped: registers, xsave, signal mask. */
int thread_restore_regs(pid_t tid, const ThreadEntry *th);

#endif
