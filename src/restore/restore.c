/*
 * The restore, from the top: every image is read and validated before
 * anything is created; then the tree is made and driven (driver.c), the
 * pidfile written, and nestor waits for the root unless it detaches.
 */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/cr.h"
#include "core/kerndat.h"
#include "core/log.h"
#include "core/util.h"
#include "files/files.h"
#include "files/locks.h"
#include "files/tty.h"
#include "infect/vdso.h"
#include "mem/cow.h"
#include "mem/mem.h"
#include "net/sockets.h"
#include "ns/ns.h"
#include "ns/userns.h"
#include "restore/restore-priv.h"
#include "restore/restore.h"
#include "tree/cgroup.h"
#include "tree/proc.h"
#include "tree/pstree.h"
#include "tree/signals.h"
#include "tree/task.h"
#include "tree/timers.h"

static int read_files(struct restore_ctx *ctx)
{
	struct img img;
	void *m;
	int r;

	r = img_open(ctx->dirfd, IMG_FILES, 0, &img);
	if (r < 0)
		return r;
	while ((r = img_read(&img, &m)) > 0) {
		FileEntry **n = array_add(&ctx->files, ctx->nr_files, sizeof(*n));

		if (!n) {
			img_free(IMG_FILES, m);
			r = -ENOMEM;
			break;
		}
		ctx->nr_files++;
		*n = m;
	}
	img_close(&img);
	return r;
}


static int read_task_images(struct restore_ctx *ctx, struct restore_task *t)
{
	ProtobufCAllocator in_region;
	int r;

	if (!is_live(t))
		return 0;
	/* A task forks its children with its own images and theirs only (tree.c). */
	region_allocator(&t->images, &in_region);
	img_set_allocator(&in_region);
	if ((r = img_read_one(ctx->dirfd, IMG_CORE, t->pid, (void **)&t->core)) < 0 ||
	    (t->vm_owner < 0 && (r = img_read_one(ctx->dirfd, IMG_MM, t->pid, (void **)&t->mm)) < 0) ||
	    (r = img_read_one(ctx->dirfd, IMG_FDINFO, t->pid, (void **)&t->fdinfo)) < 0) {
		img_set_allocator(NULL);
		return r;
	}
	img_set_allocator(NULL);
	return 0;
}

/* The inventory lists the tree's tasks, helpers aside, in the tree's order. */
static int inventory_matches(const struct restore_ctx *ctx)
{
	size_t k = 0;
	bool same = ctx->tasks[0].pid == (pid_t)ctx->inv->root_pid;

	for (size_t i = 0; same && i < ctx->nr_tasks; i++) {
		if (ctx->tasks[i].helper)
			continue;
		same = k < ctx->inv->n_pids && ctx->inv->pids[k] == (uint32_t)ctx->tasks[i].pid;
		k++;
	}
	if (!same || k != ctx->inv->n_pids)
		return log_error_ret(-EINVAL, "images inventory.img and pstree.img disagree");
	return 0;
}

static int read_images(struct restore_ctx *ctx)
{
	InventoryEntry *inv;
	int r;

	if (faccessat(ctx->dirfd, "inventory.img", F_OK, AT_SYMLINK_NOFOLLOW))
		return log_error_ret(-ENOENT, "can't restore: %s holds no complete dump "
					      "(no inventory.img)", ctx->opts->dir);
	r = img_read_one(ctx->dirfd, IMG_INVENTORY, 0, (void **)&ctx->inv);
	if (r < 0)
		return r;
	inv = ctx->inv;
	if (inv->page_size != PAGE_SIZE || inv->root_pid == 0)
		return log_error_ret(-EINVAL, "image inventory.img is corrupted or from another machine");
	if ((r = pstree_read(ctx)) < 0 || (r = read_files(ctx)) < 0 ||
	    (r = sockets_read_backlog(ctx)) < 0)
		return r;
	if ((r = inventory_matches(ctx)) < 0 || (r = ns_read(ctx)) < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if ((r = read_task_images(ctx, &ctx->tasks[i])) < 0)
			return r;
	return pidns_validate_owned(ctx);
}

static int validate_fds(struct restore_ctx *ctx, struct restore_task *t)
{
	for (size_t i = 0; i < t->fdinfo->n_fds; i++) {
		const FdEntry *e = t->fdinfo->fds[i];
		const FileEntry *f = restore_file(ctx, e->file_id);

		if (!f || f->flags == (uint32_t)-1 || e->fd > 1 << 20 ||
		    (i && e->fd <= t->fdinfo->fds[i - 1]->fd))
			return log_error_ret(-EINVAL, "image fdinfo-%d.img is corrupted", t->pid);
		if (f->type == FILE_TYPE__TTY && !ctx->opts->shell_job)
			return log_error_ret(-EINVAL, "can't restore: task %d had a terminal; restore "
						      "with --shell-job", t->pid);
	}
	return 0;
}

static bool same_fds(const FdinfoEntry *a, const FdinfoEntry *b)
{
	if (a->n_fds != b->n_fds)
		return false;
	for (size_t i = 0; i < a->n_fds; i++)
		if (a->fds[i]->fd != b->fds[i]->fd || a->fds[i]->file_id != b->fds[i]->file_id ||
		    a->fds[i]->cloexec != b->fds[i]->cloexec)
			return false;
	return true;
}

static bool same_path(struct restore_ctx *ctx, uint32_t a, uint32_t b)
{
	const FileEntry *x = restore_file(ctx, a), *y = restore_file(ctx, b);

	return x && y && !strcmp(x->path, y->path);
}

static bool same_actions(const TaskCoreEntry *a, const TaskCoreEntry *b)
{
	if (a->n_sigactions != b->n_sigactions)
		return false;
	for (size_t i = 0; i < a->n_sigactions; i++) {
		const SigactionEntry *x = a->sigactions[i], *y = b->sigactions[i];

		if (x->sig != y->sig || x->handler != y->handler || x->flags != y->flags ||
		    x->restorer != y->restorer || x->mask != y->mask)
			return false;
	}
	return true;
}

/*
 * What a task shares with its parent is made once, by the parent: the
 * task's own images must say the same, or it would come back silently
 * different from them.
 */
static int validate_sharing(struct restore_ctx *ctx, struct restore_task *t)
{
	const struct restore_task *p = t->parent >= 0 ? &ctx->tasks[t->parent] : NULL;
	const char *what = NULL, *img = "core";

	if (!p || !is_live(p))
		return 0;
	if (t->pe->clone_files && !same_fds(t->fdinfo, p->fdinfo)) {
		what = "descriptor table";
		img = "fdinfo";
	} else if (t->pe->clone_fs && (!same_path(ctx, t->core->cwd_id, p->core->cwd_id) ||
				       !same_path(ctx, t->core->root_id, p->core->root_id) ||
				       t->core->umask != p->core->umask)) {
		what = "cwd, root or umask";
	} else if (t->pe->clone_sighand && !same_actions(t->core, p->core)) {
		what = "signal actions";
	}
	if (what)
		return log_error_ret(-EINVAL, "images %s-%d.img and %s-%d.img are corrupted: the "
					      "tasks share their %s, which differ", img, t->pid, img,
				     p->pid, what);
	return 0;
}

#define PF_EXITING    0x4 /* in /proc/PID/stat's flags: the task is in do_exit() */
#define DYING_WAIT_MS 5000

/* A task that will never run its own code again: killed, exiting, or a zombie. */
static bool dying(pid_t pid)
{
	struct proc_status st;
	struct proc_stat ps;

	if (proc_read_stat(pid, &ps) < 0 || ps.state == 'Z' || ps.state == 'X' ||
	    ps.flags & PF_EXITING)
		return true;
	return proc_read_status(pid, &st) < 0 || (st.sig_pnd | st.shd_pnd) & (1ULL << (SIGKILL - 1));
}

/*
 * The pid must be free. One held by a dying task (the one a dump just
 * killed: nestor does not wait for its memory to be freed) is waited for,
 * 5 s at most.
 */
static int check_free(pid_t pid)
{
	char p[32];

	snprintf(p, sizeof(p), "/proc/%d", pid);
	for (int ms = 0; !access(p, F_OK); ms += 10) {
		if (ms >= DYING_WAIT_MS || !dying(pid))
			return log_error_ret(-EEXIST,
					     "can't restore: pid %d is taken by a running process",
					     pid);
		if (ms == 0)
			pr_debug("pid %d is held by a dying task: waiting for it", pid);
		usleep(10000);
	}
	return 0;
}

static int validate(struct restore_ctx *ctx)
{
	int r;

	bool host = !ctx->images_only;

	if ((r = files_validate(ctx)) < 0 || (host && (r = vdso_validate(ctx->inv)) < 0))
		return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct restore_task *t = &ctx->tasks[i];

		if (host && (r = check_free(t->pid)) < 0)
			return r;
		for (size_t k = 0; host && k < t->pe->n_threads; k++)
			if ((r = check_free(t->pe->threads[k])) < 0)
				return r;
		if (!is_live(t))
			continue;
		if ((r = task_validate(ctx, t)) < 0 || (r = signals_validate(t)) < 0 ||
		    (r = timers_validate(t)) < 0 || (host && (r = cgroup_validate(t)) < 0) ||
		    (t->mm && (r = mem_validate(ctx, t)) < 0) || (r = validate_fds(ctx, t)) < 0 ||
		    (r = locks_validate(t)) < 0 || (r = tty_validate_ctty(ctx, t)) < 0 ||
		    (r = validate_sharing(ctx, t)) < 0)
			return r;
		ctx->fd_base = MAX(ctx->fd_base, files_max_fd(t) + 1);
	}
	ctx->fd_base = MAX(ctx->fd_base, 3);
	return 0;
}

/* Proves the pidfile can be made, before anything else is: made and removed again. */
static int pidfile_prepare(struct pidfile *pf, const char *path)
{
	int fd;

	pf->path = path;
	if (!path)
		return 0;
	if ((size_t)snprintf(pf->tmp, sizeof(pf->tmp), "%s.nestor-%d", path, getpid()) >=
	    sizeof(pf->tmp))
		return log_error_ret(-ENAMETOOLONG, "cannot create pidfile %s: name too long", path);
	fd = open(pf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return log_error_errno(-errno, "cannot create pidfile %s", path);
	close(fd);
	unlink(pf->tmp);
	return 0;
}

int pidfile_commit(struct pidfile *pf, pid_t pid)
{
	char buf[32];
	int fd, r;

	if (!pf->path)
		return 0;
	fd = open(pf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return log_error_errno(-errno, "cannot create pidfile %s", pf->path);
	pf->made = true;
	snprintf(buf, sizeof(buf), "%d", pid);
	r = write_all(fd, buf, strlen(buf));
	close(fd);
	if (r < 0)
		return log_error_errno(r, "cannot write pidfile %s", pf->path);
	if (rename(pf->tmp, pf->path))
		return log_error_errno(-errno, "cannot create pidfile %s", pf->path);
	pf->made = false;
	pf->committed = true;
	return 0;
}

void pidfile_abort(struct pidfile *pf)
{
	if (pf->made)
		unlink(pf->tmp);
	if (pf->committed)
		unlink(pf->path);
	pf->made = pf->committed = false;
}

void restore_ctx_free(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		img_free(IMG_FILES, ctx->files[i]);
	free(ctx->files);
	img_free(IMG_INVENTORY, ctx->inv);
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		img_free(IMG_PSTREE, ctx->tasks[i].pe);
		/* core, mm and fdinfo go with their region. */
		region_free(&ctx->tasks[i].images);
	}
	cow_free(ctx);
	free(ctx->pid_slots);
	ctx->pid_slots = NULL;
	free(ctx->tasks);
	ns_restore_free(ctx);
	for (size_t i = 0; i < ctx->nr_shms; i++)
		if (ctx->shms[i].addr)
			munmap((void *)ctx->shms[i].addr, ctx->shms[i].size);
	free(ctx->shms);
	if (ctx->dirfd >= 0)
		close(ctx->dirfd);
	if (ctx->proc_fd >= 0)
		close(ctx->proc_fd);
	ctx->proc_fd = -1;
}

int cr_restore(const struct opts *o)
{
	struct restore_ctx ctx = { .opts = o, .dirfd = -1, .proc_fd = -1 };
	struct pidfile pf = { 0 };
	int r, status;
	pid_t pid;

	ctx.dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx.dirfd < 0) {
		r = log_error_errno(-errno, "can't restore: cannot open images dir %s", o->dir);
		goto out;
	}
	r = log_init(o->verbosity, ctx.dirfd, o->log_file);
	if (r < 0) {
		log_error_errno(r, "cannot open log file %s", o->log_file);
		goto out;
	}
	if ((r = kerndat_init()) < 0 || (r = read_images(&ctx)) < 0)
		goto out;
	pr_debug("images read");
	if ((r = validate(&ctx)) < 0)
		goto out;
	pr_debug("images validated");
	if ((r = pidfile_prepare(&pf, o->pidfile)) < 0 || (r = task_reports_prepare(&ctx)) < 0 ||
	    (r = ns_restore(&ctx)) < 0 ||
	    (r = userns_restore_limits(&ctx)) < 0)
		goto out;
	r = pid = run_restore(&ctx, &pf);
	if (r < 0)
		goto out;
	pr_info("tree of task %d restored (%zu tasks)", pid, ctx.nr_tasks);
	if (o->detach) {
		r = 0;
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	if (r < 0)
		pidfile_abort(&pf);
	restore_ctx_free(&ctx);
	return r;
}

int restore_check_images(const struct opts *o, struct restore_ctx *ctx)
{
	*ctx = (struct restore_ctx){ .opts = o, .dirfd = -1, .images_only = true };
	ctx->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->dirfd < 0)
		return log_error_errno(-errno, "can't restore: cannot open images dir %s", o->dir);
	int r = read_images(ctx);

	return r < 0 ? r : validate(ctx);
}
