/* The dump orchestrator: check, seize, collect, write, then kill or release. */
#define LOG_PREFIX "dump: "
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include "arena.h"
#include "cr.h"
#include "files.h"
#include "kerndat.h"
#include "log.h"
#include "mem.h"
#include "signals.h"
#include "task.h"
#include "util.h"
#include "vdso.h"

/* The task may have changed between the first look and the seize. */
static int recheck_seized(struct dump_ctx *ctx, struct dump_task *t)
{
	struct proc_status st;
	int r = proc_read_status(t->pid, &st);

	if (r < 0)
		return log_error_errno(r, "cannot read the status of task %d", t->pid);
	if (st.threads > 1)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d has %d threads (not supported yet)",
				     t->pid, st.threads);
	t->status = st;
	return 0;
}

static int find_gadget(struct dump_task *t)
{
	for (int i = 0; i < t->nr_vmas; i++)
		if (!strcmp(t->vmas[i].path, "[vdso]"))
			return remote_find_gadget(&t->rt, t->vmas[i].start, t->vmas[i].end);
	return log_error_ret(-EOPNOTSUPP, "can't dump: task %d has no vdso", t->pid);
}

static int write_images(struct dump_ctx *ctx, struct dump_task *t)
{
	struct img img;
	int r;

	/*
	 * Every collector has run, so every refusal has been made: only now is
	 * an earlier dump in this dir overwritten.
	 */
	ctx->overwriting = true;
	unlinkat(ctx->dirfd, "inventory.img", 0);
	if ((r = img_write_one(ctx->dirfd, IMG_CORE, t->pid, t->core)) < 0 ||
	    (r = img_write_one(ctx->dirfd, IMG_FDINFO, t->pid, t->fdinfo)) < 0 ||
	    (r = mem_write(ctx, t)) < 0)
		return r;
	r = img_create(ctx->dirfd, IMG_FILES, 0, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->files.nr && r == 0; i++)
		r = img_write(&img, ctx->files.files[i]);
	img_close(&img);
	if (r < 0)
		return r;
	/* The inventory goes last: an image dir without one is an unfinished dump. */
	r = img_write_one(ctx->dirfd, IMG_INVENTORY, 0, ctx->inv);
	if (r < 0)
		return r;
	if (syncfs(ctx->dirfd))
		return log_error_errno(-errno, "cannot sync the images");
	return 0;
}

static int fill_inventory(struct dump_ctx *ctx, struct dump_task *t)
{
	InventoryEntry *inv = ANEW(InventoryEntry);
	struct utsname u;

	if (!inv)
		return -ENOMEM;
	inventory_entry__init(inv);
	uname(&u);
	inv->root_pid = t->pid;
	inv->n_pids = 1;
	inv->pids = arena_memdup(&t->pid, sizeof(uint32_t));
	inv->shell_job = ctx->opts->shell_job;
	inv->kernel = arena_strdup(u.release);
	inv->dump_time_ns = now_ns(CLOCK_REALTIME);
	inv->page_size = PAGE_SIZE;
	ctx->inv = inv;
	return vdso_dump(t->pid, t->vmas, t->nr_vmas, inv);
}

static int collect(struct dump_ctx *ctx, struct dump_task *t)
{
	int r;

	if ((r = recheck_seized(ctx, t)) < 0 ||
	    (r = proc_read_vmas(t->pid, &t->vmas, &t->nr_vmas)) < 0 || (r = find_gadget(t)) < 0 ||
	    (r = fill_inventory(ctx, t)) < 0)
		return r;
	pr_debug("task %d: seized, %d areas", t->pid, t->nr_vmas);
	if ((r = task_dump_core(ctx, t)) < 0 || (r = signals_dump(t)) < 0)
		return r;
	pr_debug("task %d: core and signals collected", t->pid);
	if ((r = files_dump_fds(ctx, t)) < 0 || (r = mem_dump(ctx, t)) < 0)
		return r;
	pr_debug("task %d: files and memory collected", t->pid);
	return write_images(ctx, t);
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

int cr_dump(const struct opts *o)
{
	struct dump_ctx ctx = { .opts = o, .dirfd = -1 };
	struct dump_task t = { .pid = o->pid };
	int r;

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
	pr_debug("dumping task %d into %s", o->pid, o->dir);
	r = task_check_dumpable(&ctx, o->pid, &t);
	if (r < 0)
		goto out;
	r = remote_seize(o->pid, &t.rt);
	if (r < 0)
		goto out;
	t.seized = true;
	r = collect(&ctx, &t);
	if (r < 0 || o->leave_running) {
		/* Nothing is killed unless every image is written and synced. */
		int rr = remote_release(&t.rt);
		if (r == 0)
			r = rr;
		if (r < 0 && ctx.overwriting)
			unlinkat(ctx.dirfd, "inventory.img", 0);
		goto out;
	}
	pr_debug("images written and synced; killing task %d", o->pid);
	kill(o->pid, SIGKILL);
	{
		int status;
		wait_stopped(o->pid, &status);
	}
out:
	free(t.vmas);
	arena_free_all();
	if (ctx.dirfd >= 0)
		close(ctx.dirfd);
	return r;
}
