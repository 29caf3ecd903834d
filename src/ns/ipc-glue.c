/*
 * GLUE until the namespace model (branch ns) is merged; this whole file is
 * then replaced by the model's calls of ipc_ns_ops. It supports one case:
 * every thread of the tree shares one IPC namespace. When that is nestor's
 * own, nothing is saved (host). Otherwise it is namespace 1: ipc-1.img. At
 * restore a helper child unshares a fresh IPC namespace and makes the
 * objects in it; nestor keeps a descriptor of it and the root enters it
 * before it forks the others.
 */
#define LOG_PREFIX "ipc: "
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/log.h"
#include "core/util.h"
#include "ns/ipc.h"

#define GLUE_ID 1

static bool dump_saved;     /* dump: the tree's namespace is saved as GLUE_ID */
static bool dump_committed;
static bool rst_present;    /* restore: the images have ipc-1.img */
static void *rst_priv;
static int rst_fd = -1;     /* restore: nestor's descriptor of the made namespace */

static int ns_ino(pid_t pid, pid_t tid, ino_t *ret)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/task/%d/ns/ipc", pid, tid);
	if (stat(p, &st))
		return log_error_errno(-errno, "cannot read %s", p);
	*ret = st.st_ino;
	return 0;
}

static int check_shared(struct dump_ctx *ctx, ino_t root)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct dump_task *t = &ctx->tasks[i];
		ino_t ino;
		int r;

		if (t->zombie)
			continue;
		for (size_t k = 0; k <= t->nr_threads; k++) {
			pid_t tid = k < t->nr_threads ? t->threads[k].pid : t->pid;

			if ((r = ns_ino(t->pid, tid, &ino)) < 0)
				return r;
			if (ino != root)
				return log_error_ret(-EOPNOTSUPP, "can't dump: thread %d of task %d is "
								  "in another IPC namespace than the "
								  "tree's root (not supported yet)",
						     tid, t->pid);
		}
	}
	return 0;
}

int ipc_glue_dump(struct dump_ctx *ctx)
{
	_cleanup_close_ int fd = -1, own = -1;
	ino_t root, mine;
	struct stat st;
	char p[64];
	int r;

	if (stat("/proc/self/ns/ipc", &st))
		return log_error_errno(-errno, "cannot read /proc/self/ns/ipc");
	mine = st.st_ino;
	if ((r = ns_ino(ctx->tasks[0].pid, ctx->tasks[0].pid, &root)) < 0 ||
	    (r = check_shared(ctx, root)) < 0)
		return r;
	if (root == mine)
		return 0;
	snprintf(p, sizeof(p), "/proc/%d/ns/ipc", ctx->tasks[0].pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	own = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || own < 0 || setns(fd, CLONE_NEWIPC))
		return log_error_errno(-errno, "cannot enter the IPC namespace of task %d",
				       ctx->tasks[0].pid);
	dump_saved = true;
	r = ipc_ns_dump(ctx, GLUE_ID, fd);
	if (setns(own, CLONE_NEWIPC))
		return log_error_errno(-errno, "cannot go back to nestor's IPC namespace");
	return r;
}

int ipc_glue_dump_commit(struct dump_ctx *ctx)
{
	if (!dump_saved)
		return 0;
	dump_committed = true;
	return ipc_ns_dump_commit(ctx, GLUE_ID, -1);
}

void ipc_glue_dump_abort(struct dump_ctx *ctx)
{
	if (dump_committed)
		ipc_ns_dump_abort(ctx, GLUE_ID, -1);
}

uint32_t ipc_glue_dump_ns(pid_t pid)
{
	return dump_saved ? GLUE_ID : 0;
}

void **ipc_glue_priv(struct restore_ctx *ctx, uint32_t id)
{
	return &rst_priv;
}

uint32_t ipc_glue_task_ns(const struct restore_ctx *ctx, const struct restore_task *t)
{
	return rst_present ? GLUE_ID : 0;
}

int ipc_glue_validate(struct restore_ctx *ctx)
{
	if (faccessat(ctx->dirfd, "ipc-1.img", F_OK, AT_SYMLINK_NOFOLLOW))
		return 0;
	rst_present = true;
	return ipc_ns_validate(ctx, GLUE_ID);
}

/* Runs fn in a child of nestor: 0 or the child's error. */
static int in_child(struct restore_ctx *ctx, int (*fn)(struct restore_ctx *ctx, int arg), int arg)
{
	int status, r;
	pid_t pid = fork();

	if (pid < 0)
		return log_error_errno(-errno, "cannot fork");
	if (pid == 0) {
		signal(SIGCHLD, SIG_DFL);
		r = fn(ctx, arg);
		_exit(r < 0 ? MIN(-r, 255) : 0);
	}
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return log_error_errno(-errno, "cannot wait for nestor's helper");
	if (!WIFEXITED(status))
		return log_error_ret(-EIO, "nestor's helper died (status %#x)", status);
	return -WEXITSTATUS(status);
}

/* The child: a fresh namespace with the objects, told to nestor through wr;
 * it stays until nestor closes rd's other end (it has opened the ns by then). */
static int make_ns(struct restore_ctx *ctx, int pipes)
{
	int wr = pipes & 0xffff, rd = pipes >> 16, r;
	char c;

	if (unshare(CLONE_NEWIPC))
		r = log_error_errno(-errno, "cannot make an IPC namespace");
	else
		r = ipc_ns_restore(ctx, GLUE_ID);
	if (write(wr, &r, sizeof(r)) != sizeof(r))
		return -EIO;
	if (r == 0)
		(void)!read(rd, &c, 1);
	return r;
}

int ipc_glue_restore(struct restore_ctx *ctx)
{
	int said[2], hold[2], r = 0;
	char p[64];
	pid_t pid;

	if (!rst_present)
		return 0;
	if (pipe2(said, O_CLOEXEC) || pipe2(hold, O_CLOEXEC))
		return log_error_errno(-errno, "cannot create pipes");
	pid = fork();
	if (pid == 0) {
		close(said[0]);
		close(hold[1]);
		r = make_ns(ctx, said[1] | hold[0] << 16);
		_exit(r < 0 ? MIN(-r, 255) : 0);
	}
	close(said[1]);
	close(hold[0]);
	if (pid < 0)
		r = log_error_errno(-errno, "cannot fork");
	else if (read(said[0], &r, sizeof(r)) != sizeof(r))
		r = log_error_ret(-EIO, "nestor's IPC helper died");
	if (r == 0) {
		snprintf(p, sizeof(p), "/proc/%d/ns/ipc", pid);
		rst_fd = fd_move_above(open(p, O_RDONLY | O_CLOEXEC), ctx->fd_base + 1);
		if (rst_fd < 0)
			r = log_error_errno(-errno, "cannot open %s", p);
	}
	close(said[0]);
	close(hold[1]);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r;
}

int ipc_glue_nsfd(struct restore_ctx *ctx, uint32_t id)
{
	return id == GLUE_ID ? rst_fd : -1;
}

int ipc_glue_enter_task(struct restore_ctx *ctx, int idx)
{
	if (idx != 0 || rst_fd < 0)
		return 0;
	if (setns(rst_fd, CLONE_NEWIPC))
		return log_error_errno(-errno, "cannot enter the restored IPC namespace");
	return 0;
}

static int late(struct restore_ctx *ctx, int arg)
{
	if (setns(rst_fd, CLONE_NEWIPC))
		return log_error_errno(-errno, "cannot enter the restored IPC namespace");
	return ipc_ns_restore_late(ctx, GLUE_ID);
}

int ipc_glue_restore_late(struct restore_ctx *ctx)
{
	return rst_fd < 0 ? 0 : in_child(ctx, late, 0);
}

void ipc_glue_free(struct restore_ctx *ctx)
{
	if (rst_fd >= 0)
		close(rst_fd);
	rst_fd = -1;
	if (rst_present)
		ipc_ns_free(ctx, GLUE_ID);
	rst_present = false;
}
