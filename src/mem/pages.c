/*
 * Writing the saved pages, so that nestor, not the task, pays for them. A
 * page cache page is charged to the memory cgroup of whoever allocates it,
 * until the file is deleted: a task that wrote its own pages into a tmpfs
 * image would double its cgroup's usage, and a container near its limit
 * would be OOM-killed by its own checkpoint.
 *
 * The fast path: nestor makes a pipe as big as fs.pipe-max-size allows and
 * passes its write end to the task (an abstract unix socket, SCM_RIGHTS:
 * no permission a task may lack); the task vmsplice()s a batch of its page
 * runs into it (the pipe then references the task's own pages: no copy, no
 * new page), and nestor splice()s the pipe into the image, which copies the
 * pages into the image's page cache from nestor's process: one copy,
 * charged to nestor. vmsplice takes plain page references, never pins, so
 * a page still shared copy-on-write with a parent or child stays shared
 * (process_vm_readv pins, and pinning makes the kernel give the task its
 * own copy: GUP unshare). The pipe is always drained before the next
 * batch, and before the task is let go.
 *
 * Areas the task cannot read (PROT_NONE) and small dumps take the slow
 * path: nestor reads /proc/PID/mem into a buffer and writes it.
 */
#define LOG_PREFIX "pages: "
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include "core/log.h"
#include "infect/givefd.h"
#include "mem/pages.h"
#include "core/util.h"

#define LOCAL_BATCH     (4 << 20)
#define REMOTE_MIN      (1 << 20) /* below this, setting up the fast path costs more */
#define REMOTE_IOVS     200       /* 3200 bytes of scratch in the task */
#define PIPE_MIN        (64 << 10)
#define PIPE_WANT       (16 << 20) /* more only saves round trips we no longer see */

struct page_io {
	pid_t pid;
	int fd;          /* the image, in nestor */
	int pipe[2];     /* nestor's pipe; -1 if none */
	size_t pipe_len; /* its capacity in bytes */
	int remote_fd;   /* the pipe's write end, in the task; -1 if none */
	int memfd;       /* /proc/PID/mem, opened on first use */
	struct remote *rt;
	uint8_t *buf;
};

/*
 * Through /proc/PID/mem, not process_vm_readv(): that one pins each page
 * (see above). /proc/PID/mem reads PROT_NONE areas too.
 */
static int read_local(struct page_io *io, const struct iovec *remote, size_t nr, uint8_t *buf)
{
	char path[64];

	if (io->memfd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", io->pid);
		io->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (io->memfd < 0)
			return log_error_errno(-errno, "cannot open %s", path);
	}
	for (size_t i = 0; i < nr; i++) {
		int r = pread_all(io->memfd, buf, remote[i].iov_len, (off_t)remote[i].iov_base);

		if (r < 0)
			return log_error_errno(r, "cannot read memory of task %d at %p", io->pid,
					       remote[i].iov_base);
		buf += remote[i].iov_len;
	}
	return 0;
}

static int write_local(struct page_io *io, const struct iovec *iov, size_t nr, size_t len)
{
	int r = read_local(io, iov, nr, io->buf);

	if (r < 0)
		return r;
	r = write_all(io->fd, io->buf, len);
	return r < 0 ? log_error_errno(r, "cannot write pages of task %d", io->pid) : 0;
}

/* Moves len bytes the task put in the pipe into the image. */
static int drain(struct page_io *io, size_t len)
{
	while (len) {
		ssize_t n = splice(io->pipe[0], NULL, io->fd, NULL, len, SPLICE_F_MOVE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return log_error_errno(n < 0 ? -errno : -EIO,
					       "cannot splice pages of task %d into the image",
					       io->pid);
		len -= n;
	}
	return 0;
}

/*
 * The task vmsplices iov (its own addresses, at most the pipe's capacity)
 * into the pipe; nestor drains what it took. Returns bytes moved or -errno.
 */
static long splice_remote(struct page_io *io, const struct iovec *iov, size_t nr)
{
	uint64_t addr;
	long ret;
	int r = remote_scratch(io->rt, nr * sizeof(*iov), &addr);

	if (r < 0 || (r = remote_write(io->pid, addr, iov, nr * sizeof(*iov))) < 0)
		return r;
	/* Non-blocking: a pipe that somehow filled must not hang the task. */
	r = remote_syscall(io->rt, __NR_vmsplice, &ret, io->remote_fd, addr, nr, SPLICE_F_NONBLOCK,
			   0, 0);
	if (r < 0)
		return r;
	if (ret <= 0)
		return log_error_ret(ret < 0 ? ret : -EIO,
				     "task %d cannot vmsplice its pages at %p into nestor's pipe",
				     io->pid, iov[0].iov_base);
	r = drain(io, ret);
	return r < 0 ? r : ret;
}

/* Moves all of iov (len bytes) through the pipe, whatever each call takes. */
static int write_remote(struct page_io *io, struct iovec *iov, size_t nr, size_t len)
{
	while (len) {
		long n = splice_remote(io, iov, nr);

		if (n < 0)
			return n;
		len -= n;
		while (n > 0 && nr) {
			size_t take = MIN((size_t)n, iov->iov_len);

			iov->iov_base = (uint8_t *)iov->iov_base + take;
			iov->iov_len -= take;
			n -= take;
			if (!iov->iov_len) {
				iov++;
				nr--;
			}
		}
	}
	return 0;
}

static void take_fd(struct page_io *io)
{
	long ret;

	if (io->remote_fd >= 0)
		remote_syscall(io->rt, __NR_close, &ret, io->remote_fd, 0, 0, 0, 0, 0);
	io->remote_fd = -1;
}

/* The biggest pipe fs.pipe-max-size lets us have (no CAP_SYS_RESOURCE here). */
static int make_pipe(struct page_io *io)
{
	char buf[32] = "";
	long max = 0;
	int fd, n;

	if (pipe2(io->pipe, O_CLOEXEC))
		return log_error_errno(-errno, "cannot make a pipe for the pages of task %d", io->pid);
	fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			max = strtol(buf, NULL, 10);
		close(fd);
	}
	max = MIN(MAX(max, PIPE_MIN), PIPE_WANT);
	while ((n = fcntl(io->pipe[0], F_SETPIPE_SZ, (int)max)) < 0 && max > PIPE_MIN)
		max /= 2;
	n = fcntl(io->pipe[0], F_GETPIPE_SZ);
	if (n < PIPE_MIN)
		return log_error_ret(-ENOBUFS, "pipe for the pages of task %d holds only %d bytes",
				     io->pid, n);
	io->pipe_len = n;
	return 0;
}

static void close_pipe(struct page_io *io)
{
	for (int i = 0; i < 2; i++)
		if (io->pipe[i] >= 0)
			close(io->pipe[i]);
	io->pipe[0] = io->pipe[1] = -1;
}

static bool run_readable(const MmEntry *mm, size_t *vi, const PageRunEntry *run)
{
	while (*vi < mm->n_vmas && mm->vmas[*vi]->end <= run->vaddr)
		(*vi)++;
	return *vi < mm->n_vmas && mm->vmas[*vi]->prot & 1;
}

/* Gathers runs into batches: through the pipe where the task can, else ours. */
static int copy_runs(struct page_io *io, const MmEntry *mm)
{
	struct iovec iov[REMOTE_IOVS];
	size_t vi = 0, i = 0, skip = 0;

	while (i < mm->n_runs) {
		bool remote = io->remote_fd >= 0 && run_readable(mm, &vi, mm->runs[i]);
		size_t nr = 0, len = 0;
		size_t max = remote ? io->pipe_len
				    : MIN(LOCAL_BATCH, MAX(mm->nr_pages, 1) * PAGE_SIZE);
		int r;

		while (i < mm->n_runs && nr < REMOTE_IOVS && len < max) {
			const PageRunEntry *run = mm->runs[i];
			size_t rlen = run->nr_pages * PAGE_SIZE - skip, take = MIN(rlen, max - len);

			if (nr && remote != (io->remote_fd >= 0 && run_readable(mm, &vi, run)))
				break;
			iov[nr].iov_base = (void *)(run->vaddr + skip);
			iov[nr++].iov_len = take;
			len += take;
			if (take < rlen) {
				skip += take;
				break;
			}
			skip = 0;
			i++;
		}
		r = remote ? write_remote(io, iov, nr, len) : write_local(io, iov, nr, len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The fast path, if the task can take part in it; else the slow one. */
static void setup_remote(struct page_io *io, const MmEntry *mm)
{
	if (mm->nr_pages * PAGE_SIZE < REMOTE_MIN)
		return;
	if (make_pipe(io) < 0 || remote_give_fd(io->rt, io->pipe[1], &io->remote_fd) < 0) {
		pr_debug("task %d cannot vmsplice its pages; nestor reads them", io->pid);
		io->remote_fd = -1;
		close_pipe(io);
		return;
	}
	pr_debug("task %d vmsplices its pages into a pipe of %zu bytes (fd %d there)", io->pid,
		 io->pipe_len, io->remote_fd);
}

int pages_dump(struct dump_ctx *ctx, struct dump_task *t, const MmEntry *mm)
{
	struct page_io io = { .pid = t->pid, .remote_fd = -1, .memfd = -1, .rt = &t->rt,
			      .pipe = { -1, -1 } };
	char name[64];
	int r;

	snprintf(name, sizeof(name), "pages-%d.img", t->pid);
	io.fd = openat(ctx->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (io.fd < 0)
		return log_error_errno(-errno, "cannot create %s", name);
	/* A small task needs a small buffer: a fresh 4 MiB one costs its page faults. */
	io.buf = malloc(MIN(LOCAL_BATCH, MAX(mm->nr_pages, 1) * PAGE_SIZE));
	if (!io.buf) {
		close(io.fd);
		return -ENOMEM;
	}
	setup_remote(&io, mm);
	r = copy_runs(&io, mm);
	take_fd(&io);
	/* Whatever is left in the pipe (a failed batch) goes with it. */
	close_pipe(&io);
	/* One syncfs() for all images comes before the tree is killed. */
	free(io.buf);
	close(io.fd);
	if (io.memfd >= 0)
		close(io.memfd);
	return r;
}
