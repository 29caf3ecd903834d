/* The two orchestrators. */
#ifndef NESTOR_CR_H
#define NESTOR_CR_H

#include "core/model.h"

int cr_dump(const struct opts *o);
/* Returns the exit code nestor should exit with (the task's, without -d). */
int cr_restore(const struct opts *o);

#endif
