/* Seizing a task with ptrace, running system calls inside it, and letting
 * it go exactly as it was. */
#ifndef NESTOR_PTRACE_H
#define NESTOR_PTRACE_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include "restorer/restorer-abi.h"

struct proc_vma;

/* A signal frame below a thread's stack pointer (rop.c). */
struct rop {
	uint64_t sp;    /* the frame, and the stack pointer the vDSO's ret pops it from */
	size_t len;
	uint8_t *saved; /* the task's own bytes there, while the frame is in place */
};

struct remote {
	pid_t pid;
	struct user_regs_struct regs; /* as seized */
	uint64_t sigmask;             /* as seized */
	uint64_t gadget;              /* a syscall instruction: the vDSO's or a restorer's */
	uint64_t scratch;             /* memory of nestor's in the task for remote calls, or 0 */
	size_t scratch_len;
	/*
	 * Dump: the parasite mapping (restorer-abi.h) and this thread's slot
	 * in it. Once parked, the thread sits at the entry of a harmless
	 * syscall followed by an rt_sigreturn through a frame of its own
	 * registers, mask and xsave area: resumed at any moment without
	 * nestor, it is itself again.
	 */
	uint64_t base;                /* the mapping, or 0 */
	uint64_t frame;               /* the thread's frame in it */
	size_t frame_len;
	size_t unmap_len;             /* the main thread unmaps the mapping on release */
	uint64_t done;                /* the main thread's done word (struct rst_cure) */
	bool main_thread;             /* closes, if nestor dies, the fds nestor made */
	int32_t fds[RST_CURE_FDS];    /* those fds (main thread), as in its cure block */
	int nr_fds;
	struct user_regs_struct pregs; /* parked: at the entry stop of the park's syscall */
	/* Before and after the mapping: rop.c, with the task's areas. */
	uint64_t rop_syscall, rop_sigret;
	const struct proc_vma *vmas;
	int nr_vmas;
	uint64_t altstack[3];         /* the thread's stack_t, once read into a frame */
	struct rop rop;
	bool parked;
	bool ran_syscall;             /* registers changed: put them back on release */
	/* The mapping under way (remote_map_begin/step). */
	int map_step;
	int park_stops;
	size_t map_len;
	long map_addr;
};

enum { MAP_ALTSTACK_ENTRY = 1, MAP_ALTSTACK_EXIT, MAP_SIGRETURN_1, MAP_MMAP_EXIT, MAP_SIGRETURN_2,
       MAP_DONE };

/* Attaches and stops the task in a ptrace trap and reads its registers and
 * signal mask; nothing of it is changed. -ESRCH, not logged, when it exited
 * meanwhile (a short-lived child or thread of a busy tree). */
int remote_seize(pid_t pid, struct remote *rt);
/* The same in two halves, so that many tasks stop side by side: seized and
 * interrupted; then stopped (or detached again on failure). */
int remote_seize_begin(pid_t pid, struct remote *rt);
int remote_seize_end(struct remote *rt);
/* Sets the registers and the signal mask back, unmaps the parasite (the main
 * thread, after the others), detaches. */
int remote_release(struct remote *rt);
/* Finds a syscall instruction in [start, end) of the task's memory. */
int remote_find_gadget(struct remote *rt, uint64_t start, uint64_t end);
/* Maps len bytes (rwx, private anonymous) in the task with registers only. */
int remote_map(struct remote *rt, size_t len, uint64_t *ret_addr);
/* The same a stop at a time (many tasks side by side): begin, then step
 * until it returns 1 (mapped, *ret_addr set); <0 on failure. */
int remote_map_begin(struct remote *rt, size_t len);
int remote_map_step(struct remote *rt, uint64_t *ret_addr);
/* Builds the thread's frame and parks it (rt->base and rt->frame set). */
int remote_park(struct remote *rt);
/*
 * Parks the thread (if it is not) and leaves it at its park's entry stop
 * with syscall nr(a1, a2, a3) in place of the harmless one: resumed without
 * nestor, it runs that syscall, then cures. The next remote syscall in the
 * thread, or its release, puts the harmless one back.
 */
int remote_hold(struct remote *rt, long nr, long a1, long a2, long a3);
/* The same a stop at a time: started, then remote_park_step until 1. */
int remote_park_start(struct remote *rt);
/* Builds the thread's frame only (altstack: its stack_t if known, else the
 * thread must read it into the frame before it may cure). */
int remote_frame(struct remote *rt, const uint64_t *altstack);
/* From any stop of a thread whose frame is built: runs syscall nr(a1) in
 * the blob, whose return falls into the park; then remote_park_step until
 * it returns 1 (parked), a stop each. */
int remote_park_begin(struct remote *rt, long nr, long a1);
int remote_park_step(struct remote *rt);
/* Runs syscall nr in the task (parking it first if it has a slot); *ret gets
 * its return value. */
int remote_syscall(struct remote *rt, long nr, long *ret, long a1, long a2, long a3, long a4,
		   long a5, long a6);
/* A syscall through the gadget (a thread with no park) in two halves, so
 * that many threads run theirs side by side: started; then its result. */
int remote_gadget_begin(struct remote *rt, long nr, long a1, long a2);
int remote_gadget_end(struct remote *rt, long *ret);
/* Gives nestor's scratch buffer in the task (len bytes at most), returning its address. */
int remote_scratch(struct remote *rt, size_t len, uint64_t *ret_addr);
/* Says where that buffer is: memory nestor made in the task. */
void remote_set_scratch(struct remote *rt, uint64_t addr, size_t len);
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
