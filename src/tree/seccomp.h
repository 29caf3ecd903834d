/* Seccomp filters: read through ptrace at dump, installed by the blob. */
#ifndef NESTOR_SECCOMP_H
#define NESTOR_SECCOMP_H

#include "core/model.h"
#include "restorer/restorer-abi.h"

int seccomp_dump(struct dump_task *t);
int seccomp_validate(const TaskCoreEntry *c);
size_t seccomp_args_size(const TaskCoreEntry *c);
void seccomp_fill_args(const TaskCoreEntry *c, struct rst_args *a, uint8_t *at);

#endif
