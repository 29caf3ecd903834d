/* Handing a descriptor of nestor's to a seized task (givefd.c). */
#ifndef NESTOR_GIVEFD_H
#define NESTOR_GIVEFD_H

#include "infect/ptrace.h"

/* fd (nestor's) becomes *ret_fd in the task (close-on-exec); -errno, and
 * *ret_fd untouched, on failure. */
int remote_give_fd(struct remote *rt, int fd, int *ret_fd);

#endif
