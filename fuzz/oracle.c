// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's oracle: what must hold of any image set the validation
 * accepts, written from what the restore does with it (not from the
 * validators), so that an accepted image that breaks one is a finding:
 * - the tree: pids unique and in range, thread ids unique across the tree
 *   and distinct from every pid, the root first with no parent and no
 *   sharing, each parent an earlier task that runs again (not a zombie or
 *   a helper), a creator other than the parent only a helper beside it;
 * - sessions and groups as the restore makes them: a task's session is its
 *   own (it is then its group's leader too) or its creator's, which it
 *   inherits; its group is its own or that of a group leader of the tree in
 *   the same session; without --shell-job the root leads its session;
 * - the inventory names the tree's root and exactly its non-helper tasks;
 * - files: ids unique; every id an image uses (fds, cwd, root, exe, areas)
 *   exists, cwd and root are directories;
 * - a task's core matches its tree entry (pid, threads in order);
 * - descriptors unique; every lock on a descriptor of its task;
 * - memory areas page aligned, ordered, not overlapping, below the top of
 *   user space; page runs inside areas that keep pages, counted exactly;
 * - pages a task has from its parent (copy-on-write, parent_runs): the
 *   parent runs again, forks it (or a helper beside it does), has an area
 *   with the same start, kind and flags (private anonymous, not droppable)
 *   holding the page too, and saved each such page or has it from its own
 *   parent or stage;
 *   the task does not save those pages too;
 * - pages a task has from its parent's stage (stage_runs: shared with
 *   siblings, not with the parent): the same parent and area rules; not a
 *   page it has from its parent too, nor one its parent has from its own
 *   parent or its parent's stage;
 *   saved by the first sibling in the images that lists it, by no other;
 * - what a task shares with its parent is the same in both images: the
 *   descriptor table (CLONE_FILES), cwd, root and umask (CLONE_FS), the
 *   signal actions (CLONE_SIGHAND);
 * - signal actions for signals 1-64 but SIGKILL and SIGSTOP, once each;
 * - a socket's peer, listener and pending clients are sockets of files.img
 *   (unless gone or outside); its network namespace (when named) one of
 *   kind net; where the kernel makes two sockets in one namespace, the
 *   image has them in one: the two ends of a stream connection (an accepted
 *   end is made in its client's), a datagram socket and an unnamed or
 *   abstract-named peer, a client and its abstract listener; a socket of a
 *   namespace the restore makes (not a host one) has no external peer by
 *   an abstract name (the fresh namespace has none); an epoll instance's owner is a task holding it,
 *   and each watched fd is one of the owner's;
 * - namespaces: ids 1, 2, ... in order; a parent (pid and user kinds only)
 *   or owner (a user namespace) is an earlier namespace that is not a host
 *   one; at most one host namespace per kind; each thread names one
 *   namespace of the right kind per slot (0 only for a zombie, never for its
 *   pid), threads in their task's pid namespace; every pid vector is one
 *   entry per level (the namespace's depth + 1), led by the pid, group or
 *   session; each pid namespace but the host's has exactly one init (1 at
 *   its own level), made in a new namespace under its creator's;
 * - IPC namespaces, their objects, attachments and queue descriptors:
 *   oracle-ipc.c.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "fuzz/fuzz.h"
#include "ns/ns.h"
#include "restorer/restorer-abi.h"

#define PID_MAX 4194304
#define USER_TOP 0x7ffffffff000ULL

static char msg[512];

#define BROKEN(...) (snprintf(msg, sizeof(msg), __VA_ARGS__), msg)

static const PstreeEntry *entry_of(const struct restore_ctx *ctx, uint32_t pid, size_t *ret_i)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].pe->pid == pid) {
			if (ret_i)
				*ret_i = i;
			return ctx->tasks[i].pe;
		}
	return NULL;
}

static const FileEntry *file_of(const struct restore_ctx *ctx, uint32_t id)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		if (ctx->files[i]->id == id)
			return ctx->files[i];
	return NULL;
}

static const char *check_ids(const struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const PstreeEntry *e = ctx->tasks[i].pe;

		if (!e->pid || e->pid > PID_MAX)
			return BROKEN("task %zu has pid %u", i, e->pid);
		for (size_t k = 0; k < ctx->nr_tasks; k++) {
			const PstreeEntry *o = ctx->tasks[k].pe;

			if (k != i && o->pid == e->pid)
				return BROKEN("pid %u twice in the tree", e->pid);
			for (size_t t = 0; t < o->n_threads; t++)
				if (o->threads[t] == e->pid)
					return BROKEN("pid %u is also a thread of %u", e->pid, o->pid);
		}
		for (size_t t = 0; t < e->n_threads; t++) {
			if (!e->threads[t] || e->threads[t] > PID_MAX)
				return BROKEN("task %u has thread id %u", e->pid, e->threads[t]);
			for (size_t k = 0; k < ctx->nr_tasks; k++) {
				const PstreeEntry *o = ctx->tasks[k].pe;

				for (size_t u = 0; u < o->n_threads; u++)
					if ((k != i || u != t) && o->threads[u] == e->threads[t])
						return BROKEN("thread id %u twice", e->threads[t]);
			}
		}
	}
	return NULL;
}

static const char *check_shape(const struct restore_ctx *ctx)
{
	const PstreeEntry *root = ctx->tasks[0].pe;

	if (root->ppid || root->helper || root->has_exit_status || root->has_creator ||
	    root->clone_files || root->clone_fs || root->clone_vm || root->clone_sighand)
		return BROKEN("the root %u has a parent, a creator, or shares with nestor", root->pid);
	for (size_t i = 1; i < ctx->nr_tasks; i++) {
		const PstreeEntry *e = ctx->tasks[i].pe, *p, *c;
		size_t pi, ci;

		p = entry_of(ctx, e->ppid, &pi);
		if (!p || pi >= i || p->helper || p->has_exit_status)
			return BROKEN("task %u: parent %u is not an earlier live task", e->pid, e->ppid);
		if (e->has_creator && e->creator != e->ppid) {
			c = entry_of(ctx, e->creator, &ci);
			if (!c || ci >= i || !c->helper || c->ppid != e->ppid)
				return BROKEN("task %u: creator %u is not a helper beside it", e->pid,
					      e->creator);
		}
		if (e->helper && (e->n_threads || e->has_exit_status || e->pgid != e->pid))
			return BROKEN("helper %u has threads, an exit status or another group", e->pid);
		if ((e->clone_files || e->clone_fs || e->clone_vm) &&
		    (e->helper || e->has_exit_status || (e->has_creator && e->creator != e->ppid)))
			return BROKEN("task %u shares with a task that does not fork it", e->pid);
	}
	return NULL;
}

static const PstreeEntry *creator_of(const struct restore_ctx *ctx, const PstreeEntry *e)
{
	return entry_of(ctx, e->has_creator ? e->creator : e->ppid, NULL);
}

static const char *check_sessions(const struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const PstreeEntry *e = ctx->tasks[i].pe, *l;
		bool outside = i == 0 && ctx->inv->shell_job;

		if (outside)
			continue; /* the shell's session and group: nestor's own */
		if (e->sid == e->pid) {
			if (e->pgid != e->pid)
				return BROKEN("session leader %u is in group %u", e->pid, e->pgid);
		} else if (i == 0) {
			return BROKEN("the root %u is in session %u, not its own, without --shell-job",
				      e->pid, e->sid);
		} else if (creator_of(ctx, e)->sid != e->sid &&
			   !(creator_of(ctx, e) == ctx->tasks[0].pe && ctx->inv->shell_job &&
			     e->sid == ctx->tasks[0].pe->sid)) {
			return BROKEN("task %u is in session %u, its creator %u in %u", e->pid, e->sid,
				      creator_of(ctx, e)->pid, creator_of(ctx, e)->sid);
		}
		if (e->pgid == e->pid)
			continue;
		l = entry_of(ctx, e->pgid, NULL);
		if (l && l->pgid == l->pid && l->sid == e->sid && !(l == ctx->tasks[0].pe && outside))
			continue;
		if (ctx->inv->shell_job && e->pgid == ctx->tasks[0].pe->pgid &&
		    e->sid == ctx->tasks[0].pe->sid)
			continue; /* the root's group, outside the tree */
		return BROKEN("task %u is in group %u, led by no task of its session %u", e->pid,
			      e->pgid, e->sid);
	}
	return NULL;
}

static const char *check_inventory(const struct restore_ctx *ctx)
{
	size_t k = 0;

	if (ctx->inv->root_pid != ctx->tasks[0].pe->pid)
		return BROKEN("inventory root %u, tree root %u", ctx->inv->root_pid,
			      ctx->tasks[0].pe->pid);
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		if (ctx->tasks[i].pe->helper)
			continue;
		if (k >= ctx->inv->n_pids || ctx->inv->pids[k] != ctx->tasks[i].pe->pid)
			return BROKEN("inventory pid %zu is not tree task %u", k, ctx->tasks[i].pe->pid);
		k++;
	}
	if (k != ctx->inv->n_pids)
		return BROKEN("inventory lists %zu pids, the tree %zu", ctx->inv->n_pids, k);
	return NULL;
}

static const SocketEntry *socket_of(const struct restore_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		if (ctx->files[i]->sock && ctx->files[i]->sock->has_ino && ctx->files[i]->sock->ino == ino)
			return ctx->files[i]->sock;
	return NULL;
}

static bool socket_exists(const struct restore_ctx *ctx, uint64_t ino)
{
	return socket_of(ctx, ino) != NULL;
}

/* The namespace the restore makes a socket in: 0 for the restoring nestor's. */
static uint32_t sock_net(const struct restore_ctx *ctx, const SocketEntry *s)
{
	const NsEntry *n = s->has_netns ? ns_entry(ctx, s->netns) : NULL;

	return n && !n->host ? n->id : 0;
}

static bool path_name(const ProtobufCBinaryData *n)
{
	return n->len && n->data[0];
}

static const char *check_socket_netns(const struct restore_ctx *ctx, const FileEntry *f)
{
	const SocketEntry *s = f->sock, *p = s->has_peer_ino ? socket_of(ctx, s->peer_ino) : NULL;
	const SocketEntry *l = s->has_listener_ino ? socket_of(ctx, s->listener_ino) : NULL;
	const NsEntry *n = s->has_netns ? ns_entry(ctx, s->netns) : NULL;
	uint32_t net = sock_net(ctx, s);

	if (s->has_netns && (!n || strcmp(n->kind, "net")))
		return BROKEN("socket file %u: network namespace %u is none of kind net", f->id,
			      s->netns);
	if (p && sock_net(ctx, p) != net &&
	    (s->type != SOCK_DGRAM || !p->has_name || !path_name(&p->name)))
		return BROKEN("socket file %u and its peer in two network namespaces", f->id);
	if (l && sock_net(ctx, l) != net && !path_name(&l->name))
		return BROKEN("socket file %u and its abstract listener in two network namespaces",
			      f->id);
	for (size_t i = 0; i < s->n_pending; i++) {
		const SocketEntry *c = socket_of(ctx, s->pending[i]->client_ino);

		if (c && sock_net(ctx, c) != net && !path_name(&s->name))
			return BROKEN("socket file %u: a client waiting in another network namespace "
				      "than its abstract listener", f->id);
	}
	if (s->peer_external && net && !path_name(&s->peer_name))
		return BROKEN("socket file %u: external peer by an abstract name in a network "
			      "namespace made afresh", f->id);
	return NULL;
}

static const char *check_socket(const struct restore_ctx *ctx, const FileEntry *f)
{
	const SocketEntry *s = f->sock;

	if (s->has_peer_ino && s->peer_ino && !s->peer_gone && !s->peer_external &&
	    !socket_exists(ctx, s->peer_ino))
		return BROKEN("socket file %u: peer %llu is no socket of files.img", f->id,
			      (unsigned long long)s->peer_ino);
	if (s->has_listener_ino && s->listener_ino && !socket_exists(ctx, s->listener_ino))
		return BROKEN("socket file %u: listener %llu is no socket of files.img", f->id,
			      (unsigned long long)s->listener_ino);
	for (size_t i = 0; i < s->n_pending; i++)
		if (s->pending[i]->client_ino && !socket_exists(ctx, s->pending[i]->client_ino))
			return BROKEN("socket file %u: pending client %llu is no socket of files.img",
				      f->id, (unsigned long long)s->pending[i]->client_ino);
	return check_socket_netns(ctx, f);
}

static bool holds_file(const struct restore_task *t, uint32_t id)
{
	for (size_t i = 0; t->fdinfo && i < t->fdinfo->n_fds; i++)
		if (t->fdinfo->fds[i]->file_id == id)
			return true;
	return false;
}

static bool has_fd(const struct restore_task *t, uint32_t fd)
{
	for (size_t i = 0; t->fdinfo && i < t->fdinfo->n_fds; i++)
		if (t->fdinfo->fds[i]->fd == fd)
			return true;
	return false;
}

static const char *check_epoll(const struct restore_ctx *ctx, const FileEntry *f)
{
	const EpollState *e = f->anon->epoll;
	const struct restore_task *owner = NULL;

	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].pe->pid == e->owner)
			owner = &ctx->tasks[i];
	if (!owner || !holds_file(owner, f->id))
		return BROKEN("epoll file %u: owner %u holds no fd of it", f->id, e->owner);
	for (size_t i = 0; i < e->n_watches; i++)
		if (!has_fd(owner, e->watches[i]->tfd))
			return BROKEN("epoll file %u watches fd %u, which its owner %u does not have",
				      f->id, e->watches[i]->tfd, e->owner);
	return NULL;
}

static const char *check_files(const struct restore_ctx *ctx)
{
	const char *w;

	for (size_t i = 0; i < ctx->nr_files; i++) {
		const FileEntry *f = ctx->files[i];

		for (size_t k = 0; k < i; k++)
			if (f->id == ctx->files[k]->id)
				return BROKEN("file id %u twice in files.img", f->id);
		if (f->sock && (w = check_socket(ctx, f)))
			return w;
		if (f->anon && f->anon->epoll && (w = check_epoll(ctx, f)))
			return w;
	}
	return NULL;
}

static const char *check_core(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;
	const FileEntry *cwd = file_of(ctx, c->cwd_id), *root = file_of(ctx, c->root_id);

	if (c->pid != t->pe->pid || !c->thread || c->thread->tid != c->pid)
		return BROKEN("core of %u says pid %u", t->pe->pid, c->pid);
	if (c->n_threads != t->pe->n_threads)
		return BROKEN("core of %u has %zu threads, the tree %zu", c->pid, c->n_threads,
			      t->pe->n_threads);
	for (size_t k = 0; k < c->n_threads; k++)
		if (c->threads[k]->tid != t->pe->threads[k])
			return BROKEN("core of %u: thread %zu is %u, the tree says %u", c->pid, k,
				      c->threads[k]->tid, t->pe->threads[k]);
	if (!cwd || cwd->type != FILE_TYPE__DIR || !root || root->type != FILE_TYPE__DIR)
		return BROKEN("task %u: cwd %u or root %u is no directory of files.img", c->pid,
			      c->cwd_id, c->root_id);
	return NULL;
}

static const char *check_fds(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const FdinfoEntry *fi = t->fdinfo;

	for (size_t i = 0; i < fi->n_fds; i++) {
		if (!file_of(ctx, fi->fds[i]->file_id))
			return BROKEN("task %u: fd %u names file %u, not in files.img", t->pid,
				      fi->fds[i]->fd, fi->fds[i]->file_id);
		for (size_t k = 0; k < i; k++)
			if (fi->fds[k]->fd == fi->fds[i]->fd)
				return BROKEN("task %u: fd %u twice", t->pid, fi->fds[i]->fd);
	}
	for (size_t i = 0; i < fi->n_locks; i++) {
		bool found = false;

		for (size_t k = 0; k < fi->n_fds; k++)
			found |= fi->fds[k]->fd == fi->locks[i]->fd;
		if (!found)
			return BROKEN("task %u: a lock on fd %u, which it does not have", t->pid,
				      fi->locks[i]->fd);
	}
	return NULL;
}

static bool keeps_pages(uint32_t kind)
{
	return kind == VMA_ANON || kind == VMA_FILE_PRIVATE || kind == VMA_SHARED_ANON;
}

static const char *check_mm(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const MmEntry *mm = t->mm;
	uint64_t pages = 0, prev = 0;

	if (!file_of(ctx, mm->exe_file_id))
		return BROKEN("task %u: exe file %u not in files.img", t->pid, mm->exe_file_id);
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (v->start >= v->end || v->end > USER_TOP || (v->start | v->end) & 4095 ||
		    v->start < prev)
			return BROKEN("task %u: area %zu %#llx-%#llx misplaced", t->pid, i,
				      (unsigned long long)v->start, (unsigned long long)v->end);
		if ((v->kind == VMA_FILE_PRIVATE || v->kind == VMA_FILE_SHARED) &&
		    (!v->has_file_id || !file_of(ctx, v->file_id)))
			return BROKEN("task %u: area %zu maps file %u, not in files.img", t->pid, i,
				      v->file_id);
		prev = v->end;
	}
	prev = 0;
	for (size_t i = 0; i < mm->n_runs; i++) {
		const PageRunEntry *r = mm->runs[i];
		uint64_t end = r->vaddr + r->nr_pages * 4096;
		bool inside = false;

		if (!r->nr_pages || r->vaddr < prev || end <= r->vaddr || end > USER_TOP)
			return BROKEN("task %u: page run %zu misplaced", t->pid, i);
		for (size_t k = 0; k < mm->n_vmas; k++)
			inside |= mm->vmas[k]->start <= r->vaddr && end <= mm->vmas[k]->end &&
				  keeps_pages(mm->vmas[k]->kind);
		if (!inside)
			return BROKEN("task %u: page run %zu outside any area with pages", t->pid, i);
		pages += r->nr_pages;
		prev = end;
	}
	if (pages != mm->nr_pages)
		return BROKEN("task %u: runs hold %llu pages, the image says %llu", t->pid,
			      (unsigned long long)pages, (unsigned long long)mm->nr_pages);
	return NULL;
}

/* Whether runs[n] hold the page at addr. */
static bool has_page(PageRunEntry *const *runs, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (runs[i]->vaddr <= addr && addr - runs[i]->vaddr < runs[i]->nr_pages * 4096)
			return true;
	return false;
}

static const VmaEntry *area_holding(const MmEntry *mm, uint64_t start, uint64_t end)
{
	for (size_t k = 0; k < mm->n_vmas; k++)
		if (mm->vmas[k]->start <= start && end <= mm->vmas[k]->end)
			return mm->vmas[k];
	return NULL;
}

/* Whether a sibling before t (the same parent) has addr from the parent's stage. */
static bool staged_before(const struct restore_ctx *ctx, const struct restore_task *t,
			  uint64_t addr)
{
	for (const struct restore_task *s = ctx->tasks; s < t; s++)
		if (s->pe->ppid == t->pe->ppid && s->mm && !s->pe->helper &&
		    !s->pe->has_exit_status && has_page(s->mm->stage_runs, s->mm->n_stage_runs, addr))
			return true;
	return false;
}

/*
 * Page a of t, from its parent (stage false: the parent's own page, which
 * the parent saved or has from its own parent or stage) or from the
 * parent's stage (the page the siblings share: not one t has from the
 * parent too, not one the parent has from its own parent; saved by the
 * first sibling listing it, by no other).
 */
static bool page_given(const struct restore_ctx *ctx, const struct restore_task *t,
		       const MmEntry *pmm, uint64_t a, bool stage)
{
	const MmEntry *mm = t->mm;

	if (stage)
		return !has_page(mm->parent_runs, mm->n_parent_runs, a) &&
		       !has_page(pmm->parent_runs, pmm->n_parent_runs, a) &&
		       !has_page(pmm->stage_runs, pmm->n_stage_runs, a) &&
		       has_page(mm->runs, mm->n_runs, a) != staged_before(ctx, t, a);
	return !has_page(mm->runs, mm->n_runs, a) &&
	       (has_page(pmm->runs, pmm->n_runs, a) ||
		has_page(pmm->parent_runs, pmm->n_parent_runs, a) ||
		has_page(pmm->stage_runs, pmm->n_stage_runs, a));
}

static const char *check_given(const struct restore_ctx *ctx, const struct restore_task *t,
			       const MmEntry *pmm, PageRunEntry *const *runs, size_t n, bool stage)
{
	const MmEntry *mm = t->mm;
	const char *what = stage ? "its parent's stage" : "its parent";

	for (size_t i = 0; i < n; i++) {
		const PageRunEntry *r = runs[i];
		uint64_t end = r->vaddr + r->nr_pages * 4096;
		const VmaEntry *v, *pv;

		if (!r->nr_pages || r->vaddr & 4095 || end <= r->vaddr || end > USER_TOP ||
		    !(v = area_holding(mm, r->vaddr, end)) || !(pv = area_holding(pmm, r->vaddr, end)))
			return BROKEN("task %u: pages from %s, run %zu, outside a shared area", t->pid,
				      what, i);
		if (v->kind != VMA_ANON || v->madv & (1 << 20) || pv->madv & (1 << 20) ||
		    pv->start != v->start || pv->kind != v->kind || pv->flags != v->flags)
			return BROKEN("task %u: pages from %s at %#llx, in an area not the "
				      "parent's same private one", t->pid, what,
				      (unsigned long long)r->vaddr);
		for (uint64_t a = r->vaddr; a < end; a += 4096)
			if (!page_given(ctx, t, pmm, a, stage))
				return BROKEN("task %u: page %#llx from %s, which lacks it, or saved "
					      "where it must not be, or twice", t->pid,
					      (unsigned long long)a, what);
	}
	return NULL;
}

static const char *check_parent_pages(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const MmEntry *mm = t->mm, *pmm = NULL;
	const PstreeEntry *c;
	const char *w;
	size_t pi = 0;

	if (!mm->n_parent_runs && !mm->n_stage_runs)
		return NULL;
	if (entry_of(ctx, t->pe->ppid, &pi))
		pmm = ctx->tasks[pi].mm;
	c = entry_of(ctx, t->pe->has_creator ? t->pe->creator : t->pe->ppid, NULL);
	if (!pmm || ctx->tasks[pi].pe->helper || ctx->tasks[pi].pe->has_exit_status || !c ||
	    (c->pid != t->pe->ppid && !(c->helper && c->ppid == t->pe->ppid)))
		return BROKEN("task %u: pages from parent %u, which cannot give them", t->pid,
			      t->pe->ppid);
	if ((w = check_given(ctx, t, pmm, mm->parent_runs, mm->n_parent_runs, false)))
		return w;
	return check_given(ctx, t, pmm, mm->stage_runs, mm->n_stage_runs, true);
}

static const struct restore_task *parent_of(const struct restore_ctx *ctx,
					    const struct restore_task *t)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].pe->pid == t->pe->ppid)
			return &ctx->tasks[i];
	return NULL;
}

static bool same_path(const struct restore_ctx *ctx, uint32_t a, uint32_t b)
{
	const FileEntry *x = file_of(ctx, a), *y = file_of(ctx, b);

	return x && y && !strcmp(x->path, y->path);
}

static bool same_fds(const FdinfoEntry *a, const FdinfoEntry *b)
{
	if (a->n_fds != b->n_fds)
		return false;
	for (size_t i = 0; i < a->n_fds; i++)
		if (a->fds[i]->fd != b->fds[i]->fd || a->fds[i]->file_id != b->fds[i]->file_id ||
		    a->fds[i]->cloexec != b->fds[i]->cloexec)
			return false;
	return true;
}

static bool same_actions(const TaskCoreEntry *a, const TaskCoreEntry *b)
{
	if (a->n_sigactions != b->n_sigactions)
		return false;
	for (size_t i = 0; i < a->n_sigactions; i++) {
		const SigactionEntry *x = a->sigactions[i], *y = b->sigactions[i];

		if (x->sig != y->sig || x->handler != y->handler || x->flags != y->flags ||
		    x->restorer != y->restorer || x->mask != y->mask)
			return false;
	}
	return true;
}

static const char *check_sharing(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const struct restore_task *p = parent_of(ctx, t);

	if (!t->pe->clone_files && !t->pe->clone_fs && !t->pe->clone_sighand)
		return NULL;
	if (!p || !p->core || !p->fdinfo)
		return BROKEN("task %u shares with no live parent", t->pe->pid);
	if (t->pe->clone_files && !same_fds(t->fdinfo, p->fdinfo))
		return BROKEN("task %u shares its parent's descriptor table, but its own differs",
			      t->pe->pid);
	if (t->pe->clone_fs && (!same_path(ctx, t->core->cwd_id, p->core->cwd_id) ||
				!same_path(ctx, t->core->root_id, p->core->root_id) ||
				t->core->umask != p->core->umask))
		return BROKEN("task %u shares its parent's fs, but cwd, root or umask differ",
			      t->pe->pid);
	if (t->pe->clone_sighand && !same_actions(t->core, p->core))
		return BROKEN("task %u shares its parent's signal actions, but they differ",
			      t->pe->pid);
	return NULL;
}

static const char *check_actions(const struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;

	for (size_t i = 0; i < c->n_sigactions; i++) {
		uint32_t sig = c->sigactions[i]->sig;

		if (!sig || sig > 64 || sig == 9 || sig == 19)
			return BROKEN("task %u: an action for signal %u", t->pe->pid, sig);
		for (size_t k = 0; k < i; k++)
			if (c->sigactions[k]->sig == sig)
				return BROKEN("task %u: two actions for signal %u", t->pe->pid, sig);
	}
	return NULL;
}

static const char *const slot_kinds[] = { "pid", "pid", "user", "uts", "ipc", "mnt",
					    "net", "cgroup", "time", "time" };

static const NsEntry *ns_of(const struct restore_ctx *ctx, uint32_t id)
{
	return ns_entry(ctx, id);
}

/* Levels below nestor's: the host's 0, each parent one more. */
static int depth_of(const struct restore_ctx *ctx, uint32_t id)
{
	int d = 0;

	for (const NsEntry *e = ns_of(ctx, id); e && !e->host; e = ns_of(ctx, e->parent))
		d++;
	return d;
}

static const char *check_ns_entries(const struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const NsEntry *e = ns_entry(ctx, i + 1), *p = ns_of(ctx, e->parent), *o = ns_of(ctx, e->owner);

		if (e->id != i + 1)
			return BROKEN("namespace %zu has id %u", i + 1, e->id);
		if ((e->parent && (!p || p->id >= e->id || p->host || strcmp(p->kind, e->kind) ||
				   (strcmp(e->kind, "pid") && strcmp(e->kind, "user")))) ||
		    (e->owner && (!o || o->id >= e->id || o->host || strcmp(o->kind, "user"))))
			return BROKEN("namespace %u: parent %u or owner %u", e->id, e->parent, e->owner);
		for (size_t k = 0; k < i; k++)
			if (e->host && ns_entry(ctx, k + 1)->host && !strcmp(ns_entry(ctx, k + 1)->kind, e->kind))
				return BROKEN("two host %s namespaces", e->kind);
	}
	return NULL;
}

static const char *check_ids_of(const struct restore_ctx *ctx, const PstreeEntry *e,
				const NsIdsEntry *ids, bool zombie)
{
	if (!ids || ids->n_id != 10)
		return BROKEN("task %u: no namespace ids", e->pid);
	for (int s = 0; s < 10; s++) {
		const NsEntry *n = ns_of(ctx, ids->id[s]);

		if (!ids->id[s] && zombie && s)
			continue;
		if (!n || strcmp(n->kind, slot_kinds[s]))
			return BROKEN("task %u: namespace %u in its %s slot", e->pid, ids->id[s],
				      slot_kinds[s]);
	}
	if (ids != e->ns && ids->id[0] != e->ns->id[0])
		return BROKEN("task %u: a thread in another pid namespace", e->pid);
	return NULL;
}

static bool vec_ok(const uint32_t *v, size_t n, int depth, uint32_t first)
{
	return n == (size_t)depth + 1 && v[0] == first;
}

static const char *check_ns_tasks(const struct restore_ctx *ctx)
{
	const char *w;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const PstreeEntry *e = ctx->tasks[i].pe;
		int d;

		if ((w = check_ids_of(ctx, e, e->ns, e->has_exit_status)))
			return w;
		for (size_t k = 0; k < e->n_threads; k++)
			if (k >= e->n_thread_ns || (w = check_ids_of(ctx, e, e->thread_ns[k], false)))
				return w ? w : BROKEN("task %u: thread %zu has no ids", e->pid, k);
		d = depth_of(ctx, e->ns->id[0]);
		if (!vec_ok(e->ns_pid, e->n_ns_pid, d, e->pid) ||
		    !vec_ok(e->ns_pgid, e->n_ns_pgid, d, e->pgid) ||
		    !vec_ok(e->ns_sid, e->n_ns_sid, d, e->sid) || e->n_thread_pids != e->n_threads)
			return BROKEN("task %u: pid vectors for a namespace %d deep", e->pid, d);
		for (size_t k = 0; k < e->n_threads; k++)
			if (!vec_ok(e->thread_pids[k]->nr, e->thread_pids[k]->n_nr, d, e->threads[k]))
				return BROKEN("task %u: thread %u's vector", e->pid, e->threads[k]);
	}
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const NsEntry *n = ns_entry(ctx, i + 1);
		int inits = 0;

		if (strcmp(n->kind, "pid") || n->host)
			continue;
		for (size_t k = 0; k < ctx->nr_tasks; k++) {
			const PstreeEntry *e = ctx->tasks[k].pe;

			if (e->ns->id[0] == n->id && e->ns_pid[e->n_ns_pid - 1] == 1)
				inits++;
		}
		if (inits != 1)
			return BROKEN("pid namespace %u has %d inits", n->id, inits);
	}
	return NULL;
}

/* User namespaces: maps the kernel would take (at most 340 lines, none
 * empty, no 32-bit wrap, no two lines meeting on either side), setgroups
 * never allowed under a parent that denies it, the owner mapped in the
 * parent, sane limits, and no pid namespace owned by one (not restored). */
static bool userns_map_ok(UsernsExtent *const *m, size_t n)
{
	if (n > 340)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = m[i]->first, b = m[i]->lower_first, c = m[i]->count;

		if (!c || a + c > 1ull << 32 || b + c > 1ull << 32)
			return false;
		for (size_t k = 0; k < i; k++) {
			uint64_t a2 = m[k]->first, b2 = m[k]->lower_first, c2 = m[k]->count;

			if ((a < a2 + c2 && a2 < a + c) || (b < b2 + c2 && b2 < b + c))
				return false;
		}
	}
	return true;
}

static const char *check_userns(const struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_ns; i++) {
		const NsEntry *n = ns_entry(ctx, i + 1), *pn;
		const UsernsEntry *u, *pu;

		if (n->host)
			continue;
		if (strcmp(n->kind, "user"))
			continue;
		u = *ns_priv((struct restore_ctx *)ctx, n->id);
		if (!u)
			return BROKEN("user namespace %u: no image kept", n->id);
		if (!userns_map_ok(u->uid_map, u->n_uid_map) || !userns_map_ok(u->gid_map, u->n_gid_map))
			return BROKEN("user namespace %u: a map the kernel refuses", n->id);
		for (size_t k = 0; k < u->n_limits; k++) {
			const char *c = u->limits[k]->name;

			if (!*c || strlen(c) >= 48 || strspn(c, "abcdefghijklmnopqrstuvwxyz_") != strlen(c) ||
			    u->limits[k]->value > 0x7fffffff)
				return BROKEN("user namespace %u: limit %zu", n->id, k);
		}
		pn = ns_of(ctx, n->parent);
		if (!pn || pn->host)
			continue;
		pu = *ns_priv((struct restore_ctx *)ctx, pn->id);
		if (pu->setgroups_deny && !u->setgroups_deny)
			return BROKEN("user namespace %u allows setgroups, its parent denies it", n->id);
		bool owned = false;

		for (size_t k = 0; k < pu->n_uid_map; k++)
			owned |= u->owner_uid >= pu->uid_map[k]->first &&
				 u->owner_uid - pu->uid_map[k]->first < pu->uid_map[k]->count;
		if (!owned)
			return BROKEN("user namespace %u: owner %u not mapped in its parent", n->id,
				      u->owner_uid);
	}
	return NULL;
}

const char *oracle_check(const struct restore_ctx *ctx)
{
	const char *w;

	if (!ctx->nr_tasks)
		return "no task accepted";
	if ((w = check_ids(ctx)) || (w = check_shape(ctx)) || (w = check_sessions(ctx)) ||
	    (w = check_inventory(ctx)) || (w = check_files(ctx)) || (w = check_ns_entries(ctx)) ||
	    (w = check_ns_tasks(ctx)) || (w = check_userns(ctx)) || (w = oracle_check_ipc(ctx)))
		return w;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const struct restore_task *t = &ctx->tasks[i];

		if (t->pe->helper || t->pe->has_exit_status)
			continue;
		if (!t->core || !t->fdinfo)
			return BROKEN("live task %u has no core or fdinfo", t->pe->pid);
		if ((w = check_core(ctx, t)) || (w = check_fds(ctx, t)) || (w = check_actions(t)) ||
		    (w = check_sharing(ctx, t)))
			return w;
		if (t->pe->clone_vm ? t->mm != NULL : t->mm == NULL)
			return BROKEN("task %u: memory image %s", t->pe->pid,
				      t->mm ? "of its own though it shares" : "missing");
		if (t->mm && ((w = check_mm(ctx, t)) || (w = check_parent_pages(ctx, t))))
			return w;
	}
	return NULL;
}
