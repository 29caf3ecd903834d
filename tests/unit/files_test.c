/* Unit test of image checks that look across entries: files.img entries
 * other entries' checks read, and a task's controlling terminal. */
#include "files/files.h"
#include "core/log.h"
#include "files/tty.h"
#include "unit.h"

/* A session leader (pid 10, group 10) and a member of group 11 in its session. */
static void check_ctty(struct restore_ctx *ctx)
{
	PstreeEntry pe[2] = { PSTREE_ENTRY__INIT, PSTREE_ENTRY__INIT };
	TaskCoreEntry core = TASK_CORE_ENTRY__INIT;
	struct restore_task t[2] = { { .pid = 10, .pe = &pe[0], .core = &core },
				     { .pid = 12, .pe = &pe[1] } };

	pe[0].pid = pe[0].pgid = pe[0].sid = 10;
	pe[1].pid = 12;
	pe[1].pgid = 11;
	pe[1].sid = 10;
	ctx->tasks = t;
	ctx->nr_tasks = 2;
	core.has_ctty_index = true;
	core.ctty_index = 3;
	core.has_ctty_fg = true;
	core.ctty_fg = 11;
	CHECK("a leader's pty of the tree, a group of its session in front", tty_validate_ctty(ctx, &t[0]) == 0);
	core.ctty_index = 4;
	CHECK("a terminal that is no pty of the tree refused", tty_validate_ctty(ctx, &t[0]) < 0);
	core.ctty_index = 3;
	core.ctty_fg = 13;
	CHECK("a foreground group that is not in the session refused", tty_validate_ctty(ctx, &t[0]) < 0);
	core.ctty_fg = 11;
	pe[0].sid = 9;
	CHECK("a terminal of a task that leads no session refused", tty_validate_ctty(ctx, &t[0]) < 0);
	ctx->tasks = NULL;
	ctx->nr_tasks = 0;
}

int main(void)
{
	PtyEntry slave = PTY_ENTRY__INIT, master = PTY_ENTRY__INIT;
	FileEntry e[2] = { FILE_ENTRY__INIT, FILE_ENTRY__INIT }, *files[2] = { &e[0], &e[1] };
	struct restore_ctx ctx = { .files = files, .nr_files = 2 };
	char path[] = "/dev/pts/3", ptmx[] = "/dev/ptmx";

	log_init(-1, -1, NULL);
	slave.index = 3;
	master.index = 3;
	master.master = true;
	e[0].id = 1;
	e[0].type = FILE_TYPE__PTY;
	e[0].path = path;
	e[0].pty = &slave;
	e[1].id = 2;
	e[1].type = FILE_TYPE__PTY;
	e[1].path = ptmx;
	/* The master's entry lost its pty message: a slave's check looks it up. */
	CHECK("a pty entry without its pty message refused", files_validate(&ctx) < 0);
	e[1].pty = &master;
	CHECK("a slave whose master has no termios refused", files_validate(&ctx) < 0);
	check_ctty(&ctx);
	UNIT_END();
}
