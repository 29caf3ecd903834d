/* Handing descriptors of nestor's to a seized task (givefd.c). */
#ifndef NESTOR_GIVEFD_H
#define NESTOR_GIVEFD_H

#include "infect/ptrace.h"

/* fds[0..n) (nestor's) become ret_fds[0..n) in the task (close-on-exec);
 * -errno on failure, with the fds received so far set (the cure closes
 * them if nestor dies; the caller closes them otherwise). */
int remote_give_fds(struct remote *rt, const int *fds, int n, int *ret_fds);
/* The same for one: *ret_fd untouched on failure. */
int remote_give_fd(struct remote *rt, int fd, int *ret_fd);

#endif
