/*
 * NESTOR_FAULT: lets tests check what a failure, nestor's death or a change
 * made under it at one named moment of a dump or restore leaves behind.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "core/fault.h"
#include "core/log.h"

int fault_point(const char *where)
{
	static const char *f;
	static bool read;

	/* Asked at every remote syscall: the environment is read once. */
	if (!read) {
		f = getenv("NESTOR_FAULT");
		read = true;
	}
	if (!f)
		return 0;
	if (!strncmp(f, "kill:", 5) && !strcmp(f + 5, where))
		raise(SIGKILL);
	if (!strncmp(f, "stop:", 5) && !strcmp(f + 5, where))
		raise(SIGSTOP);
	if (!strcmp(f, where))
		return log_error_ret(-EIO, "injected failure at %s (NESTOR_FAULT)", where);
	return 0;
}
