/*
 * cgroup membership, by hierarchy, from each hierarchy's root. Dump: every
 * line of /proc/PID/cgroup ("id:controllers:/path") is kept, whatever
 * cgroup nestor itself is in: the path is the one from the root of
 * nestor's cgroup namespace, which is the hierarchy's root when nestor runs
 * in the initial cgroup namespace (as on a host); a path outside that root
 * ("/..") is refused. A thread whose line differs from its process's in a
 * v1 hierarchy keeps its own line; a cgroup v2 threaded cgroup is refused.
 * Restore: the cgroup must exist here (nestor does not make cgroups or
 * their limits yet), the task moves itself in by writing 0 to cgroup.procs
 * of every hierarchy before its memory is made (so that the memory is
 * charged where it was), and nestor moves each thread with a line of its
 * own once the thread exists (its tid into the v1 hierarchy's "tasks").
 */
#define LOG_PREFIX "cgroup: "
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/arena.h"
#include "tree/cgroup.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_LINES 1024 /* hierarchies of one task; the kernel has at most 16 v1 ones */

/* The text from a line's second colon on: ":/path" (NULL if malformed). */
static const char *path_of(const char *line)
{
	const char *c1 = strchr(line, ':');

	return c1 ? strchr(c1 + 1, ':') : NULL;
}

int cgroup_parse(char *text, char **lines, size_t max, size_t *ret_n)
{
	char *save = NULL;
	size_t n = 0;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *p = path_of(l);

		if (!p || p[1] != '/')
			return -EINVAL;
		if (strstr(p, "/..") || strstr(p, "/./"))
			return -EXDEV;
		if (n == max)
			return -E2BIG;
		lines[n++] = l;
	}
	*ret_n = n;
	return 0;
}

/* Whether a mount's super options name exactly these controllers. */
static bool has_controllers(const char *opts, const char *ctrls)
{
	char want[256], *save = NULL;

	snprintf(want, sizeof(want), "%s", ctrls);
	for (char *c = strtok_r(want, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		const char *p = opts;
		size_t l = strlen(c);
		bool found = false;

		while ((p = strstr(p, c))) {
			if ((p == opts || p[-1] == ',') && (p[l] == ',' || !p[l]))
				found = true;
			p += l;
		}
		if (!found)
			return false;
	}
	return true;
}

/* The path below a mount of the hierarchy whose root is `root`, or NULL. */
static const char *below_root(const char *path, const char *root)
{
	size_t l = strlen(root);

	if (!strcmp(root, "/"))
		return path;
	if (strncmp(path, root, l) || (path[l] && path[l] != '/'))
		return NULL;
	return path + l;
}

int cgroup_mount_dir(const char *mountinfo, const char *line, char *dir, size_t len)
{
	const char *p = path_of(line), *c1 = strchr(line, ':'), *l = mountinfo;
	char ctrls[256];

	if (!p || p[1] != '/')
		return -EINVAL;
	snprintf(ctrls, sizeof(ctrls), "%.*s", (int)(p - c1 - 1), c1 + 1);
	while (l && *l) {
		char root[4096], mnt[4096], fstype[32], opts[512], one[9000];
		const char *nl = strchr(l, '\n'), *dash, *rest;
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);

		snprintf(one, sizeof(one), "%.*s", (int)ll, l);
		l = nl ? nl + 1 : NULL;
		dash = strstr(one, " - ");
		if (!dash || sscanf(one, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%31s %*s %511s", fstype, opts) != 2)
			continue;
		if (!((!ctrls[0] && !strcmp(fstype, "cgroup2")) ||
		      (ctrls[0] && !strcmp(fstype, "cgroup") && has_controllers(opts, ctrls))))
			continue;
		if (!(rest = below_root(p + 1, root)))
			continue;
		if ((size_t)snprintf(dir, len, "%s%s", mnt, rest) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	return -ENOENT;
}

/*
 * The directory of a cgroup line here, through nestor's own mounts: read
 * once (every task has ~10 lines to look up, and nestor's mounts do not
 * change during a dump or a restore; restored tasks inherit the copy).
 */
static int cgroup_dir(const char *line, char *dir, size_t len)
{
	static char *mi;
	int r;

	if (!mi && (r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mi, 1 << 22)) < 0)
		return r;
	return cgroup_mount_dir(mi, line, dir, len);
}

/* The lines of /proc/PID/task/TID/cgroup, into buf; one-line refusals. */
static int read_lines(pid_t pid, pid_t tid, char **buf, char **lines, size_t *n)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	r = read_file_at(AT_FDCWD, path, buf, 1 << 20);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", path);
	r = cgroup_parse(*buf, lines, MAX_LINES, n);
	if (r == -EXDEV)
		return log_error_ret(-EOPNOTSUPP, "can't dump: thread %d of task %d is in a cgroup "
						  "outside nestor's cgroup namespace", tid, pid);
	if (r < 0)
		return log_error_errno(r, "cannot parse %s", path);
	return 0;
}

/* Whether the cgroup v2 cgroup of a line is threaded; the last line's answer is kept. */
static bool threaded(const char *line)
{
	static char *last;
	static bool last_threaded;
	_cleanup_free_ char *type = NULL;
	char dir[4200];

	if (last && !strcmp(last, line))
		return last_threaded;
	free(last);
	last = strdup(line);
	last_threaded = false;
	if (cgroup_dir(line, dir, sizeof(dir) - 16) < 0)
		return false;
	strcat(dir, "/cgroup.type");
	last_threaded = read_file_at(AT_FDCWD, dir, &type, 64) >= 0 && !strncmp(type, "threaded", 8);
	return last_threaded;
}

/* A cgroup v2 line in a threaded cgroup (thread granularity): refused. */
static int check_v2(pid_t pid, pid_t tid, const char *line)
{
	if (strncmp(line, "0::", 3) || !threaded(line))
		return 0;
	return log_error_ret(-EOPNOTSUPP, "can't dump: thread %d of task %d is in the threaded "
					  "cgroup %s (cgroup v2 thread mode: not supported yet)",
			     tid, pid, line + 2);
}

static bool has_line(char **lines, size_t n, const char *l)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(lines[i], l))
			return true;
	return false;
}

/* A thread's lines that differ from its process's (v1 hierarchies only). */
static int dump_thread(struct dump_task *t, size_t idx, char **main_lines, size_t n_main)
{
	ThreadEntry *th = t->core->threads[idx];
	pid_t tid = t->threads[idx].pid;
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ char **lines = calloc(MAX_LINES, sizeof(char *));
	size_t n;
	int r;

	if (!lines)
		return -ENOMEM;
	if ((r = read_lines(t->pid, tid, &buf, lines, &n)) < 0)
		return r;
	th->cgroups = ANEW_ARRAY(char *, n);
	if (!th->cgroups)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (has_line(main_lines, n_main, lines[i]))
			continue;
		if (!strncmp(lines[i], "0::", 3) && (r = check_v2(t->pid, tid, lines[i])) < 0)
			return r;
		if (!strncmp(lines[i], "0::", 3))
			return log_error_ret(-EOPNOTSUPP, "can't dump: thread %d of task %d is in "
							  "another cgroup v2 cgroup than its process "
							  "(not supported yet)", tid, t->pid);
		if (!(th->cgroups[th->n_cgroups++] = arena_strdup(lines[i])))
			return -ENOMEM;
	}
	return 0;
}

int cgroup_dump(struct dump_task *t)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ char **lines = calloc(MAX_LINES, sizeof(char *));
	size_t n;
	int r;

	if (!lines)
		return -ENOMEM;
	if ((r = read_lines(t->pid, t->pid, &buf, lines, &n)) < 0)
		return r;
	t->core->cgroups = ANEW_ARRAY(char *, n);
	if (!t->core->cgroups)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((r = check_v2(t->pid, t->pid, lines[i])) < 0)
			return r;
		if (!(t->core->cgroups[t->core->n_cgroups++] = arena_strdup(lines[i])))
			return -ENOMEM;
	}
	for (size_t i = 0; i < t->nr_threads; i++)
		if ((r = dump_thread(t, i, lines, n)) < 0)
			return r;
	return 0;
}

/* ---- restore ---- */

/* nestor's cgroup namespace, seen at validation: a task in another reads
 * its /proc/self/cgroup from that one's root, which is no line of ours. */
static dev_t own_cgns_dev;
static ino_t own_cgns_ino;


/* Lines whose cgroup was found here already: the tasks of a tree share most. */
static char *proven[64];
static size_t nr_proven;

static bool is_proven(const char *line)
{
	for (size_t i = 0; i < nr_proven; i++)
		if (!strcmp(proven[i], line))
			return true;
	return false;
}

static void prove(const char *line)
{
	if (nr_proven < ARRAY_SIZE(proven) && (proven[nr_proven] = strdup(line)))
		nr_proven++;
}

static int validate_lines(pid_t pid, uint32_t tid, char **lines, size_t n)
{
	char dir[4200];
	struct stat st;

	if (n > MAX_LINES)
		return log_error_ret(-EINVAL, "image core-%d.img is corrupted: cgroups", pid);
	for (size_t i = 0; i < n; i++) {
		const char *p = path_of(lines[i]);

		if (!p || p[1] != '/' || strstr(p, "/..") || strchr(lines[i], '\n'))
			return log_error_ret(-EINVAL, "image core-%d.img is corrupted: cgroup", pid);
		if (is_proven(lines[i]))
			continue;
		if (cgroup_dir(lines[i], dir, sizeof(dir) - 16) < 0 || stat(dir, &st) ||
		    !S_ISDIR(st.st_mode))
			return log_error_ret(-ENOENT, "can't restore: thread %u of task %d: its cgroup "
						      "%s does not exist here (nestor does not "
						      "make cgroups yet)", tid, pid, lines[i]);
		prove(lines[i]);
	}
	return 0;
}

bool cgroup_exists(const char *line)
{
	char dir[4200];
	struct stat st;

	return cgroup_dir(line, dir, sizeof(dir) - 16) >= 0 && !stat(dir, &st) &&
	       S_ISDIR(st.st_mode);
}

int cgroup_validate(struct restore_task *t)
{
	struct stat st;

	if (!own_cgns_ino && !stat("/proc/self/ns/cgroup", &st)) {
		own_cgns_dev = st.st_dev;
		own_cgns_ino = st.st_ino;
	}
	const TaskCoreEntry *c = t->core;
	int r = validate_lines(t->pid, t->pid, c->cgroups, c->n_cgroups);

	for (size_t i = 0; i < c->n_threads && r == 0; i++) {
		const ThreadEntry *th = c->threads[i];

		for (size_t k = 0; k < th->n_cgroups; k++)
			if (!strncmp(th->cgroups[k], "0::", 3))
				return log_error_ret(-EINVAL, "image core-%d.img is corrupted: "
							      "thread cgroup", t->pid);
		r = validate_lines(t->pid, th->tid, th->cgroups, th->n_cgroups);
	}
	return r;
}

/* Writes `who` into `file` of the cgroup of `line`. */
static int enter(const char *line, const char *file, const char *who)
{
	char dir[4200];
	int r = cgroup_dir(line, dir, sizeof(dir) - 16);

	if (r < 0)
		return r;
	strcat(dir, "/");
	strcat(dir, file);
	return write_file_at(AT_FDCWD, dir, who);
}

int cgroup_enter(const char *line)
{
	return enter(line, "cgroup.procs", "0");
}

static bool in_own_cgns(void)
{
	struct stat st;

	return !stat("/proc/self/ns/cgroup", &st) && st.st_ino == own_cgns_ino &&
	       st.st_dev == own_cgns_dev;
}

/*
 * A move costs a grace period (0.5 to 10 ms here): hierarchies where the
 * task, born in nestor's cgroups, already is are left alone.
 */
int cgroup_restore(struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ char **own = calloc(MAX_LINES, sizeof(char *));
	size_t n_own = 0;

	if (!own)
		return -ENOMEM;
	if (!in_own_cgns() || read_file_at(AT_FDCWD, "/proc/self/cgroup", &buf, 1 << 20) < 0 ||
	    cgroup_parse(buf, own, MAX_LINES, &n_own) < 0)
		n_own = 0; /* then every line is written */
	for (size_t i = 0; i < c->n_cgroups; i++) {
		int r = has_line(own, n_own, c->cgroups[i]) ? 0 :
			enter(c->cgroups[i], "cgroup.procs", "0");

		if (r < 0)
			return log_error_errno(r, "cannot put task %d in cgroup %s", t->pid,
					       c->cgroups[i]);
	}
	return 0;
}

int cgroup_restore_thread(const ThreadEntry *th)
{
	char tid[16];

	snprintf(tid, sizeof(tid), "%u", th->tid);
	for (size_t i = 0; i < th->n_cgroups; i++) {
		int r = enter(th->cgroups[i], "tasks", tid);

		if (r < 0)
			return log_error_errno(r, "cannot put thread %u in cgroup %s", th->tid,
					       th->cgroups[i]);
	}
	return 0;
}
