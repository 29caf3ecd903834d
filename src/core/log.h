/* Logging: levels, timestamps, a per-file prefix, and error helpers that
 * return the negative errno they log so errors are logged once, where they start. */
#ifndef NESTOR_LOG_H
#define NESTOR_LOG_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3, LOG_TRACE = 4 };

#ifndef LOG_PREFIX
#define LOG_PREFIX ""
#endif

int log_init(int level, int dirfd, const char *file);
void log_close(void);
/* Moves the log's fd to min_fd or above (the restoring child needs the low ones). */
int log_move_fd(int min_fd);
/* The last line of every run: whether it succeeded. */
void log_final(bool ok, const char *what);
int log_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(fmt, ...)   log_msg(LOG_ERROR, LOG_PREFIX fmt "\n", ##__VA_ARGS__)
#define pr_warn(fmt, ...)  log_msg(LOG_WARN, LOG_PREFIX fmt "\n", ##__VA_ARGS__)
#define pr_info(fmt, ...)  log_msg(LOG_INFO, LOG_PREFIX fmt "\n", ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_msg(LOG_DEBUG, LOG_PREFIX fmt "\n", ##__VA_ARGS__)

/* Logs "fmt: strerror(-err)" and evaluates to err (a negative errno). */
#define log_error_errno(err, fmt, ...)                                                             \
	({                                                                                         \
		int _e = (err);                                                                    \
		log_msg(LOG_ERROR, LOG_PREFIX fmt ": %s\n", ##__VA_ARGS__, strerror(-_e));         \
		_e;                                                                                \
	})
/* Logs fmt and evaluates to err, for errors whose cause the message already names. */
#define log_error_ret(err, fmt, ...)                                                               \
	({                                                                                         \
		log_msg(LOG_ERROR, LOG_PREFIX fmt "\n", ##__VA_ARGS__);                            \
		(err);                                                                             \
	})

#endif
