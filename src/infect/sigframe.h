/* The signal frame that takes a thread back to its own registers. */
#ifndef NESTOR_SIGFRAME_H
#define NESTOR_SIGFRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

/* Bytes a frame with an xsave area of xlen bytes takes. */
size_t sigframe_size(size_t xlen);
/* Where, in a frame at address frame, the stack pointer must be for rt_sigreturn. */
uint64_t sigframe_sp(uint64_t frame);
/* Where its stack_t (the altstack rt_sigreturn sets back) is. */
uint64_t sigframe_uc_stack(uint64_t frame);
/* Lays out in buf the frame that will sit at address frame in the task. */
int sigframe_build(const struct user_regs_struct *regs, uint64_t sigmask, const uint8_t *xsave,
		   size_t xlen, uint64_t frame, uint8_t *buf, size_t buflen);

#endif
