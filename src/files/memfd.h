/* memfd objects: descriptors, mappings and executables that are memfds. */
#ifndef NESTOR_MEMFD_H
#define NESTOR_MEMFD_H

#include <stdbool.h>
#include <sys/stat.h>
#include "core/model.h"

bool memfd_path(const char *path);
/* Fills f (a description, or with whole set a mapped/executed file) for the
 * memfd that link (a /proc path to it) opens; the first of each carries its content. */
int memfd_dump(struct dump_ctx *ctx, pid_t pid, const char *link, const char *path,
	       const struct stat *st, FileEntry *f);
int memfd_validate(struct restore_ctx *ctx, const FileEntry *f);
/* A new description of f's memfd (made with its content on first use), opened with flags. */
int memfd_open(struct restore_ctx *ctx, const FileEntry *f, int flags);
void memfd_close(struct restore_ctx *ctx);

#endif
