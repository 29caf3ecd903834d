/* cgroup membership: tasks and threads go back into the cgroups they were
 * in, by hierarchy, from each hierarchy's root. */
#ifndef NESTOR_CGROUP_H
#define NESTOR_CGROUP_H

#include "core/model.h"

/*
 * Splits /proc/PID/cgroup text into its lines, in place, into lines[max].
 * -EINVAL for a line that is not "id:controllers:/path", -EXDEV for a path
 * outside the reader's cgroup namespace ("/.."), -E2BIG past max.
 */
int cgroup_parse(char *text, char **lines, size_t max, size_t *ret_n);
/* The directory of a cgroup line under the mounts of mountinfo text. */
int cgroup_mount_dir(const char *mountinfo, const char *line, char *dir, size_t len);

/* Whether the cgroup of a line exists here (under nestor's mounts). */
bool cgroup_exists(const char *line);
/* Moves the caller into the cgroup of a line (its hierarchy's cgroup.procs). */
int cgroup_enter(const char *line);

/* Every hierarchy's line of the task, and its threads' lines of their own. */
int cgroup_dump(struct dump_task *t);
/* Refuses cgroups that do not exist here (one line, naming them). */
int cgroup_validate(struct restore_task *t);
/* In the restoring task, before its memory is made (so it is charged there). */
int cgroup_restore(struct restore_task *t);
/* In nestor, once the thread exists: its lines of its own. */
int cgroup_restore_thread(const ThreadEntry *th);

#endif
