/* What identifies a file nestor reopens by its path, and the check that the
 * file found there at restore is still that one, unchanged. */
#ifndef NESTOR_IDENTITY_H
#define NESTOR_IDENTITY_H

#include <sys/stat.h>
#include "core/model.h"

/* At dump: records f's identity; link opens the file (a /proc link), st is its stat. */
int ident_record(FileEntry *f, const char *link, const struct stat *st);
/* At restore: whether the file fd (or, if fd < 0, at f->path) is f as it
 * was at the dump: 0, or -ESTALE (-errno if it cannot be found) and why, in
 * words that follow the path ("was replaced by another file..."). */
int ident_compare(const FileEntry *f, int fd, char *why, size_t len);

#endif
