/* Entry of the restorer blob. nestor jumps here with %rdi = args and %rsp at
 * the top of the blob's own stack. At offset 16 sits the "syscall; int3"
 * gadget nestor uses, through ptrace, to unmap the blob at the very end. */
	.section .text.entry, "ax"
	.globl _start
_start:
	jmp 1f
	.balign 16
	.globl rst_gadget
rst_gadget:
	syscall
	int3
	.balign 16
	/*
	 * Dump mode (offset 32): nestor put us in the task to ask it things,
	 * %rsi = the thread's signal frame. Done, we park (below).
	 */
parasite_entry:
	mov %rsi, %r12
	call parasite_main
	mov %r12, %rsp
	jmp rst_park
	/*
	 * Dump mode, the remote syscall (offset 64) and the park. nestor runs a
	 * syscall at rst_remote with %rsp at the thread's signal frame (built
	 * from its own registers, mask and xsave area, in this mapping); the
	 * thread then parks at the entry of the rt_sigreturn at rst_park_sys,
	 * where nestor holds it, and injects its next syscalls (by changing
	 * the syscall number at that entry stop: they return to the second
	 * rt_sigreturn). Resumed without nestor at any of these points (nestor
	 * died: its death detaches the thread), the thread finishes what it
	 * was doing and returns to its own registers through the frame.
	 */
	.balign 64
	.globl rst_remote
rst_remote:
	syscall
rst_park:
	mov $15, %eax
rst_park_sys:
	syscall
	mov $15, %eax
	syscall
	ud2
1:
	call restorer_main
	ud2

/* long rst_clone3(args, size, fn, arg): the new thread runs fn(arg) on its own stack. */
	.text
	.globl rst_clone3
	.hidden rst_clone3
rst_clone3:
	push %r12
	push %r13
	mov %rdx, %r12
	mov %rcx, %r13
	mov $435, %eax
	syscall
	test %rax, %rax
	jz 2f
	pop %r13
	pop %r12
	ret
2:
	/* The child: same registers, the new stack. */
	mov %r13, %rdi
	call *%r12
	ud2

	.section .note.GNU-stack, "", @progbits
