/* Bump allocator: chunks of at least 64 KiB, zeroed; abort on exhaustion
 * is not an option, so callers check for NULL like any allocation. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/arena.h"

struct chunk {
	struct chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

static struct chunk *head;

void *arena_alloc(size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (!head || head->size - head->used < size) {
		size_t csz = size > 65536 ? size : 65536;
		struct chunk *c = calloc(1, sizeof(*c) + csz);

		if (!c)
			return NULL;
		c->size = csz;
		c->next = head;
		head = c;
	}
	void *p = head->data + head->used;
	head->used += size;
	return p;
}

char *arena_strdup(const char *s)
{
	return arena_memdup(s, strlen(s) + 1);
}

int arena_push(void *arrp, size_t *nr, size_t *cap, void *p)
{
	void ***v = arrp;

	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void **n = arena_alloc(ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		if (*nr)
			memcpy(n, *v, *nr * sizeof(*n));
		*v = n;
		*cap = ncap;
	}
	(*v)[(*nr)++] = p;
	return 0;
}

void *arena_memdup(const void *p, size_t size)
{
	void *d = arena_alloc(size ? size : 1);

	if (d && size)
		memcpy(d, p, size);
	return d;
}

void arena_free_all(void)
{
	while (head) {
		struct chunk *n = head->next;
		free(head);
		head = n;
	}
}
