/* Signals: actions, mask, pending (with their siginfo), altstack, itimers. */
#ifndef NESTOR_SIGNALS_H
#define NESTOR_SIGNALS_H

#include "core/model.h"
#include "restorer/restorer-abi.h"

/* Actions, process-wide pending signals, itimers. */
int signals_dump(struct dump_task *t);
/* Pending signals of a thread (shared: of its process), with their siginfo. */
/* The most pending signals a task (shared) or a thread may have queued. */
#define SIGNALS_MAX_PENDING 4096

int signals_dump_pending(pid_t tid, bool shared, SiginfoEntry ***ret, size_t *ret_n);
bool siginfo_ok(const SiginfoEntry *e);
int signals_validate(struct restore_task *t);
/* In the restoring child, with every signal blocked. */
int signals_restore(struct restore_task *t);
void signals_fill_args(struct restore_task *t, struct rst_args *a);

#endif
