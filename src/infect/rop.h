/* Safe syscalls in a task before nestor has a mapping there: through a
 * signal frame below its stack pointer and its own code (rop.c). */
#ifndef NESTOR_ROP_H
#define NESTOR_ROP_H

#include "infect/ptrace.h"
#include "tree/proc.h"

/* Finds the vDSO's "syscall ... ret" and the task's signal return trampoline. */
void rop_find(struct remote *rt, const struct proc_vma *v, int n);
/* Puts the thread's frame (altstack: its stack_t, or NULL to leave it for a
 * syscall to fill) below its stack pointer; -ENOENT/-ENOSPC: not possible. */
int rop_enter(struct remote *rt, const struct proc_vma *v, int n, const uint64_t *altstack,
	      struct rop *st);
/* Puts the task's own bytes back. */
int rop_leave(struct remote *rt, struct rop *st);

#endif
