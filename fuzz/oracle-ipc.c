// SPDX-License-Identifier: GPL-2.0
/*
 * The oracle's rules for IPC namespaces (see oracle.c for the others),
 * written from what the restore does with their images:
 * - every IPC namespace that is not a host one has its images read
 *   (ipc-ID.img, ipcmq-ID.img), kept for its own id;
 * - System V objects are made with their ids (through *_next_id): ids
 *   unique per kind, not negative; keys unique per kind but IPC_PRIVATE;
 *   modes within what the kernel keeps; a segment has a size, its data
 *   runs lie inside it, in order, apart, back to back in ipcshm-ID.img
 *   (data_off, shm_bytes); a destroyed one has no key and is attached;
 *   semaphore sets have 1 to SEMMSL values each at most SEMVMX; messages a
 *   positive type;
 * - POSIX queues: names unique, non-empty, without '/'; capacities
 *   positive; their messages in ipcmq-ID.img in queue order, each for a
 *   queue of the namespace, below MQ_PRIO_MAX, at most msgsize bytes, at
 *   most maxmsg per queue, exactly curmsgs;
 * - every VMA_SYSV area (an attachment) names a segment of the IPC
 *   namespace of the task whose memory it is (not a host one), lies inside
 *   the segment (pgoff + length within its pages), is a shared mapping;
 *   every thread and every task sharing that memory (CLONE_VM) is in that
 *   same IPC namespace;
 * - a POSIX queue descriptor (files.img) names an IPC namespace of the
 *   model that is not a host one and a queue of that name in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include "fuzz/fuzz.h"
#include "ns/ipc-priv.h"
#include "ns/ns.h"
#include "restorer/restorer-abi.h"

#define SEMMSL_MAX  65535
#define SEMVMX	    32767
#define MQ_PRIO_MAX 32768
#define PAGE_UP(x)  (((x) + 4095) & ~4095ULL)

static char msg[512];

#define BROKEN(...) (snprintf(msg, sizeof(msg), __VA_ARGS__), msg)

static const struct ipc_rst_ns *ipc_of(const struct restore_ctx *ctx, uint32_t id)
{
	const NsEntry *n = ns_entry(ctx, id);

	if (!n || n->host || strcmp(n->kind, "ipc"))
		return NULL;
	return *ns_priv((struct restore_ctx *)ctx, id);
}

static const char *check_perms(uint32_t ns, const char *what, IpcPermEntry *const *p, size_t n,
			       uint32_t modes)
{
	for (size_t i = 0; i < n; i++) {
		if (!p[i] || p[i]->id < 0 || p[i]->mode & ~modes)
			return BROKEN("IPC namespace %u: %s %zu has id %d or mode %#o", ns, what, i,
				      p[i] ? p[i]->id : -1, p[i] ? p[i]->mode : 0);
		for (size_t k = 0; k < i; k++)
			if (p[k]->id == p[i]->id || (p[i]->key && p[k]->key == p[i]->key))
				return BROKEN("IPC namespace %u: two %ss with id %d or key %d", ns,
					      what, p[i]->id, p[i]->key);
	}
	return NULL;
}

static const char *check_shms(uint32_t ns, const IpcNsEntry *e)
{
	uint64_t off = 0;

	for (size_t i = 0; i < e->n_shms; i++) {
		const IpcShmEntry *s = e->shms[i];
		uint64_t end = 0;

		if (!s->size || s->data_off != off)
			return BROKEN("IPC namespace %u: segment %zu of %llu bytes, data at %llu", ns,
				      i, (unsigned long long)s->size, (unsigned long long)s->data_off);
		for (size_t k = 0; k < s->n_runs; k++) {
			const IpcRunEntry *r = s->runs[k];

			if (!r->len || r->off < end || r->off > s->size || r->len > s->size - r->off)
				return BROKEN("IPC namespace %u: segment %zu, run %zu misplaced", ns,
					      i, k);
			end = r->off + r->len;
			off += r->len;
		}
		if (s->perm && s->perm->mode & SHM_DEST && (s->perm->key || !s->nattch))
			return BROKEN("IPC namespace %u: destroyed segment %zu has a key or is "
				      "attached nowhere", ns, i);
	}
	if (off != e->shm_bytes)
		return BROKEN("IPC namespace %u: runs hold %llu bytes, the image says %llu", ns,
			      (unsigned long long)off, (unsigned long long)e->shm_bytes);
	return NULL;
}

static IpcPermEntry *shm_perm(const IpcNsEntry *e, size_t i)
{
	return e->shms[i]->perm;
}

static IpcPermEntry *sem_perm(const IpcNsEntry *e, size_t i)
{
	return e->sems[i]->perm;
}

static IpcPermEntry *msq_perm(const IpcNsEntry *e, size_t i)
{
	return e->msqs[i]->perm;
}

/* The ipc_perm_entry of each object of one kind, checked together. */
static const char *check_kind(uint32_t ns, const char *what, const IpcNsEntry *e, size_t n,
			      IpcPermEntry *(*perm_of)(const IpcNsEntry *, size_t), uint32_t modes)
{
	IpcPermEntry **p = calloc(n + 1, sizeof(*p));
	const char *w;

	if (!p)
		return BROKEN("out of memory");
	for (size_t i = 0; i < n; i++)
		p[i] = perm_of(e, i);
	w = check_perms(ns, what, p, n, modes);
	free(p);
	return w;
}

static const char *check_sems_msqs(uint32_t ns, const IpcNsEntry *e)
{
	const char *w;

	if ((w = check_kind(ns, "segment", e, e->n_shms, shm_perm, 0777 | SHM_DEST | SHM_LOCKED)) ||
	    (w = check_kind(ns, "semaphore set", e, e->n_sems, sem_perm, 0777)) ||
	    (w = check_kind(ns, "message queue", e, e->n_msqs, msq_perm, 0777)))
		return w;
	for (size_t i = 0; i < e->n_sems; i++) {
		const IpcSemEntry *s = e->sems[i];

		if (!s->n_values || s->n_values > SEMMSL_MAX)
			return BROKEN("IPC namespace %u: semaphore set %zu of %zu", ns, i,
				      s->n_values);
		for (size_t k = 0; k < s->n_values; k++)
			if (s->values[k] > SEMVMX)
				return BROKEN("IPC namespace %u: semaphore %zu.%zu is %u", ns, i, k,
					      s->values[k]);
	}
	for (size_t i = 0; i < e->n_msqs; i++) {
		for (size_t k = 0; k < e->msqs[i]->n_msgs; k++)
			if (e->msqs[i]->msgs[k]->mtype <= 0)
				return BROKEN("IPC namespace %u: message %zu.%zu of type %lld", ns, i,
					      k, (long long)e->msqs[i]->msgs[k]->mtype);
	}
	return NULL;
}

static const char *check_mqs(const struct ipc_rst_ns *n)
{
	const IpcNsEntry *e = n->e;
	size_t at = 0;

	for (size_t i = 0; i < e->n_mqs; i++) {
		const IpcMqEntry *q = e->mqs[i];
		int64_t count = 0;

		if (!*q->name || strchr(q->name, '/') || q->maxmsg <= 0 || q->msgsize <= 0)
			return BROKEN("IPC namespace %u: POSIX queue %zu '%s'", n->id, i, q->name);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(e->mqs[k]->name, q->name))
				return BROKEN("IPC namespace %u: two POSIX queues '%s'", n->id,
					      q->name);
		for (; at < n->nr_msgs && n->msgs[at]->queue == i; at++, count++)
			if (n->msgs[at]->prio >= MQ_PRIO_MAX ||
			    n->msgs[at]->text.len > (uint64_t)q->msgsize)
				return BROKEN("IPC namespace %u: message %zu of queue '%s'", n->id,
					      at, q->name);
		if (count > q->maxmsg || count != q->curmsgs)
			return BROKEN("IPC namespace %u: queue '%s' holds %lld messages, %lld at "
				      "most, %lld said", n->id, q->name, (long long)count,
				      (long long)q->maxmsg, (long long)q->curmsgs);
	}
	if (at != n->nr_msgs)
		return BROKEN("IPC namespace %u: message %zu is for no queue (or out of order)",
			      n->id, at);
	return NULL;
}

static const IpcShmEntry *segment(const struct ipc_rst_ns *n, uint64_t shmid)
{
	for (size_t i = 0; n && i < n->e->n_shms; i++)
		if ((uint64_t)(uint32_t)n->e->shms[i]->perm->id == shmid)
			return n->e->shms[i];
	return NULL;
}

static bool in_ipc(const NsIdsEntry *ids, uint32_t ipc)
{
	return ids && ids->n_id > NS_IPC && ids->id[NS_IPC] == ipc;
}

/* The task whose memory t has: the topmost of its chain of CLONE_VM parents. */
static const struct restore_task *mm_owner(const struct restore_ctx *ctx,
					   const struct restore_task *t)
{
	for (size_t n = 0; t && t->pe->clone_vm && n < ctx->nr_tasks; n++) {
		const struct restore_task *p = NULL;

		for (size_t i = 0; i < ctx->nr_tasks; i++)
			if (ctx->tasks[i].pe->pid == t->pe->ppid)
				p = &ctx->tasks[i];
		t = p;
	}
	return t;
}

static bool has_sysv(const MmEntry *mm)
{
	for (size_t i = 0; mm && i < mm->n_vmas; i++)
		if (mm->vmas[i]->kind == VMA_SYSV)
			return true;
	return false;
}

static const char *check_attachments(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const struct restore_task *o = mm_owner(ctx, t);
	uint32_t ipc;

	if (t->pe->helper || t->pe->has_exit_status || !o || !has_sysv(o->mm))
		return NULL;
	ipc = o->pe->ns && o->pe->ns->n_id > NS_IPC ? o->pe->ns->id[NS_IPC] : 0;
	if (!in_ipc(t->pe->ns, ipc))
		return BROKEN("task %u shares memory with System V areas of IPC namespace %u from "
			      "another", t->pe->pid, ipc);
	for (size_t k = 0; k < t->pe->n_thread_ns; k++)
		if (!in_ipc(t->pe->thread_ns[k], ipc))
			return BROKEN("task %u: thread %zu in another IPC namespace than its System V "
				      "areas'", t->pe->pid, k);
	if (o != t)
		return NULL;
	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];
		const IpcShmEntry *s;

		if (v->kind != VMA_SYSV)
			continue;
		s = v->has_shmid ? segment(ipc_of(ctx, ipc), v->shmid) : NULL;
		if (!s || (v->flags & ~MAP_NORESERVE) != MAP_SHARED)
			return BROKEN("task %u: area %#llx attaches segment %llu, not one of its IPC "
				      "namespace %u", t->pe->pid, (unsigned long long)v->start,
				      (unsigned long long)v->shmid, ipc);
		if (v->pgoff > PAGE_UP(s->size) || v->end - v->start > PAGE_UP(s->size) - v->pgoff)
			return BROKEN("task %u: area %#llx reaches past segment %llu", t->pe->pid,
				      (unsigned long long)v->start, (unsigned long long)v->shmid);
	}
	return NULL;
}

static const char *check_mq_files(const struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_files; i++) {
		const FileEntry *f = ctx->files[i];
		const struct ipc_rst_ns *n;
		bool found = false;

		if (f->type != FILE_TYPE__MQUEUE)
			continue;
		n = f->has_ipc_ns ? ipc_of(ctx, f->ipc_ns) : NULL;
		for (size_t k = 0; n && f->path[0] == '/' && k < n->e->n_mqs; k++)
			found |= !strcmp(n->e->mqs[k]->name, f->path + 1);
		if (!found)
			return BROKEN("file %u: POSIX queue %s of no queue of IPC namespace %u",
				      f->id, f->path, f->ipc_ns);
	}
	return NULL;
}

const char *oracle_check_ipc(const struct restore_ctx *ctx)
{
	const char *w;

	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const NsEntry *ne = ns_entry(ctx, i + 1);
		const struct ipc_rst_ns *n = ipc_of(ctx, i + 1);

		if (ne->host || strcmp(ne->kind, "ipc"))
			continue;
		if (!n || n->id != ne->id || !n->e)
			return BROKEN("IPC namespace %u: no images kept for it", ne->id);
		if ((w = check_shms(n->id, n->e)) || (w = check_sems_msqs(n->id, n->e)) ||
		    (w = check_mqs(n)))
			return w;
	}
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if ((w = check_attachments(ctx, &ctx->tasks[i])))
			return w;
	return check_mq_files(ctx);
}
