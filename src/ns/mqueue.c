/*
 * POSIX message queues of one IPC namespace. nestor reaches them through
 * a detached mqueue mount made while it sits in the namespace (fsopen and
 * fsmount: no mount namespace is touched), and keeps a descriptor of each
 * queue from the dump to its commit.
 *
 * A queue's messages can only be read by taking them: they are taken in
 * the commit (after the last point of refusal), put back at once in the
 * order they came out, which is the queue's order (priority, then
 * arrival), and then written to ipcmq-ID.img; an abort puts back whatever
 * is still out.
 * A queue with an mq_notify registration would fire it when refilled: it is
 * refused by name.
 */
#define LOG_PREFIX "mqueue: "
#include <dirent.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "ns/ipc-priv.h"

#define HARD_MSGMAX     65536
#define HARD_MSGSIZEMAX (16 << 20)
#define MQ_PRIO_LIMIT   32768

/* A detached mount of the current IPC namespace's queues. */
static int open_queues(uint32_t ns)
{
	_cleanup_close_ int fs = sys_fsopen("mqueue", FSOPEN_CLOEXEC);
	int mnt;

	if (fs < 0 || sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return log_error_errno(-errno, "cannot reach the POSIX queues of IPC namespace %u",
				       ns);
	mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		return log_error_errno(-errno, "cannot mount the POSIX queues of IPC namespace %u",
				       ns);
	return mnt;
}

/* "QSIZE:0 NOTIFY:0 SIGNO:0 NOTIFY_PID:0": who is registered for a notification. */
static int notify_pid(int fd)
{
	char buf[160], *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = 0;
	p = strstr(buf, "NOTIFY_PID:");
	return p ? atoi(p + 11) : -EINVAL;
}

static int dump_queue(uint32_t ns, int mnt, const char *name, IpcMqEntry **ret, int *ret_fd)
{
	_cleanup_close_ int fd = openat(mnt, name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	IpcMqEntry *q = ANEW(IpcMqEntry);
	struct mq_attr attr;
	struct stat st;
	int pid;

	if (fd < 0 || mq_getattr(fd, &attr) || fstat(fd, &st))
		return log_error_errno(-errno, "cannot open POSIX queue /%s of IPC namespace %u",
				       name, ns);
	pid = notify_pid(fd);
	if (pid < 0)
		return log_error_errno(pid, "cannot read POSIX queue /%s of IPC namespace %u", name,
				       ns);
	if (pid)
		return log_error_ret(-EOPNOTSUPP, "can't dump: IPC namespace %u: POSIX message "
						  "queue /%s has an mq_notify registration (of pid "
						  "%d; not supported)", ns, name, pid);
	if (!q)
		return -ENOMEM;
	ipc_mq_entry__init(q);
	q->name = arena_strdup(name);
	if (!q->name)
		return -ENOMEM;
	q->mode = st.st_mode & 07777;
	q->uid = st.st_uid;
	q->gid = st.st_gid;
	q->maxmsg = attr.mq_maxmsg;
	q->msgsize = attr.mq_msgsize;
	q->curmsgs = attr.mq_curmsgs;
	*ret = q;
	*ret_fd = steal_fd(fd);
	return 0;
}

int mq_dev(uint32_t ns, dev_t *ret)
{
	_cleanup_close_ int mnt = open_queues(ns);
	struct stat st;

	if (mnt < 0)
		return mnt;
	if (fstat(mnt, &st))
		return log_error_errno(-errno, "cannot read the POSIX queues of IPC namespace %u", ns);
	*ret = st.st_dev;
	return 0;
}

int mq_dump(struct ipc_dump_ns *d)
{
	_cleanup_close_ int mnt = open_queues(d->id);
	_cleanup_closedir_ DIR *dir = NULL;
	size_t cap = 0, nr = 0;
	struct dirent *de;
	int dfd, r;

	if (mnt < 0)
		return mnt;
	dfd = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(dir = fdopendir(dfd))) {
		r = log_error_errno(-errno, "cannot list the POSIX queues of IPC namespace %u",
				    d->id);
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	while ((de = readdir(dir))) {
		IpcMqEntry *q = NULL;
		int fd = -1;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (nr == cap) {
			int *n = ANEW_ARRAY(int, cap ? cap * 2 : 16);

			if (!n)
				return -ENOMEM;
			if (nr)
				memcpy(n, d->mq_fds, nr * sizeof(*n));
			d->mq_fds = n;
		}
		if ((r = dump_queue(d->id, mnt, de->d_name, &q, &fd)) < 0)
			return r;
		if ((r = arena_push(&d->e->mqs, &nr, &cap, q)) < 0) {
			close(fd);
			return r;
		}
		d->e->n_mqs = nr;
		d->mq_fds[nr - 1] = fd;
	}
	return 0;
}

/* Takes every message of queue i, in the order the queue gives them. */
static int take_queue(struct ipc_dump_ns *d, uint32_t i)
{
	const IpcMqEntry *q = d->e->mqs[i];
	_cleanup_free_ char *buf = malloc(q->msgsize + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		IpcMqMsgEntry *m;
		unsigned prio;
		ssize_t n = mq_receive(d->mq_fds[i], buf, q->msgsize, &prio);

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return log_error_errno(-errno, "cannot take the messages of POSIX queue /%s",
					       q->name);
		m = ANEW(IpcMqMsgEntry);
		if (!m)
			return -ENOMEM;
		ipc_mq_msg_entry__init(m);
		m->queue = i;
		m->prio = prio;
		m->text.data = arena_memdup(buf, n + 1);
		m->text.len = n;
		/* Out of the queue now: counted in before anything can fail, so it goes back. */
		if (!m->text.data || arena_push(&d->taken, &d->nr_taken, &d->cap_taken, m) < 0)
			return log_error_errno(-ENOMEM, "a message of POSIX queue /%s is lost",
					       q->name);
	}
}

/* Back in the order they came out: the same order in each queue. */
static int put_back(struct ipc_dump_ns *d)
{
	int r = 0;

	for (; d->nr_back < d->nr_taken; d->nr_back++) {
		const IpcMqMsgEntry *m = d->taken[d->nr_back];

		if (mq_send(d->mq_fds[m->queue], (const char *)m->text.data, m->text.len, m->prio) &&
		    r == 0)
			r = log_error_errno(-errno, "cannot put a message back into POSIX queue /%s",
					    d->e->mqs[m->queue]->name);
	}
	return r;
}

int mq_dump_commit(int dirfd, struct ipc_dump_ns *d)
{
	struct img img = { .fd = -1 };
	int r, rr;

	/*
	 * Each queue is given back the moment it is read, before anything is
	 * written: were nestor killed, a queue would lose only what was out in
	 * that moment.
	 */
	r = img_create(dirfd, IMG_IPC_MQ, d->id, &img);
	for (uint32_t i = 0; i < d->e->n_mqs && r == 0; i++) {
		r = take_queue(d, i);
		rr = put_back(d);
		r = r < 0 ? r : rr;
	}
	rr = put_back(d);
	for (size_t i = 0; i < d->nr_taken && r == 0; i++)
		r = img_write(&img, d->taken[i]);
	img_close(&img);
	if (d->nr_taken)
		pr_debug("IPC namespace %u: %zu POSIX queue messages saved and put back", d->id,
			 d->nr_taken);
	return r < 0 ? r : rr;
}

void mq_dump_abort(struct ipc_dump_ns *d)
{
	put_back(d);
}

/* ---- restore ---- */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n < 256 && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static int validate_queues(uint32_t ns, const IpcNsEntry *e)
{
	for (size_t i = 0; i < e->n_mqs; i++) {
		const IpcMqEntry *q = e->mqs[i];
		bool ok = name_ok(q->name) && !(q->mode & ~07777u) && q->maxmsg > 0 &&
			  q->maxmsg <= HARD_MSGMAX && q->msgsize > 0 && q->msgsize <= HARD_MSGSIZEMAX;

		for (size_t k = 0; ok && k < i; k++)
			ok = strcmp(q->name, e->mqs[k]->name) != 0;
		if (!ok)
			return log_error_ret(-EINVAL, "image ipc-%u.img is corrupted: bad POSIX queue "
						      "%zu", ns, i);
	}
	return 0;
}

int mq_validate(struct ipc_rst_ns *n, int dirfd)
{
	_cleanup_free_ uint32_t *count = calloc(n->e->n_mqs + 1, sizeof(*count));
	struct img img;
	void *m;
	int r;

	if (!count)
		return -ENOMEM;
	if ((r = validate_queues(n->id, n->e)) < 0 || (r = img_open(dirfd, IMG_IPC_MQ, n->id, &img)) < 0)
		return r;
	while ((r = img_read(&img, &m)) > 0) {
		IpcMqMsgEntry *me = m, **a = array_add(&n->msgs, n->nr_msgs, sizeof(*a));

		if (!a) {
			img_free(IMG_IPC_MQ, m);
			r = -ENOMEM;
			break;
		}
		*a = me;
		n->nr_msgs++;
		if (me->queue >= n->e->n_mqs || me->prio >= MQ_PRIO_LIMIT ||
		    me->text.len > (uint64_t)n->e->mqs[me->queue]->msgsize ||
		    ++count[me->queue] > n->e->mqs[me->queue]->maxmsg ||
		    (n->nr_msgs > 1 && me->queue < n->msgs[n->nr_msgs - 2]->queue)) {
			r = log_error_ret(-EINVAL, "image %s is corrupted: bad message %zu", img.name,
					  n->nr_msgs - 1);
			break;
		}
	}
	img_close(&img);
	for (size_t i = 0; r == 0 && i < n->e->n_mqs; i++)
		if (count[i] != n->e->mqs[i]->curmsgs)
			r = log_error_ret(-EINVAL, "image %s is corrupted: POSIX queue %zu holds %u "
						   "messages, %lld said", img.name, i, count[i],
					  (long long)n->e->mqs[i]->curmsgs);
	return r;
}

static int restore_queue(const IpcMqEntry *q, IpcMqMsgEntry *const *msgs, size_t nr)
{
	struct mq_attr attr = { .mq_maxmsg = q->maxmsg, .mq_msgsize = q->msgsize };
	char name[260];
	_cleanup_close_ int fd = -1;

	snprintf(name, sizeof(name), "/%s", q->name);
	fd = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK | O_CLOEXEC, q->mode & 0777,
		     &attr);
	if (fd < 0)
		return log_error_errno(-errno, "cannot make POSIX queue %s (%lld messages of %lld "
					       "bytes)", name, (long long)q->maxmsg,
				       (long long)q->msgsize);
	if (fchown(fd, q->uid, q->gid) || fchmod(fd, q->mode))
		return log_error_errno(-errno, "cannot set the owner of POSIX queue %s", name);
	for (size_t k = 0; k < nr; k++)
		if (mq_send(fd, (const char *)msgs[k]->text.data, msgs[k]->text.len, msgs[k]->prio))
			return log_error_errno(-errno, "cannot queue message %zu of POSIX queue %s",
					       k, name);
	return 0;
}

int mq_restore(struct ipc_rst_ns *n)
{
	size_t at = 0;
	int r;

	for (uint32_t i = 0; i < n->e->n_mqs; i++) {
		size_t from = at;

		while (at < n->nr_msgs && n->msgs[at]->queue == i)
			at++;
		if ((r = restore_queue(n->e->mqs[i], n->msgs + from, at - from)) < 0)
			return r;
	}
	return 0;
}
