/*
 * The restorer blob: runs inside the task being restored after nestor has
 * prepared its descriptors. It throws away nestor's address space, builds
 * the saved one, sets the mm fields, thread attributes and credentials, then
 * traps so that nestor (its tracer) sets the registers and lets it go.
 */
#include <linux/ioctl.h>
#include <linux/userfaultfd.h>
#include "rsys.h"
#include "restorer-abi.h"
#include "tree/proc.h"

#define PROT_READ      1
#define PROT_WRITE     2
#define MAP_SHARED     0x01
#define MAP_PRIVATE    0x02
#define MAP_FIXED      0x10
#define MAP_ANONYMOUS  0x20
#define MAP_POPULATE   0x8000
#define O_CLOEXEC      02000000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED   2
#define TASK_SIZE      0x7ffffffff000UL
#define PAGE           4096UL
#define PR_SET_PDEATHSIG   1
#define PR_SET_TIMERSLACK  29
#define PR_SET_MM          35
#define PR_SET_MM_MAP      14
#define PR_SET_DUMPABLE    4
#define PR_SET_NAME        15
#define PR_SET_KEEPCAPS    8
#define PR_SET_SECUREBITS  28
#define PR_CAPBSET_DROP    24
#define PR_SET_NO_NEW_PRIVS 38
#define PR_CAP_AMBIENT     47
#define PR_CAP_AMBIENT_RAISE 2
#define MADV_RANDOM    1
#define MADV_SEQUENTIAL 2
#define MADV_DONTFORK  10
#define MADV_DONTDUMP  16
#define MADV_HUGEPAGE  14
#define MADV_NOHUGEPAGE 15
#define MADV_MERGEABLE 12
#define MADV_WIPEONFORK 18
#define MLOCK_ONFAULT  1
#define CLONE_VM       0x100
#define CLONE_FS       0x200
#define CLONE_FILES    0x400
#define CLONE_SIGHAND  0x800
#define CLONE_THREAD   0x10000
#define CLONE_SYSVSEM  0x40000
#define CLONE_PTRACE   0x2000
#define MADV_POPULATE_WRITE 23
#define MADV_DONTNEED  4
#define MADV_DODUMP    17

__attribute__((noreturn)) static void fail(struct rst_args *a, long err, uint32_t step,
					   uint64_t addr)
{
	struct rst_status st = { .err = (int32_t)err, .step = step, .addr = addr,
				 .pid = a->pid };

	rsys(NR_write, a->status_fd, &st, sizeof(st));
	rsys(NR_exit_group, 1, 0, 0);
	__builtin_unreachable();
}

#define CHECK(expr, step, addr)                                                                    \
	do {                                                                                       \
		long _r = (expr);                                                                  \
		if (_r < 0 && _r > -4096)                                                          \
			fail(a, _r, step, addr);                                                   \
	} while (0)

static int in_keep(struct rst_args *a, uint64_t addr, uint64_t *ret_end)
{
	if (addr >= a->region_start && addr < a->region_start + a->region_len) {
		*ret_end = a->region_start + a->region_len;
		return 1;
	}
	for (uint32_t i = 0; i < a->nr_vdso; i++) {
		if (addr >= a->vdso_cur[i] && addr < a->vdso_cur[i] + a->vdso_len[i]) {
			*ret_end = a->vdso_cur[i] + a->vdso_len[i];
			return 1;
		}
	}
	for (uint32_t i = 0; i < a->nr_shms; i++) {
		if (addr >= a->shms[i][0] && addr < a->shms[i][0] + a->shms[i][1]) {
			*ret_end = a->shms[i][0] + a->shms[i][1];
			return 1;
		}
	}
	for (uint32_t i = 0; i < a->sharers; i++) {
		if (addr >= a->keep[i][0] && addr < a->keep[i][0] + a->keep[i][1]) {
			*ret_end = a->keep[i][0] + a->keep[i][1];
			return 1;
		}
	}
	for (uint32_t i = 0; i < a->nr_vmas; i++) {
		struct rst_vma *v = (struct rst_vma *)a->vmas + i;

		if (v->stage && addr >= v->stage && addr < v->stage + (v->end - v->start)) {
			*ret_end = v->stage + (v->end - v->start);
			return 1;
		}
	}
	return 0;
}

/* The lowest start of a kept area above addr, or TASK_SIZE. */
static uint64_t next_kept(struct rst_args *a, uint64_t addr)
{
	uint64_t next = TASK_SIZE;

	if (a->region_start > addr && a->region_start < next)
		next = a->region_start;
	for (uint32_t i = 0; i < a->nr_vdso; i++)
		if (a->vdso_cur[i] > addr && a->vdso_cur[i] < next)
			next = a->vdso_cur[i];
	for (uint32_t i = 0; i < a->nr_shms; i++)
		if (a->shms[i][0] > addr && a->shms[i][0] < next)
			next = a->shms[i][0];
	for (uint32_t i = 0; i < a->sharers; i++)
		if (a->keep[i][0] > addr && a->keep[i][0] < next)
			next = a->keep[i][0];
	for (uint32_t i = 0; i < a->nr_vmas; i++) {
		struct rst_vma *v = (struct rst_vma *)a->vmas + i;

		if (v->stage > addr && v->stage < next)
			next = v->stage;
	}
	return next;
}

/* Unmaps everything but the blob regions, the current vDSO areas, the
 * shared objects nestor mapped and the areas the task staged. */
static void unmap_old(struct rst_args *a)
{
	uint64_t addr = 0;

	while (addr < TASK_SIZE) {
		uint64_t end, next;

		if (in_keep(a, addr, &end)) {
			addr = end;
			continue;
		}
		/* The next kept area above addr bounds this hole. */
		next = next_kept(a, addr);
		CHECK(rsys(NR_munmap, addr, next - addr, 0), RST_STEP_UNMAP, addr);
		addr = next;
	}
}

/* Moves the vDSO areas to where the task had them, through a parking spot
 * so that one area's target may be another's current place. */
static void move_vdso(struct rst_args *a)
{
	uint64_t park = a->vdso_tmp;

	for (uint32_t i = 0; i < a->nr_vdso; i++) {
		CHECK(rsys6(NR_mremap, a->vdso_cur[i], a->vdso_len[i], a->vdso_len[i],
			    MREMAP_MAYMOVE | MREMAP_FIXED, park, 0),
		      RST_STEP_VDSO, a->vdso_cur[i]);
		a->vdso_cur[i] = park;
		park += a->vdso_len[i];
	}
	for (uint32_t i = 0; i < a->nr_vdso; i++)
		CHECK(rsys6(NR_mremap, a->vdso_cur[i], a->vdso_len[i], a->vdso_len[i],
			    MREMAP_MAYMOVE | MREMAP_FIXED, a->vdso_tgt[i], 0),
		      RST_STEP_VDSO, a->vdso_tgt[i]);
}

static void read_pages(struct rst_args *a, int fd, struct rst_run *r)
{
	uint64_t done = 0, len = r->nr_pages * PAGE;

	while (done < len) {
		long n = rsys6(NR_pread64, fd, r->vaddr + done, len - done, r->off + done,
			       0, 0);
		if (n == 0)
			n = -61; /* ENODATA: the page file is shorter than the image says */
		CHECK(n, RST_STEP_PAGES, r->vaddr + done);
		done += n;
	}
}

/*
 * UFFDIO_COPY fills fresh anonymous pages straight from the image's page
 * cache: it allocates without zeroing, where a fault (or populate) zeroes
 * each page and pread then copies over it. Returns 0, or <0 to fall back.
 */
static long copy_pages_uffd(struct rst_args *a, int uffd, struct rst_run *r)
{
	uint64_t len = r->nr_pages * PAGE, done = 0;
	struct uffdio_register reg = { .range = { r->vaddr, len },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	long src, ret = 0;

	if (rsys(NR_ioctl, uffd, UFFDIO_REGISTER, &reg) < 0)
		return -1;
	src = rsys6(NR_mmap, 0, len, PROT_READ, MAP_SHARED | MAP_POPULATE, a->pages_fd, r->off);
	if (src < 0 && src > -4096) {
		ret = src;
		goto out;
	}
	while (done < len) {
		struct uffdio_copy c = { .dst = r->vaddr + done, .src = src + done,
					 .len = len - done };

		ret = rsys(NR_ioctl, uffd, UFFDIO_COPY, &c);
		if (c.copy <= 0)
			break;
		done += c.copy;
	}
	rsys(NR_munmap, src, len, 0);
	ret = done == len ? 0 : (ret < 0 ? ret : -5);
out:
	rsys(NR_ioctl, uffd, UFFDIO_UNREGISTER, &reg.range);
	return ret;
}

static void fill_run(struct rst_args *a, int uffd, uint32_t kind, struct rst_run *r)
{
	long ret;

	if (uffd >= 0 && (kind == VMA_ANON || kind == VMA_SHARED_ANON)) {
		ret = copy_pages_uffd(a, uffd, r);
		if (ret == 0)
			return;
		/* Pages it copied before failing are in place; pread overwrites them. */
	}
	read_pages(a, a->pages_fd, r);
}

static void apply_vmflags(struct rst_args *a, struct rst_vma *v)
{
	static const struct {
		uint64_t flag;
		int advice;
	} adv[] = {
		{ VMF_DC, MADV_DONTFORK },   { VMF_DD, MADV_DONTDUMP },
		{ VMF_HG, MADV_HUGEPAGE },   { VMF_NH, MADV_NOHUGEPAGE },
		{ VMF_MG, MADV_MERGEABLE },  { VMF_WF, MADV_WIPEONFORK },
		{ VMF_SR, MADV_SEQUENTIAL }, { VMF_RR, MADV_RANDOM },
	};
	uint64_t len = v->end - v->start;

	for (unsigned i = 0; i < sizeof(adv) / sizeof(adv[0]); i++)
		if (v->vmflags & adv[i].flag)
			CHECK(rsys(NR_madvise, v->start, len, adv[i].advice), RST_STEP_MADVISE,
			      v->start);
	if (v->vmflags & VMF_LF)
		CHECK(rsys(NR_mlock2, v->start, len, MLOCK_ONFAULT), RST_STEP_MADVISE, v->start);
	else if (v->vmflags & VMF_LO)
		CHECK(rsys(NR_mlock, v->start, len, 0), RST_STEP_MADVISE, v->start);
}

static int open_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	long fd = rsys(NR_userfaultfd, O_CLOEXEC, 0, 0);

	if (fd < 0)
		return -1;
	if (rsys(NR_ioctl, fd, UFFDIO_API, &api) < 0) {
		rsys(NR_close, fd, 0, 0);
		return -1;
	}
	return fd;
}

/*
 * A System V attachment: the whole segment is attached where the kernel
 * likes, the part the task had is moved to its place, and the rest is
 * detached, so that a partial attachment (a hole munmap'd, an end cut off)
 * comes back as it was. Writable unless attached SHM_RDONLY (no "mw").
 */
static long attach_sysv(struct rst_vma *v)
{
	uint64_t len = v->end - v->start, tail = v->pgoff + len;
	long tmp = rsys(NR_shmat, v->shmid, 0, v->vmflags & VMF_MW ? 0 : RST_SHM_RDONLY), r;

	if (tmp < 0 && tmp > -4096)
		return tmp;
	r = rsys6(NR_mremap, tmp + v->pgoff, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, v->start, 0);
	if (r < 0 && r > -4096) {
		rsys(NR_shmdt, tmp, 0, 0);
		return r;
	}
	if (v->pgoff)
		rsys(NR_munmap, tmp, v->pgoff, 0);
	if (tail < v->seg_size)
		rsys(NR_munmap, tmp + tail, v->seg_size - tail, 0);
	return rsys(NR_mprotect, v->start, len, v->prot);
}

/*
 * Every boundary between private anonymous areas the dump saw comes back:
 * the kernel merges adjacent areas of equal flags unless their anon_vmas
 * differ (or one is a fork's copy). So each such area is built without
 * VM_DONTDUMP while all its built neighbours have it (staged ones got it
 * when staged, mem/cow.c): its mapping merges with none of them and its
 * first page makes it an anon_vma of its own (the kernel shares a
 * neighbour's only with equal flags). Then it gets VM_DONTDUMP too, and
 * once all are built each loses it again unless the dump saw it: by then
 * their anon_vmas differ, so none merges.
 */
static int apart(const struct rst_vma *v)
{
	return v->kind == VMA_ANON && !(v->flags & MAP_SHARED);
}

/*
 * A pageless area gets its anon_vma from one page, dropped again. One the
 * task cannot write gets it through /proc/self/mem, which writes as
 * ptrace does (FOLL_FORCE): a writable mapping would leave VM_ACCOUNT, not
 * in its VmFlags at the dump. Without that descriptor (no /proc here, or
 * forced writes refused) it stays without: the named limit.
 */
static void own_anon_vma(struct rst_args *a, struct rst_vma *v, int has_pages)
{
	static const char zero;

	if (has_pages || (v->vmflags & VMF_DP))
		return;
	if (v->prot & PROT_WRITE)
		*(volatile char *)v->start = 0;
	else if (a->mem_fd < 0 || rsys6(NR_pwrite64, a->mem_fd, (uint64_t)&zero, 1, v->start, 0, 0) != 1)
		return;
	CHECK(rsys(NR_madvise, v->start, PAGE, MADV_DONTNEED), RST_STEP_MADVISE, v->start);
}

static void undo_apart(struct rst_args *a)
{
	struct rst_vma *vmas = (struct rst_vma *)a->vmas;

	for (uint32_t i = 0; i < a->nr_vmas; i++)
		if (apart(&vmas[i]) && !(vmas[i].vmflags & VMF_DD))
			CHECK(rsys(NR_madvise, vmas[i].start, vmas[i].end - vmas[i].start,
				   MADV_DODUMP), RST_STEP_MADVISE, vmas[i].start);
}

static void map_areas(struct rst_args *a)
{
	struct rst_vma *vmas = (struct rst_vma *)a->vmas;
	struct rst_run *runs = (struct rst_run *)a->runs;
	int uffd = a->nr_runs ? open_uffd() : -1;
	uint32_t ri = 0;

	for (uint32_t i = 0; i < a->nr_vmas; i++) {
		struct rst_vma *v = &vmas[i];
		uint64_t len = v->end - v->start;
		int has_pages = ri < a->nr_runs && runs[ri].vaddr < v->end;
		/* Mapped writable once, a private area keeps VM_ACCOUNT (ac) when made read-only. */
		int was_writable = !(v->flags & MAP_SHARED) && (v->vmflags & VMF_AC);
		uint32_t prot = v->prot | (has_pages || was_writable ? PROT_READ | PROT_WRITE : 0);
		long r;

		if (v->kind == VMA_VDSO)
			continue;
		if (v->kind == VMA_SYSV) {
			CHECK(attach_sysv(v), RST_STEP_MMAP, v->start);
			apply_vmflags(a, v);
			continue;
		}
		/* Staged and filled before the fork, its pages shared with the children: moved. */
		if (v->stage) {
			if (v->stage != v->start)
				CHECK(rsys6(NR_mremap, v->stage, len, len,
					    MREMAP_MAYMOVE | MREMAP_FIXED, v->start, 0),
				      RST_STEP_MMAP, v->start);
			while (ri < a->nr_runs && runs[ri].vaddr < v->end)
				ri++;
			if (v->prot != (PROT_READ | PROT_WRITE))
				CHECK(rsys(NR_mprotect, v->start, len, v->prot), RST_STEP_PROTECT,
				      v->start);
			apply_vmflags(a, v);
			continue;
		}
		/* Files, and shared anonymous objects through nestor's descriptor of each. */
		if (v->fd < 0)
			r = rsys6(NR_mmap, v->start, len, prot, v->flags | MAP_FIXED, -1, 0);
		else
			r = rsys6(NR_mmap, v->start, len, prot, v->flags | MAP_FIXED, v->fd,
				  v->pgoff);
		CHECK(r, RST_STEP_MMAP, v->start);
		for (; ri < a->nr_runs && runs[ri].vaddr < v->end; ri++)
			fill_run(a, uffd, v->kind, &runs[ri]);
		if (apart(v)) {
			own_anon_vma(a, v, has_pages);
			CHECK(rsys(NR_madvise, v->start, len, MADV_DONTDUMP), RST_STEP_MADVISE,
			      v->start);
		}
		if (prot != v->prot)
			CHECK(rsys(NR_mprotect, v->start, len, v->prot), RST_STEP_PROTECT, v->start);
		apply_vmflags(a, v);
	}
	if (uffd >= 0)
		rsys(NR_close, uffd, 0, 0);
	if (a->mem_fd >= 0)
		rsys(NR_close, a->mem_fd, 0, 0);
	undo_apart(a);
	/* The shared objects this task saved, whole, through nestor's mapping of each. */
	for (uint32_t i = 0; i < a->nr_shm_fills; i++)
		for (uint32_t k = 0; k < a->shm_fills[i].nr_runs; k++)
			read_pages(a, a->shm_fills[i].fd, (struct rst_run *)a->shm_fills[i].runs + k);
	for (uint32_t i = 0; i < a->nr_shms; i++)
		CHECK(rsys(NR_munmap, a->shms[i][0], a->shms[i][1], 0), RST_STEP_UNMAP, a->shms[i][0]);
}

/*
 * The thread's credentials (its own, or the task's), its securebits and
 * no_new_privs, and last its parent-death signal, which any change of
 * credentials clears. Ids, groups and capabilities are per thread in the
 * kernel: the raw calls here change only this one.
 */
static void restore_creds(struct rst_args *a, struct rst_thread *th)
{
	struct rst_creds *c = th->has_creds ? &th->creds : &a->creds;
	struct {
		uint32_t version;
		int pid;
	} hdr = { 0x20080522, 0 };
	struct {
		uint32_t eff, prm, inh;
	} data[2] = {
		{ (uint32_t)c->cap_eff, (uint32_t)c->cap_prm, (uint32_t)c->cap_inh },
		{ (uint32_t)(c->cap_eff >> 32), (uint32_t)(c->cap_prm >> 32),
		  (uint32_t)(c->cap_inh >> 32) },
	};

	/* Drop from the bounding set while we still hold CAP_SETPCAP. */
	for (uint32_t cap = 0; cap <= a->creds.last_cap; cap++)
		if (!(c->cap_bnd & (1ULL << cap)))
			CHECK(rsys(NR_prctl, PR_CAPBSET_DROP, cap, 0), RST_STEP_CREDS, cap);
	CHECK(rsys(NR_prctl, PR_SET_SECUREBITS, th->securebits | 0x10 /* KEEP_CAPS */, 0),
	      RST_STEP_CREDS, 0);
	if (c->nr_groups != RST_KEEP_GROUPS)
		CHECK(rsys(NR_setgroups, c->nr_groups, c->groups, 0), RST_STEP_CREDS, 0);
	CHECK(rsys(NR_setresgid, c->gids[0], c->gids[1], c->gids[2]), RST_STEP_CREDS, 0);
	rsys(NR_setfsgid, c->gids[3], 0, 0);
	CHECK(rsys(NR_setresuid, c->uids[0], c->uids[1], c->uids[2]), RST_STEP_CREDS, 0);
	rsys(NR_setfsuid, c->uids[3], 0, 0);
	CHECK(rsys(NR_capset, &hdr, data, 0), RST_STEP_CREDS, 1);
	if (!(th->securebits & 0x10))
		CHECK(rsys(NR_prctl, PR_SET_KEEPCAPS, 0, 0), RST_STEP_CREDS, 2);
	for (uint32_t cap = 0; cap <= a->creds.last_cap; cap++)
		if (c->cap_amb & (1ULL << cap))
			CHECK(rsys6(NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0, 0),
			      RST_STEP_CREDS, 3);
	CHECK(rsys(NR_prctl, PR_SET_DUMPABLE, a->creds.dumpable, 0), RST_STEP_CREDS, 4);
	if (th->no_new_privs)
		CHECK(rsys6(NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0), RST_STEP_CREDS, 5);
	CHECK(rsys(NR_prctl, PR_SET_PDEATHSIG, th->pdeath_sig, 0), RST_STEP_CREDS, 6);
}


/* A chain of filters, oldest first. nestor traces us with
 * PTRACE_O_SUSPEND_SECCOMP: they bite only once we are let go. */
static void install_chain(struct rst_args *a, uint32_t n, uint64_t addr)
{
	struct rst_seccomp *v = (struct rst_seccomp *)addr;

	for (uint32_t i = 0; i < n; i++) {
		struct {
			uint16_t len;
			uint64_t filter;
		} prog = { (uint16_t)v[i].len, v[i].prog };

		CHECK(rsys(NR_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, v[i].flags, &prog),
		      RST_STEP_SECCOMP, i);
	}
}

/*
 * The task's chain, which every thread shares, while we still may
 * (CAP_SYS_ADMIN) and before the threads exist, so they inherit it as one
 * object; each thread adds its own in restore_thread.
 */
static void install_seccomp(struct rst_args *a)
{
	install_chain(a, a->nr_seccomp, a->seccomp);
}

/* Writes the thread's audit login uid (only a thread can set its own). */
static void restore_loginuid(struct rst_args *a, struct rst_thread *th)
{
	static const char path[] = "/proc/thread-self/loginuid";
	uint32_t len = 0;
	long fd;

	while (th->loginuid[len])
		len++;
	fd = rsys6(NR_openat, -100 /* AT_FDCWD */, (long)path, 01 | O_CLOEXEC /* O_WRONLY */, 0,
		   0, 0);
	CHECK(fd, RST_STEP_THREAD, th->tid);
	CHECK(rsys(NR_write, fd, th->loginuid, len), RST_STEP_THREAD, th->tid);
	rsys(NR_close, fd, 0, 0);
}

/* membarrier registrations of the (whole) memory, by the main thread. */
static void restore_membarrier(struct rst_args *a, uint32_t bits)
{
	for (uint32_t cmd = 4; cmd <= 256; cmd <<= 1)
		if (bits & cmd)
			CHECK(rsys(NR_membarrier, cmd, 0, 0), RST_STEP_THREAD, cmd);
}

/* What the kernel keeps per thread; each thread sets its own. */
static void restore_thread(struct rst_args *a, struct rst_thread *th)
{
	uint64_t ss[3] = { th->ss_sp, (uint64_t)(uint32_t)th->ss_flags, th->ss_size };
	uint8_t *si = (uint8_t *)th->pending;

	rsys(NR_set_tid_address, th->clear_tid, 0, 0);
	CHECK(rsys(NR_set_robust_list, th->robust_list, th->robust_len, 0), RST_STEP_THREAD, 0);
	if (th->has_rseq)
		CHECK(rsys6(NR_rseq, th->rseq_ptr, th->rseq_len, 0, th->rseq_sig, 0, 0),
		      RST_STEP_THREAD, th->rseq_ptr);
	CHECK(rsys(NR_sigaltstack, ss, 0, 0), RST_STEP_THREAD, th->ss_sp);
	if (th->comm[0])
		CHECK(rsys(NR_prctl, PR_SET_NAME, th->comm, 0), RST_STEP_THREAD, th->tid);
	if (th->cpu_mask_len)
		CHECK(rsys(NR_sched_setaffinity, 0, th->cpu_mask_len, th->cpu_mask), RST_STEP_THREAD,
		      th->tid);
	if (th->has_sched) {
		struct sched_attr_k attr = { sizeof(attr), th->sched_policy, th->sched_flags,
					     th->sched_nice, th->sched_prio, 0, 0, 0, 0, 0 };
		CHECK(rsys(NR_sched_setattr, 0, &attr, 0), RST_STEP_THREAD, th->tid);
	}
	CHECK(rsys(NR_personality, th->personality, 0, 0), RST_STEP_THREAD, th->tid);
	if (th->timerslack_ns)
		CHECK(rsys(NR_prctl, PR_SET_TIMERSLACK, th->timerslack_ns, 0), RST_STEP_THREAD,
		      th->tid);
	if (th->loginuid[0])
		restore_loginuid(a, th);
	if (th->membarrier)
		restore_membarrier(a, th->membarrier);
	/* Its own filters, after the task's it inherited; before its credentials. */
	install_chain(a, th->nr_seccomp, th->seccomp);
	/* Signals are all blocked here: they wait, with their siginfo, for the saved mask.
	 * A siginfo of the sender's choosing may only go to oneself, named as one's own
	 * pid namespace names it (not th->tid, nestor's level). */
	for (uint32_t i = 0; i < th->nr_pending; i++, si += 128)
		CHECK(rsys6(NR_rt_tgsigqueueinfo, rsys(NR_getpid, 0, 0, 0), rsys(NR_gettid, 0, 0, 0),
			    *(int32_t *)si, (long)si, 0, 0),
		      RST_STEP_THREAD, th->tid);
}

/* The last thread of the task to be done closes the status fd: until then any may fail. */
static void done(struct rst_args *a)
{
	if (__atomic_sub_fetch(&a->running, 1, __ATOMIC_ACQ_REL) == 0 && a->close_from >= 0)
		rsys(NR_close, a->status_fd, 0, 0);
}

/*
 * Hands the thread to nestor with a trap. SIGTRAP is unblocked first: the
 * kernel resets the action of a trap signal it forces while blocked, and
 * the task's own SIGTRAP handler (set already) must come back as it was.
 * The mask is nestor's to set afterwards.
 */
static void trap_to_nestor(void)
{
	uint64_t trap = 1ULL << (5 - 1);

	rsys6(NR_rt_sigprocmask, 1 /* SIG_UNBLOCK */, (long)&trap, 0, 8, 0, 0);
	asm volatile("int3" ::: "memory");
}

__attribute__((noreturn)) static void thread_main(struct rst_thread *th)
{
	struct rst_args *a = (struct rst_args *)th->args;
	uint32_t g;

	/* Made with nestor's cursors: nothing until nestor proved its tids. */
	while (th->assist && !(g = __atomic_load_n(&th->gate, __ATOMIC_ACQUIRE)))
		rsys6(NR_futex, (long)&th->gate, 0 /* FUTEX_WAIT */, 0, 0, 0, 0);
	if (th->assist && g != 1)
		rsys(NR_exit, 0, 0, 0);

	if (th->nr_ns) {
		for (uint32_t i = 0; i < th->nr_ns; i++)
			CHECK(rsys(NR_setns, th->ns_fd[i], th->ns_type[i], 0), RST_STEP_NS,
			      th->ns_fd[i]);
		__atomic_fetch_sub(&a->ns_pending, 1, __ATOMIC_RELEASE);
		rsys6(NR_futex, (long)&a->ns_pending, 1 /* FUTEX_WAKE */, 0x7fffffff, 0, 0, 0);
	}
	restore_thread(a, th);
	restore_creds(a, th);
	done(a);
	trap_to_nestor();
	rsys(NR_exit_group, 3, 0, 0);
	__builtin_unreachable();
}

long rst_clone3(void *args, uint64_t size, void (*fn)(struct rst_thread *), struct rst_thread *arg);

static void say(struct rst_args *a, uint32_t step, uint64_t addr, uint64_t len)
{
	struct rst_status st = { .step = step, .addr = addr, .len = len, .pid = a->pid };

	rsys(NR_write, a->status_fd, &st, sizeof(st));
}

/* nestor's word on fd: spun for first (the cursors it just set are the machine's too). */
static char word(struct rst_args *a, int fd, uint64_t tid)
{
	char c = 0;
	long r;

	for (long i = 0; i < 20000000 && (r = rsys(NR_read, fd, &c, 1)) == -11 /* EAGAIN */; i++)
		;
	if (r == -11) {
		rsys(NR_fcntl, fd, 4 /* F_SETFL */, 0);
		r = rsys(NR_read, fd, &c, 1);
	}
	if (r != 1)
		fail(a, r < 0 ? r : -32 /* EPIPE */, RST_STEP_THREAD, tid);
	return c;
}

static long clone_thread(struct rst_args *a, struct rst_thread *th, uint32_t nr_set)
{
	uint64_t tid = th->tid;
	struct clone_args_k {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
			set_tid, set_tid_size, cgroup;
	} ca = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			 CLONE_SYSVSEM | CLONE_PTRACE, /* traced by nestor from birth */
		.stack = th->stack_top - RST_THREAD_STACK + 64,
		.stack_size = RST_THREAD_STACK - 64,
		.set_tid = (uint64_t)&tid,
		.set_tid_size = 1,
	};

	if (th->nr_tid_levels) {
		ca.set_tid = nr_set ? (uint64_t)th->tid_levels : 0;
		ca.set_tid_size = nr_set;
	}
	if (th->assist) {
		/* Its tid address is its own to set later (restore_thread). */
		ca.flags |= 0x00200000; /* CLONE_CHILD_CLEARTID */
		ca.child_tid = (uint64_t)&th->alive;
		th->alive = 1;
	}
	return rst_clone3(&ca, sizeof(ca), thread_main, th);
}

/*
 * A thread of a task inside a user namespace that does not own every level
 * of its pid namespace: nestor sets the outer levels' cursors, then proves
 * the tids; a wrong thread exits and is made again.
 */
/* Until a thread that went is reaped by nestor (its tracer): its tids are still taken. */
static void wait_gone(long tid)
{
	long pid = rsys(NR_getpid, 0, 0, 0);
	struct { long s, ns; } ms = { 0, 1000000 };
	int32_t zero = 0;

	for (int i = 0; i < 5000 && rsys(NR_tgkill, pid, tid, 0) != -3 /* ESRCH */; i++)
		rsys6(NR_futex, (long)&zero, 0 /* FUTEX_WAIT */, 0, (long)&ms, 0, 0);
}

static void assisted_thread(struct rst_args *a, struct rst_thread *th)
{
	long tid = 0;
	int fds[2];
	char c;

	CHECK(rsys(NR_pipe2, (long)fds, 04000 /* O_NONBLOCK */ | 02000000 /* O_CLOEXEC */, 0),
	      RST_STEP_THREAD, th->tid);
	do {
		if (tid)
			wait_gone(tid);
		__atomic_store_n(&th->gate, 0, __ATOMIC_RELEASE);
		say(a, RST_STEP_ASSIST_THREAD, th->tid, fds[0]);
		if (word(a, fds[0], th->tid) != 'g')
			fail(a, -5 /* EIO */, RST_STEP_THREAD, th->tid);
		tid = clone_thread(a, th, th->nr_tid_set);
		CHECK(tid, RST_STEP_THREAD, th->tid);
		say(a, RST_STEP_ASSISTED_THREAD, th->tid, fds[0]);
		rsys(NR_fcntl, fds[0], 4 /* F_SETFL */, 0);
		c = word(a, fds[0], th->tid);
		rsys(NR_fcntl, fds[0], 4 /* F_SETFL */, 04000);
		__atomic_store_n(&th->gate, c == 'k' ? 1 : 2, __ATOMIC_RELEASE);
		rsys6(NR_futex, (long)&th->gate, 1 /* FUTEX_WAKE */, 1, 0, 0, 0);
		/* A wrong one goes: its stack is free again once it is gone. */
		for (int32_t cur; c != 'k' && (cur = __atomic_load_n(&th->alive, __ATOMIC_ACQUIRE));)
			rsys6(NR_futex, (long)&th->alive, 0 /* FUTEX_WAIT */, cur, 0, 0, 0);
	} while (c == 'r');
	rsys(NR_close, fds[0], 0, 0);
	rsys(NR_close, fds[1], 0, 0);
	if (c != 'k')
		fail(a, -16 /* EBUSY */, RST_STEP_THREAD, th->tid);
}

/* The threads, with their tids (set_tid needs the capabilities we drop later). */
static void create_threads(struct rst_args *a)
{
	struct rst_thread *th = (struct rst_thread *)a->threads;

	for (uint32_t i = 1; i < a->nr_threads; i++) {
		if (th[i].assist)
			assisted_thread(a, &th[i]);
		else
			CHECK(clone_thread(a, &th[i], th[i].nr_tid_levels), RST_STEP_THREAD,
			      th[i].tid);
	}
}

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

static void wait_for(uint32_t *word, uint32_t val);

/* nestor's descriptors, but the namespaces still to be entered. */
static void close_service_fds(struct rst_args *a)
{
	uint32_t lo = a->close_from;

	for (uint32_t i = 0; i < a->nr_keep_fds; i++) {
		uint32_t k = a->keep_fds[i];

		if (k > lo)
			rsys(NR_close_range, lo, k - 1, 0);
		if (k + 1 > lo)
			lo = k + 1;
	}
	rsys(NR_close_range, lo, ~0U, 0);
}

/* Once every thread is in its namespaces: ours for children, then the fds go. */
static void enter_last_namespaces(struct rst_args *a)
{
	wait_for(&a->ns_pending, 0);
	if (a->has_pfc)
		CHECK(rsys(NR_setns, a->pfc_fd, 0x20000000 /* CLONE_NEWPID */, 0), RST_STEP_NS,
		      a->pfc_fd);
	for (uint32_t i = 0; a->close_from >= 0 && i < a->nr_keep_fds; i++)
		rsys(NR_close, a->keep_fds[i], 0, 0);
}

static void wait_for(uint32_t *word, uint32_t val)
{
	uint32_t cur;

	while ((cur = __atomic_load_n(word, __ATOMIC_ACQUIRE)) != val)
		rsys6(NR_futex, (long)word, FUTEX_WAIT, cur, 0, 0, 0);
}

static void set_and_wake(uint32_t *word, uint32_t val)
{
	__atomic_store_n(word, val, __ATOMIC_RELEASE);
	rsys6(NR_futex, (long)word, FUTEX_WAKE, 0x7fffffff, 0, 0, 0);
}

/* Memory shared between processes (nestor's vmshare.c): only the owner's
 * blob builds it, once every sharer has left nestor's code for its blob. */
static void wait_for_sharers(struct rst_args *a)
{
	set_and_wake((uint32_t *)a->vm_ready_word, 1);
	wait_for(&a->sharers_in, a->sharers);
}

static void join_owner(struct rst_args *a)
{
	struct rst_args *o = (struct rst_args *)a->owner_args;

	/* The kernel would clear nestor's word, gone with the owner's rebuild, at our exit. */
	rsys(NR_set_tid_address, 0, 0, 0);
	__atomic_fetch_add(&o->sharers_in, 1, __ATOMIC_RELEASE);
	rsys6(NR_futex, (long)&o->sharers_in, FUTEX_WAKE, 0x7fffffff, 0, 0, 0);
	wait_for(&o->mem_ready, 1);
}

static void build_memory(struct rst_args *a)
{
	if (a->sharers)
		wait_for_sharers(a);
	unmap_old(a);
	move_vdso(a);
	map_areas(a);
	CHECK(rsys6(NR_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)&a->mm, sizeof(a->mm), 0, 0),
	      RST_STEP_MM_MAP, 0);
	if (a->sharers)
		set_and_wake(&a->mem_ready, 1);
}

void restorer_main(struct rst_args *a)
{
	if (a->magic != RST_MAGIC)
		rsys(NR_exit_group, 2, 0, 0);
	/* Dynamic xsave features (AMX) must be allowed again before nestor sets the state. */
	if (a->xcomp_perm & (1ULL << 18)) /* XTILEDATA */
		CHECK(rsys(NR_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18, 0),
		      RST_STEP_XSTATE, 18);
	if (a->owner_args)
		join_owner(a);
	else
		build_memory(a);
	if (a->close_from >= 0)
		close_service_fds(a);
	for (uint32_t i = 0; i < a->nr_locks; i++) {
		struct {
			int16_t type, whence;
			int32_t pad;
			int64_t start, len;
			int32_t pid, pad2;
		} fl = { a->locks[i].type, 0 /* SEEK_SET */, 0, (int64_t)a->locks[i].start,
			 (int64_t)a->locks[i].len, 0, 0 };
		CHECK(rsys(NR_fcntl, a->locks[i].fd, 6 /* F_SETLK */, &fl), RST_STEP_LOCKS,
		      a->locks[i].fd);
	}
	for (uint32_t i = 0; i < a->nr_rlimits; i++)
		CHECK(rsys(NR_setrlimit, i, a->rlimits[i], 0), RST_STEP_RLIMITS, i);
	if (a->has_itimers)
		for (int i = 0; i < 3; i++)
			CHECK(rsys(NR_setitimer, i, a->itimers[i], 0), RST_STEP_ITIMERS, i);
	install_seccomp(a);
	a->running = a->nr_threads;
	create_threads(a);
	enter_last_namespaces(a);
	restore_thread(a, (struct rst_thread *)a->threads);
	restore_creds(a, (struct rst_thread *)a->threads);
	done(a);
	/* nestor, our tracer, takes it from here: registers, signal mask, the blob's unmap. */
	trap_to_nestor();
	rsys(NR_exit_group, 3, 0, 0);
}

/* ---- dump mode ---- */

#define PR_GET_DUMPABLE        3
#define PR_GET_SECUREBITS      27
#define PR_GET_TID_ADDRESS     40
#define PR_GET_THP_DISABLE     42
#define PR_GET_CHILD_SUBREAPER 37
#define PR_GET_PDEATHSIG       2

static void note(struct parasite_args *p, long r, uint32_t step)
{
	if (r < 0 && r > -4096 && !p->err) {
		p->err = r;
		p->step = step;
	}
}

/*
 * Connected to nestor (a failure says so in connect's return value, which
 * nestor sees at its exit stop: it then goes on stopping at every syscall).
 */
static long notify_connect(struct parasite_args *p)
{
	long fd = rsys(NR_socket, 1 /* AF_UNIX */, 1 | 04000 | 02000000, 0);

	if (fd < 0)
		return -1;
	if (rsys(NR_connect, fd, p->notify_addr, p->notify_len) < 0) {
		rsys(NR_close, fd, 0, 0);
		return -1;
	}
	return fd;
}

/*
 * Says it is done, then waits until nestor stops it here (it moves the
 * thread to its park) or dies (the hang-up: the thread parks and cures by
 * itself). MSG_NOSIGNAL: a nestor gone must not leave a SIGPIPE pending.
 * ppoll, not poll: an interrupted poll() replaces the thread's restart
 * block (do_restart_poll, on the parasite's pollfd), and a thread released
 * in a nanosleep it was frozen in would then restart that instead.
 */
static void notify_wait(long fd)
{
	struct {
		int32_t fd;
		int16_t events, revents;
	} pfd = { (int32_t)fd, 1 /* POLLIN */, 0 };
	char done = 'd';

	rsys6(NR_sendto, fd, (long)&done, 1, 0x4000 | 0x40 /* NOSIGNAL, DONTWAIT */, 0, 0);
	while (rsys6(NR_ppoll, (long)&pfd, 1, 0, 0, 8, 0) == -4 /* EINTR */)
		;
	rsys(NR_close, fd, 0, 0);
}

/* Everything the task alone can tell, in one visit; nestor reads p once it parks. */
void parasite_main(struct parasite_args *p)
{
	long fd = -1;

	if (p->magic != PARASITE_MAGIC)
		return;
	if (p->frame_uc_stack)
		note(p, rsys(NR_sigaltstack, 0, p->frame_uc_stack, 0), 117);
	if (p->notify_len)
		fd = notify_connect(p);
	for (int sig = 1; sig <= 64; sig++)
		note(p, rsys6(NR_rt_sigaction, sig, 0, (long)p->sigactions[sig - 1], 8, 0, 0), sig);
	for (int i = 0; i < 3; i++)
		note(p, rsys(NR_getitimer, i, p->itimers[i], 0), 100 + i);
	note(p, rsys(NR_sigaltstack, 0, p->altstack, 0), 110);
	note(p, rsys(NR_prctl, PR_GET_TID_ADDRESS, &p->tid_address, 0), 111);
	note(p, rsys(NR_prctl, PR_GET_CHILD_SUBREAPER, &p->subreaper, 0), 112);
	note(p, rsys(NR_prctl, PR_GET_PDEATHSIG, &p->pdeath_sig, 0), 113);
	note(p, p->securebits = rsys(NR_prctl, PR_GET_SECUREBITS, 0, 0), 114);
	note(p, p->dumpable = rsys(NR_prctl, PR_GET_DUMPABLE, 0, 0), 115);
	note(p, p->thp_disable = rsys(NR_prctl, PR_GET_THP_DISABLE, 0, 0), 116);
	p->brk = rsys(NR_brk, 0, 0, 0);
	p->membarrier = rsys(NR_membarrier, 1 << 9 /* CMD_GET_REGISTRATIONS */, 0, 0);
	/* Without dynamic xsave features the kernel says EINVAL: none asked for. */
	if (rsys(NR_arch_prctl, 0x1022 /* ARCH_GET_XCOMP_PERM */, &p->xcomp_perm, 0) < 0)
		p->xcomp_perm = 0;
	if (fd >= 0)
		notify_wait(fd);
}
