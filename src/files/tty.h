/* Terminals: ptys inside the tree (both ends, settings, unread data,
 * controlling terminals), and the caller's terminal for --shell-job. */
#ifndef NESTOR_TTY_H
#define NESTOR_TTY_H

#include <stdbool.h>
#include <sys/stat.h>
#include "core/model.h"

bool tty_is_pty(const struct stat *st);
/* Fills a pty description (master or slave) of task t's fd. */
int tty_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, const struct stat *st,
	     FileEntry *f);
/* Once every task is collected: slaves without a master in the tree are the
 * caller's terminal (--shell-job) or refused; each pty's state is saved;
 * session leaders' controlling terminals are noted. */
int tty_finish_dump(struct dump_ctx *ctx);

int tty_validate(struct restore_ctx *ctx, const FileEntry *f);
/* In nestor: a description of f's pty, making the pty (same index) first. */
int tty_open(struct restore_ctx *ctx, const FileEntry *f, int flags);
void tty_close(struct restore_ctx *ctx);
/* Checks a task's controlling terminal against the tree and its ptys. */
int tty_validate_ctty(const struct restore_ctx *ctx, const struct restore_task *t);
/* In a restoring session leader, just after setsid(). */
int tty_set_ctty(const struct restore_task *t);
/* In the session leader once every group exists: the foreground group. */
/* fg: the foreground group as the task sees it (the image has nestor's number). */
int tty_set_foreground(const struct restore_task *t, pid_t fg);

#endif
