/* Seccomp filters of every thread: read through ptrace at dump, installed
 * by the blob (the task's common chain, then each thread's own). */
#ifndef NESTOR_SECCOMP_H
#define NESTOR_SECCOMP_H

#include "core/model.h"
#include "restorer/restorer-abi.h"

int seccomp_dump(struct dump_task *t);
int seccomp_validate(const TaskCoreEntry *c);
/* Bytes a chain takes in the blob's region: struct rst_seccomp[n], programs. */
size_t seccomp_chain_size(SeccompFilterEntry *const *v, size_t n);
/* Lays a chain out at `at`; returns the bytes used. */
size_t seccomp_chain_fill(SeccompFilterEntry *const *v, size_t n, uint8_t *at, uint32_t *ret_nr,
			  uint64_t *ret_addr);
/* The task's common chain. */
size_t seccomp_args_size(const TaskCoreEntry *c);
void seccomp_fill_args(const TaskCoreEntry *c, struct rst_args *a, uint8_t *at);

#endif
