// SPDX-License-Identifier: GPL-2.0
/*
 * zombie: children that died before the checkpoint and were never reaped:
 * one exited with status 42, one was killed by SIGUSR2. After restore they
 * are still zombies with the same pids, children of the root, and
 * waitpid() gives the same exit status and signal. A live sibling makes
 * sure zombies and running tasks restore side by side.
 *
 * The zombies keep what /proc shows of them: the exited one named itself,
 * blocked SIGUSR1 and left it pending, ignored SIGHUP, caught SIGWINCH and
 * set its own core limit; the killed one keeps SIGUSR2 pending as the
 * kernel leaves it. Both are checked before and after the restore.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include "tree.h"

#define ZNAME "dead-one"
#define CORE_CUR 4096
#define CORE_MAX 65536
#define BIT(sig) (1ULL << ((sig) - 1))

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

static void on_winch(int sig)
{
	(void)sig;
}

/* The exited zombie's own state: everything /proc keeps of it. */
static void become_exited(void)
{
	struct rlimit core = { CORE_CUR, CORE_MAX };
	sigset_t usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (prctl(PR_SET_NAME, ZNAME) || setrlimit(RLIMIT_CORE, &core) ||
	    sigprocmask(SIG_BLOCK, &usr1, NULL) || signal(SIGHUP, SIG_IGN) == SIG_ERR ||
	    signal(SIGWINCH, on_winch) == SIG_ERR || kill(getpid(), SIGUSR1))
		_exit(1);
	_exit(EXIT_CODE);
}

static unsigned long long status_mask(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ULL;
}

/* What the exited zombie set up, and the killed one's pending signal. */
static void check_state(pid_t exited, pid_t killed, const char *when)
{
	char path[64], buf[4096], *p;
	unsigned long long cur = 0, max = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", exited);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		fail("%s: cannot read %s", when, path);
	if (strncmp(buf, "Name:\t" ZNAME "\n", strlen("Name:\t" ZNAME "\n")))
		fail("%s: exited zombie: %.40s, expected name " ZNAME, when, buf);
	if (!(status_mask(buf, "SigBlk:\t") & BIT(SIGUSR1)) ||
	    !(status_mask(buf, "ShdPnd:\t") & BIT(SIGUSR1)) ||
	    !(status_mask(buf, "SigIgn:\t") & BIT(SIGHUP)) ||
	    !(status_mask(buf, "SigCgt:\t") & BIT(SIGWINCH)) ||
	    (status_mask(buf, "SigIgn:\t") & BIT(SIGPIPE)))
		fail("%s: exited zombie: signal state lost (SIGUSR1 blocked and pending, SIGHUP "
		     "ignored, SIGWINCH caught, SIGPIPE default)", when);
	snprintf(path, sizeof(path), "/proc/%d/limits", exited);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "Max core file size")) ||
	    sscanf(p + 26, "%llu %llu", &cur, &max) != 2 || cur != CORE_CUR || max != CORE_MAX)
		fail("%s: exited zombie: core limit %llu/%llu, expected %d/%d", when, cur, max,
		     CORE_CUR, CORE_MAX);
	snprintf(path, sizeof(path), "/proc/%d/status", killed);
	if (read_file(path, buf, sizeof(buf)) <= 0 ||
	    !(status_mask(buf, "ShdPnd:\t") & BIT(SIGUSR2)))
		fail("%s: killed zombie: SIGUSR2 no longer pending", when);
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
		become_exited();
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
	check_state(exited, killed, "set-up");

	test_daemon();
	test_waitsig();

	check_zombie(exited, "exited");
	check_zombie(killed, "killed");
	check_state(exited, killed, "after restore");
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
