/*
 * proc mounts of the tree's own pid namespaces in a mount namespace that is
 * otherwise a copy of nestor's (mnt.c): a container mounting its own /proc.
 * Dump: a proc mount with no mount on it, whose pid 1 (its namespace's
 * init, whose active pid namespace is the proc's) is in a pid namespace of
 * the tree other than nestor's, is taken out of the tree mnt.c compares and
 * kept with its options; a proc of a pid namespace outside the tree, or of
 * one whose init is gone, is refused by name. Restore: once every task
 * exists and before any runs (the kind's restore_late, in a child of
 * nestor inside the mount namespace), a helper whose active pid namespace
 * is the proc's (a spare pid there) mounts each on top of what is there,
 * in the dumped order, then sets its flags and propagation; the result is
 * proven from mountinfo. The superblock's owner is the pid namespace's
 * user namespace whoever mounts it, so the helper stays in nestor's.
 */
#define LOG_PREFIX "mntns: "
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "ns/mnt-proc.h"
#include "ns/ns-priv.h"

/* ---- dump ---- */

/* The inode of PATH's pid namespace link as a child of nestor inside
 * mount namespace nsfd sees it; -errno of the stat. */
static int stat_in_ns(int nsfd, const char *point, uint64_t *ret_ino)
{
	int64_t res = -EIO;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return log_error_errno(-errno, "cannot make a pipe");
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return log_error_errno(-errno, "cannot fork");
	}
	if (pid == 0) {
		char path[4200];
		struct stat st;

		snprintf(path, sizeof(path), "%s/1/ns/pid", strcmp(point, "/") ? point : "");
		res = setns(nsfd, CLONE_NEWNS) ? -errno : stat(path, &st) ? -errno :
						      (int64_t)st.st_ino;
		_exit(write(p[1], &res, sizeof(res)) != sizeof(res));
	}
	close(p[1]);
	if (read(p[0], &res, sizeof(res)) != sizeof(res))
		res = -EIO;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (res < 0)
		return (int)res;
	*ret_ino = (uint64_t)res;
	return 0;
}

/* nestor's pid namespace, and the device of its /proc ("major:minor"). */
static int host_pidns_ino(uint64_t *ret, char *dev, size_t len)
{
	struct stat st, pr;

	if (stat("/proc/self/ns/pid", &st) || stat("/proc", &pr))
		return log_error_errno(-errno, "cannot stat nestor's pid namespace");
	*ret = st.st_ino;
	snprintf(dev, len, "%u:%u", major(pr.st_dev), minor(pr.st_dev));
	return 0;
}

static bool has_children(const struct mtree *t, size_t i)
{
	for (size_t k = 0; k < t->n; k++)
		if (k != i && t->m[k].parent == (int)i)
			return true;
	return false;
}

/* The model's pid namespace of inode ino, or 0. */
static uint32_t pidns_by_ino(const struct dump_ctx *ctx, uint64_t ino)
{
	for (size_t k = 0; k < ctx->nr_ns; k++)
		if (ctx->ns[k].kind == NSK_PID && ctx->ns[k].ino == ino)
			return ctx->ns[k].id;
	return 0;
}

static int refuse(const struct dump_ctx *ctx, uint32_t id, const struct mnt *m, const char *why,
		  unsigned long ino)
{
	return log_error_ret(-EOPNOTSUPP, "can't dump: mount namespace %lu of %s: proc at %s is "
					  "of pid namespace %lu, %s",
			     (unsigned long)ctx->ns[id - 1].ino, ns_who(ctx, id), m->point, ino, why);
}

/*
 * The proc superblocks seen, by device: a proc under another mount (a copy
 * of a container's /proc under a proc of its own, in a namespace copied
 * from the container's) cannot be reached by a path, but its superblock
 * was seen on top elsewhere (in a namespace collected earlier, or below).
 */
struct sb_seen {
	char dev[32];
	uint64_t ino; /* of its pid namespace */
};
static struct sb_seen *sbs;
static size_t nr_sbs;

static const struct sb_seen *sb_find(const char *dev)
{
	for (size_t k = 0; k < nr_sbs; k++)
		if (!strcmp(sbs[k].dev, dev))
			return &sbs[k];
	return NULL;
}

/* The pid namespace of the proc on top at m's point, kept by its device. */
static int learn(const struct dump_ctx *ctx, uint32_t id, int nsfd, const struct mnt *m,
		 uint64_t host, const char *host_dev)
{
	uint64_t ino = host;
	struct sb_seen *sb;
	int r = 0;

	if (sb_find(m->dev))
		return 0;
	/* nestor's own needs no look (its pid 1 may not let us read its links). */
	if (strcmp(m->dev, host_dev))
		r = stat_in_ns(nsfd, m->point, &ino);
	if (r == -ENOENT)
		return log_error_ret(-EOPNOTSUPP, "can't dump: mount namespace %lu of %s: proc at "
						  "%s is of a pid namespace with no init",
				     (unsigned long)ctx->ns[id - 1].ino, ns_who(ctx, id), m->point);
	if (r < 0)
		return log_error_errno(r, "cannot find the pid namespace of the proc at %s",
				       m->point);
	if (!(sb = array_add(&sbs, nr_sbs, sizeof(*sb))))
		return -ENOMEM;
	snprintf(sb->dev, sizeof(sb->dev), "%s", m->dev);
	sb->ino = ino;
	nr_sbs++;
	return 0;
}

/* Whether proc mount i (nothing left on it) is of a pid namespace of the tree. */
static int take_one(struct dump_ctx *ctx, uint32_t id, const struct mtree *t, size_t i,
		    uint64_t host, struct mprocs *ret, bool *ret_taken)
{
	const struct mnt *m = &t->m[i];
	const struct sb_seen *sb = sb_find(m->dev);
	uint32_t pidns;
	struct mproc *p;

	*ret_taken = false;
	if (!sb || sb->ino == host)
		return 0; /* nestor's own, or unknown: compared as any other mount */
	if (!(pidns = pidns_by_ino(ctx, sb->ino)))
		return refuse(ctx, id, m, "which is not one of the tree's", sb->ino);
	if (!pidns_has_init(ctx, pidns))
		return refuse(ctx, id, m, "whose init is not in the dump", sb->ino);
	if (!(p = array_add(&ret->p, ret->n, sizeof(*p))))
		return -ENOMEM;
	p->m = *m;
	p->pidns = pidns;
	ret->n++;
	*ret_taken = true;
	return 0;
}

static bool is_proc(const struct mtree *t, size_t i)
{
	return !strcmp(t->m[i].fstype, "proc") && t->m[i].parent != (int)i;
}

static int by_order(const void *a, const void *b)
{
	const struct mproc *x = a, *y = b;

	return (x->order > y->order) - (x->order < y->order);
}

int mntproc_collect(struct dump_ctx *ctx, uint32_t id, int nsfd, struct mtree *t,
		    struct mprocs *ret)
{
	_cleanup_free_ size_t *order = calloc(t->n ? t->n : 1, sizeof(*order));
	uint64_t host = 0;
	char host_dev[32];
	int r;

	if (!order)
		return -ENOMEM;
	if ((r = host_pidns_ino(&host, host_dev, sizeof(host_dev))) < 0)
		return r;
	for (size_t i = 0; i < t->n; i++) {
		order[i] = i;
		if (is_proc(t, i) && !has_children(t, i) &&
		    (r = learn(ctx, id, nsfd, &t->m[i], host, host_dev)) < 0)
			return r;
	}
	/* Children before parents: a proc under a proc of the tree's goes too. */
	for (size_t i = t->n; i-- > 0;) {
		bool taken = false;

		if (!is_proc(t, i) || has_children(t, i))
			continue;
		if ((r = take_one(ctx, id, t, i, host, ret, &taken)) < 0)
			return r;
		if (!taken)
			continue;
		ret->p[ret->n - 1].order = order[i];
		mnt_drop(t, i);
		memmove(&order[i], &order[i + 1], (t->n - i) * sizeof(*order));
	}
	qsort(ret->p, ret->n, sizeof(*ret->p), by_order);
	return 0;
}

int mntproc_fill(const struct mprocs *p, MntnsEntry *e)
{
	e->n_procs = p->n;
	if (!p->n)
		return 0;
	if (!(e->procs = ANEW_ARRAY(ProcMount *, p->n)))
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		const struct mnt *m = &p->p[i].m;
		ProcMount *pm = ANEW(ProcMount);

		if (!pm)
			return -ENOMEM;
		proc_mount__init(pm);
		pm->pidns = p->p[i].pidns;
		pm->point = m->point;
		pm->opts = m->opts;
		pm->source = m->source;
		pm->super_opts = m->sopts;
		pm->has_shared = pm->shared = m->shared != 0;
		pm->has_unbindable = pm->unbindable = m->unbindable;
		pm->has_peer = pm->peer = p->p[i].peer;
		pm->has_master = pm->master = m->master != 0;
		e->procs[i] = pm;
	}
	return 0;
}

/* ---- restore ---- */

int mntproc_validate(struct restore_ctx *ctx, uint32_t id, const MntnsEntry *e)
{
	for (size_t k = 0; k < e->n_procs; k++) {
		const ProcMount *p = e->procs[k];
		const NsEntry *n = p->pidns && p->pidns <= ctx->nr_ns ? ns_entry(ctx, p->pidns) : NULL;

		if (!n || strcmp(n->kind, "pid") || n->host || p->point[0] != '/' ||
		    (p->shared && (p->unbindable || p->master)) || (p->peer && !p->shared))
			return log_error_ret(-EINVAL, "image mntns-%u.img is corrupted: proc %zu",
					     id, k);
	}
	return 0;
}

/* Per-mount options as mountinfo shows them, as mount flags. */
static unsigned long mount_flags(const char *opts)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} known[] = { { "ro", MS_RDONLY },	   { "nosuid", MS_NOSUID },
		      { "nodev", MS_NODEV },	   { "noexec", MS_NOEXEC },
		      { "noatime", MS_NOATIME }, { "nodiratime", MS_NODIRATIME },
		      { "relatime", MS_RELATIME } };
	unsigned long f = 0;
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", opts);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save))
		for (size_t k = 0; k < ARRAY_SIZE(known); k++)
			if (!strcmp(w, known[k].name))
				f |= known[k].flag;
	if (!(f & (MS_NOATIME | MS_RELATIME)))
		f |= MS_STRICTATIME;
	return f;
}

/* In a helper whose active pid namespace is the proc's. */
static int mount_one(const ProcMount *p)
{
	unsigned long mf = mount_flags(p->opts);
	bool sb_ro = !strncmp(p->super_opts, "ro", 2) && (!p->super_opts[2] || p->super_opts[2] == ',');
	const char *data = p->super_opts;

	/* The superblock's own ro or rw leads; the rest are proc's options. */
	if (!strncmp(data, "rw", 2) || !strncmp(data, "ro", 2))
		data += data[2] == ',' ? 3 : 2;
	if (mount(p->source, p->point, "proc", (mf & ~MS_RDONLY) | (sb_ro ? MS_RDONLY : 0),
		  *data ? data : NULL))
		return log_error_errno(-errno, "cannot mount proc at %s (%s)", p->point,
				       p->super_opts);
	if (!!(mf & MS_RDONLY) != sb_ro &&
	    mount(NULL, p->point, NULL, MS_REMOUNT | MS_BIND | mf, NULL))
		return log_error_errno(-errno, "cannot set the flags of the proc at %s", p->point);
	return 0;
}

static int mount_in_pidns(struct restore_ctx *ctx, const ProcMount *p)
{
	struct clone_args ca = { .exit_signal = SIGCHLD };
	int status;
	pid_t pid = pidns_clone_spare(ctx, p->pidns, 0, &ca);

	if (pid == 0)
		_exit(mount_one(p) < 0);
	if (pid < 0)
		return log_error_errno(-errno, "cannot fork a helper into pid namespace %u",
				       p->pidns);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return log_error_ret(-EIO, "the proc at %s could not be mounted", p->point);
	return 0;
}

/* The mount on top at point (the last of the tree's order there). */
static const struct mnt *top_at(const struct mtree *t, const char *point)
{
	const struct mnt *top = NULL;

	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->m[i].point, point))
			top = &t->m[i];
	return top;
}

/* The namespace's mounts now, through nestor's /proc (ours may be another). */
static int read_now(struct restore_ctx *ctx, uint32_t id, struct mtree *ret)
{
	int r = read_file_at(ctx->proc_fd, "self/mountinfo", &ret->buf, 8u << 20);

	if (r < 0)
		return log_error_errno(r, "cannot read the mounts of mount namespace %u", id);
	return mnt_parse(ret->buf, ret) < 0 ? log_error_ret(-EINVAL, "cannot parse mountinfo") : 0;
}

static bool same_proc(const struct mnt *m, const ProcMount *p)
{
	return m && !strcmp(m->fstype, "proc") && !strcmp(m->opts, p->opts) &&
	       !strcmp(m->sopts, p->super_opts) && !strcmp(m->source, p->source);
}

static bool same_prop(const struct mnt *m, const ProcMount *p)
{
	return !!m->shared == p->shared && !!m->master == p->master &&
	       m->unbindable == p->unbindable;
}

static int set_prop(const char *point, unsigned long flag)
{
	if (mount(NULL, point, NULL, flag, NULL))
		return log_error_errno(-errno, "cannot set the propagation of the proc at %s", point);
	return 0;
}

/*
 * The proc's propagation from its state now: mounted here (a mount on a
 * shared mount is shared, its copies went to the peers and slaves of that
 * mount) or come by propagation from an earlier namespace's mount.
 */
static int propagate(const struct mnt *now, bool came, const ProcMount *p)
{
	int r = 0;

	if ((p->peer || p->master) && !came)
		return log_error_ret(-EIO, "the proc at %s did not come by propagation", p->point);
	if (p->peer && !now->shared)
		return log_error_ret(-EIO, "the proc at %s came as no peer", p->point);
	if (p->master && !now->master && !now->shared)
		return log_error_ret(-EIO, "the proc at %s came as no slave", p->point);
	if (!p->shared && !p->master && (now->shared || now->master))
		r = set_prop(p->point, MS_PRIVATE);
	else if (p->shared && !p->peer && (came || !now->shared))
		r = (now->shared || now->master ? set_prop(p->point, MS_PRIVATE) : 0) ?:
			set_prop(p->point, MS_SHARED);
	else if (p->master && now->shared)
		r = set_prop(p->point, MS_SLAVE);
	if (r == 0 && p->unbindable)
		r = set_prop(p->point, MS_UNBINDABLE);
	return r;
}

static int make_one(struct restore_ctx *ctx, uint32_t id, const MntnsEntry *e, size_t k)
{
	_cleanup_(mnt_tree_free) struct mtree now = { 0 }, after = { 0 };
	const ProcMount *p = e->procs[k];
	bool came;
	int r;

	if ((r = read_now(ctx, id, &now)) < 0)
		return r;
	came = now.n > e->n_mounts + k;
	if (came && !same_proc(top_at(&now, p->point), p))
		return log_error_ret(-EIO, "mount namespace %u: a mount other than its proc came "
					   "at %s", id, p->point);
	if (!came && (r = mount_in_pidns(ctx, p)) < 0)
		return r;
	if ((r = read_now(ctx, id, &after)) < 0)
		return r;
	if (!same_proc(top_at(&after, p->point), p))
		return log_error_ret(-EIO, "mount namespace %u: the proc at %s came back with "
					   "other options", id, p->point);
	return propagate(top_at(&after, p->point), came, p);
}

static int prove(struct restore_ctx *ctx, uint32_t id, const MntnsEntry *e)
{
	_cleanup_(mnt_tree_free) struct mtree now = { 0 };
	int r = read_now(ctx, id, &now);

	if (r < 0)
		return r;
	if (now.n != e->n_mounts + e->n_procs)
		return log_error_ret(-EIO, "mount namespace %u: %zu mounts, not %zu", id, now.n,
				     e->n_mounts + e->n_procs);
	for (size_t k = 0; k < e->n_procs; k++) {
		const ProcMount *p = e->procs[k];
		const struct mnt *m = top_at(&now, p->point);
		bool covered = false;

		/* A later one at the same point is on top: it is proven instead. */
		for (size_t j = k + 1; j < e->n_procs; j++)
			covered |= !strcmp(e->procs[j]->point, p->point);
		if (!covered && !(same_proc(m, p) && same_prop(m, p)))
			return log_error_ret(-EIO, "mount namespace %u: the proc at %s came back "
						   "%s %s %s%s%s, not %s %s%s%s", id, p->point,
					     m->fstype, m->opts, m->sopts, m->shared ? " shared" : "",
					     m->master ? " slave" : "", p->opts, p->super_opts,
					     p->shared ? " shared" : "", p->master ? " slave" : "");
	}
	return 0;
}

/*
 * In a child of nestor inside mount namespace id, every task made. The
 * kernel lets a proc be mounted in a mount namespace that an inner user
 * namespace owns only where a proc is fully visible already
 * (mount_too_revealing): the copy's is the machine's, under these.
 */
int mntproc_restore(struct restore_ctx *ctx, uint32_t id, const MntnsEntry *e)
{
	int r;

	if (!e->n_procs)
		return 0;
	if (ctx->proc_fd < 0)
		return log_error_ret(-EIO, "nestor's /proc is not held");
	for (size_t k = 0; k < e->n_procs; k++)
		if ((r = make_one(ctx, id, e, k)) < 0)
			return r;
	return prove(ctx, id, e);
}

int mntproc_check(struct restore_ctx *ctx, uint32_t id, const MntnsEntry *e)
{
	return ctx->proc_fd < 0 ? 0 : prove(ctx, id, e);
}
