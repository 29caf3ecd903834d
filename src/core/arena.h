/* A bump allocator for the dump-side model: everything a dump builds is
 * freed at once when the dump ends. */
#ifndef NESTOR_ARENA_H
#define NESTOR_ARENA_H

#include <stddef.h>

void *arena_alloc(size_t size);
char *arena_strdup(const char *s);
void *arena_memdup(const void *p, size_t size);
/* Appends p to *arrp, an arena array of pointers holding *nr of *cap,
 * doubling it when full: 0 or -ENOMEM. */
int arena_push(void *arrp, size_t *nr, size_t *cap, void *p);
void arena_free_all(void);

#define ANEW(type) ((type *)arena_alloc(sizeof(type)))
#define ANEW_ARRAY(type, n) ((type *)arena_alloc(sizeof(type) * (n)))

#endif
