/* The dump orchestrator: check, seize the tree, collect, write, then kill
 * or release. */
#define LOG_PREFIX "dump: "
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include "core/arena.h"
#include "core/cr.h"
#include "tree/cgroup.h"
#include "files/files.h"
#include "core/fault.h"
#include "core/kerndat.h"
#include "core/log.h"
#include "mem/cow.h"
#include "mem/mem.h"
#include "ns/ns.h"
#include "ns/userns.h"
#include "infect/parasite.h"
#include "infect/rop.h"
#include "tree/kill.h"
#include "tree/pstree.h"
#include "tree/seccomp.h"
#include "tree/signals.h"
#include "tree/task.h"
#include "tree/thread.h"
#include "tree/timers.h"
#include "core/util.h"
#include "infect/vdso.h"


/*
 * A big tree holds a connection per parasite, then a pidfd per task for the
 * killer, at once: as many descriptors as nestor may have (the hard limit;
 * above it needs CAP_SYS_RESOURCE).
 */
static void raise_nofile(void)
{
	struct rlimit nofile;

	if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
}

static int find_gadget(struct dump_task *t)
{
	for (int i = 0; i < t->nr_vmas; i++)
		if (!strcmp(t->vmas[i].path, "[vdso]"))
			return remote_find_gadget(&t->rt, t->vmas[i].start, t->vmas[i].end);
	return log_error_ret(-EOPNOTSUPP, "can't dump: task %d has no vdso", t->pid);
}

/*
 * A Ctrl-C (or SIGTERM) while the tree is held must not leave it stopped
 * with its signals blocked: it ends the dump at the next task, and the tree
 * is released as it was.
 */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	interrupted = sig;
}

static void catch_interrupts(void)
{
	struct sigaction sa = { .sa_handler = on_interrupt };
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int check_interrupted(void)
{
	if (interrupted)
		return log_error_ret(-EINTR, "dump interrupted by signal %d; the tree goes on as it was",
				     (int)interrupted);
	return 0;
}

static int write_task(struct dump_ctx *ctx, struct dump_task *t)
{
	int r;

	if (t->zombie)
		return 0;
	if ((r = img_write_one(ctx->dirfd, IMG_CORE, t->pid, t->core)) < 0 ||
	    (r = img_write_one(ctx->dirfd, IMG_FDINFO, t->pid, t->fdinfo)) < 0 ||
	    (!t->clone_vm && (r = mem_write(ctx, t)) < 0))
		return r;
	return 0;
}

/* The inventory is written under this name and renamed into place last. */
#define INVENTORY_PART "inventory.img.part"

static int write_files(struct dump_ctx *ctx)
{
	struct img img;
	int r = img_create(ctx->dirfd, IMG_FILES, 0, &img);

	for (size_t i = 0; r == 0 && i < ctx->files.nr; i++)
		r = img_write(&img, ctx->files.files[i]);
	if (r == 0 || img.fd >= 0)
		img_close(&img);
	return r;
}

/* len bytes of room in img's file, after its header, that its writes then fill. */
static int reserve(struct img *img, long len)
{
	static const char zero[4096];

	if (!fallocate(img->fd, 0, img->off, len))
		return 0;
	if (errno != EOPNOTSUPP)
		return log_error_errno(-errno, "cannot reserve %ld bytes for %s", len, img->name);
	for (long done = 0; done < len; done += sizeof(zero))
		if (pwrite(img->fd, zero, MIN((long)sizeof(zero), len - done), img->off + done) < 0)
			return log_error_errno(-errno, "cannot reserve %ld bytes for %s", len,
					       img->name);
	return 0;
}

/* backlog.img with room for what the commit writes, if it has anything to do. */
static int prepare_commit(struct dump_ctx *ctx, struct img *img)
{
	long len = files_dump_commit_size(ctx);
	int r;

	if (len <= 0)
		return len;
	if ((r = img_create(ctx->dirfd, IMG_BACKLOG, 0, img)) < 0)
		return r;
	return reserve(img, len);
}

/*
 * The irreversible step, then only what cannot fail for want of room:
 * backlog.img fills the room reserved, is cut to its size and synced, and
 * the inventory, written and synced before, is renamed into place.
 */
static int commit(struct dump_ctx *ctx, struct img *backlog)
{
	int r = files_dump_commit(ctx, backlog);

	if (r == 0 && backlog->fd >= 0 &&
	    (ftruncate(backlog->fd, backlog->off) || fsync(backlog->fd)))
		r = log_error_errno(-errno, "cannot write %s", backlog->name);
	img_close(backlog);
	if (r == 0 && renameat(ctx->dirfd, INVENTORY_PART, ctx->dirfd, "inventory.img"))
		r = log_error_errno(-errno, "cannot write inventory.img");
	if (r == 0)
		fault_point("end-decided");
	if (r == 0 && fsync(ctx->dirfd))
		r = log_error_errno(-errno, "cannot sync the images");
	return r;
}

static int write_images(struct dump_ctx *ctx)
{
	struct img backlog = { .fd = -1 };
	int r;

	/*
	 * Every collector has run, so every refusal has been made: only now is
	 * an earlier dump in this dir overwritten.
	 */
	ctx->overwriting = true;
	unlinkat(ctx->dirfd, "inventory.img", 0);
	unlinkat(ctx->dirfd, "backlog.img", 0);
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if ((r = check_interrupted()) < 0 || (r = write_task(ctx, &ctx->tasks[i])) < 0)
			return r;
	/* The inventory's content too: an image dir without inventory.img is an unfinished dump. */
	if ((r = ns_dump(ctx)) < 0 || (r = ns_dump_commit(ctx)) < 0 || (r = pstree_write(ctx)) < 0 ||
	    (r = write_files(ctx)) < 0 ||
	    (r = img_write_one_named(ctx->dirfd, IMG_INVENTORY, INVENTORY_PART, ctx->inv)) < 0 ||
	    (r = prepare_commit(ctx, &backlog)) < 0)
		goto fail;
	if (syncfs(ctx->dirfd)) {
		r = log_error_errno(-errno, "cannot sync the images");
		goto fail;
	}
	if (!faccessat(ctx->dirfd, "inventory.img", F_OK, AT_SYMLINK_NOFOLLOW)) {
		r = log_error_ret(-EEXIST, "cannot write inventory.img: something is in its place");
		goto fail;
	}
	/* From the inventory's rename on, the tree dies whole, even with nestor (kill.c). */
	if ((r = fault_point("end-synced")) < 0 ||
	    (!ctx->opts->leave_running && (r = pstree_hold(ctx)) < 0))
		goto fail;
	/*
	 * The last point of refusal: what comes after cannot be undone (the
	 * connections waiting in listeners' backlogs are taken), so interrupts
	 * are not heard any more.
	 */
	if ((r = check_interrupted()) < 0)
		goto fail;
	return commit(ctx, &backlog);
fail:
	img_close(&backlog);
	return r;
}

/* A dump that failed once it began to write leaves no part of its commit behind. */
static void discard_unfinished(struct dump_ctx *ctx)
{
	unlinkat(ctx->dirfd, "inventory.img", 0);
	unlinkat(ctx->dirfd, INVENTORY_PART, 0);
	unlinkat(ctx->dirfd, "backlog.img", 0);
}

static int fill_inventory(struct dump_ctx *ctx)
{
	InventoryEntry *inv = ANEW(InventoryEntry);
	struct dump_task *root = &ctx->tasks[0];
	struct utsname u;

	if (!inv)
		return -ENOMEM;
	inventory_entry__init(inv);
	uname(&u);
	inv->root_pid = root->pid;
	inv->n_pids = ctx->nr_tasks;
	inv->pids = ANEW_ARRAY(uint32_t, ctx->nr_tasks);
	if (!inv->pids)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		inv->pids[i] = ctx->tasks[i].pid;
	inv->shell_job = ctx->opts->shell_job;
	inv->kernel = arena_strdup(u.release);
	inv->dump_time_ns = now_ns(CLOCK_REALTIME);
	inv->page_size = PAGE_SIZE;
	ctx->inv = inv;
	return vdso_dump(root->pid, root->vmas, root->nr_vmas, inv);
}

/* What needs the task stopped as seized; ends with its parasite running. */
static int start_task(struct dump_ctx *ctx, struct dump_task *t)
{
	int r;

	if (t->zombie)
		return 0;
	/* A task sharing its parent's memory has its vDSO too: no smaps to read. */
	if (t->clone_vm) {
		const struct remote *o = &ctx->tasks[t->parent].rt;

		t->rt.gadget = o->gadget;
		t->rt.rop_syscall = o->rop_syscall;
		t->rt.rop_sigret = o->rop_sigret;
		t->rt.vmas = o->vmas;
		t->rt.nr_vmas = o->nr_vmas;
	} else {
		if ((r = proc_read_vmas(t->pid, &t->vmas, &t->nr_vmas)) < 0 ||
		    (r = find_gadget(t)) < 0)
			return r;
		rop_find(&t->rt, t->vmas, t->nr_vmas);
		t->rt.vmas = t->vmas;
		t->rt.nr_vmas = t->nr_vmas;
	}
	t->pa = arena_alloc(sizeof(*t->pa));
	if (!t->pa)
		return -ENOMEM;
	return parasite_start(t, t->pa);
}

static int collect_task(struct dump_ctx *ctx, struct dump_task *t)
{
	int r;

	if (t->zombie)
		return 0;
	if ((r = parasite_finish(t, t->pa)) < 0)
		return r;
	pr_debug("task %d: seized, %d areas", t->pid, t->nr_vmas);
	if ((r = task_dump_core(ctx, t)) < 0 || (r = signals_dump(t)) < 0 ||
	    (r = threads_dump(t)) < 0 || (r = timers_dump(t)) < 0 || (r = seccomp_dump(t)) < 0 ||
	    (r = cgroup_dump(t)) < 0)
		return r;
	/* A thread's own credentials, as its user namespace sees them too. */
	for (size_t k = 0; k < t->core->n_threads; k++)
		if (t->core->threads[k]->creds &&
		    (r = userns_creds_inside(ctx, t, t->core->threads[k]->creds)) < 0)
			return r;
	pr_debug("task %d: core and signals collected", t->pid);
	/* A task sharing its parent's memory: the owner saves it. */
	if ((r = files_dump_fds(ctx, t)) < 0 || (!t->clone_vm && (r = mem_dump(ctx, t)) < 0))
		return r;
	pr_debug("task %d: files and memory collected", t->pid);
	return 0;
}

/*
 * Every task's parasite is started before the first is waited for: they
 * run side by side while nestor goes on. A task sharing its parent's memory
 * starts its own once the owner's areas are collected: no parasite must be
 * among them.
 */
static int collect_tasks(struct dump_ctx *ctx)
{
	int r = 0, rr;

	for (size_t i = 0; i < ctx->nr_tasks && r == 0; i++) {
		struct dump_task *t = &ctx->tasks[i];

		r = check_interrupted();
		if (r == 0 && !t->clone_vm)
			r = start_task(ctx, t);
	}
	/* Even after a failure: every parasite parks before the release. */
	rr = parasite_finish_all(ctx->tasks, ctx->nr_tasks);
	r = r ? r : rr;
	for (size_t i = 0; i < ctx->nr_tasks && r == 0; i++) {
		struct dump_task *t = &ctx->tasks[i];

		r = check_interrupted();
		if (r == 0 && t->clone_vm)
			r = start_task(ctx, t);
		if (r == 0)
			r = collect_task(ctx, t);
		if (r == 0 && i == 0)
			r = fill_inventory(ctx);
	}
	return r;
}

static int collect(struct dump_ctx *ctx)
{
	int r;

	/* userns_check needs what the layout check found shared (CLONE_FS). */
	if ((r = ns_collect(ctx)) < 0 || (r = pstree_check_layout(ctx)) < 0 ||
	    (r = userns_check(ctx)) < 0 || (r = collect_tasks(ctx)) < 0 ||
	    (r = cow_dump_siblings(ctx)) < 0)
		return r;
	pr_debug("every task collected");
	if ((r = files_dump_finish(ctx)) < 0)
		return r;
	pr_debug("shared objects checked");
	r = write_images(ctx);
	if (r == 0)
		pr_debug("images written and synced");
	else
		ns_dump_abort(ctx);
	return r;
}

static int open_dir(const char *dir, bool create)
{
	int fd;

	if (create && mkdir(dir, 0700) && errno != EEXIST)
		return log_error_errno(-errno, "cannot create images dir %s", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open images dir %s", dir);
	return fd;
}

static void free_ctx(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		free(ctx->tasks[i].vmas);
		free(ctx->tasks[i].threads);
	}
	free(ctx->tasks);
	pidmap_free(&ctx->by_pid);
	free(ctx->helpers);
	free(ctx->mapped);
	free(ctx->descs);
	ns_dump_free(ctx);
	arena_free_all();
	if (ctx->dirfd >= 0)
		close(ctx->dirfd);
}

int cr_dump(const struct opts *o)
{
	struct dump_ctx ctx = { .opts = o, .dirfd = -1, .killer_fd = -1, .hold_wr = -1 };
	int r, rr;


	ctx.dirfd = r = open_dir(o->dir, true);
	if (r < 0)
		return r;
	r = log_init(o->verbosity, ctx.dirfd, o->log_file);
	if (r < 0) {
		log_error_errno(r, "cannot open log file %s", o->log_file);
		goto out;
	}
	r = kerndat_init();
	if (r < 0)
		goto out;
	pr_debug("dumping the tree of task %d into %s", o->pid, o->dir);
	raise_nofile();
	catch_interrupts();
	r = pstree_collect(&ctx, o->pid);
	pr_debug("the tree is seized: %zu tasks", ctx.nr_tasks);
	if (r == 0)
		r = collect(&ctx);
	if (r < 0 || o->leave_running) {
		/* Nothing is killed unless every image is written and synced; the
		 * inventory goes before the killer, which kills if it is there. */
		if (r < 0 && ctx.overwriting)
			discard_unfinished(&ctx);
		pstree_unhold(&ctx);
		rr = parasite_finish_all(ctx.tasks, ctx.nr_tasks);
		r = r ? r : rr;
		rr = pstree_release(&ctx);
		r = r ? r : rr;
		pr_debug("the tree is released");
		goto out;
	}
	pr_debug("killing the tree of task %d", o->pid);
	pstree_kill(&ctx);
out:
	free_ctx(&ctx);
	return r;
}
