/*
 * Private anonymous memory a parent and its children share copy-on-write:
 * pages neither has written since the fork are one physical page in both.
 *
 * Dump: a child's page whose PFN (/proc/PID/pagemap, nestor is root) is
 * its parent's at the same address, in areas of the same kind and flags
 * that overlap (their bounds may differ), is not saved by the child:
 * mm->parent_runs says the parent has it. A page the parent wrote since is saved by the
 * child as any other, unless siblings share it: then it is from the
 * parent's stage (cow-sib.c).
 *
 * Restore: nestor reserves a place free in every task's layout. Each task
 * that has such areas maps and fills them there (staging) in nestor's
 * code before it forks its children, who inherit them copy-on-write: a
 * child keeps of an inherited area only the pages it shares, drops the
 * rest and fills its own pages in their place. Its blob then mremap()s
 * each staged area to its real address: mremap moves the page tables, so
 * the pages stay shared. The plan of what each task stages or inherits,
 * and where, is made in nestor before the tree (cow-plan.c).
 */
#define LOG_PREFIX "cow: "
#include <fcntl.h>
#include <stdio.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/kerndat.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "mem/cow.h"
#include "mem/cow-priv.h"
#include "ns/ns.h"
#include "ns/userns.h"
#include "mem/shmem.h"
#include "tree/proc.h"


/* The area of mm holding addr (areas are sorted), or -1. */
long find_area(const MmEntry *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->n_vmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (mm->vmas[mid]->end <= addr)
			lo = mid + 1;
		else if (mm->vmas[mid]->start > addr)
			hi = mid;
		else
			return (long)mid;
	}
	return -1;
}

/* A task that runs again (not a zombie, not a helper). */
bool is_live_task(const struct restore_task *t)
{
	return !t->zombie && !t->helper;
}

bool cow_kind(const VmaEntry *v)
{
	return v->kind == VMA_ANON && !(v->madv & VMF_DP);
}

/* The first area of mm that ends after addr, or n_vmas. */
static size_t area_after(const MmEntry *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->n_vmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (mm->vmas[mid]->end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The parent's area that area i of a child can share pages with, or -1:
 * of the same kind and flags, overlapping it, the only one either way (no
 * other area of the parent meets the child's, no other of the child's the
 * parent's). The bounds may differ (a heap grown or shrunk by brk, a stack
 * grown down, a head unmapped since the fork): pages are shared where both
 * reach. A child's area that starts lower needs the parent's staged from
 * there, which only an area the parent does not inherit itself can be.
 */
long parent_area(const MmEntry *pmm, const MmEntry *mm, size_t i)
{
	const VmaEntry *v = mm->vmas[i], *pv;
	size_t j = area_after(pmm, v->start);

	if (j == pmm->n_vmas || (pv = pmm->vmas[j])->start >= v->end || !cow_kind(v) ||
	    !cow_kind(pv) || pv->flags != v->flags)
		return -1;
	if ((j + 1 < pmm->n_vmas && pmm->vmas[j + 1]->start < v->end) ||
	    (i > 0 && mm->vmas[i - 1]->end > pv->start) ||
	    (i + 1 < mm->n_vmas && mm->vmas[i + 1]->start < pv->end))
		return -1;
	if (v->start < pv->start && (meets(pmm->parent_runs, pmm->n_parent_runs, pv->start, pv->end) ||
				     meets(pmm->stage_runs, pmm->n_stage_runs, pv->start, pv->end)))
		return -1;
	return (long)j;
}

/* ---- dump ---- */

/* Adds n pages at addr; a run never crosses into another area (vma_start). */
int push(struct runs *rl, uint64_t addr, uint64_t n, uint64_t vma_start)
{
	PageRunEntry *last = rl->nr ? rl->v[rl->nr - 1] : NULL;

	rl->pages += n;
	if (last && last->vaddr >= vma_start && last->vaddr + last->nr_pages * PAGE_SIZE == addr) {
		last->nr_pages += n;
		return 0;
	}
	if (!(last = ANEW(PageRunEntry)))
		return -ENOMEM;
	page_run_entry__init(last);
	last->vaddr = addr;
	last->nr_pages = n;
	return arena_push(&rl->v, &rl->nr, &rl->cap, last);
}

/* One physical page, present in both (never the zero page: it is not saved at all). */
static bool same_page(uint64_t c, uint64_t p)
{
	uint64_t pfn = c & PM_PFN_MASK;

	if ((c & (PM_PRESENT | PM_SWAP)) != PM_PRESENT || (p & (PM_PRESENT | PM_SWAP)) != PM_PRESENT)
		return false;
	return pfn && pfn == (p & PM_PFN_MASK) && !(kdat.has_zero_pfn && pfn == kdat.zero_pfn);
}

/*
 * Splits a run of the child: pages at its parent's PFN, inside the
 * parent's area (from lo to hi), to from, the others to own.
 */
static int split_run(const int fds[2], const PageRunEntry *r, uint64_t vma_start,
		     uint64_t lo, uint64_t hi, struct runs *own, struct runs *from)
{
	static uint64_t cb[PM_BATCH], pb[PM_BATCH];
	uint64_t addr = MIN(MAX(r->vaddr, lo), run_end(r)), end_run = run_end(r);
	uint64_t end = MIN(end_run, MAX(hi, addr));
	int e;

	/* Before the start of the parent's area: the child's own. */
	if (addr > r->vaddr && (e = push(own, r->vaddr, (addr - r->vaddr) / PAGE_SIZE, vma_start)) < 0)
		return e;

	while (addr < end) {
		size_t n = MIN((end - addr) / PAGE_SIZE, PM_BATCH);
		off_t off = addr / PAGE_SIZE * 8;

		if ((e = pread_all(fds[0], cb, n * 8, off)) < 0 ||
		    (e = pread_all(fds[1], pb, n * 8, off)) < 0)
			return log_error_errno(e, "cannot read pagemap at %llx",
					       (unsigned long long)addr);
		for (size_t i = 0; i < n; i++, addr += PAGE_SIZE) {
			e = push(same_page(cb[i], pb[i]) ? from : own, addr, 1, vma_start);
			if (e < 0)
				return e;
		}
	}
	/* Past the end of the parent's area: the child's own. */
	return end < end_run ? push(own, end, (end_run - end) / PAGE_SIZE, vma_start) : 0;
}

int open_pagemap(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? log_error_errno(-errno, "cannot open %s", path) : fd;
}

int cow_dump(struct dump_ctx *ctx, struct dump_task *t, MmEntry *mm)
{
	const struct dump_task *p = t->parent >= 0 ? &ctx->tasks[t->parent] : NULL;
	/* A parent sharing its own parent's memory (CLONE_VM) has no mm of its own: not here. */
	const MmEntry *pmm = p ? p->mm : NULL;
	struct runs own = { 0 }, from = { 0 };
	int fds[2] = { -1, -1 }, r = 0;

	/* The children of an owned init are forked by a proxy, not by it
	 * (ns/pid-owned.c): they inherit nothing from it. */
	if (!pmm || !mm->n_runs || userns_owned_init(ctx, p))
		return 0;
	if ((fds[0] = open_pagemap(t->pid)) < 0 || (fds[1] = open_pagemap(p->pid)) < 0) {
		r = fds[0] < 0 ? fds[0] : fds[1];
		goto out;
	}
	for (size_t i = 0; i < mm->n_runs && r == 0; i++) {
		const PageRunEntry *run = mm->runs[i];
		long a = find_area(mm, run->vaddr); /* runs are inside areas */
		const VmaEntry *v = mm->vmas[a];
		long j = parent_area(pmm, mm, a);

		if (j < 0)
			r = push(&own, run->vaddr, run->nr_pages, v->start);
		else
			r = split_run(fds, run, v->start, pmm->vmas[j]->start, pmm->vmas[j]->end,
				      &own, &from);
	}
	if (r < 0)
		goto out;
	mm->runs = own.v;
	mm->n_runs = own.nr;
	mm->nr_pages = own.pages;
	mm->parent_runs = from.v;
	mm->n_parent_runs = from.nr;
	if (from.pages)
		pr_info("task %d: %llu pages shared with its parent %d, %llu of its own",
			t->pid, (unsigned long long)from.pages, p->pid,
			(unsigned long long)own.pages);
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

/* ---- validation ---- */

/* The run of runs[n] (sorted) holding addr, or NULL. */
const PageRunEntry *run_at(PageRunEntry *const *runs, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (runs[mid]->vaddr + runs[mid]->nr_pages * PAGE_SIZE <= addr)
			lo = mid + 1;
		else if (runs[mid]->vaddr > addr)
			hi = mid;
		else
			return runs[mid];
	}
	return NULL;
}

/* The first of runs[n] (sorted, apart) that ends after start, or n. */
size_t first_after(PageRunEntry *const *runs, size_t n, uint64_t start)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (runs[mid]->vaddr + runs[mid]->nr_pages * PAGE_SIZE <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether any of runs[n] (sorted, apart) meets [start, end). */
bool meets(PageRunEntry *const *runs, size_t n, uint64_t start, uint64_t end)
{
	size_t i = first_after(runs, n, start);

	return i < n && runs[i]->vaddr < end;
}

/*
 * Every page of [start, end) the parent saved itself, has from its own
 * parent, or from its parent's stage (shared with its siblings).
 */
static bool parent_has(const MmEntry *pmm, uint64_t start, uint64_t end)
{
	while (start < end) {
		const PageRunEntry *r = run_at(pmm->runs, pmm->n_runs, start);

		if (!r)
			r = run_at(pmm->parent_runs, pmm->n_parent_runs, start);
		if (!r)
			r = run_at(pmm->stage_runs, pmm->n_stage_runs, start);
		if (!r)
			return false;
		start = MIN(end, r->vaddr + r->nr_pages * PAGE_SIZE);
	}
	return true;
}

/* The parent forks the task itself, or through a helper it forked (a dead leader's). */
bool forked_by_parent(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const struct restore_task *c;

	/* Its proxy forks an owned init's children: nothing of the init's memory. */
	if (t->parent >= 0 && pidns_owned_init(ctx, t->parent))
		return false;
	if (t->creator == t->parent)
		return true;
	c = t->creator >= 0 ? &ctx->tasks[t->creator] : NULL;
	return c && c->helper && c->creator == t->parent;
}

int cow_run_shared_area(const MmEntry *mm, const MmEntry *pmm, const PageRunEntry *r,
			uint64_t prev_end)
{
	uint64_t end = run_end(r);
	long i, j;

	if (!r->nr_pages || r->nr_pages > TASK_SIZE / PAGE_SIZE || r->vaddr < prev_end ||
	    r->vaddr & (PAGE_SIZE - 1) || end > TASK_SIZE || end <= r->vaddr)
		return -EINVAL;
	i = find_area(mm, r->vaddr);
	j = i >= 0 ? parent_area(pmm, mm, i) : -1;
	if (j < 0 || mm->vmas[i]->end < end || pmm->vmas[j]->end < end ||
	    pmm->vmas[j]->start > r->vaddr)
		return -EINVAL;
	return 0;
}

/* Inside the area in both: the child inherits the parent's area, nothing beyond. */
static int check_parent_run(const MmEntry *mm, const MmEntry *pmm, const PageRunEntry *r,
			    uint64_t prev_end)
{
	uint64_t end = run_end(r);

	if (cow_run_shared_area(mm, pmm, r, prev_end) < 0 ||
	    meets(mm->runs, mm->n_runs, r->vaddr, end) || !parent_has(pmm, r->vaddr, end))
		return -EINVAL;
	return 0;
}

int cow_validate(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const MmEntry *mm = t->mm, *pmm;
	const struct restore_task *p;
	uint64_t prev_end = 0;

	if (!mm->n_parent_runs && !mm->n_stage_runs)
		return 0;
	/* The parent comes first in the images and is validated already. */
	p = t->parent >= 0 && &ctx->tasks[t->parent] < t ? &ctx->tasks[t->parent] : NULL;
	pmm = p && is_live_task(p) ? p->mm : NULL;
	if (!pmm || !forked_by_parent(ctx, t))
		return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: pages from a parent "
					      "that cannot give them", t->pid);
	for (size_t i = 0; i < mm->n_parent_runs; i++) {
		const PageRunEntry *r = mm->parent_runs[i];

		if (check_parent_run(mm, pmm, r, prev_end) < 0)
			return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: bad pages from "
						      "parent %d at %llx", t->pid, p->pid,
					     (unsigned long long)r->vaddr);
		prev_end = r->vaddr + r->nr_pages * PAGE_SIZE;
	}
	return cow_sib_validate(ctx, t, pmm);
}

/* ---- restore: staging, in the task before it forks ---- */

/* Where the parent staged what area i of t inherits (the place of its start). */
static uint64_t parent_place(const struct restore_ctx *ctx, const struct restore_task *t, size_t i)
{
	const struct restore_task *p = &ctx->tasks[t->parent];

	return p->cow_at[parent_area(p->mm, t->mm, i)];
}

/* Whether the task keeps (or resizes) its parent's staged area at addr. */
static bool keeps(const struct restore_ctx *ctx, const struct restore_task *t, uint64_t addr)
{
	for (size_t i = 0; t->cow_how && i < t->mm->n_vmas; i++) {
		uint8_t kind = COW_KIND(t->cow_how[i]);

		if ((kind == COW_INHERIT || kind == COW_RESIZE) && parent_place(ctx, t, i) == addr)
			return true;
	}
	return false;
}

/* The parent's staged areas this task does not share go back to the reservation. */
static int release_inherited(struct restore_ctx *ctx, struct restore_task *t)
{
	const struct restore_task *p = t->parent >= 0 ? &ctx->tasks[t->parent] : NULL;

	for (size_t j = 0; p && p->cow_how && j < p->mm->n_vmas; j++) {
		uint64_t len = p->mm->vmas[j]->end - p->mm->vmas[j]->start + p->cow_low[j];

		if (!p->cow_at[j] || keeps(ctx, t, p->cow_at[j]))
			continue;
		if (mmap((void *)(p->cow_at[j] - p->cow_low[j]), len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
			return log_error_errno(-errno, "task %d: cannot drop a staged area", t->pid);
	}
	return 0;
}

int open_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Fresh pages straight from the image's page cache (no zeroing); 0 or <0 to fall back. */
static int fill_uffd(int uffd, int pfd, uint64_t dst, uint64_t len, uint64_t off)
{
	struct uffdio_register reg = { .range = { dst, len }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	uint64_t done = 0;
	uint8_t *src;

	if (uffd < 0 || ioctl(uffd, UFFDIO_REGISTER, &reg))
		return -1;
	src = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, pfd, off);
	while (src != MAP_FAILED && done < len) {
		struct uffdio_copy c = { .dst = dst + done, .src = (uint64_t)src + done,
					 .len = len - done };

		ioctl(uffd, UFFDIO_COPY, &c);
		if (c.copy <= 0)
			break;
		done += c.copy;
	}
	if (src != MAP_FAILED)
		munmap(src, len);
	ioctl(uffd, UFFDIO_UNREGISTER, &reg.range);
	return done == len ? 0 : -1;
}

int fill(pid_t pid, int uffd, int pfd, uint64_t dst, uint64_t len, uint64_t off)
{
	int r;

	if (fill_uffd(uffd, pfd, dst, len, off) == 0)
		return 0;
	/* Pages the copy made before failing are in place; pread overwrites them. */
	r = pread_all(pfd, (void *)dst, len, off);
	return r < 0 ? log_error_errno(r, "task %d: failed reading pages of pages-%d.img at "
					  "offset %llu (staged before its children)", pid, pid,
				       (unsigned long long)off) : 0;
}

static int drop(uint64_t start, uint64_t end, uint64_t delta)
{
	if (end > start && madvise((void *)(start + delta), end - start, MADV_DONTNEED))
		return log_error_errno(-errno, "cannot drop staged pages at %llx",
				       (unsigned long long)start);
	return 0;
}

/*
 * Of an inherited area, only the pages shared with the parent, or with
 * siblings from the parent's stage, stay (the two lists are apart).
 */
static int drop_unshared(const MmEntry *mm, const VmaEntry *v, uint64_t delta)
{
	size_t i = first_after(mm->parent_runs, mm->n_parent_runs, v->start);
	size_t k = first_after(mm->stage_runs, mm->n_stage_runs, v->start);
	uint64_t at = v->start;
	int r;

	for (;;) {
		const PageRunEntry *a = i < mm->n_parent_runs ? mm->parent_runs[i] : NULL;
		const PageRunEntry *b = k < mm->n_stage_runs ? mm->stage_runs[k] : NULL;
		const PageRunEntry *kept = a && (!b || a->vaddr < b->vaddr) ? a : b;

		if (!kept || kept->vaddr >= v->end)
			break;
		kept == a ? i++ : k++;
		if ((r = drop(at, kept->vaddr, delta)) < 0)
			return r;
		at = run_end(kept);
	}
	return drop(at, v->end, delta);
}

/* The first of skips (sorted, apart) that ends after addr. */
static size_t first_skip(const struct spans *sk, uint64_t addr)
{
	size_t lo = 0, hi = sk->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sk->v[mid].e <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Fills run r of the task's own pages at delta from its address, but for
 * the pages in skips: those it keeps from its parent's stage (it is their
 * source: the parent staged them from this very file), and those its
 * children keep from its own stage (written after its forks).
 */
static int fill_own(const struct restore_task *t, int uffd, int pfd, const PageRunEntry *r,
		    uint64_t delta, uint64_t off, const struct spans *sk)
{
	uint64_t at = r->vaddr, end = run_end(r);
	int e;

	for (size_t k = first_skip(sk, at); at < end && k < sk->n && sk->v[k].s < end; k++) {
		if (sk->v[k].s > at &&
		    (e = fill(t->pid, uffd, pfd, at + delta, sk->v[k].s - at, off + at - r->vaddr)) < 0)
			return e;
		at = MAX(at, sk->v[k].e);
	}
	return at < end ? fill(t->pid, uffd, pfd, at + delta, end - at, off + at - r->vaddr) : 0;
}

/*
 * The parent's area, inherited: what the parent staged below its start
 * for a sibling, or below this task's start, is unmapped (a head unmapped
 * since the fork, a stack grown down: one area still); with another end,
 * grown or shrunk in place (the room to grow is nestor's reservation), or
 * moved to the task's own place; mremap keeps the pages shared either way.
 */
static int resize_inherited(const struct restore_ctx *ctx, const struct restore_task *t, size_t i)
{
	const VmaEntry *v = t->mm->vmas[i];
	const struct restore_task *p = &ctx->tasks[t->parent];
	long j = parent_area(p->mm, t->mm, i);
	const VmaEntry *pv = p->mm->vmas[j];
	uint64_t pfrom = parent_place(ctx, t, i), lo = pfrom - p->cow_low[j];
	uint64_t from = pfrom + v->start - pv->start, plen = pv->end - v->start;
	uint64_t len = v->end - v->start;
	void *at;

	if (from > lo && munmap((void *)lo, from - lo))
		return log_error_errno(-errno, "task %d: cannot trim area %llx", t->pid,
				       (unsigned long long)v->start);
	if (COW_KIND(t->cow_how[i]) == COW_INHERIT)
		return 0;

	if (from == t->cow_at[i]) {
		if (len > plen && munmap((void *)(from + plen), len - plen))
			return log_error_errno(-errno, "task %d: cannot grow area %llx", t->pid,
					       (unsigned long long)v->start);
		at = mremap((void *)from, plen, len, 0);
	} else {
		at = mremap((void *)from, plen, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			    (void *)t->cow_at[i]);
	}
	if (at != (void *)t->cow_at[i])
		return log_error_errno(-errno, "task %d: cannot move area %llx from its parent's place",
				       t->pid, (unsigned long long)v->start);
	return 0;
}

/*
 * A freshly staged area stays apart from its neighbours, as at the dump
 * (the blob's map_areas says how): it is mapped and filled without
 * VM_DONTDUMP while every staged neighbour has it, so that it gets an
 * anon_vma of its own (a page touched and dropped if it has none), then
 * gets it too. Its children inherit it so; each task's blob clears it
 * unless the dump saw it.
 */
static int stage_apart(const struct restore_task *t, const VmaEntry *v, uint64_t at, uint64_t low,
		       bool filled)
{
	if (!filled && !(v->madv & VMF_DP)) {
		*(volatile char *)at = 0;
		if (madvise((void *)at, PAGE_SIZE, MADV_DONTNEED))
			return log_error_errno(-errno, "task %d: cannot drop a page of area %llx",
					       t->pid, (unsigned long long)v->start);
	}
	if (madvise((void *)(at - low), v->end - v->start + low, MADV_DONTDUMP))
		return log_error_errno(-errno, "task %d: cannot mark area %llx", t->pid,
				       (unsigned long long)v->start);
	return 0;
}

/* Maps (or keeps) area i at its staging place and fills it with the task's own pages. */
static int stage_area(const struct restore_ctx *ctx, const struct restore_task *t, size_t i,
		      int uffd, int pfd, size_t *ri, uint64_t *off, const struct spans *sk)
{
	const MmEntry *mm = t->mm;
	const VmaEntry *v = mm->vmas[i];
	uint64_t delta = t->cow_at[i] - v->start;
	uint8_t kind = COW_KIND(t->cow_how[i]);
	bool filled = false;
	int r = 0;

	if (kind == COW_FRESH) /* over the reservation, from lower down for some child */
		r = mmap((void *)(t->cow_at[i] - t->cow_low[i]), v->end - v->start + t->cow_low[i],
			 PROT_READ | PROT_WRITE, v->flags | MAP_FIXED, -1, 0) == MAP_FAILED
			    ? log_error_errno(-errno, "task %d: cannot stage area %llx", t->pid,
					      (unsigned long long)v->start)
			    : 0;
	else
		r = resize_inherited(ctx, t, i);
	if (r == 0 && kind != COW_FRESH)
		r = drop_unshared(mm, v, delta);
	for (; r == 0 && *ri < mm->n_runs && mm->runs[*ri]->vaddr < v->end; (*ri)++) {
		uint64_t len = mm->runs[*ri]->nr_pages * PAGE_SIZE;

		r = fill_own(t, uffd, pfd, mm->runs[*ri], delta, *off, sk);
		*off += len;
		filled = true;
	}
	return r == 0 && kind == COW_FRESH ? stage_apart(t, v, t->cow_at[i], t->cow_low[i], filled)
					   : r;
}

int cow_stage(struct restore_ctx *ctx, struct restore_task *t)
{
	const MmEntry *mm = t->mm;
	struct spans sk = { 0 };
	size_t ri = 0;
	uint64_t off = 0;
	char name[64];
	int r, pfd, uffd;

	if ((r = release_inherited(ctx, t)) < 0 || !t->cow_how || (r = cow_sib_skips(ctx, t, &sk)) < 0)
		return r;
	snprintf(name, sizeof(name), "pages-%d.img", t->pid);
	pfd = fd_move_above(img_open_file(ctx->dirfd, name), ctx->fd_base + 1);
	if (pfd < 0) {
		free(sk.v);
		return pfd;
	}
	uffd = open_uffd();
	if (uffd >= 0 && (uffd = fd_move_above(uffd, ctx->fd_base + 1)) < 0)
		uffd = -1; /* pread then */
	for (size_t i = 0; i < mm->n_vmas && r == 0; i++) {
		/* Runs before this area are the blob's to fill. */
		for (; ri < mm->n_runs && mm->runs[ri]->vaddr < mm->vmas[i]->start; ri++)
			off += mm->runs[ri]->nr_pages * PAGE_SIZE;
		if (t->cow_at[i])
			r = stage_area(ctx, t, i, uffd, pfd, &ri, &off, &sk);
	}
	if (r == 0)
		r = cow_sib_stage(ctx, t, uffd);
	if (uffd >= 0)
		close(uffd);
	close(pfd);
	free(sk.v);
	return r;
}

int cow_unstage(struct restore_ctx *ctx, struct restore_task *t)
{
	for (size_t i = 0; is_live_task(t) && t->mm && t->cow_low && i < t->mm->n_vmas; i++) {
		uint64_t low = t->cow_low[i];

		if (low && COW_KIND(t->cow_how[i]) == COW_FRESH &&
		    munmap((void *)(t->cow_at[i] - low), low))
			return log_error_errno(-errno, "task %d: cannot trim staged area %llx", t->pid,
					       (unsigned long long)t->mm->vmas[i]->start);
	}
	return cow_sib_unstage(ctx, t);
}

void cow_fill_args(const struct restore_task *t, struct rst_vma *vmas)
{
	for (size_t i = 0; t->cow_at && i < t->mm->n_vmas; i++)
		vmas[i].stage = t->cow_at[i];
}
