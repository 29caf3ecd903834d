/* Descriptors of anonymous inodes: none is supported yet; each is refused. */
#define LOG_PREFIX "anonfd: "
#include "anonfd.h"
#include "log.h"

int anonfd_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, const char *link,
		FileEntry *f)
{
	return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d is %s (not supported yet)",
			     t->pid, fd, link + 11);
}

int anonfd_validate(struct restore_ctx *ctx, const FileEntry *f)
{
	return log_error_ret(-EINVAL, "image files.img is corrupted: bad file %u", f->id);
}

int anonfd_open(struct restore_ctx *ctx, const FileEntry *f)
{
	return -EOPNOTSUPP;
}

int anonfd_restore_task(struct restore_ctx *ctx, struct restore_task *t)
{
	return 0;
}
