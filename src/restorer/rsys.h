/* Freestanding raw syscalls for the restorer blob: no libc, no errno. */
#ifndef NESTOR_RSYS_H
#define NESTOR_RSYS_H

#include <stdint.h>

static inline long rsys6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 asm("r10") = a4;
	register long r8 asm("r8") = a5;
	register long r9 asm("r9") = a6;
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
		     : "rcx", "r11", "memory");
	return ret;
}

#define rsys(nr, a1, a2, a3) rsys6(nr, (long)(a1), (long)(a2), (long)(a3), 0, 0, 0)

/* x86_64 syscall numbers the blob uses. */
enum {
	NR_pread64 = 17,
	NR_pwrite64 = 18,
	NR_read = 0,
	NR_write = 1,
	NR_exit = 60,
	NR_getpid = 39,
	NR_tgkill = 234,
	NR_pipe2 = 293,
	NR_close = 3,
	NR_mmap = 9,
	NR_mprotect = 10,
	NR_munmap = 11,
	NR_brk = 12,
	NR_mremap = 25,
	NR_shmat = 30,
	NR_shmdt = 67,
	NR_madvise = 28,
	NR_setitimer = 38,
	NR_getitimer = 36,
	NR_rt_sigaction = 13,
	NR_rt_sigprocmask = 14,
	NR_setresuid = 117,
	NR_setresgid = 119,
	NR_setfsuid = 122,
	NR_setfsgid = 123,
	NR_setgroups = 116,
	NR_capset = 126,
	NR_sigaltstack = 131,
	NR_mlock = 149,
	NR_prctl = 157,
	NR_arch_prctl = 158,
	NR_setrlimit = 160,
	NR_set_tid_address = 218,
	NR_exit_group = 231,
	NR_set_robust_list = 273,
	NR_mlock2 = 325,
	NR_rseq = 334,
	NR_close_range = 436,
	NR_ioctl = 16,
	NR_sched_setattr = 314,
	NR_rt_tgsigqueueinfo = 297,
	NR_clone3 = 435,
	NR_seccomp = 317,
	NR_fcntl = 72,
	NR_sched_setaffinity = 203,
	NR_userfaultfd = 323,
	NR_futex = 202,
	NR_personality = 135,
	NR_membarrier = 324,
	NR_openat = 257,
	NR_ppoll = 271,
	NR_socket = 41,
	NR_connect = 42,
	NR_sendto = 44,
	NR_setns = 308,
	NR_gettid = 186,
};

#endif
