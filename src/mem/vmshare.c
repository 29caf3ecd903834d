// SPDX-License-Identifier: GPL-2.0
/*
 * Memory and signal handlers shared between processes: clone(CLONE_VM)
 * without CLONE_THREAD, with or without CLONE_SIGHAND.
 *
 * Dump: tasks are grouped by their mm (kcmp orders them, so a sort finds
 * the groups in n log n calls). A group must hang from one task, its
 * owner: every other member's parent is in the group too, since only a
 * parent can hand its memory to a child at clone. Only the owner's memory
 * is saved.
 *
 * Restore: a memory can only be shared at birth, so each sharer is cloned
 * with CLONE_VM by its parent while both still run nestor's code, on a
 * stack of its own. While one member of a group runs nestor's code the
 * others wait (they share nestor's heap, stack-less globals and errno),
 * each in turn:
 *   1. the parent waits while its sharer child makes its own family
 *      (vm_born: 1 until it is done, 0 if it died);
 *   2. after the barrier the owner prepares and enters its blob, which
 *      says so (vm_ready) and then waits for every sharer (sharers_in);
 *   3. sharer k prepares once sharers_in is k - 1, hands its blob region
 *      to the owner's to keep, and enters its blob, which counts it in;
 *   4. the owner's blob rebuilds the memory, then lets the sharers' blobs
 *      go on (mem_ready) with what each process restores of its own.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "core/log.h"
#include "mem/mem.h"
#include "core/sys.h"
#include "core/util.h"
#include "mem/vmshare.h"

#define KCMP_VM_K      1
#define KCMP_SIGHAND_K 4

/* ---- dump ---- */

struct sort_key {
	struct dump_ctx *ctx;
	int type;
};

static int cmp_kcmp(const void *a, const void *b, void *arg)
{
	const struct sort_key *k = arg;
	pid_t x = k->ctx->tasks[*(const int *)a].pid, y = k->ctx->tasks[*(const int *)b].pid;
	int r = sys_kcmp(x, y, k->type, 0, 0);

	/* kcmp orders the kernel objects; a task it cannot see sorts by pid. */
	return r == 0 ? 0 : r == 1 ? -1 : r == 2 ? 1 : x < y ? -1 : 1;
}

static bool in_run(const int *run, int n, int idx)
{
	for (int i = 0; i < n; i++)
		if (run[i] == idx)
			return true;
	return false;
}

static const char *what(int type)
{
	return type == KCMP_VM_K ? "memory (CLONE_VM)" : "signal handlers (CLONE_SIGHAND)";
}

/* A run of tasks sharing one object: all but one must have their parent in it. */
static int mark_run(struct dump_ctx *ctx, const int *run, int n, int type)
{
	int owner = -1;

	for (int i = 0; i < n; i++) {
		struct dump_task *t = &ctx->tasks[run[i]];

		if (t->parent < 0 || !in_run(run, n, t->parent)) {
			if (owner >= 0)
				return log_error_ret(-EOPNOTSUPP, "can't dump: tasks %d and %d share "
								  "their %s, and neither got it from "
								  "the other (not supported)",
						     ctx->tasks[owner].pid, t->pid, what(type));
			owner = run[i];
			continue;
		}
		if (type == KCMP_VM_K)
			t->clone_vm = true;
		else
			t->clone_sighand = true;
	}
	return 0;
}

/* Sorts idx[0..n) by the kernel object of the type, then marks each run. */
static int group(struct dump_ctx *ctx, int *idx, int n, int type)
{
	struct sort_key key = { ctx, type };
	int r;

	qsort_r(idx, n, sizeof(*idx), cmp_kcmp, &key);
	for (int i = 0, end; i < n; i = end) {
		for (end = i + 1; end < n; end++)
			if (sys_kcmp(ctx->tasks[idx[i]].pid, ctx->tasks[idx[end]].pid, type, 0, 0))
				break;
		if (end - i > 1 && (r = mark_run(ctx, idx + i, end - i, type)) < 0)
			return r;
	}
	return 0;
}

/* The sharers and their owners: the only tasks that can share signal
 * handlers, as the kernel demands CLONE_VM with CLONE_SIGHAND. */
static int vm_members(struct dump_ctx *ctx, int *idx)
{
	int n = 0;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		bool owner = false;

		for (size_t k = i + 1; k < ctx->nr_tasks && !owner; k++)
			owner = ctx->tasks[k].clone_vm && ctx->tasks[k].parent == (int)i;
		if (ctx->tasks[i].clone_vm || owner)
			idx[n++] = i;
	}
	return n;
}

static bool any_sharer(const struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].clone_vm)
			return true;
	return false;
}

int vmshare_check(struct dump_ctx *ctx)
{
	_cleanup_free_ int *idx = malloc(ctx->nr_tasks * sizeof(*idx));
	int n = 0, r;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (!ctx->tasks[i].zombie)
			idx[n++] = i;
	if ((r = group(ctx, idx, n, KCMP_VM_K)) < 0)
		return r;
	n = any_sharer(ctx) ? vm_members(ctx, idx) : 0;
	if (n && (r = group(ctx, idx, n, KCMP_SIGHAND_K)) < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct dump_task *t = &ctx->tasks[i];

		if (t->clone_sighand && !t->clone_vm)
			return log_error_ret(-EOPNOTSUPP, "can't dump: task %d shares its signal "
							  "handlers but not its memory with its "
							  "parent (not supported)", t->pid);
		if (t->clone_vm && t->helper)
			return log_error_ret(-EOPNOTSUPP, "can't dump: task %d shares its parent's "
							  "memory and its session or group leader "
							  "%d is dead (not supported)", t->pid,
					     t->helper);
	}
	return 0;
}

/* ---- restore ---- */

#define SHARER_STACK (8UL << 20)

/* Raw: no errno, which the whole group shares (one TLS). */
static long raw_futex(uint32_t *word, int op, uint32_t val)
{
	register long r10 asm("r10") = 0;
	long r;

	asm volatile("syscall"
		     : "=a"(r)
		     : "0"((long)SYS_futex), "D"(word), "S"((long)op), "d"((long)val), "r"(r10)
		     : "rcx", "r11", "memory");
	return r;
}

static void wait_while(uint32_t *word, uint32_t val)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == val)
		raw_futex(word, FUTEX_WAIT, val);
}

static void wait_until(uint32_t *word, uint32_t val)
{
	uint32_t cur;

	while ((cur = __atomic_load_n(word, __ATOMIC_ACQUIRE)) != val)
		raw_futex(word, FUTEX_WAIT, cur);
}

struct start {
	struct restore_ctx *ctx;
	int idx;
	vmshare_fn fn;
	void *arg;
};

__attribute__((noreturn)) static void start_sharer(struct start *s)
{
	s->fn(s->ctx, s->idx, s->arg);
	_exit(1);
}

/* clone3 whose child calls fn(s) on the stack in ca: a C function cannot
 * return into a frame the child does not have. */
static long clone3_run(struct clone_args *ca, void (*fn)(struct start *), struct start *s)
{
	long r;

	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "xor %%ebp, %%ebp\n\t"
		     "mov %3, %%rdi\n\t"
		     "call *%2\n\t"
		     "ud2\n"
		     "1:"
		     : "=a"(r)
		     : "0"((long)SYS_clone3), "r"(fn), "r"(s), "D"(ca), "S"(sizeof(*ca))
		     : "rcx", "r11", "memory");
	return r;
}

pid_t vmshare_clone(struct restore_ctx *ctx, int idx, struct clone_args *ca, vmshare_fn fn,
		    void *arg)
{
	struct restore_task *t = &ctx->tasks[idx];
	struct start s = { ctx, idx, fn, arg };
	void *stack = mmap(NULL, SHARER_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	long pid;

	if (stack == MAP_FAILED)
		return log_error_errno(-errno, "cannot make a stack for task %d", t->pid);
	/* The kernel clears vm_born and wakes us if the child dies early. */
	ca->flags |= CLONE_VM | CLONE_CHILD_CLEARTID | (t->pe->clone_sighand ? CLONE_SIGHAND : 0);
	ca->child_tid = (uint64_t)&t->vm_born;
	ca->stack = (uint64_t)stack;
	ca->stack_size = SHARER_STACK;
	t->vm_born = 1;
	pid = clone3_run(ca, start_sharer, &s);
	if (pid < 0) {
		munmap(stack, SHARER_STACK);
		return pid == -EEXIST ? log_error_ret(-EEXIST, "can't restore: pid %d is taken", t->pid)
				      : log_error_errno((int)pid, "cannot create task %d", t->pid);
	}
	wait_while(&t->vm_born, 1);
	if (!t->vm_born)
		return -ECHILD; /* it said why */
	return pid;
}

void vmshare_parked(struct restore_task *t)
{
	if (t->vm_owner < 0)
		return;
	__atomic_store_n(&t->vm_born, 2, __ATOMIC_RELEASE);
	raw_futex(&t->vm_born, FUTEX_WAKE, 1);
}

void vmshare_wait_turn(struct restore_ctx *ctx, struct restore_task *t)
{
	struct restore_task *o;

	if (t->vm_owner < 0)
		return;
	o = &ctx->tasks[t->vm_owner];
	wait_until(&o->vm_ready, 1);
	wait_until(&o->vm_args->sharers_in, t->vm_rank - 1);
}

void vmshare_fill_args(struct restore_ctx *ctx, struct restore_task *t, struct rst_region *reg)
{
	struct rst_args *a = reg->args, *oa;

	if (t->nr_sharers) {
		a->sharers = t->nr_sharers;
		a->vm_ready_word = (uint64_t)&t->vm_ready;
		t->vm_args = a;
	}
	if (t->vm_owner < 0)
		return;
	oa = ctx->tasks[t->vm_owner].vm_args;
	a->owner_args = (uint64_t)oa;
	oa->keep[t->vm_rank - 1][0] = (uint64_t)reg->start;
	oa->keep[t->vm_rank - 1][1] = reg->len;
}
