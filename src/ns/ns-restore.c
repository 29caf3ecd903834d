/*
 * The namespace model at restore: ns.img is read and every reference
 * checked (parents before children, owners that are user namespaces, each
 * task's and thread's ids of the right kinds); the namespaces with content
 * are made, one short-lived child each, filled by their kinds' restore
 * hook, and held by a descriptor; each task enters its own as it is born.
 * Pid namespaces are made with their inits (restore/tree.c).
 */
#define LOG_PREFIX "ns: "
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "core/log.h"
#include "core/util.h"
#include "ns/ns-priv.h"
#include "restorer/restorer-abi.h"

const NsEntry *ns_entry(const struct restore_ctx *ctx, uint32_t id)
{
	return id && id <= ctx->nr_ns ? ctx->ns[id - 1].e : NULL;
}

void **ns_priv(struct restore_ctx *ctx, uint32_t id)
{
	return &ctx->ns[id - 1].priv;
}

int ns_pid_depth(const struct restore_ctx *ctx, uint32_t id)
{
	const struct restore_ns *n = id ? &ctx->ns[id - 1] : NULL;

	return n && !n->e->host ? n->depth : 0;
}

/* A reference to an earlier namespace of kind, or 0 (nestor's own). */
static bool ref_ok(const struct restore_ctx *ctx, uint32_t ref, uint32_t id, int kind)
{
	return !ref || (ref < id && ctx->ns[ref - 1].kind == kind && !ctx->ns[ref - 1].e->host);
}

static int validate_entry(struct restore_ctx *ctx, size_t i, bool host_seen[])
{
	struct restore_ns *n = &ctx->ns[i];
	const NsEntry *e = n->e;

	if (e->id != i + 1 || (n->kind = ns_kind_by_name(e->kind)) < 0)
		return -EINVAL;
	if (e->host) {
		if (e->parent || e->owner || host_seen[n->kind])
			return -EINVAL;
		host_seen[n->kind] = true;
		return 0;
	}
	if (!ref_ok(ctx, e->owner, e->id, NSK_USER) || !ref_ok(ctx, e->parent, e->id, n->kind))
		return -EINVAL;
	if (n->kind != NSK_PID && n->kind != NSK_USER && e->parent)
		return -EINVAL;
	if (n->kind == NSK_USER && e->owner != e->parent)
		return -EINVAL;
	if (n->kind == NSK_PID) {
		n->depth = 1 + (e->parent ? ctx->ns[e->parent - 1].depth : 0);
		if (n->depth >= MAX_NS_LEVEL)
			return -EINVAL;
	}
	return 0;
}

/* What nestor cannot make yet is refused, as at the dump. */
static int check_supported(const struct restore_ctx *ctx, size_t i)
{
	const struct restore_ns *n = &ctx->ns[i];

	if (n->e->host || n->kind == NSK_PID || ns_ops_of(n->kind))
		return 0;
	return log_error_ret(-EOPNOTSUPP, "can't restore: ns.img has a %s namespace other than "
					  "nestor's (not supported yet)", ns_kinds[n->kind].human);
}

/* One thread's ids: each of its slot's kind; 0 only where a zombie has none. */
static bool ids_ok(const struct restore_ctx *ctx, const NsIdsEntry *ids, bool zombie)
{
	if (!ids || ids->n_id != NS_NR_SLOTS)
		return false;
	for (int s = 0; s < NS_NR_SLOTS; s++) {
		uint32_t id = ids->id[s];

		if (!id && zombie && s != NS_PID)
			continue;
		if (!id || id > ctx->nr_ns || ctx->ns[id - 1].kind != (int)ns_slot_kind(s))
			return false;
	}
	return true;
}

static int validate_task(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const PstreeEntry *e = t->pe;

	if (!ids_ok(ctx, e->ns, t->zombie) || e->n_thread_ns != e->n_threads)
		return -EINVAL;
	for (size_t k = 0; k < e->n_threads; k++) {
		const NsIdsEntry *th = e->thread_ns[k];

		if (!ids_ok(ctx, th, false) || th->id[NS_PID] != e->ns->id[NS_PID] ||
		    th->id[NS_PID_FOR_CHILDREN] != th->id[NS_PID] ||
		    th->id[NS_TIME] != e->ns->id[NS_TIME] || th->id[NS_MNT] != e->ns->id[NS_MNT] ||
		    th->id[NS_CGROUP] != e->ns->id[NS_CGROUP] ||
		    th->id[NS_TIME_FOR_CHILDREN] != th->id[NS_TIME])
			return -EINVAL;
	}
	/* Entered whole: the namespace of its children is its own. */
	if (!t->zombie && e->ns->id[NS_TIME_FOR_CHILDREN] != e->ns->id[NS_TIME])
		return -EINVAL;
	return 0;
}

static int read_entries(struct restore_ctx *ctx)
{
	struct img img;
	void *m;
	int r = img_open(ctx->dirfd, IMG_NS, 0, &img);

	if (r < 0)
		return r;
	while ((r = img_read(&img, &m)) > 0) {
		struct restore_ns *n;

		if (ctx->nr_ns == 1 << 16) {
			img_free(IMG_NS, m);
			r = log_error_ret(-EINVAL, "image ns.img has too many namespaces");
			break;
		}
		n = array_add(&ctx->ns, ctx->nr_ns, sizeof(*n));
		if (!n) {
			img_free(IMG_NS, m);
			r = -ENOMEM;
			break;
		}
		*n = (struct restore_ns){ .e = m, .kind = -1, .fd = -1, .init = -1 };
		ctx->nr_ns++;
	}
	img_close(&img);
	return r;
}

int ns_read(struct restore_ctx *ctx)
{
	bool host_seen[NS_NR_KINDS] = { false };
	int r;

	if ((r = read_entries(ctx)) < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_ns; i++)
		if (validate_entry(ctx, i, host_seen) < 0)
			return log_error_ret(-EINVAL, "image ns.img is corrupted: bad entry %zu", i);
	for (size_t i = 0; i < ctx->nr_ns; i++)
		if ((r = check_supported(ctx, i)) < 0)
			return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (validate_task(ctx, &ctx->tasks[i]) < 0)
			return log_error_ret(-EINVAL, "image pstree.img is corrupted: the namespaces "
						      "of task %d", ctx->tasks[i].pid);
	if ((r = pidns_validate(ctx)) < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const struct ns_kind_ops *ops = ns_ops_of(ctx->ns[i].kind);

		if (!ctx->ns[i].e->host && ops && ops->validate &&
		    (r = ops->validate(ctx, i + 1)) < 0)
			return r;
	}
	return 0;
}

/*
 * In the child: inside the owner user namespace (a user namespace's
 * parent), the fresh namespace, filled. A kind with a made hook gets
 * nestor's turn in between: the child says it unshared, nestor answers.
 */
static __attribute__((noreturn)) void make_child(struct restore_ctx *ctx, uint32_t id, int sk,
						 pid_t nestor)
{
	const struct restore_ns *n = &ctx->ns[id - 1];
	const struct ns_kind_ops *ops = ns_ops_of(n->kind);
	int r = 0;
	char c;

	if (ops->pre_owner)
		r = ops->pre_owner(ctx, id);
	if (r == 0 && n->e->owner && setns(ns_fd(ctx, n->e->owner), CLONE_NEWUSER))
		r = log_error_errno(-errno, "cannot enter user namespace %u to make namespace %u",
				    n->e->owner, id);
	if (r == 0 && ops->prepare)
		r = ops->prepare(ctx, id);
	/* Never outlive a nestor killed mid-restore (after prepare: a change of
	 * ids clears the signal). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != nestor)
		_exit(1);
	if (r == 0 && unshare(ns_kinds[n->kind].clone_flag))
		r = log_error_errno(-errno, "cannot make a %s namespace", ns_kinds[n->kind].human);
	if (ops->made) {
		(void)!write(sk, &r, sizeof(r));
		if (r == 0 && read(sk, &c, 1) != 1)
			r = -EPIPE; /* nestor's made hook failed, and said so */
	}
	if (r == 0)
		r = ops->restore(ctx, id);
	(void)!write(sk, &r, sizeof(r));
	/* nestor opens our namespace, then kills us. */
	pause();
	_exit(0);
}

static int child_said(int sk, uint32_t id)
{
	int r;

	if (read(sk, &r, sizeof(r)) != sizeof(r))
		return log_error_ret(-EIO, "the maker of namespace %u died", id);
	return r;
}

/* nestor's side: the made hook between the child's unshare and its restore. */
static int talk_to_maker(struct restore_ctx *ctx, uint32_t id, pid_t pid, int sk)
{
	const struct ns_kind_ops *ops = ns_ops_of(ctx->ns[id - 1].kind);
	int r;

	if (ops->made) {
		if ((r = child_said(sk, id)) < 0 || (r = ops->made(ctx, id, pid)) < 0)
			return r;
		if (write(sk, "g", 1) != 1)
			return log_error_errno(-errno, "cannot wake the maker of namespace %u", id);
	}
	return child_said(sk, id);
}

static int make_ns(struct restore_ctx *ctx, uint32_t id)
{
	struct restore_ns *n = &ctx->ns[id - 1];
	int sk[2], r, status;
	char path[64];
	pid_t pid, self;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		return log_error_errno(-errno, "cannot make a socket pair");
	self = getpid();
	pid = fork();
	if (pid < 0) {
		close(sk[0]);
		close(sk[1]);
		return log_error_errno(-errno, "cannot fork");
	}
	if (pid == 0) {
		close(sk[0]);
		make_child(ctx, id, sk[1], self);
	}
	close(sk[1]);
	r = talk_to_maker(ctx, id, pid, sk[0]);
	close(sk[0]);
	if (r == 0) {
		const struct ns_kind_ops *ops = ns_ops_of(n->kind);

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid,
			 ops->made_link ? ops->made_link : ns_kinds[n->kind].name);
		n->fd = fd_move_above(open(path, O_RDONLY | O_CLOEXEC), ctx->fd_base + 1);
		if (n->fd < 0)
			r = log_error_errno(-errno, "cannot open %s", path);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return r;
}

int ns_restore(struct restore_ctx *ctx)
{
	int r;

	for (size_t k = 0; k < ARRAY_SIZE(ctx->host_ns_fds); k++)
		ctx->host_ns_fds[k] = -1;
	ctx->host_ns_open = true;
	for (int k = 0; k < NS_NR_KINDS; k++) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/self/ns/%s", ns_kinds[k].name);
		ctx->host_ns_fds[k] = fd_move_above(open(p, O_RDONLY | O_CLOEXEC), ctx->fd_base + 1);
		if (ctx->host_ns_fds[k] < 0 && errno != ENOENT)
			return log_error_errno(-errno, "cannot open %s", p);
	}
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		struct restore_ns *n = &ctx->ns[i];

		if (n->e->host || n->kind == NSK_PID)
			continue;
		if ((r = make_ns(ctx, i + 1)) < 0)
			return r;
		pr_debug("%s namespace %zu made", ns_kinds[n->kind].human, i + 1);
	}
	return 0;
}

/* A short-lived child inside namespace id runs its kind's restore_late (or check_late). */
static int late_in_child(struct restore_ctx *ctx, uint32_t id, bool check)
{
	const struct restore_ns *n = &ctx->ns[id - 1];
	int status, r;
	pid_t pid = fork();

	if (pid < 0)
		return log_error_errno(-errno, "cannot fork");
	if (pid == 0) {
		if (setns(n->fd, ns_kinds[n->kind].clone_flag))
			r = log_error_errno(-errno, "cannot enter %s namespace %u",
					    ns_kinds[n->kind].human, id);
		else
			r = check ? ns_ops_of(n->kind)->check_late(ctx, id) :
				    ns_ops_of(n->kind)->restore_late(ctx, id);
		_exit(r < 0 ? MIN(-r, 255) : 0);
	}
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return log_error_errno(-errno, "cannot wait for nestor's helper");
	if (!WIFEXITED(status))
		return log_error_ret(-EIO, "nestor's helper in namespace %u died (status %#x)", id,
				     status);
	return -WEXITSTATUS(status);
}

int ns_restore_late(struct restore_ctx *ctx)
{
	int r;

	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const struct restore_ns *n = &ctx->ns[i];
		const struct ns_kind_ops *ops = ns_ops_of(n->kind);

		if (n->e->host || !ops || !ops->restore_late)
			continue;
		if ((r = late_in_child(ctx, i + 1, false)) < 0)
			return r;
	}
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const struct restore_ns *n = &ctx->ns[i];
		const struct ns_kind_ops *ops = ns_ops_of(n->kind);

		if (n->e->host || !ops || !ops->check_late)
			continue;
		if ((r = late_in_child(ctx, i + 1, true)) < 0)
			return r;
	}
	return 0;
}

int ns_fd(const struct restore_ctx *ctx, uint32_t id)
{
	const struct restore_ns *n = &ctx->ns[id - 1];

	return n->e->host ? ctx->host_ns_fds[n->kind] : n->fd;
}

/* The namespaces made here, where the task's differ from its creator's. */
int ns_enter_task(struct restore_ctx *ctx, int idx)
{
	const struct restore_task *t = &ctx->tasks[idx];
	int maker = t->creator;
	const NsIdsEntry *cr;

	/* An owned init's children are forked by a proxy of its own creator's
	 * (make_owned_children): they have that task's namespaces, not the init's. */
	if (maker >= 0 && pidns_owned_init(ctx, maker))
		maker = ctx->tasks[maker].creator;
	cr = maker >= 0 ? ctx->tasks[maker].pe->ns : NULL;

	for (int s = 0; s < NS_NR_SLOTS; s++) {
		uint32_t id = t->pe->ns->id[s], from = cr ? cr->id[s] : 0;
		int kind = ns_slot_kind(s);

		/* The user namespace is entered last, by userns_enter_task(); the
		 * namespace of its children is its own (validated): entered with it. */
		if (!id || kind == NSK_PID || kind == NSK_USER || !ns_ops_of(kind) ||
		    s == NS_TIME_FOR_CHILDREN)
			continue;
		if (!from) /* nestor's, or a zombie's: none */
			from = ns_entry(ctx, id)->host ? id : 0;
		if (id == from)
			continue;
		if (setns(ns_fd(ctx, id), ns_kinds[kind].clone_flag))
			return log_error_errno(-errno, "task %d cannot enter its %s namespace",
					       t->pid, ns_kinds[kind].human);
	}
	return 0;
}

void ns_restore_free(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const struct ns_kind_ops *ops = ns_ops_of(ctx->ns[i].kind);

		if (ops && ops->free && ctx->ns[i].priv)
			ops->free(ctx, i + 1);
		else if (ops && ops->priv_img && ctx->ns[i].priv)
			img_free(ops->priv_img, ctx->ns[i].priv);
		if (ctx->ns[i].fd >= 0)
			close(ctx->ns[i].fd);
		img_free(IMG_NS, ctx->ns[i].e);
	}
	free(ctx->ns);
	ctx->ns = NULL;
	ctx->nr_ns = 0;
	for (size_t k = 0; ctx->host_ns_open && k < ARRAY_SIZE(ctx->host_ns_fds); k++)
		if (ctx->host_ns_fds[k] >= 0)
			close(ctx->host_ns_fds[k]);
}

static int keep_fd(struct rst_args *a, int fd)
{
	uint32_t i = 0;

	while (i < a->nr_keep_fds && a->keep_fds[i] < fd)
		i++;
	if (i < a->nr_keep_fds && a->keep_fds[i] == fd)
		return 0;
	if (a->nr_keep_fds == RST_MAX_KEEP_FDS)
		return log_error_ret(-E2BIG, "too many namespaces for the threads of one task");
	memmove(&a->keep_fds[i + 1], &a->keep_fds[i], (a->nr_keep_fds - i) * sizeof(int32_t));
	a->keep_fds[i] = fd;
	a->nr_keep_fds++;
	return 0;
}

/* A thread's own namespaces (those a kind fills: uts, ipc), entered in the blob. */
static int fill_thread(struct restore_ctx *ctx, int idx, size_t k, struct rst_thread *th,
		       struct rst_args *a)
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	const uint32_t *v = e->thread_pids[k]->nr;
	size_t n = e->thread_pids[k]->n_nr;
	int r;

	th->nr_tid_levels = n;
	for (size_t j = 0; j < n; j++)
		th->tid_levels[j] = v[n - 1 - j];
	th->nr_tid_set = MIN((size_t)pidns_thread_levels(ctx, idx), n);
	th->assist = th->nr_tid_set < n;
	for (int s = 0; s < NS_NR_SLOTS; s++) {
		uint32_t id = e->thread_ns[k]->id[s];
		int kind = ns_slot_kind(s);

		if (id == e->ns->id[s] || kind == NSK_PID || !ns_ops_of(kind))
			continue;
		if (th->nr_ns == RST_MAX_THREAD_NS)
			return log_error_ret(-E2BIG, "thread %u: too many namespaces", e->threads[k]);
		th->ns_fd[th->nr_ns] = ns_fd(ctx, id);
		th->ns_type[th->nr_ns++] = ns_kinds[kind].clone_flag;
		if ((r = keep_fd(a, ns_fd(ctx, id))) < 0)
			return r;
	}
	if (th->nr_ns)
		a->ns_pending++;
	return 0;
}

int ns_fill_args(struct restore_ctx *ctx, int idx, struct rst_args *a)
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	struct rst_thread *th = (struct rst_thread *)a->threads;
	int r;

	for (uint32_t i = 1; i < a->nr_threads; i++) {
		size_t k = 0;

		while (k < e->n_threads && e->threads[k] != (uint32_t)th[i].tid)
			k++;
		if (k == e->n_threads)
			return log_error_ret(-EINVAL, "task %u: thread %d is not in pstree.img",
					     e->pid, th[i].tid);
		if ((r = fill_thread(ctx, idx, k, &th[i], a)) < 0)
			return r;
	}
	if (e->n_threads && pidns_pfc_differs(ctx, idx)) {
		a->pfc_fd = pidns_pfc_open(ctx, idx);
		if (a->pfc_fd < 0)
			return a->pfc_fd;
		a->has_pfc = 1;
		return keep_fd(a, a->pfc_fd);
	}
	return 0;
}
