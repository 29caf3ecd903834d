/* The descriptor table's services to the kinds of descriptions: entries by
 * id, the stat fields every entry records, and a holder of each description. */
#define LOG_PREFIX "files: "
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "files/fd-ops.h"

FileEntry *file_table_add(struct file_table *ft)
{
	FileEntry *f = ANEW(FileEntry);

	if (!f)
		return NULL;
	file_entry__init(f);
	f->id = ft->nr + 1;
	return arena_push(&ft->files, &ft->nr, &ft->cap, f) < 0 ? NULL : f;
}

uint64_t files_mtime_ns(const struct stat *st)
{
	return st->st_mtim.tv_sec * 1000000000ULL + st->st_mtim.tv_nsec;
}

void files_fill_stat(FileEntry *f, const struct stat *st)
{
	f->mode = st->st_mode;
	f->size = st->st_size;
	f->mtime_ns = files_mtime_ns(st);
	f->rdev = st->st_rdev;
}

int files_read_link(const char *link, char *buf, size_t len)
{
	ssize_t n = readlink(link, buf, len - 1);

	if (n < 0)
		return log_error_errno(-errno, "cannot read link %s", link);
	if ((size_t)n >= len - 1)
		return log_error_ret(-ENAMETOOLONG, "link %s is too long", link);
	buf[n] = 0;
	return 0;
}

int files_holder(struct dump_ctx *ctx, uint32_t id, pid_t *ret_pid)
{
	for (size_t i = 0; i < ctx->nr_descs; i++)
		if (ctx->descs[i].f->id == id) {
			*ret_pid = ctx->descs[i].pid;
			return ctx->descs[i].fd;
		}
	return -ENOENT;
}

const FileEntry *restore_file(const struct restore_ctx *ctx, uint32_t id)
{
	if (id == 0 || id > ctx->nr_files)
		return NULL;
	return ctx->files[id - 1];
}
