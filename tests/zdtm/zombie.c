// SPDX-License-Identifier: GPL-2.0
/*
 * zombie: children that died before the checkpoint and were never reaped:
 * one exited with status 42, one was killed by SIGUSR2. After restore they
 * are still zombies with the same pids, children of the root, and
 * waitpid() gives the same exit status and signal. A live sibling makes
 * sure zombies and running tasks restore side by side.
 */
#include "tree.h"

#define EXIT_CODE 42

static char proc_state(pid_t pid, pid_t *ret_ppid)
{
	char path[64], buf[512], *p, st = '?';

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return '-';
	sscanf(p + 1, " %c %d", &st, ret_ppid);
	return st;
}

static void check_zombie(pid_t pid, const char *name)
{
	pid_t ppid = 0;
	char st = proc_state(pid, &ppid);

	if (st != 'Z' || ppid != getpid())
		fail("%s (pid %d): state '%c' parent %d, expected a zombie child of %d", name, pid,
		     st, ppid, getpid());
	if (tree_wait_zombie(pid, 0))
		fail("%s (pid %d): waitid(WNOWAIT) does not see it dead", name, pid);
}

int main(int argc, char **argv)
{
	pid_t exited, killed, live;
	int status, r;

	test_init(argc, argv);
	tree_init();
	exited = tree_fork("exited");
	if (!exited)
		_exit(EXIT_CODE);
	killed = tree_fork("killed");
	if (!killed) {
		signal(SIGUSR2, SIG_DFL);
		kill(getpid(), SIGUSR2);
		_exit(3);
	}
	tree_barrier_init();
	live = tree_fork("live");
	if (!live) {
		struct tree_ids ids;

		tree_ids_get(&ids);
		tree_ready(0);
		test_waitsig();
		tree_ids_check(&ids);
		tree_pass();
	}
	tree_barrier_wait(1, NULL);
	if (tree_wait_zombie(exited, TREE_TIMEOUT_MS) || tree_wait_zombie(killed, TREE_TIMEOUT_MS))
		fail("children did not die: %m");
	check_zombie(exited, "exited");
	check_zombie(killed, "killed");

	test_daemon();
	test_waitsig();

	check_zombie(exited, "exited");
	check_zombie(killed, "killed");
	tree_finish(live, "live");
	r = tree_wait(exited, &status, 0, TREE_TIMEOUT_MS);
	if (r)
		fail("waitpid exited (pid %d): %s", exited, strerror(-r));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != EXIT_CODE)
		fail("exited (pid %d): wait status %#x, expected exit %d", exited, status,
		     EXIT_CODE);
	r = tree_wait(killed, &status, 0, TREE_TIMEOUT_MS);
	if (r)
		fail("waitpid killed (pid %d): %s", killed, strerror(-r));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGUSR2 || WCOREDUMP(status))
		fail("killed (pid %d): wait status %#x, expected killed by signal %d, no core",
		     killed, status, SIGUSR2);
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		fail("a child is left after reaping all three");
	pass();
}
