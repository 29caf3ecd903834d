/*
 * cgroup membership. Dump: each /proc/PID/cgroup line whose path differs
 * from nestor's own in that hierarchy is kept. Restore: the cgroup must
 * exist here (nestor does not make cgroups or their limits yet), and the
 * task moves itself in by writing 0 to cgroup.procs, before its memory is
 * made so that the memory is charged where it was.
 */
#define LOG_PREFIX "cgroup: "
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "core/arena.h"
#include "tree/cgroup.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_LINES 64

static int read_lines(const char *path, char **buf, char *lines[MAX_LINES], int *n)
{
	int r = read_file_at(AT_FDCWD, path, buf, 1 << 16);
	char *save = NULL;

	if (r < 0)
		return log_error_errno(r, "cannot read %s", path);
	*n = 0;
	for (char *l = strtok_r(*buf, "\n", &save); l && *n < MAX_LINES; l = strtok_r(NULL, "\n", &save))
		lines[(*n)++] = l;
	return 0;
}

int cgroup_dump(struct dump_task *t)
{
	_cleanup_free_ char *own_buf = NULL, *buf = NULL;
	char *own[MAX_LINES], *lines[MAX_LINES], path[64];
	int n_own, n, r;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", t->pid);
	if ((r = read_lines("/proc/self/cgroup", &own_buf, own, &n_own)) < 0 ||
	    (r = read_lines(path, &buf, lines, &n)) < 0)
		return r;
	t->core->cgroups = ANEW_ARRAY(char *, n + 1);
	if (!t->core->cgroups)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		bool same = false;

		for (int k = 0; k < n_own; k++)
			same |= !strcmp(lines[i], own[k]);
		if (same)
			continue;
		if (!(t->core->cgroups[t->core->n_cgroups++] = arena_strdup(lines[i])))
			return -ENOMEM;
	}
	return 0;
}

/* ---- restore ---- */

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

/* The directory of a cgroup line here: its hierarchy's mount plus its path. */
static int cgroup_dir(const char *line, char *dir, size_t len)
{
	_cleanup_free_ char *mi = NULL;
	const char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char ctrls[256], *save = NULL;
	int r;

	if (!c1 || !c2 || c2[1] != '/' || strstr(c2, "/.."))
		return -EINVAL;
	snprintf(ctrls, sizeof(ctrls), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mi, 1 << 20);
	if (r < 0)
		return r;
	for (char *l = strtok_r(mi, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char mnt[4096], fstype[32], opts[512];
		const char *dash = strstr(l, " - ");

		if (!dash || sscanf(l, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(dash + 3, "%31s %*s %511s", fstype, opts) != 2)
			continue;
		if ((!ctrls[0] && !strcmp(fstype, "cgroup2")) ||
		    (ctrls[0] && !strcmp(fstype, "cgroup") && has_controllers(opts, ctrls))) {
			snprintf(dir, len, "%s%s", mnt, c2 + 1);
			return 0;
		}
	}
	return -ENOENT;
}

int cgroup_validate(struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;
	char dir[4200];
	struct stat st;

	if (c->n_cgroups > MAX_LINES)
		return log_error_ret(-EINVAL, "image core-%d.img is corrupted: cgroups", t->pid);
	for (size_t i = 0; i < c->n_cgroups; i++)
		if (cgroup_dir(c->cgroups[i], dir, sizeof(dir)) < 0 || stat(dir, &st) ||
		    !S_ISDIR(st.st_mode))
			return log_error_ret(-ENOENT, "can't restore: task %d's cgroup %s does not "
						      "exist here (nestor does not make cgroups yet)",
					     t->pid, c->cgroups[i]);
	return 0;
}

int cgroup_restore(struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;

	for (size_t i = 0; i < c->n_cgroups; i++) {
		char dir[4200];
		int r = cgroup_dir(c->cgroups[i], dir, sizeof(dir));

		if (r == 0)
			r = strlen(dir) + 13 < sizeof(dir) ? 0 : -ENAMETOOLONG;
		if (r == 0) {
			strcat(dir, "/cgroup.procs");
			r = write_file_at(AT_FDCWD, dir, "0");
		}
		if (r < 0)
			return log_error_errno(r, "cannot put task %d in cgroup %s", t->pid,
					       c->cgroups[i]);
	}
	return 0;
}
