// SPDX-License-Identifier: GPL-2.0
/*
 * pdeathsig: the parent-death signal (PR_SET_PDEATHSIG) of each task:
 * SIGUSR1 on one child, none on another (a restore must not leave one of
 * its own), and SIGUSR2 on a grandchild. After restore the values are the
 * same, and the grandchild's still works: when its parent exits, it gets
 * SIGUSR2 and reports through a file the root waits for.
 */
#include "tree.h"

enum { WITH, WITHOUT, MIDDLE, GRAND, N };

static const char *const names[N] = {"child_usr1", "child_none", "middle", "grandchild"};
static const int sigs[N] = {SIGUSR1, 0, SIGKILL, SIGUSR2};

static volatile sig_atomic_t got_usr2;

static void usr2_handler(int sig)
{
	(void)sig;
	got_usr2++;
}

static void check_value(int tag)
{
	int sig = -1;

	if (prctl(PR_GET_PDEATHSIG, &sig) || sig != sigs[tag])
		tree_fail("parent-death signal %d, expected %d", sig, sigs[tag]);
}

static void __attribute__((noreturn)) child(int tag)
{
	struct tree_ids ids;

	if (prctl(PR_SET_PDEATHSIG, sigs[tag]))
		tree_fail("PR_SET_PDEATHSIG: %m");
	tree_ids_get(&ids);
	tree_ready(tag);
	test_waitsig();
	check_value(tag);
	tree_ids_check(&ids);
	tree_pass();
}

/* Reports to WORKDIR/deathsig once its parent is gone; the root reads it. */
static void __attribute__((noreturn)) grandchild(void)
{
	struct sigaction sa = {.sa_handler = usr2_handler};
	pid_t parent = getppid();
	char path[4096];
	sigset_t wake, old;
	int fd;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL) || prctl(PR_SET_PDEATHSIG, SIGUSR2))
		tree_fail("set-up: %m");
	tree_ready(GRAND);
	/* Blocked while the flags are checked, so a signal cannot slip in between. */
	sigemptyset(&wake);
	sigaddset(&wake, SIGUSR2);
	sigaddset(&wake, SIGTERM);
	sigprocmask(SIG_BLOCK, &wake, &old);
	while (!got_usr2 && !test_stop)
		sigsuspend(&old);
	snprintf(path, sizeof(path), "%s/deathsig", test_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (!got_usr2)
		dprintf(fd, "woken by SIGTERM, not by SIGUSR2");
	else if (getppid() == parent)
		dprintf(fd, "SIGUSR2 came while its parent %d was alive", parent);
	else
		dprintf(fd, "ok");
	close(fd);
	_exit(0);
}

int main(int argc, char **argv)
{
	char path[4096], msg[256] = "";
	struct tree_rec recs[N];
	pid_t pid[N];
	long deadline;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	for (int i = WITH; i <= MIDDLE; i++) {
		pid[i] = tree_fork(names[i]);
		if (pid[i])
			continue;
		if (i == MIDDLE && !tree_fork(names[GRAND]))
			grandchild();
		child(i);
	}
	tree_barrier_wait(N, recs);
	for (int i = 0; i < N; i++)
		pid[recs[i].tag] = recs[i].ids.pid;

	test_daemon();
	test_waitsig();

	tree_finish(pid[WITH], names[WITH]);
	tree_finish(pid[WITHOUT], names[WITHOUT]);
	/* The middle task's exit fires the grandchild's SIGUSR2. */
	tree_finish(pid[MIDDLE], names[MIDDLE]);
	snprintf(path, sizeof(path), "%s/deathsig", test_dir);
	for (deadline = tree_now_ms() + TREE_TIMEOUT_MS; read_file(path, msg, sizeof(msg)) <= 0;) {
		if (tree_now_ms() > deadline)
			fail("grandchild (pid %d) got no SIGUSR2 within %d ms of its parent's exit",
			     pid[GRAND], TREE_TIMEOUT_MS);
		tree_sleep_ms(5);
	}
	if (strcmp(msg, "ok"))
		fail("grandchild (pid %d): %s", pid[GRAND], msg);
	pass();
}
