/* The end of a dump that kills the tree: all of it or none (kill.c). */
#ifndef NESTOR_KILL_H
#define NESTOR_KILL_H

#include "core/model.h"

/*
 * Every image written and synced, the inventory not yet in place: starts
 * the killer and holds every thread of the tree in a read() that only the
 * killer's end (or nestor's kill) ends, so that from the inventory's rename
 * on, the tree dies whole even if nestor dies. Before the rename, a nestor
 * that dies lets the whole tree go on.
 */
int pstree_hold(struct dump_ctx *ctx);
/* A dump that failed: the threads back in their harmless park (their next
 * remote syscall or release), the hold's fds closed, the killer gone. */
void pstree_unhold(struct dump_ctx *ctx);
/* The images complete, inventory.img in place: kills every seized task
 * (children first), collects their deaths, and lets the killer go. */
void pstree_kill(struct dump_ctx *ctx);

#endif
