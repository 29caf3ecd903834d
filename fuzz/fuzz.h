/* The structure-aware fuzzer of the restore's validation: its parts. */
#ifndef NESTOR_FUZZ_H
#define NESTOR_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include "core/model.h"

#define FUZZ_POOL_MAX 8192

/* Values seen in a dump, offered to any field. */
struct fuzz_pool {
	uint64_t v[FUZZ_POOL_MAX];
	size_t n;
};

uint64_t rng_next(uint64_t *s);
/* One change somewhere in m (a field, nested or repeated); says what in what. */
void fuzz_mutate(struct fuzz_pool *pool, ProtobufCMessage *m, uint64_t *s, char *what,
		 size_t wlen);
/* Appends a copy of the first element of repeated field f of m. */
bool fuzz_dup_first(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* Appends a copy of repeated field from's first element to repeated field to (same type). */
bool fuzz_copy_first(ProtobufCMessage *m, const ProtobufCFieldDescriptor *to,
		     const ProtobufCFieldDescriptor *from);
void fuzz_pool_collect(struct fuzz_pool *pool, ProtobufCMessage *m);

/*
 * The oracle: invariants of a restorable image set, checked on what the
 * validation accepted, independently of the validators. Returns NULL, or
 * the first invariant broken (in a static buffer).
 */
const char *oracle_check(const struct restore_ctx *ctx);
/* oracle-ipc.c: the rules for IPC namespaces, their objects and attachments. */
const char *oracle_check_ipc(const struct restore_ctx *ctx);

#endif
