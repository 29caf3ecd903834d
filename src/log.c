/* Logging to stderr and, with -o, to a file in the images dir. Errors always
 * reach stderr; the first error is kept so the last line can repeat it. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "util.h"

static int cur_level = LOG_WARN;
static int log_fd = -1;
static uint64_t start_ns;
static bool error_shown;

int log_init(int level, int dirfd, const char *file)
{
	cur_level = level;
	if (!start_ns)
		start_ns = now_ns(CLOCK_MONOTONIC);
	if (file) {
		log_fd = openat(dirfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
				0644);
		if (log_fd < 0)
			return -errno;
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

	if (level > cur_level && (log_fd < 0 || level > LOG_TRACE))
		goto out;
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
		(void)!write(STDERR_FILENO, "nestor: ", 8);
		(void)!write(STDERR_FILENO, msg + 7, strlen(msg + 7));
	} else if (log_fd < 0 && level <= cur_level && level != LOG_ERROR) {
		(void)!write(STDERR_FILENO, line, n);
	}
out:
	errno = saved;
}

int log_move_fd(int min_fd)
{
	int n;

	if (log_fd < 0)
		return 0;
	n = fcntl(log_fd, F_DUPFD_CLOEXEC, min_fd);
	if (n < 0)
		return -errno;
	close(log_fd);
	log_fd = n;
	return 0;
}

void log_final(bool ok, const char *what)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s %s\n", what, ok ? "finished successfully" : "failed");

	if (log_fd >= 0)
		(void)!write(log_fd, line, n);
	if (cur_level >= LOG_INFO || (ok && log_fd < 0 && cur_level >= LOG_INFO))
		(void)!write(STDERR_FILENO, line, n);
}
