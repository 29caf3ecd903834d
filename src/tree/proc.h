/* Parsers of /proc text files. Pure functions take the text so unit tests
 * can feed them samples; the *_read helpers fetch the file first. */
#ifndef NESTOR_PROC_H
#define NESTOR_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_NS_LEVEL 32

struct proc_status {
	char state;
	int tgid, ppid, tracer;
	int threads;
	int nspid[MAX_NS_LEVEL], nr_nspid;
	int nspgid[MAX_NS_LEVEL], nr_nspgid;
	int nssid[MAX_NS_LEVEL], nr_nssid;
	unsigned uid[4], gid[4];
	unsigned groups[128];
	int nr_groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint64_t sig_pnd, shd_pnd, sig_blk, sig_ign, sig_cgt;
	int seccomp, no_new_privs;
	unsigned umask;
	int kthread;
	char name[16]; /* comm, unescaped */
};

struct proc_stat {
	int pid, ppid, pgid, sid, tty_nr, tpgid;
	char comm[64];
	char state;
	unsigned long flags;
	long nice;
	long num_threads;
	unsigned long rt_priority, policy;
	unsigned long start_code, end_code, start_stack;
	unsigned long start_data, end_data, start_brk, arg_start, arg_end, env_start, env_end;
	int exit_signal;
	unsigned exit_code; /* raw wait status, for zombies */
};

/* A line of /proc/PID/maps, with the VmFlags of smaps when wanted. */
struct proc_vma {
	uint64_t start, end, pgoff;
	unsigned prot;
	int shared;
	unsigned dev_major, dev_minor;
	uint64_t ino;
	const char *path; /* "" for none; in the same allocation as the array */
	uint64_t vmflags; /* VMF_* below */
};

/* Bits for smaps VmFlags we care about. */
enum {
	VMF_GD = 1 << 0, /* grows down */
	VMF_LO = 1 << 1, /* locked */
	VMF_DC = 1 << 2, /* dontcopy (MADV_DONTFORK) */
	VMF_DD = 1 << 3, /* dontdump */
	VMF_HG = 1 << 4, /* hugepage advised */
	VMF_NH = 1 << 5, /* nohugepage advised */
	VMF_MG = 1 << 6, /* mergeable */
	VMF_WF = 1 << 7, /* wipe on fork */
	VMF_SD = 1 << 8,
	VMF_IO = 1 << 9, /* I/O area */
	VMF_PF = 1 << 10, /* pfn map */
	VMF_DE = 1 << 11, /* dontexpand */
	VMF_UW = 1 << 12, /* userfaultfd wp */
	VMF_UM = 1 << 13, /* userfaultfd missing */
	VMF_SS = 1 << 14, /* shadow stack */
	VMF_SL = 1 << 15, /* sealed */
	VMF_LF = 1 << 16, /* lock on fault */
	VMF_NR = 1 << 17, /* no swap reserved */
	VMF_SR = 1 << 18, /* sequential access advised */
	VMF_RR = 1 << 19, /* random access advised */
	VMF_DP = 1 << 20, /* droppable (MAP_DROPPABLE) */
	VMF_MR = 1 << 21, /* may read */
	VMF_MW = 1 << 22, /* may write */
	VMF_ME = 1 << 23, /* may execute */
	VMF_AC = 1 << 24, /* accounted (VM_ACCOUNT: a private area once writable) */
	VMF_UNKNOWN_BAD = 1 << 30,
};

int proc_parse_status(const char *text, struct proc_status *ret);
int proc_parse_stat(const char *text, struct proc_stat *ret);
/* Parses one maps line; returns 0 or -EINVAL. */
int proc_parse_maps_line(const char *line, struct proc_vma *ret);
uint64_t proc_parse_vmflags(const char *s);
/* Parses /proc/PID/limits text into cur/max pairs (RLIM_INFINITY for unlimited). */
int proc_parse_limits(const char *text, uint64_t cur[16], uint64_t max[16], int *ret_n);

int proc_read_status(int pid, struct proc_status *ret);
int proc_read_stat(int pid, struct proc_stat *ret);
/* Reads smaps (maps plus VmFlags) into an array it allocates. */
int proc_read_vmas(int pid, struct proc_vma **ret, int *ret_n);
/* Whether pid (a task or a thread) sleeps until its vfork() child execs or exits. */
bool proc_in_vfork(int pid);

#endif
