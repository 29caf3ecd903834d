/* Contents of files nestor makes again (unlinked files, memfds): data
 * extents only, so that holes stay holes, with the owner. */
#ifndef NESTOR_CONTENT_H
#define NESTOR_CONTENT_H

#include <sys/stat.h>
#include "core/model.h"

/* Data bytes a file may hold to be saved (holes cost nothing). */
#define CONTENT_MAX (256ull << 20)

/* Fills f->data with the data extents of fd (of st's size) and f->extents
 * with where they lie, f->uid and f->gid with its owner; pid and what name
 * the file in a refusal. */
int content_dump(int fd, const struct stat *st, pid_t pid, const char *what, FileEntry *f);
/* Checks the extents against the data and the size. */
int content_validate(const FileEntry *f);
/* Writes f's content into the new file fd (empty), to its size, and gives it
 * f's owner; the mode is the caller's (after this: chown clears set-id bits). */
int content_restore(int fd, const FileEntry *f);

#endif
