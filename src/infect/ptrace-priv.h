/* What ptrace.c and park.c share: the syscall stops and injections. */
#ifndef NESTOR_PTRACE_PRIV_H
#define NESTOR_PTRACE_PRIV_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/user.h>

struct remote;

/* Resumes the thread to its next syscall stop. */
int resume_syscall(pid_t pid);
/* The next stop of a thread resumed so: a syscall stop, or an error. */
int wait_syscall(pid_t pid);
/* Both. */
int syscall_stop(pid_t pid);
void set_args(struct user_regs_struct *r, long a1, long a2, long a3, long a4, long a5, long a6);
/* A syscall through the vDSO gadget, from a stop outside a syscall. */
int gadget_call(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4,
		long a5, long a6);
/* Parked: the park's syscall at its entry stop becomes syscall nr (then reparked). */
int inject(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4, long a5,
	   long a6);

#endif
