/*
 * A region: memory of its own mappings, handed out by a bump allocator and
 * freed whole, that fork() can leave out of a child (MADV_DONTFORK). The
 * restore reads each task's images into a region of the task's, so that a
 * task forking a child copies the page tables of what that child needs, not
 * of the whole tree's images: a root forking 10,000 children otherwise
 * copied every task's images 10,000 times.
 */
#ifndef NESTOR_REGION_H
#define NESTOR_REGION_H

#include <stdbool.h>
#include <stddef.h>

struct region_chunk;

struct region {
	struct region_chunk *chunks; /* the newest first */
};

/* size bytes (16-aligned) in the region, or NULL. */
void *region_alloc(struct region *r, size_t size);
/* Whether a child forked from now on gets the region's memory. */
int region_fork(struct region *r, bool keep);
void region_free(struct region *r);
/* The allocator protobuf-c unpacks with; its free does nothing (the region goes whole). */
struct ProtobufCAllocator;
void region_allocator(struct region *r, struct ProtobufCAllocator *ret);

#endif
