/* The pid map: open addressing with linear probing, kept at most half full;
 * a removal shifts the entries that follow back into the hole, so no
 * tombstone lengthens later lookups. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/pidmap.h"

static size_t home(const struct pidmap *m, pid_t pid)
{
	/* Consecutive pids (a flat tree) spread over the whole table. */
	return ((uint32_t)pid * 2654435761u) & (m->cap - 1);
}

static struct pidmap_slot *find(const struct pidmap *m, pid_t pid)
{
	if (!m->cap)
		return NULL;
	for (size_t i = home(m, pid);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].pid == pid)
			return &m->slots[i];
		if (!m->slots[i].pid)
			return NULL;
	}
}

static void insert(struct pidmap *m, pid_t pid, int val)
{
	size_t i = home(m, pid);

	while (m->slots[i].pid)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = (struct pidmap_slot){ pid, val };
	m->nr++;
}

static int grow(struct pidmap *m)
{
	struct pidmap old = *m;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -ENOMEM;
	}
	m->nr = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].pid)
			insert(m, old.slots[i].pid, old.slots[i].val);
	free(old.slots);
	return 0;
}

int pidmap_put(struct pidmap *m, pid_t pid, int val)
{
	struct pidmap_slot *s = find(m, pid);
	int r;

	if (pid <= 0)
		return -EINVAL;
	if (s) {
		s->val = val;
		return 0;
	}
	if (2 * (m->nr + 1) > m->cap && (r = grow(m)) < 0)
		return r;
	insert(m, pid, val);
	return 0;
}

int pidmap_get(const struct pidmap *m, pid_t pid)
{
	const struct pidmap_slot *s = pid > 0 ? find(m, pid) : NULL;

	return s ? s->val : -1;
}

int pidmap_take(struct pidmap *m, pid_t pid)
{
	struct pidmap_slot *s = pid > 0 ? find(m, pid) : NULL;
	size_t hole, i;
	int val;

	if (!s)
		return -1;
	val = s->val;
	hole = s - m->slots;
	m->slots[hole].pid = 0;
	m->nr--;
	/* Every entry of the run after the hole that may move back into it does. */
	for (i = (hole + 1) & (m->cap - 1); m->slots[i].pid; i = (i + 1) & (m->cap - 1)) {
		size_t h = home(m, m->slots[i].pid);

		/* Its home lies cyclically in (hole, i]: it stays. */
		if (hole <= i ? (h > hole && h <= i) : (h > hole || h <= i))
			continue;
		m->slots[hole] = m->slots[i];
		m->slots[i].pid = 0;
		hole = i;
	}
	return val;
}

void pidmap_free(struct pidmap *m)
{
	free(m->slots);
	*m = (struct pidmap){ 0 };
}
