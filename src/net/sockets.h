/* Sockets: unix sockets inside the tree (pairs, bound, listening, queues). */
#ifndef NESTOR_SOCKETS_H
#define NESTOR_SOCKETS_H

#include <sys/stat.h>
#include "core/model.h"

/* Fills f for socket fd, or refuses it, naming the task, the fd and the kind. */
int sockets_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, const struct stat *st,
		 FileEntry *f);
/* Once every task's fds are dumped: refuses sockets a process outside the
 * tree holds too. What clients sent on connections not yet accepted is
 * taken later, in the commit step (sockets_fd_ops.dump_commit), into
 * backlog.img. */
int sockets_dump_finish(struct dump_ctx *ctx);
int sockets_validate(struct restore_ctx *ctx, const FileEntry *f);
/* After files.img is read: backlog.img, if the dump wrote one, gives the
 * connections waiting in listeners' backlogs what their clients sent. */
int sockets_read_backlog(struct restore_ctx *ctx);
/*
 * In nestor: a new description for f. The first call makes every socket of
 * the image and puts the others straight into ctx->file_fds.
 */
int sockets_open(struct restore_ctx *ctx, const FileEntry *f);

#endif
