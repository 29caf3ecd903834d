/* The checkpointed world as nestor holds it between the collectors (dump)
 * and the image writer, and between the image reader and the restorer. The
 * protobuf messages are the model; these structs tie them to a task. */
#ifndef NESTOR_MODEL_H
#define NESTOR_MODEL_H

#include "core/pidmap.h"
#include "core/region.h"
#include <stdbool.h>
#include <sys/types.h>
#include "core/image.h"
#include "tree/proc.h"
#include "infect/ptrace.h"

struct opts {
	pid_t pid;
	const char *dir;
	const char *log_file;
	const char *pidfile;
	int verbosity;
	bool leave_running;
	bool shell_job;
	bool ext_unix_sk; /* dump: datagram sockets connected outside the tree, by name */
	bool detach;
};

/* A table of open file descriptions (and mapped/executed files), by id. */
struct file_table {
	FileEntry **files;
	size_t nr, cap;
};

/*
 * A running parasite is being mapped, then stops at every syscall until it
 * is connected to nestor, then runs on and waits for nestor to take it back:
 * stopped, it closes its socket and parks.
 */
enum { PARASITE_MAPPING = 1, PARASITE_STEPPING, PARASITE_WAITING, PARASITE_TAKING, PARASITE_PARKING };

struct dump_task {
	pid_t pid;
	int parent;     /* index in the tree, -1 for the root */
	bool zombie;
	uint32_t exit_status; /* a zombie's raw wait status */
	pid_t helper;         /* stands in for its dead session or group leader, or 0 */
	bool clone_files, clone_fs; /* shares its parent's fd table, fs info */
	bool clone_vm, clone_sighand; /* its parent's memory, signal handlers */
	struct proc_status status;
	struct proc_stat stat;
	struct remote rt;     /* the main thread */
	struct parasite_args *pa; /* what the task told the parasite */
	uint64_t parasite;        /* where the parasite is mapped in the task, or 0 */
	bool parasite_running;
	int parasite_phase;       /* PARASITE_*, while running */
	size_t parasite_slot;     /* bytes of the mapping per thread */
	int parasite_conn;        /* nestor's end of its connection, or -1 */
	int parasite_fd;          /* the task's end (its fd number), or -1 */
	int parasite_err;         /* a failure seen on the way, told once it is parked */
	bool seized;
	int hold_fd;    /* the read end of the hold pipe in the task (kill.c), or -1 */
	struct remote *threads; /* the others, seized too */
	size_t nr_threads;
	struct proc_vma *vmas;
	int nr_vmas;
	TaskCoreEntry *core;
	MmEntry *mm;
	FdinfoEntry *fdinfo;
	struct ns_ids *ns; /* [0] the main thread's namespaces, [1 + k] thread k's (ns.c) */
	struct proc_status *thread_status; /* thread k's, read after the freeze (pid vectors) */
};

struct dump_ctx {
	const struct opts *opts;
	int dirfd;
	struct file_table files;
	InventoryEntry *inv;
	struct dump_task *tasks; /* parents before children; [0] is the root */
	size_t nr_tasks, cap_tasks;
	struct pidmap by_pid; /* task pid -> index in tasks */
	struct dump_helper *helpers;
	size_t nr_helpers;
	struct mapped_file *mapped; /* files seen in mappings, by dev and inode */
	size_t nr_mapped;
	struct open_desc *descs; /* descriptions dumped so far, with an fd holding each */
	size_t nr_descs;
	bool overwriting; /* images are being written: a failure leaves no inventory */
	pid_t killer;     /* kill.c: kills the tree if nestor dies once the dump is done */
	int killer_fd;    /* nestor's end of the pipe the killer waits on, or -1 */
	int hold_wr;      /* nestor's write end of the pipe the tree is held on, or -1 */
	struct dump_ns *ns; /* the namespace model (ns.c), by id - 1 */
	size_t nr_ns;
};

struct open_desc {
	uint64_t dev, ino;
	pid_t pid;
	int fd;
	FileEntry *f;
};

struct mapped_file {
	uint64_t ino;
	unsigned major, minor;
	uint32_t id;
};

/* A stand-in for a dead session or group leader, made at restore. */
struct dump_helper {
	pid_t pid;
	int parent; /* the members' parent, which forks the helper */
	bool session;
	pid_t sid;
};

/* Everything read back for one task, validated. */
struct restore_task {
	pid_t pid;
	int parent;  /* index, -1 for the root */
	int creator; /* the task that forks it: its parent, or a helper */
	/* The tasks it forks, in tree order: the first, then each one's next; -1 ends. */
	int first_made, next_made;
	PstreeEntry *pe;
	bool zombie;
	bool helper; /* exits once it has made its members */
	bool shared_files; /* its fd table is shared with another task of the tree */
	bool takes_flocks; /* a flock of the tree shows its pid (files/locks.c) */
	TaskCoreEntry *core;
	MmEntry *mm; /* NULL for a task sharing its owner's (vm_owner) */
	FdinfoEntry *fdinfo;
	struct region images; /* core, mm and fdinfo live there (core/region.h) */
	/*
	 * Memory shared between processes (CLONE_VM): the owner is the group's
	 * topmost task and rebuilds the memory; each sharer (rank 1, 2, ... in
	 * tree order) joins it. These words live in memory the group shares
	 * while it runs nestor's code (see vm_share.c).
	 */
	int vm_owner;       /* index of the task whose memory this one shares, or -1 */
	uint32_t vm_rank;   /* a sharer's place in its group, from 1 */
	uint32_t nr_sharers; /* an owner's */
	bool no_rseq;       /* made by a CLONE_VM clone, or forked from such a task */
	uint32_t vm_born;   /* a sharer: 1 while it makes its family, 2 once done, 0 if it died */
	uint32_t vm_ready;  /* an owner: its blob runs, vm_args is set */
	struct rst_args *vm_args; /* an owner's blob arguments */
	/*
	 * Private anonymous areas staged before the task forks (mem/cow.c), by
	 * area: COW_* and the staging address (0: none). NULL when none.
	 */
	uint8_t *cow_how;
	uint64_t *cow_at;
	uint64_t *cow_low; /* bytes staged below an area's start, for a child's lower start */
	/* Filled while restoring. */
	int owned_ready[2]; /* an owned init (ns/pid-owned.c): its creator says its children exist */
	size_t trapped; /* threads, the main one included, in their final trap */
	uint64_t region, region_len;
};

/* A pid or thread id of the tree, and the task it belongs to (pstree.c). */
struct pid_slot {
	uint32_t id;
	int task;
	bool thread;
};

struct restore_ctx {
	const struct opts *opts;
	int dirfd;
	bool images_only; /* validate the images alone, nothing of this machine (the fuzzer) */
	InventoryEntry *inv;
	FileEntry **files;
	size_t nr_files;
	int *file_fds; /* by file id: the description, opened once by nestor */
	int (*mapped_fds)[2]; /* by file id: files tasks map or run, read-only and read-write */
	struct restore_task *tasks;
	size_t nr_tasks;
	struct pid_slot *pid_slots; /* every pid and thread id, sorted: lookups by id */
	size_t nr_pid_slots;
	int fd_base; /* the task's fds are below; nestor's service fds at and above */
	int proc_fd; /* nestor's /proc (O_PATH), for the tasks' /proc/self/mem; or -1 */
	int term_fd; /* nestor's terminal for --shell-job, or -1 */
	struct pipe_obj *pipes; /* pipes made so far, by inode */
	size_t nr_pipes;
	struct shm_obj *shms; /* shared anonymous objects, mapped by nestor, inherited */
	size_t nr_shms;
	uint64_t (*cow_res)[2]; /* nestor's reservations for staged memory: start, length (mem/cow.c) */
	size_t nr_cow_res;
	struct memfd_obj *memfds; /* memfds made so far, by inode */
	size_t nr_memfds;
	struct unlinked_obj *unlinked; /* unlinked files made so far, by dev and inode */
	size_t nr_unlinked;
	struct pty_obj *ptys; /* ptys made so far, by index */
	size_t nr_ptys;
	struct restore_ns *ns; /* the namespace model (ns.c), by id - 1 */
	size_t nr_ns;
	int host_ns_fds[8]; /* nestor's own namespaces, by kind (ns.c) */
	bool host_ns_open;
	bool pid_nested; /* some task is in a pid namespace other than nestor's */
};

struct shm_obj {
	uint64_t id, size, addr;
	int fd; /* nestor's descriptor of it, for private mappings; -1 until opened */
};

FileEntry *file_table_add(struct file_table *ft);
const FileEntry *restore_file(const struct restore_ctx *ctx, uint32_t id);

#endif
