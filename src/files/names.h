/* Names held for a moment: objects that were unlinked or deleted by the dump
 * are made again at their old path (so /proc shows "PATH (deleted)" again)
 * and removed at once; directories since removed are made for that time,
 * and whatever holds the name now is moved aside and put back. */
#ifndef NESTOR_NAMES_H
#define NESTOR_NAMES_H

#include <stdbool.h>
#include <sys/types.h>

struct name_hold {
	char *path;   /* the name, absolute */
	char *aside;  /* where what held the name waits, or NULL */
	char **dirs;  /* the directories made, outermost first */
	size_t nr_dirs;
	bool made;    /* an object is at path now: release removes it */
};

/* Makes path free: its missing directories made, what holds it moved aside. */
int name_hold_take(const char *path, struct name_hold *h);
/* Removes what was made at the name, puts back what was there, removes the
 * directories made; safe on a zeroed or already released hold. */
void name_hold_release(struct name_hold *h);
/* A node (S_IFIFO, S_IFCHR, S_IFBLK or S_IFDIR in mode) made at path for a
 * moment, opened with flags, and removed: the fd, or -errno. */
int names_open_deleted(const char *path, mode_t mode, dev_t rdev, int flags);

#endif
