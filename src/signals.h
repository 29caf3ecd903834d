/* Signals: actions, mask, pending (with their siginfo), altstack, itimers. */
#ifndef NESTOR_SIGNALS_H
#define NESTOR_SIGNALS_H

#include "model.h"
#include "restorer-abi.h"

int signals_dump(struct dump_task *t);
int signals_validate(struct restore_task *t);
/* In the restoring child, with every signal blocked. */
int signals_restore(struct restore_task *t);
void signals_fill_args(struct restore_task *t, struct rst_args *a);

#endif
