/*
 * Copy-on-write sharing, the restore's plan, made in nestor before the tree
 * (docs/design.md, "Private memory shared copy-on-write"): which areas each
 * task inherits from its parent or stages for its children, and where a
 * staged area goes (its own address, or a place in a window free in every
 * task's layout), reserved so that nothing of nestor's lands there. The
 * dump, the validation and the staging in each task are in cow.c.
 */
#define LOG_PREFIX "cow: "
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "mem/cow.h"
#include "mem/cow-priv.h"
#include "mem/shmem.h"

#define STAGE_GAP (2ULL << 20) /* between staged areas; also their alignment (THP) */
#define STACK_ROOM (9ULL << 20) /* below nestor's stack: its growth and guard gap */

static int cow_arrays(struct restore_task *t)
{
	if (t->cow_how)
		return 0;
	t->cow_how = calloc(t->mm->n_vmas, 1);
	t->cow_at = calloc(t->mm->n_vmas, sizeof(uint64_t));
	t->cow_low = calloc(t->mm->n_vmas, sizeof(uint64_t));
	return t->cow_how && t->cow_at && t->cow_low ? 0 : -ENOMEM;
}

/* Marks the area of t holding a page from the parent, and the parent's area it comes from. */
static void mark_area(struct restore_task *t, struct restore_task *p, uint64_t addr)
{
	const MmEntry *mm = t->mm;
	long a = find_area(mm, addr);
	long j = parent_area(p->mm, mm, a);
	const VmaEntry *v = mm->vmas[a], *pv = p->mm->vmas[j];

	t->cow_how[a] = v->start == pv->start && v->end == pv->end ? COW_INHERIT : COW_RESIZE;
	if (p->cow_how[j] == COW_NONE)
		p->cow_how[j] = COW_FRESH;
	/* Staged from lower down for it (validation: the parent's area is fresh). */
	if (v->start < pv->start)
		p->cow_low[j] = MAX(p->cow_low[j], pv->start - v->start);
}

/*
 * Marks the areas each child inherits, and the parent's areas it inherits
 * them from: for pages shared with the parent, or with siblings from the
 * parent's stage.
 */
static int mark_areas(struct restore_ctx *ctx)
{
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		struct restore_task *t = &ctx->tasks[k], *p;
		const MmEntry *mm = t->mm;

		if (!is_live_task(t) || !mm || (!mm->n_parent_runs && !mm->n_stage_runs))
			continue;
		p = &ctx->tasks[t->parent];
		if (cow_arrays(t) < 0 || cow_arrays(p) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < mm->n_parent_runs; i++)
			mark_area(t, p, mm->parent_runs[i]->vaddr);
		for (size_t i = 0; i < mm->n_stage_runs; i++)
			mark_area(t, p, mm->stage_runs[i]->vaddr);
	}
	return 0;
}

/* nestor's own mappings, which every task inherits; its stack with room to grow. */
struct own_maps {
	uint64_t (*r)[2];
	size_t n;
};

static int read_own_maps(struct own_maps *m)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	if (!f)
		return log_error_errno(-errno, "cannot read /proc/self/maps");
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		uint64_t(*r)[2];

		if (sscanf(line, "%llx-%llx", &s, &e) != 2)
			continue;
		if (!(r = array_add(&m->r, m->n, sizeof(*m->r))))
			return -ENOMEM;
		if (strstr(line, "[stack]"))
			s = s > STACK_ROOM ? s - STACK_ROOM : 0;
		r[0][0] = s;
		r[0][1] = e;
		m->n++;
	}
	return 0;
}

static bool clashes(const struct own_maps *m, uint64_t start, uint64_t end)
{
	start = start > STAGE_GAP ? start - STAGE_GAP : 0;
	end += STAGE_GAP;
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i][0] < end && m->r[i][1] > start)
			return true;
	return false;
}

/* Reserves [start, start + len) in nestor, PROT_NONE; MAP_FIXED only where nothing of nestor's is. */
static int reserve(struct restore_ctx *ctx, uint64_t start, uint64_t len, int how)
{
	uint64_t(*r)[2] = array_add(&ctx->cow_res, ctx->nr_cow_res, sizeof(*ctx->cow_res));

	if (!r)
		return -ENOMEM;
	if (mmap((void *)start, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | how, -1,
		 0) == MAP_FAILED)
		return -errno;
	r[0][0] = start;
	r[0][1] = len;
	ctx->nr_cow_res++;
	return 0;
}

/* A place in the window for area v, with low bytes below it: offset cur, then past it. */
static uint64_t window_slot(uint64_t *cur, const VmaEntry *v, uint64_t low)
{
	uint64_t at;

	/* The same offset in a huge page as at its address: mremap keeps huge pages. */
	at = ((*cur + low + STAGE_GAP - 1) & ~(STAGE_GAP - 1)) + (v->start & (STAGE_GAP - 1));
	*cur = at + v->end - v->start + STAGE_GAP;
	return at;
}

/*
 * Where area i of t is staged. An area is staged at its own address where
 * nothing of nestor's is (mremap keeps an area's anonymous page offset,
 * which decides whether a later neighbour or brk merges with it: at its own
 * address it stays what a plain mapping has), else in the window (COW_WINDOW:
 * an offset there until placed). An inherited area is where the parent's
 * is; one resized since the fork grows or shrinks in place when the
 * parent's is at its own address and the growth is free, else it moves to
 * a place of its own in the window. An area some child's starts below is
 * staged from there (cow_low bytes lower; trimmed after the forks).
 */
static int lay_area(struct restore_ctx *ctx, struct restore_task *t, size_t i,
		    const struct own_maps *own, bool window, uint64_t *cur)
{
	const VmaEntry *v = t->mm->vmas[i];
	const struct restore_task *p = t->parent >= 0 ? &ctx->tasks[t->parent] : NULL;
	long j = p && COW_KIND(t->cow_how[i]) != COW_FRESH ? parent_area(p->mm, t->mm, i) : -1;
	const VmaEntry *pv = j >= 0 ? p->mm->vmas[j] : NULL;
	uint64_t low = t->cow_low[i];
	bool here;

	switch (COW_KIND(t->cow_how[i])) {
	case COW_INHERIT:
		t->cow_how[i] |= p->cow_how[j] & COW_WINDOW;
		t->cow_at[i] = p->cow_at[j];
		return 0;
	case COW_FRESH:
		/* Staged lower down, it must not meet the task's area below (staged too, maybe). */
		here = !window && !clashes(own, v->start - low, v->end) &&
		       (!i || t->mm->vmas[i - 1]->end <= v->start - low) &&
		       reserve(ctx, v->start - low, v->end - v->start + low, MAP_FIXED) == 0;
		break;
	default: /* COW_RESIZE: a lower start is in the parent's staged area already */
		here = !window && !(p->cow_how[j] & COW_WINDOW) &&
		       (v->end <= pv->end || (!clashes(own, pv->end, v->end) &&
					      reserve(ctx, pv->end, v->end - pv->end, MAP_FIXED) == 0));
		break;
	}
	if (here) {
		t->cow_at[i] = v->start;
	} else {
		t->cow_how[i] |= COW_WINDOW;
		t->cow_at[i] = window_slot(cur, v, low);
	}
	return 0;
}

/* Every staged area's place, parents first; the window's length. */
static int lay_out(struct restore_ctx *ctx, uint64_t *ret_len)
{
	struct own_maps own = { 0 };
	uint64_t cur = STAGE_GAP;
	/* A test hook: every area through the window (tests/zdtm/cow_window.c). */
	bool window = getenv("NESTOR_COW_WINDOW") != NULL;
	int r = read_own_maps(&own);

	for (size_t k = 0; r == 0 && k < ctx->nr_tasks; k++) {
		struct restore_task *t = &ctx->tasks[k];

		for (size_t i = 0; r == 0 && t->cow_how && i < t->mm->n_vmas; i++)
			if (t->cow_how[i] != COW_NONE)
				r = lay_area(ctx, t, i, &own, window, &cur);
	}
	free(own.r);
	*ret_len = cur;
	return r;
}

static void place(struct restore_ctx *ctx, uint64_t base)
{
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		struct restore_task *t = &ctx->tasks[k];

		for (size_t i = 0; t->cow_how && i < t->mm->n_vmas; i++)
			if (t->cow_how[i] & COW_WINDOW)
				t->cow_at[i] += base;
	}
}

/* A window free in every task's layout and in nestor for the areas staged elsewhere. */
static int reserve_window(struct restore_ctx *ctx, uint64_t len)
{
	for (uint64_t base = 1ULL << 44; base + len < TASK_SIZE; base += 1ULL << 40) {
		if (!mem_free_in_all(ctx, base, base + len) ||
		    reserve(ctx, base, len, MAP_FIXED_NOREPLACE) < 0)
			continue;
		place(ctx, base);
		pr_debug("staging window %#llx, %llu MiB", (unsigned long long)base,
			 (unsigned long long)(len >> 20));
		return 0;
	}
	return log_error_ret(-ENOMEM, "no room to stage the memory the tasks share");
}

/*
 * Reserved in nestor, so that nothing of nestor's code in the tasks
 * (malloc, the blob's region) lands there: the tasks inherit the
 * reservations, each maps its staged areas over them, and each blob
 * unmaps what it does not keep.
 */
int cow_plan(struct restore_ctx *ctx)
{
	uint64_t len;
	int r = mark_areas(ctx);

	if (r < 0 || (r = lay_out(ctx, &len)) < 0)
		return r;
	return len > STAGE_GAP ? reserve_window(ctx, len) : 0;
}

void cow_free(struct restore_ctx *ctx)
{
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		free(ctx->tasks[k].cow_how);
		free(ctx->tasks[k].cow_at);
		free(ctx->tasks[k].cow_low);
		ctx->tasks[k].cow_how = NULL;
		ctx->tasks[k].cow_at = NULL;
		ctx->tasks[k].cow_low = NULL;
	}
	for (size_t i = 0; i < ctx->nr_cow_res; i++)
		munmap((void *)ctx->cow_res[i][0], ctx->cow_res[i][1]);
	free(ctx->cow_res);
	ctx->cow_res = NULL;
	ctx->nr_cow_res = 0;
}

