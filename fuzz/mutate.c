// SPDX-License-Identifier: GPL-2.0
/*
 * Structure-aware mutations of decoded image entries, through protobuf-c's
 * descriptors: any field of any message, nested or repeated, gets a
 * boundary value, a value taken from elsewhere in the same dump (another
 * pid, another file id, another fd...), a flipped bit; optional fields
 * appear or vanish; repeated fields lose, gain or swap elements; enums go
 * out of range; strings and bytes change length. Every change keeps the
 * message freeable by protobuf_c_message_free_unpacked (the default
 * allocator is malloc).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz/fuzz.h"

uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

struct field_ref {
	ProtobufCMessage *m;
	const ProtobufCFieldDescriptor *f;
};

#define MAX_REFS 4096

static void collect(ProtobufCMessage *m, struct field_ref *out, size_t *n)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *p = (char *)m + f->offset;

		if (*n < MAX_REFS)
			out[(*n)++] = (struct field_ref){ m, f };
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = *(size_t *)((char *)m + f->quantifier_offset);
			ProtobufCMessage **arr = *(ProtobufCMessage ***)p;

			for (size_t k = 0; k < cnt; k++)
				collect(arr[k], out, n);
		} else if (*(ProtobufCMessage **)p) {
			collect(*(ProtobufCMessage **)p, out, n);
		}
	}
}

static size_t scalar_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return 0;
	default:
		return 4; /* 32-bit ints, enums, protobuf_c_boolean, float */
	}
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	default:
		return scalar_size(f->type);
	}
}

static uint64_t pick_value(struct fuzz_pool *pool, uint64_t old, ProtobufCType t, uint64_t *s)
{
	static const uint64_t edges[] = { 0, 1, 2, 3, 4095, 4096, 4097, 0x7fffffff, 0x80000000,
					  0xffffffff, 4194304, 4194305, 1ULL << 47, 0x7fffffffffffULL,
					  ~0ULL, 0x8000000000000000ULL, 0xfffffffffffff000ULL };

	switch (below(s, 8)) {
	case 0:
	case 1:
	case 2:
		if (pool->n)
			return pool->v[below(s, pool->n)];
		/* fall through */
	case 3:
	case 4:
		return edges[below(s, sizeof(edges) / sizeof(edges[0]))];
	case 5:
		return old + 1;
	case 6:
		return old - 1;
	default:
		return old ^ (1ULL << below(s, t == PROTOBUF_C_TYPE_BOOL ? 1 : 64));
	}
}

static void put_scalar(void *p, ProtobufCType t, uint64_t v)
{
	if (scalar_size(t) == 8)
		memcpy(p, &v, 8);
	else {
		uint32_t w = (uint32_t)v;

		if (t == PROTOBUF_C_TYPE_BOOL)
			w = !!w;
		memcpy(p, &w, 4);
	}
}

static uint64_t get_scalar(const void *p, ProtobufCType t)
{
	uint64_t v = 0;

	memcpy(&v, p, scalar_size(t));
	return v;
}

static ProtobufCMessage *copy_message(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	ProtobufCMessage *c;

	if (!buf)
		return NULL;
	protobuf_c_message_pack(m, buf);
	c = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	free(buf);
	return c;
}

static void free_elem(const ProtobufCFieldDescriptor *f, void *e)
{
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		protobuf_c_message_free_unpacked(*(ProtobufCMessage **)e, NULL);
	else if (f->type == PROTOBUF_C_TYPE_STRING)
		free(*(char **)e);
	else if (f->type == PROTOBUF_C_TYPE_BYTES)
		free(((ProtobufCBinaryData *)e)->data);
}

/* A deep copy of element e into dst; false if it cannot be made. */
static bool copy_elem(const ProtobufCFieldDescriptor *f, const void *e, void *dst)
{
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *c = copy_message(*(ProtobufCMessage *const *)e);

		memcpy(dst, &c, sizeof(c));
		return c != NULL;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		char *c = strdup(*(char *const *)e);

		memcpy(dst, &c, sizeof(c));
		return c != NULL;
	}
	if (f->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData b = *(const ProtobufCBinaryData *)e;
		uint8_t *d = malloc(b.len ? b.len : 1);

		if (!d)
			return false;
		memcpy(d, b.data, b.len);
		b.data = d;
		memcpy(dst, &b, sizeof(b));
		return true;
	}
	memcpy(dst, e, elem_size(f));
	return true;
}

/* Repeated fields: drop, duplicate, swap or clear elements. */
static void mutate_repeated(struct field_ref *r, uint64_t *s, char *what, size_t wlen)
{
	size_t *cnt = (size_t *)((char *)r->m + r->f->quantifier_offset);
	char **arr = (char **)((char *)r->m + r->f->offset);
	size_t es = elem_size(r->f), n = *cnt, i = below(s, n), k = below(s, n);
	int op = n ? (int)below(s, 4) : 1;
	char *grown;

	switch (op) {
	case 0: /* drop one */
		free_elem(r->f, *arr + i * es);
		memmove(*arr + i * es, *arr + (i + 1) * es, (n - i - 1) * es);
		(*cnt)--;
		snprintf(what, wlen, "%s: element %zu of %zu removed", r->f->name, i, n);
		return;
	case 1: /* duplicate one (or, when empty, nothing to do) */
		if (!n) {
			snprintf(what, wlen, "%s: empty, left", r->f->name);
			return;
		}
		grown = realloc(*arr, (n + 1) * es);
		if (!grown)
			return;
		*arr = grown;
		if (!copy_elem(r->f, grown + i * es, grown + n * es))
			return;
		(*cnt)++;
		snprintf(what, wlen, "%s: element %zu of %zu duplicated at the end", r->f->name, i, n);
		return;
	case 2: { /* swap two */
		char tmp[64];

		memcpy(tmp, *arr + i * es, es);
		memcpy(*arr + i * es, *arr + k * es, es);
		memcpy(*arr + k * es, tmp, es);
		snprintf(what, wlen, "%s: elements %zu and %zu swapped", r->f->name, i, k);
		return;
	}
	default: /* all gone */
		for (size_t j = 0; j < n; j++)
			free_elem(r->f, *arr + j * es);
		*cnt = 0;
		snprintf(what, wlen, "%s: all %zu elements removed", r->f->name, n);
		return;
	}
}

static void mutate_string(struct field_ref *r, char **p, uint64_t *s, char *what, size_t wlen)
{
	static const char *const subs[] = { "", "/", "/nonexistent/nestor-fuzz", "..", "a\nb",
					    "[vdso]", "[vvar]" };
	size_t want = below(s, 3) ? 0 : 300 + below(s, 5000);
	char *n;

	if (r->f->label == PROTOBUF_C_LABEL_OPTIONAL && *p && !below(s, 3)) {
		free(*p);
		*p = NULL;
		snprintf(what, wlen, "%s: removed", r->f->name);
		return;
	}
	if (want) {
		n = malloc(want + 1);
		if (!n)
			return;
		memset(n, 'x', want);
		n[want] = 0;
	} else {
		n = strdup(subs[below(s, sizeof(subs) / sizeof(subs[0]))]);
	}
	if (!n)
		return;
	free(*p);
	*p = n;
	snprintf(what, wlen, "%s = \"%.40s\"%s", r->f->name, n, want ? "..." : "");
}

static void mutate_bytes(struct field_ref *r, ProtobufCBinaryData *b, uint64_t *s, char *what,
			 size_t wlen)
{
	size_t len = below(s, 4) == 0 ? 0 : below(s, 2 * b->len + 16);
	uint8_t *d = malloc(len ? len : 1);

	if (!d)
		return;
	for (size_t i = 0; i < len; i++)
		d[i] = i < b->len && below(s, 8) ? b->data[i] : (uint8_t)rng_next(s);
	free(b->data);
	b->data = d;
	b->len = len;
	snprintf(what, wlen, "%s: %zu bytes", r->f->name, len);
}

static void mutate_field(struct fuzz_pool *pool, struct field_ref *r, uint64_t *s, char *what,
			 size_t wlen)
{
	const ProtobufCFieldDescriptor *f = r->f;
	char *p = (char *)r->m + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(size_t *)((char *)r->m + f->quantifier_offset);

		if (f->type == PROTOBUF_C_TYPE_MESSAGE || !n || below(s, 2)) {
			mutate_repeated(r, s, what, wlen);
			return;
		}
		/* One element's value. */
		size_t i = below(s, n);
		char *e = *(char **)p + i * elem_size(f);

		if (f->type == PROTOBUF_C_TYPE_STRING)
			mutate_string(r, (char **)e, s, what, wlen);
		else if (f->type == PROTOBUF_C_TYPE_BYTES)
			mutate_bytes(r, (ProtobufCBinaryData *)e, s, what, wlen);
		else {
			uint64_t v = pick_value(pool, get_scalar(e, f->type), f->type, s);

			put_scalar(e, f->type, v);
			snprintf(what, wlen, "%s[%zu] = %#llx", f->name, i, (unsigned long long)v);
		}
		return;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage **sub = (ProtobufCMessage **)p;

		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && *sub) {
			protobuf_c_message_free_unpacked(*sub, NULL);
			*sub = NULL;
			snprintf(what, wlen, "%s: removed", f->name);
		} else {
			snprintf(what, wlen, "%s: left", f->name);
		}
		return;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		mutate_string(r, (char **)p, s, what, wlen);
		return;
	}
	if (f->type == PROTOBUF_C_TYPE_BYTES) {
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !below(s, 4)) {
			protobuf_c_boolean *has = (protobuf_c_boolean *)((char *)r->m + f->quantifier_offset);

			*has = !*has;
			snprintf(what, wlen, "has_%s = %d", f->name, *has);
			return;
		}
		mutate_bytes(r, (ProtobufCBinaryData *)p, s, what, wlen);
		return;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !below(s, 4)) {
		protobuf_c_boolean *has = (protobuf_c_boolean *)((char *)r->m + f->quantifier_offset);

		*has = !*has;
		snprintf(what, wlen, "has_%s = %d", f->name, *has);
		return;
	}
	uint64_t v = pick_value(pool, get_scalar(p, f->type), f->type, s);

	if (f->type == PROTOBUF_C_TYPE_ENUM && below(s, 2))
		v = below(s, 2) ? 0 : 11 + below(s, 1000);
	put_scalar(p, f->type, v);
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
		*(protobuf_c_boolean *)((char *)r->m + f->quantifier_offset) = 1;
	snprintf(what, wlen, "%s = %#llx", f->name, (unsigned long long)v);
}

void fuzz_mutate(struct fuzz_pool *pool, ProtobufCMessage *m, uint64_t *s, char *what,
		 size_t wlen)
{
	static struct field_ref refs[MAX_REFS];
	size_t n = 0;

	collect(m, refs, &n);
	if (!n) {
		snprintf(what, wlen, "nothing to change");
		return;
	}
	mutate_field(pool, &refs[below(s, n)], s, what, wlen);
}

static void pool_add(struct fuzz_pool *pool, uint64_t v)
{
	for (size_t i = 0; i < pool->n; i++)
		if (pool->v[i] == v)
			return;
	if (pool->n < FUZZ_POOL_MAX)
		pool->v[pool->n++] = v;
}

/* Every integer the message holds, as candidates for other fields. */
void fuzz_pool_collect(struct fuzz_pool *pool, ProtobufCMessage *m)
{
	static struct field_ref refs[MAX_REFS];
	size_t n = 0;

	collect(m, refs, &n);
	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *f = refs[i].f;
		char *p = (char *)refs[i].m + f->offset;

		if (!scalar_size(f->type) || f->type == PROTOBUF_C_TYPE_BOOL)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = *(size_t *)((char *)refs[i].m + f->quantifier_offset);

			for (size_t k = 0; k < cnt && k < 64; k++)
				pool_add(pool, get_scalar(*(char **)p + k * scalar_size(f->type), f->type));
		} else {
			pool_add(pool, get_scalar(p, f->type));
		}
	}
}

bool fuzz_dup_first(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return fuzz_copy_first(m, f, f);
}

bool fuzz_copy_first(ProtobufCMessage *m, const ProtobufCFieldDescriptor *to,
		     const ProtobufCFieldDescriptor *from)
{
	size_t *cnt = (size_t *)((char *)m + to->quantifier_offset);
	size_t from_cnt = *(size_t *)((char *)m + from->quantifier_offset);
	char **arr = (char **)((char *)m + to->offset);
	char *src = *(char **)((char *)m + from->offset);
	size_t es = elem_size(to);
	char *grown;

	if (to->label != PROTOBUF_C_LABEL_REPEATED || from->label != PROTOBUF_C_LABEL_REPEATED ||
	    to->type != from->type || to->descriptor != from->descriptor || !from_cnt)
		return false;
	grown = realloc(*arr, (*cnt + 1) * es);
	if (!grown)
		return false;
	*arr = grown;
	if (to == from)
		src = grown;
	if (!copy_elem(to, src, grown + *cnt * es))
		return false;
	(*cnt)++;
	return true;
}
