/* Regions: chunks of private anonymous mappings, each a header and room. */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <protobuf-c/protobuf-c.h>
#include "core/region.h"
#include "core/util.h"

#define CHUNK_MIN (32 << 10)

struct region_chunk {
	struct region_chunk *next;
	size_t size; /* of the mapping, header included */
	size_t used;
};

static size_t header(void)
{
	return (sizeof(struct region_chunk) + 15) & ~(size_t)15;
}

void *region_alloc(struct region *r, size_t size)
{
	struct region_chunk *c = r->chunks;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (!c || c->size - c->used < size) {
		size_t len = PAGE_ALIGN(MAX(CHUNK_MIN, header() + size));

		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		c = p;
		c->next = r->chunks;
		c->size = len;
		c->used = header();
		r->chunks = c;
	}
	p = (uint8_t *)c + c->used;
	c->used += size;
	return p;
}

int region_fork(struct region *r, bool keep)
{
	for (struct region_chunk *c = r->chunks; c; c = c->next)
		if (madvise(c, c->size, keep ? MADV_DOFORK : MADV_DONTFORK))
			return -errno;
	return 0;
}

void region_free(struct region *r)
{
	while (r->chunks) {
		struct region_chunk *c = r->chunks;

		r->chunks = c->next;
		munmap(c, c->size);
	}
}

static void *pb_alloc(void *data, size_t size)
{
	return region_alloc(data, size);
}

static void pb_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

void region_allocator(struct region *r, ProtobufCAllocator *ret)
{
	*ret = (ProtobufCAllocator){ .alloc = pb_alloc, .free = pb_free, .allocator_data = r };
}
