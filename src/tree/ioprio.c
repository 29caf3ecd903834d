/*
 * The I/O priority. A task inherits nestor's at restore unless it is set:
 * the image keeps what ioprio_get() says of the main thread (0: none, the
 * one a task has until it sets one), and every thread must have the same,
 * since the restored threads inherit the main thread's.
 */
#define LOG_PREFIX "ioprio: "
#include <sys/syscall.h>
#include <unistd.h>
#include "core/log.h"
#include "tree/ioprio.h"

#define IOPRIO_WHO_PROCESS 1

static int get_ioprio(pid_t tid, long *ret)
{
	*ret = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, tid);
	return *ret < 0 ? log_error_errno(-errno, "cannot read the I/O priority of thread %d", tid)
			: 0;
}

int ioprio_dump(const struct dump_task *t, TaskCoreEntry *core)
{
	long main_prio, prio;
	int r;

	if ((r = get_ioprio(t->pid, &main_prio)) < 0)
		return r;
	for (size_t i = 0; i < t->nr_threads; i++) {
		if ((r = get_ioprio(t->threads[i].pid, &prio)) < 0)
			return r;
		if (prio != main_prio)
			return log_error_ret(-EOPNOTSUPP, "can't dump: thread %d of task %d has an I/O "
							  "priority of its own (%#lx, the task %#lx; "
							  "not supported)", t->threads[i].pid, t->pid,
					     prio, main_prio);
	}
	core->has_ioprio = true;
	core->ioprio = main_prio;
	return 0;
}

int ioprio_restore(const TaskCoreEntry *core)
{
	if (!core->has_ioprio) /* an older image */
		return 0;
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (int)core->ioprio))
		return log_error_errno(-errno, "cannot set I/O priority %#x of task %u", core->ioprio,
				       core->pid);
	return 0;
}
