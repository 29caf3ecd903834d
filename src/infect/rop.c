/*
 * The two moments nestor must run a syscall in a task with no mapping of
 * its own there, making its mapping (mmap) and removing it (munmap), are
 * made safe with the task's own code: a syscall instruction of the vDSO
 * followed only by register clears and a `ret`, and the task's signal
 * return trampoline (`mov $15, %rax; syscall`: glibc's __restore_rt). A
 * signal frame of the thread's own registers, mask, altstack and xsave area
 * is put below its stack pointer (below the red zone, where any signal
 * frame may go) with the trampoline as its return address: the syscall
 * returns into the `ret`, the `ret` into the trampoline, which returns to
 * the thread's own registers. nestor stops the thread at that rt_sigreturn;
 * if nestor dies at any moment, the thread gets there by itself. The bytes
 * below the stack pointer are put back as soon as the thread no longer
 * needs them (if nestor dies before, they remain changed: nothing the ABI
 * lets a program rely on).
 */
#define LOG_PREFIX "rop: "
#include <string.h>
#include "core/log.h"
#include "core/util.h"
#include "infect/rop.h"
#include "infect/sigframe.h"

#define RED_ZONE  128
#define XSAVE_BUF (64 << 10)

static const uint8_t sigret_glibc[] = { 0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05 };
static const uint8_t sigret_short[] = { 0xb8, 0x0f, 0, 0, 0, 0x0f, 0x05 };

/* After "syscall": instructions that touch no memory and leave rax alone, then ret. */
static bool ret_follows(const uint8_t *p, size_t n)
{
	static const uint8_t clears[][3] = {
		{ 2, 0x31, 0xd2 }, { 2, 0x31, 0xc9 }, { 2, 0x31, 0xf6 }, { 2, 0x31, 0xff },
		{ 3, 0x45, 0x31 }, /* xor r8d..r15d with themselves: checked below */
	};
	size_t i = 0;

	while (i < n) {
		bool ok = false;

		if (p[i] == 0xc3)
			return true;
		for (size_t k = 0; k < ARRAY_SIZE(clears) && !ok; k++) {
			size_t len = clears[k][0];

			if (i + len > n || p[i] != clears[k][1] || p[i + 1] != clears[k][2])
				continue;
			if (len == 3 && (p[i + 2] >> 6 != 3 || (p[i + 2] & 7) != ((p[i + 2] >> 3) & 7)))
				continue;
			i += len;
			ok = true;
		}
		if (!ok)
			return false;
	}
	return false;
}

static uint64_t find_ret_gadget(const uint8_t *buf, size_t len, uint64_t start)
{
	for (size_t i = 0; i + 2 < len; i++)
		if (buf[i] == 0x0f && buf[i + 1] == 0x05 && ret_follows(buf + i + 2, MIN(len - i - 2, 32)))
			return start + i;
	return 0;
}

/* The trampoline found last, by file: most tasks map the same libc. */
static struct {
	unsigned major, minor;
	uint64_t ino, file_off;
	size_t len;
} cache;

static bool sigret_at(pid_t pid, uint64_t addr, size_t len)
{
	uint8_t b[sizeof(sigret_glibc)];

	return !remote_read(pid, addr, b, len) &&
	       !memcmp(b, len == sizeof(sigret_glibc) ? sigret_glibc : sigret_short, len);
}

static uint64_t scan_area(pid_t pid, const struct proc_vma *v)
{
	size_t len = v->end - v->start;
	_cleanup_free_ uint8_t *buf = malloc(len);

	if (!buf || remote_read(pid, v->start, buf, len))
		return 0;
	for (size_t i = 0; i + sizeof(sigret_glibc) <= len; i++) {
		size_t n = !memcmp(buf + i, sigret_glibc, sizeof(sigret_glibc)) ? sizeof(sigret_glibc)
			 : !memcmp(buf + i, sigret_short, sizeof(sigret_short)) ? sizeof(sigret_short)
										 : 0;
		if (!n)
			continue;
		cache.major = v->dev_major, cache.minor = v->dev_minor, cache.ino = v->ino;
		cache.file_off = v->pgoff + i;
		cache.len = n;
		return v->start + i;
	}
	return 0;
}

static uint64_t find_sigret(pid_t pid, const struct proc_vma *v, int n)
{
	/* The cached file first, then every executable file mapping. */
	for (int i = 0; i < n; i++) {
		const struct proc_vma *a = &v[i];

		if (cache.len && a->ino == cache.ino && a->dev_major == cache.major &&
		    a->dev_minor == cache.minor && (a->prot & 4) && cache.file_off >= a->pgoff &&
		    cache.file_off + cache.len <= a->pgoff + (a->end - a->start) &&
		    sigret_at(pid, a->start + cache.file_off - a->pgoff, cache.len))
			return a->start + cache.file_off - a->pgoff;
	}
	for (int i = 0; i < n; i++) {
		uint64_t at;

		if (!(v[i].prot & 4) || !v[i].ino || v[i].end - v[i].start > (64 << 20))
			continue;
		if ((at = scan_area(pid, &v[i])))
			return at;
	}
	return 0;
}

void rop_find(struct remote *rt, const struct proc_vma *v, int n)
{
	for (int i = 0; i < n; i++) {
		size_t len = v[i].end - v[i].start;
		_cleanup_free_ uint8_t *buf = NULL;

		if (strcmp(v[i].path, "[vdso]") || !(buf = malloc(len)) ||
		    remote_read(rt->pid, v[i].start, buf, len))
			continue;
		rt->rop_syscall = find_ret_gadget(buf, len, v[i].start);
	}
	if (rt->rop_syscall)
		rt->rop_sigret = find_sigret(rt->pid, v, n);
	if (!rt->rop_syscall || !rt->rop_sigret)
		pr_debug("task %d: no vDSO return gadget or signal trampoline: its mapping is made "
			 "without a frame to go back through", rt->pid);
}

/* The stack pointer's area must hold the frame: stacks only, never other data. */
static bool room_below(const struct proc_vma *v, int n, uint64_t sp, uint64_t low)
{
	for (int i = 0; i < n; i++)
		if (sp > v[i].start && sp <= v[i].end)
			return low >= v[i].start && (v[i].prot & 3) == 3 && !v[i].shared &&
			       (!v[i].path[0] || !strcmp(v[i].path, "[stack]"));
	return false;
}

int rop_enter(struct remote *rt, const struct proc_vma *v, int n, const uint64_t *altstack,
	      struct rop *st)
{
	static uint8_t xbuf[XSAVE_BUF];
	struct user_regs_struct own = rt->regs;
	size_t xlen = sizeof(xbuf);
	_cleanup_free_ uint8_t *frame = NULL;
	int r;

	memset(st, 0, sizeof(*st));
	if (!rt->rop_syscall || !rt->rop_sigret)
		return -ENOENT;
	if ((r = ptrace_get_xsave(rt->pid, xbuf, &xlen)) < 0)
		return r;
	st->len = sigframe_size(xlen);
	st->sp = (rt->regs.rsp - RED_ZONE - st->len) & ~63ULL;
	if (!room_below(v, n, rt->regs.rsp, st->sp))
		return -ENOSPC;
	st->saved = malloc(st->len);
	frame = malloc(st->len);
	if (!st->saved || !frame)
		return -ENOMEM;
	if (remote_read(rt->pid, st->sp, st->saved, st->len)) {
		free(steal_ptr(st->saved));
		return -EFAULT;
	}
	regs_fixup_restart(&own, true);
	if ((r = sigframe_build(&own, rt->sigmask, xbuf, xlen, st->sp, frame, st->len)) < 0)
		return r;
	memcpy(frame, &rt->rop_sigret, sizeof(uint64_t)); /* the frame's return address */
	if (altstack)
		memcpy(frame + (sigframe_uc_stack(st->sp) - st->sp), altstack, 3 * sizeof(uint64_t));
	if ((r = remote_write(rt->pid, st->sp, frame, st->len)) < 0) {
		rop_leave(rt, st);
		return log_error_errno(r, "cannot write below the stack of task %d", rt->pid);
	}
	return 0;
}

int rop_leave(struct remote *rt, struct rop *st)
{
	int r = 0;

	if (st->saved && (r = remote_write(rt->pid, st->sp, st->saved, st->len)) < 0)
		log_error_errno(r, "cannot put back the stack of task %d", rt->pid);
	free(steal_ptr(st->saved));
	return r;
}
