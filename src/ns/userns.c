/*
 * User namespaces, a kind of the namespace model (ns.c), nested to any
 * depth. Dump: a child of nestor enters the namespace's parent (for the
 * owner's uid as the parent sees it), then the namespace itself, and reads
 * there what only the inside shows right: uid_map and gid_map (a reader
 * inside sees the lower ids in the parent's terms), setgroups and the
 * limits of /proc/sys/user; userns-ID.img keeps them. Task credentials are
 * saved as the task's own namespace shows them. Restore: the model's maker
 * enters the parent, takes the owner's uid and unshares; nestor then has a
 * writer inside the parent write setgroups, gid_map and uid_map (write-once,
 * from the parent only); the maker sets the limits from inside. Each task
 * enters its user namespace last, once its children exist (they need the
 * initial namespace's privilege for every level of set_tid), and its
 * credentials are set inside by the blob.
 */
#define LOG_PREFIX "userns: "
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "ns/ns-priv.h"
#include "ns/userns.h"
#include "restorer/restorer-abi.h"
#include "tree/proc.h"

#ifndef NS_GET_OWNER_UID
#define NS_GET_OWNER_UID _IO(0xb7, 0x4)
#endif

#define MAP_MAX_EXTENTS 340 /* the kernel's UID_GID_MAP_MAX_EXTENTS */
#define MAP_TEXT 12288      /* 340 lines of three 10-digit numbers */
#define MAX_LIMITS 32
#define LIMITS_DIR "/proc/sys/user"

/* What the child inside the namespace reads, sent back whole. */
struct probe {
	int err;
	uint32_t owner_uid;
	bool setgroups_deny;
	char uid_map[MAP_TEXT], gid_map[MAP_TEXT];
	int nr_limits;
	struct {
		char name[48];
		uint64_t value;
	} limits[MAX_LIMITS];
};

/* ---- dump ---- */

static int read_text(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s", path);
	while ((r = read(fd, buf + n, len - 1 - n)) > 0)
		n += r;
	if (r < 0)
		return log_error_errno(-errno, "cannot read %s", path);
	buf[n] = '\0';
	return 0;
}

static int read_limits(struct probe *p)
{
	_cleanup_closedir_ DIR *d = opendir(LIMITS_DIR);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : log_error_errno(-errno, "cannot open " LIMITS_DIR);
	while ((de = readdir(d))) {
		char path[128], buf[32];
		int r;

		if (de->d_name[0] == '.')
			continue;
		if (p->nr_limits == MAX_LIMITS || strlen(de->d_name) >= sizeof(p->limits[0].name))
			return log_error_ret(-E2BIG, "too many or too long names in " LIMITS_DIR);
		snprintf(path, sizeof(path), LIMITS_DIR "/%s", de->d_name);
		if ((r = read_text(path, buf, sizeof(buf))) < 0)
			return r;
		strcpy(p->limits[p->nr_limits].name, de->d_name);
		if (parse_u64(strtok(buf, "\n"), &p->limits[p->nr_limits].value) < 0)
			return log_error_ret(-EIO, "cannot parse %s", path);
		p->nr_limits++;
	}
	return 0;
}

static int probe_inside(const struct dump_ctx *ctx, uint32_t id, int nsfd, struct probe *p)
{
	const struct dump_ns *n = &ctx->ns[id - 1];
	char sg[16];
	int r;

	/* The owner's uid as the parent sees it, from inside the parent. */
	if (n->parent && setns(ctx->ns[n->parent - 1].fd, CLONE_NEWUSER))
		return log_error_errno(-errno, "cannot enter user namespace %u", n->parent);
	if (ioctl(nsfd, NS_GET_OWNER_UID, &p->owner_uid))
		return log_error_errno(-errno, "cannot get the owner of user namespace %u", id);
	if (setns(nsfd, CLONE_NEWUSER))
		return log_error_errno(-errno, "cannot enter user namespace %u", id);
	if ((r = read_text("/proc/self/uid_map", p->uid_map, sizeof(p->uid_map))) < 0 ||
	    (r = read_text("/proc/self/gid_map", p->gid_map, sizeof(p->gid_map))) < 0 ||
	    (r = read_text("/proc/self/setgroups", sg, sizeof(sg))) < 0)
		return r;
	p->setgroups_deny = !strncmp(sg, "deny", 4);
	return read_limits(p);
}

/* Runs probe_inside in a child of nestor (which must stay where it is). */
static int probe(const struct dump_ctx *ctx, uint32_t id, int nsfd, struct probe *p)
{
	int pp[2], status, r;
	pid_t pid;

	if (pipe2(pp, O_CLOEXEC))
		return log_error_errno(-errno, "cannot make a pipe");
	pid = fork();
	if (pid < 0) {
		close(pp[0]);
		close(pp[1]);
		return log_error_errno(-errno, "cannot fork");
	}
	if (pid == 0) {
		close(pp[0]);
		memset(p, 0, sizeof(*p));
		p->err = probe_inside(ctx, id, nsfd, p);
		_exit(write_all(pp[1], p, sizeof(*p)) < 0);
	}
	close(pp[1]);
	r = read_all(pp[0], p, sizeof(*p));
	close(pp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return log_error_ret(-EIO, "the reader of user namespace %u died", id);
	return p->err;
}

/* uid_map's text: lines of "first lower_first count". */
static int parse_map(char *text, UsernsExtent ***ret, size_t *ret_n)
{
	UsernsExtent **m = ANEW_ARRAY(UsernsExtent *, MAP_MAX_EXTENTS);
	size_t n = 0;
	char *save = NULL;

	if (!m)
		return -ENOMEM;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		UsernsExtent *x = ANEW(UsernsExtent);

		if (!x || n == MAP_MAX_EXTENTS)
			return -ENOMEM;
		userns_extent__init(x);
		if (sscanf(l, "%u %u %u", &x->first, &x->lower_first, &x->count) != 3)
			return log_error_ret(-EIO, "cannot parse an id map line: %s", l);
		m[n++] = x;
	}
	*ret = m;
	*ret_n = n;
	return 0;
}

static int userns_dump(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	UsernsEntry e = USERNS_ENTRY__INIT;
	_cleanup_free_ struct probe *p = malloc(sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	if ((r = probe(ctx, id, nsfd, p)) < 0 ||
	    (r = parse_map(p->uid_map, &e.uid_map, &e.n_uid_map)) < 0 ||
	    (r = parse_map(p->gid_map, &e.gid_map, &e.n_gid_map)) < 0)
		return r;
	e.setgroups_deny = p->setgroups_deny;
	e.owner_uid = p->owner_uid;
	e.n_limits = p->nr_limits;
	e.limits = ANEW_ARRAY(UsernsLimit *, p->nr_limits + 1);
	if (!e.limits)
		return -ENOMEM;
	for (int i = 0; i < p->nr_limits; i++) {
		UsernsLimit *l = ANEW(UsernsLimit);

		if (!l)
			return -ENOMEM;
		userns_limit__init(l);
		l->name = arena_strdup(p->limits[i].name);
		l->value = p->limits[i].value;
		if (!l->name)
			return -ENOMEM;
		e.limits[i] = l;
	}
	return img_write_one(ctx->dirfd, IMG_USERNS, id, &e);
}

static bool user_host(const struct dump_ctx *ctx, uint32_t id)
{
	return !id || ctx->ns[id - 1].host;
}

/*
 * Made again from outside, then entered (userns_enter_task): a task with
 * threads or sharing its fs info cannot enter. (A pid namespace an inner
 * user namespace owns is made from inside it: ns/pid-owned.c.)
 */
/* The init of a pid namespace owned by a user namespace other than nestor's. */
bool userns_owned_init(const struct dump_ctx *ctx, const struct dump_task *t)
{
	uint32_t id = t->ns[0].id[NS_PID];
	const struct dump_ns *n = id ? &ctx->ns[id - 1] : NULL;

	return n && !n->host && !user_host(ctx, n->owner) && t->status.nr_nspid > 0 &&
	       t->status.nspid[t->status.nr_nspid - 1] == 1;
}

static int refuse_owned(const struct dump_task *t, const struct dump_task *init, const char *what)
{
	return log_error_ret(-EOPNOTSUPP, "can't dump: task %d %s (task %d is the init of a pid "
					  "namespace owned by a user namespace other than nestor's; "
					  "not supported yet)", t->pid, what, init->pid);
}

/*
 * An owned init is made from inside its owner and its children by a proxy
 * they are reparented from (ns/pid-owned.c): what a reparented fork loses
 * is refused.
 */
static int check_owned(const struct dump_ctx *ctx, size_t i)
{
	const struct dump_task *t = &ctx->tasks[i], *p;

	if (!i)
		return refuse_owned(t, t, "is the root");
	if (t->zombie || t->clone_files || t->clone_fs || t->clone_vm ||
	    t->stat.exit_signal != SIGCHLD)
		return refuse_owned(t, t, "is a zombie, shares with its parent or has an exit "
				    "signal other than SIGCHLD");
	p = &ctx->tasks[t->parent];
	for (size_t k = i + 1; k < ctx->nr_tasks; k++) {
		const struct dump_task *c = &ctx->tasks[k];

		if (c->parent != (int)i)
			continue;
		if (c->clone_files || c->clone_fs || c->clone_vm)
			return refuse_owned(c, t, "shares its files, fs or memory with its parent");
		if (!c->zombie && c->stat.exit_signal != SIGCHLD)
			return refuse_owned(c, t, "has an exit signal other than SIGCHLD");
		if (c->stat.sid != c->pid && c->stat.sid != p->stat.sid)
			return refuse_owned(c, t, "is in the session of its parent, the init");
	}
	return 0;
}

int userns_check(struct dump_ctx *ctx)
{
	int r;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const struct dump_task *t = &ctx->tasks[i];

		if (userns_owned_init(ctx, t) && (r = check_owned(ctx, i)) < 0)
			return r;
		if (t->zombie || user_host(ctx, t->ns[0].id[NS_USER]))
			continue;
		if (t->clone_fs)
			return log_error_ret(-EOPNOTSUPP, "can't dump: task %d shares its fs info "
							  "(CLONE_FS) and is in a user namespace other "
							  "than nestor's (not supported yet)", t->pid);
	}
	return 0;
}

/* An id as the namespace sees it, from the one nestor sees: map's lines are
 * "inside outside count" as nestor reads them. */
static int id_inside(const char *map, uint32_t out, uint32_t *ret)
{
	uint32_t first, lower, count;
	int off;

	for (const char *l = map; sscanf(l, "%u %u %u%n", &first, &lower, &count, &off) == 3;
	     l += off) {
		if (out >= lower && out - lower < count) {
			*ret = first + (out - lower);
			return 0;
		}
	}
	return -ENOENT;
}

static int ids_inside(const char *map, uint32_t *ids, size_t n, const char *what, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (id_inside(map, ids[i], &ids[i]) < 0)
			return log_error_ret(-EOPNOTSUPP, "can't dump: task %d has %s %u, which its "
							  "user namespace does not map", pid, what,
					     ids[i]);
	return 0;
}

int userns_creds_inside(const struct dump_ctx *ctx, const struct dump_task *t, CredsEntry *c)
{
	char path[64], uid_map[MAP_TEXT], gid_map[MAP_TEXT];
	int r;

	if (user_host(ctx, t->ns[0].id[NS_USER]))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/uid_map", t->pid);
	if ((r = read_text(path, uid_map, sizeof(uid_map))) < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", t->pid);
	if ((r = read_text(path, gid_map, sizeof(gid_map))) < 0)
		return r;
	/* Supplementary groups stay as nestor sees them: they may be unmapped
	 * inside, and setgroups denied there; they are set before the task
	 * enters (userns_enter_task). */
	if ((r = ids_inside(uid_map, c->uids, c->n_uids, "uid", t->pid)) < 0)
		return r;
	return ids_inside(gid_map, c->gids, c->n_gids, "gid", t->pid);
}

/* ---- restore ---- */

static bool ranges_meet(uint32_t a, uint32_t b, uint32_t n, uint32_t m)
{
	return a < b + (uint64_t)m && b < a + (uint64_t)n;
}

/* The kernel's rules: at most 340 lines, no empty one, no wrap, no overlap. */
bool userns_map_ok(UsernsExtent *const *m, size_t n)
{
	if (n > MAP_MAX_EXTENTS)
		return false;
	for (size_t i = 0; i < n; i++) {
		const UsernsExtent *x = m[i];

		if (!x->count || (uint64_t)x->first + x->count > UINT32_MAX ||
		    (uint64_t)x->lower_first + x->count > UINT32_MAX)
			return false;
		for (size_t j = 0; j < i; j++)
			if (ranges_meet(x->first, m[j]->first, x->count, m[j]->count) ||
			    ranges_meet(x->lower_first, m[j]->lower_first, x->count, m[j]->count))
				return false;
	}
	return true;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= 48)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	return true;
}

static bool mapped(UsernsExtent *const *m, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (v >= m[i]->first && v - m[i]->first < m[i]->count)
			return true;
	return false;
}

/* Against the parent's image (read first: parents come before children). */
static int check_with_parent(struct restore_ctx *ctx, uint32_t id, const UsernsEntry *e)
{
	uint32_t parent = ns_entry(ctx, id)->parent;
	const UsernsEntry *pe = parent ? *ns_priv(ctx, parent) : NULL;

	if (!pe)
		return 0;
	if (pe->setgroups_deny && !e->setgroups_deny)
		return log_error_ret(-EINVAL, "image userns-%u.img is corrupted: setgroups allowed "
					      "under a parent that denies it", id);
	if (!mapped(pe->uid_map, pe->n_uid_map, e->owner_uid))
		return log_error_ret(-EINVAL, "image userns-%u.img is corrupted: its owner's uid %u "
					      "is not mapped in its parent", id, e->owner_uid);
	return 0;
}

/* The kernel nests user namespaces 32 deep at most. */
static int depth(struct restore_ctx *ctx, uint32_t id)
{
	int d = 0;

	for (uint32_t u = id; u && !ns_entry(ctx, u)->host && d <= MAX_NS_LEVEL;
	     u = ns_entry(ctx, u)->parent)
		d++;
	return d;
}

static int check_entry(struct restore_ctx *ctx, uint32_t id, const UsernsEntry *e)
{
	if (depth(ctx, id) > MAX_NS_LEVEL)
		return log_error_ret(-EINVAL, "image ns.img is corrupted: user namespace %u is "
					      "nested deeper than %d", id, MAX_NS_LEVEL);
	if (!userns_map_ok(e->uid_map, e->n_uid_map) || !userns_map_ok(e->gid_map, e->n_gid_map))
		return log_error_ret(-EINVAL, "image userns-%u.img is corrupted: a bad id map", id);
	for (size_t i = 0; i < e->n_limits; i++) {
		char path[128];

		if (!name_ok(e->limits[i]->name) || e->limits[i]->value > INT32_MAX)
			return log_error_ret(-EINVAL, "image userns-%u.img is corrupted: limit %zu",
					     id, i);
		snprintf(path, sizeof(path), LIMITS_DIR "/%s", e->limits[i]->name);
		if (!ctx->images_only && access(path, F_OK))
			return log_error_ret(-EOPNOTSUPP, "can't restore: user namespace %u has a "
							  "limit %s, which this kernel lacks", id,
					     e->limits[i]->name);
	}
	return check_with_parent(ctx, id, e);
}

static int userns_validate(struct restore_ctx *ctx, uint32_t id)
{
	UsernsEntry *e;
	int r = img_read_one(ctx->dirfd, IMG_USERNS, id, (void **)&e);

	if (r < 0)
		return r;
	if ((r = check_entry(ctx, id, e)) < 0) {
		img_free(IMG_USERNS, e);
		return r;
	}
	*ns_priv(ctx, id) = e;
	return 0;
}

/*
 * In the maker, inside the parent: the new namespace's owner is whoever
 * unshares it, and its uid and gid must be mapped in the parent. The gid
 * is not saved by the kernel's interface: the parent's first mapped one.
 */
static int userns_prepare(struct restore_ctx *ctx, uint32_t id)
{
	const UsernsEntry *e = *ns_priv(ctx, id);
	uint32_t parent = ns_entry(ctx, id)->parent;
	const UsernsEntry *pe = parent ? *ns_priv(ctx, parent) : NULL;

	if (pe && pe->n_gid_map && setresgid(pe->gid_map[0]->first, pe->gid_map[0]->first,
					     pe->gid_map[0]->first))
		return log_error_errno(-errno, "cannot take a gid to make user namespace %u", id);
	if (setresuid(e->owner_uid, e->owner_uid, e->owner_uid))
		return log_error_errno(-errno, "cannot take uid %u to make user namespace %u",
				       e->owner_uid, id);
	return 0;
}

static int write_map(pid_t pid, const char *file, UsernsExtent *const *m, size_t n)
{
	_cleanup_free_ char *buf = malloc(MAP_TEXT);
	_cleanup_close_ int fd = -1;
	char path[64];
	size_t len = 0;

	if (!buf)
		return -ENOMEM;
	if (!n)
		return 0; /* never written at the dump either */
	for (size_t i = 0; i < n; i++)
		len += snprintf(buf + len, MAP_TEXT - len, "%u %u %u\n", m[i]->first,
				m[i]->lower_first, m[i]->count);
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return log_error_errno(-errno, "cannot write %s", path);
	return 0;
}

static int write_maps(struct restore_ctx *ctx, uint32_t id, pid_t maker)
{
	const UsernsEntry *e = *ns_priv(ctx, id);
	uint32_t parent = ns_entry(ctx, id)->parent;
	char path[64];
	int r;

	if (parent && setns(ns_fd(ctx, parent), CLONE_NEWUSER))
		return log_error_errno(-errno, "cannot enter user namespace %u", parent);
	snprintf(path, sizeof(path), "/proc/%d/setgroups", maker);
	if (e->setgroups_deny && (r = write_file_at(AT_FDCWD, path, "deny")) < 0)
		return log_error_errno(r, "cannot write %s", path);
	if ((r = write_map(maker, "gid_map", e->gid_map, e->n_gid_map)) < 0)
		return r;
	return write_map(maker, "uid_map", e->uid_map, e->n_uid_map);
}

/* In nestor: the maps, written by a child inside the parent (the kernel
 * takes them only from there, lower ids in the parent's terms). */
static int userns_made(struct restore_ctx *ctx, uint32_t id, pid_t maker)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return log_error_errno(-errno, "cannot fork");
	if (pid == 0)
		_exit(-write_maps(ctx, id, maker));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO; /* logged by the child */
	return 0;
}

/* Inside: the limits, which only the inside sees as its own. */
static int write_limits(struct restore_ctx *ctx, uint32_t id)
{
	const UsernsEntry *e = *ns_priv(ctx, id);

	for (size_t i = 0; i < e->n_limits; i++) {
		char path[128], val[32];
		int r;

		snprintf(path, sizeof(path), LIMITS_DIR "/%s", e->limits[i]->name);
		snprintf(val, sizeof(val), "%llu", (unsigned long long)e->limits[i]->value);
		if ((r = write_file_at(AT_FDCWD, path, val)) < 0)
			return log_error_errno(r, "cannot set %s in user namespace %u", path, id);
	}
	return 0;
}

int userns_map_down(UsernsExtent *const *m, size_t n, uint32_t lower, uint32_t *ret)
{
	for (size_t i = 0; i < n; i++)
		if (lower >= m[i]->lower_first && lower - m[i]->lower_first < m[i]->count) {
			*ret = m[i]->first + (lower - m[i]->lower_first);
			return 0;
		}
	return -ENOENT;
}

int userns_to_inside(struct restore_ctx *ctx, uint32_t id, bool gid, uint32_t out, uint32_t *ret)
{
	uint32_t chain[MAX_NS_LEVEL + 1], v = out;
	int n = 0;

	/* The levels from nestor's down to id (validated: parents come first). */
	for (uint32_t u = id; u && !ns_entry(ctx, u)->host; u = ns_entry(ctx, u)->parent) {
		if (n == MAX_NS_LEVEL + 1)
			return -ELOOP;
		chain[n++] = u;
	}
	while (n--) {
		const UsernsEntry *e = *ns_priv(ctx, chain[n]);

		if (userns_map_down(gid ? e->gid_map : e->uid_map, gid ? e->n_gid_map : e->n_uid_map,
				    v, &v) < 0)
			return -ENOENT;
	}
	*ret = v;
	return 0;
}

/* Nothing to do in the maker: the limits come once every namespace exists. */
static int userns_restore(struct restore_ctx *ctx, uint32_t id)
{
	return 0;
}

/* A child of nestor enters user namespace id (full capabilities there) to
 * write its limits. */
static int limits_of(struct restore_ctx *ctx, uint32_t id)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return log_error_errno(-errno, "cannot fork");
	if (pid == 0) {
		if (setns(ns_fd(ctx, id), CLONE_NEWUSER))
			_exit(-log_error_errno(-errno, "cannot enter user namespace %u", id));
		_exit(-write_limits(ctx, id));
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO; /* logged by the child */
	return 0;
}

/*
 * After ns_restore: a limit may be below what the namespace holds (a
 * max_user_namespaces lowered once its children existed), so limits are
 * written only once every namespace they count is made.
 */
int userns_restore_limits(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const UsernsEntry *e = ctx->ns[i].priv;
		int r;

		if (ctx->ns[i].kind != NSK_USER || ctx->ns[i].e->host || !e || !e->n_limits)
			continue;
		if ((r = limits_of(ctx, i + 1)) < 0)
			return r;
	}
	return 0;
}

/* Is the caller in the user namespace of descriptor fd? */
static bool inside(int fd)
{
	struct stat a, b;

	return !stat("/proc/self/ns/user", &a) && !fstat(fd, &b) && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

int userns_fd_to_enter(struct restore_ctx *ctx, int idx)
{
	uint32_t id = ctx->tasks[idx].pe->ns->id[NS_USER];

	if (!id || ns_entry(ctx, id)->host || inside(ns_fd(ctx, id)))
		return -1;
	return ns_fd(ctx, id);
}

int userns_enter_owner(struct restore_ctx *ctx, int idx, uint32_t owner)
{
	const struct restore_task *t = &ctx->tasks[idx];
	const CredsEntry *c = t->core->creds;

	/* Groups as nestor sees them, while it still may set them. */
	if (setgroups(c->n_groups, c->groups))
		return log_error_errno(-errno, "cannot set the groups of task %d", t->pid);
	if (setns(ns_fd(ctx, owner), CLONE_NEWUSER))
		return log_error_errno(-errno, "cannot enter user namespace %u to make task %d",
				       owner, t->pid);
	return 0;
}

int userns_enter_task(struct restore_ctx *ctx, int idx, struct rst_args *a)
{
	const struct restore_task *t = &ctx->tasks[idx];
	const CredsEntry *c = t->core->creds;
	uint32_t id = t->pe->ns->id[NS_USER];
	bool outside = inside(ctx->host_ns_fds[NSK_USER]);

	if (!id || ns_entry(ctx, id)->host)
		return 0;
	/* An owned init was born inside its namespace's owner, its groups set. */
	if (outside && setgroups(c->n_groups, c->groups))
		return log_error_errno(-errno, "cannot set the groups of task %d", t->pid);
	a->creds.nr_groups = RST_KEEP_GROUPS;
	if (inside(ns_fd(ctx, id)))
		return 0;
	if (setns(ns_fd(ctx, id), CLONE_NEWUSER))
		return log_error_errno(-errno, "task %d cannot enter its user namespace", t->pid);
	return 0;
}

const struct ns_kind_ops user_ns_ops = {
	.kind = "user",
	.dump = userns_dump,
	.validate = userns_validate,
	.prepare = userns_prepare,
	.made = userns_made,
	.restore = userns_restore,
	.priv_img = IMG_USERNS,
};
