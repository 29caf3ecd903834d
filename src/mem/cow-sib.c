/*
 * Pages siblings share copy-on-write that their parent no longer has (a
 * preforked server: the master forks its workers, then writes its own
 * copy of a page; the workers still share the old one between them).
 *
 * Dump: once every task's memory is collected, for each parent nestor
 * reads the pagemap of each child's own pages (those not at the parent's
 * PFN) in the areas it shares with the parent, and groups the children by
 * PFN at each address: the largest group of two or more there is listed in
 * each member's stage_runs; the first member in tree order keeps the page
 * in its pages file, the others save it no more. A page the parent has
 * from its own parent or its parent's stage is not staged (the parent
 * could not give that back).
 *
 * Restore: the parent, once its staged areas are filled, writes each such
 * page there from its source's pages file (its stage: the page as it was
 * at the forks), forks its children, who keep it as they keep a page of
 * the parent's, and then puts its own page back (or drops it) in its own
 * copy: the kernel copies for the parent, the children keep one page.
 */
#define LOG_PREFIX "cow: "
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/image.h"
#include "core/kerndat.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "mem/cow.h"
#include "mem/cow-priv.h"
#include "ns/userns.h"

/* ---- dump ---- */

struct sib_page {
	uint64_t addr, pfn;
	uint32_t ord; /* the child's rank among its parent's children */
};

struct sib_pages {
	struct sib_page *v;
	size_t nr, cap;
};

/*
 * Each task's children with memory of their own, in tree order, as lists
 * made once: next[k] is the child after k of the same parent, first[p] the
 * first of p's (-1: none). A per-parent scan of every task is quadratic.
 */
struct kin {
	int *first, *next;
};

static int kin_make(const struct dump_ctx *ctx, struct kin *kn)
{
	kn->first = malloc(ctx->nr_tasks * sizeof(int));
	kn->next = malloc(ctx->nr_tasks * sizeof(int));
	if (!kn->first || !kn->next)
		return -ENOMEM;
	for (size_t k = 0; k < ctx->nr_tasks; k++)
		kn->first[k] = kn->next[k] = -1;
	for (size_t k = ctx->nr_tasks; k-- > 0;) {
		const struct dump_task *c = &ctx->tasks[k];

		if (c->parent < 0 || c->zombie || !c->mm)
			continue;
		kn->next[k] = kn->first[c->parent];
		kn->first[c->parent] = k;
	}
	return 0;
}

static size_t kids_of(const struct kin *kn, size_t pi, size_t *kids)
{
	size_t n = 0;

	for (int k = kn->first[pi]; k >= 0; k = kn->next[k])
		kids[n++] = k;
	return n;
}

static int add_page(struct sib_pages *sp, uint64_t addr, uint64_t pfn, uint32_t ord)
{
	if (sp->nr == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 4096;
		struct sib_page *v = realloc(sp->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		sp->v = v;
		sp->cap = cap;
	}
	sp->v[sp->nr++] = (struct sib_page){ addr, pfn, ord };
	return 0;
}

/* A page of its own, in memory: not swapped, not the zero page. */
static uint64_t own_pfn(uint64_t pme)
{
	uint64_t pfn = pme & PM_PFN_MASK;

	if ((pme & (PM_PRESENT | PM_SWAP)) != PM_PRESENT || !pfn ||
	    (kdat.has_zero_pfn && pfn == kdat.zero_pfn))
		return 0;
	return pfn;
}

/* The PFNs of the child's own pages in [start, end), where the parent stages its own. */
static int scan_range(int fd, const MmEntry *pmm, uint64_t start, uint64_t end, uint32_t ord,
		      struct sib_pages *sp)
{
	static uint64_t pm[PM_BATCH];

	while (start < end) {
		size_t n = MIN((end - start) / PAGE_SIZE, PM_BATCH);
		int e = pread_all(fd, pm, n * 8, start / PAGE_SIZE * 8);

		if (e < 0)
			return log_error_errno(e, "cannot read pagemap at %llx",
					       (unsigned long long)start);
		for (size_t i = 0; i < n; i++, start += PAGE_SIZE) {
			uint64_t pfn = own_pfn(pm[i]);

			if (pfn && !run_at(pmm->parent_runs, pmm->n_parent_runs, start) &&
			    !run_at(pmm->stage_runs, pmm->n_stage_runs, start) &&
			    (e = add_page(sp, start, pfn, ord)) < 0)
				return e;
		}
	}
	return 0;
}

/*
 * Whether a child of the task at ci has pages from it in an area that
 * starts below area v: the task stages v from lower down for it, which it
 * could not if v held pages from its own parent's stage (cow.c parent_area).
 */
static bool low_heir(const struct dump_ctx *ctx, size_t ci, const VmaEntry *v)
{
	for (size_t k = ci + 1; k < ctx->nr_tasks; k++) {
		const MmEntry *gm = ctx->tasks[k].mm;
		long a;

		if (ctx->tasks[k].parent != (int)ci || ctx->tasks[k].zombie || !gm)
			continue;
		a = find_area(gm, v->start);
		if (a >= 0 && gm->vmas[a]->start < v->start &&
		    meets(gm->parent_runs, gm->n_parent_runs, v->start, gm->vmas[a]->end))
			return true;
	}
	return false;
}

/* Every own page of the child (at ci) in an area it shares with the parent. */
static int scan_kid(const struct dump_ctx *ctx, size_t ci, const MmEntry *pmm, uint32_t ord,
		    struct sib_pages *sp)
{
	const struct dump_task *c = &ctx->tasks[ci];
	const MmEntry *mm = c->mm;
	int fd = open_pagemap(c->pid), r = 0;

	if (fd < 0)
		return fd;
	for (size_t i = 0; i < mm->n_runs && r == 0; i++) {
		const PageRunEntry *run = mm->runs[i];
		long a = find_area(mm, run->vaddr);
		long j = parent_area(pmm, mm, a);
		uint64_t lo = j >= 0 ? MAX(run->vaddr, pmm->vmas[j]->start) : 0;

		if (j >= 0 && !low_heir(ctx, ci, mm->vmas[a]))
			r = scan_range(fd, pmm, lo, MIN(run_end(run), pmm->vmas[j]->end), ord, sp);
	}
	close(fd);
	return r;
}

static int by_addr_pfn(const void *a, const void *b)
{
	const struct sib_page *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->pfn != y->pfn)
		return x->pfn < y->pfn ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* What the grouping gives each child: pages it keeps from the stage, pages it saves no more. */
struct kid_lists {
	struct runs stage, unsaved;
};

static int add_run(struct runs *rl, const MmEntry *mm, uint64_t addr)
{
	return push(rl, addr, 1, mm->vmas[find_area(mm, addr)]->start);
}

/*
 * At each address, the largest group (two or more) of children at one
 * PFN: a stage page for each, saved by the first only. sp is sorted.
 */
static int group(const struct dump_ctx *ctx, const size_t *kids, const struct sib_pages *sp,
		 struct kid_lists *kl)
{
	for (size_t i = 0; i < sp->nr;) {
		size_t end = i, best = i, best_n = 0;
		int r;

		while (end < sp->nr && sp->v[end].addr == sp->v[i].addr)
			end++;
		for (size_t g = i; g < end;) {
			size_t h = g;

			while (h < end && sp->v[h].pfn == sp->v[g].pfn)
				h++;
			if (h - g > best_n) {
				best = g;
				best_n = h - g;
			}
			g = h;
		}
		for (size_t m = best; best_n >= 2 && m < best + best_n; m++) {
			const MmEntry *mm = ctx->tasks[kids[sp->v[m].ord]].mm;
			struct kid_lists *l = &kl[sp->v[m].ord];

			if ((r = add_run(&l->stage, mm, sp->v[m].addr)) < 0 ||
			    (m > best && (r = add_run(&l->unsaved, mm, sp->v[m].addr)) < 0))
				return r;
		}
		i = end;
	}
	return 0;
}

/* The child's runs without the pages it saves no more. */
static int drop_unsaved(MmEntry *mm, const struct runs *unsaved)
{
	struct runs rl = { 0 };
	size_t k = 0;
	int r;

	for (size_t i = 0; i < mm->n_runs; i++) {
		const PageRunEntry *run = mm->runs[i];
		uint64_t at = run->vaddr, end = run_end(run), vs = mm->vmas[find_area(mm, at)]->start;

		for (; k < unsaved->nr && unsaved->v[k]->vaddr < end; k++) {
			const PageRunEntry *u = unsaved->v[k];

			if (u->vaddr > at && (r = push(&rl, at, (u->vaddr - at) / PAGE_SIZE, vs)) < 0)
				return r;
			at = run_end(u);
		}
		if (at < end && (r = push(&rl, at, (end - at) / PAGE_SIZE, vs)) < 0)
			return r;
	}
	mm->runs = rl.v;
	mm->n_runs = rl.nr;
	mm->nr_pages = rl.pages;
	return 0;
}

static int apply(struct dump_ctx *ctx, const size_t *kids, size_t n, struct kid_lists *kl)
{
	for (size_t o = 0; o < n; o++) {
		struct dump_task *c = &ctx->tasks[kids[o]];
		int r;

		if (!kl[o].stage.nr)
			continue;
		/* A run of unsaved pages lies inside one saved run: pages, in order. */
		if (kl[o].unsaved.nr && (r = drop_unsaved(c->mm, &kl[o].unsaved)) < 0)
			return r;
		c->mm->stage_runs = kl[o].stage.v;
		c->mm->n_stage_runs = kl[o].stage.nr;
		pr_info("task %d: %llu pages shared with siblings from parent %d's stage, %llu of "
			"them saved here", c->pid, (unsigned long long)kl[o].stage.pages,
			ctx->tasks[c->parent].pid,
			(unsigned long long)(kl[o].stage.pages - kl[o].unsaved.pages));
	}
	return 0;
}

static int parent_siblings(struct dump_ctx *ctx, const struct kin *kn, size_t pi)
{
	const MmEntry *pmm = ctx->tasks[pi].mm;
	struct sib_pages sp = { 0 };
	struct kid_lists *kl = NULL;
	size_t *kids, n;
	int r = 0;

	/* Less than two children, or an owned init's, forked by a proxy (ns/pid-owned.c):
	 * nothing of its memory to share. */
	if (ctx->tasks[pi].zombie || !pmm || kn->first[pi] < 0 || kn->next[kn->first[pi]] < 0 ||
	    userns_owned_init(ctx, &ctx->tasks[pi]))
		return 0;
	if (!(kids = malloc(ctx->nr_tasks * sizeof(*kids))))
		return -ENOMEM;
	n = kids_of(kn, pi, kids);
	for (size_t o = 0; n >= 2 && o < n && r == 0; o++)
		r = scan_kid(ctx, kids[o], pmm, o, &sp);
	if (r == 0 && sp.nr) {
		qsort(sp.v, sp.nr, sizeof(*sp.v), by_addr_pfn);
		kl = calloc(n, sizeof(*kl));
		r = !kl ? -ENOMEM : group(ctx, kids, &sp, kl);
		if (r == 0)
			r = apply(ctx, kids, n, kl);
	}
	free(kl);
	free(sp.v);
	free(kids);
	return r;
}

int cow_dump_siblings(struct dump_ctx *ctx)
{
	struct kin kn;
	int r = kin_make(ctx, &kn);

	for (size_t k = 0; k < ctx->nr_tasks && r == 0; k++)
		r = parent_siblings(ctx, &kn, k);
	free(kn.first);
	free(kn.next);
	return r;
}

/* ---- validation ---- */

/* Whether a sibling before t (same parent, validated already) has addr from the stage. */
static bool staged_before(const struct restore_ctx *ctx, const struct restore_task *t,
			  uint64_t addr)
{
	for (const struct restore_task *s = &ctx->tasks[t->parent + 1]; s < t; s++)
		if (s->parent == t->parent && is_live_task(s) && s->mm &&
		    run_at(s->mm->stage_runs, s->mm->n_stage_runs, addr))
			return true;
	return false;
}

static int check_stage_run(const struct restore_ctx *ctx, const struct restore_task *t,
			   const MmEntry *pmm, const PageRunEntry *r, uint64_t prev_end)
{
	const MmEntry *mm = t->mm;
	uint64_t end = run_end(r);

	/* In the area in both; not a page of the parent's, nor one it has from its own parent. */
	if (cow_run_shared_area(mm, pmm, r, prev_end) < 0 ||
	    meets(mm->parent_runs, mm->n_parent_runs, r->vaddr, end) ||
	    meets(pmm->parent_runs, pmm->n_parent_runs, r->vaddr, end) ||
	    meets(pmm->stage_runs, pmm->n_stage_runs, r->vaddr, end))
		return -EINVAL;
	/* The first sibling listing a page saves it; the others do not. */
	for (uint64_t a = r->vaddr; a < end; a += PAGE_SIZE)
		if (staged_before(ctx, t, a) == !!run_at(mm->runs, mm->n_runs, a))
			return -EINVAL;
	return 0;
}

int cow_sib_validate(const struct restore_ctx *ctx, const struct restore_task *t,
		     const MmEntry *pmm)
{
	const MmEntry *mm = t->mm;
	uint64_t prev_end = 0;

	for (size_t i = 0; i < mm->n_stage_runs; i++) {
		const PageRunEntry *r = mm->stage_runs[i];

		if (check_stage_run(ctx, t, pmm, r, prev_end) < 0)
			return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: bad pages from "
						      "parent %d's stage at %llx", t->pid,
					     ctx->tasks[t->parent].pid, (unsigned long long)r->vaddr);
		prev_end = run_end(r);
	}
	return 0;
}

/* ---- restore, in the parent ---- */

/* Where the parent staged addr (validation: in one of its staged areas). */
static uint64_t staged_at(const struct restore_task *p, uint64_t addr)
{
	long j = find_area(p->mm, addr);

	return p->cow_at[j] + addr - p->mm->vmas[j]->start;
}

typedef int (*piece_fn)(struct restore_task *p, uint64_t addr, uint64_t len, int fd, uint64_t off,
			void *arg);

/*
 * Calls fn for each piece of c's runs that c keeps from p's stage (c is its
 * source): its address, length and offset in pages-C.img.
 */
static int for_sources(struct restore_ctx *ctx, struct restore_task *p,
		       const struct restore_task *c, piece_fn fn, void *arg)
{
	const MmEntry *mm = c->mm;
	uint64_t off = 0;
	size_t k = 0;
	char name[64];
	int fd = -1, r = 0;

	for (size_t i = 0; i < mm->n_runs && r == 0; off += mm->runs[i]->nr_pages * PAGE_SIZE, i++) {
		const PageRunEntry *run = mm->runs[i];

		for (; r == 0 && k < mm->n_stage_runs && mm->stage_runs[k]->vaddr < run_end(run); k++) {
			uint64_t a = MAX(run->vaddr, mm->stage_runs[k]->vaddr);
			uint64_t b = MIN(run_end(run), run_end(mm->stage_runs[k]));

			if (a >= b)
				continue;
			if (fd < 0) {
				snprintf(name, sizeof(name), "pages-%d.img", c->pid);
				fd = fd_move_above(img_open_file(ctx->dirfd, name), ctx->fd_base + 1);
				if (fd < 0)
					return fd;
			}
			r = fn(p, a, b - a, fd, off + a - run->vaddr, arg);
			if (run_end(mm->stage_runs[k]) > run_end(run))
				break; /* goes on in the next run */
		}
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* The children of p with pages from its stage, in order. */
static int for_stagers(struct restore_ctx *ctx, struct restore_task *p, piece_fn fn, void *arg)
{
	int pi = p - ctx->tasks, r = 0;

	for (size_t k = pi + 1; k < ctx->nr_tasks && r == 0; k++) {
		const struct restore_task *c = &ctx->tasks[k];

		if (c->parent == pi && is_live_task(c) && c->mm && c->mm->n_stage_runs)
			r = for_sources(ctx, p, c, fn, arg);
	}
	return r;
}

static bool has_stagers(const struct restore_ctx *ctx, const struct restore_task *p)
{
	int pi = p - ctx->tasks;

	for (size_t k = pi + 1; k < ctx->nr_tasks; k++)
		if (ctx->tasks[k].parent == pi && is_live_task(&ctx->tasks[k]) &&
		    ctx->tasks[k].mm && ctx->tasks[k].mm->n_stage_runs)
			return true;
	return false;
}

struct stage_arg {
	pid_t src; /* whose pages file */
	int uffd;
};

static int stage_piece(struct restore_task *p, uint64_t addr, uint64_t len, int fd, uint64_t off,
		       void *arg)
{
	struct stage_arg *sa = arg;

	return fill(sa->src, sa->uffd, fd, staged_at(p, addr), len, off);
}

/* Before the forks: the pages the children share, as they were at theirs (missing till now). */
int cow_sib_stage(struct restore_ctx *ctx, struct restore_task *t, int uffd)
{
	struct stage_arg sa = { t->pid, uffd };

	return t->cow_at ? for_stagers(ctx, t, stage_piece, &sa) : 0;
}

static int add_span(struct spans *sp, uint64_t s, uint64_t e)
{
	struct span *v = sp->n == sp->cap ? realloc(sp->v, (sp->cap = sp->cap * 2 + 64) * sizeof(*v))
					  : sp->v;

	if (!v)
		return -ENOMEM;
	sp->v = v;
	sp->v[sp->n++] = (struct span){ s, e };
	return 0;
}

static int skip_piece(struct restore_task *p, uint64_t addr, uint64_t len, int fd, uint64_t off,
		      void *arg)
{
	return add_span(arg, addr, addr + len);
}

static int by_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

int cow_sib_skips(struct restore_ctx *ctx, struct restore_task *t, struct spans *ret)
{
	const MmEntry *mm = t->mm;
	int r = 0;

	for (size_t i = 0; i < mm->n_stage_runs && r == 0; i++)
		r = add_span(ret, mm->stage_runs[i]->vaddr, run_end(mm->stage_runs[i]));
	if (r == 0 && has_stagers(ctx, t))
		r = for_stagers(ctx, t, skip_piece, ret);
	/* Apart: the children's are at pages the task has not from its own parent's stage. */
	if (r == 0)
		qsort(ret->v, ret->n, sizeof(*ret->v), by_start);
	return r;
}

struct own_file {
	int fd, uffd;
	pid_t pid;
	uint64_t *offs; /* each run's offset in pages-P.img */
};

/* The parent's own page back over the stage, or none where it had none. */
static int unstage_piece(struct restore_task *p, uint64_t addr, uint64_t len, int fd, uint64_t off,
			 void *arg)
{
	const MmEntry *mm = p->mm;
	struct own_file *of = arg;
	uint64_t end = addr + len;
	int r;

	(void)fd;
	(void)off;
	if (madvise((void *)staged_at(p, addr), len, MADV_DONTNEED))
		return log_error_errno(-errno, "task %d: cannot drop its stage at %llx", p->pid,
				       (unsigned long long)addr);
	for (size_t i = first_after(mm->runs, mm->n_runs, addr);
	     i < mm->n_runs && mm->runs[i]->vaddr < end; i++) {
		uint64_t a = MAX(addr, mm->runs[i]->vaddr), b = MIN(end, run_end(mm->runs[i]));

		r = fill(p->pid, of->uffd, of->fd, staged_at(p, a), b - a,
			 of->offs[i] + a - mm->runs[i]->vaddr);
		if (r < 0)
			return r;
	}
	return 0;
}

int cow_sib_unstage(struct restore_ctx *ctx, struct restore_task *t)
{
	struct own_file of = { -1, -1, 0, NULL };
	char name[64];
	int r;

	if (!is_live_task(t) || !t->mm || !t->cow_at || !has_stagers(ctx, t))
		return 0;
	snprintf(name, sizeof(name), "pages-%d.img", t->pid);
	if ((of.fd = fd_move_above(img_open_file(ctx->dirfd, name), ctx->fd_base + 1)) < 0)
		return of.fd;
	if (!(of.offs = malloc((t->mm->n_runs + 1) * sizeof(*of.offs)))) {
		close(of.fd);
		return -ENOMEM;
	}
	for (size_t i = 0, off = 0; i < t->mm->n_runs; off += t->mm->runs[i++]->nr_pages * PAGE_SIZE)
		of.offs[i] = off;
	of.uffd = open_uffd();
	if (of.uffd >= 0 && (of.uffd = fd_move_above(of.uffd, ctx->fd_base + 1)) < 0)
		of.uffd = -1; /* pread then */
	r = for_stagers(ctx, t, unstage_piece, &of);
	if (of.uffd >= 0)
		close(of.uffd);
	free(of.offs);
	close(of.fd);
	return r;
}
