/* Raw syscall wrappers and kernel ABI constants newer than Debian's 6.1 headers. */
#ifndef NESTOR_SYS_H
#define NESTOR_SYS_H

#include <linux/ioctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
struct ptrace_rseq_configuration_k {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif

/* PAGEMAP_SCAN (6.7), missing from Debian's 6.1 headers. */
struct pm_page_region {
	uint64_t start, end, categories;
};

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define PAGEMAP_SCAN     _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WPALLOW  (1 << 0)
#define PAGE_IS_WRITTEN  (1 << 1)
#define PAGE_IS_FILE     (1 << 2)
#define PAGE_IS_PRESENT  (1 << 3)
#define PAGE_IS_SWAPPED  (1 << 4)
#define PAGE_IS_PFNZERO  (1 << 5)

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP    (1ULL << 62)
#define PM_FILE    (1ULL << 61)
#define PM_PFN_MASK ((1ULL << 55) - 1)

static inline long sys_clone3(struct clone_args *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

static inline int sys_kcmp(pid_t p1, pid_t p2, int type, unsigned long a, unsigned long b)
{
	return syscall(SYS_kcmp, p1, p2, type, a, b);
}

static inline int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

static inline int sys_pidfd_send_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static inline int sys_rt_tgsigqueueinfo(pid_t tgid, pid_t tid, int sig, siginfo_t *info)
{
	return syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, info);
}

static inline int sys_rt_sigqueueinfo(pid_t tgid, int sig, siginfo_t *info)
{
	return syscall(SYS_rt_sigqueueinfo, tgid, sig, info);
}

static inline long sys_get_robust_list(pid_t pid, void **head, size_t *len)
{
	return syscall(SYS_get_robust_list, pid, head, len);
}

static inline int sys_rseq(void *area, uint32_t len, int flags, uint32_t sig)
{
	return syscall(SYS_rseq, area, len, flags, sig);
}

static inline int sys_userfaultfd(int flags)
{
	return syscall(SYS_userfaultfd, flags);
}

static inline int sys_rt_sigaction(int sig, const void *act, void *old)
{
	return syscall(SYS_rt_sigaction, sig, act, old, 8);
}

static inline int sys_sched_getattr(pid_t pid, void *attr, unsigned int size)
{
	return syscall(SYS_sched_getattr, pid, attr, size, 0);
}

/* The raw syscall returns the mask's size in bytes (glibc's wrapper hides it). */
static inline long sys_sched_getaffinity(pid_t tid, size_t len, void *mask)
{
	return syscall(SYS_sched_getaffinity, tid, len, mask);
}

static inline int sys_sched_setattr(pid_t pid, void *attr)
{
	return syscall(SYS_sched_setattr, pid, attr, 0);
}

/* A copy of fd of task pid (the same open description), or -errno. */
static inline int sys_dup_task_fd(pid_t pid, int fd)
{
	int pidfd = sys_pidfd_open(pid, 0), r, e;

	if (pidfd < 0)
		return -errno;
	r = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	e = errno;
	close(pidfd);
	return r < 0 ? -e : r;
}

/* The new mount API (5.2): a detached mount of a filesystem made from the caller's namespaces. */
static inline int sys_fsopen(const char *fs, unsigned flags)
{
	return syscall(SYS_fsopen, fs, flags);
}

static inline int sys_fsconfig(int fd, unsigned cmd, const char *key, const void *val, int aux)
{
	return syscall(SYS_fsconfig, fd, cmd, key, val, aux);
}

static inline int sys_fsmount(int fd, unsigned flags, unsigned attr_flags)
{
	return syscall(SYS_fsmount, fd, flags, attr_flags);
}

#endif
