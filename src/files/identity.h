/* What identifies a file nestor reopens by its path, and the check that the
 * file found there at restore is still that one, unchanged. */
#ifndef NESTOR_IDENTITY_H
#define NESTOR_IDENTITY_H

#include <sys/stat.h>
#include "core/model.h"

/* At dump: records f's identity; link opens the file (a /proc link), st is its stat. */
int ident_record(FileEntry *f, const char *link, const struct stat *st);
/* At restore: the file fd (or, if fd < 0, at f->path) is f as it was at the
 * dump, or -ESTALE with one line naming who (the task and fd) and the file. */
int ident_check(const FileEntry *f, int fd, const char *who);

#endif
