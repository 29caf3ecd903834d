/*
 * The namespace model. Dump: after the freeze, every namespace of every
 * thread of the tree is identified by its nsfs inode and numbered, with
 * the parents (pid, user) and owners it needs, parents first; kinds nestor
 * cannot restore yet are refused by name; the kinds with content dump it
 * through their ns_kind_ops; ns.img lists them all. Restore: ns.img and
 * every reference to it (tasks, threads, pid vectors) are checked before
 * anything is made; then every namespace but the pid ones (made with their
 * inits, tree.c) is made in a short-lived child, filled by its kind, and
 * held by a descriptor the tasks enter.
 */
#define LOG_PREFIX "ns: "
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "ns/ns.h"
#include "ns/ns-priv.h"

/* The kinds with content, through their hooks. */
static const struct ns_kind_ops *const kind_ops[] = {
	&uts_ns_ops,
	&time_ns_ops,
	&net_ns_ops,
	&user_ns_ops,
	&ipc_ns_ops,
	&mnt_ns_ops,
	&cgroup_ns_ops,
};

const struct ns_kind ns_kinds[NS_NR_KINDS] = {
	[NSK_PID] = { "pid", "pid", CLONE_NEWPID },
	[NSK_USER] = { "user", "user", CLONE_NEWUSER },
	[NSK_UTS] = { "uts", "UTS", CLONE_NEWUTS },
	[NSK_IPC] = { "ipc", "IPC", CLONE_NEWIPC },
	[NSK_MNT] = { "mnt", "mount", CLONE_NEWNS },
	[NSK_NET] = { "net", "network", CLONE_NEWNET },
	[NSK_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
	[NSK_TIME] = { "time", "time", 0x80 /* CLONE_NEWTIME */ },
};

const char *const ns_slot_names[NS_NR_SLOTS] = {
	[NS_PID] = "pid",     [NS_PID_FOR_CHILDREN] = "pid_for_children",
	[NS_USER] = "user",   [NS_UTS] = "uts",
	[NS_IPC] = "ipc",     [NS_MNT] = "mnt",
	[NS_NET] = "net",     [NS_CGROUP] = "cgroup",
	[NS_TIME] = "time",   [NS_TIME_FOR_CHILDREN] = "time_for_children",
};

enum ns_kind_nr ns_slot_kind(int slot)
{
	static const enum ns_kind_nr k[NS_NR_SLOTS] = {
		[NS_PID] = NSK_PID,	[NS_PID_FOR_CHILDREN] = NSK_PID, [NS_USER] = NSK_USER,
		[NS_UTS] = NSK_UTS,	[NS_IPC] = NSK_IPC,		 [NS_MNT] = NSK_MNT,
		[NS_NET] = NSK_NET,	[NS_CGROUP] = NSK_CGROUP,	 [NS_TIME] = NSK_TIME,
		[NS_TIME_FOR_CHILDREN] = NSK_TIME,
	};
	return k[slot];
}

int ns_kind_by_name(const char *name)
{
	for (int k = 0; k < NS_NR_KINDS; k++)
		if (!strcmp(ns_kinds[k].name, name))
			return k;
	return -1;
}

const struct ns_kind_ops *ns_ops_of(int kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_ops); i++)
		if (!strcmp(kind_ops[i]->kind, ns_kinds[kind].name))
			return kind_ops[i];
	return NULL;
}

/* ---- dump ---- */

#define NS_READ_MAX (8u << 20)

/* All a pipe gives until its end, NUL-terminated. */
static int read_pipe(int fd, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (len + 4096 + 1 > cap) {
			char *nb = cap + 65536 > NS_READ_MAX ? NULL : realloc(buf, cap + 65536);

			if (!nb)
				return -EFBIG;
			buf = nb;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = 0;
	*ret = steal_ptr(buf);
	return 0;
}

/* What a child of nestor inside nsfd (of kind flag) reads from path. */
int ns_read_file(int nsfd, int flag, const char *path, char **ret)
{
	int p[2], status, r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return log_error_errno(-errno, "cannot make a pipe");
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return log_error_errno(-errno, "cannot fork");
	}
	if (pid == 0) {
		_cleanup_free_ char *buf = NULL;

		/* The machine's /proc, held before the setns: a mount namespace of
		 * the tree may have its own proc on /proc, where we are no task. */
		bool in_proc = !strncmp(path, "/proc/", 6);
		int dirfd = in_proc ? open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC) : AT_FDCWD;

		close(p[0]);
		if (dirfd == -1 || setns(nsfd, flag) ||
		    read_file_at(dirfd, in_proc ? path + 6 : path, &buf, NS_READ_MAX) < 0 ||
		    write_all(p[1], buf, strlen(buf)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	r = read_pipe(p[0], ret);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r >= 0 && !(WIFEXITED(status) && !WEXITSTATUS(status)))
		r = -EIO;
	if (r < 0) {
		free(*ret);
		*ret = NULL;
	}
	return r;
}


/* nestor's own namespaces, by kind: inode and a descriptor to come back to. */
static struct {
	uint64_t ino;
	int fd;
} own[NS_NR_KINDS];

static int read_own(void)
{
	static bool done;

	if (done)
		return 0;
	for (int k = 0; k < NS_NR_KINDS; k++) {
		char p[64];
		struct stat st;

		snprintf(p, sizeof(p), "/proc/self/ns/%s", ns_kinds[k].name);
		own[k].fd = open(p, O_RDONLY | O_CLOEXEC);
		if (own[k].fd < 0 && errno == ENOENT)
			continue; /* a kind this kernel lacks */
		if (own[k].fd < 0 || fstat(own[k].fd, &st))
			return log_error_errno(-errno, "cannot open %s", p);
		own[k].ino = st.st_ino;
	}
	done = true;
	return 0;
}

static struct dump_ns *find_ns(struct dump_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->nr_ns; i++)
		if (ctx->ns[i].ino == ino)
			return &ctx->ns[i];
	return NULL;
}

static int add_ns(struct dump_ctx *ctx, int fd, int kind, const char *who,
		  struct dump_ns **ret);

/* The id of the namespace ioctl req leads to from fd (parent, owner): 0 for nestor's. */
static int related(struct dump_ctx *ctx, int fd, unsigned long req, int kind, const char *who,
		   uint32_t *ret)
{
	int rfd = ioctl(fd, req), r;
	struct dump_ns *n;

	if (rfd < 0 && errno == EPERM)
		return log_error_ret(-EOPNOTSUPP, "can't dump: %s is in a %s namespace nested "
						  "outside nestor's (not supported)", who,
				     ns_kinds[kind].human);
	if (rfd < 0)
		return log_error_errno(-errno, "cannot get the %s of a namespace of %s",
				       req == NS_GET_PARENT ? "parent" : "owner", who);
	if ((r = add_ns(ctx, rfd, kind, who, &n)) < 0)
		return r;
	*ret = n->host ? 0 : n->id;
	return 0;
}

/* Adds the namespace fd is (a descriptor the model keeps), after its parent and owner. */
static int add_ns(struct dump_ctx *ctx, int fd, int kind, const char *who,
		  struct dump_ns **ret)
{
	_cleanup_close_ int keep = fd;
	struct dump_ns *n;
	struct stat st;
	uint32_t parent = 0, owner = 0;
	int r;

	if (fstat(fd, &st))
		return log_error_errno(-errno, "cannot stat a namespace of %s", who);
	if ((*ret = find_ns(ctx, st.st_ino)))
		return 0;
	if (st.st_ino != own[kind].ino) {
		if ((kind == NSK_PID || kind == NSK_USER) &&
		    (r = related(ctx, fd, NS_GET_PARENT, kind, who, &parent)) < 0)
			return r;
		if (kind == NSK_USER)
			owner = parent;
		else if ((r = related(ctx, fd, NS_GET_USERNS, NSK_USER, who, &owner)) < 0)
			return r;
	}
	n = array_add(&ctx->ns, ctx->nr_ns, sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = (struct dump_ns){ .id = ctx->nr_ns + 1, .kind = kind, .ino = st.st_ino,
			       .parent = parent, .owner = owner, .host = st.st_ino == own[kind].ino,
			       .fd = steal_fd(keep), .diag = -1 };
	snprintf(n->who, sizeof(n->who), "%s", who);
	ctx->nr_ns++;
	*ret = n;
	return 0;
}

/* The id of a thread's namespace in slot, host ones included (their own id). */
static int thread_slot(struct dump_ctx *ctx, int dfd, int slot, bool zombie, const char *who,
		       uint32_t *ret)
{
	struct dump_ns *n;
	struct stat st;
	int fd, r;

	*ret = 0;
	/* Most threads share namespaces seen already: a stat finds them, no open. */
	if (!fstatat(dfd, ns_slot_names[slot], &st, 0) && (n = find_ns(ctx, st.st_ino))) {
		*ret = n->id;
		return 0;
	}
	fd = openat(dfd, ns_slot_names[slot], O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && zombie)
		return 0; /* gone with its exit, but for its pid and user namespaces */
	if (fd < 0 && errno == ENOENT && slot == NS_PID_FOR_CHILDREN)
		return log_error_ret(-EOPNOTSUPP, "can't dump: %s has a pid namespace for its "
						  "children without an init (empty or dead: not "
						  "supported)", who);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open the %s namespace of %s",
				       ns_slot_names[slot], who);
	/* Host namespaces too are named by their own id here, never by 0. */
	if ((r = add_ns(ctx, fd, ns_slot_kind(slot), who, &n)) < 0)
		return r;
	*ret = n->id;
	return 0;
}

static int collect_thread(struct dump_ctx *ctx, struct dump_task *t, pid_t tid, struct ns_ids *ids)
{
	_cleanup_close_ int dfd = -1;
	char p[64], who[64];
	int r;

	if (tid == t->pid)
		snprintf(who, sizeof(who), "task %d", t->pid);
	else
		snprintf(who, sizeof(who), "task %d (thread %d)", t->pid, tid);
	snprintf(p, sizeof(p), "/proc/%d/task/%d/ns", t->pid, tid);
	dfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return log_error_errno(-errno, "cannot open %s", p);
	for (int s = 0; s < NS_NR_SLOTS; s++)
		if ((r = thread_slot(ctx, dfd, s, t->zombie, who, &ids->id[s])) < 0)
			return r;
	return 0;
}

static const struct dump_ns *dns(const struct dump_ctx *ctx, uint32_t id)
{
	return id ? &ctx->ns[id - 1] : NULL;
}

/* What nestor cannot make again yet is refused here, naming the thread. */
static int check_thread(struct dump_ctx *ctx, struct dump_task *t, size_t k)
{
	const struct ns_ids *ids = &t->ns[k];
	char who[64];

	if (k)
		snprintf(who, sizeof(who), "task %d (thread %d)", t->pid, t->threads[k - 1].pid);
	else
		snprintf(who, sizeof(who), "task %d", t->pid);
	for (int s = 0; s < NS_NR_SLOTS; s++) {
		const struct dump_ns *n = dns(ctx, ids->id[s]);
		int kind = ns_slot_kind(s);
		bool children = s == NS_PID_FOR_CHILDREN || s == NS_TIME_FOR_CHILDREN;

		if (!n || n->host || kind == NSK_PID || ns_ops_of(kind))
			continue;
		if (children)
			return log_error_ret(-EOPNOTSUPP, "can't dump: %s has a %s namespace for its "
							  "children other than nestor's (not "
							  "supported yet)", who, ns_kinds[kind].human);
		return log_error_ret(-EOPNOTSUPP, "can't dump: %s is in a %s namespace other than "
						  "nestor's (not supported yet)", who,
				     ns_kinds[kind].human);
	}
	/* A time namespace is entered whole (setns sets both): one for the
	 * children only, after an unshare() not yet followed by a fork, is not. */
	if (ids->id[NS_TIME_FOR_CHILDREN] != ids->id[NS_TIME] && !t->zombie)
		return log_error_ret(-EOPNOTSUPP, "can't dump: %s has a time namespace for its "
						  "children other than its own (not supported yet)",
				     who);
	/* setns() into a mount namespace needs a task whose fs info is its own:
	 * a thread's always is its process's. */
	if (k && ids->id[NS_MNT] != t->ns[0].id[NS_MNT])
		return log_error_ret(-EOPNOTSUPP, "can't dump: %s is in a mount namespace other "
						  "than its process's (not supported yet)", who);
	if (k && ids->id[NS_CGROUP] != t->ns[0].id[NS_CGROUP])
		return log_error_ret(-EOPNOTSUPP, "can't dump: %s is in a cgroup namespace other "
						  "than its process's (not supported yet)", who);
	/* A thread's children are made by its main thread at restore. */
	if (k && ids->id[NS_PID_FOR_CHILDREN] != ids->id[NS_PID])
		return log_error_ret(-EOPNOTSUPP, "can't dump: %s has a pid namespace for its "
						  "children of its own (not supported yet)", who);
	return 0;
}

/* Namespaces owned by a user namespace other than nestor's: with helper userns. */
static int check_owners(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const struct dump_ns *n = &ctx->ns[i];

		if (n->owner && !ns_ops_of(NSK_USER))
			return log_error_ret(-EOPNOTSUPP, "can't dump: %s namespace %lu is owned by "
							  "a user namespace other than nestor's "
							  "(not supported yet)", ns_kinds[n->kind].human,
					     (unsigned long)n->ino);
	}
	return 0;
}

static int for_each_kind_ns(struct dump_ctx *ctx,
			    int (*pick)(const struct ns_kind_ops *, struct dump_ctx *, struct dump_ns *));

static int call_collect(const struct ns_kind_ops *ops, struct dump_ctx *ctx, struct dump_ns *n)
{
	return ops->collect ? ops->collect(ctx, n->id, n->fd) : 0;
}

int ns_collect(struct dump_ctx *ctx)
{
	int r;

	if ((r = read_own()) < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct dump_task *t = &ctx->tasks[i];

		t->ns = arena_alloc((t->nr_threads + 1) * sizeof(*t->ns));
		if (!t->ns)
			return -ENOMEM;
		for (size_t k = 0; k <= t->nr_threads; k++) {
			pid_t tid = k ? t->threads[k - 1].pid : t->pid;

			if ((r = collect_thread(ctx, t, tid, &t->ns[k])) < 0 ||
			    (r = check_thread(ctx, t, k)) < 0)
				return r;
		}
	}
	if ((r = check_owners(ctx)) < 0 || (r = pidns_check(ctx)) < 0 ||
	    (r = for_each_kind_ns(ctx, call_collect)) < 0)
		return r;
	pr_debug("%zu namespaces", ctx->nr_ns);
	return 0;
}

/* Runs hook on every namespace of a kind with one, nestor's thread inside it if asked. */
static int for_each_kind_ns(struct dump_ctx *ctx,
			    int (*pick)(const struct ns_kind_ops *, struct dump_ctx *, struct dump_ns *))
{
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		struct dump_ns *n = &ctx->ns[i];
		const struct ns_kind_ops *ops = ns_ops_of(n->kind);
		int r, rr = 0;

		if (n->host || !ops)
			continue;
		if (ops->enter_to_dump && setns(n->fd, ns_kinds[n->kind].clone_flag))
			return log_error_errno(-errno, "cannot enter %s namespace %lu",
					       ns_kinds[n->kind].human, (unsigned long)n->ino);
		r = pick(ops, ctx, n);
		if (ops->enter_to_dump && setns(own[n->kind].fd, ns_kinds[n->kind].clone_flag))
			rr = log_error_errno(-errno, "cannot come back to nestor's %s namespace",
					     ns_kinds[n->kind].human);
		if (r < 0 || rr < 0)
			return r < 0 ? r : rr;
	}
	return 0;
}

static int call_dump(const struct ns_kind_ops *ops, struct dump_ctx *ctx, struct dump_ns *n)
{
	return ops->dump(ctx, n->id, n->fd);
}

static int call_commit(const struct ns_kind_ops *ops, struct dump_ctx *ctx, struct dump_ns *n)
{
	int r = ops->dump_commit ? ops->dump_commit(ctx, n->id, n->fd) : 0;

	n->committed = r == 0;
	return r;
}

static int call_abort(const struct ns_kind_ops *ops, struct dump_ctx *ctx, struct dump_ns *n)
{
	if (n->committed && ops->dump_abort)
		ops->dump_abort(ctx, n->id, n->fd);
	n->committed = false;
	return 0;
}

int ns_dump(struct dump_ctx *ctx)
{
	struct img img;
	int r = for_each_kind_ns(ctx, call_dump);

	if (r < 0 || (r = img_create(ctx->dirfd, IMG_NS, 0, &img)) < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_ns && r == 0; i++) {
		const struct dump_ns *n = &ctx->ns[i];
		NsEntry e = NS_ENTRY__INIT;

		e.id = n->id;
		e.kind = (char *)ns_kinds[n->kind].name;
		e.has_parent = n->parent != 0;
		e.parent = n->parent;
		e.has_owner = n->owner != 0;
		e.owner = n->owner;
		e.has_host = e.host = n->host;
		e.has_inode = true;
		e.inode = n->ino;
		r = img_write(&img, &e);
	}
	img_close(&img);
	return r;
}

int ns_dump_commit(struct dump_ctx *ctx)
{
	return for_each_kind_ns(ctx, call_commit);
}

void ns_dump_abort(struct dump_ctx *ctx)
{
	for_each_kind_ns(ctx, call_abort);
}

const char *ns_who(const struct dump_ctx *ctx, uint32_t id)
{
	static char who[64];

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const struct dump_task *t = &ctx->tasks[i];

		for (size_t k = 0; k <= t->nr_threads; k++)
			for (int s = 0; s < NS_NR_SLOTS; s++) {
				if (t->ns[k].id[s] != id)
					continue;
				if (k)
					snprintf(who, sizeof(who), "task %d (thread %d)", t->pid,
						 t->threads[k - 1].pid);
				else
					snprintf(who, sizeof(who), "task %d", t->pid);
				return who;
			}
	}
	if (id && id <= ctx->nr_ns && ctx->ns[id - 1].who[0])
		return ctx->ns[id - 1].who; /* none in it: what holds it (a socket) */
	snprintf(who, sizeof(who), "namespace %u", id);
	return who;
}

static NsIdsEntry *ids_entry(const struct ns_ids *ids)
{
	NsIdsEntry *e = ANEW(NsIdsEntry);

	if (!e)
		return NULL;
	ns_ids_entry__init(e);
	e->n_id = NS_NR_SLOTS;
	e->id = arena_memdup(ids->id, sizeof(ids->id));
	return e->id ? e : NULL;
}

int ns_fill_pstree(const struct dump_ctx *ctx, const struct dump_task *t, PstreeEntry *e)
{
	if (!(e->ns = ids_entry(&t->ns[0])))
		return -ENOMEM;
	e->n_thread_ns = t->nr_threads;
	e->thread_ns = ANEW_ARRAY(NsIdsEntry *, t->nr_threads + 1);
	if (!e->thread_ns)
		return -ENOMEM;
	for (size_t k = 0; k < t->nr_threads; k++)
		if (!(e->thread_ns[k] = ids_entry(&t->ns[k + 1])))
			return -ENOMEM;
	return pidns_fill_pstree(ctx, t, e);
}

int ns_dump_add(struct dump_ctx *ctx, int nsfd, int kind, const char *who, uint32_t *ret_id)
{
	struct dump_ns *n;
	int r;

	if ((r = read_own()) < 0) {
		close(nsfd);
		return r;
	}
	if ((r = add_ns(ctx, nsfd, kind, who, &n)) < 0)
		return r;
	*ret_id = n->id;
	return 0;
}

void ns_dump_free(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		if (ctx->ns[i].fd >= 0)
			close(ctx->ns[i].fd);
		if (ctx->ns[i].diag >= 0)
			close(ctx->ns[i].diag);
	}
	free(ctx->ns);
	ctx->ns = NULL;
	ctx->nr_ns = 0;
}
