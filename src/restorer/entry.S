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
1:
	call restorer_main
	ud2
	.section .note.GNU-stack, "", @progbits
