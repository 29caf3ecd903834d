/* A map from pid (or thread id) to a number, in constant time per lookup:
 * per-task lookups of a big tree must not walk the tree. */
#ifndef NESTOR_PIDMAP_H
#define NESTOR_PIDMAP_H

#include <stddef.h>
#include <sys/types.h>

struct pidmap {
	struct pidmap_slot {
		pid_t pid; /* 0: free */
		int val;
	} *slots;
	size_t cap; /* a power of two, or 0 */
	size_t nr;
};

/* Sets pid's value (pid > 0), adding it if it is not there: 0 or -ENOMEM. */
int pidmap_put(struct pidmap *m, pid_t pid, int val);
/* pid's value, or -1 if it is not there. */
int pidmap_get(const struct pidmap *m, pid_t pid);
/* Removes pid and returns its value, or -1 if it was not there. */
int pidmap_take(struct pidmap *m, pid_t pid);
void pidmap_free(struct pidmap *m);

#endif
