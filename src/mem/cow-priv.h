/* What cow.c and cow-sib.c share: area and run lookups, the run builder. */
#ifndef NESTOR_COW_PRIV_H
#define NESTOR_COW_PRIV_H

#include "core/model.h"
#include "core/util.h"

#define TASK_SIZE 0x7ffffffff000ULL
#define PM_BATCH  8192

struct runs {
	PageRunEntry **v;
	size_t nr, cap;
	uint64_t pages;
};

/* The area of mm holding addr (areas are sorted), or -1. */
long find_area(const MmEntry *mm, uint64_t addr);
/* The parent's area that area v of a child can share pages with, or -1. */
long parent_area(const MmEntry *pmm, const MmEntry *mm, size_t i);
/* Whether run r (after prev_end) is a valid run inside the child's area and
 * the parent's matching one, which reaches its start: 0, or -EINVAL. */
int cow_run_shared_area(const MmEntry *mm, const MmEntry *pmm, const PageRunEntry *r,
			uint64_t prev_end);
bool cow_kind(const VmaEntry *v);
/* A task that runs again (not a zombie, not a helper). */
bool is_live_task(const struct restore_task *t);
/* The parent forks the task itself, or through a helper it forked. */
bool forked_by_parent(const struct restore_ctx *ctx, const struct restore_task *t);

/* Adds n pages at addr; a run never crosses into another area (vma_start). */
int push(struct runs *rl, uint64_t addr, uint64_t n, uint64_t vma_start);
int open_pagemap(pid_t pid);

/* The run of runs[n] (sorted) holding addr, or NULL. */
const PageRunEntry *run_at(PageRunEntry *const *runs, size_t n, uint64_t addr);
/* The first of runs[n] (sorted, apart) that ends after start, or n. */
size_t first_after(PageRunEntry *const *runs, size_t n, uint64_t start);
/* Whether any of runs[n] (sorted, apart) meets [start, end). */
bool meets(PageRunEntry *const *runs, size_t n, uint64_t start, uint64_t end);

static inline uint64_t run_end(const PageRunEntry *r)
{
	return r->vaddr + r->nr_pages * PAGE_SIZE;
}

int open_uffd(void);
/* len bytes at off of a pages file (pid's) to dst: UFFDIO_COPY where missing, else pread. */
int fill(pid_t pid, int uffd, int pfd, uint64_t dst, uint64_t len, uint64_t off);

/* Address ranges [s, e), sorted and apart. */
struct spans {
	struct span {
		uint64_t s, e;
	} *v;
	size_t n, cap;
};

/* cow-sib.c: pages siblings share without their parent. */
int cow_sib_validate(const struct restore_ctx *ctx, const struct restore_task *t,
		     const MmEntry *pmm);
/* The task's pages its own staging does not fill: its stage pages, its children's. */
int cow_sib_skips(struct restore_ctx *ctx, struct restore_task *t, struct spans *ret);
/* Its children's pages from its stage, in its staged areas, before it forks them. */
int cow_sib_stage(struct restore_ctx *ctx, struct restore_task *t, int uffd);
/* After the forks: the task's own pages back over its stage. */
int cow_sib_unstage(struct restore_ctx *ctx, struct restore_task *t);

#endif
