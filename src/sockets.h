/* Sockets: unix sockets inside the tree (pairs, bound, listening, queues). */
#ifndef NESTOR_SOCKETS_H
#define NESTOR_SOCKETS_H

#include <sys/stat.h>
#include "model.h"

/* Fills f for socket fd, or refuses it, naming the task, the fd and the kind. */
int sockets_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, const struct stat *st,
		 FileEntry *f);
int sockets_validate(struct restore_ctx *ctx, const FileEntry *f);
/* In nestor: a new description for f (called once per description). */
int sockets_open(struct restore_ctx *ctx, const FileEntry *f);

#endif
