/*
 * IPC namespaces: the kind's hooks, its image (ipc-ID.img) and the
 * namespace's sysctls. The objects themselves are in ipc-sysv.c (System V)
 * and mqueue.c (POSIX queues).
 *
 * nestor lacks CAP_SYS_RESOURCE, and the IPC limits are per namespace: the
 * restore raises them in the fresh namespace as far as the objects need,
 * makes the objects, and only then writes the saved values back (an object
 * over a limit stays, as it did in the dumped namespace).
 */
#define LOG_PREFIX "ipc: "
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "ns/ipc-priv.h"
#include "ns/ipc.h"
#include "ns/ns.h"
#include "ns/userns.h"

/* The per-namespace sysctls, by their path under /proc/sys. */
static const char *const sysctl_names[] = {
	"kernel/shmmax",	 "kernel/shmall",	"kernel/shmmni",
	"kernel/shm_rmid_forced", "kernel/msgmax",	"kernel/msgmnb",
	"kernel/msgmni",	 "kernel/sem",		"kernel/auto_msgmni",
	"fs/mqueue/queues_max",	 "fs/mqueue/msg_max",	"fs/mqueue/msgsize_max",
	"fs/mqueue/msg_default", "fs/mqueue/msgsize_default",
	/* Written last: a task may have asked for the next object's id. */
	"kernel/shm_next_id",	 "kernel/msg_next_id",	"kernel/sem_next_id",
};

/* Set by restore_late only: with it, a segment nobody attaches dies with its creator. */
#define RMID_FORCED "kernel/shm_rmid_forced"

/* Dump-side state of each namespace, from dump to commit (the dump is one per process). */
static struct ipc_dump_ns **dumped;
static size_t nr_dumped, cap_dumped;

static struct ipc_dump_ns *dump_ns_of(uint32_t id)
{
	for (size_t i = 0; i < nr_dumped; i++)
		if (dumped[i]->id == id)
			return dumped[i];
	return NULL;
}

/* ---- sysctls ---- */

static int sysctl_read(const char *name, char **ret)
{
	char path[96], *s;
	int r;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	r = read_file_at(AT_FDCWD, path, &s, 256);
	if (r < 0)
		return r;
	/* "32000\t1024000000\t500\t32000\n" -> "32000 1024000000 500 32000" */
	for (char *p = s; *p; p++)
		if (*p == '\t')
			*p = ' ';
	s[strcspn(s, "\n")] = 0;
	*ret = s;
	return 0;
}

int ipc_sysctl_write(const char *name, const char *value)
{
	char path[96];
	int r;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	r = write_file_at(AT_FDCWD, path, value);
	if (r == -EACCES) {
		/* A namespace an inner user namespace owns lets only that one's root
		 * (by effective uid) write its sysctls, and nestor's root is not it:
		 * the maker (inside the owner, short-lived) becomes it for good (its
		 * old uid has no name there); the change clears its death signal. */
		struct stat st;

		if (stat(path, &st))
			return log_error_errno(-errno, "cannot stat %s", path);
		if (setresgid(-1, st.st_gid, -1) || setresuid(-1, st.st_uid, -1) ||
		    prctl(PR_SET_PDEATHSIG, SIGKILL))
			return log_error_errno(-errno, "cannot become the owner of %s", path);
		r = write_file_at(AT_FDCWD, path, value);
	}
	if (r < 0)
		return log_error_errno(r, "cannot set %s to %s in the IPC namespace", name, value);
	return 0;
}

static int dump_sysctls(IpcNsEntry *e)
{
	e->sysctls = ANEW_ARRAY(IpcSysctlEntry *, ARRAY_SIZE(sysctl_names));
	if (!e->sysctls)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(sysctl_names); i++) {
		IpcSysctlEntry *s = ANEW(IpcSysctlEntry);
		char *v = NULL;
		int r;

		if (!s)
			return -ENOMEM;
		r = sysctl_read(sysctl_names[i], &v);
		if (r == -ENOENT)
			continue; /* not on this kernel (auto_msgmni is gone from new ones) */
		if (r < 0)
			return log_error_errno(r, "cannot read /proc/sys/%s", sysctl_names[i]);
		ipc_sysctl_entry__init(s);
		s->name = arena_strdup(sysctl_names[i]);
		s->value = arena_strdup(v);
		free(v);
		if (!s->name || !s->value)
			return -ENOMEM;
		e->sysctls[e->n_sysctls++] = s;
	}
	return 0;
}

const char *ipc_sysctl_saved(const IpcNsEntry *e, const char *name)
{
	for (size_t i = 0; i < e->n_sysctls; i++)
		if (!strcmp(e->sysctls[i]->name, name))
			return e->sysctls[i]->value;
	return NULL;
}

/* 1 to 4 decimal integers, one space apart. */
static bool sysctl_value_ok(const char *v)
{
	int n = 0;

	if (strlen(v) > 80)
		return false;
	while (*v) {
		const char *s = v;

		if (*v == '-')
			v++;
		if (*v < '0' || *v > '9')
			return false;
		while (*v >= '0' && *v <= '9')
			v++;
		if (v - s > 20 || ++n > 4 || (*v && *v != ' ') || (*v == ' ' && !v[1]))
			return false;
		if (*v)
			v++;
	}
	return n > 0;
}

static int validate_sysctls(uint32_t id, const IpcNsEntry *e)
{
	for (size_t i = 0; i < e->n_sysctls; i++) {
		const IpcSysctlEntry *s = e->sysctls[i];
		bool known = false;

		for (size_t k = 0; k < ARRAY_SIZE(sysctl_names); k++)
			known |= !strcmp(s->name, sysctl_names[k]);
		for (size_t k = 0; k < i; k++)
			known &= strcmp(s->name, e->sysctls[k]->name) != 0;
		if (!known || !sysctl_value_ok(s->value))
			return log_error_ret(-EINVAL, "image ipc-%u.img is corrupted: bad sysctl %zu",
					     id, i);
	}
	return 0;
}

/* What the objects need of a limit: the larger of the saved value and need. */
static int raise_one(const IpcNsEntry *e, const char *name, unsigned long long need)
{
	const char *v = ipc_sysctl_saved(e, name);
	unsigned long long saved = v ? strtoull(v, NULL, 10) : 0;
	char buf[32];

	if (!v && !need)
		return 0;
	snprintf(buf, sizeof(buf), "%llu", MAX(saved, need));
	return ipc_sysctl_write(name, buf);
}

static int raise_sem(const IpcNsEntry *e)
{
	const char *v = ipc_sysctl_saved(e, "kernel/sem");
	unsigned long long lim[4] = { 0 }, msl = 0, mns = 0;
	char buf[96];

	if (v && sscanf(v, "%llu %llu %llu %llu", &lim[0], &lim[1], &lim[2], &lim[3]) != 4)
		return log_error_ret(-EINVAL, "kernel.sem of the images reads '%s'", v);
	for (size_t i = 0; i < e->n_sems; i++) {
		msl = MAX(msl, e->sems[i]->n_values);
		mns += e->sems[i]->n_values;
	}
	if (!v && !e->n_sems)
		return 0;
	if (!v)
		lim[2] = 500; /* semopm: any, it limits no object */
	snprintf(buf, sizeof(buf), "%llu %llu %llu %llu", MAX(lim[0], msl), MAX(lim[1], mns),
		 lim[2], MAX(lim[3], (unsigned long long)e->n_sems));
	return ipc_sysctl_write("kernel/sem", buf);
}

/* Limits as far as the objects of the images need them, before they are made. */
static int raise_limits(const IpcNsEntry *e)
{
	unsigned long long shm_max = 0, shm_pages = 0, msg_max = 0, mnb = 0, mq_max = 0,
			   mq_size = 0;
	int r;

	for (size_t i = 0; i < e->n_shms; i++) {
		shm_max = MAX(shm_max, e->shms[i]->size);
		shm_pages += PAGE_ALIGN(e->shms[i]->size) / PAGE_SIZE;
	}
	for (size_t i = 0; i < e->n_msqs; i++) {
		unsigned long long bytes = 0;

		for (size_t k = 0; k < e->msqs[i]->n_msgs; k++) {
			msg_max = MAX(msg_max, e->msqs[i]->msgs[k]->text.len);
			bytes += e->msqs[i]->msgs[k]->text.len;
		}
		/* A queue holds as many messages as bytes at most: empty ones count too. */
		bytes = MAX(bytes, e->msqs[i]->n_msgs);
		mnb = MAX(mnb, MAX(bytes, e->msqs[i]->qbytes));
	}
	for (size_t i = 0; i < e->n_mqs; i++) {
		mq_max = MAX(mq_max, (unsigned long long)e->mqs[i]->maxmsg);
		mq_size = MAX(mq_size, (unsigned long long)e->mqs[i]->msgsize);
	}
	if ((r = raise_one(e, "kernel/shmmax", shm_max)) < 0 ||
	    (r = raise_one(e, "kernel/shmall", shm_pages)) < 0 ||
	    (r = raise_one(e, "kernel/shmmni", e->n_shms)) < 0 ||
	    (r = raise_one(e, "kernel/msgmax", msg_max)) < 0 ||
	    (r = raise_one(e, "kernel/msgmnb", mnb)) < 0 ||
	    (r = raise_one(e, "kernel/msgmni", e->n_msqs)) < 0 || (r = raise_sem(e)) < 0 ||
	    (r = raise_one(e, "fs/mqueue/queues_max", e->n_mqs)) < 0 ||
	    (r = raise_one(e, "fs/mqueue/msg_max", mq_max)) < 0 ||
	    (r = raise_one(e, "fs/mqueue/msgsize_max", mq_size)) < 0)
		return r;
	/* The objects ask for their own ids: none is left over from the images. */
	return 0;
}

/* The saved values, once the objects exist; shm_rmid_forced waits for restore_late. */
static int set_saved_sysctls(const IpcNsEntry *e)
{
	for (size_t i = 0; i < e->n_sysctls; i++) {
		const IpcSysctlEntry *s = e->sysctls[i];
		int r;

		if (!strcmp(s->name, RMID_FORCED))
			continue;
		if (!strcmp(s->name, "kernel/auto_msgmni") &&
		    access("/proc/sys/kernel/auto_msgmni", F_OK))
			continue; /* gone from new kernels, and it did nothing on old ones */
		/* -1 is what a fresh namespace says already; writing it is refused. */
		if (strstr(s->name, "_next_id") && !strcmp(s->value, "-1"))
			continue;
		if ((r = ipc_sysctl_write(s->name, s->value)) < 0)
			return r;
	}
	return 0;
}

/* ---- creators ---- */

int ipc_as_creator(const IpcPermEntry *p, int (*fn)(void *arg), void *arg)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	int r, rr = 0;

	if (p->cgid != egid && setegid(p->cgid))
		return log_error_errno(-errno, "cannot take gid %u to make object %d", p->cgid,
				       p->id);
	if (p->cuid != euid && seteuid(p->cuid)) {
		r = log_error_errno(-errno, "cannot take uid %u to make object %d", p->cuid, p->id);
		setegid(egid);
		return r;
	}
	r = fn(arg);
	if (geteuid() != euid && seteuid(euid))
		rr = log_error_errno(-errno, "cannot take back uid %u", euid);
	if (getegid() != egid && setegid(egid))
		rr = log_error_errno(-errno, "cannot take back gid %u", egid);
	return r < 0 ? r : rr;
}

/* ---- the hooks ---- */

/* Before the tasks: the segments they may attach, the device of the queues they may hold. */
static int ipc_ns_collect(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	struct ipc_dump_ns *d = ANEW(struct ipc_dump_ns);
	int r;

	if (!d)
		return -ENOMEM;
	*d = (struct ipc_dump_ns){ .id = id };
	if ((r = ipc_shm_ids(id, &d->shm_ids, &d->nr_shm_ids)) < 0 || (r = mq_dev(id, &d->mq_dev)) < 0)
		return r;
	return arena_push(&dumped, &nr_dumped, &cap_dumped, d);
}

/* Each task of the namespace attaches only segments of it (and not one made since). */
static int check_attachments(struct dump_ctx *ctx, uint32_t id, const IpcNsEntry *e)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const struct dump_task *t = &ctx->tasks[i];

		if (t->zombie || !t->mm || t->ns[0].id[NS_IPC] != id)
			continue;
		for (size_t k = 0; k < t->mm->n_vmas; k++) {
			const VmaEntry *v = t->mm->vmas[k];
			bool found = false;

			for (size_t s = 0; v->kind == VMA_SYSV && s < e->n_shms; s++)
				found |= (uint64_t)(uint32_t)e->shms[s]->perm->id == v->shmid &&
					 v->pgoff + (v->end - v->start) <= PAGE_ALIGN(e->shms[s]->size);
			if (v->kind == VMA_SYSV && !found)
				return log_error_ret(-EOPNOTSUPP, "can't dump: task %d mapping %llx-%llx "
								  "is System V segment %llu, which its "
								  "IPC namespace %u does not hold as "
								  "mapped", t->pid,
						     (unsigned long long)v->start,
						     (unsigned long long)v->end,
						     (unsigned long long)v->shmid, id);
		}
	}
	return 0;
}

/* The task whose memory t has (itself, or the topmost of its CLONE_VM chain). */
static const struct dump_task *mm_owner(const struct dump_ctx *ctx, const struct dump_task *t)
{
	while (t->clone_vm && t->parent >= 0)
		t = &ctx->tasks[t->parent];
	return t;
}

/*
 * An area names its segment by id only: where the threads (or the tasks)
 * that share one memory are in different IPC namespaces, which namespace's
 * segment it is cannot be told, and one of the same id elsewhere would be
 * attached in silence. Refused when that memory has System V areas.
 */
static int check_mixed(const struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const struct dump_task *t = &ctx->tasks[i], *o = mm_owner(ctx, t);
		bool sysv = false;

		if (t->zombie || !o->mm)
			continue;
		for (size_t k = 0; k < o->mm->n_vmas && !sysv; k++)
			sysv = o->mm->vmas[k]->kind == VMA_SYSV;
		for (size_t k = 0; sysv && k <= t->nr_threads; k++)
			if (t->ns[k].id[NS_IPC] != o->ns[0].id[NS_IPC])
				return log_error_ret(-EOPNOTSUPP, "can't dump: task %d attaches System V "
								  "shared memory and %s %d, which "
								  "shares its memory, is in another IPC "
								  "namespace (not supported)", o->pid,
						     k ? "thread" : "task",
						     k ? t->threads[k - 1].pid : t->pid);
	}
	return 0;
}

static int ipc_ns_dump(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	struct ipc_dump_ns *d = dump_ns_of(id);
	IpcNsEntry *e = ANEW(IpcNsEntry);
	const char *rmid;
	int r;

	if (!d || !e)
		return d ? -ENOMEM : log_error_ret(-EIO, "IPC namespace %u was not collected", id);
	d->e = e;
	ipc_ns_entry__init(e);
	if ((r = dump_sysctls(e)) < 0)
		return r;
	rmid = ipc_sysctl_saved(e, RMID_FORCED);
	if ((r = ipc_sysv_dump(ctx->dirfd, id, e, rmid && strcmp(rmid, "0"))) < 0 ||
	    (r = check_attachments(ctx, id, e)) < 0 || (r = check_mixed(ctx)) < 0 ||
	    (r = mq_dump(d)) < 0)
		return r;
	pr_debug("namespace %u: %zu segments, %zu semaphore sets, %zu message queues, %zu POSIX "
		 "queues", id, e->n_shms, e->n_sems, e->n_msqs, e->n_mqs);
	return img_write_one(ctx->dirfd, IMG_IPC, id, e);
}

static int ipc_ns_dump_commit(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	struct ipc_dump_ns *d = dump_ns_of(id);

	return d && d->e ? mq_dump_commit(ctx->dirfd, d) : 0;
}

static void ipc_ns_dump_abort(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	struct ipc_dump_ns *d = dump_ns_of(id);

	if (d && d->e)
		mq_dump_abort(d);
}

bool ipc_dump_has_shm(uint32_t ns, uint64_t shmid)
{
	struct ipc_dump_ns *d = ns ? dump_ns_of(ns) : NULL;

	for (size_t i = 0; d && i < d->nr_shm_ids; i++)
		if ((uint64_t)(uint32_t)d->shm_ids[i] == shmid)
			return true;
	return false;
}

uint32_t ipc_dump_ns_of_mq_dev(dev_t dev)
{
	for (size_t i = 0; i < nr_dumped; i++)
		if (dumped[i]->mq_dev == dev)
			return dumped[i]->id;
	return 0;
}

bool ipc_restore_has_mq(struct restore_ctx *ctx, uint32_t id, const char *name)
{
	const NsEntry *ne = ns_entry(ctx, id);
	struct ipc_rst_ns *n = ne && !ne->host && !strcmp(ne->kind, "ipc") ? *ns_priv(ctx, id) : NULL;

	for (size_t i = 0; n && n->id == id && i < n->e->n_mqs; i++)
		if (!strcmp(n->e->mqs[i]->name, name))
			return true;
	return false;
}

static void free_rst_ns(struct ipc_rst_ns *n)
{
	if (!n)
		return;
	img_free(IMG_IPC, n->e);
	for (size_t i = 0; i < n->nr_msgs; i++)
		img_free(IMG_IPC_MQ, n->msgs[i]);
	free(n->msgs);
	if (n->shm_fd >= 0)
		close(n->shm_fd);
	free(n);
}

static int ipc_ns_validate(struct restore_ctx *ctx, uint32_t id)
{
	struct ipc_rst_ns *n = xzalloc(sizeof(*n));
	char name[64];
	int r;

	if (!n)
		return -ENOMEM;
	n->id = id;
	n->shm_fd = -1;
	snprintf(name, sizeof(name), "ipcshm-%u.img", id);
	if ((r = img_read_one(ctx->dirfd, IMG_IPC, id, (void **)&n->e)) < 0 ||
	    (r = validate_sysctls(id, n->e)) < 0 ||
	    (n->shm_fd = r = img_open_file(ctx->dirfd, name)) < 0 ||
	    (r = ipc_sysv_validate(id, n->e, n->shm_fd)) < 0 ||
	    (r = mq_validate(n, ctx->dirfd)) < 0) {
		free_rst_ns(n);
		return r;
	}
	/* Opened again where it is read: nestor's low fds are the tree's. */
	close(n->shm_fd);
	n->shm_fd = -1;
	*ns_priv(ctx, id) = n;
	return 0;
}

static void ipc_ns_free(struct restore_ctx *ctx, uint32_t id)
{
	void **p = ns_priv(ctx, id);

	free_rst_ns(*p);
	*p = NULL;
}

static int id_inside(struct restore_ctx *ctx, uint32_t owner, bool gid, uint32_t *v)
{
	uint32_t out = *v;

	if (userns_to_inside(ctx, owner, gid, out, v) < 0)
		return log_error_ret(-EINVAL, "%s %u of an IPC object is not mapped in user "
					      "namespace %u", gid ? "gid" : "uid", out, owner);
	return 0;
}

static int perm_inside(struct restore_ctx *ctx, uint32_t owner, IpcPermEntry *p)
{
	int r;

	if ((r = id_inside(ctx, owner, false, &p->uid)) < 0 ||
	    (r = id_inside(ctx, owner, true, &p->gid)) < 0 ||
	    (r = id_inside(ctx, owner, false, &p->cuid)) < 0)
		return r;
	return id_inside(ctx, owner, true, &p->cgid);
}

/*
 * Owners are saved in nestor's terms; the maker is inside the namespace's
 * owner user namespace, where the kernel takes them in that one's terms.
 */
static int ids_inside(struct restore_ctx *ctx, uint32_t id, IpcNsEntry *e)
{
	uint32_t owner = ns_entry(ctx, id)->owner;
	int r = 0;

	if (!owner || ns_entry(ctx, owner)->host)
		return 0;
	/*
	 * The maker's ids are nestor's, which have no name inside: it becomes
	 * the owner's root for good (where 0 is mapped: EINVAL otherwise), so that it can take
	 * each creator's ids and come back (the change clears its death signal).
	 */
	if ((setresgid(0, 0, 0) || setresuid(0, 0, 0) || prctl(PR_SET_PDEATHSIG, SIGKILL)) &&
	    errno != EINVAL)
		return log_error_errno(-errno, "cannot become root of user namespace %u", owner);
	for (size_t i = 0; r == 0 && i < e->n_shms; i++)
		r = perm_inside(ctx, owner, e->shms[i]->perm);
	for (size_t i = 0; r == 0 && i < e->n_sems; i++)
		r = perm_inside(ctx, owner, e->sems[i]->perm);
	for (size_t i = 0; r == 0 && i < e->n_msqs; i++)
		r = perm_inside(ctx, owner, e->msqs[i]->perm);
	for (size_t i = 0; r == 0 && i < e->n_mqs; i++)
		if ((r = id_inside(ctx, owner, false, &e->mqs[i]->uid)) == 0)
			r = id_inside(ctx, owner, true, &e->mqs[i]->gid);
	return r;
}

static int ipc_ns_restore(struct restore_ctx *ctx, uint32_t id)
{
	struct ipc_rst_ns *n = *ns_priv(ctx, id);
	char name[64];
	int r;

	if (!n)
		return log_error_ret(-EINVAL, "IPC namespace %u was not read", id);

	umask(0);
	snprintf(name, sizeof(name), "ipcshm-%u.img", id);
	/* The image first: the ids a namespace an inner user namespace owns needs
	 * may not read it (ids_inside). */
	if ((n->shm_fd = r = img_open_file(ctx->dirfd, name)) < 0 ||
	    (r = ids_inside(ctx, id, n->e)) < 0 || (r = raise_limits(n->e)) < 0 ||
	    (r = ipc_sysv_restore(n)) < 0 ||
	    (r = mq_restore(n)) < 0 || (r = set_saved_sysctls(n->e)) < 0)
		return r;
	pr_debug("namespace %u: objects made", id);
	return 0;
}

static int ipc_ns_restore_late(struct restore_ctx *ctx, uint32_t id)
{
	struct ipc_rst_ns *n = *ns_priv(ctx, id);
	const char *rmid;
	int r;

	if (!n)
		return 0;
	if ((r = ipc_shm_restore_late(n)) < 0)
		return r;
	rmid = ipc_sysctl_saved(n->e, RMID_FORCED);
	return rmid && strcmp(rmid, "0") ? ipc_sysctl_write(RMID_FORCED, rmid) : 0;
}

const IpcShmEntry *ipc_restore_shm(struct restore_ctx *ctx, const struct restore_task *t,
				   uint64_t shmid)
{
	uint32_t id = t->pe->ns ? t->pe->ns->id[NS_IPC] : 0;
	const NsEntry *ne = ns_entry(ctx, id);
	struct ipc_rst_ns *n = ne && !ne->host ? *ns_priv(ctx, id) : NULL;

	for (size_t i = 0; n && i < n->e->n_shms; i++)
		if ((uint64_t)(uint32_t)n->e->shms[i]->perm->id == shmid)
			return n->e->shms[i];
	return NULL;
}

const struct ns_kind_ops ipc_ns_ops = {
	.kind = "ipc",
	.enter_to_dump = true,
	.collect = ipc_ns_collect,
	.dump = ipc_ns_dump,
	.dump_commit = ipc_ns_dump_commit,
	.dump_abort = ipc_ns_dump_abort,
	.validate = ipc_ns_validate,
	.restore = ipc_ns_restore,
	.restore_late = ipc_ns_restore_late,
	.free = ipc_ns_free,
};
