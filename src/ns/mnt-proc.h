/*
 * proc mounts of the tree's pid namespaces in a mount namespace otherwise
 * a copy of nestor's (mnt-proc.c), for mnt.c.
 */
#ifndef NESTOR_NS_MNT_PROC_H
#define NESTOR_NS_MNT_PROC_H

#include <stdint.h>
#include "core/model.h"
#include "ns/mnt.h"

struct mproc {
	struct mnt m;   /* its mountinfo line; strings in the tree's text */
	uint32_t pidns; /* model id */
	size_t order;   /* its place in the namespace's mounts, parents first */
	bool peer;      /* its peer group is a proc's of an earlier namespace */
};

struct mprocs {
	struct mproc *p;
	size_t n;
};

/* Takes out of t (mountinfo of namespace id, read inside nsfd) the proc
 * mounts of the tree's pid namespaces, into ret; refuses by name those of
 * a pid namespace outside the tree or without its init. */
int mntproc_collect(struct dump_ctx *ctx, uint32_t id, int nsfd, struct mtree *t,
		    struct mprocs *ret);
int mntproc_fill(const struct mprocs *p, MntnsEntry *e);
int mntproc_validate(struct restore_ctx *ctx, uint32_t id, const MntnsEntry *e);
/* In a child of nestor inside namespace id, once every task exists. */
int mntproc_restore(struct restore_ctx *ctx, uint32_t id, const MntnsEntry *e);
/* The same, once every namespace has its procs: none came by propagation since. */
int mntproc_check(struct restore_ctx *ctx, uint32_t id, const MntnsEntry *e);

#endif
