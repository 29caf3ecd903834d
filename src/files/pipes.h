/* Pipes and FIFOs: which tasks hold which end, capacity, and unread data. */
#ifndef NESTOR_PIPES_H
#define NESTOR_PIPES_H

#include <sys/stat.h>
#include "core/model.h"

/* Fills a pipe or FIFO description; the first of each pipe carries its data. */
int pipes_dump(struct dump_ctx *ctx, pid_t pid, int fd, const struct stat *st, FileEntry *f);
/* Refuses pipes that a process outside the tree holds too. */
int pipes_check_outside(struct dump_ctx *ctx);

int pipes_validate(struct restore_ctx *ctx, const FileEntry *f);
/* A new description of the entry's pipe, made (with its data) on first use. */
int pipes_open(struct restore_ctx *ctx, const FileEntry *f);
void pipes_close(struct restore_ctx *ctx);

#endif
