/*
 * PID namespaces and pid vectors. Dump: every task's and thread's pid,
 * and each task's group and session, at every pid namespace level from
 * nestor's down (NSpid, NSpgid, NSsid); every pid namespace other than
 * nestor's must have its init in the tree. Restore: the vectors are
 * checked against the namespaces' depths, and the tree can be made in the
 * order pstree.img gives (tree.c makes each init with CLONE_NEWPID and
 * sets every level with clone3's set_tid).
 */
#define LOG_PREFIX "pidns: "
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include "core/sys.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "ns/ns-priv.h"
#include "tree/proc.h"

#define PID_MAX 4194304

static int dump_depth(const struct dump_ctx *ctx, uint32_t id)
{
	int d = 0;

	for (const struct dump_ns *n = &ctx->ns[id - 1]; !n->host; n = &ctx->ns[n->parent - 1]) {
		d++;
		if (!n->parent)
			break;
	}
	return d;
}

static int innermost(const int *v, int n)
{
	return n > 0 ? v[n - 1] : 0;
}

/* The task that is init of pid namespace id, or -1. */
static int find_init(const struct dump_ctx *ctx, uint32_t id)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const struct dump_task *t = &ctx->tasks[i];

		if (t->ns[0].id[NS_PID] == id &&
		    innermost(t->status.nspid, t->status.nr_nspid) == 1)
			return i;
	}
	return -1;
}

bool pidns_has_init(const struct dump_ctx *ctx, uint32_t id)
{
	return find_init(ctx, id) >= 0;
}

static int read_thread_vectors(struct dump_task *t)
{
	int r;

	t->thread_status = arena_alloc((t->nr_threads + 1) * sizeof(*t->thread_status));
	if (!t->thread_status)
		return -ENOMEM;
	for (size_t k = 0; k < t->nr_threads; k++) {
		struct proc_status *st = &t->thread_status[k];

		if ((r = proc_read_status(t->threads[k].pid, st)) < 0)
			return log_error_errno(r, "cannot read the status of thread %d of task %d",
					       t->threads[k].pid, t->pid);
		if (st->nr_nspid != t->status.nr_nspid)
			return log_error_ret(-EIO, "thread %d of task %d: %d pid levels, the task "
						   "%d", t->threads[k].pid, t->pid, st->nr_nspid,
					     t->status.nr_nspid);
	}
	return 0;
}

/*
 * A pid namespace comes back with its init, a task of the tree: one whose
 * init is outside (a task that entered it with setns, or the dumped root
 * inside a container whose init is not dumped) cannot be made again.
 */
int pidns_check(struct dump_ctx *ctx)
{
	int r;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct dump_task *t = &ctx->tasks[i];
		int depth = dump_depth(ctx, t->ns[0].id[NS_PID]);

		if (t->status.nr_nspid != depth + 1 || t->status.nr_nspgid != depth + 1 ||
		    t->status.nr_nssid != depth + 1)
			return log_error_ret(-EIO, "task %d: %d pid levels for a namespace %d deep",
					     t->pid, t->status.nr_nspid, depth);
		if (!t->zombie && (r = read_thread_vectors(t)) < 0)
			return r;
		for (int s = NS_PID; s <= NS_PID_FOR_CHILDREN; s++) {
			uint32_t id = t->ns[0].id[s];

			if (!id || ctx->ns[id - 1].host || find_init(ctx, id) >= 0)
				continue;
			return log_error_ret(-EOPNOTSUPP, "can't dump: task %d %s a pid namespace "
							  "whose init is outside the dump (not "
							  "supported)", t->pid,
					     s == NS_PID ? "is in" : "makes its children in");
		}
	}
	return 0;
}

static uint32_t *vec(const int *v, int n)
{
	uint32_t *r = ANEW_ARRAY(uint32_t, n + 1);

	for (int i = 0; r && i < n; i++)
		r[i] = v[i];
	return r;
}

int pidns_fill_pstree(const struct dump_ctx *ctx, const struct dump_task *t, PstreeEntry *e)
{
	const struct proc_status *s = &t->status;

	e->n_ns_pid = s->nr_nspid;
	e->n_ns_pgid = s->nr_nspgid;
	e->n_ns_sid = s->nr_nssid;
	e->ns_pid = vec(s->nspid, s->nr_nspid);
	e->ns_pgid = vec(s->nspgid, s->nr_nspgid);
	e->ns_sid = vec(s->nssid, s->nr_nssid);
	e->n_thread_pids = t->nr_threads;
	e->thread_pids = ANEW_ARRAY(PidVecEntry *, t->nr_threads + 1);
	if (!e->ns_pid || !e->ns_pgid || !e->ns_sid || !e->thread_pids)
		return -ENOMEM;
	for (size_t k = 0; k < t->nr_threads; k++) {
		PidVecEntry *v = ANEW(PidVecEntry);

		if (!v)
			return -ENOMEM;
		pid_vec_entry__init(v);
		v->n_nr = t->thread_status[k].nr_nspid;
		v->nr = vec(t->thread_status[k].nspid, v->n_nr);
		if (!v->nr)
			return -ENOMEM;
		e->thread_pids[k] = v;
	}
	return 0;
}

/*
 * A helper stands in for a dead leader in the namespaces of its first
 * member, which it forks: its vector is the member's session (or group)
 * at every level, so the leader must have been inside all of them.
 */
int pidns_fill_helper(const struct dump_ctx *ctx, const struct dump_task *member, bool session,
		      PstreeEntry *e)
{
	const struct proc_status *s = &member->status;
	const int *v = session ? s->nssid : s->nspgid;
	int n = session ? s->nr_nssid : s->nr_nspgid;

	for (int i = 0; i < n; i++)
		if (!v[i])
			return log_error_ret(-EOPNOTSUPP, "can't dump: task %d's %s has a dead "
							  "leader outside its pid namespace (not "
							  "supported yet)", member->pid,
					     session ? "session" : "group");
	e->n_ns_pid = e->n_ns_pgid = e->n_ns_sid = n;
	e->ns_pid = vec(v, n);
	e->ns_pgid = vec(v, n);
	e->ns_sid = vec(s->nssid, n);
	e->ns = ANEW(NsIdsEntry);
	if (!e->ns_pid || !e->ns_pgid || !e->ns_sid || !e->ns)
		return -ENOMEM;
	ns_ids_entry__init(e->ns);
	e->ns->n_id = NS_NR_SLOTS;
	e->ns->id = arena_memdup(member->ns[0].id, sizeof(member->ns[0].id));
	if (!e->ns->id)
		return -ENOMEM;
	/* It makes its members in its own namespace. */
	e->ns->id[NS_PID_FOR_CHILDREN] = e->ns->id[NS_PID];
	return 0;
}

/* ---- restore ---- */

static int check_vec(const uint32_t *v, size_t n, int depth, uint32_t first, bool zeros)
{
	if (n != (size_t)depth + 1 || v[0] != first)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (v[i] > PID_MAX || (!zeros && !v[i]))
			return -EINVAL;
	return 0;
}

/* A pid namespace's id, 0 for nestor's own. */
static uint32_t canon(const struct restore_ctx *ctx, uint32_t id)
{
	return id && !ns_entry(ctx, id)->host ? id : 0;
}

/* Is pid namespace a the same as b or below it? */
static bool pid_within(const struct restore_ctx *ctx, uint32_t a, uint32_t b)
{
	for (a = canon(ctx, a), b = canon(ctx, b);; a = canon(ctx, ns_entry(ctx, a)->parent)) {
		if (a == b)
			return true;
		if (!a)
			return false;
	}
}

static uint32_t pid_parent(const struct restore_ctx *ctx, uint32_t id)
{
	const NsEntry *e = ns_entry(ctx, id);

	return e->host ? 0 : e->parent;
}

/* The task's vectors and the namespaces it is made in agree. */
static int validate_task_pids(struct restore_ctx *ctx, size_t i)
{
	const struct restore_task *t = &ctx->tasks[i];
	const PstreeEntry *e = t->pe;
	uint32_t pidns = e->ns->id[NS_PID];
	int depth = ns_pid_depth(ctx, pidns);

	if (check_vec(e->ns_pid, e->n_ns_pid, depth, e->pid, false) < 0 ||
	    check_vec(e->ns_pgid, e->n_ns_pgid, depth, e->pgid, true) < 0 ||
	    check_vec(e->ns_sid, e->n_ns_sid, depth, e->sid, true) < 0 ||
	    e->n_thread_pids != e->n_threads)
		return -EINVAL;
	for (size_t k = 0; k < e->n_threads; k++)
		if (check_vec(e->thread_pids[k]->nr, e->thread_pids[k]->n_nr, depth, e->threads[k],
			      false) < 0)
			return -EINVAL;
	if (e->ns_pid[depth] == 1) {
		struct restore_ns *n = &ctx->ns[pidns - 1];

		if (n->e->host || n->init >= 0 || t->helper)
			return -EINVAL;
		n->init = i;
	}
	return 0;
}

/*
 * Where the creator can make the task: an init in a new namespace under
 * one the creator is in or below; any other task in a namespace at or
 * below the creator's whose init exists, that is the creator's or was
 * made by the creator before.
 */
static int validate_creation(struct restore_ctx *ctx, size_t i)
{
	const struct restore_task *t = &ctx->tasks[i];
	uint32_t pidns = t->pe->ns->id[NS_PID];
	const struct restore_ns *n = &ctx->ns[pidns - 1];
	uint32_t cns = t->creator >= 0 ? ctx->tasks[t->creator].pe->ns->id[NS_PID] : 0;

	if (n->init == (int)i)
		return pid_within(ctx, pid_parent(ctx, pidns), cns) ? 0 : -EINVAL;
	if (!pid_within(ctx, pidns, cns))
		return -EINVAL;
	if (n->e->host || pidns == cns)
		return 0;
	if (n->init < 0 || (size_t)n->init > i ||
	    (ctx->tasks[n->init].creator != t->creator && !pid_within(ctx, cns, pidns)))
		return -EINVAL;
	/* Its group and session, where it cannot see their leaders, it inherits. */
	return 0;
}

int pidns_validate(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (validate_task_pids(ctx, i) < 0)
			return log_error_ret(-EINVAL, "image pstree.img is corrupted: the pid "
						      "vectors of task %d", ctx->tasks[i].pid);
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const struct restore_ns *n = &ctx->ns[i];

		if (n->kind == NSK_PID && !n->e->host && n->init < 0)
			return log_error_ret(-EINVAL, "image ns.img is corrupted: pid namespace %zu "
						      "has no init", i + 1);
		if (n->kind == NSK_PID && !n->e->host)
			ctx->pid_nested = true;
	}
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		uint32_t pfc = ctx->tasks[i].pe->ns->id[NS_PID_FOR_CHILDREN];

		if (validate_creation(ctx, i) < 0 ||
		    (pfc && !pid_within(ctx, pfc, ctx->tasks[i].pe->ns->id[NS_PID])))
			return log_error_ret(-EINVAL, "image pstree.img is corrupted: task %d "
						      "cannot be made in its pid namespace",
					     ctx->tasks[i].pid);
	}
	return 0;
}

/* ---- restore, in the task that makes another ---- */

/* A descriptor of pid namespace id, 0 for nestor's. */
static int open_pidns(const struct restore_ctx *ctx, uint32_t id)
{
	char path[64];
	int fd;

	if (!id)
		return fd_move_above(dup(ctx->host_ns_fds[NSK_PID]), ctx->fd_base + 1);
	/* Through nestor's /proc once held: a helper in a mount namespace of the
	 * tree may have another proc on /proc (mnt-proc.c). */
	snprintf(path, sizeof(path), "%s%d/ns/pid", ctx->proc_fd < 0 ? "/proc/" : "",
		 ctx->tasks[ctx->ns[id - 1].init].pid);
	fd = fd_move_above(openat(ctx->proc_fd < 0 ? AT_FDCWD : ctx->proc_fd, path,
				  O_RDONLY | O_CLOEXEC), ctx->fd_base + 1);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s", path);
	return fd;
}

/*
 * Makes pid namespace id (0: nestor's) the one this process's children go
 * to. Asked each time, not remembered: a task sharing memory with its
 * parent (CLONE_VM) would share the memory too, not its namespaces.
 */
int pidns_set_pfc(const struct restore_ctx *ctx, uint32_t id)
{
	int fd;

	if (!ctx->pid_nested)
		return 0;
	id = canon(ctx, id);
	if ((fd = open_pidns(ctx, id)) < 0)
		return fd;
	if (setns(fd, CLONE_NEWPID)) {
		int r = log_error_errno(-errno, "cannot make children in pid namespace %u", id);

		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

int pidns_prepare_clone(const struct restore_ctx *ctx, int idx, struct clone_args *ca,
			pid_t tids[MAX_NS_LEVEL])
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	uint32_t pidns = e->ns->id[NS_PID];
	int depth = ns_pid_depth(ctx, pidns);
	bool init = !ctx->ns[pidns - 1].e->host && ctx->ns[pidns - 1].init == idx;

	for (int j = 0; j <= depth; j++)
		tids[j] = e->ns_pid[depth - j];
	ca->set_tid = (uint64_t)tids;
	ca->set_tid_size = depth + 1;
	if (init)
		ca->flags |= CLONE_NEWPID;
	return pidns_set_pfc(ctx, init ? ns_entry(ctx, pidns)->parent : pidns);
}

bool pidns_pfc_differs(const struct restore_ctx *ctx, int idx)
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	uint32_t pfc = e->ns->id[NS_PID_FOR_CHILDREN];

	return pfc && canon(ctx, pfc) != canon(ctx, e->ns->id[NS_PID]);
}

int pidns_pfc_open(const struct restore_ctx *ctx, int idx)
{
	return open_pidns(ctx, canon(ctx, ctx->tasks[idx].pe->ns->id[NS_PID_FOR_CHILDREN]));
}

/*
 * A task with threads keeps its own until its blob has made them (a thread
 * cannot be made while the task's children would go elsewhere).
 */
int pidns_finish(const struct restore_ctx *ctx, int idx)
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	uint32_t pfc = e->ns->id[NS_PID_FOR_CHILDREN];

	/* A zombie has none. */
	if (!pfc)
		return 0;
	return pidns_set_pfc(ctx, e->n_threads ? e->ns->id[NS_PID] : pfc);
}

pid_t pidns_pid_seen_by(const struct restore_ctx *ctx, int idx, int viewer)
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	int d = viewer < 0 ? 0 : ns_pid_depth(ctx, ctx->tasks[viewer].pe->ns->id[NS_PID]);

	return (size_t)d < e->n_ns_pid ? (pid_t)e->ns_pid[d] : 0;
}

int pidns_back_home(const struct restore_ctx *ctx)
{
	return pidns_set_pfc(ctx, 0);
}

/* The pid namespace of depth d on the way up from id (0: nestor's). */
static uint32_t ancestor_at(const struct restore_ctx *ctx, uint32_t id, int d)
{
	id = canon(ctx, id);
	for (int k = ns_pid_depth(ctx, id); k > d && id; k--)
		id = canon(ctx, ns_entry(ctx, id)->parent);
	return id;
}

/* v's entry at the viewer's level, if the task of v sees through the viewer's namespace. */
static pid_t seen_in(const struct restore_ctx *ctx, const PstreeEntry *e, const uint32_t *v,
		     size_t n, uint32_t vns, int d)
{
	if ((size_t)d >= n || ancestor_at(ctx, e->ns->id[NS_PID], d) != canon(ctx, vns))
		return 0;
	return v[d];
}

pid_t pidns_translate(const struct restore_ctx *ctx, int type, pid_t id, int viewer)
{
	uint32_t vns = ctx->tasks[viewer].pe->ns->id[NS_PID];
	int d = ns_pid_depth(ctx, vns);

	if (!ctx->pid_nested)
		return id;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const PstreeEntry *e = ctx->tasks[i].pe;
		pid_t r = 0;

		if (type == 2 /* F_OWNER_PGRP */ && e->pgid == (uint32_t)id)
			r = seen_in(ctx, e, e->ns_pgid, e->n_ns_pgid, vns, d);
		else if (type != 2 && e->pid == (uint32_t)id)
			r = seen_in(ctx, e, e->ns_pid, e->n_ns_pid, vns, d);
		for (size_t k = 0; type == 0 /* F_OWNER_TID */ && k < e->n_threads; k++)
			if (e->threads[k] == (uint32_t)id)
				r = seen_in(ctx, e, e->thread_pids[k]->nr, e->thread_pids[k]->n_nr,
					    vns, d);
		if (r)
			return r;
	}
	return 0;
}
