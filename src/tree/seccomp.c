/*
 * Seccomp filters. Dump: PTRACE_SECCOMP_GET_FILTER gives each filter of a
 * thread (newest first) and PTRACE_GET_SECCOMP_METADATA its flags; every
 * thread must carry the same chain (as after TSYNC or inheritance), else the
 * task is refused. Restore: the blob installs the chain, oldest first, while
 * still privileged and before it creates the threads, which inherit it.
 * nestor traces with PTRACE_O_SUSPEND_SECCOMP both ways, so neither its
 * remote syscalls nor the blob's run through the filters.
 */
#define LOG_PREFIX "seccomp: "
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ptrace.h>
#include "core/arena.h"
#include "core/log.h"
#include "tree/seccomp.h"
#include "core/util.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d
#endif

#define MAX_FILTERS 512
#define MAX_INSNS   4096 /* BPF_MAXINSNS */

struct seccomp_meta {
	uint64_t filter_off, flags;
};

/* The chain of one thread, newest first as the kernel numbers it. */
static int read_chain(pid_t tid, SeccompFilterEntry ***ret, size_t *ret_n)
{
	SeccompFilterEntry **v = ANEW_ARRAY(SeccompFilterEntry *, MAX_FILTERS);
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (;; n++) {
		long len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, n, NULL);
		struct seccomp_meta meta = { n, 0 };
		SeccompFilterEntry *e;

		if (len < 0 && errno == ENOENT)
			break;
		if (len <= 0 || len > MAX_INSNS || n == MAX_FILTERS)
			return log_error_errno(len < 0 ? -errno : -E2BIG,
					       "cannot read seccomp filter %zu of thread %d", n, tid);
		e = ANEW(SeccompFilterEntry);
		if (!e)
			return -ENOMEM;
		seccomp_filter_entry__init(e);
		e->prog.len = len * sizeof(struct sock_filter);
		e->prog.data = arena_alloc(e->prog.len);
		if (!e->prog.data)
			return -ENOMEM;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, n, e->prog.data) != len)
			return log_error_errno(-errno, "cannot read seccomp filter %zu of thread %d", n,
					       tid);
		if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(meta), &meta) < 0)
			return log_error_errno(-errno, "cannot read seccomp flags of thread %d", tid);
		e->flags = meta.flags;
		v[n] = e;
	}
	/* Oldest first, the order they are installed in. */
	for (size_t i = 0; i < n / 2; i++) {
		SeccompFilterEntry *x = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = x;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool same_chain(SeccompFilterEntry **a, size_t na, SeccompFilterEntry **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i]->prog.len != b[i]->prog.len || a[i]->flags != b[i]->flags ||
		    memcmp(a[i]->prog.data, b[i]->prog.data, a[i]->prog.len))
			return false;
	return true;
}

int seccomp_dump(struct dump_task *t)
{
	TaskCoreEntry *c = t->core;
	int r;

	if (t->status.seccomp == 0)
		return 0;
	if (t->status.seccomp != 2)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d is in strict seccomp mode "
						  "(not supported)", t->pid);
	r = read_chain(t->pid, &c->seccomp, &c->n_seccomp);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->nr_threads; i++) {
		SeccompFilterEntry **v;
		size_t n;

		r = read_chain(t->threads[i].pid, &v, &n);
		if (r < 0)
			return r;
		if (!same_chain(c->seccomp, c->n_seccomp, v, n))
			return log_error_ret(-EOPNOTSUPP, "can't dump: thread %d of task %d has other "
							  "seccomp filters than the task (not supported yet)",
					     t->threads[i].pid, t->pid);
	}
	return 0;
}

/* ---- restore ---- */

int seccomp_validate(const TaskCoreEntry *c)
{
	size_t total = 0;

	if (c->n_seccomp > MAX_FILTERS)
		return -EINVAL;
	for (size_t i = 0; i < c->n_seccomp; i++) {
		size_t len = c->seccomp[i]->prog.len;

		if (!len || len % sizeof(struct sock_filter) ||
		    len / sizeof(struct sock_filter) > MAX_INSNS ||
		    c->seccomp[i]->flags & ~(uint32_t)(SECCOMP_FILTER_FLAG_LOG |
							SECCOMP_FILTER_FLAG_SPEC_ALLOW))
			return -EINVAL;
		total += len;
	}
	return total > (1u << 20) ? -EINVAL : 0;
}

size_t seccomp_args_size(const TaskCoreEntry *c)
{
	size_t n = c->n_seccomp * sizeof(struct rst_seccomp);

	for (size_t i = 0; i < c->n_seccomp; i++)
		n += (c->seccomp[i]->prog.len + 7) & ~7UL;
	return n;
}

void seccomp_fill_args(const TaskCoreEntry *c, struct rst_args *a, uint8_t *at)
{
	struct rst_seccomp *v = (struct rst_seccomp *)at;
	uint8_t *prog = at + c->n_seccomp * sizeof(*v);

	a->nr_seccomp = c->n_seccomp;
	a->seccomp = (uint64_t)v;
	for (size_t i = 0; i < c->n_seccomp; i++) {
		memcpy(prog, c->seccomp[i]->prog.data, c->seccomp[i]->prog.len);
		v[i] = (struct rst_seccomp){ c->seccomp[i]->prog.len / sizeof(struct sock_filter),
					     c->seccomp[i]->flags, (uint64_t)prog };
		prog += (c->seccomp[i]->prog.len + 7) & ~7UL;
	}
}
