/* Memory areas, mm fields and pages: dump and restore side by side. */
#define LOG_PREFIX "mem: "
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include "core/arena.h"
#include "files/files.h"
#include "core/kerndat.h"
#include "core/log.h"
#include "mem/cow.h"
#include "mem/mem.h"
#include "mem/pages.h"
#include "mem/shmem.h"
#include "ns/ipc.h"
#include "ns/ns.h"
#include "core/sys.h"
#include "core/util.h"
#include "tree/seccomp.h"
#include "tree/thread.h"
#include "infect/vdso.h"

#define TASK_SIZE     0x7ffffffff000ULL
#define PM_BATCH      65536 /* pagemap entries read at once */
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08 /* Linux 6.11; Debian's headers are older */
#endif

/* Flags of areas nestor cannot rebuild: refused at dump with their name. */
static const struct {
	uint64_t flag;
	const char *what;
} vmf_refused[] = {
	{ VMF_IO, "an I/O mapping" },     { VMF_PF, "a PFN mapping" },
	{ VMF_UW, "userfaultfd-wp" },     { VMF_UM, "userfaultfd" },
	{ VMF_SS, "a shadow stack" },     { VMF_SL, "a sealed mapping" },
	{ VMF_DE, "a non-expandable special mapping" },
};

/* Decides what an area is; refuses what cannot come back, naming it. */
static int classify_vma(pid_t pid, uint32_t ipc_ns, const struct proc_vma *v, uint32_t *ret_kind)
{
	const char *p = v->path;

	if (vdso_is_area(p)) {
		*ret_kind = VMA_VDSO;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(vmf_refused); i++)
		if (v->vmflags & vmf_refused[i].flag)
			return log_error_ret(-EOPNOTSUPP,
					     "can't dump: task %d mapping %llx-%llx %s is %s", pid,
					     (unsigned long long)v->start,
					     (unsigned long long)v->end, p, vmf_refused[i].what);
	if (!p[0] || !strcmp(p, "[heap]") || !strcmp(p, "[stack]")) {
		*ret_kind = v->shared ? VMA_SHARED_ANON : VMA_ANON;
		return 0;
	}
	if (!strcmp(p, "/dev/zero (deleted)")) { /* a shmem object, mapped shared or not */
		*ret_kind = v->shared ? VMA_SHARED_ANON : VMA_SHM_PRIVATE;
		return 0;
	}
	/*
	 * A segment belongs to its IPC namespace, not to the tree: tasks outside
	 * may attach it, and its key and id may be taken by the restore. It
	 * comes back with an IPC namespace of the tree's own, which saved it
	 * (src/ns/ipc-sysv.c); the area's inode number is the segment's id.
	 */
	if (!strncmp(p, "/SYSV", 5) && v->shared && ipc_dump_has_shm(ipc_ns, v->ino)) {
		*ret_kind = VMA_SYSV;
		return 0;
	}
	if (!strncmp(p, "/SYSV", 5))
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d mapping %llx-%llx is System V shared memory "
				     "in the host's IPC namespace (not supported)",
				     pid, (unsigned long long)v->start, (unsigned long long)v->end);
	if (p[0] == '/') {
		*ret_kind = v->shared ? VMA_FILE_SHARED : VMA_FILE_PRIVATE;
		return 0;
	}
	return log_error_ret(-EOPNOTSUPP, "can't dump: task %d mapping %llx-%llx is %s (unsupported)",
			     pid, (unsigned long long)v->start, (unsigned long long)v->end, p);
}

/* Areas whose pages the task's own page tables decide; shared objects are saved whole (shmem.c). */
static bool vma_has_pages(uint32_t kind)
{
	return kind == VMA_ANON || kind == VMA_FILE_PRIVATE || kind == VMA_SHM_PRIVATE;
}

/* A private mapping of a file: its pages still in the file's page cache are not copies. */
static bool private_of_file(uint32_t kind)
{
	return kind == VMA_FILE_PRIVATE || kind == VMA_SHM_PRIVATE;
}

/* A droppable area's pages are never saved: they come back empty, as the kernel may make them. */
static bool area_saves_pages(const VmaEntry *v)
{
	return vma_has_pages(v->kind) && !(v->madv & VMF_DP);
}

/* Whether a pagemap entry is a page we must save for an area of this kind. */
static bool page_wanted(uint32_t kind, uint64_t pme)
{
	if (pme & PM_SWAP)
		return true;
	if (!(pme & PM_PRESENT))
		return false;
	if (private_of_file(kind) && (pme & PM_FILE))
		return false; /* still the file's page, not a private copy */
	if (kdat.has_zero_pfn && (pme & PM_PFN_MASK) == kdat.zero_pfn)
		return false; /* only ever read: comes back as zero anyway */
	return true;
}

struct run_list {
	PageRunEntry **runs;
	size_t nr, cap;
	uint64_t pages;
};

/* Adds a page to the runs; a run never crosses into another area (vma_start). */
static int add_page(struct run_list *rl, uint64_t addr, uint64_t vma_start)
{
	PageRunEntry *last = rl->nr ? rl->runs[rl->nr - 1] : NULL;

	rl->pages++;
	if (last && last->vaddr >= vma_start && last->vaddr + last->nr_pages * PAGE_SIZE == addr) {
		last->nr_pages++;
		return 0;
	}
	last = ANEW(PageRunEntry);
	if (!last)
		return -ENOMEM;
	page_run_entry__init(last);
	last->vaddr = addr;
	last->nr_pages = 1;
	return arena_push(&rl->runs, &rl->nr, &rl->cap, last);
}

/* The slow way: one pagemap entry per page, filtered here. */
static int scan_pagemap_read(int pmfd, const VmaEntry *v, struct run_list *rl)
{
	static uint64_t buf[PM_BATCH];
	uint64_t addr = v->start;

	while (addr < v->end) {
		size_t n = MIN((v->end - addr) / PAGE_SIZE, PM_BATCH);
		int r = pread_all(pmfd, buf, n * 8, addr / PAGE_SIZE * 8);

		if (r < 0)
			return log_error_errno(r, "cannot read pagemap at %llx",
					       (unsigned long long)addr);
		for (size_t i = 0; i < n; i++, addr += PAGE_SIZE) {
			if (!page_wanted(v->kind, buf[i]))
				continue;
			r = add_page(rl, addr, v->start);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int add_range(struct run_list *rl, uint64_t start, uint64_t end, uint64_t vma_start)
{
	PageRunEntry *last;
	uint64_t n = (end - start) / PAGE_SIZE;
	int r;

	/* The first page makes or extends a run; the rest extend it. */
	r = add_page(rl, start, vma_start);
	if (r < 0)
		return r;
	last = rl->runs[rl->nr - 1];
	last->nr_pages += n - 1;
	rl->pages += n - 1;
	return 0;
}

/* The part of a scanned region that area v must save, given its categories. */
static int add_region(struct run_list *rl, const VmaEntry *v, const struct pm_page_region *reg)
{
	uint64_t start = MAX(reg->start, v->start), end = MIN(reg->end, v->end);

	if (start >= end || !area_saves_pages(v) || reg->categories & PAGE_IS_PFNZERO)
		return 0; /* the zero page: only ever read, comes back as zero anyway */
	if (private_of_file(v->kind) && reg->categories & PAGE_IS_FILE &&
	    !(reg->categories & PAGE_IS_SWAPPED))
		return 0; /* still the file's page, not a private copy */
	return add_range(rl, start, end, v->start);
}

/*
 * One PAGEMAP_SCAN over the whole address space: the kernel walks only the
 * mapped areas and hands back ranges of present or swapped pages with their
 * categories, which decide per area what to save. Reading pagemap entry by
 * entry, area by area, is the fallback.
 */
static int scan_pages(int pmfd, const MmEntry *mm, struct run_list *rl)
{
	static struct pm_page_region regs[1024];
	struct pm_scan_arg arg = {
		.size = sizeof(arg), .vec = (uint64_t)regs, .vec_len = ARRAY_SIZE(regs),
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_FILE | PAGE_IS_PFNZERO,
	};
	size_t vi = 0;

	if (!mm->n_vmas)
		return 0;
	arg.start = mm->vmas[0]->start;
	arg.end = mm->vmas[mm->n_vmas - 1]->end;
	while (arg.start < arg.end) {
		long n = ioctl(pmfd, PAGEMAP_SCAN, &arg);

		if (n < 0 && (errno == ENOTTY || errno == EINVAL)) {
			for (size_t i = 0; i < mm->n_vmas; i++) /* an older kernel */
				if (area_saves_pages(mm->vmas[i]) &&
				    scan_pagemap_read(pmfd, mm->vmas[i], rl) < 0)
					return -EIO;
			return 0;
		}
		if (n < 0)
			return log_error_errno(-errno, "cannot scan pagemap at %llx",
					       (unsigned long long)arg.start);
		for (long i = 0; i < n; i++) {
			while (vi < mm->n_vmas && mm->vmas[vi]->end <= regs[i].start)
				vi++;
			for (size_t k = vi; k < mm->n_vmas && mm->vmas[k]->start < regs[i].end; k++) {
				int r = add_region(rl, mm->vmas[k], &regs[i]);
				if (r < 0)
					return r;
			}
		}
		if (arg.walk_end <= arg.start)
			break;
		arg.start = arg.walk_end;
	}
	return 0;
}

static int fill_mm_fields(struct dump_task *t, MmEntry *mm)
{
	char path[64];
	_cleanup_free_ char *auxv = NULL;
	int r;

	mm->start_code = t->stat.start_code;
	mm->end_code = t->stat.end_code;
	mm->start_data = t->stat.start_data;
	mm->end_data = t->stat.end_data;
	mm->start_brk = t->stat.start_brk;
	mm->start_stack = t->stat.start_stack;
	mm->arg_start = t->stat.arg_start;
	mm->arg_end = t->stat.arg_end;
	mm->env_start = t->stat.env_start;
	mm->env_end = t->stat.env_end;
	/* The exact break, from the task itself; the heap area's end is page-rounded. */
	mm->brk = t->pa->brk;
	if (mm->brk < mm->start_brk)
		return log_error_ret(-EIO, "task %d: program break %#llx below its start %#llx",
				     t->pid, (unsigned long long)mm->brk,
				     (unsigned long long)mm->start_brk);
	snprintf(path, sizeof(path), "/proc/%d/auxv", t->pid);
	r = read_file_at(AT_FDCWD, path, &auxv, 4096);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", path);
	mm->n_auxv = r / 8;
	mm->auxv = arena_memdup(auxv, r);
	return mm->auxv ? 0 : -ENOMEM;
}

int mem_dump(struct dump_ctx *ctx, struct dump_task *t)
{
	MmEntry *mm = ANEW(MmEntry);
	struct run_list rl = { 0 };
	_cleanup_close_ int pmfd = -1;
	char path[64];
	int r;

	if (!mm)
		return -ENOMEM;
	mm_entry__init(mm);
	mm->vmas = ANEW_ARRAY(VmaEntry *, t->nr_vmas);
	if (!mm->vmas)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", t->pid);
	pmfd = open(path, O_RDONLY | O_CLOEXEC);
	if (pmfd < 0)
		return log_error_errno(-errno, "cannot open %s", path);
	for (int i = 0; i < t->nr_vmas; i++) {
		struct proc_vma *pv = &t->vmas[i];
		VmaEntry *v;
		uint32_t kind;

		if (!strcmp(pv->path, "[vsyscall]"))
			continue; /* the kernel provides it at a fixed place */
		r = classify_vma(t->pid, t->ns ? t->ns[0].id[NS_IPC] : 0, pv, &kind);
		if (r < 0)
			return r;
		v = ANEW(VmaEntry);
		if (!v)
			return -ENOMEM;
		vma_entry__init(v);
		v->start = pv->start;
		v->end = pv->end;
		v->pgoff = pv->pgoff; /* in bytes, as maps shows it */
		v->prot = pv->prot;
		v->kind = kind;
		v->madv = pv->vmflags;
		v->flags = (pv->shared ? MAP_SHARED : pv->vmflags & VMF_DP ? MAP_DROPPABLE : MAP_PRIVATE) |
			   (kind == VMA_ANON || kind == VMA_SHARED_ANON ? MAP_ANONYMOUS : 0) |
			   (pv->vmflags & VMF_GD ? MAP_GROWSDOWN : 0) |
			   (pv->vmflags & VMF_NR ? MAP_NORESERVE : 0);
		if (kind == VMA_FILE_PRIVATE || kind == VMA_FILE_SHARED) {
			r = files_dump_mapped(ctx, t->pid, pv, &v->file_id);
			if (r < 0)
				return r;
			v->has_file_id = true;
		}
		if ((kind == VMA_SHARED_ANON || kind == VMA_SHM_PRIVATE) &&
		    (r = shmem_dump_area(t->pid, v)) < 0)
			return r;
		if (kind == VMA_SYSV) {
			v->has_shmid = true;
			v->shmid = pv->ino;
		}
		if (kind == VMA_VDSO && !(v->name = arena_strdup(pv->path)))
			return -ENOMEM;
		mm->vmas[mm->n_vmas++] = v;
	}
	r = scan_pages(pmfd, mm, &rl);
	if (r < 0 || (r = shmem_dump(ctx, t, mm)) < 0)
		return r;
	mm->runs = rl.runs;
	mm->n_runs = rl.nr;
	mm->nr_pages = rl.pages;
	if ((r = cow_dump(ctx, t, mm)) < 0)
		return r;
	r = fill_mm_fields(t, mm);
	if (r < 0)
		return r;
	r = files_dump_exe(ctx, t->pid, &mm->exe_file_id);
	if (r < 0)
		return r;
	t->mm = mm;
	pr_info("task %d: %zu areas, %llu pages in %zu runs", t->pid, mm->n_vmas,
		(unsigned long long)rl.pages, rl.nr);
	return 0;
}

int mem_write(struct dump_ctx *ctx, struct dump_task *t)
{
	int r = pages_dump(ctx, t, t->mm);

	if (r < 0 || (r = shmem_write(ctx, t, t->mm)) < 0)
		return r;
	return img_write_one(ctx->dirfd, IMG_MM, t->pid, t->mm);
}

/* ---- restore ---- */

/* One type of mapping: shared, private or (anonymous only) droppable. */
static bool map_type_ok(const VmaEntry *v)
{
	uint32_t type = v->flags & (MAP_SHARED | MAP_PRIVATE | MAP_DROPPABLE);

	return type == MAP_SHARED || type == MAP_PRIVATE ||
	       (type == MAP_DROPPABLE && v->kind == VMA_ANON);
}

static int validate_vma(const struct restore_ctx *ctx, const VmaEntry *v, uint64_t prev_end)
{
	const uint32_t flags_ok = MAP_SHARED | MAP_PRIVATE | MAP_DROPPABLE | MAP_ANONYMOUS |
				  MAP_GROWSDOWN | MAP_NORESERVE;
	const FileEntry *f;

	if (v->start >= v->end || v->end > TASK_SIZE || (v->start | v->end) & (PAGE_SIZE - 1) ||
	    v->start < prev_end || v->prot & ~7u || v->flags & ~flags_ok || v->kind < VMA_ANON ||
	    v->kind > VMA_SYSV || v->pgoff & (PAGE_SIZE - 1) ||
	    !map_type_ok(v))
		return -EINVAL;
	if (v->kind == VMA_SYSV)
		return v->has_shmid && (v->flags & ~MAP_NORESERVE) == MAP_SHARED ? 0 : -EINVAL;
	if (v->kind != VMA_FILE_PRIVATE && v->kind != VMA_FILE_SHARED)
		return 0;
	if (!v->has_file_id || !(f = restore_file(ctx, v->file_id)) ||
	    (f->type != FILE_TYPE__REG && f->type != FILE_TYPE__MEMFD))
		return -EINVAL;
	return 0;
}

static int validate_runs(const MmEntry *mm)
{
	uint64_t pages = 0, prev_end = 0;
	size_t vi = 0;

	for (size_t i = 0; i < mm->n_runs; i++) {
		const PageRunEntry *r = mm->runs[i];
		uint64_t end = r->vaddr + r->nr_pages * PAGE_SIZE;

		if (!r->nr_pages || r->nr_pages > TASK_SIZE / PAGE_SIZE || r->vaddr < prev_end ||
		    r->vaddr & (PAGE_SIZE - 1) || end > TASK_SIZE || end <= r->vaddr)
			return -EINVAL;
		while (vi < mm->n_vmas && mm->vmas[vi]->end <= r->vaddr)
			vi++;
		if (vi == mm->n_vmas || mm->vmas[vi]->start > r->vaddr || mm->vmas[vi]->end < end ||
		    !area_saves_pages(mm->vmas[vi]))
			return -EINVAL;
		pages += r->nr_pages;
		prev_end = end;
	}
	return pages == mm->nr_pages ? 0 : -EINVAL;
}

/* The vDSO areas the blob moves must be exactly the areas the image leaves free for them. */
static int validate_vdso_areas(const InventoryEntry *inv, const MmEntry *mm)
{
	size_t n = 0;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		bool found = false;

		if (v->kind != VMA_VDSO)
			continue;
		/* Each task has the vDSO where it had it: same areas, same sizes. */
		for (size_t k = 0; v->name && k < inv->n_vdso; k++)
			found |= !strcmp(inv->vdso[k]->name, v->name) &&
				 inv->vdso[k]->end - inv->vdso[k]->start == v->end - v->start;
		for (size_t k = 0; k < i; k++)
			if (mm->vmas[k]->kind == VMA_VDSO && v->name && mm->vmas[k]->name &&
			    !strcmp(mm->vmas[k]->name, v->name))
				found = false;
		if (!found)
			return -EINVAL;
		n++;
	}
	return n == inv->n_vdso ? 0 : -EINVAL;
}

/* A System V attachment: a segment of the task's IPC namespace, and inside it. */
static int validate_sysv(struct restore_ctx *ctx, struct restore_task *t, const VmaEntry *v)
{
	const IpcShmEntry *s = ipc_restore_shm(ctx, t, v->shmid);

	if (!s)
		return log_error_ret(-EINVAL, "images are corrupted: task %d attaches System V "
					      "segment %llu, which its IPC namespace has not",
				     t->pid, (unsigned long long)v->shmid);
	if (v->pgoff > PAGE_ALIGN(s->size) || v->end - v->start > PAGE_ALIGN(s->size) - v->pgoff)
		return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: area %llx reaches past "
					      "the end of System V segment %llu", t->pid,
				     (unsigned long long)v->start, (unsigned long long)v->shmid);
	return 0;
}

int mem_validate(struct restore_ctx *ctx, struct restore_task *t)
{
	const MmEntry *mm = t->mm;
	uint64_t prev_end = 0;
	char name[64];
	struct stat st;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		if (validate_vma(ctx, mm->vmas[i], prev_end) < 0)
			return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: bad area %zu",
					     t->pid, i);
		prev_end = mm->vmas[i]->end;
		if (mm->vmas[i]->kind == VMA_SYSV && validate_sysv(ctx, t, mm->vmas[i]) < 0)
			return -EINVAL;
	}
	if (validate_vdso_areas(ctx->inv, mm) < 0)
		return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: vdso areas differ from "
					      "the inventory", t->pid);
	if (validate_runs(mm) < 0)
		return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: bad page runs", t->pid);
	if (cow_validate(ctx, t) < 0)
		return -EINVAL;
	if (mm->n_auxv > 128 || mm->n_auxv % 2)
		return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: bad auxv", t->pid);
	if (shmem_validate(ctx, t) < 0)
		return -EINVAL;
	if (!restore_file(ctx, mm->exe_file_id))
		return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: bad exe file", t->pid);
	snprintf(name, sizeof(name), "pages-%d.img", t->pid);
	if (fstatat(ctx->dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return log_error_errno(-errno, "cannot open image %s", name);
	if (!S_ISREG(st.st_mode))
		return log_error_ret(-EINVAL, "image %s is not a regular file", name);
	if ((uint64_t)st.st_size != mm->nr_pages * PAGE_SIZE)
		return log_error_ret(-EINVAL, "image %s is truncated or corrupted: %lld bytes, %llu pages expected",
				     name, (long long)st.st_size, (unsigned long long)mm->nr_pages);
	return 0;
}

extern const uint8_t _binary_restorer_bin_start[], _binary_restorer_bin_end[];

/* Tries a few places in each gap of the saved layout until one is free here too. */
static void *map_region(const MmEntry *mm, size_t len)
{
	uint64_t lo = 1ULL << 32, prev_end = lo;

	for (size_t i = 0; i <= mm->n_vmas; i++) {
		uint64_t next = i < mm->n_vmas ? mm->vmas[i]->start : TASK_SIZE - (1ULL << 30);
		uint64_t gap_lo = prev_end + (64 << 20), gap_hi = next > (64 << 20) ? next - (64 << 20) : 0;

		if (i < mm->n_vmas && mm->vmas[i]->end > prev_end)
			prev_end = mm->vmas[i]->end;
		if (next < lo || gap_hi < gap_lo + len)
			continue;
		for (uint64_t a = gap_hi - len; a >= gap_lo; a -= MAX(len, 1ULL << 30)) {
			void *p = mmap((void *)(a & ~(PAGE_SIZE - 1)), len,
				       PROT_READ | PROT_WRITE | PROT_EXEC,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p != MAP_FAILED)
				return p;
			if (a < gap_lo + MAX(len, 1ULL << 30))
				break;
		}
	}
	return NULL;
}

static int open_vma_files(struct restore_ctx *ctx, struct restore_task *t, struct rst_vma *out)
{
	const MmEntry *mm = t->mm;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		out[i] = (struct rst_vma){ .start = v->start, .end = v->end, .pgoff = v->pgoff,
					   .vmflags = v->madv, .prot = v->prot,
					   .flags = v->flags, .kind = v->kind, .fd = -1 };
		if (v->kind == VMA_SYSV) {
			out[i].shmid = v->shmid;
			out[i].seg_size = PAGE_ALIGN(ipc_restore_shm(ctx, t, v->shmid)->size);
		}
		if (v->kind != VMA_FILE_PRIVATE && v->kind != VMA_FILE_SHARED)
			continue;
		/* nestor opened it before the tree: every task maps the same open file. */
		out[i].fd = files_mapped_fd(ctx, v->file_id, files_map_mode(v));
		if (out[i].fd < 0)
			return out[i].fd;
	}
	return 0;
}

/* Where each run's pages sit in the pages file, and the mm fields with the exe. */
static int fill_runs_and_mm(struct restore_ctx *ctx, const MmEntry *mm, struct rst_args *a)
{
	int r;

	for (size_t i = 0, off = 0; i < mm->n_runs; i++) {
		struct rst_run *run = (struct rst_run *)a->runs + i;

		run->vaddr = mm->runs[i]->vaddr;
		run->nr_pages = mm->runs[i]->nr_pages;
		run->off = off;
		off += run->nr_pages * PAGE_SIZE;
	}
	a->mm = (struct rst_mm_map){
		.start_code = mm->start_code, .end_code = mm->end_code,
		.start_data = mm->start_data, .end_data = mm->end_data,
		.start_brk = mm->start_brk, .brk = mm->brk, .start_stack = mm->start_stack,
		.arg_start = mm->arg_start, .arg_end = mm->arg_end,
		.env_start = mm->env_start, .env_end = mm->env_end,
		.auxv = (uint64_t)a->auxv, .auxv_size = mm->n_auxv * 8,
	};
	memcpy(a->auxv, mm->auxv, mm->n_auxv * 8);
	r = files_mapped_fd(ctx, mm->exe_file_id, O_RDONLY);
	if (r < 0)
		return r;
	a->mm.exe_fd = r;
	return 0;
}

/*
 * Maps the blob region in a gap of the layout: code | args and extra |
 * threads, their stacks | filters | park | main stack; fills what is not
 * about memory.
 */
static int map_blob(const MmEntry *layout, struct restore_task *t, size_t extra, size_t park,
		    struct rst_region *ret)
{
	size_t blob_len = _binary_restorer_bin_end - _binary_restorer_bin_start;
	size_t code = PAGE_ALIGN(blob_len);
	size_t data = PAGE_ALIGN(sizeof(struct rst_args) + extra);
	size_t threads = PAGE_ALIGN(threads_args_size(t->core));
	size_t filters = PAGE_ALIGN(seccomp_args_size(t->core));
	size_t len = code + data + threads + filters + park + RST_STACK_SIZE;
	uint8_t *region = map_region(layout, len);
	struct rst_args *a;

	if (!region)
		return log_error_ret(-ENOMEM, "no room for the restorer in task %d's layout", t->pid);
	memcpy(region, _binary_restorer_bin_start, blob_len);
	a = (struct rst_args *)(region + code);
	memset(a, 0, sizeof(*a));
	a->magic = RST_MAGIC;
	a->region_start = (uint64_t)region;
	a->region_len = len;
	a->pages_fd = -1;
	a->mem_fd = -1;
	a->vdso_tmp = (uint64_t)region + code + data + threads + filters;
	seccomp_fill_args(t->core, a, region + code + data + threads);
	/* Thread stacks end where the threads' part of the region ends. */
	threads_fill_args(t->core, a, region + code + data,
			  region + code + data + threads - t->core->n_threads * RST_THREAD_STACK);
	ret->start = region;
	ret->len = len;
	ret->args = a;
	ret->stack_top = region + len - 64;
	return 0;
}

/*
 * The blob gives a pageless area the task cannot write an anon_vma of its
 * own with a forced write (restorer.c own_anon_vma): /proc/self/mem, when
 * the task has such an area; -1 without (the area may then merge).
 */
static int open_self_mem(struct restore_ctx *ctx, const struct restore_task *t, int min_fd)
{
	const MmEntry *mm = t->mm;
	size_t ri = 0;
	int fd;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		while (ri < mm->n_runs && mm->runs[ri]->vaddr < v->start)
			ri++;
		if (v->kind != VMA_ANON || v->flags & MAP_SHARED || v->prot & PROT_WRITE ||
		    (ri < mm->n_runs && mm->runs[ri]->vaddr < v->end) || ctx->proc_fd < 0)
			continue;
		fd = openat(ctx->proc_fd, "self/mem", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			pr_warn("task %d: no /proc/self/mem (%m): its pageless read-only areas "
				"may merge with their neighbours", t->pid);
			return -1;
		}
		fd = fd_move_above(fd, min_fd);
		return fd < 0 ? -1 : fd;
	}
	return -1;
}

int mem_prepare(struct restore_ctx *ctx, struct restore_task *t, int min_fd,
		struct rst_region *ret)
{
	const MmEntry *mm = t->mm;
	struct vdso_area self[VDSO_MAX_AREAS];
	size_t park = 0;
	uint64_t hash;
	struct rst_args *a;
	char name[64];
	int n, r;

	/* A task sharing its owner's memory: a region where the owner has none. */
	if (!mm)
		return map_blob(ctx->tasks[t->vm_owner].mm, t, 0, 0, ret);
	r = vdso_self(self, &n, &hash);
	if (r < 0)
		return r;
	for (int i = 0; i < n; i++)
		park += self[i].end - self[i].start;
	r = map_blob(mm, t, mm->n_vmas * sizeof(struct rst_vma) + mm->n_runs * sizeof(struct rst_run) +
				    shmem_args_size(mm), park, ret);
	if (r < 0)
		return r;
	a = ret->args;
	a->vmas = (uint64_t)(a + 1);
	a->runs = a->vmas + mm->n_vmas * sizeof(struct rst_vma);
	a->nr_vmas = mm->n_vmas;
	a->nr_runs = mm->n_runs;
	r = vdso_plan(mm, self, n, a);
	if (r < 0)
		return r;
	r = open_vma_files(ctx, t, (struct rst_vma *)a->vmas);
	if (r < 0)
		return r;
	cow_fill_args(t, (struct rst_vma *)a->vmas);
	a->mem_fd = open_self_mem(ctx, t, min_fd);
	snprintf(name, sizeof(name), "pages-%d.img", t->pid);
	a->pages_fd = fd_move_above(img_open_file(ctx->dirfd, name), min_fd);
	if (a->pages_fd < 0)
		return a->pages_fd;
	r = shmem_prepare(ctx, t, min_fd, a, (struct rst_run *)a->runs + mm->n_runs);
	return r < 0 ? r : fill_runs_and_mm(ctx, mm, a);
}
