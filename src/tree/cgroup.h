/* cgroup membership: tasks go back into the cgroups they were in. */
#ifndef NESTOR_CGROUP_H
#define NESTOR_CGROUP_H

#include "core/model.h"

/* Notes the task's cgroups that differ from nestor's own. */
int cgroup_dump(struct dump_task *t);
/* Refuses cgroups that do not exist here (one line, naming them). */
int cgroup_validate(struct restore_task *t);
/* In the restoring task, before its memory is made (so it is charged there). */
int cgroup_restore(struct restore_task *t);

#endif
