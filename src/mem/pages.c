/*
 * Writing the saved pages. The fast path has the task write its own memory
 * into the image with writev(): the same work as the cheapest possible dump
 * (one copy from resident pages into fresh tmpfs pages). Reading another
 * task's memory costs far more here: process_vm_readv() pins every page and
 * needs a bounce buffer, about 0.5 s/GiB against 0.35 s/GiB for writev.
 * The image fd reaches the task over an abstract unix socket (SCM_RIGHTS),
 * which needs no permission the task may lack. Areas it cannot read
 * (PROT_NONE), small dumps and tasks with a file size limit take the slow
 * path: nestor reads /proc/PID/mem.
 */
#define LOG_PREFIX "pages: "
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include "core/log.h"
#include "mem/pages.h"
#include "core/util.h"

#define LOCAL_BATCH     (4 << 20)
#define REMOTE_MIN      (1 << 20) /* below this, setting up the fast path costs more */
#define REMOTE_IOVS     200
#define REMOTE_BATCH    (1UL << 30) /* writev() stops short of 2 GiB */

struct page_io {
	pid_t pid;
	int fd;          /* the image, in nestor */
	int remote_fd;   /* the same description, in the task; -1 if none */
	int memfd;       /* /proc/PID/mem, opened on first use */
	struct remote *rt;
	uint8_t *buf;
};

/*
 * Through /proc/PID/mem, not process_vm_readv(): that one pins each page,
 * and pinning an anonymous page still shared copy-on-write with a parent
 * or child makes the kernel give the task a copy of its own (GUP unshare):
 * slower, and the dump would grow the task's memory. /proc/PID/mem reads
 * PROT_NONE areas too.
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

/* The task writes iov (its own addresses) to the image; returns bytes written or -errno. */
static long write_remote(struct page_io *io, const struct iovec *iov, size_t nr)
{
	uint64_t addr;
	long ret;
	int r = remote_scratch(io->rt, nr * sizeof(*iov), &addr);

	if (r < 0 || (r = remote_write(io->pid, addr, iov, nr * sizeof(*iov))) < 0)
		return r;
	r = remote_syscall(io->rt, __NR_writev, &ret, io->remote_fd, addr, nr, 0, 0, 0);
	return r < 0 ? r : ret;
}

/* Hands the image fd to the task: it binds a socket, we send, it receives. */
static int give_fd(struct page_io *io)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct {
		struct msghdr mh;
		struct iovec iov;
		struct sockaddr_un sa;
		char byte;
		_Alignas(8) char cbuf[CMSG_SPACE(sizeof(int))];
	} rbuf = { 0 };
	struct msghdr mh = { 0 };
	struct iovec iov = { "p", 1 };
	struct cmsghdr *cm;
	socklen_t salen;
	_cleanup_close_ int s = -1;
	uint64_t addr;
	long ts = -1, ret;
	int r;

	salen = offsetof(struct sockaddr_un, sun_path) + 1 +
		snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "nestor-%d-%d", getpid(), io->pid);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	r = remote_scratch(io->rt, sizeof(rbuf), &addr);
	if (r < 0)
		return r;
	r = remote_syscall(io->rt, __NR_socket, &ts, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0, 0);
	if (r < 0 || ts < 0)
		return r < 0 ? r : (int)ts;
	rbuf.sa = sa;
	rbuf.iov = (struct iovec){ (void *)(addr + offsetof(typeof(rbuf), byte)), 1 };
	rbuf.mh = (struct msghdr){ .msg_iov = (void *)(addr + offsetof(typeof(rbuf), iov)),
				   .msg_iovlen = 1,
				   .msg_control = (void *)(addr + offsetof(typeof(rbuf), cbuf)),
				   .msg_controllen = sizeof(rbuf.cbuf) };
	if ((r = remote_write(io->pid, addr, &rbuf, sizeof(rbuf))) < 0)
		goto out;
	r = remote_syscall(io->rt, __NR_bind, &ret, ts, addr + offsetof(typeof(rbuf), sa), salen, 0,
			   0, 0);
	if (r < 0 || (r = ret) < 0)
		goto out;
	mh.msg_name = &sa;
	mh.msg_namelen = salen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &io->fd, sizeof(int));
	if (sendmsg(s, &mh, 0) != 1) {
		r = -errno;
		goto out;
	}
	r = remote_syscall(io->rt, __NR_recvmsg, &ret, ts, addr, MSG_CMSG_CLOEXEC, 0, 0, 0);
	if (r < 0 || (r = ret) < 0 || (r = remote_read(io->pid, addr, &rbuf, sizeof(rbuf))) < 0)
		goto out;
	cm = (struct cmsghdr *)rbuf.cbuf;
	if (rbuf.mh.msg_flags & MSG_CTRUNC || cm->cmsg_type != SCM_RIGHTS) {
		r = -EMFILE;
		goto out;
	}
	memcpy(&io->remote_fd, CMSG_DATA(cm), sizeof(int));
out:
	remote_syscall(io->rt, __NR_close, &ret, ts, 0, 0, 0, 0, 0);
	return r;
}

static void take_fd(struct page_io *io)
{
	long ret;

	if (io->remote_fd >= 0)
		remote_syscall(io->rt, __NR_close, &ret, io->remote_fd, 0, 0, 0, 0, 0);
	io->remote_fd = -1;
}

static bool use_remote(struct dump_task *t, const MmEntry *mm)
{
	const TaskCoreEntry *c = t->core;

	/* A file size limit would raise SIGXFSZ in the task. */
	if (c->n_rlimits > RLIMIT_FSIZE && c->rlimits[RLIMIT_FSIZE]->cur != RLIM_INFINITY)
		return false;
	return mm->nr_pages * PAGE_SIZE >= REMOTE_MIN;
}

static bool run_readable(const MmEntry *mm, size_t *vi, const PageRunEntry *run)
{
	while (*vi < mm->n_vmas && mm->vmas[*vi]->end <= run->vaddr)
		(*vi)++;
	return *vi < mm->n_vmas && mm->vmas[*vi]->prot & 1;
}

/* Gathers runs into batches: the task's own writev where it can, else ours. */
static int copy_runs(struct page_io *io, const MmEntry *mm)
{
	struct iovec iov[REMOTE_IOVS];
	size_t vi = 0, i = 0, skip = 0;

	while (i < mm->n_runs) {
		bool remote = io->remote_fd >= 0 && run_readable(mm, &vi, mm->runs[i]);
		size_t nr = 0, len = 0;
		size_t max = remote ? REMOTE_BATCH : MIN(LOCAL_BATCH, MAX(mm->nr_pages, 1) * PAGE_SIZE);
		long r;

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
		if (!remote) {
			r = write_local(io, iov, nr, len);
		} else {
			r = write_remote(io, iov, nr);
			if (r >= 0 && (size_t)r != len)
				r = log_error_ret(-EIO, "task %d wrote %ld of %zu bytes of its pages",
						  io->pid, r, len);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int pages_dump(struct dump_ctx *ctx, struct dump_task *t, const MmEntry *mm)
{
	struct page_io io = { .pid = t->pid, .remote_fd = -1, .memfd = -1, .rt = &t->rt };
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
	if (use_remote(t, mm) && give_fd(&io) < 0) {
		pr_debug("task %d cannot write its own pages; nestor reads them", t->pid);
		io.remote_fd = -1;
	}
	if (io.remote_fd >= 0)
		pr_debug("task %d writes its own pages (fd %d there)", t->pid, io.remote_fd);
	r = copy_runs(&io, mm);
	take_fd(&io);
	/* One syncfs() for all images comes before the tree is killed. */
	free(io.buf);
	close(io.fd);
	if (io.memfd >= 0)
		close(io.memfd);
	return r;
}
