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
	/* Dump mode (offset 32): nestor put us in the task to ask it things. */
parasite_entry:
	call parasite_main
	int3
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
