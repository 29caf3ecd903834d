/*
 * What nestor does at the restore for the helpers of pid namespaces owned
 * by inner user namespaces and for threads made inside them (ns/pid-owned.c
 * has the why): the helpers it traces (noted at their first stop, killed
 * with the tree), the clones that came out wrong (victims: their deaths
 * are no task's), and the cursor assist, one clone at a time: the queue of
 * requests on the status pipe, the cursors set, the word sent, and for a
 * thread the proof of its tids and nestor's answer.
 */
#define LOG_PREFIX "restore: "
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "ns/ns.h"
#include "restore/restore-priv.h"
#include "restorer/restorer-abi.h"
#include "tree/proc.h"
#include "tree/pstree.h"

void assist_init(struct assist_state *as, int *pidfds)
{
	*as = (struct assist_state){ .pidfds = pidfds, .assist_fd = -1 };
}

void assist_kill_helpers(struct assist_state *as)
{
	for (size_t i = 0; i < as->nr_helpers; i++)
		if (as->helper_fds[i] >= 0)
			sys_pidfd_send_signal(as->helper_fds[i], SIGKILL);
}

void assist_free(struct assist_state *as)
{
	for (size_t i = 0; i < as->nr_helpers; i++)
		if (as->helper_fds[i] >= 0)
			close(as->helper_fds[i]);
	if (as->assist_busy)
		pidns_assist_end(as->assist_saved);
	if (as->assist_fd >= 0)
		close(as->assist_fd);
	free(as->helper_pids);
	free(as->helper_fds);
	free(as->assists);
	free(as->victims);
}

/* Once: the task of that pid may yet be made, and die for real. */
bool assist_is_victim(struct assist_state *as, pid_t pid)
{
	for (size_t i = 0; i < as->nr_victims; i++)
		if (as->victims[i] == pid) {
			as->victims[i] = as->victims[--as->nr_victims];
			return true;
		}
	return false;
}

/* A wrong clone with a pid of the tree: its death is none of the task's, nor its pidfd. */
static int note_victim(struct restore_ctx *ctx, struct assist_state *as, pid_t pid)
{
	int idx = pstree_index(ctx, pid);
	pid_t *v = realloc(as->victims, (as->nr_victims + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	as->victims = v;
	v[as->nr_victims++] = pid;
	if (idx >= 0 && as->pidfds[idx] >= 0) {
		close(as->pidfds[idx]);
		as->pidfds[idx] = -1;
	}
	return 0;
}

static bool is_helper(const struct assist_state *as, pid_t pid)
{
	for (size_t i = 0; i < as->nr_helpers; i++)
		if (as->helper_pids[i] == pid)
			return true;
	return false;
}

void assist_note_helper(struct restore_ctx *ctx, struct assist_state *as, pid_t pid)
{
	pid_t *p;
	int *f;

	if (is_helper(as, pid))
		return;
	p = realloc(as->helper_pids, (as->nr_helpers + 1) * sizeof(*p));
	if (p)
		as->helper_pids = p;
	f = p ? realloc(as->helper_fds, (as->nr_helpers + 1) * sizeof(*f)) : NULL;
	if (!f)
		return;
	as->helper_fds = f;
	p[as->nr_helpers] = pid;
	f[as->nr_helpers++] = fd_move_above(sys_pidfd_open(pid, 0), ctx->fd_base + 1);
}

static pid_t assist_want(const struct restore_ctx *ctx, const struct assist_req *a)
{
	const PstreeEntry *e = ctx->tasks[a->idx].pe;

	return a->thread < 0 ? (pid_t)e->ns_pid[0] : (pid_t)e->thread_pids[a->thread]->nr[0];
}

/* The next queued clone gets its cursors, then its word to go. */
static int assist_next(struct restore_ctx *ctx, struct assist_state *as)
{
	struct assist_req *a = as->assists;
	char path[64];
	int fd, r;

	if (as->assist_busy || !as->nr_assists)
		return 0;
	/* Everything but the word itself before the cursors: strangers fork
	 * on the machine's level meanwhile, so the gap to the clone is kept short. */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", a->pid, a->fd);
	fd = fd_move_above(open(path, O_WRONLY | O_CLOEXEC), ctx->fd_base + 1);
	if (fd < 0)
		return log_error_errno(-errno, "cannot reach the helper of task %d",
				       ctx->tasks[a->idx].pid);
	if ((r = pidns_assist_begin(ctx, a->idx, a->thread, &as->assist_saved)) < 0) {
		close(fd);
		return r;
	}
	as->assist_busy = true;
	if (write(fd, "g", 1) != 1)
		r = log_error_errno(-errno, "cannot wake the helper of task %d",
				    ctx->tasks[a->idx].pid);
	if (a->thread >= 0 && r == 0)
		as->assist_fd = fd;
	else
		close(fd);
	/* The machine's cursor goes back as soon as the pid is taken: the
	 * next pids after it are often the tree's too. */
	pr_debug("assist: cursors set for %d, word sent", assist_want(ctx, a));
	if (r == 0 && pidns_assist_taken(assist_want(ctx, a))) {
		pidns_assist_end(as->assist_saved);
		as->assist_saved = -1;
	}
	pr_debug("assist: cursor back");
	return r;
}

/* The thread of another tid than asked: the one of task pid that no image names. */
static pid_t stray_thread(const struct restore_ctx *ctx, int idx)
{
	const PstreeEntry *e = ctx->tasks[idx].pe;
	_cleanup_closedir_ DIR *d;
	struct dirent *de;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/task", e->pid);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d))) {
		int tid;
		bool known = false;

		if (parse_int(de->d_name, &tid) < 0 || (uint32_t)tid == e->pid)
			continue;
		for (size_t k = 0; k < e->n_threads && !known; k++)
			known = e->threads[k] == (uint32_t)tid &&
				pstree_owner(ctx, tid) == idx;
		if (!known)
			return tid;
	}
	return 0;
}

static bool same_vec(const int *a, const uint32_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((uint32_t)a[i] != b[i])
			return false;
	return true;
}

/* A thread the blob made: its whole vector, or it goes and is made again. */
static int thread_made(struct restore_ctx *ctx, struct assist_state *as, const struct assist_req *a)
{
	const PstreeEntry *e = ctx->tasks[a->idx].pe;
	const PidVecEntry *v = e->thread_pids[a->thread];
	struct proc_status st;
	const char *say = "k";
	pid_t stray;
	int r = 0;

	/* /proc/TID is the thread's own, hidden from listings. */
	if (proc_read_status(v->nr[0], &st) < 0 || st.tgid != (int)e->pid ||
	    st.nr_nspid != (int)v->n_nr ||
	    !same_vec(st.nspid, v->nr, v->n_nr)) {
		stray = stray_thread(ctx, a->idx);
		pr_debug("thread %u of task %u came out as %d (levels %d, innermost %d, tgid %d): again",
			 v->nr[0], e->pid, stray, st.nr_nspid,
			 st.nr_nspid > 0 ? st.nspid[st.nr_nspid - 1] : -1, st.tgid);
		if (++as->assist_retries > 16)
			r = log_error_ret(-EBUSY, "can't restore: thread %u of task %u came out "
					  "with tid %d: another process took it meanwhile",
					  v->nr[0], e->pid, stray);
		else if (stray && (r = note_victim(ctx, as, stray)) == 0)
			pidns_wait_free(v->nr[0]);
		say = r < 0 ? "x" : "r";
	}
	if (write(as->assist_fd, say, 1) != 1 && r == 0)
		r = log_error_errno(-errno, "cannot answer task %u", e->pid);
	close(as->assist_fd);
	as->assist_fd = -1;
	return r;
}

int assist_on_status(struct restore_ctx *ctx, struct assist_state *as, const struct rst_status *st)
{
	bool thread = st->step == RST_STEP_ASSIST_THREAD || st->step == RST_STEP_ASSISTED_THREAD;
	struct assist_req *a, req = { st->pid, -1, (int)st->len, -1 };
	int r = 0;

	if (st->step == RST_STEP_ASSISTED || st->step == RST_STEP_ASSISTED_THREAD) {
		if (!as->assist_busy)
			return log_error_ret(-EIO, "a helper said it cloned unasked");
		pidns_assist_end(as->assist_saved);
		as->assist_busy = false;
		if (thread)
			r = thread_made(ctx, as, as->assists);
		if (!thread && st->len && st->len < INT32_MAX && note_victim(ctx, as, st->len) < 0)
			return -ENOMEM;
		memmove(as->assists, as->assists + 1, --as->nr_assists * sizeof(*a));
		if (r < 0)
			return r;
		return st->err < 0 ? st->err : assist_next(ctx, as); /* the helper logged why */
	}
	if (thread) {
		req.idx = pstree_owner(ctx, st->addr);
		for (size_t k = 0; req.idx >= 0 && k < ctx->tasks[req.idx].pe->n_threads; k++)
			if (ctx->tasks[req.idx].pe->threads[k] == st->addr)
				req.thread = k;
		if (req.idx < 0 || req.thread < 0 || ctx->tasks[req.idx].pid != st->pid)
			return log_error_ret(-EIO, "task %d asked for a thread not its own", st->pid);
	} else {
		req.idx = st->addr < ctx->nr_tasks ? (int)st->addr : -1;
		if (req.idx < 0 || !pidns_owned_init(ctx, req.idx))
			return log_error_ret(-EIO, "a helper asked for the wrong task");
	}
	if (st->len > INT32_MAX)
		return log_error_ret(-EIO, "a helper asked with a bad descriptor");
	a = realloc(as->assists, (as->nr_assists + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	as->assists = a;
	a[as->nr_assists++] = req;
	return assist_next(ctx, as);
}

