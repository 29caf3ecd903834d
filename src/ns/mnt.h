/*
 * The pure parts of mount namespaces (mnt.c), for their unit test:
 * mountinfo parsed, two trees compared, a propagation plan.
 */
#ifndef NESTOR_NS_MNT_H
#define NESTOR_NS_MNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One line of /proc/PID/mountinfo; strings point into the parsed text. */
struct mnt {
	uint32_t id, pid;
	int parent; /* index of its parent in the tree; its own for the root */
	char *dev, *root, *point, *opts, *fstype, *source, *sopts; /* dev: major:minor */
	uint32_t shared, master;
	bool unbindable;
};

struct mtree {
	char *buf; /* the text, owned */
	struct mnt *m;
	size_t n;
};

/* Parses text (kept and cut in place; t->buf is not set). */
int mnt_parse(char *text, struct mtree *t);
void mnt_tree_free(struct mtree *t);
/* Takes mount i, which nothing is mounted on, out of t (order and parents kept). */
void mnt_drop(struct mtree *t, size_t i);
/* -1 when t has the same mounts as own (propagation and ids aside), else the
 * index of the first that differs; *ret_extra then says t's is the one to
 * name (one of t's not in own), else own's is missing from t. */
int mnt_compare(const struct mtree *t, const struct mtree *own, bool *ret_extra);

#define MNT_GROUP_NEW UINT32_MAX /* a peer group of its own, made by MS_SHARED */
enum {
	MNT_OP_PRIVATE = 1,
	MNT_OP_SLAVE = 2,
	MNT_OP_SHARED = 4,
	MNT_OP_UNBINDABLE = 8,
};
/* The operations (applied in the order of the enum) that turn a copy with
 * peer group cs and master cm (0: none) into one with peer group ws
 * (MNT_GROUP_NEW: one of its own), master wm and unbindable wu; -EINVAL
 * when none can. */
int mnt_plan(uint32_t cs, uint32_t cm, uint32_t ws, uint32_t wm, bool wu, unsigned *ret_ops);

#endif
