/* POSIX timers: not supported yet; a task with any is refused. */
#define LOG_PREFIX "timers: "
#include <fcntl.h>
#include "log.h"
#include "timers.h"
#include "util.h"

int timers_dump(struct dump_task *t)
{
	char p[64];
	_cleanup_free_ char *buf = NULL;
	int r;

	snprintf(p, sizeof(p), "/proc/%d/timers", t->pid);
	r = read_file_at(AT_FDCWD, p, &buf, 1 << 20);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", p);
	if (r > 0)
		return log_error_ret(-EOPNOTSUPP, "can't dump: task %d has POSIX timers (timer_create; "
						  "not supported yet)", t->pid);
	return 0;
}

int timers_validate(struct restore_task *t)
{
	return 0;
}

int timers_restore(struct restore_task *t)
{
	return 0;
}
