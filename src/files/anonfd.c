/*
 * Descriptors of anonymous inodes: eventfd, signalfd, timerfd, epoll and
 * inotify. Dump: their state comes from /proc/PID/fdinfo/FD, and where that
 * falls short from syscalls run in the task (timerfd_gettime, FIONREAD) and
 * kcmp. Restore: nestor makes each description once, like every other; the
 * epoll watches are then added by the task itself, once its fds are in
 * place, since the kernel keys them by the task's fd numbers. Other
 * anonymous inodes (io_uring, userfaultfd, bpf, perf_event, pidfd...) are
 * refused.
 */
#define LOG_PREFIX "anonfd: "
#include <linux/kcmp.h> /* before sys.h, which defines KCMP_FILE */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <time.h>
#include "files/fd-ops.h"
#include "files/anonfd-priv.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

#define NSEC	    1000000000ULL
#define FDINFO_MAX  (16u << 20)
#define EVENTFD_MAX  0xfffffffffffffffeULL
#define TIMER_MAX_NS ((uint64_t)INT64_MAX)
#define EPOLL_EXCL_OK                                                                              \
	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
/* The file flags restored (fcntl F_SETFL); the access mode is the kind's own. */
#define SETFL_FLAGS  (O_NONBLOCK | O_APPEND | O_NOATIME)

struct anon_ops {
	const char *link; /* after "anon_inode:" */
	const char *kind;
	int accmode; /* the only one the kernel gives this kind */
	int (*dump)(struct anon_dump *d, AnonfdEntry *a);
	int (*validate)(struct restore_ctx *ctx, const FileEntry *f); /* or none to check */
	int (*open)(const FileEntry *f);
};

static const struct anon_ops *kind_by_name(const char *name);

int anonfd_bad_entry(const FileEntry *f, const char *what)
{
	const struct anon_ops *ops = f->anon ? kind_by_name(f->anon->kind) : NULL;

	return log_error_ret(-EINVAL, "image files.img is corrupted: %s %u: %s",
			     ops ? ops->kind : "anonymous file", f->id, what);
}

/* ---- what the task tells ---- */

/*
 * Runs nr(fd, buf) in the task, or nr(fd, arg, buf) for a nonzero arg (an
 * ioctl), buf being len bytes of scratch memory, and copies buf out.
 */
int anonfd_remote_fd_call(const struct anon_dump *d, long nr, const char *name, long arg, void *buf,
			  size_t len)
{
	uint64_t addr;
	long ret;
	int r;

	if ((r = remote_scratch(&d->t->rt, len, &addr)) < 0 ||
	    (r = remote_syscall(&d->t->rt, nr, &ret, d->fd, arg ? arg : (long)addr,
				arg ? (long)addr : 0, 0, 0, 0)) < 0)
		return r;
	if (ret < 0)
		return log_error_errno((int)ret, "%s in task %d fd %d", name, d->t->pid, d->fd);
	if ((r = remote_read(d->t->pid, addr, buf, len)) < 0)
		return log_error_errno(r, "cannot read task %d's memory", d->t->pid);
	return 0;
}

static int fdinfo_read(pid_t pid, int fd, char **ret)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	r = read_file_at(AT_FDCWD, path, ret, FDINFO_MAX);
	return r < 0 ? log_error_errno(r, "cannot read %s", path) : 0;
}

/* How many lines start with key, within the limit on watches. */
int anonfd_count_watches(const struct anon_dump *d, const char *key, const char *kind,
			 size_t *ret_n)
{
	size_t n = 0;

	for (const char *p = d->info; (p = anonfd_fdinfo_field(p, key)); n++)
		;
	if (n > MAX_WATCHES)
		return log_error_ret(
		    -EOPNOTSUPP,
		    "can't dump: task %d fd %d is %s with %zu watches (at most %d supported)",
		    d->t->pid, d->fd, kind, n, MAX_WATCHES);
	*ret_n = n;
	return 0;
}

/* The text after key, where key starts a line; NULL without one. */
const char *anonfd_fdinfo_field(const char *info, const char *key)
{
	size_t n = strlen(key);
	const char *p = info;

	while (p) {
		if (!strncmp(p, key, n))
			return p + n;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return NULL;
}

__attribute__((format(scanf, 5, 6))) static int scan_field(const struct anon_dump *d,
							   const char *info, const char *key, int n,
							   const char *fmt, ...)
{
	const char *v = anonfd_fdinfo_field(info, key);
	va_list ap;
	int r;

	if (!v)
		return log_error_ret(-EINVAL, "no \"%s\" in /proc/%d/fdinfo/%d", key, d->t->pid,
				     d->fd);
	va_start(ap, fmt);
	r = vsscanf(v, fmt, ap);
	va_end(ap);
	if (r != n)
		return log_error_ret(-EINVAL, "cannot parse \"%s\" in /proc/%d/fdinfo/%d", key,
				     d->t->pid, d->fd);
	return 0;
}

/* ---- eventfd, signalfd ---- */

static int dump_eventfd(struct anon_dump *d, AnonfdEntry *a)
{
	EventfdState *s = ANEW(EventfdState);
	int sem, r;

	if (!s)
		return -ENOMEM;
	eventfd_state__init(s);
	if ((r = scan_field(d, d->info, "eventfd-count:", 1, "%" SCNx64, &s->count)) < 0 ||
	    (r = scan_field(d, d->info, "eventfd-semaphore:", 1, "%d", &sem)) < 0)
		return r;
	s->semaphore = sem;
	a->eventfd = s;
	return 0;
}

static int validate_eventfd(struct restore_ctx *ctx, const FileEntry *f)
{
	return f->anon->eventfd->count > EVENTFD_MAX ? anonfd_bad_entry(f, "counter out of range") : 0;
}

static int open_eventfd(const FileEntry *f)
{
	const EventfdState *s = f->anon->eventfd;
	_cleanup_close_ int fd = -1;

	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | (s->semaphore ? EFD_SEMAPHORE : 0));
	if (fd < 0)
		return log_error_errno(-errno, "cannot create an eventfd");
	/* A write, as the counter may exceed the unsigned int eventfd() takes. */
	if (s->count && write(fd, &s->count, sizeof(s->count)) != sizeof(s->count))
		return log_error_errno(-errno, "cannot set an eventfd's counter to %" PRIu64,
				       s->count);
	return steal_fd(fd);
}

static int dump_signalfd(struct anon_dump *d, AnonfdEntry *a)
{
	SignalfdState *s = ANEW(SignalfdState);

	if (!s)
		return -ENOMEM;
	signalfd_state__init(s);
	a->signalfd = s;
	return scan_field(d, d->info, "sigmask:", 1, "%" SCNx64, &s->sigmask);
}

static int open_signalfd(const FileEntry *f)
{
	uint64_t mask = f->anon->signalfd->sigmask;
	sigset_t set;
	int fd;

	/* Copied in whole: sigaddset() refuses the signals glibc keeps for itself. */
	sigemptyset(&set);
	memcpy(&set, &mask, sizeof(mask));
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? log_error_errno(-errno, "cannot create a signalfd") : fd;
}

/* ---- timerfd ---- */

static int parse_timespec(const struct anon_dump *d, const char *info, const char *key,
			  uint64_t *ret_ns)
{
	unsigned long long s, ns;
	int r = scan_field(d, info, key, 2, " (%llu, %llu)", &s, &ns);

	if (r < 0)
		return r;
	if (ns >= NSEC || s > TIMER_MAX_NS / NSEC - 1)
		return log_error_ret(-EINVAL, "bad \"%s\" in /proc/%d/fdinfo/%d", key, d->t->pid,
				     d->fd);
	*ret_ns = s * NSEC + ns;
	return 0;
}

static int dump_timerfd(struct anon_dump *d, AnonfdEntry *a)
{
	TimerfdState *s = ANEW(TimerfdState);
	_cleanup_free_ char *info = NULL;
	struct itimerspec its;
	uint64_t now = 0;
	int r;

	if (!s)
		return -ENOMEM;
	timerfd_state__init(s);
	a->timerfd = s;
	if ((r = scan_field(d, d->info, "clockid:", 1, "%d", &s->clockid)) < 0)
		return r;
	/*
	 * timerfd_gettime() first: an expired periodic timer is only moved on
	 * (its missed periods added to its ticks) when asked, as the task's
	 * next read would, and fdinfo does not ask. Expiring again before the
	 * read shows no time left: once more.
	 */
	for (int tries = 0; tries < 5; tries++) {
		free(info);
		info = NULL;
		if ((r = anonfd_remote_fd_call(d, __NR_timerfd_gettime, "timerfd_gettime", 0, &its,
					sizeof(its))) < 0 ||
		    (r = fdinfo_read(d->t->pid, d->fd, &info)) < 0)
			return r;
		now = now_ns(s->clockid);
		if ((r = scan_field(d, info, "ticks:", 1, "%" SCNu64, &s->ticks)) < 0 ||
		    (r = scan_field(d, info, "settime flags:", 1, "%o", &s->settime_flags)) < 0 ||
		    (r = parse_timespec(d, info, "it_value:", &s->value_ns)) < 0 ||
		    (r = parse_timespec(d, info, "it_interval:", &s->interval_ns)) < 0)
			return r;
		if (s->value_ns || !s->interval_ns)
			break;
	}
	if (!s->value_ns && s->interval_ns)
		s->value_ns = s->interval_ns; /* it keeps expiring under us: one period */
	if ((s->settime_flags & TFD_TIMER_ABSTIME) && s->value_ns) {
		s->has_expires_ns = true;
		s->expires_ns = now + s->value_ns;
	}
	return 0;
}

static int validate_timerfd(struct restore_ctx *ctx, const FileEntry *f)
{
	const TimerfdState *s = f->anon->timerfd;
	bool abs = s->settime_flags & TFD_TIMER_ABSTIME;

	switch (s->clockid) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
		break;
	default:
		return anonfd_bad_entry(f, "unknown clock");
	}
	if (s->settime_flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return anonfd_bad_entry(f, "unknown settime flags");
	if (s->value_ns > TIMER_MAX_NS || s->interval_ns > TIMER_MAX_NS ||
	    (s->has_expires_ns && (s->expires_ns == 0 || s->expires_ns > TIMER_MAX_NS)))
		return anonfd_bad_entry(f, "time out of range");
	if (s->has_expires_ns != (abs && s->value_ns))
		return anonfd_bad_entry(f, "expiry present without an armed absolute timer, or missing");
	return 0;
}

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){.tv_sec = ns / NSEC, .tv_nsec = ns % NSEC};
}

/*
 * A relative timer gets its time left again (the checkpoint stopped its
 * clock, as it stopped the task); an absolute one keeps its expiry, and one
 * that passed meanwhile fires at once, counting the periods it missed.
 */
static int open_timerfd(const FileEntry *f)
{
	const TimerfdState *s = f->anon->timerfd;
	struct itimerspec its = {.it_interval = ts_of(s->interval_ns)};
	_cleanup_close_ int fd = -1;

	its.it_value = ts_of(s->has_expires_ns ? s->expires_ns : s->value_ns);
	fd = timerfd_create(s->clockid, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return log_error_errno(-errno, "cannot create a timerfd on clock %d", s->clockid);
	if (timerfd_settime(fd, s->settime_flags, &its, NULL))
		return log_error_errno(-errno, "cannot arm a timerfd");
	/* After settime(), which zeroes them. */
	if (s->ticks && ioctl(fd, TFD_IOC_SET_TICKS, &s->ticks))
		return log_error_errno(-errno,
				       "can't restore: cannot give a timerfd back its %" PRIu64
				       " unread expirations (TFD_IOC_SET_TICKS, a kernel built "
				       "with CONFIG_CHECKPOINT_RESTORE)",
				       s->ticks);
	return steal_fd(fd);
}

/* ---- epoll ---- */

/*
 * Each watch is keyed by a file and the fd number it was added with; kcmp
 * tells whether that fd of the task still holds that file. Watches on fds
 * closed since, or added by another process sharing the instance, have no
 * fd this task could add them with.
 */
static int check_epoll_target(const struct anon_dump *d, uint32_t tfd, uint32_t toff)
{
	struct kcmp_epoll_slot slot = {.efd = d->fd, .tfd = tfd, .toff = toff};
	pid_t pid = d->t->pid;

	if (sys_kcmp(pid, pid, KCMP_EPOLL_TFD, tfd, (unsigned long)&slot) == 0)
		return 0;
	return log_error_ret(
	    -EOPNOTSUPP,
	    "can't dump: task %d fd %d is an epoll watching fd %u, which is not that file in task "
	    "%d now (watches on fds closed since or of another task are not supported)",
	    pid, d->fd, tfd, pid);
}

/* Sorts watch indexes by fd, then by their order in fdinfo (the kernel's). */
static int by_tfd(const void *a, const void *b, void *arg)
{
	EpollWatch *const *w = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;

	if (w[i]->tfd != w[j]->tfd)
		return w[i]->tfd < w[j]->tfd ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Watch indexes by fd: a repeated fd (its toff-th watch) shows up next to its first. */
static uint32_t *sort_by_tfd(EpollWatch *const *w, size_t n)
{
	uint32_t *idx = malloc((n ? n : 1) * sizeof(*idx));

	for (size_t i = 0; idx && i < n; i++)
		idx[i] = i;
	if (idx)
		qsort_r(idx, n, sizeof(*idx), by_tfd, (void *)w);
	return idx;
}

static int parse_epoll_watches(struct anon_dump *d, EpollState *s)
{
	size_t n;
	int r;

	if ((r = anonfd_count_watches(d, "tfd:", "an epoll", &n)) < 0)
		return r;
	s->watches = ANEW_ARRAY(EpollWatch *, n ? n : 1);
	if (!s->watches)
		return -ENOMEM;
	for (const char *p = d->info; (p = anonfd_fdinfo_field(p, "tfd:"));) {
		EpollWatch *w = ANEW(EpollWatch);
		unsigned long long data;

		if (!w)
			return -ENOMEM;
		epoll_watch__init(w);
		if (sscanf(p, "%u events: %x data: %llx", &w->tfd, &w->events, &data) != 3)
			return log_error_ret(-EINVAL, "cannot parse a watch in /proc/%d/fdinfo/%d",
					     d->t->pid, d->fd);
		w->data = data;
		s->watches[s->n_watches++] = w;
	}
	return 0;
}

/* The bits the kernel keeps in a one-shot watch after it fired. */
#define EPOLL_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLL_ALL_EVENTS                                                                           \
	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND |    \
	 EPOLLMSG | EPOLLRDHUP)

static bool epoll_disarmed(const EpollWatch *w)
{
	return (w->events & EPOLLONESHOT) && !(w->events & ~EPOLL_PRIVATE_BITS);
}

/* A fired one-shot watch is made again by firing it once: its file must report an event. */
static int check_disarmed(const struct anon_dump *d, const EpollWatch *w)
{
	struct pollfd p = { .events = EPOLL_ALL_EVENTS };
	int r;

	if (!epoll_disarmed(w))
		return 0;
	p.fd = sys_dup_task_fd(d->t->pid, w->tfd);
	if (p.fd < 0)
		return log_error_errno(p.fd, "cannot get fd %u of task %d", w->tfd, d->t->pid);
	r = poll(&p, 1, 0);
	close(p.fd);
	if (r == 1)
		return 0;
	return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d is an epoll whose fired "
					  "one-shot watch of fd %u cannot be made again: that file "
					  "reports no event now (not supported)", d->t->pid, d->fd, w->tfd);
}

static int dump_epoll(struct anon_dump *d, AnonfdEntry *a)
{
	EpollState *s = ANEW(EpollState);
	_cleanup_free_ uint32_t *idx = NULL;
	uint32_t toff = 0;
	int r;

	if (!s)
		return -ENOMEM;
	epoll_state__init(s);
	a->epoll = s;
	s->owner = d->t->pid;
	if ((r = parse_epoll_watches(d, s)) < 0)
		return r;
	idx = sort_by_tfd(s->watches, s->n_watches);
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_watches; i++) {
		uint32_t tfd = s->watches[idx[i]]->tfd;

		toff = i && s->watches[idx[i - 1]]->tfd == tfd ? toff + 1 : 0;
		if ((r = check_epoll_target(d, tfd, toff)) < 0 ||
		    (r = check_disarmed(d, s->watches[idx[i]])) < 0)
			return r;
	}
	return 0;
}

/* The owner's fd (its table is sorted by fd; an unsorted one is refused anyway). */
static const FdEntry *task_fd(const struct restore_task *t, uint32_t fd)
{
	size_t lo = 0, hi = t->fdinfo->n_fds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const FdEntry *e = t->fdinfo->fds[mid];

		if (e->fd == fd)
			return e;
		if (e->fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct restore_task *epoll_owner(struct restore_ctx *ctx, const FileEntry *f)
{
	for (size_t k = 0; k < ctx->nr_tasks; k++) {
		const struct restore_task *t = &ctx->tasks[k];

		if (t->pid != (pid_t)f->anon->epoll->owner || t->zombie || !t->fdinfo)
			continue;
		for (size_t i = 0; i < t->fdinfo->n_fds; i++)
			if (t->fdinfo->fds[i]->file_id == f->id)
				return t;
	}
	return NULL;
}

static int validate_epoll(struct restore_ctx *ctx, const FileEntry *f)
{
	const EpollState *s = f->anon->epoll;
	const struct restore_task *t = epoll_owner(ctx, f);
	_cleanup_free_ uint32_t *idx = NULL;

	if (!t)
		return anonfd_bad_entry(f, "its owner is no task holding it");
	if (s->n_watches > MAX_WATCHES)
		return anonfd_bad_entry(f, "too many watches");
	for (size_t i = 0; i < s->n_watches; i++) {
		const EpollWatch *w = s->watches[i];
		const FdEntry *e = task_fd(t, w->tfd);

		if (!e || e->file_id == f->id)
			return anonfd_bad_entry(f,
					 "a watch on an fd its owner does not have, or on itself");
		if ((w->events & EPOLLEXCLUSIVE) && (w->events & ~EPOLL_EXCL_OK))
			return anonfd_bad_entry(f, "EPOLLEXCLUSIVE with events it does not allow");
	}
	idx = sort_by_tfd(s->watches, s->n_watches);
	if (!idx)
		return -ENOMEM;
	for (size_t i = 1; i < s->n_watches; i++)
		if (s->watches[idx[i]]->tfd == s->watches[idx[i - 1]]->tfd)
			return anonfd_bad_entry(f, "two watches on one fd");
	return 0;
}

static int open_epoll(const FileEntry *f)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	return fd < 0 ? log_error_errno(-errno, "cannot create an epoll instance") : fd;
}

/*
 * A one-shot watch that fired is kept with no events at all, a state that
 * epoll_ctl() cannot set (it always adds EPOLLERR|EPOLLHUP): the watch is
 * added armed for every event and fired once, on an instance where nothing
 * else is armed yet. A file that reports no event at all cannot fire it.
 */
static int add_disarmed(struct restore_task *t, int epfd, const EpollWatch *w)
{
	struct epoll_event ev = {.events = w->events | EPOLL_ALL_EVENTS, .data.u64 = w->data};
	struct epoll_event got;

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->tfd, &ev))
		return log_error_errno(-errno, "cannot watch fd %u in epoll fd %d of task %d",
				       w->tfd, epfd, t->pid);
	if (epoll_wait(epfd, &got, 1, 0) != 1 || got.data.u64 != w->data)
		return log_error_ret(-EINVAL,
				     "can't restore: task %d epoll fd %d: the fired one-shot watch "
				     "of fd %u cannot be made again (the file reports no event)",
				     t->pid, epfd, w->tfd);
	return 0;
}

static int add_epoll_watches(struct restore_task *t, int epfd, const EpollState *s)
{
	int r;

	for (size_t i = 0; i < s->n_watches; i++)
		if (epoll_disarmed(s->watches[i]) && (r = add_disarmed(t, epfd, s->watches[i])) < 0)
			return r;
	for (size_t i = 0; i < s->n_watches; i++) {
		const EpollWatch *w = s->watches[i];
		struct epoll_event ev = {.events = w->events, .data.u64 = w->data};

		if (epoll_disarmed(w))
			continue;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->tfd, &ev))
			return log_error_errno(-errno,
					       "cannot watch fd %u in epoll fd %d of task %d",
					       w->tfd, epfd, t->pid);
	}
	return 0;
}

/* ---- the kinds ---- */

static const struct anon_ops kinds[] = {
    {"[eventfd]", "eventfd", O_RDWR, dump_eventfd, validate_eventfd, open_eventfd},
    {"[signalfd]", "signalfd", O_RDWR, dump_signalfd, NULL, open_signalfd},
    {"[timerfd]", "timerfd", O_RDWR, dump_timerfd, validate_timerfd, open_timerfd},
    {"[eventpoll]", "epoll", O_RDWR, dump_epoll, validate_epoll, open_epoll},
    {"inotify", "inotify", O_RDONLY, dump_inotify, validate_inotify, open_inotify},
};

static const struct anon_ops *kind_by_link(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kinds[i].link, name))
			return &kinds[i];
	return NULL;
}

static const struct anon_ops *kind_by_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kinds[i].kind, name))
			return &kinds[i];
	return NULL;
}

static bool claims(const struct stat *st, const char *path)
{
	return !strncmp(path, "anon_inode:", 11);
}

static int dump_fd(const struct fd_dump *fd_d, FileEntry *f)
{
	struct dump_task *t = fd_d->t;
	int fd = fd_d->fd;
	const char *name = f->path + 11;
	const struct anon_ops *ops = kind_by_link(name);
	_cleanup_free_ char *info = NULL;
	struct anon_dump d = {fd_d->ctx, t, fd, NULL};
	AnonfdEntry *a;
	int r;

	if (!ops) {
		size_t n = strlen(name);
		bool br = n > 2 && name[0] == '[' && name[n - 1] == ']';

		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is %.*s (not supported yet)",
				     t->pid, fd, (int)(br ? n - 2 : n), name + br);
	}
	if ((f->flags & ~(O_ACCMODE | SETFL_FLAGS)) || (int)(f->flags & O_ACCMODE) != ops->accmode)
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d (%s) has file flags %#o (O_ASYNC, "
				     "signal-driven I/O, is not supported)",
				     t->pid, fd, ops->kind, f->flags);
	f->type = FILE_TYPE__ANON;
	a = ANEW(AnonfdEntry);
	if (!a)
		return -ENOMEM;
	anonfd_entry__init(a);
	a->kind = (char *)ops->kind;
	if ((r = fdinfo_read(t->pid, fd, &info)) < 0)
		return r;
	d.info = info;
	if ((r = ops->dump(&d, a)) < 0)
		return r;
	f->anon = a;
	pr_debug("task %d fd %d: %s", t->pid, fd, ops->kind);
	return 0;
}

static int validate(struct restore_ctx *ctx, const FileEntry *f)
{
	const AnonfdEntry *a = f->anon;
	const struct anon_ops *ops = a ? kind_by_name(a->kind) : NULL;
	/* In the order of kinds[]. */
	const void *subs[] = {a ? a->eventfd : NULL, a ? a->signalfd : NULL, a ? a->timerfd : NULL,
			      a ? a->epoll : NULL, a ? a->inotify : NULL};

	if (!ops)
		return anonfd_bad_entry(f, "no kind, or an unknown one");
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!!subs[i] != (&kinds[i] == ops))
			return anonfd_bad_entry(f, "its state is missing or of another kind");
	if ((f->flags & ~(O_ACCMODE | SETFL_FLAGS)) || (int)(f->flags & O_ACCMODE) != ops->accmode)
		return anonfd_bad_entry(f, "bad file flags");
	return ops->validate ? ops->validate(ctx, f) : 0;
}

static int open_fd(struct restore_ctx *ctx, const FileEntry *f, int flags)
{
	const struct anon_ops *ops = kind_by_name(f->anon->kind);
	_cleanup_close_ int fd = ops->open(f);

	if (fd < 0)
		return fd;
	/* Made non-blocking (the inotify is drained), then given the saved flags. */
	if ((f->flags & SETFL_FLAGS) != O_NONBLOCK &&
	    fcntl(fd, F_SETFL, f->flags & SETFL_FLAGS) < 0)
		return log_error_errno(-errno, "cannot set the flags of a %s", ops->kind);
	return steal_fd(fd);
}

static bool first_fd_of(const FdinfoEntry *fi, size_t idx)
{
	for (size_t i = 0; i < idx; i++)
		if (fi->fds[i]->file_id == fi->fds[idx]->file_id)
			return false;
	return true;
}

/* Epoll watches use the task's own fd numbers; a shared table gets them from its owner. */
static int restore_task(struct restore_ctx *ctx, struct restore_task *t)
{
	const FdinfoEntry *fi = t->fdinfo;

	if (t->pe->clone_files)
		return 0;
	for (size_t i = 0; i < fi->n_fds; i++) {
		const FileEntry *f = restore_file(ctx, fi->fds[i]->file_id);
		int r;

		if (f->type != FILE_TYPE__ANON || !f->anon->epoll ||
		    f->anon->epoll->owner != (uint32_t)t->pid || !first_fd_of(fi, i))
			continue;
		if ((r = add_epoll_watches(t, fi->fds[i]->fd, f->anon->epoll)) < 0)
			return r;
	}
	return 0;
}

const struct fd_ops anonfd_fd_ops = {
	.name = "anonymous inode",
	.types = FD_TYPE(FILE_TYPE__ANON),
	.claims = claims,
	.dump = dump_fd,
	.validate = validate,
	.open = open_fd,
	.restore_task = restore_task,
};
