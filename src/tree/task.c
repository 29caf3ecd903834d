/* Task identity and attributes, and per-thread state: dump and restore. */
#define LOG_PREFIX "task: "
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include "core/arena.h"
#include "files/files.h"
#include "core/kerndat.h"
#include "core/log.h"
#include "core/sys.h"
#include "infect/ptrace.h"
#include "tree/seccomp.h"
#include "tree/task.h"
#include "tree/ioprio.h"
#include "core/util.h"

#define PF_KTHREAD 0x00200000


static const char *const rlimit_names[] = {
	"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
	"MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
};

/* nestor's own limits, read once: they bound what can be restored. */
static bool own_hard_limit(int res, struct rlimit *ret)
{
	static struct rlimit own[RLIM_NLIMITS];
	static bool read_them;

	if (!read_them) {
		for (int i = 0; i < RLIM_NLIMITS; i++)
			if (getrlimit(i, &own[i]))
				own[i].rlim_max = RLIM_INFINITY;
		read_them = true;
	}
	if (res < 0 || res >= RLIM_NLIMITS)
		return false;
	*ret = own[res];
	return true;
}

/*
 * What can be told from /proc, before nestor touches the task at all. A
 * zombie is fine inside a tree (is_child) and is reported with 1.
 */
int task_check_dumpable(struct dump_ctx *ctx, pid_t pid, struct dump_task *t, bool is_child)
{
	int r;

	if (pid == getpid())
		return log_error_ret(-EINVAL, "can't dump: %d is nestor itself", pid);
	if (pid == 1)
		return log_error_ret(-EINVAL, "can't dump: %d is the machine's init", pid);
	r = proc_read_status(pid, &t->status);
	if (r == -ENOENT || r == -ESRCH)
		return log_error_ret(-ESRCH, "can't dump: no process with pid %d", pid);
	if (r == -E2BIG)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d has more than %zu "
						  "supplementary groups (not supported)",
				     pid, ARRAY_SIZE(t->status.groups));
	if (r < 0)
		return log_error_errno(r, "can't dump: cannot read the status of task %d", pid);
	if (t->status.tgid != pid)
		return log_error_ret(-EINVAL, "can't dump: %d is a thread of task %d, not a process",
				     pid, t->status.tgid);
	/* A child's stat is read once seized (task_reread); a zombie's exit code and
	 * the root's session are needed now. */
	if (!is_child || t->status.state == 'Z' || t->status.state == 'X') {
		r = proc_read_stat(pid, &t->stat);
		if (r < 0)
			return log_error_errno(r, "cannot read the stat of task %d", pid);
	}
	if (t->status.kthread || (!is_child && (t->stat.flags & PF_KTHREAD)))
		return log_error_ret(-EINVAL, "can't dump: task %d (%s) is a kernel thread", pid,
				     t->status.name);
	if (t->status.state == 'Z' || t->status.state == 'X') {
		if (is_child)
			return 1;
		return log_error_ret(-EINVAL, "can't dump: task %d is a zombie", pid);
	}
	if (t->status.tracer)
		return log_error_ret(-EBUSY, "can't dump: task %d is traced by %d", pid,
				     t->status.tracer);
	if (t->status.state == 'T' || t->status.state == 't')
		return log_error_ret(-EBUSY, "can't dump: task %d is stopped", pid);
	if (t->status.state == 'D' && proc_in_vfork(pid))
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d waits for a child it made "
						  "with vfork() to exec or exit (not supported)", pid);
	if (is_child)
		return 0;
	if (!ctx->opts->shell_job && t->stat.sid != pid)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d is not a session leader; its "
						  "session %d is outside the dump (use --shell-job)",
				     pid, t->stat.sid);
	if (!ctx->opts->shell_job && t->stat.pgid != pid)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d is in process group %d outside "
						  "the dump (use --shell-job)", pid, t->stat.pgid);
	return 0;
}

int task_creds_from_status(const struct proc_status *s, CredsEntry **ret)
{
	CredsEntry *c = ANEW(CredsEntry);

	if (!c)
		return -ENOMEM;
	creds_entry__init(c);
	c->n_uids = c->n_gids = 4;
	c->uids = arena_memdup(s->uid, sizeof(s->uid));
	c->gids = arena_memdup(s->gid, sizeof(s->gid));
	c->n_groups = s->nr_groups;
	c->groups = arena_memdup(s->groups, c->n_groups * sizeof(uint32_t));
	c->cap_inh = s->cap_inh;
	c->cap_prm = s->cap_prm;
	c->cap_eff = s->cap_eff;
	c->cap_bnd = s->cap_bnd;
	c->cap_amb = s->cap_amb;
	c->no_new_privs = s->no_new_privs;
	*ret = c;
	return c->uids && c->gids && c->groups ? 0 : -ENOMEM;
}

static int dump_creds(struct dump_task *t, CredsEntry **ret)
{
	int r = task_creds_from_status(&t->status, ret);

	if (r == 0)
		(*ret)->securebits = t->pa->securebits;
	return r;
}

static int dump_rlimits(struct dump_task *t, TaskCoreEntry *core)
{
	uint64_t cur[16], max[16];
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int n, r;

	/* prlimit() on another uid's task needs CAP_SYS_RESOURCE, which root lacks here. */
	snprintf(path, sizeof(path), "/proc/%d/limits", t->pid);
	r = read_file_at(AT_FDCWD, path, &buf, 1 << 16);
	if (r < 0 || proc_parse_limits(buf, cur, max, &n) < 0)
		return log_error_ret(r < 0 ? r : -EINVAL, "cannot read %s", path);
	core->rlimits = ANEW_ARRAY(RlimitEntry *, n);
	if (!core->rlimits)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		RlimitEntry *e = ANEW(RlimitEntry);
		struct rlimit own;

		if (!e)
			return -ENOMEM;
		rlimit_entry__init(e);
		e->cur = cur[i];
		e->max = max[i];
		core->rlimits[core->n_rlimits++] = e;
		if (own_hard_limit(i, &own) && max[i] > own.rlim_max)
			return log_error_ret(-EOPNOTSUPP,
					     "can't dump: task %d has a hard RLIMIT_%s above nestor's own; "
					     "restoring it needs CAP_SYS_RESOURCE, which this machine lacks",
					     t->pid, rlimit_names[i]);
	}
	return 0;
}

static int read_proc_num(pid_t pid, const char *file, int base, long long *ret)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	r = read_file_at(AT_FDCWD, path, &buf, 256);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", path);
	*ret = strtoll(buf, NULL, base);
	return 0;
}

static int dump_sched(struct dump_task *t, TaskCoreEntry *core)
{
	struct sched_attr_k attr = { 0 };
	long long v;
	int r;

	if (sys_sched_getattr(t->pid, &attr, sizeof(attr)))
		return log_error_errno(-errno, "cannot read scheduling of task %d", t->pid);
	core->sched_policy = attr.sched_policy;
	core->sched_prio = attr.sched_priority;
	core->sched_flags = attr.sched_flags;
	core->nice = attr.sched_nice;
	if (attr.sched_policy == SCHED_DEADLINE)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d uses SCHED_DEADLINE", t->pid);
	r = read_proc_num(t->pid, "oom_score_adj", 10, &v);
	if (r < 0)
		return r;
	if (v < 0)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d has a negative oom_score_adj (%lld); restoring "
				     "it needs CAP_SYS_RESOURCE, which this machine lacks", t->pid, v);
	core->oom_score_adj = v;
	r = read_proc_num(t->pid, "timerslack_ns", 10, &v);
	if (r < 0)
		return r;
	core->timerslack_ns = v;
	r = read_proc_num(t->pid, "personality", 16, &v);
	if (r < 0)
		return r;
	core->personality = v;
	return ioprio_dump(t, core);
}

#define MEMBARRIER_CMD_GET_REGISTRATIONS 512
#define MEMBARRIER_REGISTERS                                                                       \
	(4 /* GLOBAL_EXPEDITED */ | 16 /* PRIVATE_EXPEDITED */ | 64 /* ..._SYNC_CORE */ |          \
	 256 /* ..._RSEQ */)

/* The memory's membarrier registrations, asked inside the task (6.3+). */
static int dump_membarrier(struct dump_task *t, TaskCoreEntry *core)
{
	long v;
	int r = remote_syscall(&t->rt, __NR_membarrier, &v, MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0,
			       0, 0, 0);

	if (r < 0)
		return r;
	if (v == -EINVAL || v == -ENOSYS)
		return 0; /* an older kernel: nothing can be told, nothing was registered here */
	if (v < 0)
		return log_error_errno((int)v, "cannot read the membarrier registrations of task %d",
				       t->pid);
	if (v & ~(long)MEMBARRIER_REGISTERS)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d has membarrier registrations "
						  "%#lx nestor does not know", t->pid, v);
	core->has_membarrier = v != 0;
	core->membarrier = v;
	return 0;
}

/* Per-task flags only prctl() tells, asked inside the task. */
static void dump_prctl_flags(struct dump_task *t, TaskCoreEntry *core)
{
	core->dumpable = t->pa->dumpable;
	core->thp_disable = t->pa->thp_disable;
	core->child_subreaper = t->pa->subreaper;
	core->pdeath_sig = t->pa->pdeath_sig;
	core->xcomp_perm = t->pa->xcomp_perm;
}

/*
 * The first look (task_check_dumpable) came before the seize: what is saved
 * (ids, group, session, name, mm fields) must come from after it.
 */
int task_reread(struct dump_task *t)
{
	int r = proc_read_status(t->pid, &t->status);

	if (r < 0)
		return log_error_errno(r, "cannot read the status of task %d", t->pid);
	r = proc_read_stat(t->pid, &t->stat);
	if (r < 0)
		return log_error_errno(r, "cannot read the stat of task %d", t->pid);
	/* Frozen now: the namespaces of every thread are read by ns_collect(). */
	return 0;
}

int task_dump_core(struct dump_ctx *ctx, struct dump_task *t)
{
	TaskCoreEntry *core = ANEW(TaskCoreEntry);
	int r;

	if (!core)
		return -ENOMEM;
	task_core_entry__init(core);
	t->core = core;
	core->pid = t->pid;
	core->n_ns_pid = t->status.nr_nspid;
	core->ns_pid = arena_memdup(t->status.nspid, sizeof(int) * t->status.nr_nspid);
	core->ppid = t->stat.ppid;
	core->pgid = t->stat.pgid;
	core->sid = t->stat.sid;
	core->comm = arena_strdup(t->stat.comm);
	core->umask = t->status.umask;
	core->exit_signal = t->stat.exit_signal;
	core->tty_foreground = t->stat.tty_nr && t->stat.tpgid == t->stat.pgid;
	if (!core->comm || !core->ns_pid)
		return -ENOMEM;
	if ((r = thread_dump(&t->rt, t->pa, &core->thread)) < 0 || (r = dump_creds(t, &core->creds)) < 0 ||
	    (r = dump_rlimits(t, core)) < 0 || (r = dump_sched(t, core)) < 0)
		return r;
	dump_prctl_flags(t, core);
	if ((r = dump_membarrier(t, core)) < 0 || (r = thread_check_spec(&t->rt, t->pid)) < 0)
		return r;
	if ((r = files_dump_dir(ctx, t->pid, "cwd", &core->cwd_id)) < 0 ||
	    (r = files_dump_dir(ctx, t->pid, "root", &core->root_id)) < 0)
		return r;
	return 0;
}

/* ---- restore ---- */

/*
 * The root's parent is outside the tree: at restore it is nestor. With -d
 * nestor exits at once and the kernel would send the signal then, killing
 * (or waking) the task for a death that did not happen: refused by name.
 * Without -d nestor stays its parent until it exits, as the one it had.
 */
static int check_root_pdeath(struct restore_ctx *ctx, const struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;

	if (t->parent != -1 || !ctx->opts->detach)
		return 0;
	for (size_t i = 0; i <= c->n_threads; i++) {
		const ThreadEntry *th = i ? c->threads[i - 1] : c->thread;
		uint32_t sig = i ? th->pdeath_sig : c->pdeath_sig;

		if (sig)
			return log_error_ret(-EOPNOTSUPP, "can't restore: thread %u of root task %u "
							  "has parent-death signal %u; with -d its "
							  "parent, nestor, exits at once (restore "
							  "without -d)", th->tid, t->pid, sig);
	}
	return 0;
}

static bool is_dir_file(const struct restore_ctx *ctx, uint32_t id)
{
	const FileEntry *f = restore_file(ctx, id);

	return f && f->type == FILE_TYPE__DIR;
}

int task_validate(struct restore_ctx *ctx, struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;
	const ThreadEntry *th = c->thread;
	int r;

	if (c->pid != (uint32_t)t->pid || c->pid == 0 || c->pid > 4194304 || !th ||
	    th->tid != c->pid || thread_validate(th) < 0 || c->creds->n_uids != 4 ||
	    c->creds->n_gids != 4 || c->creds->n_groups > RST_MAX_GROUPS ||
	    c->n_rlimits > RST_NLIMITS || c->n_itimers > 3 || strlen(c->comm) > 15 ||
	    c->n_threads != t->pe->n_threads || seccomp_validate(c) < 0)
		return log_error_ret(-EINVAL, "image core-%d.img is corrupted", t->pid);
	if (!is_dir_file(ctx, c->cwd_id) || !is_dir_file(ctx, c->root_id))
		return log_error_ret(-EINVAL, "image core-%d.img is corrupted: its cwd or root is no "
					      "directory of files.img", t->pid);
	for (size_t i = 0; i < c->n_threads; i++)
		if (thread_validate(c->threads[i]) < 0 || c->threads[i]->tid != t->pe->threads[i])
			return log_error_ret(-EINVAL, "image core-%d.img is corrupted: thread %zu",
					     t->pid, i);
	for (size_t i = 0; i < c->n_rlimits; i++) {
		struct rlimit own;

		if (own_hard_limit(i, &own) && c->rlimits[i]->max > own.rlim_max)
			return log_error_ret(-EPERM, "can't restore: task %d's hard RLIMIT_%s is above "
						     "nestor's own", t->pid, rlimit_names[i]);
	}
	if ((c->has_membarrier && c->membarrier & ~(uint32_t)MEMBARRIER_REGISTERS) ||
	    c->pdeath_sig > 64)
		return log_error_ret(-EINVAL, "image core-%d.img is corrupted", t->pid);
	if (threads_check_loginuid(c) < 0)
		return -EPERM;
	if ((r = check_root_pdeath(ctx, t)) < 0)
		return r;
	if (c->oom_score_adj < 0 || c->oom_score_adj > 1000)
		return log_error_ret(-EPERM, "can't restore: task %d's oom_score_adj %d needs "
					     "CAP_SYS_RESOURCE", t->pid, c->oom_score_adj);
	return 0;
}

int task_restore_early(struct restore_ctx *ctx, struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;
	struct sched_attr_k attr = { .size = sizeof(attr), .sched_policy = c->sched_policy,
				     .sched_flags = c->sched_flags, .sched_nice = c->nice,
				     .sched_priority = c->sched_prio };
	char buf[32];

	/*
	 * A shell job that was in the foreground is again (SIGTTOU is blocked
	 * here); its terminal is its fd 0, 1 or 2 by now.
	 */
	if (c->tty_foreground && c->sid != c->pid && ctx->opts->shell_job) {
		int fd = 0;

		while (fd < 3 && !isatty(fd))
			fd++;
		if (fd < 3 && tcsetpgrp(fd, getpgrp()))
			return log_error_errno(-errno, "cannot put task %d in the foreground", t->pid);
	}
	if (prctl(PR_SET_NAME, c->comm, 0, 0, 0))
		return log_error_errno(-errno, "cannot set comm of task %d", t->pid);
	umask(c->umask);
	if (personality(c->personality) < 0)
		return log_error_errno(-errno, "cannot set personality %#x", c->personality);
	if (sys_sched_setattr(0, &attr))
		return log_error_errno(-errno, "cannot set scheduling of task %d", t->pid);
	snprintf(buf, sizeof(buf), "%d", c->oom_score_adj);
	if (write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", buf) < 0)
		return log_error_errno(-errno, "cannot set oom_score_adj of task %d", t->pid);
	if (prctl(PR_SET_TIMERSLACK, c->timerslack_ns, 0, 0, 0))
		return log_error_errno(-errno, "cannot set timer slack of task %d", t->pid);
	if (prctl(PR_SET_CHILD_SUBREAPER, c->child_subreaper, 0, 0, 0) ||
	    prctl(PR_SET_THP_DISABLE, c->thp_disable, 0, 0, 0))
		return log_error_errno(-errno, "cannot set prctl flags of task %d", t->pid);
	/* The parent-death signal is the blob's to set, after the credentials
	 * (a change of credentials clears it). */
	return ioprio_restore(c);
}

/* Validated: 4 uids and gids, at most RST_MAX_GROUPS groups. */
void task_fill_creds(const CredsEntry *cr, struct rst_creds *ret)
{
	memcpy(ret->uids, cr->uids, sizeof(ret->uids));
	memcpy(ret->gids, cr->gids, sizeof(ret->gids));
	if (cr->n_groups) /* no groups: no array at all */
		memcpy(ret->groups, cr->groups, cr->n_groups * sizeof(uint32_t));
	ret->nr_groups = cr->n_groups;
	ret->securebits = cr->securebits;
	ret->cap_inh = cr->cap_inh;
	ret->cap_prm = cr->cap_prm;
	ret->cap_eff = cr->cap_eff;
	ret->cap_bnd = cr->cap_bnd;
	ret->cap_amb = cr->cap_amb;
	ret->no_new_privs = cr->no_new_privs;
}

void task_fill_args(struct restore_task *t, struct rst_args *a)
{
	const TaskCoreEntry *c = t->core;
	const CredsEntry *cr = c->creds;

	task_fill_creds(cr, &a->creds);
	a->creds.dumpable = c->dumpable;
	a->creds.last_cap = kdat.last_cap;
	a->nr_rlimits = c->n_rlimits;
	for (size_t i = 0; i < c->n_rlimits; i++) {
		a->rlimits[i][0] = c->rlimits[i]->cur;
		a->rlimits[i][1] = c->rlimits[i]->max;
	}
	a->xcomp_perm = c->xcomp_perm;
}
