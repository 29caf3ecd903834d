/*
 * Writing the saved pages, so that nestor, not the task, pays for them. A
 * page cache page is charged to the memory cgroup of whoever allocates it,
 * until the file is deleted: a task that wrote its own pages into a tmpfs
 * image would double its cgroup's usage, and a container near its limit
 * would be OOM-killed by its own checkpoint.
 *
 * The fast path: nestor makes NR_PIPES pipes as big as fs.pipe-max-size
 * allows and passes their write ends to the task (an abstract unix socket,
 * SCM_RIGHTS: no permission a task may lack; one fd per recvmsg, which the
 * cure's fd list in ptrace.c tracks, so a nestor that dies leaves none in
 * the task); the task vmsplice()s a batch of its page runs into a free pipe
 * (the pipe then references the task's own pages: no copy, no new page),
 * and nestor's drainer threads empty the filled pipes into the image, each
 * at its batch's offset, while the task fills the next: the copy into the
 * image's page cache runs in nestor's process (charged to nestor) on every
 * CPU, beside the remote syscalls' round trips.
 *
 * How a drainer writes: a write into a tmpfs file (splice included) holds
 * the file's inode lock while it allocates and fills the pages, so two
 * drainers splicing into one image copy one at a time (the second spins on
 * the lock). So on tmpfs nestor maps the image shared, registers the
 * mapping with a userfaultfd, and each drainer reads its pipe into a small
 * buffer of its own and UFFDIO_COPYs it into the mapping: that allocates
 * the tmpfs pages, fills them without zeroing and charges them to nestor's
 * memory cgroup (the mapping's mm), without the inode lock. The first
 * drainer still splices (one copy where this way makes two, the read into
 * the buffer being the second), holding the lock the others never need:
 * the drainers copy side by side. Where the image's filesystem or the
 * kernel refuses (not tmpfs, no userfaultfd), they all splice. vmsplice
 * takes plain page references, never pins, so a page still shared
 * copy-on-write with a parent or child stays shared (process_vm_readv
 * pins, and pinning makes the kernel give the task its own copy: GUP
 * unshare). A pipe is drained before the task fills it
 * again, and every pipe before the task is let go.
 *
 * Areas the task cannot read (PROT_NONE) and small dumps take the slow
 * path: nestor reads /proc/PID/mem into a buffer and writes it.
 */
#define LOG_PREFIX "pages: "
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include "core/log.h"
#include "infect/givefd.h"
#include "mem/pages.h"
#include "core/util.h"

#define LOCAL_BATCH     (4 << 20)
#define REMOTE_MIN      (1 << 20) /* below this, setting up the fast path costs more */
#define REMOTE_IOVS     200       /* 3200 bytes of scratch in the task */
#define PIPE_MIN        (64 << 10)
#define PIPE_WANT       (16 << 20) /* more only saves round trips we no longer see */
#define NR_PIPES        4         /* the task fills one while nestor drains the others */
#define NR_DRAINERS     2         /* nestor's threads emptying pipes into the image */
#define BOUNCE          (256 << 10) /* a drainer's buffer for UFFDIO_COPY: stays in its cache */

/* A pipe the task filled, to be spliced into the image at off. */
struct drain_job {
	int pipe;
	size_t len;
	off_t off;
};

/*
 * nestor's drainer threads and the main thread share this: the main thread
 * (the tracer) has the task fill a free pipe, then queues it; a drainer
 * splices it into the image at its offset and frees the pipe again.
 */
struct drain {
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* a job queued, a pipe freed, or stop */
	struct drain_job q[NR_PIPES]; /* never more jobs than pipes */
	size_t head, nr;
	bool busy[NR_PIPES];
	int err;                      /* the first drainer's error */
	bool stop;
	int started;                  /* drainers that took their number */
	uint64_t mapped;              /* bytes copied through the mapping */
	pthread_t th[NR_DRAINERS];
	int nr_th;
};

struct page_io {
	pid_t pid;
	int fd;                  /* the image, in nestor */
	off_t off;               /* where the next bytes go in it */
	int pipes[NR_PIPES][2];  /* nestor's pipes; -1 if none */
	int nr_pipes;
	size_t pipe_len;         /* each one's capacity in bytes */
	int remote_fd[NR_PIPES]; /* their write ends, in the task */
	int next;                /* the pipe the task fills next */
	int memfd;               /* /proc/PID/mem, opened on first use */
	struct remote *rt;
	uint8_t *buf;
	struct drain dr;
	int batches;             /* queued so far */
	uint8_t *map;            /* the image mapped shared, registered with uffd; or NULL */
	size_t map_len;
	int uffd;
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
	r = pwrite_all(io->fd, io->buf, len, io->off);
	if (r < 0)
		return log_error_errno(r, "cannot write pages of task %d", io->pid);
	io->off += len;
	return 0;
}

/* A drainer's work, the splice way: the pipe's len bytes into the image at off. */
static int splice_out(struct page_io *io, const struct drain_job *job)
{
	off_t off = job->off;
	size_t len = job->len;

	while (len) {
		ssize_t n = splice(io->pipes[job->pipe][0], NULL, io->fd, &off, len, SPLICE_F_MOVE);

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

/* UFFDIO_COPY of len bytes at buf to the image at off (through its mapping). */
static int uffd_copy(struct page_io *io, const uint8_t *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		struct uffdio_copy c = { .dst = (uint64_t)io->map + off + done,
					 .src = (uint64_t)buf + done, .len = len - done,
					 .mode = UFFDIO_COPY_MODE_DONTWAKE };

		/*
		 * A full tmpfs makes UFFDIO_COPY fail with ENOMEM: the rest goes
		 * in by pwrite, which fills what it can and names the real cause.
		 */
		if (ioctl(io->uffd, UFFDIO_COPY, &c) && errno != EAGAIN && errno != EINTR) {
			int r = pwrite_all(io->fd, buf + done, len - done, off + done);

			return r < 0 ? log_error_errno(r, "cannot copy pages of task %d into "
							  "the image", io->pid) : 0;
		}
		if (c.copy > 0)
			done += c.copy;
	}
	return 0;
}

/* A drainer's work, the mapping's way: the pipe read into buf, then copied in. */
static int uffd_out(struct page_io *io, const struct drain_job *job, uint8_t *buf)
{
	size_t done = 0;

	while (done < job->len) {
		ssize_t n = read(io->pipes[job->pipe][0], buf, MIN((size_t)BOUNCE, job->len - done));
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return log_error_errno(n < 0 ? -errno : -EIO,
					       "cannot read pages of task %d from nestor's pipe",
					       io->pid);
		r = uffd_copy(io, buf, n, job->off + done);
		if (r < 0)
			return r;
		done += n;
	}
	return 0;
}

static void *drainer(void *arg)
{
	struct page_io *io = arg;
	struct drain *dr = &io->dr;
	_cleanup_free_ uint8_t *buf = NULL;

	pthread_mutex_lock(&dr->mu);
	/*
	 * The first drainer splices, the cheapest copy, holding the inode lock;
	 * the others copy through the mapping beside it, never needing the lock.
	 * Without a buffer of its own, a drainer splices too.
	 */
	if (dr->started++ && io->map)
		buf = malloc(BOUNCE);
	for (;;) {
		struct drain_job job;
		bool failed;
		int r = 0;

		while (!dr->nr && !dr->stop)
			pthread_cond_wait(&dr->cv, &dr->mu);
		if (!dr->nr)
			break;
		job = dr->q[dr->head];
		dr->head = (dr->head + 1) % NR_PIPES;
		dr->nr--;
		failed = dr->err < 0;
		pthread_mutex_unlock(&dr->mu);
		/* After an error the rest is only let go: nothing more is written. */
		if (!failed)
			r = buf ? uffd_out(io, &job, buf) : splice_out(io, &job);
		pthread_mutex_lock(&dr->mu);
		if (r < 0 && !dr->err)
			dr->err = r;
		if (r == 0 && !failed && buf)
			dr->mapped += job.len;
		dr->busy[job.pipe] = false;
		pthread_cond_broadcast(&dr->cv);
	}
	pthread_mutex_unlock(&dr->mu);
	return NULL;
}

/* Signals go to the main thread: the drainers block them all. */
static int start_drainers(struct page_io *io)
{
	struct drain *dr = &io->dr;
	sigset_t all, old;
	int r = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; dr->nr_th < NR_DRAINERS; dr->nr_th++)
		if ((r = -pthread_create(&dr->th[dr->nr_th], NULL, drainer, io)) < 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0 && !dr->nr_th)
		return log_error_errno(r, "cannot start a thread for the pages of task %d", io->pid);
	return 0;
}

/* Waits until the drainers emptied every pipe; returns their first error. */
static int wait_drained(struct page_io *io)
{
	struct drain *dr = &io->dr;
	int r;

	pthread_mutex_lock(&dr->mu);
	for (int i = 0; i < io->nr_pipes; i++)
		while (dr->busy[i])
			pthread_cond_wait(&dr->cv, &dr->mu);
	r = dr->err;
	pthread_mutex_unlock(&dr->mu);
	return r;
}

static void stop_drainers(struct page_io *io)
{
	struct drain *dr = &io->dr;

	pthread_mutex_lock(&dr->mu);
	dr->stop = true;
	pthread_cond_broadcast(&dr->cv);
	pthread_mutex_unlock(&dr->mu);
	for (int i = 0; i < dr->nr_th; i++)
		pthread_join(dr->th[i], NULL);
	dr->nr_th = 0;
}

/* The next pipe, once a drainer has emptied it; the drainers' error, if any. */
static int take_pipe(struct page_io *io, int *ret_pipe)
{
	struct drain *dr = &io->dr;
	int k = io->next, r;

	pthread_mutex_lock(&dr->mu);
	while (dr->busy[k] && !dr->err)
		pthread_cond_wait(&dr->cv, &dr->mu);
	r = dr->err;
	pthread_mutex_unlock(&dr->mu);
	if (r < 0)
		return r;
	io->next = (k + 1) % io->nr_pipes;
	*ret_pipe = k;
	return 0;
}

/*
 * NESTOR_FAULT=kill:pages kills nestor once the task has filled two pipes
 * (tests/fault.sh): the task must lose every write end nestor gave it.
 */
static void fault_point(struct page_io *io)
{
	const char *f = getenv("NESTOR_FAULT");

	if (++io->batches == 2 && f && !strcmp(f, "kill:pages"))
		kill(getpid(), SIGKILL);
}

static void queue_pipe(struct page_io *io, int k, size_t len)
{
	struct drain *dr = &io->dr;

	pthread_mutex_lock(&dr->mu);
	dr->busy[k] = true;
	dr->q[(dr->head + dr->nr++) % NR_PIPES] = (struct drain_job){ k, len, io->off };
	pthread_cond_signal(&dr->cv);
	pthread_mutex_unlock(&dr->mu);
	io->off += len;
	fault_point(io);
}

/*
 * The task vmsplices iov (its own addresses, at most a pipe's capacity)
 * into a free pipe, which goes to the drainers. Returns bytes moved or -errno.
 */
static long splice_remote(struct page_io *io, const struct iovec *iov, size_t nr)
{
	uint64_t addr;
	long ret;
	int k, r = take_pipe(io, &k);

	if (r < 0 || (r = remote_scratch(io->rt, nr * sizeof(*iov), &addr)) < 0 ||
	    (r = remote_write(io->pid, addr, iov, nr * sizeof(*iov))) < 0)
		return r;
	/* Non-blocking: a pipe that somehow filled must not hang the task. */
	r = remote_syscall(io->rt, __NR_vmsplice, &ret, io->remote_fd[k], addr, nr,
			   SPLICE_F_NONBLOCK, 0, 0);
	if (r < 0)
		return r;
	if (ret <= 0)
		return log_error_ret(ret < 0 ? ret : -EIO,
				     "task %d cannot vmsplice its pages at %p into nestor's pipe",
				     io->pid, iov[0].iov_base);
	queue_pipe(io, k, ret);
	return ret;
}

/* Moves all of iov (len bytes) through the pipes, whatever each call takes. */
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

/* Hands the pipes' write ends to the task (infect/givefd.c). */
static int give_fds(struct page_io *io)
{
	int fds[NR_PIPES];

	for (int k = 0; k < io->nr_pipes; k++)
		fds[k] = io->pipes[k][1];
	return remote_give_fds(io->rt, fds, io->nr_pipes, io->remote_fd);
}

/* Closes the write ends the task holds. */
static void take_fds(struct page_io *io)
{
	long ret;

	for (int k = 0; k < NR_PIPES; k++) {
		if (io->remote_fd[k] >= 0)
			remote_syscall(io->rt, __NR_close, &ret, io->remote_fd[k], 0, 0, 0, 0, 0);
		io->remote_fd[k] = -1;
	}
}

/* The biggest pipe size fs.pipe-max-size lets us have (no CAP_SYS_RESOURCE here). */
static long pipe_max(void)
{
	long max = read_sysctl_long("/proc/sys/fs/pipe-max-size", 0);

	return MIN(MAX(max, PIPE_MIN), PIPE_WANT);
}

/*
 * Up to NR_PIPES pipes of one size (fewer if they would hold more than len,
 * or if the user's pipe buffers run out: two are enough to overlap).
 */
static int make_pipes(struct page_io *io, size_t len)
{
	long max = pipe_max();

	for (int k = 0; k < NR_PIPES && (k < 2 || (size_t)k * max < len); k++) {
		int *p = io->pipes[k], n;

		if (pipe2(p, O_CLOEXEC))
			return k >= 2 ? 0 : log_error_errno(-errno, "cannot make a pipe for the "
								   "pages of task %d", io->pid);
		io->nr_pipes++;
		if (k)
			max = io->pipe_len;
		while (fcntl(p[0], F_SETPIPE_SZ, (int)max) < 0 && max > PIPE_MIN && !k)
			max /= 2;
		n = fcntl(p[0], F_GETPIPE_SZ);
		if (k >= 2 && (size_t)n != io->pipe_len) {
			close(p[0]);
			close(p[1]);
			p[0] = p[1] = -1;
			io->nr_pipes--;
			return 0;
		}
		if (n < PIPE_MIN || (k && (size_t)n != io->pipe_len))
			return log_error_ret(-ENOBUFS,
					     "pipe for the pages of task %d holds only %d bytes",
					     io->pid, n);
		io->pipe_len = n;
	}
	return 0;
}

static void close_pipes(struct page_io *io)
{
	for (int k = 0; k < io->nr_pipes; k++)
		for (int i = 0; i < 2; i++)
			if (io->pipes[k][i] >= 0)
				close(io->pipes[k][i]);
	io->nr_pipes = 0;
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
		bool remote = io->nr_pipes && run_readable(mm, &vi, mm->runs[i]);
		size_t nr = 0, len = 0;
		size_t max = remote ? io->pipe_len
				    : MIN(LOCAL_BATCH, MAX(mm->nr_pages, 1) * PAGE_SIZE);
		int r;

		while (i < mm->n_runs && nr < REMOTE_IOVS && len < max) {
			const PageRunEntry *run = mm->runs[i];
			size_t rlen = run->nr_pages * PAGE_SIZE - skip, take = MIN(rlen, max - len);

			if (nr && remote != (io->nr_pipes && run_readable(mm, &vi, run)))
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

static void unmap_image(struct page_io *io)
{
	if (io->map)
		munmap(io->map, io->map_len);
	if (io->uffd >= 0)
		close(io->uffd);
	io->map = NULL;
	io->uffd = -1;
}

/*
 * The image, len bytes, mapped shared and registered for UFFDIO_COPY, if
 * its filesystem (tmpfs) and the kernel let us; else the drainers splice.
 * NESTOR_FAULT=splice:pages makes them splice (tests/memcg.sh, both ways).
 */
static void map_image(struct page_io *io, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	const char *f = getenv("NESTOR_FAULT");

	if ((f && !strcmp(f, "splice:pages")) || ftruncate(io->fd, len))
		return;
	io->uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	io->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, io->fd, 0);
	if (io->map == MAP_FAILED)
		io->map = NULL;
	io->map_len = len;
	reg.range.start = (uint64_t)io->map;
	reg.range.len = len;
	if (io->uffd < 0 || !io->map || ioctl(io->uffd, UFFDIO_API, &api) ||
	    ioctl(io->uffd, UFFDIO_REGISTER, &reg)) {
		pr_debug("task %d: the image cannot be filled through a userfaultfd (%m); "
			 "the drainers splice", io->pid);
		unmap_image(io);
	}
}

/* The fast path, if the task can take part in it; else the slow one. */
static void setup_remote(struct page_io *io, const MmEntry *mm)
{
	size_t len = mm->nr_pages * PAGE_SIZE;
	int r;

	if (len < REMOTE_MIN)
		return;
	r = make_pipes(io, len);
	if (r == 0)
		r = give_fds(io);
	if (r == 0) {
		map_image(io, len);
		r = start_drainers(io);
	}
	if (r < 0) {
		pr_debug("task %d cannot vmsplice its pages; nestor reads them", io->pid);
		take_fds(io);
		close_pipes(io);
		unmap_image(io);
		return;
	}
	pr_debug("task %d vmsplices its pages into %d pipes of %zu bytes (fds %d-%d there), "
		 "%d threads drain them (%s)", io->pid, io->nr_pipes, io->pipe_len,
		 io->remote_fd[0], io->remote_fd[io->nr_pipes - 1], io->dr.nr_th,
		 io->map ? "splice and UFFDIO_COPY" : "splice");
}

/* Every pipe drained and closed, the task's write ends too. */
static int finish_remote(struct page_io *io)
{
	int r = 0;

	if (io->dr.nr_th) {
		r = wait_drained(io);
		stop_drainers(io);
	}
	take_fds(io);
	/* Whatever is left in a pipe (a failed batch) goes with it. */
	close_pipes(io);
	unmap_image(io);
	return r;
}

int pages_dump(struct dump_ctx *ctx, struct dump_task *t, const MmEntry *mm)
{
	struct page_io io = { .pid = t->pid, .memfd = -1, .rt = &t->rt, .uffd = -1,
			      .dr = { .mu = PTHREAD_MUTEX_INITIALIZER,
				      .cv = PTHREAD_COND_INITIALIZER } };
	char name[64];
	uint64_t t0;
	int r, rr;

	for (int k = 0; k < NR_PIPES; k++)
		io.pipes[k][0] = io.pipes[k][1] = io.remote_fd[k] = -1;
	snprintf(name, sizeof(name), "pages-%d.img", t->pid);
	/* Read and write: a shared writable mapping needs both (map_image). */
	io.fd = openat(ctx->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (io.fd < 0)
		return log_error_errno(-errno, "cannot create %s", name);
	/* A small task needs a small buffer: a fresh 4 MiB one costs its page faults. */
	io.buf = malloc(MIN(LOCAL_BATCH, MAX(mm->nr_pages, 1) * PAGE_SIZE));
	if (!io.buf) {
		close(io.fd);
		return -ENOMEM;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	setup_remote(&io, mm);
	r = copy_runs(&io, mm);
	rr = finish_remote(&io);
	r = r ? r : rr;
	pr_debug("task %d: %llu KiB of pages written in %.1f ms, %llu KiB through the mapping",
		 t->pid, (unsigned long long)mm->nr_pages * (PAGE_SIZE >> 10),
		 (now_ns(CLOCK_MONOTONIC) - t0) / 1e6, (unsigned long long)io.dr.mapped >> 10);
	/* One syncfs() for all images comes before the tree is killed. */
	free(io.buf);
	close(io.fd);
	if (io.memfd >= 0)
		close(io.memfd);
	return r;
}
