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
	 * from its own registers, mask, altstack and xsave area, in this
	 * mapping); the thread then parks at the entry of a harmless syscall
	 * at rst_park_sys, where nestor holds it and injects its next syscalls
	 * (by changing the number at that entry stop). Resumed without nestor
	 * at any of these points (nestor died: its death detaches the thread),
	 * the thread finishes that syscall, cures (closes nestor's fds in the
	 * task, see struct rst_cure) and rt_sigreturns to its own registers.
	 */
	.balign 64
	.globl rst_remote
rst_remote:
	syscall
rst_park:
	mov $110, %eax
rst_park_sys:
	syscall
	/* The cure: see struct rst_cure in restorer-abi.h. */
	lea -(8 + 256)(%rsp), %rbx
	cmpl $0, (%rbx)
	je 3f
	xor %r12d, %r12d
2:
	cmp 4(%rbx), %r12d
	jge 5f
	movslq 40(%rbx,%r12,4), %rdi
	mov $3, %eax		/* close */
	syscall
	inc %r12d
	jmp 2b
5:
	mov 8(%rbx), %rdi
	movl $1, (%rdi)
	mov $202, %eax		/* futex(done, FUTEX_WAKE_PRIVATE, INT_MAX) */
	mov $129, %esi
	mov $0x7fffffff, %edx
	syscall
	jmp 4f
3:
	mov 8(%rbx), %rdi
	test %rdi, %rdi
	jz 4f
	mov $202, %eax		/* futex(done, FUTEX_WAIT_PRIVATE, 0, timeout) */
	mov $128, %esi
	xor %edx, %edx
	lea 16(%rbx), %r10
	syscall
4:
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
