/*
 * Descriptors of POSIX message queues (a kind of open file description,
 * registered in src/files/kinds.c). A queue's descriptor shows as its name
 * ("/q1") on the mqueue file system of its IPC namespace: it is known by
 * that file system's device, and comes back as a fresh mq_open() of the
 * name, made by nestor inside the restored namespace before the tree (so
 * that tasks sharing the description share it again), with its flags.
 * A queue of nestor's own IPC namespace (not saved) is refused by name.
 */
#define LOG_PREFIX "mqueue: "
#include <fcntl.h>
#include <linux/mount.h>
#include <mqueue.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "files/fd-ops.h"
#include "ns/ipc-priv.h"
#include "ns/ipc.h"
#include "ns/ns.h"

/* The device of nestor's own namespace's queues, found once; 0 if none. */
static dev_t host_dev(void)
{
	static dev_t dev;
	static bool found;
	_cleanup_close_ int fs = -1, mnt = -1;
	struct stat st;

	if (found)
		return dev;
	found = true;
	fs = sys_fsopen("mqueue", FSOPEN_CLOEXEC);
	if (fs < 0 || sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return 0;
	mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt >= 0 && !fstat(mnt, &st))
		dev = st.st_dev;
	return dev;
}

static bool claims(const struct stat *st, const char *path)
{
	return S_ISREG(st->st_mode) && path[0] == '/' &&
	       (ipc_dump_ns_of_mq_dev(st->st_dev) || (host_dev() && st->st_dev == host_dev()));
}

/*
 * mq_open() keeps O_CLOEXEC in the description's flags (open() does not),
 * and fdinfo shows it there or for the fd alike: kept when fdinfo shows it,
 * so that the description comes back showing what it showed.
 */
static bool shows_cloexec(const struct fd_dump *d)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", d->t->pid, d->fd);
	if (read_file_at(AT_FDCWD, path, &text, 4096) < 0 || !(p = strstr(text, "flags:")))
		return false;
	return strtoul(p + 6, NULL, 8) & O_CLOEXEC;
}

static int dump_fd(const struct fd_dump *d, FileEntry *f)
{
	uint32_t ns = ipc_dump_ns_of_mq_dev(d->st->st_dev);
	const char *name = f->path + 1;

	if (!ns)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d is POSIX message queue "
						  "%s of nestor's IPC namespace (not supported)",
				     d->t->pid, d->fd, f->path);
	if (!*name || strchr(name, '/'))
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d: POSIX message queue "
						  "%s has no name nestor can open (removed?)",
				     d->t->pid, d->fd, f->path);
	f->type = FILE_TYPE__MQUEUE;
	f->has_ipc_ns = true;
	f->ipc_ns = ns;
	f->pos = 0;
	if (shows_cloexec(d))
		f->flags |= O_CLOEXEC;
	return 0;
}

static int validate(struct restore_ctx *ctx, const FileEntry *f)
{
	if (!f->has_ipc_ns || f->path[0] != '/' || !ipc_restore_has_mq(ctx, f->ipc_ns, f->path + 1))
		return log_error_ret(-EINVAL, "image files.img is corrupted: POSIX queue %s (file "
					      "%u) is in no restored IPC namespace", f->path, f->id);
	return 0;
}

/* mq_open() inside the queue's namespace, and back to nestor's own. */
static int open_fd(struct restore_ctx *ctx, const FileEntry *f, int flags)
{
	int nsfd = ns_fd(ctx, f->ipc_ns), fd, r = 0;
	_cleanup_close_ int own = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);

	if (nsfd < 0 || own < 0 || setns(nsfd, CLONE_NEWIPC))
		return log_error_errno(nsfd < 0 ? -ENOENT : -errno, "cannot enter IPC namespace %u "
								  "to open POSIX queue %s",
				       f->ipc_ns, f->path);
	fd = mq_open(f->path, (flags & (O_ACCMODE | O_NONBLOCK)) | (f->flags & O_CLOEXEC));
	if (fd < 0)
		r = log_error_errno(-errno, "cannot open POSIX queue %s", f->path);
	if (setns(own, CLONE_NEWIPC)) {
		r = log_error_errno(-errno, "cannot go back to nestor's IPC namespace");
		if (fd >= 0)
			close(fd);
	}
	return r < 0 ? r : fd;
}

const struct fd_ops mqueue_fd_ops = {
	.name = "mqueue",
	.types = FD_TYPE(FILE_TYPE__MQUEUE),
	.claims = claims,
	.dump = dump_fd,
	.validate = validate,
	.open = open_fd,
};
