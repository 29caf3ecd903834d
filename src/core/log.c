/* Logging to stderr and, with -o, to a file in the images dir. Errors always
 * reach stderr; the first error is kept so the last line can repeat it. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/util.h"

static int cur_level = LOG_WARN;
static int log_fd = -1;
static uint64_t start_ns;
static bool error_shown;
static int err_fd = STDERR_FILENO;

int log_init(int level, int dirfd, const char *file)
{
	cur_level = level;
	if (!start_ns)
		start_ns = now_ns(CLOCK_MONOTONIC);
	if (file) {
		log_fd = openat(dirfd, file,
				O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0644);
		if (log_fd < 0)
			return -errno;
		fcntl(log_fd, F_SETFL, O_APPEND); /* O_NONBLOCK only kept a FIFO from hanging us */
	}
	return 0;
}

void log_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

int log_level(void)
{
	return cur_level;
}

static const char *level_name[] = { "error", "warn", "info", "debug", "trace" };

void log_msg(int level, const char *fmt, ...)
{
	char line[4096];
	uint64_t t = now_ns(CLOCK_MONOTONIC) - start_ns;
	int saved = errno, n;
	va_list ap;

	if (cur_level < 0 || (level > cur_level && (log_fd < 0 || level > LOG_TRACE)))
		goto out; /* a level below 0 silences everything (unit tests) */
	n = snprintf(line, sizeof(line), "(%llu.%06llu) %s: ", (unsigned long long)(t / 1000000000),
		     (unsigned long long)(t / 1000 % 1000000), level_name[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (log_fd >= 0 && level <= cur_level)
		(void)!write(log_fd, line, n);
	/*
	 * The first error reaches stderr as one line without the timestamp: it
	 * is where the failure started; later errors only add context to the log.
	 */
	if (level == LOG_ERROR && !error_shown) {
		const char *msg = strchr(line, ')') + 2;

		error_shown = true;
		(void)!write(err_fd, "nestor: ", 8);
		(void)!write(err_fd, msg + 7, strlen(msg + 7));
	} else if (log_fd < 0 && level <= cur_level && level != LOG_ERROR) {
		(void)!write(err_fd, line, n);
	}
out:
	errno = saved;
}

int log_move_fd(int min_fd)
{
	int n = fd_move_above(log_fd, min_fd);

	if (n < 0 && log_fd >= 0)
		return n;
	log_fd = n;
	/* stderr itself is about to become the task's fd 2: keep a copy of our own. */
	if (err_fd == STDERR_FILENO) {
		n = fcntl(err_fd, F_DUPFD_CLOEXEC, min_fd);
		if (n < 0)
			return -errno;
		err_fd = n;
	}
	return 0;
}

void log_final(bool ok, const char *what)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s %s\n", what, ok ? "finished successfully" : "failed");

	if (log_fd >= 0)
		(void)!write(log_fd, line, n);
	if (cur_level >= LOG_INFO || (ok && log_fd < 0 && cur_level >= LOG_INFO))
		(void)!write(err_fd, line, n);
}
