/* What nestor hands the restorer blob: plain fixed-size structs, no pointers
 * into nestor's memory (it is gone when the blob runs). */
#ifndef NESTOR_RESTORER_ABI_H
#define NESTOR_RESTORER_ABI_H

#include <stdint.h>

#define RST_MAGIC        0x6e65737472737421ULL
#define RST_GADGET_OFF   16 /* "syscall; int3" at this offset of the blob */
#define RST_PARASITE_OFF 32 /* dump mode: parasite_main(%rdi = args, %rsi = frame), then park */
#define RST_REMOTE_OFF   64 /* dump mode: "syscall", then the park */
#define RST_PARK_OFF     66 /* "mov $110, %eax; syscall": the park, then the cure */
#define RST_PARK_SYS_OFF 71 /* the park's syscall instruction (getppid: harmless) */
#define RST_PARK_NR      110

/*
 * Dump mode: what a thread does after the park's syscall returns without
 * nestor (nestor died), read from the block just below its signal frame
 * (at %rsp - 8 - RST_CURE_SIZE): the main thread closes the descriptors
 * nestor had put in the task and says so in its done word; the others wait
 * for that word (100 ms at most) so that none of the task's own code runs
 * while a number of nestor's is still open. Then each rt_sigreturns.
 */
#define RST_CURE_SIZE 256
#define RST_CURE_FDS  48
struct rst_cure {
	int32_t main;       /* 0 */
	int32_t nr_fds;     /* 4 */
	uint64_t done;      /* 8: address of the main thread's done word */
	uint64_t timeout[2]; /* 16: struct timespec, relative */
	int32_t done_word;  /* 32 */
	int32_t pad;
	int32_t fds[RST_CURE_FDS]; /* 40 */
};
#define RST_MAX_VDSO     4
#define RST_MAX_GROUPS   128
#define RST_STACK_SIZE   (64 << 10)
#define RST_NLIMITS      16
#define RST_MAX_SHMS     64
#define RST_MAX_LOCKS    64
#define RST_MAX_SHARERS  64
#define RST_MAX_PID_LEVELS 32 /* the kernel's MAX_PID_NS_LEVEL */
#define RST_MAX_THREAD_NS 4   /* namespaces a thread enters by itself */
#define RST_MAX_KEEP_FDS 16

/* The kernel's struct sched_attr (sched_getattr/sched_setattr). */
struct sched_attr_k {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t util_min, util_max;
};

/* Kinds of areas (also stored in the mm image). */
enum {
	VMA_ANON = 1,        /* private anonymous */
	VMA_FILE_PRIVATE = 2,
	VMA_FILE_SHARED = 3,
	VMA_SHARED_ANON = 4, /* MAP_SHARED|MAP_ANONYMOUS */
	VMA_VDSO = 5,        /* [vdso], [vvar], [vvar_vclock]: moved, not made */
	VMA_SHM_PRIVATE = 6, /* MAP_PRIVATE of a shared anonymous object ("/dev/zero (deleted)") */
	VMA_SYSV = 7,        /* a System V segment's attachment ("/SYSV<key>"), or part of one */
};

/* shmat() flags, for the blob. */
enum {
	RST_SHM_RDONLY = 010000,
};

struct rst_vma {
	uint64_t start, end, pgoff;
	uint64_t vmflags; /* VMF_* from proc.h */
	uint32_t prot, flags, kind;
	int32_t fd;
	int32_t shmid;     /* VMA_SYSV: the segment, in the task's IPC namespace */
	uint32_t pad;
	uint64_t seg_size; /* VMA_SYSV: its size, page-rounded */
	uint64_t stage; /* where the task staged it before forking (mem/cow.c), or 0 */
};

#define RST_KEEP_GROUPS 0xffffffffu
struct rst_creds {
	uint32_t uids[4], gids[4];
	uint32_t groups[RST_MAX_GROUPS];
	uint32_t nr_groups; /* RST_KEEP_GROUPS: set already (see userns.c) */
	uint32_t securebits;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint32_t no_new_privs, dumpable;
	uint32_t last_cap;
};

/* What each thread restores itself: the main thread runs it too. */
struct rst_thread {
	int32_t tid;
	uint32_t nr_pending;
	uint64_t pending; /* address of nr_pending 128-byte siginfos */
	uint64_t clear_tid, robust_list, robust_len;
	uint64_t rseq_ptr;
	uint32_t rseq_len, rseq_sig;
	uint32_t has_rseq, has_sched;
	uint64_t ss_sp, ss_size;
	int32_t ss_flags;
	uint32_t sched_policy, sched_prio;
	int32_t sched_nice;
	uint64_t sched_flags;
	uint32_t cpu_mask_len; /* bytes of cpu_mask in use; 0: leave it */
	uint8_t cpu_mask[128];
	char comm[16];      /* the thread's name; empty: leave it */
	uint64_t stack_top; /* threads other than the main one start here */
	uint64_t args;      /* back to struct rst_args */
	/* This thread's seccomp filters after the task's: struct rst_seccomp[]. */
	uint32_t nr_seccomp;
	uint64_t seccomp;
	uint32_t no_new_privs, securebits, pdeath_sig, personality;
	uint64_t timerslack_ns; /* 0: leave it */
	char loginuid[12];      /* decimal, to write to /proc/thread-self/loginuid; "": leave it */
	uint32_t membarrier;    /* main thread: MEMBARRIER_CMD_REGISTER_* bits to register */
	uint32_t has_creds;     /* credentials of its own in creds, else the task's */
	struct rst_creds creds;
	/* Threads other than the main one: the tid at every pid namespace level,
	 * innermost first (clone3 set_tid), and the namespaces of its own it
	 * enters once born (setns: nestor's descriptors, CLONE_NEW* types). */
	uint32_t nr_tid_levels;
	int32_t tid_levels[RST_MAX_PID_LEVELS];
	/* Of these, the innermost the task may set from its user namespace;
	 * fewer than all: nestor sets the cursors of the others first (the
	 * assist, RST_STEP_ASSIST with the thread's tid), then says whether the
	 * tids came right ('k': gate 1) or the thread must go and be made again
	 * ('r': gate 2). The thread waits for its gate. */
	uint32_t nr_tid_set, assist, gate;
	int32_t alive; /* an assisted thread's CLONE_CHILD_CLEARTID word: 0 once it is gone */
	uint32_t nr_ns;
	int32_t ns_fd[RST_MAX_THREAD_NS], ns_type[RST_MAX_THREAD_NS];
};

#define RST_THREAD_STACK (16 << 10)

struct rst_seccomp {
	uint32_t len; /* instructions */
	uint32_t flags;
	uint64_t prog; /* address of the instructions, in the region */
};

struct rst_run {
	uint64_t vaddr, nr_pages, off;
};

/* The kernel's struct prctl_mm_map. */
struct rst_mm_map {
	uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv;
	uint32_t auxv_size;
	uint32_t exe_fd;
};


struct rst_args {
	uint64_t magic;
	uint64_t region_start, region_len; /* the blob, these args, its stack */
	uint64_t vdso_cur[RST_MAX_VDSO], vdso_tgt[RST_MAX_VDSO], vdso_len[RST_MAX_VDSO];
	uint32_t nr_vdso;
	uint64_t vdso_tmp; /* space in the region to park the vdso while moving it */
	int32_t pages_fd, status_fd;
	int32_t mem_fd; /* the task's /proc/self/mem (forced writes: anon_vmas), or -1 */
	int32_t pid;
	uint32_t nr_vmas, nr_runs;
	uint64_t vmas, runs; /* addresses of the arrays, inside the region */
	struct rst_mm_map mm;
	uint64_t auxv[128];
	uint32_t nr_threads; /* [0] is the main thread */
	uint32_t running;    /* threads, the main one too, not done yet */
	uint64_t threads;    /* address of struct rst_thread[nr_threads] */
	uint32_t has_itimers;
	uint64_t itimers[3][4]; /* struct itimerval: interval sec/usec, value sec/usec */
	uint32_t nr_rlimits;
	uint64_t rlimits[RST_NLIMITS][2];
	struct rst_creds creds;
	uint64_t xcomp_perm;
	int32_t close_from; /* nestor's service fds are all at or above this */
	/* Namespace descriptors among those, closed only once the threads have
	 * entered theirs (ns_pending of them still to) and the main thread its
	 * pid namespace for children (has_pfc: pfc_fd), which would keep the
	 * threads from being made. Sorted, distinct. */
	uint32_t nr_keep_fds;
	int32_t keep_fds[RST_MAX_KEEP_FDS];
	uint32_t ns_pending;
	uint32_t has_pfc;
	int32_t pfc_fd;
	/* POSIX locks, taken once nestor's fds are closed (a close drops them). */
	uint32_t nr_locks;
	struct {
		int32_t fd;
		int16_t type;
		int16_t pad;
		uint64_t start, len;
	} locks[RST_MAX_LOCKS];
	/* Seccomp filters, oldest first: struct rst_seccomp[nr_seccomp]. */
	uint32_t nr_seccomp;
	uint64_t seccomp;
	/* Shared anonymous objects nestor mapped before forking: start, length. */
	uint32_t nr_shms;
	uint64_t shms[RST_MAX_SHMS][2];
	/* The objects this task saved: it fills them from their images (runs: struct rst_run). */
	uint32_t nr_shm_fills;
	struct {
		int32_t fd;
		uint32_t nr_runs;
		uint64_t runs;
	} shm_fills[RST_MAX_SHMS];
	/*
	 * Memory shared between processes (see vmshare.c). An owner's blob says
	 * it runs (*vm_ready_word = 1), waits for its sharers to come in, keeps
	 * their blob regions, rebuilds the memory and sets mem_ready. A sharer's
	 * blob (owner_args set) counts itself in, waits for mem_ready, and then
	 * restores only what its process keeps apart from the memory.
	 */
	uint64_t owner_args;    /* a sharer: the owner's struct rst_args */
	uint64_t vm_ready_word; /* an owner: nestor's word the sharers wait on */
	uint32_t sharers, sharers_in, mem_ready;
	uint64_t keep[RST_MAX_SHARERS][2]; /* the sharers' regions: start, length */
};

/*
 * Dump mode: what a task tells about itself, asked by the blob run inside
 * it once (a remote syscall per item costs a ptrace round trip each).
 */
#define PARASITE_MAGIC 0x6e65737470617261ULL

struct parasite_args {
	uint64_t magic;
	uint64_t sigactions[64][4]; /* handler, flags, restorer, mask; [sig - 1] */
	uint64_t itimers[3][4];     /* struct itimerval */
	uint64_t altstack[3];       /* stack_t: sp, flags, size */
	uint64_t tid_address;
	uint64_t xcomp_perm;
	int64_t securebits, dumpable, thp_disable;
	uint32_t subreaper, pdeath_sig;
	uint64_t brk;  /* brk(0): the exact program break, which /proc does not show */
	int64_t membarrier; /* MEMBARRIER_CMD_GET_REGISTRATIONS: registrations, or -errno */
	int64_t err;   /* the first failure, or 0 */
	uint32_t step; /* which call failed */
	uint32_t pad;
	/* From nestor: the thread's frame's stack_t, filled first (the cure needs it). */
	uint64_t frame_uc_stack;
	/*
	 * nestor's listening socket (abstract unix, notify_len 0: none). The
	 * parasite connects to it, then runs without syscall stops, says it is
	 * done and waits on that connection for nestor to take it back (or to
	 * die: the hang-up lets it park and cure by itself).
	 */
	uint32_t notify_len;
	uint8_t notify_addr[110];
};

/* What the blob reports through status_fd when it fails. */
struct rst_status {
	int32_t err;   /* negative errno */
	uint32_t step; /* RST_STEP_* */
	uint64_t addr; /* the area concerned, if any */
	uint64_t len;
	int32_t pid;   /* who says it */
	uint32_t pad;
};

enum {
	RST_STEP_UNMAP = 1,
	RST_STEP_VDSO,
	RST_STEP_MMAP,
	RST_STEP_PAGES,
	RST_STEP_PROTECT,
	RST_STEP_MADVISE,
	RST_STEP_MM_MAP,
	RST_STEP_THREAD,
	RST_STEP_CREDS,
	RST_STEP_RLIMITS,
	RST_STEP_ITIMERS,
	RST_STEP_LOCKS,
	RST_STEP_SECCOMP,
	RST_STEP_XSTATE,
	RST_STEP_NS,
	RST_STEP_READY = 100, /* the child is about to enter the blob at region addr/len */
	RST_STEP_CHILD,       /* the child failed before the blob, and said why */
	RST_STEP_CREATED,     /* the task set its session and group and forked its children */
	RST_STEP_ASSIST,      /* a helper cloning task addr waits on its fd len for the cursors */
	RST_STEP_ASSISTED,    /* that helper's clone is done (err) */
	RST_STEP_ASSIST_THREAD,   /* the blob makes thread addr, waits on its fd len */
	RST_STEP_ASSISTED_THREAD, /* it made it: nestor answers on that fd */
};

#endif
