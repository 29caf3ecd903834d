/*
 * The process tree. Dump: the root and its descendants are seized parents
 * first, so none can fork behind our back; zombies are recorded with their
 * wait status. Restore: the tree image is read and checked; the tasks are
 * created by their own parents (see restore/tree.c).
 */
#define LOG_PREFIX "pstree: "
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include "core/arena.h"
#include "core/log.h"
#include "tree/pstree.h"
#include "tree/zombie.h"
#include "mem/vmshare.h"
#include "ns/ns.h"
#include "core/sys.h"
#include "tree/task.h"
#include "tree/thread.h"
#include "core/util.h"

#define MAX_TASKS 65536 /* a bound for bad images; a tree this big needs pid_max raised */
#define PID_MAX 4194304 /* the kernel's limit (PID_MAX_LIMIT) */

static struct dump_task *add_task(struct dump_ctx *ctx, pid_t pid, int parent)
{
	struct dump_task *t;

	if (ctx->nr_tasks == MAX_TASKS)
		return NULL;
	if (ctx->nr_tasks == ctx->cap_tasks) {
		size_t ncap = ctx->cap_tasks ? ctx->cap_tasks * 2 : 16;
		struct dump_task *n = realloc(ctx->tasks, ncap * sizeof(*n));

		if (!n)
			return NULL;
		ctx->tasks = n;
		ctx->cap_tasks = ncap;
	}
	if (pidmap_put(&ctx->by_pid, pid, ctx->nr_tasks) < 0)
		return NULL;
	t = &ctx->tasks[ctx->nr_tasks++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->parent = parent;
	t->hold_fd = -1;
	return t;
}

/* Appends the children of thread tid, as the kernel lists them, to *v. */
static int read_children(pid_t pid, pid_t tid, int **v, int *n)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	char *p, *end;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tid);
	r = read_file_at(AT_FDCWD, path, &buf, 1 << 20);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", path);
	for (p = buf;; p = end) {
		long c = strtol(p, &end, 10);
		int *slot;

		if (end == p)
			return 0;
		slot = array_add(v, *n, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		*slot = c;
		(*n)++;
	}
}

/*
 * Every thread is a parent of its own: a child forked by a thread other
 * than the leader is listed only under that thread.
 */
static int task_children(const struct dump_task *t, int **ret, int *ret_n)
{
	int r = read_children(t->pid, t->pid, ret, ret_n);

	for (size_t i = 0; r == 0 && i < t->nr_threads; i++)
		r = read_children(t->pid, t->threads[i].pid, ret, ret_n);
	return r;
}

/* Stops the task's threads (it is stopped): none of them can fork from here on. */
static int seized(struct dump_task *t)
{
	int r;

	t->seized = true;
	r = threads_seize(t);
	return r < 0 ? r : task_reread(t);
}

static int seize_task(struct dump_task *t)
{
	int r = remote_seize_begin(t->pid, &t->rt);

	if (r == 0)
		r = remote_seize_end(&t->rt);
	if (r == -ESRCH)
		return log_error_ret(r, "can't dump: task %d exited while being seized", t->pid);
	return r < 0 ? r : seized(t);
}

/* A child that exited since it was listed: 1 if it is a zombie now (its
 * parent, stopped, has not reaped it), which the dump keeps as one. */
static int exited_child(struct dump_ctx *ctx, struct dump_task *t)
{
	int r = task_check_dumpable(ctx, t->pid, t, true);

	if (r == 0)
		return log_error_ret(-ESRCH, "can't dump: task %d exited while being seized",
				     t->pid);
	if (r == 1) {
		t->zombie = true;
		t->exit_status = t->stat.exit_code;
	}
	return r;
}

/* A child checked and interrupted (1), or a zombie (0). */
static int add_child(struct dump_ctx *ctx, int parent, pid_t pid)
{
	struct dump_task *t = add_task(ctx, pid, parent);
	int r;

	if (!t)
		return log_error_ret(-E2BIG, "can't dump: more than %d tasks", MAX_TASKS);
	r = task_check_dumpable(ctx, pid, t, true);
	if (r < 0)
		return r;
	if (r == 1) {
		t->zombie = true;
		t->exit_status = t->stat.exit_code;
		return 0;
	}
	r = remote_seize_begin(pid, &t->rt);
	if (r == -ESRCH)
		return exited_child(ctx, t) < 0 ? -ESRCH : 0;
	return r < 0 ? r : 1;
}

/* An interrupted child, stopped: seized with its threads, or a zombie now. */
static int child_seize_end(struct dump_ctx *ctx, struct dump_task *t)
{
	int r = remote_seize_end(&t->rt);

	if (r == -ESRCH)
		return exited_child(ctx, t) < 0 ? -ESRCH : 0;
	return r < 0 ? r : seized(t);
}

/*
 * All children of a task are interrupted before the first is waited for:
 * they stop side by side. Every one interrupted is waited for, even after
 * a failure, so that the release finds it stopped.
 */
static int add_children(struct dump_ctx *ctx, int parent, const int *kids, int n)
{
	size_t first = ctx->nr_tasks;
	bool begun[n + 1];
	int r = 0, rr;

	for (int k = 0; k < n; k++)
		begun[k] = false;
	for (int k = 0; k < n && r == 0; k++) {
		r = add_child(ctx, parent, kids[k]);
		begun[k] = r > 0;
		r = r < 0 ? r : 0;
	}
	for (int k = 0; k < n; k++) {
		if (!begun[k])
			continue;
		rr = child_seize_end(ctx, &ctx->tasks[first + k]);
		r = r ? r : rr;
	}
	return r;
}

int pstree_collect(struct dump_ctx *ctx, pid_t root)
{
	struct dump_task *t = add_task(ctx, root, -1);
	int r;

	if (!t)
		return -ENOMEM;
	r = task_check_dumpable(ctx, root, t, false);
	if (r < 0)
		return r;
	r = seize_task(t);
	if (r < 0)
		return r;
	/* A seized task cannot fork: its children list is final once read. */
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		_cleanup_free_ int *kids = NULL;
		int n = 0;

		if (ctx->tasks[i].zombie)
			continue;
		r = task_children(&ctx->tasks[i], &kids, &n);
		if (r == 0)
			r = add_children(ctx, i, kids, n);
		if (r < 0)
			return r;
	}
	return 0;
}

bool pstree_has(const struct dump_ctx *ctx, pid_t pid)
{
	return pidmap_get(&ctx->by_pid, pid) >= 0;
}

int pstree_for_each_outside(struct dump_ctx *ctx, int (*fn)(struct dump_ctx *, pid_t, void *),
			    void *arg)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return log_error_errno(-errno, "cannot open /proc");
	while ((de = readdir(d))) {
		int pid, r;

		if (parse_int(de->d_name, &pid) < 0 || pid == getpid() || pstree_has(ctx, pid))
			continue;
		r = fn(ctx, pid, arg);
		if (r)
			return r;
	}
	return 0;
}

/* Lookups by pid in constant time: the layout checks ask for every task. */
static int find_task(struct dump_ctx *ctx, pid_t pid)
{
	return pidmap_get(&ctx->by_pid, pid);
}

/* An fd table (CLONE_FILES) or fs info (CLONE_FS) a child shares with its
 * parent is made shared again; memory and signal handlers: vmshare.c. */
static void check_sharing(struct dump_task *t, struct dump_task *p)
{
	t->clone_files = sys_kcmp(p->pid, t->pid, 2 /* KCMP_FILES */, 0, 0) == 0;
	t->clone_fs = sys_kcmp(p->pid, t->pid, 3 /* KCMP_FS */, 0, 0) == 0;
}

/* The helper standing in for dead leader pid, made on first use. */
static int use_helper(struct dump_ctx *ctx, struct dump_task *t, pid_t pid, bool session)
{
	struct dump_helper *h;

	if (find_task(ctx, pid) >= 0)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d's %s %d has a leader that "
						  "is not its leader", t->pid,
				     session ? "session" : "group", pid);
	for (size_t i = 0; i < ctx->nr_helpers; i++) {
		h = &ctx->helpers[i];
		if (h->pid != pid)
			continue;
		/*
		 * A group, once made, lives on in its first member: the others
		 * join it at restore like any group. A session cannot be joined.
		 */
		if (!session && !h->session && h->parent != t->parent)
			return 0;
		if (h->parent != t->parent || h->session != session)
			return log_error_ret(-EOPNOTSUPP,
					     "can't dump: the members of dead leader %d's %s have "
					     "different parents (not supported yet)", pid,
					     session ? "session" : "group");
		t->helper = pid;
		return 0;
	}
	h = array_add(&ctx->helpers, ctx->nr_helpers, sizeof(*h));
	if (!h)
		return -ENOMEM;
	ctx->nr_helpers++;
	*h = (struct dump_helper){ pid, t->parent, session,
						     session ? pid : ctx->tasks[t->parent].stat.sid };
	t->helper = pid;
	return 0;
}

static bool group_alive(struct dump_ctx *ctx, struct dump_task *t)
{
	int leader = find_task(ctx, t->stat.pgid);

	/* A shell job's group is outside the tree and inherited as it is. */
	if (ctx->opts->shell_job && t->stat.pgid == ctx->tasks[0].stat.pgid)
		return true;
	return leader >= 0 && ctx->tasks[leader].stat.pgid == t->stat.pgid &&
	       ctx->tasks[leader].stat.sid == t->stat.sid;
}

/*
 * A session is inherited, so a task's session is its own or its parent's;
 * a group must be led by a task of the tree in the same session. Where the
 * leader is dead, a helper with its pid is made at restore: it becomes the
 * session (or group) leader, forks the members with CLONE_PARENT, and exits.
 */
static int check_task_layout(struct dump_ctx *ctx, struct dump_task *t)
{
	struct dump_task *p = &ctx->tasks[t->parent];
	bool dead_session = t->stat.sid != t->pid && t->stat.sid != p->stat.sid;

	if (!dead_session && group_alive(ctx, t))
		return 0;
	if (!dead_session)
		return use_helper(ctx, t, t->stat.pgid, false);
	if (t->stat.pgid != t->stat.sid && t->stat.pgid != t->pid && !group_alive(ctx, t))
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d is in group %d of the session "
						  "of dead leader %d (not supported yet)", t->pid,
				     t->stat.pgid, t->stat.sid);
	return use_helper(ctx, t, t->stat.sid, true);
}

int pstree_check_layout(struct dump_ctx *ctx)
{
	for (size_t i = 1; i < ctx->nr_tasks; i++) {
		struct dump_task *t = &ctx->tasks[i], *p = &ctx->tasks[t->parent];
		int r = check_task_layout(ctx, t);

		if (r < 0)
			return r;
		if (!t->zombie && !p->zombie)
			check_sharing(t, p);
	}
	return vmshare_check(ctx);
}

static int write_helper(struct dump_ctx *ctx, struct img *img, const struct dump_task *member)
{
	pid_t pid = member->helper;
	int r;

	for (size_t i = 0; i < ctx->nr_helpers; i++) {
		struct dump_helper *h = &ctx->helpers[i];
		PstreeEntry e = PSTREE_ENTRY__INIT;

		if (h->pid != pid)
			continue;
		if (h->parent < 0) /* written already */
			return 0;
		e.pid = h->pid;
		e.ppid = ctx->tasks[h->parent].pid;
		e.pgid = h->pid;
		e.sid = h->sid;
		e.has_helper = e.helper = true;
		h->parent = -1;
		if ((r = pidns_fill_helper(ctx, member, h->session, &e)) < 0)
			return r;
		return img_write(img, &e);
	}
	return -ENOENT;
}

int pstree_write(struct dump_ctx *ctx)
{
	struct img img;
	int r = img_create(ctx->dirfd, IMG_PSTREE, 0, &img);

	for (size_t i = 0; r == 0 && i < ctx->nr_tasks; i++) {
		struct dump_task *t = &ctx->tasks[i];
		PstreeEntry e = PSTREE_ENTRY__INIT;

		/* A helper comes just before the first task it makes. */
		if (t->helper && (r = write_helper(ctx, &img, t)) < 0)
			break;
		e.pid = t->pid;
		e.ppid = t->parent < 0 ? 0 : ctx->tasks[t->parent].pid;
		e.has_creator = t->helper != 0;
		e.creator = t->helper;
		e.has_clone_files = e.clone_files = t->clone_files;
		e.has_clone_fs = e.clone_fs = t->clone_fs;
		e.has_clone_vm = e.clone_vm = t->clone_vm;
		e.has_clone_sighand = e.clone_sighand = t->clone_sighand;
		e.pgid = t->stat.pgid;
		e.sid = t->stat.sid;
		e.has_exit_status = t->zombie;
		e.exit_status = t->exit_status;
		if (t->zombie && (r = zombie_dump(ctx, t, &e)) < 0)
			break;
		e.n_threads = t->nr_threads;
		e.threads = ANEW_ARRAY(uint32_t, t->nr_threads + 1);
		if (!e.threads) {
			r = -ENOMEM;
			break;
		}
		for (size_t k = 0; k < t->nr_threads; k++)
			e.threads[k] = t->threads[k].pid;
		if ((r = ns_fill_pstree(ctx, t, &e)) < 0)
			break;
		r = img_write(&img, &e);
	}
	if (r == 0 || img.fd >= 0)
		img_close(&img);
	return r;
}

int pstree_release(struct dump_ctx *ctx)
{
	int r = 0;

	/* Children first: a released parent must not see a child still held. */
	for (size_t i = ctx->nr_tasks; i-- > 0;) {
		struct dump_task *t = &ctx->tasks[i];

		if (!t->seized)
			continue;
		t->seized = false;
		for (size_t k = 0; k < t->nr_threads; k++) {
			int rr = remote_release(&t->threads[k]);
			r = r ? r : rr;
		}
		int rr = remote_release(&t->rt);
		r = r ? r : rr;
	}
	return r;
}

/* ---- restore ---- */

static int cmp_slot(const void *a, const void *b)
{
	const struct pid_slot *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->thread - y->thread;
}

/* The slot of id (a task's pid before a thread's, should an image name both), or NULL. */
static const struct pid_slot *find_slot(const struct restore_ctx *ctx, pid_t id)
{
	size_t lo = 0, hi = ctx->nr_pid_slots;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ctx->pid_slots[mid].id < (uint32_t)id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ctx->nr_pid_slots && ctx->pid_slots[lo].id == (uint32_t)id
		       ? &ctx->pid_slots[lo] : NULL;
}

/* Lookups by id in time logarithmic in the tree's size, not linear. */
static int build_index(struct restore_ctx *ctx)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < ctx->nr_tasks; i++)
		n += 1 + ctx->tasks[i].pe->n_threads;
	ctx->pid_slots = malloc(n * sizeof(*ctx->pid_slots));
	if (!ctx->pid_slots)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const PstreeEntry *e = ctx->tasks[i].pe;

		ctx->pid_slots[k++] = (struct pid_slot){ e->pid, i, false };
		for (size_t t = 0; t < e->n_threads; t++)
			ctx->pid_slots[k++] = (struct pid_slot){ e->threads[t], i, true };
	}
	qsort(ctx->pid_slots, n, sizeof(*ctx->pid_slots), cmp_slot);
	ctx->nr_pid_slots = n;
	return 0;
}

int pstree_index(const struct restore_ctx *ctx, pid_t pid)
{
	const struct pid_slot *s;

	if (!ctx->pid_slots) { /* a context made by hand (unit tests) */
		for (size_t i = 0; i < ctx->nr_tasks; i++)
			if (ctx->tasks[i].pid == pid)
				return i;
		return -1;
	}
	s = find_slot(ctx, pid);
	return s && !s->thread ? s->task : -1;
}

int pstree_owner(const struct restore_ctx *ctx, pid_t tid)
{
	const struct pid_slot *s = find_slot(ctx, tid);

	return s ? s->task : -1;
}

static int validate_entry(struct restore_ctx *ctx, size_t i)
{
	PstreeEntry *e = ctx->tasks[i].pe;
	int parent = e->ppid ? pstree_index(ctx, e->ppid) : -1;
	int creator = e->has_creator ? pstree_index(ctx, e->creator) : parent;

	if (!e->pid || e->pid > PID_MAX || (size_t)pstree_index(ctx, e->pid) != i)
		return -EINVAL;
	if (i == 0 ? e->ppid != 0 || e->has_exit_status || e->has_creator || e->helper ||
			     e->clone_files || e->clone_fs || e->clone_vm || e->clone_sighand
		   : parent < 0 || (size_t)parent >= i || creator < 0 || (size_t)creator >= i)
		return -EINVAL;
	if (parent >= 0 && (ctx->tasks[parent].zombie || ctx->tasks[parent].helper))
		return -EINVAL;
	/* Only a helper makes tasks that are not its children, and it has no children. */
	if (creator != parent && (!ctx->tasks[creator].helper ||
				  ctx->tasks[creator].parent != parent))
		return -EINVAL;
	/* Sharing is made at creation: with the creator, which must be the parent. */
	if ((e->clone_files || e->clone_fs || e->clone_vm) &&
	    (creator != parent || e->helper || e->has_exit_status))
		return -EINVAL;
	if (e->clone_sighand && !e->clone_vm)
		return -EINVAL;
	ctx->tasks[i].vm_owner = -1;
	if (e->clone_vm) {
		int owner = ctx->tasks[parent].vm_owner >= 0 ? ctx->tasks[parent].vm_owner : parent;

		ctx->tasks[i].vm_owner = owner;
		ctx->tasks[i].vm_rank = ++ctx->tasks[owner].nr_sharers;
		if (ctx->tasks[owner].nr_sharers > RST_MAX_SHARERS)
			return -EINVAL;
	}
	if (e->clone_files) {
		ctx->tasks[i].shared_files = true;
		ctx->tasks[parent].shared_files = true;
	}
	if (e->has_exit_status ? !zombie_valid(e)
			       : e->zombie_comm || e->n_zombie_rlimits || e->has_zombie_sig_blk)
		return -EINVAL;
	if (e->n_threads > 4096 || ((e->has_exit_status || e->helper) && e->n_threads) ||
	    (e->helper && (e->has_exit_status || e->has_creator || e->pgid != e->pid)))
		return -EINVAL;
	ctx->tasks[i].parent = parent;
	ctx->tasks[i].creator = creator;
	/* The kernel drops rseq at a clone with CLONE_VM, and fork copies none. */
	ctx->tasks[i].no_rseq = e->clone_vm || (creator >= 0 && ctx->tasks[creator].no_rseq);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every pid and thread id of the tree once: clone3 would take none twice. */
static int validate_ids(const struct restore_ctx *ctx)
{
	size_t n = 0, k = 0;
	uint32_t *ids;
	int r = 0;

	for (size_t i = 0; i < ctx->nr_tasks; i++)
		n += 1 + ctx->tasks[i].pe->n_threads;
	ids = malloc(n * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const PstreeEntry *e = ctx->tasks[i].pe;

		ids[k++] = e->pid;
		for (size_t t = 0; t < e->n_threads; t++)
			ids[k++] = e->threads[t];
	}
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (size_t i = 0; i < n && !r; i++)
		if (!ids[i] || ids[i] > PID_MAX || (i && ids[i] == ids[i - 1]))
			r = log_error_ret(-EINVAL, "image pstree.img is corrupted: id %u %s", ids[i],
					  ids[i] && ids[i] <= PID_MAX ? "twice" : "out of range");
	free(ids);
	return r;
}

/* Outside the tree: the root's session and group under --shell-job (nestor's own at restore). */
static bool outside(const struct restore_ctx *ctx, uint32_t sid, uint32_t pgid)
{
	const PstreeEntry *root = ctx->tasks[0].pe;

	return ctx->inv->shell_job && sid == root->sid && pgid == root->pgid;
}

/*
 * Sessions and groups as the restore makes them: a task leads its own
 * session (and then its own group), or inherits its creator's; it leads its
 * own group or joins one a task of its session leads.
 */
static int validate_session(const struct restore_ctx *ctx, size_t i)
{
	const PstreeEntry *e = ctx->tasks[i].pe;
	int creator = ctx->tasks[i].creator, leader;

	if (i == 0 && outside(ctx, e->sid, e->pgid))
		return 0;
	if (e->sid == e->pid ? e->pgid != e->pid
			     : i == 0 || ctx->tasks[creator].pe->sid != e->sid)
		return log_error_ret(-EINVAL, "image pstree.img is corrupted: task %u in session %u "
					      "cannot have it", e->pid, e->sid);
	if (e->pgid == e->pid || outside(ctx, e->sid, e->pgid))
		return 0;
	leader = pstree_index(ctx, e->pgid);
	if (leader < 0 || ctx->tasks[leader].pe->pgid != e->pgid ||
	    ctx->tasks[leader].pe->sid != e->sid || outside(ctx, e->sid, e->pgid))
		return log_error_ret(-EINVAL, "image pstree.img is corrupted: task %u in group %u, "
					      "which no task of its session %u leads", e->pid, e->pgid,
				     e->sid);
	return 0;
}

/* Each task's list of the tasks it forks: a task of a big tree must not look through all. */
static void link_made(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		ctx->tasks[i].first_made = ctx->tasks[i].next_made = -1;
	for (size_t i = ctx->nr_tasks; i-- > 1;) {
		struct restore_task *c = &ctx->tasks[ctx->tasks[i].creator];

		ctx->tasks[i].next_made = c->first_made;
		c->first_made = i;
	}
}

int pstree_read(struct restore_ctx *ctx)
{
	struct img img;
	void *m;
	int r;

	r = img_open(ctx->dirfd, IMG_PSTREE, 0, &img);
	if (r < 0)
		return r;
	while ((r = img_read(&img, &m)) > 0) {
		struct restore_task *n;

		if (ctx->nr_tasks == MAX_TASKS) {
			img_free(IMG_PSTREE, m);
			r = log_error_ret(-EINVAL, "image pstree.img has too many tasks");
			break;
		}
		n = array_add(&ctx->tasks, ctx->nr_tasks, sizeof(*n));
		if (!n) {
			img_free(IMG_PSTREE, m);
			r = -ENOMEM;
			break;
		}
		ctx->nr_tasks++;
		n->pe = m;
		n->pid = ((PstreeEntry *)m)->pid;
		n->zombie = ((PstreeEntry *)m)->has_exit_status;
		n->helper = ((PstreeEntry *)m)->helper;
	}
	img_close(&img);
	if (r < 0)
		return r;
	if (!ctx->nr_tasks)
		return log_error_ret(-EINVAL, "image pstree.img is empty");
	if ((r = build_index(ctx)) < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (validate_entry(ctx, i) < 0)
			return log_error_ret(-EINVAL, "image pstree.img is corrupted: bad entry %zu", i);
	if ((r = validate_ids(ctx)) < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if ((r = validate_session(ctx, i)) < 0)
			return r;
	link_made(ctx);
	return 0;
}
