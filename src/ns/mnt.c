/*
 * Mount namespaces, a kind of the namespace model (ns.c), in the one case
 * nestor makes yet: a copy of nestor's own. Dump: the namespace's
 * mountinfo (read by a child of nestor inside it) must list the same
 * mounts as nestor's, in the same order and tree (root, mount point,
 * fstype, source, per-mount and super options; mount ids and peer group
 * numbers aside); only propagation may differ. Each mount's propagation is
 * kept, with its peer groups: a group shared with nestor's mount of the
 * same place, or with a namespace of the tree made earlier (then the
 * namespace is made a copy of that one: its source), or one of its own.
 * Anything else is refused by name. Restore: the maker, inside the source
 * namespace and the owner user namespace, unshares CLONE_NEWNS and sets
 * each mount's propagation as dumped, then proves it from its mountinfo.
 * proc mounts of the tree's own pid namespaces (a container's /proc) are
 * taken out of the comparison and made at the end of the restore
 * (mnt-proc.c). Full mount trees (mounts of their own, pivot_root) are
 * the next issue.
 */
#define LOG_PREFIX "mntns: "
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "ns/mnt.h"
#include "ns/mnt-proc.h"
#include "ns/ns-priv.h"

#define MAX_MOUNTINFO (8u << 20)

/* ---- pure parts: mountinfo, comparison, propagation plan ---- */

/* Undoes mountinfo's octal escapes (\040 for a space...) in place. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = 0;
}

/* The optional fields between the options and " - ". */
static void parse_tags(char *tags, struct mnt *m)
{
	char *save = NULL;

	for (char *w = strtok_r(tags, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!strncmp(w, "shared:", 7))
			m->shared = strtoul(w + 7, NULL, 10);
		else if (!strncmp(w, "master:", 7))
			m->master = strtoul(w + 7, NULL, 10);
		else if (!strcmp(w, "unbindable"))
			m->unbindable = true;
	}
}

static int parse_line(char *l, struct mnt *m)
{
	char *f[6], *save = NULL, *dash = strstr(l, " - "), *rest;

	if (!dash)
		return -EINVAL;
	*dash = 0;
	rest = dash + 3;
	for (int i = 0; i < 6; i++)
		if (!(f[i] = strtok_r(i ? NULL : l, " ", &save)))
			return -EINVAL;
	*m = (struct mnt){ .id = strtoul(f[0], NULL, 10), .pid = strtoul(f[1], NULL, 10),
			   .dev = f[2], .root = f[3], .point = f[4], .opts = f[5] };
	parse_tags(save ? save : (char *)"", m);
	save = NULL;
	if (!(m->fstype = strtok_r(rest, " ", &save)) || !(m->source = strtok_r(NULL, " ", &save)))
		return -EINVAL;
	m->sopts = strtok_r(NULL, " ", &save);
	if (!m->sopts)
		m->sopts = (char *)"";
	unescape(m->root);
	unescape(m->point);
	unescape(m->source);
	return 0;
}

static const struct mtree *sort_tree;

/* Children in the order of their mount points (then as listed). */
static int by_point(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(sort_tree->m[x].point, sort_tree->m[y].point);

	return c ? c : (x > y) - (x < y);
}

/* Appends mount i and what is mounted below it, children by mount point. */
static int walk(const struct mtree *t, size_t i, int parent, struct mnt *out, size_t *n,
		int depth)
{
	_cleanup_free_ size_t *kids = NULL;
	size_t nk = 0;
	int me = (int)*n, r;

	out[*n] = t->m[i];
	out[(*n)++].parent = parent < 0 ? me : parent;
	if (depth > 4096)
		return -EINVAL;
	for (size_t k = 0; k < t->n; k++)
		if (k != i && t->m[k].parent == (int)i) {
			size_t *nkids = array_add(&kids, nk, sizeof(*kids));

			if (!nkids)
				return -ENOMEM;
			kids[nk++] = k;
		}
	sort_tree = t;
	qsort(kids, nk, sizeof(*kids), by_point);
	for (size_t k = 0; k < nk; k++)
		if ((r = walk(t, kids[k], me, out, n, depth + 1)) < 0)
			return r;
	return 0;
}

/*
 * A copy lists its mounts walking the tree, the original in the order
 * they were made, or moved: both are put in one order, parents first and
 * siblings by mount point, so that the same tree reads the same.
 */
static int preorder(struct mtree *t)
{
	struct mnt *out = calloc(t->n ? t->n : 1, sizeof(*out));
	size_t n = 0;
	int r = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < t->n && r == 0; i++)
		if (t->m[i].parent == (int)i)
			r = walk(t, i, -1, out, &n, 0);
	if (r < 0 || n != t->n) { /* a loop of parents: not a tree */
		free(out);
		return r < 0 ? r : -EINVAL;
	}
	free(t->m);
	t->m = out;
	return 0;
}

int mnt_parse(char *text, struct mtree *t)
{
	char *save = NULL;

	t->n = 0;
	t->m = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct mnt *m = array_add(&t->m, t->n, sizeof(*m));

		if (!m)
			return -ENOMEM;
		if (parse_line(l, m) < 0)
			return -EINVAL;
		t->n++;
	}
	for (size_t i = 0; i < t->n; i++) {
		t->m[i].parent = (int)i; /* the root, unless its parent is listed */
		for (size_t k = 0; k < t->n; k++)
			if (k != i && t->m[k].id == t->m[i].pid)
				t->m[i].parent = (int)k;
	}
	return preorder(t);
}

void mnt_drop(struct mtree *t, size_t i)
{
	memmove(&t->m[i], &t->m[i + 1], (t->n - i - 1) * sizeof(*t->m));
	t->n--;
	for (size_t k = 0; k < t->n; k++)
		if (t->m[k].parent > (int)i)
			t->m[k].parent--;
}

void mnt_tree_free(struct mtree *t)
{
	free(t->m);
	free(t->buf);
	*t = (struct mtree){ 0 };
}

static bool same_mount(const struct mnt *a, const struct mnt *b)
{
	return a->parent == b->parent && !strcmp(a->root, b->root) &&
	       !strcmp(a->point, b->point) && !strcmp(a->opts, b->opts) &&
	       !strcmp(a->fstype, b->fstype) && !strcmp(a->source, b->source) &&
	       !strcmp(a->sopts, b->sopts);
}

int mnt_compare(const struct mtree *t, const struct mtree *own, bool *ret_extra)
{
	size_t n = MIN(t->n, own->n);

	for (size_t i = 0; i < n; i++)
		if (!same_mount(&t->m[i], &own->m[i])) {
			*ret_extra = true;
			return (int)i;
		}
	if (t->n == own->n)
		return -1;
	*ret_extra = t->n > own->n;
	return (int)n;
}

int mnt_plan(uint32_t cs, uint32_t cm, uint32_t ws, uint32_t wm, bool wu, unsigned *ret_ops)
{
	uint32_t s = cs, m = cm;
	unsigned ops = 0;

	if (wu && ws)
		return -EINVAL; /* the kernel never shows both */
	if (wm && m != wm) {
		if (s != wm)
			return -EINVAL;
		ops |= MNT_OP_SLAVE; /* a copy is a peer of its original: slave of that group */
		m = s;
		s = 0;
	} else if (!wm && m) {
		ops |= MNT_OP_PRIVATE;
		s = m = 0;
	}
	if (ws == MNT_GROUP_NEW) {
		if (s && m)
			return -EINVAL; /* leaving the peers would change its master */
		if (s)
			ops |= MNT_OP_PRIVATE;
		ops |= MNT_OP_SHARED;
	} else if (ws != s) {
		if (ws || m)
			return -EINVAL;
		ops |= MNT_OP_PRIVATE;
	}
	if (wu)
		ops |= MNT_OP_UNBINDABLE;
	*ret_ops = ops;
	return 0;
}

/* A map of peer group numbers, the dump's to another's (0: none there). */
struct gmap {
	uint32_t from[256], to[256];
	size_t n;
};

static int gmap_find(const struct gmap *g, uint32_t from)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->from[i] == from)
			return (int)i;
	return -1;
}

/* A pair; -EINVAL when it contradicts one the map has. */
static int gmap_put(struct gmap *g, uint32_t from, uint32_t to)
{
	int i = gmap_find(g, from);

	if (!from)
		return 0;
	if (i >= 0)
		return g->to[i] == to ? 0 : -EINVAL;
	for (size_t k = 0; to && k < g->n; k++)
		if (g->to[k] == to)
			return -EINVAL;
	if (g->n == ARRAY_SIZE(g->from))
		return -E2BIG;
	g->from[g->n] = from;
	g->to[g->n++] = to;
	return 0;
}

static const char *prop_name(uint32_t shared, uint32_t master, bool unbindable, char *buf,
			     size_t len)
{
	if (unbindable)
		snprintf(buf, len, "unbindable%s", master ? " slave" : "");
	else if (shared && master)
		snprintf(buf, len, "shared:%u master:%u", shared, master);
	else if (shared || master)
		snprintf(buf, len, "%s:%u", shared ? "shared" : "master", shared ? shared : master);
	else
		snprintf(buf, len, "private");
	return buf;
}

/* ---- dump ---- */

/* The namespaces of the tree seen so far, for the ones copied from them. */
struct seen {
	uint32_t id;
	uint32_t owner;
	uint32_t source;
	struct mtree t;
	struct mprocs procs; /* its proc mounts of the tree's pid namespaces, out of t */
};
static struct seen *seen;
static size_t nr_seen;
static struct mtree own_tree;

/* mountinfo as nestor (nsfd -1) or a child of nestor inside nsfd reads it. */
static int read_mountinfo(int nsfd, struct mtree *ret)
{
	int r = nsfd < 0 ? read_file_at(AT_FDCWD, "/proc/self/mountinfo", &ret->buf, MAX_MOUNTINFO) :
			   ns_read_file(nsfd, CLONE_NEWNS, "/proc/self/mountinfo", &ret->buf);

	if (r < 0)
		return log_error_errno(r, "cannot read the mounts of %s",
				       nsfd < 0 ? "nestor" : "a mount namespace");
	return mnt_parse(ret->buf, ret) < 0 ? log_error_ret(-EINVAL, "cannot parse mountinfo") : 0;
}

static bool tree_has_group(const struct mtree *t, uint32_t g)
{
	for (size_t i = 0; g && i < t->n; i++)
		if (t->m[i].shared == g || t->m[i].master == g)
			return true;
	return false;
}

static bool procs_have_group(const struct mprocs *p, uint32_t g)
{
	for (size_t i = 0; g && i < p->n; i++)
		if (p->p[i].m.shared == g)
			return true;
	return false;
}

static bool earlier_has_group(uint32_t g)
{
	for (size_t k = 0; k < nr_seen; k++)
		if (tree_has_group(&seen[k].t, g) || procs_have_group(&seen[k].procs, g))
			return true;
	return tree_has_group(&own_tree, g);
}

/*
 * Whether t can be made a copy of src (owned by src_owner) with its
 * propagation; the index of the first mount that cannot, or -1.
 */
static int plan_from(const struct mtree *t, uint32_t owner, const struct mtree *src,
		     uint32_t src_owner)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct mnt *m = &t->m[i], *o = &src->m[i];
		/* A copy into another user namespace has its shared mounts as slaves. */
		uint32_t cs = owner == src_owner ? o->shared : 0;
		uint32_t cm = owner == src_owner ? o->master : (o->shared ? o->shared : o->master);
		uint32_t ws = m->shared, wm = m->master;
		unsigned ops;

		if (ws && !tree_has_group(src, ws)) {
			if (earlier_has_group(ws))
				return (int)i;
			for (size_t k = 0; k < i; k++)
				if (t->m[k].shared == ws)
					return (int)i; /* two of its own mounts in one new group */
			ws = MNT_GROUP_NEW;
		}
		if (wm && !tree_has_group(src, wm))
			return (int)i;
		if (mnt_plan(cs, cm, ws, wm, m->unbindable, &ops) < 0)
			return (int)i;
	}
	return -1;
}

static int refuse_tree(const struct dump_ctx *ctx, uint32_t id, const struct mtree *t, int i,
		       bool extra)
{
	const struct mnt *m = extra ? &t->m[i] : &own_tree.m[i];

	return log_error_ret(-EOPNOTSUPP, "can't dump: mount namespace %lu of %s: %s%s (%s) is "
					  "%s: mounts of their own come with the mount-namespace "
					  "issue", (unsigned long)ctx->ns[id - 1].ino, ns_who(ctx, id),
			     extra ? "" : "nestor's ", m->point, m->fstype,
			     extra ? "not in nestor's" : "not in it");
}

static bool earlier_procs_have_group(uint32_t g)
{
	for (size_t k = 0; k < nr_seen; k++)
		if (procs_have_group(&seen[k].procs, g))
			return true;
	return false;
}

/* Why proc mount i's propagation cannot be made again, or NULL. */
static const char *proc_prop(const struct seen *s, size_t i, const struct mtree *before)
{
	struct mproc *p = &s->procs.p[i];
	const struct mnt *m = &p->m, *under = &before->m[m->parent];
	uint32_t g = m->shared;

	/* Our mount there would propagate to nestor's own namespace. */
	if (under->shared && tree_has_group(&own_tree, under->shared))
		return "on a mount shared with nestor's namespace";
	if (g && m->master)
		return "shared and a slave";
	if (m->master && !earlier_procs_have_group(m->master))
		return "the slave of a peer group that no proc of an earlier namespace is in";
	for (size_t k = 0; g && k < i; k++)
		if (s->procs.p[k].m.shared == g)
			return "in a peer group with another proc of its namespace";
	if (g && (tree_has_group(&s->t, g) || tree_has_group(&own_tree, g)))
		return "in a peer group with mounts other than procs";
	p->peer = g && earlier_procs_have_group(g);
	if (!p->peer && g && earlier_has_group(g))
		return "in a peer group with mounts other than procs";
	return NULL;
}

/* Each proc mount's propagation comes again by its own mount or by propagation. */
static int procs_groups(const struct dump_ctx *ctx, uint32_t id, const struct seen *s,
			const struct mtree *before)
{
	for (size_t i = 0; i < s->procs.n; i++) {
		const char *why = proc_prop(s, i, before);

		if (why)
			return log_error_ret(-EOPNOTSUPP, "can't dump: mount namespace %lu of %s: "
							  "the proc at %s is %s (not supported)",
					     (unsigned long)ctx->ns[id - 1].ino, ns_who(ctx, id),
					     s->procs.p[i].m.point, why);
	}
	return 0;
}

static int mnt_collect(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	struct mtree before = { 0 };
	uint32_t owner = ctx->ns[id - 1].owner;
	struct seen *s;
	bool extra;
	char p[64];
	int r, i, first;

	if (!own_tree.buf && (r = read_mountinfo(-1, &own_tree)) < 0)
		return r;
	if (!(s = array_add(&seen, nr_seen, sizeof(*s))))
		return -ENOMEM;
	*s = (struct seen){ .id = id, .owner = owner };
	if ((r = read_mountinfo(nsfd, &s->t)) < 0)
		return r;
	/* The tree as read: the mounts under the procs taken out of it. */
	before.n = s->t.n;
	if (!(before.m = malloc((s->t.n ? s->t.n : 1) * sizeof(*before.m))))
		return -ENOMEM;
	memcpy(before.m, s->t.m, s->t.n * sizeof(*before.m));
	r = mntproc_collect(ctx, id, nsfd, &s->t, &s->procs);
	if (r == 0)
		r = procs_groups(ctx, id, s, &before);
	free(before.m);
	if (r < 0)
		return r;
	if ((i = mnt_compare(&s->t, &own_tree, &extra)) >= 0)
		return refuse_tree(ctx, id, &s->t, i, extra);
	if ((first = plan_from(&s->t, owner, &own_tree, 0)) < 0)
		goto found;
	for (size_t k = 0; k < nr_seen; k++)
		if (plan_from(&s->t, owner, &seen[k].t, seen[k].owner) < 0) {
			s->source = seen[k].id;
			goto found;
		}
	return log_error_ret(-EOPNOTSUPP, "can't dump: mount namespace %lu of %s: %s (%s) is %s, "
					  "which no copy of nestor's or of another mount namespace "
					  "of the tree can be made (not supported yet)",
			     (unsigned long)ctx->ns[id - 1].ino, ns_who(ctx, id),
			     s->t.m[first].point, s->t.m[first].fstype,
			     prop_name(s->t.m[first].shared, s->t.m[first].master,
				       s->t.m[first].unbindable, p, sizeof(p)));
found:
	nr_seen++;
	pr_debug("mount namespace %u: %zu mounts, a copy of %u", id, s->t.n, s->source);
	return 0;
}

static int mnt_dump(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	MntnsEntry e = MNTNS_ENTRY__INIT;
	const struct seen *s = NULL;
	int r;

	for (size_t k = 0; k < nr_seen; k++)
		if (seen[k].id == id)
			s = &seen[k];
	if (!s)
		return log_error_ret(-EINVAL, "mount namespace %u was not collected", id);
	e.has_source = s->source != 0;
	e.source = s->source;
	e.n_mounts = s->t.n;
	if (!(e.mounts = ANEW_ARRAY(MntEntry *, s->t.n)))
		return -ENOMEM;
	for (size_t i = 0; i < s->t.n; i++) {
		const struct mnt *m = &s->t.m[i], *o = &own_tree.m[i];
		MntEntry *me = ANEW(MntEntry);

		if (!me)
			return -ENOMEM;
		mnt_entry__init(me);
		*me = (MntEntry){ .base = me->base, .parent = m->parent, .root = m->root,
				  .point = m->point, .opts = m->opts, .fstype = m->fstype,
				  .source = m->source, .super_opts = m->sopts,
				  .has_shared = m->shared != 0, .shared = m->shared,
				  .has_master = m->master != 0, .master = m->master,
				  .has_unbindable = m->unbindable, .unbindable = m->unbindable,
				  .has_host_shared = o->shared != 0, .host_shared = o->shared,
				  .has_host_master = o->master != 0, .host_master = o->master };
		e.mounts[i] = me;
	}
	if ((r = mntproc_fill(&s->procs, &e)) < 0)
		return r;
	return img_write_one(ctx->dirfd, IMG_MNTNS, id, &e);
}

/* ---- restore ---- */

/* The saved mounts as a tree, for the comparison with nestor's. */
static int saved_tree(const MntnsEntry *e, struct mtree *ret)
{
	if (!(ret->m = calloc(e->n_mounts ? e->n_mounts : 1, sizeof(*ret->m))))
		return -ENOMEM;
	ret->n = e->n_mounts;
	for (size_t i = 0; i < e->n_mounts; i++) {
		const MntEntry *me = e->mounts[i];

		ret->m[i] = (struct mnt){ .parent = (int)me->parent, .root = me->root,
					  .point = me->point, .opts = me->opts,
					  .fstype = me->fstype, .source = me->source,
					  .sopts = me->super_opts, .shared = me->shared,
					  .master = me->master, .unbindable = me->unbindable };
	}
	return 0;
}

static int mnt_validate(struct restore_ctx *ctx, uint32_t id)
{
	_cleanup_(mnt_tree_free) struct mtree own = { 0 }, t = { 0 };
	MntnsEntry *e;
	bool extra;
	int r = img_read_one(ctx->dirfd, IMG_MNTNS, id, (void **)&e), i;

	if (r < 0)
		return r;
	*ns_priv(ctx, id) = e;
	if (e->source && (e->source >= id || !ns_entry(ctx, e->source) ||
			  strcmp(ns_entry(ctx, e->source)->kind, "mnt") ||
			  ns_entry(ctx, e->source)->host))
		return log_error_ret(-EINVAL, "image mntns-%u.img is corrupted: its source", id);
	for (size_t k = 0; k < e->n_mounts; k++)
		if (e->mounts[k]->parent >= e->n_mounts ||
		    (e->mounts[k]->unbindable && e->mounts[k]->shared))
			return log_error_ret(-EINVAL, "image mntns-%u.img is corrupted: mount %zu",
					     id, k);
	if ((r = mntproc_validate(ctx, id, e)) < 0 || (r = read_mountinfo(-1, &own)) < 0 ||
	    (r = saved_tree(e, &t)) < 0)
		return r;
	if ((i = mnt_compare(&t, &own, &extra)) >= 0)
		return log_error_ret(-EOPNOTSUPP, "can't restore: mount namespace %u: %s%s (%s) "
						  "is %s (a copy of nestor's mounts is all nestor "
						  "makes yet)", id, extra ? "" : "nestor's ",
				     extra ? t.m[i].point : own.m[i].point,
				     extra ? t.m[i].fstype : own.m[i].fstype,
				     extra ? "not in nestor's" : "not in it");
	return 0;
}

/* In the maker: the source's mounts as they are now, read before the unshare. */
static struct mtree source_now;

static int mnt_pre_owner(struct restore_ctx *ctx, uint32_t id)
{
	const MntnsEntry *e = *ns_priv(ctx, id);

	if (e->source && setns(ns_fd(ctx, e->source), CLONE_NEWNS))
		return log_error_errno(-errno, "cannot enter mount namespace %u to copy it", e->source);
	return read_mountinfo(-1, &source_now);
}

/* The source's groups, the dump's numbers to today's. */
static int source_map(struct restore_ctx *ctx, const MntnsEntry *e, struct gmap *g)
{
	const MntnsEntry *src = e->source ? *ns_priv(ctx, e->source) : NULL;

	if (source_now.n != e->n_mounts)
		return log_error_ret(-EINVAL, "the mounts to copy changed since the validation");
	for (size_t i = 0; i < e->n_mounts; i++) {
		uint32_t s = src ? src->mounts[i]->shared : e->mounts[i]->host_shared;
		uint32_t m = src ? src->mounts[i]->master : e->mounts[i]->host_master;

		if (gmap_put(g, s, source_now.m[i].shared) < 0 ||
		    gmap_put(g, m, source_now.m[i].master) < 0)
			return log_error_ret(-EOPNOTSUPP, "can't restore: the peer groups of the "
							  "mounts to copy are not as at the dump "
							  "(at %s)", e->mounts[i]->point);
	}
	return 0;
}

/* The wanted state of mount i in today's numbers; -EINVAL where none can be. */
static int wanted(const struct gmap *g, const MntEntry *me, uint32_t *ws, uint32_t *wm)
{
	int k;

	*ws = *wm = 0;
	if (me->shared) {
		k = gmap_find(g, me->shared);
		if (k >= 0 && !g->to[k])
			return -EINVAL;
		*ws = k >= 0 ? g->to[k] : MNT_GROUP_NEW;
	}
	if (me->master) {
		k = gmap_find(g, me->master);
		if (k < 0 || !g->to[k])
			return -EINVAL;
		*wm = g->to[k];
	}
	return 0;
}

static bool covered(const struct mtree *t, size_t i)
{
	for (size_t k = 0; k < t->n; k++)
		if (k != i && t->m[k].parent == (int)i && !strcmp(t->m[k].point, t->m[i].point))
			return true;
	return false;
}

static int apply(const char *point, unsigned ops, unsigned long rec)
{
	static const struct {
		unsigned op;
		unsigned long flag;
	} seq[] = { { MNT_OP_PRIVATE, MS_PRIVATE }, { MNT_OP_SLAVE, MS_SLAVE },
		    { MNT_OP_SHARED, MS_SHARED }, { MNT_OP_UNBINDABLE, MS_UNBINDABLE } };

	for (size_t k = 0; k < ARRAY_SIZE(seq); k++)
		if ((ops & seq[k].op) && mount(NULL, point, NULL, seq[k].flag | rec, NULL))
			return log_error_errno(-errno, "cannot set the propagation of %s", point);
	return 0;
}

/* What mount i of the copy needs, in its state now. */
static int plan_one(const struct gmap *g, const MntnsEntry *e, const struct mtree *copy,
		    size_t i, uint32_t id, unsigned *ops)
{
	uint32_t ws, wm;

	if (wanted(g, e->mounts[i], &ws, &wm) < 0 ||
	    mnt_plan(copy->m[i].shared, copy->m[i].master, ws, wm, e->mounts[i]->unbindable,
		     ops) < 0)
		return log_error_ret(-EOPNOTSUPP, "can't restore: mount namespace %u: the "
						  "propagation of %s cannot be made here", id,
				     e->mounts[i]->point);
	return 0;
}

/*
 * A mount under another at the same place has no path: its operations go,
 * recursive, to its nearest ancestor that has one (the mounts between and
 * below get the same, each from its own state); those with a path are set
 * one by one afterwards.
 */
static int set_covered(const struct gmap *g, const MntnsEntry *e, struct mtree *copy,
		       uint32_t id)
{
	for (size_t i = 0; i < copy->n; i++) {
		unsigned ops;
		size_t a = i;
		int r;

		if (!covered(copy, i))
			continue;
		if ((r = plan_one(g, e, copy, i, id, &ops)) < 0)
			return r;
		if (!ops)
			continue;
		while (covered(copy, a) && copy->m[a].parent != (int)a)
			a = copy->m[a].parent;
		if (covered(copy, a))
			return log_error_ret(-EOPNOTSUPP, "can't restore: the propagation of %s, "
							  "under another mount, cannot be set",
					     copy->m[i].point);
		if ((r = apply(copy->m[a].point, ops, MS_REC)) < 0)
			return r;
		mnt_tree_free(copy);
		if ((r = read_mountinfo(-1, copy)) < 0)
			return r;
		if (copy->n != e->n_mounts)
			return log_error_ret(-EIO, "mount namespace %u: the copy changed", id);
	}
	return 0;
}

/* The copy as it is now against what was dumped; new groups are learnt. */
static int prove(const MntnsEntry *e, struct gmap *g, uint32_t id)
{
	_cleanup_(mnt_tree_free) struct mtree now = { 0 };
	int r = read_mountinfo(-1, &now);

	if (r < 0)
		return r;
	if (now.n != e->n_mounts)
		return log_error_ret(-EIO, "mount namespace %u: the copy has %zu mounts, not %zu", id,
				     now.n, e->n_mounts);
	for (size_t i = 0; i < now.n; i++) {
		const MntEntry *me = e->mounts[i];
		const struct mnt *m = &now.m[i];
		int k = gmap_find(g, me->master);

		if ((me->shared ? gmap_put(g, me->shared, m->shared) < 0 || !m->shared : m->shared) ||
		    (me->master ? k < 0 || g->to[k] != m->master : m->master != 0) ||
		    me->unbindable != m->unbindable) {
			char a[64], b[64];

			return log_error_ret(-EIO, "mount namespace %u: %s came back %s, not %s", id,
					     me->point, prop_name(m->shared, m->master, m->unbindable,
								  a, sizeof(a)),
					     prop_name(me->shared, me->master, me->unbindable, b,
						       sizeof(b)));
		}
	}
	return 0;
}

static int mnt_restore(struct restore_ctx *ctx, uint32_t id)
{
	const MntnsEntry *e = *ns_priv(ctx, id);
	_cleanup_(mnt_tree_free) struct mtree copy = { 0 };
	static struct gmap g;
	int r;

	if ((r = source_map(ctx, e, &g)) < 0 || (r = read_mountinfo(-1, &copy)) < 0)
		return r;
	if (copy.n != e->n_mounts)
		return log_error_ret(-EIO, "mount namespace %u: the copy has %zu mounts", id, copy.n);
	if ((r = set_covered(&g, e, &copy, id)) < 0)
		return r;
	for (size_t i = 0; i < copy.n; i++) {
		unsigned ops;

		if (covered(&copy, i))
			continue;
		if ((r = plan_one(&g, e, &copy, i, id, &ops)) < 0 ||
		    (r = apply(copy.m[i].point, ops, 0)) < 0)
			return r;
	}
	return prove(e, &g, id);
}

static int mnt_restore_late(struct restore_ctx *ctx, uint32_t id)
{
	return mntproc_restore(ctx, id, *ns_priv(ctx, id));
}

static int mnt_check_late(struct restore_ctx *ctx, uint32_t id)
{
	return mntproc_check(ctx, id, *ns_priv(ctx, id));
}

const struct ns_kind_ops mnt_ns_ops = {
	.kind = "mnt",
	.collect = mnt_collect,
	.dump = mnt_dump,
	.validate = mnt_validate,
	.pre_owner = mnt_pre_owner,
	.restore = mnt_restore,
	.restore_late = mnt_restore_late,
	.check_late = mnt_check_late,
	.priv_img = IMG_MNTNS,
};
