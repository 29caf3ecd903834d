/*
 * cgroup namespaces, a kind of the namespace model (ns.c): each one's root
 * in every hierarchy, the cgroup its maker was in. Dump: a task of the
 * namespace's /proc/PID/cgroup is read twice, by nestor and by a child of
 * nestor inside the namespace (which sees paths from the namespace's
 * root); the root is what nestor's path has before the inside one. A task
 * outside its namespace's root ("/..") is refused. Restore: the maker
 * moves itself into every root (cgroup.c does it by hierarchy, as for the
 * tasks) before it unshares CLONE_NEWCGROUP; the tasks then move where
 * they were (cgroup_restore), wherever that is.
 */
#define LOG_PREFIX "cgroupns: "
#include <sched.h>
#include <string.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "ns/ns-priv.h"
#include "tree/cgroup.h"

#define MAX_LINES 1024

/* A live task in namespace id, or NULL. */
static const struct dump_task *task_in(const struct dump_ctx *ctx, uint32_t id)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (!ctx->tasks[i].zombie && ctx->tasks[i].ns[0].id[NS_CGROUP] == id)
			return &ctx->tasks[i];
	return NULL;
}

/* The lines of text, split in place. */
static size_t split(char *text, char **lines)
{
	char *save = NULL;
	size_t n = 0;

	for (char *l = strtok_r(text, "\n", &save); l && n < MAX_LINES;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	return n;
}

/* "id:controllers:" of a line: its length, 0 if malformed. */
static size_t head_len(const char *l)
{
	const char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	return c2 ? (size_t)(c2 - l) + 1 : 0;
}

/* The root of one hierarchy: nestor's line, the inside path cut off it. */
static char *root_of(const char *out, const char *in, const char *who, uint32_t id)
{
	size_t h = head_len(out), lo, li;
	const char *po = out + h, *pi = in + h;

	char buf[4200];

	if (!h || h != head_len(in) || strncmp(out, in, h) || pi[0] != '/') {
		pr_err("cannot match the cgroup lines %s and %s of %s", out, in, who);
		return NULL;
	}
	if (strstr(pi, "/..")) {
		pr_err("can't dump: %s is outside the root of its cgroup namespace %u in %.*s "
		       "(not supported)", who, id, (int)h - 1, out);
		return NULL;
	}
	lo = strlen(po);
	li = strcmp(pi, "/") ? strlen(pi) : 0;
	/* The inside path starts with '/': a matching tail ends a component. */
	if (li > lo || strcmp(po + lo - li, li ? pi : "")) {
		pr_err("cannot tell the root of cgroup namespace %u from %s and %s", id, out, in);
		return NULL;
	}
	if (lo == li)
		snprintf(buf, sizeof(buf), "%.*s/", (int)h, out);
	else
		snprintf(buf, sizeof(buf), "%.*s%.*s", (int)h, out, (int)(lo - li), po);
	return arena_strdup(buf);
}

static int cgns_dump(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	const struct dump_task *t = task_in(ctx, id);
	_cleanup_free_ char *out = NULL, *in = NULL;
	_cleanup_free_ char **lo = calloc(MAX_LINES, sizeof(char *));
	_cleanup_free_ char **li = calloc(MAX_LINES, sizeof(char *));
	CgroupnsEntry e = CGROUPNS_ENTRY__INIT;
	char path[64], who[32];
	size_t no, ni;
	int r;

	if (!lo || !li)
		return -ENOMEM;
	if (!t) /* only threads or zombies in it: refused elsewhere; nothing to read */
		return log_error_ret(-EOPNOTSUPP, "can't dump: cgroup namespace %u has no live "
						  "task (not supported)", id);
	snprintf(who, sizeof(who), "task %d", t->pid);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", t->pid);
	if ((r = read_file_at(AT_FDCWD, path, &out, 1 << 20)) < 0 ||
	    (r = ns_read_file(nsfd, CLONE_NEWCGROUP, path, &in)) < 0)
		return log_error_errno(r, "cannot read %s", path);
	no = split(out, lo);
	ni = split(in, li);
	if (no != ni)
		return log_error_ret(-EIO, "%s has %zu cgroup lines from nestor, %zu from inside",
				     who, no, ni);
	if (!(e.roots = ANEW_ARRAY(char *, no)))
		return -ENOMEM;
	for (size_t i = 0; i < no; i++)
		if (!(e.roots[e.n_roots++] = root_of(lo[i], li[i], who, id)))
			return -EOPNOTSUPP;
	return img_write_one(ctx->dirfd, IMG_CGROUPNS, id, &e);
}

static int cgns_validate(struct restore_ctx *ctx, uint32_t id)
{
	CgroupnsEntry *e;
	int r = img_read_one(ctx->dirfd, IMG_CGROUPNS, id, (void **)&e);

	if (r < 0)
		return r;
	*ns_priv(ctx, id) = e;
	if (e->n_roots > MAX_LINES)
		return log_error_ret(-EINVAL, "image cgroupns-%u.img is corrupted: too many roots", id);
	for (size_t i = 0; i < e->n_roots; i++) {
		const char *l = e->roots[i];
		size_t h = head_len(l);

		if (!h || l[h] != '/' || strstr(l, "/..") || strstr(l, "/./") || strchr(l, '\n'))
			return log_error_ret(-EINVAL, "image cgroupns-%u.img is corrupted: a root",
					     id);
		if (!cgroup_exists(l))
			return log_error_ret(-ENOENT, "can't restore: cgroup namespace %u: its root "
						      "%s does not exist here (nestor does not make "
						      "cgroups yet)", id, l);
	}
	return 0;
}

/* The maker, before its unshare: into the namespace's root in every hierarchy. */
static int cgns_pre_owner(struct restore_ctx *ctx, uint32_t id)
{
	const CgroupnsEntry *e = *ns_priv(ctx, id);
	int r;

	for (size_t i = 0; i < e->n_roots; i++)
		if ((r = cgroup_enter(e->roots[i])) < 0)
			return log_error_errno(r, "cannot move into %s to make cgroup namespace %u",
					       e->roots[i], id);
	return 0;
}

static int cgns_restore(struct restore_ctx *ctx, uint32_t id)
{
	return 0; /* the unshare made it, rooted where the maker stands */
}

const struct ns_kind_ops cgroup_ns_ops = {
	.kind = "cgroup",
	.dump = cgns_dump,
	.validate = cgns_validate,
	.pre_owner = cgns_pre_owner,
	.restore = cgns_restore,
	.priv_img = IMG_CGROUPNS,
};
