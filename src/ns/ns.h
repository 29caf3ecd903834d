/*
 * The namespace model: every namespace the threads of the tree are in,
 * with its kind, parent (pid, user), owner (user) and whether it is
 * nestor's own (host), numbered from 1 in ns.img, parents before children.
 * Each kind with content (uts, ipc, ...) registers a struct ns_kind_ops in
 * the table of ns.c; the model calls it for each namespace of that kind in
 * the tree that is not host, parents before children.
 */
#ifndef NESTOR_NS_H
#define NESTOR_NS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/model.h"

/* A thread's namespaces, in this order in ns_ids_entry.id. */
enum ns_slot {
	NS_PID,
	NS_PID_FOR_CHILDREN,
	NS_USER,
	NS_UTS,
	NS_IPC,
	NS_MNT,
	NS_NET,
	NS_CGROUP,
	NS_TIME,
	NS_TIME_FOR_CHILDREN,
	NS_NR_SLOTS,
};

/* The ids of one thread's namespaces; 0 where it has none (a zombie's). */
struct ns_ids {
	uint32_t id[NS_NR_SLOTS];
};

struct ns_kind_ops {
	const char *kind; /* "uts", "ipc": the /proc/PID/ns name */
	/* dump is called with nestor's thread setns()'d into the namespace. */
	bool enter_to_dump;
	/* Optional: at the end of ns_collect, before the tasks' resources are
	 * collected: what other collectors must know of the namespace (IPC: the
	 * segments tasks may attach, the device of its POSIX queues). It may
	 * refuse; it writes no image. Entered like dump. */
	int (*collect)(struct dump_ctx *ctx, uint32_t id, int nsfd);
	/* After the freeze, in nestor: the kind's image(s), <kind>-<id>.img. */
	int (*dump)(struct dump_ctx *ctx, uint32_t id, int nsfd);
	/* Optional: after the last point of refusal (see write_images()). */
	int (*dump_commit)(struct dump_ctx *ctx, uint32_t id, int nsfd);
	/* Optional: undoes dump_commit when the dump fails after it. */
	void (*dump_abort)(struct dump_ctx *ctx, uint32_t id, int nsfd);
	/* Reads and checks the kind's image(s) before anything is made; may keep
	 * what it read in *ns_priv(ctx, id). */
	int (*validate)(struct restore_ctx *ctx, uint32_t id);
	/* Optional: in the process that makes namespace id, before it enters
	 * the owner user namespace (mount: into the namespace it copies). */
	int (*pre_owner)(struct restore_ctx *ctx, uint32_t id);
	/* Optional: in the process that makes namespace id, inside its owner
	 * user namespace, just before it unshares (user: the owner's uid). */
	int (*prepare)(struct restore_ctx *ctx, uint32_t id);
	/* Optional: in nestor, once maker has unshared and before its restore
	 * hook runs (user: the id maps, written from the parent). */
	int (*made)(struct restore_ctx *ctx, uint32_t id, pid_t maker);
	/* In a process inside the fresh, still empty namespace id (and its owner
	 * user namespace), before any task of the tree enters it. */
	int (*restore)(struct restore_ctx *ctx, uint32_t id);
	/* Optional: once every task of the tree has rebuilt its memory and sits
	 * at the end of its blob, before any runs: in a short-lived child of
	 * nestor inside namespace id (IPC: segments destroyed at dump but still
	 * attached are destroyed again). */
	int (*restore_late)(struct restore_ctx *ctx, uint32_t id);
	/* Optional: once every namespace's restore_late ran, the same way
	 * (mount: no proc mount came by propagation after its proof). */
	int (*check_late)(struct restore_ctx *ctx, uint32_t id);
	/* Optional: frees what validate kept; or, when what it keeps is the
	 * kind's image alone, the image's type, which the model frees (0, the
	 * inventory's, is no kind's). */
	void (*free)(struct restore_ctx *ctx, uint32_t id);
	enum img_type priv_img;
	/* Optional: the /proc/PID/ns link of the maker that names the namespace
	 * it made, when it is not the kind's (time: time_for_children). */
	const char *made_link;
};

extern const struct ns_kind_ops uts_ns_ops, ipc_ns_ops;
extern const struct ns_kind_ops time_ns_ops;
extern const struct ns_kind_ops net_ns_ops;
extern const struct ns_kind_ops user_ns_ops;
extern const struct ns_kind_ops mnt_ns_ops, cgroup_ns_ops;

/* ---- dump ---- */

/* Every thread's namespaces, after the freeze: the model, refusals by name,
 * and each task's ids (t->ns). */
int ns_collect(struct dump_ctx *ctx);
/* The kinds' dump hooks, then ns.img. */
int ns_dump(struct dump_ctx *ctx);
int ns_dump_commit(struct dump_ctx *ctx);
void ns_dump_abort(struct dump_ctx *ctx);
/* "task P" or "task P (thread T)": the first thread in namespace id, for messages. */
const char *ns_who(const struct dump_ctx *ctx, uint32_t id);
/* The ids of the task (thread 0) and its threads, for pstree.img. */
int ns_fill_pstree(const struct dump_ctx *ctx, const struct dump_task *t, PstreeEntry *e);
/* A helper for a dead leader, in its first member's namespaces. */
int pidns_fill_helper(const struct dump_ctx *ctx, const struct dump_task *member, bool session,
		      PstreeEntry *e);
void ns_dump_free(struct dump_ctx *ctx);
/* The id of the namespace nsfd is (of kind, enum ns_kind_nr), added to the
 * model with its owner when no thread is in it; nsfd is the model's then. */
int ns_dump_add(struct dump_ctx *ctx, int nsfd, int kind, const char *who, uint32_t *ret_id);

/* net.c: the network namespaces unix sockets belong to (dump). */
/* The id of socket sk's network namespace (SIOCGSKNS) in the model. */
int netns_of_socket(struct dump_ctx *ctx, int sk, const char *who, uint32_t *ret_id);
/* The id of nestor's own network namespace in the model. */
int netns_own(struct dump_ctx *ctx, uint32_t *ret_id);
/* A NETLINK_SOCK_DIAG socket made inside network namespace id, once per namespace. */
int netns_diag(struct dump_ctx *ctx, uint32_t id);
/* The model's network namespace after id after (0: the first), or 0. */
uint32_t netns_next(const struct dump_ctx *ctx, uint32_t after);
bool netns_is_host(const struct dump_ctx *ctx, uint32_t id);
/* nestor's thread into network namespace nsfd; *home (-1 at first) keeps
 * where it came from, for netns_leave, which goes back there and closes it. */
int netns_enter(int nsfd, int *home);
int netns_leave(int *home);

/* ---- restore ---- */

/* Reads ns.img and checks every cross-reference, the tasks' ids and pid
 * vectors included (pstree.img read already), then the kinds' validate. */
int ns_read(struct restore_ctx *ctx);
/* Makes every namespace that is not a pid one (those come with their
 * inits, in the tree), runs the kinds' restore in them, and keeps a
 * descriptor of each (and of nestor's own) for the tasks to enter. */
int ns_restore(struct restore_ctx *ctx);
/* The kinds' restore_late hooks (see struct ns_kind_ops). */
int ns_restore_late(struct restore_ctx *ctx);
/* In a task just made: enters its namespaces where they differ from its creator's. */
int ns_enter_task(struct restore_ctx *ctx, int idx);
/* A descriptor of namespace id, made (or nestor's own), after ns_restore. */
int ns_fd(const struct restore_ctx *ctx, uint32_t id);
void ns_restore_free(struct restore_ctx *ctx);
struct rst_args;
/* In the task, its blob's arguments filled: each thread's pid vector and own
 * namespaces, and the task's pid namespace for children when it has threads. */
int ns_fill_args(struct restore_ctx *ctx, int idx, struct rst_args *a);

/* pid.c, in the process that makes tasks. */
struct clone_args;
/* Fills ca's set_tid from task idx's vector, CLONE_NEWPID for an init, and
 * makes the caller's children go to the right pid namespace. */
int pidns_prepare_clone(const struct restore_ctx *ctx, int idx, struct clone_args *ca,
			pid_t tids[32]);
/* The caller's pid namespace for children, as task idx had it. */
int pidns_finish(const struct restore_ctx *ctx, int idx);
/* nestor, once it made the root: its children in its own again. */
int pidns_back_home(const struct restore_ctx *ctx);
/* Makes pid namespace id (0: nestor's) the one the caller's children go to. */
int pidns_set_pfc(const struct restore_ctx *ctx, uint32_t id);

/* pid-owned.c: pid namespaces owned by a user namespace other than nestor's. */
/* Task idx is the init of such a namespace. */
bool pidns_owned_init(const struct restore_ctx *ctx, int idx);
/* The user namespace owning task idx's pid namespace (0: nestor's). */
uint32_t pidns_owner_of_init(const struct restore_ctx *ctx, int idx);
/* Task idx's pid namespace, and a pid namespace's parent (0: nestor's). */
uint32_t pidns_of(const struct restore_ctx *ctx, int idx);
uint32_t pidns_parent_of(const struct restore_ctx *ctx, uint32_t id);
/* A helper's clone (clone3 with ca, set_tid filled here) into pid namespace
 * ns with pids no task wants at any level (helpers of different salts never
 * meet); the caller's children go to ns afterwards. fork's returns. */
pid_t pidns_clone_spare(const struct restore_ctx *ctx, uint32_t ns, int salt,
			struct clone_args *ca);
/* The owned init's clone from inside its owner: the levels the owner holds. */
void pidns_prepare_owned(const struct restore_ctx *ctx, int idx, struct clone_args *ca,
			 pid_t tids[32]);
/* The task behind pidfd has task idx's whole vector: 0, else -EAGAIN (or,
 * when last, an error logged); *ret_got its pid at nestor's level. */
int pidns_check_got(const struct restore_ctx *ctx, int idx, int pidfd, bool last,
		    pid_t *ret_got);
/* Waits (at most 2 s) until pid (nestor's level) is free again. */
void pidns_wait_free(pid_t pid);
/* nestor: every outer level's ns_last_pid set for task idx's clone; the
 * machine's own last, its old value in *ret_saved for pidns_assist_end. */
int pidns_assist_begin(const struct restore_ctx *ctx, int idx, int thread, long *ret_saved);
/* The levels of task idx's threads it may set itself (all: no assist). */
int pidns_thread_levels(const struct restore_ctx *ctx, int idx);
void pidns_assist_end(long saved);
/* Waits a moment (spinning) until pid (nestor's level) exists. */
bool pidns_assist_taken(pid_t pid);
/* After the task images are read: the shapes around owned inits nestor makes. */
int pidns_validate_owned(const struct restore_ctx *ctx);

/* A pid, thread id or group (F_OWNER_PID, _TID, _PGRP) of nestor's level as
 * task viewer sees it, or 0 where it cannot. */
pid_t pidns_translate(const struct restore_ctx *ctx, int type, pid_t id, int viewer);
/* Task idx's pid as task viewer (-1: nestor) sees it. */
pid_t pidns_pid_seen_by(const struct restore_ctx *ctx, int idx, int viewer);

/* The namespace entry of id, or NULL. */
const NsEntry *ns_entry(const struct restore_ctx *ctx, uint32_t id);
/* Where a kind keeps what its validate read, for its restore. */
void **ns_priv(struct restore_ctx *ctx, uint32_t id);
/* Levels of pid namespace id below nestor's (0 for nestor's own). */
int ns_pid_depth(const struct restore_ctx *ctx, uint32_t id);

#endif
