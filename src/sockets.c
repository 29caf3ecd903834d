/* Sockets: none is supported yet; each is refused. */
#define LOG_PREFIX "sockets: "
#include "log.h"
#include "sockets.h"

int sockets_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, const struct stat *st,
		 FileEntry *f)
{
	return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d is a socket (not supported yet)",
			     t->pid, fd);
}

int sockets_validate(struct restore_ctx *ctx, const FileEntry *f)
{
	return log_error_ret(-EINVAL, "image files.img is corrupted: bad file %u", f->id);
}

int sockets_open(struct restore_ctx *ctx, const FileEntry *f)
{
	return -EOPNOTSUPP;
}
