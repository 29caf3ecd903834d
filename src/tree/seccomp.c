/*
 * Seccomp filters, per thread. Dump: PTRACE_SECCOMP_GET_FILTER gives each
 * filter of a thread (newest first) and PTRACE_GET_SECCOMP_METADATA its
 * flags. The longest chain every thread starts with is the task's (what
 * inheritance and TSYNC make: one filter object all threads share); what a
 * thread has beyond it is its own. The kernel tells no filter's identity,
 * so sharing is judged by content: filters with the same program and flags
 * at the same depth of every thread's chain are taken as one object.
 * Restore: the blob installs the task's chain, oldest first, while still
 * privileged and before it creates the threads, which inherit it (one
 * object again, so a later TSYNC works as before); then each thread
 * installs its own, before it drops to its credentials. nestor traces with
 * PTRACE_O_SUSPEND_SECCOMP both ways, so neither its remote syscalls nor
 * the blob's run through the filters. Named limit: filters two threads (but
 * not all) share beyond the common chain come back as two equal copies; a
 * TSYNC that relied on their being one object then fails.
 */
#define LOG_PREFIX "seccomp: "
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ptrace.h>
#include "core/arena.h"
#include "core/log.h"
#include "tree/proc.h"
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

/* The chain of one thread, newest first as the kernel numbers it; none
 * (EINVAL) when the thread is not in filter mode. */
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

		if (len < 0 && (errno == ENOENT || (errno == EINVAL && n == 0)))
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

static bool same_filter(const SeccompFilterEntry *a, const SeccompFilterEntry *b)
{
	return a->prog.len == b->prog.len && a->flags == b->flags &&
	       !memcmp(a->prog.data, b->prog.data, a->prog.len);
}

struct chain {
	SeccompFilterEntry **v;
	size_t n;
};

/* How many filters, oldest first, every chain starts with. */
static size_t common_len(const struct chain *ch, size_t nr)
{
	size_t k = ch[0].n;

	for (size_t i = 1; i < nr; i++) {
		size_t j = 0;

		while (j < k && j < ch[i].n && same_filter(ch[0].v[j], ch[i].v[j]))
			j++;
		k = j;
	}
	return k;
}

int seccomp_dump(struct dump_task *t)
{
	TaskCoreEntry *c = t->core;
	struct chain *ch = ANEW_ARRAY(struct chain, t->nr_threads + 1);
	size_t k;
	int r;

	if (!ch)
		return -ENOMEM;
	if (t->status.seccomp == 1)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d is in strict seccomp mode "
						  "(not supported)", t->pid);
	if (t->status.seccomp && (r = read_chain(t->pid, &ch[0].v, &ch[0].n)) < 0)
		return r;
	for (size_t i = 0; i < t->nr_threads; i++) {
		struct proc_status st;

		/* No ptrace call for a thread without filters: it needs nestor itself
		 * to be free of seccomp (a dump from inside a container may not be). */
		if ((r = proc_read_status(t->threads[i].pid, &st)) < 0)
			return log_error_errno(r, "cannot read the status of thread %d",
					       t->threads[i].pid);
		if (st.seccomp && (r = read_chain(t->threads[i].pid, &ch[i + 1].v, &ch[i + 1].n)) < 0)
			return r;
	}
	k = common_len(ch, t->nr_threads + 1);
	c->seccomp = ch[0].v;
	c->n_seccomp = k;
	c->thread->seccomp = ch[0].v ? ch[0].v + k : NULL;
	c->thread->n_seccomp = ch[0].n - k;
	for (size_t i = 0; i < t->nr_threads; i++) {
		c->threads[i]->seccomp = ch[i + 1].v ? ch[i + 1].v + k : NULL;
		c->threads[i]->n_seccomp = ch[i + 1].n - k;
	}
	return 0;
}

/* ---- restore ---- */

static int chain_validate(SeccompFilterEntry **v, size_t n, size_t *total)
{
	if (n > MAX_FILTERS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t len = v[i]->prog.len;

		if (!len || len % sizeof(struct sock_filter) ||
		    len / sizeof(struct sock_filter) > MAX_INSNS ||
		    v[i]->flags & ~(uint32_t)(SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW))
			return -EINVAL;
		*total += len;
	}
	return 0;
}

int seccomp_validate(const TaskCoreEntry *c)
{
	size_t total = 0;

	if (chain_validate(c->seccomp, c->n_seccomp, &total) < 0 ||
	    chain_validate(c->thread->seccomp, c->thread->n_seccomp, &total) < 0)
		return -EINVAL;
	for (size_t i = 0; i < c->n_threads; i++)
		if (chain_validate(c->threads[i]->seccomp, c->threads[i]->n_seccomp, &total) < 0 ||
		    c->n_seccomp + c->threads[i]->n_seccomp > MAX_FILTERS)
			return -EINVAL;
	return total > (4u << 20) || c->n_seccomp + c->thread->n_seccomp > MAX_FILTERS ? -EINVAL : 0;
}

size_t seccomp_chain_size(SeccompFilterEntry *const *v, size_t n)
{
	size_t len = n * sizeof(struct rst_seccomp);

	for (size_t i = 0; i < n; i++)
		len += (v[i]->prog.len + 7) & ~7UL;
	return len;
}

size_t seccomp_chain_fill(SeccompFilterEntry *const *v, size_t n, uint8_t *at, uint32_t *ret_nr,
			  uint64_t *ret_addr)
{
	struct rst_seccomp *d = (struct rst_seccomp *)at;
	uint8_t *prog = at + n * sizeof(*d);

	*ret_nr = n;
	*ret_addr = (uint64_t)d;
	for (size_t i = 0; i < n; i++) {
		memcpy(prog, v[i]->prog.data, v[i]->prog.len);
		d[i] = (struct rst_seccomp){ v[i]->prog.len / sizeof(struct sock_filter), v[i]->flags,
					     (uint64_t)prog };
		prog += (v[i]->prog.len + 7) & ~7UL;
	}
	return seccomp_chain_size(v, n);
}

size_t seccomp_args_size(const TaskCoreEntry *c)
{
	return seccomp_chain_size(c->seccomp, c->n_seccomp);
}

void seccomp_fill_args(const TaskCoreEntry *c, struct rst_args *a, uint8_t *at)
{
	seccomp_chain_fill(c->seccomp, c->n_seccomp, at, &a->nr_seccomp, &a->seccomp);
}
