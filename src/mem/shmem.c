/*
 * Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, or a shared mapping of
 * /dev/zero): a shmem file inside the kernel, saved and restored as one
 * object, whole, not through some task's page tables. Pages no task maps at
 * the dump (dropped with MADV_DONTNEED, written by a task that has exited,
 * past every mapping's end) are in the object all the same.
 *
 * Dump: the first task that maps an object saves it. nestor opens the object
 * through /proc/PID/map_files and lists its pages with SEEK_DATA/SEEK_HOLE
 * (pages in memory or in swap); they go to shmem-ID.img, back to back.
 *
 * Restore: nestor maps each object once before the tree, where no task has
 * anything, and opens it through its own map_files: every task inherits
 * both; each task's blob maps its areas from the descriptor (so an area may
 * reach past the object's end, as mremap can make it), and the blob of the
 * task that saved the object fills it through nestor's mapping first (so
 * the pages are charged to that task's cgroup).
 */
#define LOG_PREFIX "shmem: "
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include "core/arena.h"
#include "core/image.h"
#include "core/log.h"
#include "core/util.h"
#include "mem/mem.h"
#include "mem/shmem.h"

#define TASK_SIZE    0x7ffffffff000ULL
#define SHM_MAX_SIZE (1ULL << 40)

static bool maps_object(const VmaEntry *v)
{
	return v->kind == VMA_SHARED_ANON || v->kind == VMA_SHM_PRIVATE;
}

static void map_files_link(char *buf, size_t len, pid_t pid, const VmaEntry *v)
{
	snprintf(buf, len, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)v->start,
		 (unsigned long long)v->end);
}

/* Which object an area maps: tasks that share it over fork see one inode. */
int shmem_dump_area(pid_t pid, VmaEntry *v)
{
	char link[96];
	struct stat st;

	map_files_link(link, sizeof(link), pid, v);
	if (stat(link, &st))
		return log_error_errno(-errno, "cannot stat %s", link);
	v->has_shmid = v->has_shm_size = true;
	v->shmid = st.st_ino;
	v->shm_size = st.st_size;
	return 0;
}

static bool saved_in(const MmEntry *mm, uint64_t id)
{
	for (size_t i = 0; mm && i < mm->n_shm_objects; i++)
		if (mm->shm_objects[i]->id == id)
			return true;
	return false;
}

static bool saved_before(const struct dump_ctx *ctx, const MmEntry *mm, uint64_t id)
{
	for (size_t k = 0; k < ctx->nr_tasks; k++)
		if (saved_in(ctx->tasks[k].mm, id))
			return true;
	return saved_in(mm, id);
}

/* The object's pages: runs by offset, from what SEEK_DATA and SEEK_HOLE say. */
static int scan_object(int fd, ShmObjectEntry *o)
{
	PageRunEntry **runs = NULL;
	size_t nr = 0, cap = 0;
	off_t pos = 0;

	while ((uint64_t)pos < o->size) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;
		PageRunEntry *r;

		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0 || (hole = lseek(fd, data, SEEK_HOLE)) < 0)
			return log_error_errno(-errno, "cannot find the pages of object %llu",
					       (unsigned long long)o->id);
		data &= ~(off_t)(PAGE_SIZE - 1);
		hole = MIN((uint64_t)PAGE_ALIGN(hole), o->size);
		if (hole <= data)
			break;
		r = ANEW(PageRunEntry);
		if (!r || arena_push(&runs, &nr, &cap, r) < 0)
			return -ENOMEM;
		page_run_entry__init(r);
		r->vaddr = data;
		r->nr_pages = (hole - data) / PAGE_SIZE;
		o->nr_pages += r->nr_pages;
		pos = hole;
	}
	o->runs = runs;
	o->n_runs = nr;
	return 0;
}

static int open_object(pid_t pid, const MmEntry *mm, uint64_t id)
{
	char link[96];
	int fd;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		if (!maps_object(mm->vmas[i]) || mm->vmas[i]->shmid != id)
			continue;
		map_files_link(link, sizeof(link), pid, mm->vmas[i]);
		fd = open(link, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return log_error_errno(-errno, "cannot open %s", link);
		return fd;
	}
	return log_error_ret(-ENOENT, "task %d maps no object %llu", pid, (unsigned long long)id);
}

int shmem_dump(struct dump_ctx *ctx, struct dump_task *t, MmEntry *mm)
{
	size_t cap = 0;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		_cleanup_close_ int fd = -1;
		ShmObjectEntry *o;
		int r;

		if (!maps_object(v) || saved_before(ctx, mm, v->shmid))
			continue;
		if (!(o = ANEW(ShmObjectEntry)))
			return -ENOMEM;
		shm_object_entry__init(o);
		o->id = v->shmid;
		o->size = v->shm_size;
		if ((fd = open_object(t->pid, mm, o->id)) < 0 || (r = scan_object(fd, o)) < 0)
			return fd < 0 ? fd : r;
		r = arena_push(&mm->shm_objects, &mm->n_shm_objects, &cap, o);
		if (r < 0)
			return r;
		pr_info("task %d: shared object %llu, %llu bytes, %llu pages saved", t->pid,
			(unsigned long long)o->id, (unsigned long long)o->size,
			(unsigned long long)o->nr_pages);
	}
	return 0;
}

static int copy_object(int from, int to, const ShmObjectEntry *o)
{
	for (size_t i = 0; i < o->n_runs; i++) {
		off_t off = o->runs[i]->vaddr;
		uint64_t left = o->runs[i]->nr_pages * PAGE_SIZE;

		while (left) {
			ssize_t n = sendfile(to, from, &off, MIN(left, 1UL << 30));

			if (n <= 0)
				return log_error_errno(n ? -errno : -EIO, "cannot save object %llu",
						       (unsigned long long)o->id);
			left -= n;
		}
	}
	return 0;
}

int shmem_write(struct dump_ctx *ctx, struct dump_task *t, const MmEntry *mm)
{
	for (size_t i = 0; i < mm->n_shm_objects; i++) {
		const ShmObjectEntry *o = mm->shm_objects[i];
		_cleanup_close_ int from = open_object(t->pid, mm, o->id), to = -1;
		char name[64];
		int r;

		if (from < 0)
			return from;
		snprintf(name, sizeof(name), "shmem-%llu.img", (unsigned long long)o->id);
		to = openat(ctx->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (to < 0)
			return log_error_errno(-errno, "cannot create %s", name);
		if ((r = copy_object(from, to, o)) < 0)
			return r;
	}
	return 0;
}

/* ---- restore ---- */

static int validate_object(const struct restore_ctx *ctx, const ShmObjectEntry *o)
{
	uint64_t pages = 0, prev_end = 0;
	char name[64];
	struct stat st;

	if (!o->size || o->size > SHM_MAX_SIZE || o->size & (PAGE_SIZE - 1))
		return -EINVAL;
	for (size_t i = 0; i < o->n_runs; i++) {
		const PageRunEntry *r = o->runs[i];

		if (!r->nr_pages || r->vaddr & (PAGE_SIZE - 1) || r->vaddr < prev_end ||
		    r->nr_pages > o->size / PAGE_SIZE || r->vaddr > o->size - r->nr_pages * PAGE_SIZE)
			return -EINVAL;
		pages += r->nr_pages;
		prev_end = r->vaddr + r->nr_pages * PAGE_SIZE;
	}
	if (pages != o->nr_pages)
		return -EINVAL;
	snprintf(name, sizeof(name), "shmem-%llu.img", (unsigned long long)o->id);
	if (fstatat(ctx->dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return log_error_errno(-errno, "cannot open image %s", name);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != o->nr_pages * PAGE_SIZE)
		return log_error_ret(-EINVAL, "image %s is truncated or corrupted", name);
	return 0;
}

/* How many tasks saved object id (one with another size counts twice), and whether any maps it. */
static void count_object(const struct restore_ctx *ctx, uint64_t id, uint64_t size,
			 int *ret_saved, bool *ret_mapped)
{
	*ret_saved = 0;
	*ret_mapped = false;
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		const MmEntry *mm = ctx->tasks[k].mm;

		for (size_t i = 0; mm && i < mm->n_shm_objects; i++) {
			const ShmObjectEntry *o = mm->shm_objects[i];

			if (o->id == id)
				*ret_saved += o->size == size ? 1 : 2;
		}
		for (size_t i = 0; mm && i < mm->n_vmas; i++)
			*ret_mapped |= maps_object(mm->vmas[i]) && mm->vmas[i]->shmid == id;
	}
}

/*
 * Each object a task maps is saved once, by some task of the tree, with the
 * size its areas say; each object it saved is mapped.
 */
int shmem_validate(struct restore_ctx *ctx, struct restore_task *t)
{
	const MmEntry *mm = t->mm;
	bool mapped;
	int saved;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (!maps_object(v))
			continue;
		/* An area may reach past the object's end (grown by mremap): SIGBUS there, as before. */
		if (!v->has_shmid || !v->has_shm_size || v->shm_size > SHM_MAX_SIZE ||
		    v->shm_size & (PAGE_SIZE - 1) || v->pgoff > TASK_SIZE)
			return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: bad shared "
						      "area %llx", t->pid, (unsigned long long)v->start);
		count_object(ctx, v->shmid, v->shm_size, &saved, &mapped);
		if (saved != 1)
			return log_error_ret(-EINVAL, "images are corrupted: shared object %llu of "
						      "task %d is saved %s", (unsigned long long)v->shmid,
					     t->pid, saved ? "twice or with another size" : "nowhere");
	}
	for (size_t i = 0; i < mm->n_shm_objects; i++) {
		const ShmObjectEntry *o = mm->shm_objects[i];

		count_object(ctx, o->id, o->size, &saved, &mapped);
		if (!mapped || validate_object(ctx, o) < 0)
			return log_error_ret(-EINVAL, "image mm-%d.img is corrupted: bad shared "
						      "object %llu", t->pid, (unsigned long long)o->id);
	}
	return 0;
}

static struct shm_obj *find_shm(struct restore_ctx *ctx, uint64_t id)
{
	for (size_t i = 0; i < ctx->nr_shms; i++)
		if (ctx->shms[i].id == id)
			return &ctx->shms[i];
	return NULL;
}

static int collect_shms(struct restore_ctx *ctx)
{
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		const MmEntry *mm = ctx->tasks[k].mm;

		for (size_t i = 0; mm && i < mm->n_shm_objects; i++) {
			const ShmObjectEntry *so = mm->shm_objects[i];
			struct shm_obj *o;

			if (find_shm(ctx, so->id))
				continue; /* validated: cannot happen */
			if (ctx->nr_shms == RST_MAX_SHMS)
				return log_error_ret(-EOPNOTSUPP, "can't restore: more than %d shared "
								  "anonymous objects", RST_MAX_SHMS);
			o = array_add(&ctx->shms, ctx->nr_shms, sizeof(*o));
			if (!o)
				return -ENOMEM;
			ctx->nr_shms++;
			*o = (struct shm_obj){ so->id, so->size, 0, -1 };
		}
	}
	return 0;
}

bool mem_free_in_all(const struct restore_ctx *ctx, uint64_t start, uint64_t end)
{
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		const MmEntry *mm = ctx->tasks[k].mm;

		for (size_t i = 0; mm && i < mm->n_vmas; i++)
			if (mm->vmas[i]->start < end && mm->vmas[i]->end > start)
				return false;
	}
	return true;
}

/* A descriptor of the object, for the tasks' private mappings of it (inherited). */
static int open_own_object(struct restore_ctx *ctx, struct shm_obj *o)
{
	char link[96];

	snprintf(link, sizeof(link), "/proc/self/map_files/%llx-%llx", (unsigned long long)o->addr,
		 (unsigned long long)(o->addr + o->size));
	o->fd = fd_move_above(open(link, O_RDWR | O_CLOEXEC), ctx->fd_base + 1);
	if (o->fd < 0)
		return log_error_errno(o->fd, "cannot open %s", link);
	return 0;
}

int mem_open_shms(struct restore_ctx *ctx)
{
	uint64_t total = 0;
	int r = collect_shms(ctx);

	if (r < 0 || !ctx->nr_shms)
		return r;
	for (size_t i = 0; i < ctx->nr_shms; i++)
		total += ctx->shms[i].size;
	for (uint64_t base = 1ULL << 44; base + total < TASK_SIZE; base += 1ULL << 40) {
		uint64_t at = base;

		if (!mem_free_in_all(ctx, base, base + total))
			continue;
		for (size_t i = 0; i < ctx->nr_shms; i++) {
			void *p = mmap((void *)at, ctx->shms[i].size, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p == MAP_FAILED)
				return log_error_errno(-errno, "cannot map shared memory");
			ctx->shms[i].addr = at;
			at += ctx->shms[i].size;
			if ((r = open_own_object(ctx, &ctx->shms[i])) < 0)
				return r;
		}
		return 0;
	}
	return log_error_ret(-ENOMEM, "no room for the shared memory of the tasks");
}

size_t shmem_args_size(const MmEntry *mm)
{
	size_t n = 0;

	for (size_t i = 0; i < mm->n_shm_objects; i++)
		n += mm->shm_objects[i]->n_runs;
	return n * sizeof(struct rst_run);
}

/* The objects this task saved, for its blob to fill: image fds, runs at nestor's mapping. */
int shmem_prepare(struct restore_ctx *ctx, struct restore_task *t, int min_fd,
		  struct rst_args *a, struct rst_run *runs)
{
	const MmEntry *mm = t->mm;

	for (size_t i = 0; i < mm->n_shm_objects; i++) {
		const ShmObjectEntry *o = mm->shm_objects[i];
		uint64_t base = find_shm(ctx, o->id)->addr, off = 0;
		char name[64];
		int fd;

		snprintf(name, sizeof(name), "shmem-%llu.img", (unsigned long long)o->id);
		fd = fd_move_above(img_open_file(ctx->dirfd, name), min_fd);
		if (fd < 0)
			return fd;
		a->shm_fills[i].fd = fd;
		a->shm_fills[i].runs = (uint64_t)runs;
		a->shm_fills[i].nr_runs = o->n_runs;
		for (size_t k = 0; k < o->n_runs; k++, runs++) {
			runs->vaddr = base + o->runs[k]->vaddr;
			runs->nr_pages = o->runs[k]->nr_pages;
			runs->off = off;
			off += runs->nr_pages * PAGE_SIZE;
		}
	}
	a->nr_shm_fills = mm->n_shm_objects;
	return 0;
}

void mem_fill_shms(struct restore_ctx *ctx, struct restore_task *t, struct rst_args *a)
{
	struct rst_vma *vmas = (struct rst_vma *)a->vmas;

	if (!t->mm) /* the owner's blob makes the shared memory */
		return;
	a->nr_shms = ctx->nr_shms;
	for (size_t i = 0; i < ctx->nr_shms; i++) {
		a->shms[i][0] = ctx->shms[i].addr;
		a->shms[i][1] = ctx->shms[i].size;
	}
	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];

		/* Mapped from nestor's descriptor of the object, shared or private. */
		if (maps_object(v)) {
			vmas[i].fd = find_shm(ctx, v->shmid)->fd;
			vmas[i].flags &= ~MAP_ANONYMOUS;
		}
	}
}
