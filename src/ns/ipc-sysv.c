/*
 * System V objects of one IPC namespace: shared memory segments (their
 * bytes in ipcshm-ID.img), semaphore sets and message queues, each with its
 * key, id, mode and owners. Dump runs inside the namespace (nestor's thread
 * setns()'d there), restore in a process inside the fresh one. Ids come
 * back through kernel.{shm,sem,msg}_next_id, creators through the effective
 * ids of the process that makes them (ipc_as_creator).
 *
 * What the kernel lets nobody set is not restored: times (shm_atime,
 * sem_otime, msg_stime...), the pids of the last operations, and the
 * semaphore undo adjustments of the tasks (README, "Limits").
 */
#define LOG_PREFIX "ipc: "
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "ns/ipc-priv.h"

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#define SHM_MODE_KEPT (0777 | SHM_DEST | SHM_LOCKED)
#define COPY_BUF      (1 << 20)

union semun_k {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static IpcPermEntry *dump_perm(int id, const struct ipc_perm *p, uint32_t mode_mask)
{
	IpcPermEntry *e = ANEW(IpcPermEntry);

	if (!e)
		return NULL;
	ipc_perm_entry__init(e);
	e->id = id;
	e->key = p->__key;
	e->mode = p->mode & mode_mask;
	e->uid = p->uid;
	e->gid = p->gid;
	e->cuid = p->cuid;
	e->cgid = p->cgid;
	return e;
}

/* ---- shared memory ---- */

/*
 * The segment's bytes, runs of data only (a hole reads as zeroes and costs
 * nothing to leave out), through its shmem file: nestor attaches it
 * read-only just long enough to open it by /proc/self/map_files.
 */
static int open_segment(uint32_t ns, int shmid, size_t size)
{
	char path[80];
	struct statfs sf;
	void *p = shmat(shmid, NULL, SHM_RDONLY);
	int fd;

	if (p == (void *)-1)
		return log_error_errno(-errno, "cannot attach segment %d of IPC namespace %u", shmid,
				       ns);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)p + PAGE_ALIGN(size));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = log_error_errno(-errno, "cannot open segment %d of IPC namespace %u", shmid,
				     ns);
	shmdt(p);
	if (fd >= 0 && !fstatfs(fd, &sf) && sf.f_type == HUGETLBFS_MAGIC) {
		close(fd);
		return log_error_ret(-EOPNOTSUPP, "can't dump: IPC namespace %u: segment %d is "
						  "SHM_HUGETLB (not supported)", ns, shmid);
	}
	return fd;
}

static int copy_runs(IpcShmEntry *s, int src, int out, uint64_t *off, char *buf)
{
	off_t pos = 0, end = s->size;

	s->runs = ANEW_ARRAY(IpcRunEntry *, 16);
	for (size_t cap = 16; pos < end;) {
		off_t data = lseek(src, pos, SEEK_DATA), hole;
		IpcRunEntry *run;

		if (data < 0 && errno == ENXIO)
			break;
		hole = data < 0 ? -1 : lseek(src, data, SEEK_HOLE);
		if (data < 0 || hole < 0)
			return log_error_errno(-errno, "cannot find the data of segment %d",
					       s->perm->id);
		hole = MIN(hole, end);
		if (!s->runs || !(run = ANEW(IpcRunEntry)) ||
		    arena_push(&s->runs, &s->n_runs, &cap, run) < 0)
			return -ENOMEM;
		ipc_run_entry__init(run);
		run->off = data;
		run->len = hole - data;
		for (off_t at = data; at < hole;) {
			size_t n = MIN((off_t)COPY_BUF, hole - at);
			int r = pread_all(src, buf, n, at);

			if (r < 0 || (r = write_all(out, buf, n)) < 0)
				return log_error_errno(r, "cannot save segment %d", s->perm->id);
			at += n;
		}
		*off += run->len;
		pos = hole;
	}
	return 0;
}

static int dump_shm_one(uint32_t ns, int shmid, const struct shmid_ds *ds, bool rmid_forced,
			int out, uint64_t *off, char *buf, IpcNsEntry *e)
{
	IpcShmEntry *s = ANEW(IpcShmEntry);
	_cleanup_close_ int fd = -1;
	int r;

	/* nestor's own attach and detach would destroy it (shm_may_destroy). */
	if (rmid_forced && ds->shm_nattch == 0)
		return log_error_ret(-EOPNOTSUPP, "can't dump: IPC namespace %u: segment %d is "
						  "attached nowhere and kernel.shm_rmid_forced is "
						  "set (it would not survive)", ns, shmid);
	if (!s)
		return -ENOMEM;
	ipc_shm_entry__init(s);
	/* Before nestor's attach changes them. */
	s->has_atime = s->has_dtime = s->has_cpid = s->has_lpid = true;
	s->atime = ds->shm_atime;
	s->dtime = ds->shm_dtime;
	s->cpid = ds->shm_cpid;
	s->lpid = ds->shm_lpid;
	s->size = ds->shm_segsz;
	s->nattch = ds->shm_nattch;
	s->data_off = *off;
	if (!(s->perm = dump_perm(shmid, &ds->shm_perm, SHM_MODE_KEPT)))
		return -ENOMEM;
	if ((fd = r = open_segment(ns, shmid, s->size)) < 0 ||
	    (r = copy_runs(s, fd, out, off, buf)) < 0)
		return r;
	e->shms[e->n_shms++] = s;
	return 0;
}

static int dump_shms(int dirfd, uint32_t ns, IpcNsEntry *e, bool rmid_forced)
{
	_cleanup_free_ char *buf = malloc(COPY_BUF);
	_cleanup_close_ int out = -1;
	struct shm_info info;
	char name[64];
	int max;

	snprintf(name, sizeof(name), "ipcshm-%u.img", ns);
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return log_error_errno(-errno, "cannot create %s", name);
	max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);
	if (max < 0)
		return log_error_errno(-errno, "cannot list the segments of IPC namespace %u", ns);
	e->shms = ANEW_ARRAY(IpcShmEntry *, max + 1);
	if (!buf || !e->shms)
		return -ENOMEM;
	for (int idx = 0; idx <= max; idx++) {
		struct shmid_ds ds;
		int id = shmctl(idx, SHM_STAT_ANY, &ds), r;

		if (id < 0 && errno == EINVAL)
			continue; /* a free slot */
		if (id < 0)
			return log_error_errno(-errno, "cannot read segment %d of IPC namespace %u",
					       idx, ns);
		if ((r = dump_shm_one(ns, id, &ds, rmid_forced, out, &e->shm_bytes, buf, e)) < 0)
			return r;
	}
	return 0;
}

int ipc_shm_ids(uint32_t ns, int **ret, size_t *ret_n)
{
	struct shm_info info;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);
	int *ids;

	if (max < 0)
		return log_error_errno(-errno, "cannot list the segments of IPC namespace %u", ns);
	ids = ANEW_ARRAY(int, max + 1);
	if (!ids)
		return -ENOMEM;
	*ret_n = 0;
	for (int idx = 0; idx <= max; idx++) {
		struct shmid_ds ds;
		int id = shmctl(idx, SHM_STAT_ANY, &ds);

		if (id >= 0)
			ids[(*ret_n)++] = id;
	}
	*ret = ids;
	return 0;
}

/* ---- semaphores ---- */

static int dump_sems(uint32_t ns, IpcNsEntry *e)
{
	struct seminfo info;
	int max = semctl(0, 0, SEM_INFO, (union semun_k){ .buf = (void *)&info });

	if (max < 0)
		return log_error_errno(-errno, "cannot list the semaphores of IPC namespace %u", ns);
	e->sems = ANEW_ARRAY(IpcSemEntry *, max + 1);
	if (!e->sems)
		return -ENOMEM;
	for (int idx = 0; idx <= max; idx++) {
		struct semid_ds ds;
		int id = semctl(idx, 0, SEM_STAT_ANY, (union semun_k){ .buf = &ds });
		IpcSemEntry *s;
		unsigned short *v;

		if (id < 0 && errno == EINVAL)
			continue;
		if (id < 0)
			return log_error_errno(-errno, "cannot read semaphore set %d of IPC "
						       "namespace %u", idx, ns);
		s = ANEW(IpcSemEntry);
		v = ANEW_ARRAY(unsigned short, ds.sem_nsems + 1);
		if (!s || !v)
			return -ENOMEM;
		ipc_sem_entry__init(s);
		s->perm = dump_perm(id, &ds.sem_perm, 0777);
		s->values = ANEW_ARRAY(uint32_t, ds.sem_nsems + 1);
		if (!s->perm || !s->values)
			return -ENOMEM;
		if (semctl(id, 0, GETALL, (union semun_k){ .array = v }) < 0)
			return log_error_errno(-errno, "cannot read semaphore set %d of IPC "
						       "namespace %u", id, ns);
		for (size_t k = 0; k < ds.sem_nsems; k++)
			s->values[k] = v[k];
		s->n_values = ds.sem_nsems;
		s->has_otime = true;
		s->otime = ds.sem_otime;
		e->sems[e->n_sems++] = s;
	}
	return 0;
}

/* ---- message queues ---- */

static int dump_msqs_all(uint32_t ns, IpcNsEntry *e, int max);

static int dump_msgs(uint32_t ns, int id, const struct msqid_ds *ds, IpcMsqEntry *q)
{
	size_t size = ds->__msg_cbytes + sizeof(long);
	_cleanup_free_ struct msgbuf *m = malloc(size);

	q->msgs = ANEW_ARRAY(IpcMsgEntry *, ds->msg_qnum + 1);
	if (!m || !q->msgs)
		return -ENOMEM;
	for (size_t i = 0; i < ds->msg_qnum; i++) {
		IpcMsgEntry *me = ANEW(IpcMsgEntry);
		ssize_t n = msgrcv(id, m, size - sizeof(long), i, IPC_NOWAIT | MSG_COPY);

		if (n < 0 && errno == ENOSYS)
			return log_error_ret(-EOPNOTSUPP, "can't dump: IPC namespace %u: message "
							  "queue %d holds messages and this kernel "
							  "cannot copy them (no MSG_COPY)", ns, id);
		if (n < 0)
			return log_error_errno(-errno, "cannot copy message %zu of queue %d of IPC "
						       "namespace %u", i, id, ns);
		if (!me)
			return -ENOMEM;
		ipc_msg_entry__init(me);
		me->mtype = m->mtype;
		me->text.len = n;
		me->text.data = arena_memdup(m->mtext, n + 1);
		if (!me->text.data)
			return -ENOMEM;
		q->msgs[q->n_msgs++] = me;
	}
	return 0;
}

/*
 * MSG_COPY copies at most kernel.msgmax bytes, which may have been lowered
 * below a message queued before: for the moment of the copy the limit of
 * the (frozen) namespace is raised to the longest queue, then set back.
 */
static int raise_msgmax(uint32_t ns, const IpcNsEntry *e, size_t longest, char **ret_saved)
{
	const char *v = ipc_sysctl_saved(e, "kernel/msgmax");
	char buf[32];
	int r;

	*ret_saved = NULL;
	if (!v || strtoull(v, NULL, 10) >= longest)
		return 0;
	snprintf(buf, sizeof(buf), "%zu", MIN(longest, (size_t)0x7fffffff));
	if ((r = ipc_sysctl_write("kernel/msgmax", buf)) < 0)
		return r;
	*ret_saved = (char *)v;
	return 0;
}

static int dump_msqs(uint32_t ns, IpcNsEntry *e)
{
	char *saved = NULL;
	int r = 0, rr;
	size_t longest = 0;
	struct msginfo info;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);

	for (int idx = 0; max >= 0 && idx <= max; idx++) {
		struct msqid_ds ds;

		if (msgctl(idx, MSG_STAT_ANY, &ds) >= 0)
			longest = MAX(longest, ds.__msg_cbytes);
	}
	if (max >= 0 && (r = raise_msgmax(ns, e, longest, &saved)) < 0)
		return r;
	r = dump_msqs_all(ns, e, max);
	rr = saved ? ipc_sysctl_write("kernel/msgmax", saved) : 0;
	return r < 0 ? r : rr;
}

static int dump_msqs_all(uint32_t ns, IpcNsEntry *e, int max)
{
	if (max < 0)
		return log_error_errno(-errno, "cannot list the message queues of IPC namespace %u",
				       ns);
	e->msqs = ANEW_ARRAY(IpcMsqEntry *, max + 1);
	if (!e->msqs)
		return -ENOMEM;
	for (int idx = 0; idx <= max; idx++) {
		struct msqid_ds ds;
		int id = msgctl(idx, MSG_STAT_ANY, &ds), r;
		IpcMsqEntry *q;

		if (id < 0 && errno == EINVAL)
			continue;
		if (id < 0)
			return log_error_errno(-errno, "cannot read message queue %d of IPC "
						       "namespace %u", idx, ns);
		q = ANEW(IpcMsqEntry);
		if (!q)
			return -ENOMEM;
		ipc_msq_entry__init(q);
		q->perm = dump_perm(id, &ds.msg_perm, 0777);
		q->qbytes = ds.msg_qbytes;
		if (!q->perm)
			return -ENOMEM;
		if ((r = dump_msgs(ns, id, &ds, q)) < 0)
			return r;
		e->msqs[e->n_msqs++] = q;
	}
	return 0;
}

int ipc_sysv_dump(int dirfd, uint32_t id, IpcNsEntry *e, bool rmid_forced)
{
	int r;

	if ((r = dump_shms(dirfd, id, e, rmid_forced)) < 0 || (r = dump_sems(id, e)) < 0 ||
	    (r = dump_msqs(id, e)) < 0)
		return r;
	return 0;
}

/* ---- validation ---- */

static bool perm_ok(const IpcPermEntry *p, uint32_t mode_mask)
{
	return p && p->id >= 0 && !(p->mode & ~mode_mask);
}

/* Ids are unique per kind; so are keys, IPC_PRIVATE aside. */
static bool ids_unique(IpcPermEntry *const *perms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++)
			if (perms[i]->id == perms[k]->id ||
			    (perms[i]->key && perms[i]->key == perms[k]->key))
				return false;
	return true;
}

static int validate_shms(uint32_t ns, const IpcNsEntry *e, uint64_t file_size)
{
	_cleanup_free_ IpcPermEntry **perms = calloc(e->n_shms + 1, sizeof(*perms));
	uint64_t off = 0;

	if (!perms)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_shms; i++) {
		const IpcShmEntry *s = e->shms[i];
		uint64_t end = 0;
		bool ok = perm_ok(s->perm, SHM_MODE_KEPT) && s->size && s->size < (1ULL << 46) &&
			  s->data_off == off;

		for (size_t k = 0; ok && k < s->n_runs; k++) {
			const IpcRunEntry *run = s->runs[k];

			ok = run->len && run->off >= end && run->len <= s->size &&
			     run->off <= s->size - run->len;
			end = run->off + run->len;
			off += run->len;
		}
		/* A destroyed segment has no key and someone attaches it. */
		ok = ok && (!(s->perm->mode & SHM_DEST) || (!s->perm->key && s->nattch));
		if (!ok)
			return log_error_ret(-EINVAL, "image ipc-%u.img is corrupted: bad segment %zu",
					     ns, i);
		perms[i] = s->perm;
	}
	if (!ids_unique(perms, e->n_shms))
		return log_error_ret(-EINVAL, "image ipc-%u.img is corrupted: two segments with "
					      "one id or key", ns);
	if (off != e->shm_bytes || off != file_size)
		return log_error_ret(-EINVAL, "image ipcshm-%u.img is truncated or corrupted: %llu "
					      "bytes, %llu expected", ns,
				     (unsigned long long)file_size, (unsigned long long)off);
	return 0;
}

static int validate_sems(uint32_t ns, const IpcNsEntry *e)
{
	_cleanup_free_ IpcPermEntry **perms = calloc(e->n_sems + 1, sizeof(*perms));

	if (!perms)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_sems; i++) {
		const IpcSemEntry *s = e->sems[i];
		bool ok = perm_ok(s->perm, 0777) && s->n_values && s->n_values <= 65535;

		for (size_t k = 0; ok && k < s->n_values; k++)
			ok = s->values[k] <= 32767; /* SEMVMX */
		if (!ok)
			return log_error_ret(-EINVAL, "image ipc-%u.img is corrupted: bad semaphore "
						      "set %zu", ns, i);
		perms[i] = s->perm;
	}
	if (!ids_unique(perms, e->n_sems))
		return log_error_ret(-EINVAL, "image ipc-%u.img is corrupted: two semaphore sets "
					      "with one id or key", ns);
	return 0;
}

static int validate_msqs(uint32_t ns, const IpcNsEntry *e)
{
	_cleanup_free_ IpcPermEntry **perms = calloc(e->n_msqs + 1, sizeof(*perms));

	if (!perms)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_msqs; i++) {
		const IpcMsqEntry *q = e->msqs[i];
		bool ok = perm_ok(q->perm, 0777) && q->qbytes <= 0x7fffffff;

		for (size_t k = 0; ok && k < q->n_msgs; k++)
			ok = q->msgs[k]->mtype > 0 && q->msgs[k]->text.len <= 0x7fffffff;
		if (!ok)
			return log_error_ret(-EINVAL, "image ipc-%u.img is corrupted: bad message "
						      "queue %zu", ns, i);
		perms[i] = q->perm;
	}
	if (!ids_unique(perms, e->n_msqs))
		return log_error_ret(-EINVAL, "image ipc-%u.img is corrupted: two message queues "
					      "with one id or key", ns);
	return 0;
}

int ipc_sysv_validate(uint32_t id, const IpcNsEntry *e, int shm_fd)
{
	struct stat st;
	int r;

	if (fstat(shm_fd, &st))
		return log_error_errno(-errno, "cannot read ipcshm-%u.img", id);
	if ((r = validate_shms(id, e, st.st_size)) < 0 || (r = validate_sems(id, e)) < 0 ||
	    (r = validate_msqs(id, e)) < 0)
		return r;
	return 0;
}

/* ---- restore ---- */

static int next_id(const char *kind, int id)
{
	char name[32], val[16];

	snprintf(name, sizeof(name), "kernel/%s_next_id", kind);
	snprintf(val, sizeof(val), "%d", id);
	return ipc_sysctl_write(name, val);
}

static int check_id(const char *what, const IpcPermEntry *p, int got)
{
	if (got < 0)
		return log_error_errno(-errno, "cannot make %s %d (key %#x)", what, p->id,
				       (unsigned)p->key);
	if (got != p->id)
		return log_error_ret(-EEXIST, "cannot make %s %d: it got id %d", what, p->id, got);
	return 0;
}

struct make_arg {
	const IpcPermEntry *perm;
	size_t size;
	int nsems;
	int id;
};

static int make_shm(void *arg)
{
	struct make_arg *a = arg;

	a->id = shmget(a->perm->key, a->size, IPC_CREAT | IPC_EXCL | (a->perm->mode & 0777));
	return a->id < 0 ? -errno : 0;
}

static int fill_shm(const IpcShmEntry *s, int fd)
{
	void *p = shmat(s->perm->id, NULL, 0);
	uint64_t off = s->data_off;
	int r = 0;

	if (p == (void *)-1)
		return log_error_errno(-errno, "cannot attach segment %d", s->perm->id);
	for (size_t k = 0; k < s->n_runs && r == 0; k++) {
		r = pread_all(fd, (char *)p + s->runs[k]->off, s->runs[k]->len, off);
		off += s->runs[k]->len;
	}
	shmdt(p);
	if (r < 0)
		return log_error_errno(r == -ENODATA ? -EINVAL : r, "cannot fill segment %d",
				       s->perm->id);
	return 0;
}

static int set_perm(int id, const IpcPermEntry *p, struct ipc_perm *ip)
{
	ip->uid = p->uid;
	ip->gid = p->gid;
	ip->mode = p->mode & 0777;
	return 0;
}

static int restore_shm(const IpcShmEntry *s, int fd)
{
	struct make_arg a = { .perm = s->perm, .size = s->size };
	struct shmid_ds ds = { 0 };
	int r;

	if ((r = next_id("shm", s->perm->id)) < 0)
		return r;
	r = ipc_as_creator(s->perm, make_shm, &a);
	if ((r = check_id("segment", s->perm, r < 0 ? (errno = -r, -1) : a.id)) < 0 ||
	    (r = fill_shm(s, fd)) < 0)
		return r;
	set_perm(a.id, s->perm, &ds.shm_perm);
	if (shmctl(a.id, IPC_SET, &ds))
		return log_error_errno(-errno, "cannot set the owner of segment %d", a.id);
	if (s->perm->mode & SHM_LOCKED && shmctl(a.id, SHM_LOCK, NULL))
		return log_error_errno(-errno, "cannot lock segment %d", a.id);
	return 0;
}

static int make_sem(void *arg)
{
	struct make_arg *a = arg;

	a->id = semget(a->perm->key, a->nsems, IPC_CREAT | IPC_EXCL | (a->perm->mode & 0777));
	return a->id < 0 ? -errno : 0;
}

static int restore_sem(const IpcSemEntry *s)
{
	struct make_arg a = { .perm = s->perm, .nsems = s->n_values };
	_cleanup_free_ unsigned short *v = calloc(s->n_values, sizeof(*v));
	struct semid_ds ds = { 0 };
	int r;

	if (!v)
		return -ENOMEM;
	for (size_t k = 0; k < s->n_values; k++)
		v[k] = s->values[k];
	if ((r = next_id("sem", s->perm->id)) < 0)
		return r;
	r = ipc_as_creator(s->perm, make_sem, &a);
	if ((r = check_id("semaphore set", s->perm, r < 0 ? (errno = -r, -1) : a.id)) < 0)
		return r;
	if (semctl(a.id, 0, SETALL, (union semun_k){ .array = v }))
		return log_error_errno(-errno, "cannot set the values of semaphore set %d", a.id);
	set_perm(a.id, s->perm, &ds.sem_perm);
	if (semctl(a.id, 0, IPC_SET, (union semun_k){ .buf = &ds }))
		return log_error_errno(-errno, "cannot set the owner of semaphore set %d", a.id);
	return 0;
}

static int make_msq(void *arg)
{
	struct make_arg *a = arg;

	a->id = msgget(a->perm->key, IPC_CREAT | IPC_EXCL | (a->perm->mode & 0777));
	return a->id < 0 ? -errno : 0;
}

static int send_msgs(const IpcMsqEntry *q, int id)
{
	size_t max = 0;
	struct msgbuf *m;

	for (size_t k = 0; k < q->n_msgs; k++)
		max = MAX(max, q->msgs[k]->text.len);
	m = malloc(sizeof(long) + max + 1);
	if (!m)
		return -ENOMEM;
	for (size_t k = 0; k < q->n_msgs; k++) {
		m->mtype = q->msgs[k]->mtype;
		memcpy(m->mtext, q->msgs[k]->text.data, q->msgs[k]->text.len);
		if (msgsnd(id, m, q->msgs[k]->text.len, IPC_NOWAIT)) {
			int r = log_error_errno(-errno, "cannot queue message %zu of queue %d", k, id);

			free(m);
			return r;
		}
	}
	free(m);
	return 0;
}

static int restore_msq(const IpcMsqEntry *q)
{
	struct make_arg a = { .perm = q->perm };
	struct msqid_ds ds = { 0 };
	uint64_t bytes = 0;
	int r;

	for (size_t k = 0; k < q->n_msgs; k++)
		bytes += q->msgs[k]->text.len;
	if ((r = next_id("msg", q->perm->id)) < 0)
		return r;
	r = ipc_as_creator(q->perm, make_msq, &a);
	if ((r = check_id("message queue", q->perm, r < 0 ? (errno = -r, -1) : a.id)) < 0)
		return r;
	/* Room for what it held, even if its limit was lowered below that since. */
	set_perm(a.id, q->perm, &ds.msg_perm);
	ds.msg_qbytes = MAX(q->qbytes, MAX(bytes, q->n_msgs));
	if (msgctl(a.id, IPC_SET, &ds) || (r = send_msgs(q, a.id)) < 0)
		return r < 0 ? r : log_error_errno(-errno, "cannot set queue %d", a.id);
	ds.msg_qbytes = q->qbytes;
	if (msgctl(a.id, IPC_SET, &ds))
		return log_error_errno(-errno, "cannot set the owner of queue %d", a.id);
	return 0;
}

int ipc_sysv_restore(struct ipc_rst_ns *n)
{
	const IpcNsEntry *e = n->e;
	int r;

	for (size_t i = 0; i < e->n_shms; i++)
		if ((r = restore_shm(e->shms[i], n->shm_fd)) < 0)
			return r;
	for (size_t i = 0; i < e->n_sems; i++)
		if ((r = restore_sem(e->sems[i])) < 0)
			return r;
	for (size_t i = 0; i < e->n_msqs; i++)
		if ((r = restore_msq(e->msqs[i])) < 0)
			return r;
	return 0;
}

int ipc_shm_restore_late(struct ipc_rst_ns *n)
{
	for (size_t i = 0; i < n->e->n_shms; i++) {
		const IpcShmEntry *s = n->e->shms[i];

		if (s->perm->mode & SHM_DEST && shmctl(s->perm->id, IPC_RMID, NULL))
			return log_error_errno(-errno, "cannot destroy segment %d again",
					       s->perm->id);
	}
	return 0;
}
