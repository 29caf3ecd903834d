/* Seizing a task with ptrace, running system calls inside it, and letting
 * it go exactly as it was. */
#ifndef NESTOR_PTRACE_H
#define NESTOR_PTRACE_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct remote {
	pid_t pid;
	struct user_regs_struct regs; /* as seized */
	uint64_t sigmask;             /* as seized */
	uint64_t gadget;              /* address of a syscall instruction */
	uint64_t scratch;             /* scratch area below the red zone */
	uint8_t *scratch_saved;       /* its original bytes, once used */
	size_t scratch_len;
	bool ran_syscall;
};

/* Attaches, stops the task in a ptrace trap, reads its registers, blocks all
 * its signals while we work. On failure the task is left untouched. */
int remote_seize(pid_t pid, struct remote *rt);
/* Sets the registers, the signal mask and the scratch area back, detaches. */
int remote_release(struct remote *rt);
/* Finds a syscall instruction in [start, end) of the task's memory. */
int remote_find_gadget(struct remote *rt, uint64_t start, uint64_t end);
/* Runs syscall nr in the task; *ret gets its return value. */
int remote_syscall(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4,
		   long a5, long a6);
/* Gives a scratch buffer in the task of len bytes (up to 4096), returning its address. */
int remote_scratch(struct remote *rt, size_t len, uint64_t *ret_addr);
int remote_read(pid_t pid, uint64_t addr, void *buf, size_t len);
int remote_write(pid_t pid, uint64_t addr, const void *buf, size_t len);

/* Applies what the kernel does when an interrupted syscall returns without a
 * signal; new_task: the registers go to a restored task, without the
 * kernel's restart block. */
void regs_fixup_restart(struct user_regs_struct *r, bool new_task);
int ptrace_get_xsave(pid_t pid, void *buf, size_t *len);
int ptrace_set_xsave(pid_t pid, const void *buf, size_t len);
/* Waits for pid to stop or exit; returns the status. */
int wait_stopped(pid_t pid, int *ret_status);

#endif
