/*
 * inotify instances: each watch with its inode (by file handle, or a path
 * through the task's cwd and fds), mask and watch number. Queued events
 * cannot be put back: nestor does not read them (FIONREAD only, so a dump
 * that is refused or leaves the task running takes nothing from it), and the
 * restored queue starts with IN_Q_OVERFLOW instead, the kernel's own word for
 * "events were lost, rescan".
 */
#define LOG_PREFIX "inotify: "
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "files/anonfd-priv.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif
#define INOTIFY_MASK (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)
#define MAX_QUEUED_PATH "/proc/sys/fs/inotify/max_queued_events"
/* Queues nestor overflows at restore: two syscalls an event, ~1 s a million. */
#define MAX_QUEUED_FILL (1u << 20)


static dev_t kdev(uint32_t sdev)
{
	return makedev(sdev >> 20, sdev & 0xfffff);
}

/* mountinfo escapes blanks and backslashes as \ooo. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = 0;
}

/* A mount of the filesystem dev, as open_by_handle_at() wants (not O_PATH); whole
 * ones first. */
static int open_mount(dev_t dev)
{
	_cleanup_fclose_ FILE *mi = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL, *part = NULL;
	size_t cap = 0;
	int fd;

	if (!mi)
		return -errno;
	while (getline(&line, &cap, mi) > 0) {
		unsigned maj, min;
		char *root = NULL, *mp = NULL;
		bool whole;

		if (sscanf(line, "%*d %*d %u:%u %ms %ms", &maj, &min, &root, &mp) != 4 ||
		    makedev(maj, min) != dev) {
			free(root);
			free(mp);
			continue;
		}
		whole = !strcmp(root, "/");
		free(root);
		unescape(mp);
		if (whole) {
			fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			free(mp);
			return fd < 0 ? -errno : fd;
		}
		if (part)
			free(mp);
		else
			part = mp;
	}
	if (!part)
		return -ENOENT;
	fd = open(part, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int open_handle(const InotifyWatch *w)
{
	_cleanup_close_ int m = open_mount(kdev(w->sdev));
	_cleanup_free_ struct file_handle *h = NULL;
	int fd;

	if (m < 0)
		return m;
	h = malloc(sizeof(*h) + w->handle.len);
	if (!h)
		return -ENOMEM;
	h->handle_bytes = w->handle.len;
	h->handle_type = w->handle_type;
	memcpy(h->f_handle, w->handle.data, w->handle.len);
	fd = open_by_handle_at(m, h, O_PATH | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static bool same_inode(const char *path, const InotifyWatch *w)
{
	struct stat st;

	return !stat(path, &st) && st.st_ino == w->ino && st.st_dev == kdev(w->sdev);
}

/* The path of what link points to, when it names the watched inode. */
static int path_via(const char *link, InotifyWatch *w)
{
	char path[PATH_MAX];
	ssize_t n = readlink(link, path, sizeof(path) - 1);

	if (n <= 0 || n >= (ssize_t)sizeof(path) - 1)
		return -ENOENT;
	path[n] = 0;
	if (path[0] != '/' || !same_inode(path, w))
		return -ENOENT;
	w->path = arena_strdup(path);
	return w->path ? 0 : -ENOMEM;
}

/* Where nestor finds the watched inode: by its handle, else among the task's files. */
static int find_watch_path(const struct anon_dump *d, InotifyWatch *w)
{
	char link[300];
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;

	if (w->has_handle) {
		_cleanup_close_ int fd = open_handle(w);

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if (fd >= 0 && path_via(link, w) == 0)
			return 0;
	}
	snprintf(link, sizeof(link), "/proc/%d/cwd", d->t->pid);
	if (path_via(link, w) == 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/%d/fd", d->t->pid);
	dir = opendir(link);
	while (dir && (de = readdir(dir))) {
		snprintf(link, sizeof(link), "/proc/%d/fd/%s", d->t->pid, de->d_name);
		if (de->d_name[0] != '.' && path_via(link, w) == 0)
			return 0;
	}
	return log_error_ret(
	    -EOPNOTSUPP,
	    "can't dump: task %d fd %d is an inotify watching inode %" PRIu64
	    " on device %u:%u, which nestor finds no path to (deleted, or out of its reach)",
	    d->t->pid, d->fd, w->ino, major(kdev(w->sdev)), minor(kdev(w->sdev)));
}

static int parse_handle(const char *p, const char *end, InotifyWatch *w)
{
	unsigned bytes;
	int type, n = 0;
	uint8_t *h;

	p = strstr(p, "fhandle-bytes:");
	if (!p || p > end)
		return 0; /* the filesystem gave none */
	if (sscanf(p, "fhandle-bytes:%x fhandle-type:%x f_handle:%n", &bytes, &type, &n) != 2 ||
	    !n || bytes == 0 || bytes > MAX_HANDLE_SZ || p + n + 2 * bytes > end)
		return -EINVAL;
	h = arena_alloc(bytes);
	if (!h)
		return -ENOMEM;
	for (unsigned i = 0; i < bytes; i++)
		if (sscanf(p + n + 2 * i, "%2hhx", &h[i]) != 1)
			return -EINVAL;
	w->has_handle = w->has_handle_type = true;
	w->handle_type = type;
	w->handle.data = h;
	w->handle.len = bytes;
	return 0;
}

static int parse_watch(const struct anon_dump *d, const char *p, InotifyWatch *w)
{
	const char *end = strchr(p, '\n') ? strchr(p, '\n') : p + strlen(p);
	unsigned long long ino;
	unsigned wd, ignored;

	if (sscanf(p, "wd:%x ino:%llx sdev:%x mask:%x ignored_mask:%x", &wd, &ino, &w->sdev,
		   &w->mask, &ignored) != 5 ||
	    wd > INT32_MAX || parse_handle(p, end, w) < 0)
		return log_error_ret(-EINVAL, "cannot parse a watch in /proc/%d/fdinfo/%d",
				     d->t->pid, d->fd);
	w->wd = wd;
	w->ino = ino;
	if (ignored || (w->mask & ~INOTIFY_MASK))
		return log_error_ret(-EOPNOTSUPP,
				     "can't dump: task %d fd %d is an inotify with watch %d of "
				     "mask %#x, ignored mask %#x (not supported)",
				     d->t->pid, d->fd, w->wd, w->mask, ignored);
	return find_watch_path(d, w);
}

static int wd_compare(const void *a, const void *b)
{
	return (*(InotifyWatch *const *)a)->wd - (*(InotifyWatch *const *)b)->wd;
}

/* Whether events wait in the queue: FIONREAD counts them without taking any. */
static int inotify_check_queue(const struct anon_dump *d, InotifyState *s)
{
	int queued = 0, r;

	if ((r = anonfd_remote_fd_call(d, __NR_ioctl, "FIONREAD", FIONREAD, &queued, sizeof(queued))) < 0)
		return r;
	if (queued > 0) {
		pr_info("task %d fd %d: %d bytes of events not read yet; the restored queue "
			"will say IN_Q_OVERFLOW", d->t->pid, d->fd, queued);
		s->has_queued = s->queued = true;
	}
	return 0;
}

int dump_inotify(struct anon_dump *d, AnonfdEntry *a)
{
	InotifyState *s = ANEW(InotifyState);
	uint64_t skips = 0;
	size_t n;
	int r;

	if (!s)
		return -ENOMEM;
	inotify_state__init(s);
	a->inotify = s;
	if ((r = inotify_check_queue(d, s)) < 0 ||
	    (r = anonfd_count_watches(d, "inotify ", "an inotify", &n)) < 0)
		return r;
	s->watches = ANEW_ARRAY(InotifyWatch *, n ? n : 1);
	if (!s->watches)
		return -ENOMEM;
	for (const char *p = d->info; (p = anonfd_fdinfo_field(p, "inotify "));) {
		InotifyWatch *w = ANEW(InotifyWatch);

		if (!w)
			return -ENOMEM;
		inotify_watch__init(w);
		if ((r = parse_watch(d, p, w)) < 0)
			return r;
		s->watches[s->n_watches++] = w;
	}
	qsort(s->watches, s->n_watches, sizeof(*s->watches), wd_compare);
	for (size_t i = 0; i < s->n_watches; i++)
		skips += s->watches[i]->wd - (i ? s->watches[i - 1]->wd : 0) - 1;
	if (skips > MAX_WD_SKIPS)
		return log_error_ret(
		    -EOPNOTSUPP,
		    "can't dump: task %d fd %d is an inotify whose watch numbers need %" PRIu64
		    " dummy watches to restore (at most %u supported)",
		    d->t->pid, d->fd, skips, MAX_WD_SKIPS);
	return 0;
}

int validate_inotify(struct restore_ctx *ctx, const FileEntry *f)
{
	const InotifyState *s = f->anon->inotify;
	uint64_t skips = 0;

	if (s->n_watches > MAX_WATCHES)
		return anonfd_bad_entry(f, "too many watches");
	for (size_t i = 0; i < s->n_watches; i++) {
		const InotifyWatch *w = s->watches[i];
		int prev = i ? s->watches[i - 1]->wd : 0;

		if (w->wd <= prev)
			return anonfd_bad_entry(f, "watch numbers not ascending from 1");
		skips += w->wd - prev - 1;
		if (!(w->mask & IN_ALL_EVENTS) || (w->mask & ~INOTIFY_MASK))
			return anonfd_bad_entry(f, "bad watch mask");
		if (w->path[0] != '/' || strlen(w->path) >= PATH_MAX)
			return anonfd_bad_entry(f, "bad watch path");
		if (w->has_handle &&
		    (!w->has_handle_type || w->handle.len == 0 || w->handle.len > MAX_HANDLE_SZ))
			return anonfd_bad_entry(f, "bad file handle");
	}
	return skips > MAX_WD_SKIPS ? anonfd_bad_entry(f, "watch numbers too far apart") : 0;
}

/* An O_PATH fd on the watched inode: by handle (exactly it), else by path. */
static int open_watch_target(const InotifyWatch *w)
{
	struct stat st;
	int fd = w->has_handle ? open_handle(w) : -1;

	if (fd >= 0)
		return fd;
	fd = open(w->path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(-errno, "can't restore: inotify watch %d: cannot find %s",
				       w->wd, w->path);
	if (!fstat(fd, &st) && (st.st_ino != w->ino || st.st_dev != kdev(w->sdev)))
		pr_warn("inotify watch %d: %s is another file than at the dump; watching it", w->wd,
			w->path);
	return fd;
}

static void inotify_drain(int fd)
{
	char buf[4096] __attribute__((aligned(8)));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * Watch numbers come in order (the kernel's allocation is cyclic: a freed
 * number is not given again soon). A gap before wd is skipped by adding and
 * removing a watch on an inode of our own (a memfd), one number each time;
 * each removal queues an IN_IGNORED event, drained.
 */
static int inotify_skip_to(int ifd, int *dummy, int *next, int wd)
{
	char path[64];

	if (*next < wd && *dummy < 0 && (*dummy = memfd_create("nestor-wd", MFD_CLOEXEC)) < 0)
		return log_error_errno(-errno, "cannot make a dummy inotify target");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", *dummy);
	for (unsigned n = 1; *next < wd; n++) {
		int d = inotify_add_watch(ifd, path, IN_ATTRIB);

		if (d < 0 || inotify_rm_watch(ifd, d))
			return log_error_errno(-errno,
					       "cannot add or remove a dummy inotify watch");
		*next = d + 1;
		if (n % 4096 == 0)
			inotify_drain(ifd); /* their IN_IGNORED events, before the queue fills */
	}
	return 0;
}

static int read_max_queued(unsigned *ret)
{
	_cleanup_free_ char *text = NULL;
	unsigned v;
	int r = read_file_at(AT_FDCWD, MAX_QUEUED_PATH, &text, 64);

	if (r < 0)
		return log_error_errno(r, "cannot read " MAX_QUEUED_PATH);
	if (sscanf(text, "%u", &v) != 1 || v == 0)
		return log_error_ret(-EINVAL, "cannot parse " MAX_QUEUED_PATH);
	*ret = v;
	return 0;
}

/* Events on a temporary watch of the dummy memfd until the queue overflows:
 * IN_MODIFY (ftruncate) and IN_ATTRIB (fchmod) by turns, as the kernel merges
 * an event with an equal last one. Both come from the inode: writes to a
 * memfd make no event here. */
static int inotify_fill(int ifd, int dummy, unsigned max)
{
	char path[64];
	int wd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", dummy);
	wd = inotify_add_watch(ifd, path, IN_MODIFY | IN_ATTRIB);
	if (wd < 0)
		return log_error_errno(-errno, "cannot add a temporary inotify watch");
	for (unsigned i = 0; i <= max; i++) {
		bool ok = !(i & 1 ? fchmod(dummy, 0600) : ftruncate(dummy, 0));

		if (!ok) {
			int r = -errno;

			inotify_rm_watch(ifd, wd);
			return log_error_errno(r, "cannot make events on a temporary inotify watch");
		}
	}
	/* Its IN_IGNORED finds the queue full and is dropped. */
	if (inotify_rm_watch(ifd, wd))
		return log_error_errno(-errno, "cannot remove a temporary inotify watch");
	return 0;
}

/* Reads at most n events (one, when the first is larger than n events of no
 * name); never the overflow marker, which must stay. */
static int inotify_take(int ifd, size_t n, size_t *ret_taken)
{
	char buf[16384] __attribute__((aligned(8)));
	size_t len = MIN(n * sizeof(struct inotify_event), sizeof(buf)), taken = 0;
	ssize_t got;

	while ((got = read(ifd, buf, len)) < 0 && errno == EINVAL &&
	       len < sizeof(struct inotify_event) + NAME_MAX + 1)
		len += sizeof(struct inotify_event); /* names are padded to 16 bytes */
	if (got <= 0)
		return log_error_errno(got < 0 ? -errno : -EIO, "cannot read the inotify queue back");
	for (ssize_t off = 0; off < got; taken++) {
		const struct inotify_event *ev = (const void *)(buf + off);

		if (ev->mask & IN_Q_OVERFLOW)
			return log_error_ret(-EIO, "inotify queue overflowed earlier than "
						   "max_queued_events said");
		off += sizeof(*ev) + ev->len;
	}
	*ret_taken = taken;
	return 0;
}

/*
 * Makes the queue say IN_Q_OVERFLOW first: fill it past the instance's limit
 * (max_queued_events when it was made, read before and after), which queues
 * the marker after exactly max events, then read those max back. An event of
 * a real watch that comes meanwhile is read away too, or queued after the
 * marker: the marker tells the program to rescan either way.
 */
static int inotify_overflow(int ifd, int *dummy, unsigned max)
{
	unsigned now;
	int r;

	if (max > MAX_QUEUED_FILL)
		return log_error_ret(-EOPNOTSUPP,
				     "can't restore: an inotify had events queued and " MAX_QUEUED_PATH
				     " is %u here; nestor overflows queues of at most %u events",
				     max, MAX_QUEUED_FILL);
	if (*dummy < 0 && (*dummy = memfd_create("nestor-wd", MFD_CLOEXEC)) < 0)
		return log_error_errno(-errno, "cannot make a dummy inotify target");
	if ((r = inotify_fill(ifd, *dummy, max)) < 0 || (r = read_max_queued(&now)) < 0)
		return r;
	if (now != max)
		return log_error_ret(-EAGAIN, MAX_QUEUED_PATH " changed during the restore");
	for (size_t left = max, taken; left; left -= taken)
		if ((r = inotify_take(ifd, left, &taken)) < 0)
			return r;
	return 0;
}

int open_inotify(const FileEntry *f)
{
	const InotifyState *s = f->anon->inotify;
	_cleanup_close_ int fd = -1, dummy = -1;
	unsigned max = 0;
	int next = 1, r;

	/* The instance's queue limit is the sysctl's value when it is made. */
	if (s->queued && (r = read_max_queued(&max)) < 0)
		return r;
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return log_error_errno(-errno, "cannot create an inotify instance");
	for (size_t i = 0; i < s->n_watches; i++) {
		const InotifyWatch *w = s->watches[i];
		_cleanup_close_ int target = -1;
		char path[64];
		int wd;

		if ((r = inotify_skip_to(fd, &dummy, &next, w->wd)) < 0)
			return r;
		target = open_watch_target(w);
		if (target < 0)
			return target;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", target);
		wd = inotify_add_watch(fd, path, w->mask | IN_MASK_CREATE);
		if (wd < 0)
			return log_error_errno(-errno, "cannot add inotify watch %d on %s", w->wd,
					       w->path);
		if (wd != w->wd)
			return log_error_ret(
			    -EIO, "can't restore: inotify watch %d on %s came back as %d", w->wd,
			    w->path, wd);
		next = wd + 1;
	}
	/* The dummies' IN_IGNORED events (and whatever came meanwhile: time not watched). */
	if (dummy >= 0)
		inotify_drain(fd);
	if (s->queued && (r = inotify_overflow(fd, &dummy, max)) < 0)
		return r;
	return steal_fd(fd);
}
