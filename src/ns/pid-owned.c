/*
 * Pid namespaces owned by a user namespace other than nestor's (the
 * container shape: `unshare -U -p -f`). A pid namespace is owned by the
 * user namespace of the task that clones its init, and clone3's set_tid
 * sets a level only with CAP_SYS_ADMIN over the user namespace owning that
 * level's pid namespace. So the init is cloned by a helper inside the owner
 * (restore/tree.c), which sets the levels that owner holds; the outer ones
 * come from each level's ns_last_pid, which nestor writes for it just
 * before (the assist, serialized: one clone at a time uses the cursors),
 * and the helper proves the whole vector afterwards. The init's children
 * are made by a privileged proxy inside the new namespace with their whole
 * vector and are reparented to the init when the proxy exits. Helpers take
 * pids no task of the tree wants (spare_pid).
 */
#define LOG_PREFIX "pidns: "
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/sys.h"
#include "core/log.h"
#include "core/util.h"
#include "ns/ns-priv.h"
#include "tree/proc.h"

#define LAST_PID "/proc/sys/kernel/ns_last_pid"

/* A namespace's id, 0 for nestor's own. */
static uint32_t canon(const struct restore_ctx *ctx, uint32_t id)
{
	return id && !ns_entry(ctx, id)->host ? id : 0;
}

/* Is user namespace a the same as b or below it? */
static bool user_within(const struct restore_ctx *ctx, uint32_t a, uint32_t b)
{
	for (a = canon(ctx, a), b = canon(ctx, b);; a = canon(ctx, ns_entry(ctx, a)->parent)) {
		if (a == b)
			return true;
		if (!a)
			return false;
	}
}

/* The user namespace owning pid namespace id, 0 for nestor's. */
static uint32_t pid_owner(const struct restore_ctx *ctx, uint32_t id)
{
	id = canon(ctx, id);
	return id ? canon(ctx, ns_entry(ctx, id)->owner) : 0;
}

bool pidns_owned_init(const struct restore_ctx *ctx, int idx)
{
	uint32_t id = canon(ctx, ctx->tasks[idx].pe->ns->id[NS_PID]);

	return id && ctx->ns[id - 1].init == idx && pid_owner(ctx, id);
}

uint32_t pidns_owner_of_init(const struct restore_ctx *ctx, int idx)
{
	return pid_owner(ctx, ctx->tasks[idx].pe->ns->id[NS_PID]);
}

uint32_t pidns_of(const struct restore_ctx *ctx, int idx)
{
	return canon(ctx, ctx->tasks[idx].pe->ns->id[NS_PID]);
}

uint32_t pidns_parent_of(const struct restore_ctx *ctx, uint32_t id)
{
	id = canon(ctx, id);
	return id ? canon(ctx, ns_entry(ctx, id)->parent) : 0;
}

/* How many innermost levels of init idx's vector its cloner, inside the
 * owner of its namespace, may set: those owned by the owner or below. */
static int inner_levels(const struct restore_ctx *ctx, int idx)
{
	uint32_t u = pidns_owner_of_init(ctx, idx);
	int k = 0;

	for (uint32_t p = pidns_of(ctx, idx); p && user_within(ctx, pid_owner(ctx, p), u);
	     p = pidns_parent_of(ctx, p))
		k++;
	return k;
}

/* The innermost levels of task idx's threads it may set from its own user
 * namespace, once inside it (the blob makes them there). */
int pidns_thread_levels(const struct restore_ctx *ctx, int idx)
{
	uint32_t u = ctx->tasks[idx].pe->ns->id[NS_USER];
	int k = 0;

	for (uint32_t p = pidns_of(ctx, idx);; p = pidns_parent_of(ctx, p)) {
		if (!user_within(ctx, pid_owner(ctx, p), u))
			break;
		k++;
		if (!p)
			break;
	}
	return k;
}

/* The highest pid any task or thread of the tree has in pid namespace ns (at depth d). */
static uint32_t wanted_max(const struct restore_ctx *ctx, uint32_t ns, int d)
{
	uint32_t max = 1;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const PstreeEntry *e = ctx->tasks[i].pe;
		uint32_t p = canon(ctx, e->ns->id[NS_PID]);

		for (int k = ns_pid_depth(ctx, p); p && k > d; k--)
			p = pidns_parent_of(ctx, p);
		if (p != ns || (size_t)d >= e->n_ns_pid)
			continue;
		max = MAX(max, e->ns_pid[d]);
		for (size_t t = 0; t < e->n_thread_pids; t++)
			if ((size_t)d < e->thread_pids[t]->n_nr)
				max = MAX(max, e->thread_pids[t]->nr[d]);
	}
	return max;
}

/* A pid in ns no task or thread of the tree wants: helpers of different
 * salts never meet. */
static pid_t spare_pid(const struct restore_ctx *ctx, uint32_t ns, int salt)
{
	return wanted_max(ctx, ns, ns_pid_depth(ctx, ns)) + 1 + salt;
}

/* One free on the machine now, above every pid of the tree there. */
static pid_t host_spare(const struct restore_ctx *ctx, int salt)
{
	char path[32];
	pid_t p = wanted_max(ctx, 0, 0) + 1 + salt;

	/* Through nestor's /proc: a helper may be in a mount namespace with
	 * another proc on /proc (mnt-proc.c). */
	for (int i = 0; i < 1000; i++, p++) {
		snprintf(path, sizeof(path), "%s%d", ctx->proc_fd < 0 ? "/proc/" : "", p);
		if (faccessat(ctx->proc_fd < 0 ? AT_FDCWD : ctx->proc_fd, path, F_OK, 0))
			break;
	}
	return p;
}

pid_t pidns_clone_spare(const struct restore_ctx *ctx, uint32_t ns, int salt,
			struct clone_args *ca)
{
	pid_t tids[MAX_NS_LEVEL + 1], pid = -1;
	int r;

	if ((r = pidns_set_pfc(ctx, ns)) < 0) {
		errno = -r;
		return -1;
	}
	/* Nestor's level too: a helper with a pid from the machine's cursor
	 * could hold one a task of the tree is made with while it lives. */
	for (int k = 0; k < 8; k++) {
		int n = 0;

		for (uint32_t p = canon(ctx, ns); p; p = pidns_parent_of(ctx, p))
			tids[n++] = spare_pid(ctx, p, salt + k * 4099);
		tids[n++] = host_spare(ctx, salt + k * 4099);
		ca->set_tid = (uint64_t)tids;
		ca->set_tid_size = n;
		pid = sys_clone3(ca, sizeof(*ca));
		if (pid >= 0 || errno != EEXIST)
			break;
	}
	return pid;
}

void pidns_prepare_owned(const struct restore_ctx *ctx, int idx, struct clone_args *ca,
			 pid_t tids[MAX_NS_LEVEL])
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	int depth = ns_pid_depth(ctx, pidns_of(ctx, idx)), k = inner_levels(ctx, idx);

	for (int j = 0; j < k; j++)
		tids[j] = e->ns_pid[depth - j];
	ca->set_tid = (uint64_t)tids;
	ca->set_tid_size = k;
	ca->flags |= CLONE_NEWPID;
}

/* In a helper: the whole vector of the task behind pidfd, as the machine's /proc shows it. */
int pidns_check_got(const struct restore_ctx *ctx, int idx, int pidfd, bool last,
		    pid_t *ret_got)
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	char path[64], buf[4096], *p;
	size_t n = 0;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s", path);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0 || (buf[len] = 0, !(p = strstr(buf, "NSpid:"))))
		return log_error_ret(-EIO, "cannot read the pids of task %d", e->pid);
	for (p += 6; n < e->n_ns_pid; n++) {
		char *end;
		long v = strtol(p, &end, 10);

		if (n == 0)
			*ret_got = v;

		if ((end == p || v != (long)e->ns_pid[n]) && !last) {
			pr_debug("task %d came out with pid %ld at level %zu, not %u: again",
				 e->pid, end == p ? 0 : v, n, e->ns_pid[n]);
			return -EAGAIN;
		}
		if (end == p || v != (long)e->ns_pid[n])
			return log_error_ret(-EBUSY, "can't restore: task %d came out with pid %ld "
						     "at level %zu, not %u: another process took it "
						     "meanwhile", e->pid, end == p ? 0 : v, n,
					     e->ns_pid[n]);
		p = end;
	}
	return 0;
}

/* A one-shot writer of ns_last_pid in pid namespace ns (nestor's children go there). */
static int write_last_pid_in(const struct restore_ctx *ctx, uint32_t ns, long v)
{
	struct clone_args ca = { .exit_signal = SIGCHLD };
	char val[24];
	int status, r;
	pid_t pid;

	snprintf(val, sizeof(val), "%ld", v);
	pid = pidns_clone_spare(ctx, ns, 0, &ca);
	if (pid == 0)
		_exit(write_file_at(AT_FDCWD, LAST_PID, val) < 0);
	r = pidns_set_pfc(ctx, 0);
	if (pid < 0)
		return log_error_errno(-errno, "cannot fork a writer of " LAST_PID);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return log_error_ret(-EIO, "cannot set " LAST_PID " of pid namespace %u", ns);
	return 0;
}

int pidns_assist_begin(const struct restore_ctx *ctx, int idx, int thread, long *ret_saved)
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	const uint32_t *v = thread < 0 ? e->ns_pid : e->thread_pids[thread]->nr;
	uint32_t ns = pidns_of(ctx, idx);
	int depth = ns_pid_depth(ctx, ns), r;
	int outer = depth + 1 - (thread < 0 ? inner_levels(ctx, idx) : pidns_thread_levels(ctx, idx));
	char val[24];
	long saved;

	/*
	 * The levels the cloner cannot set but nestor's own, innermost first
	 * (for a thread, its task's own level may be one: a task in a pid
	 * namespace nestor's user namespace owns, inside an inner user
	 * namespace); nestor's last, closest to the clone.
	 */
	for (int j = depth; j > 0; j--, ns = pidns_parent_of(ctx, ns))
		if (j < outer && (r = write_last_pid_in(ctx, ns, (long)v[j] - 1)) < 0)
			return r;
	/* A pid still held would just be skipped: the cursor gives the next one.
	 * Another process's fork may have taken it just now (our last cursor was
	 * right before it): most go soon. */
	snprintf(val, sizeof(val), "/proc/%u", v[0]);
	if (!access(val, F_OK))
		pidns_wait_free(v[0]);
	if (!access(val, F_OK))
		return log_error_ret(-EEXIST, "can't restore: pid %u is taken", v[0]);
	saved = read_sysctl_long(LAST_PID, -1);
	snprintf(val, sizeof(val), "%ld", (long)v[0] - 1);
	if (saved < 0 || (r = write_file_at(AT_FDCWD, LAST_PID, val)) < 0)
		return log_error_ret(-EIO, "cannot set " LAST_PID " for task %d", e->pid);
	*ret_saved = saved;
	return 0;
}

void pidns_wait_free(pid_t pid)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + 2000000000;
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	while (!access(path, F_OK) && now_ns(CLOCK_MONOTONIC) < end)
		usleep(5000);
}

bool pidns_assist_taken(pid_t pid)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + 200000000;
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	while (access(path, F_OK) && now_ns(CLOCK_MONOTONIC) < end)
		usleep(20); /* not a spin: the cloner needs the CPU more */
	return !access(path, F_OK);
}

/* The machine's cursor goes back where it was: others' forks go on from there. */
void pidns_assist_end(long saved)
{
	char val[24];

	snprintf(val, sizeof(val), "%ld", saved);
	if (saved >= 0 && write_file_at(AT_FDCWD, LAST_PID, val) < 0)
		pr_debug("cannot set " LAST_PID " back to %ld", saved);
}

static int refuse(const struct restore_ctx *ctx, int i, const char *what, int init)
{
	return log_error_ret(-EOPNOTSUPP, "can't restore: task %d %s (task %d is the init of a "
					  "pid namespace owned by a user namespace other than "
					  "nestor's; not supported yet)", ctx->tasks[i].pid, what,
			     ctx->tasks[init].pid);
}

/* A child of an owned init is made by a proxy: only what a reparented fork keeps. */
static int validate_child(const struct restore_ctx *ctx, size_t k, int init)
{
	const struct restore_task *c = &ctx->tasks[k];
	const PstreeEntry *e = c->pe;
	int t = ctx->tasks[init].creator;

	if (c->helper)
		return refuse(ctx, init, "has a dead session or group leader's member as child",
			      init);
	if (e->clone_files || e->clone_fs || e->clone_vm)
		return refuse(ctx, k, "shares its files, fs or memory with its parent", init);
	if (c->core && c->core->exit_signal != SIGCHLD)
		return refuse(ctx, k, "has an exit signal other than SIGCHLD", init);
	if (e->sid != e->pid && e->sid != ctx->tasks[t].pe->sid)
		return refuse(ctx, k, "is in the session of its parent, the init", init);
	return 0;
}

int pidns_validate_owned(const struct restore_ctx *ctx)
{
	int r;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const struct restore_task *t = &ctx->tasks[i];

		if (!pidns_owned_init(ctx, i))
			continue;
		if (i == 0)
			return refuse(ctx, i, "is the root", i);
		if (!user_within(ctx, t->pe->ns->id[NS_USER], pidns_owner_of_init(ctx, i)))
			return refuse(ctx, i, "is outside the user namespace owning its pid namespace",
				      i);
		if (t->zombie || t->pe->clone_files || t->pe->clone_fs || t->pe->clone_vm ||
		    ctx->tasks[t->creator].helper || (t->core && t->core->exit_signal != SIGCHLD))
			return refuse(ctx, i, "is a zombie, shares with its parent, has a helper "
					      "as creator or an exit signal other than SIGCHLD", i);
		for (size_t k = i + 1; k < ctx->nr_tasks; k++)
			if (ctx->tasks[k].creator == (int)i &&
			    (r = validate_child(ctx, k, i)) < 0)
				return r;
	}
	return 0;
}
