// SPDX-License-Identifier: GPL-2.0
/*
 * clone_vm_tree: a tree in which memory is shared several ways.
 *
 *   root ─┬─ A   clone(CLONE_VM): the root's memory, its own handlers and fds
 *         │  ├─ B   fork: a memory of its own, a copy
 *         │  └─ C   clone(CLONE_VM | CLONE_FILES): the root's memory, A's fds
 *         └─ D   clone(CLONE_VM | CLONE_SIGHAND): the root's memory and handlers
 *
 * After restore: kcmp says the same (one mm for root, A, C, D; another for
 * B; one fd table for A and C; one handler table for root and D, another
 * for A); each keeps its parent; a word each sharer writes after restore is
 * the root's; B's memory still has its own value; an fd C opens after
 * restore is A's; a handler D sets is the root's, one A set is not.
 */
#include <linux/kcmp.h>
#include <sys/syscall.h>

#include "tree.h"

static volatile int ready, go, b_word = 1;
static volatile int word_a, word_c, word_d, c_fd = -1;
static volatile pid_t pid_b, pid_c;
static char msg[256];

static void h_winch(int sig)
{
	(void)sig;
}

static void h_usr2(int sig)
{
	(void)sig;
}

static void h_urg(int sig)
{
	(void)sig;
}

/* Plain syscalls only below: these tasks share glibc's data with the root. */
static void __attribute__((noreturn)) vm_fail(const char *what)
{
	snprintf(msg, sizeof(msg), "%s", what);
	_exit(1);
}

static void wait_go(void)
{
	struct timespec ts = {0, 1000000};

	while (!go)
		nanosleep(&ts, NULL);
}

static int run_b(void *arg)
{
	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	b_word = 2; /* its own copy */
	while (go != 2)
		pause();
	return 0;
}

static int run_c(void *arg)
{
	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	wait_go();
	c_fd = open("/dev/null", O_RDONLY);
	word_c = 0xc;
	_exit(c_fd < 0);
}

static int run_a(void *arg)
{
	struct sigaction sa = {.sa_handler = h_urg};
	int status;

	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (sigaction(SIGURG, &sa, NULL))
		vm_fail("A: sigaction");
	pid_b = tree_clone(run_b, 0, NULL);
	pid_c = tree_clone(run_c, CLONE_VM | CLONE_FILES, NULL);
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	wait_go();
	word_a = 0xa;
	if (waitpid(pid_c, &status, 0) != pid_c || status)
		vm_fail("A: C did not end well (or is not A's child)");
	if (fcntl(c_fd, F_GETFD) < 0)
		vm_fail("A: the fd C opened after restore is not in A's table");
	if (kill(pid_b, SIGKILL) || waitpid(pid_b, &status, 0) != pid_b)
		vm_fail("A: B is not A's child");
	_exit(0);
}

static int run_d(void *arg)
{
	struct sigaction sa = {.sa_handler = h_winch};

	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (sigaction(SIGWINCH, &sa, NULL))
		vm_fail("D: sigaction");
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	wait_go();
	sa.sa_handler = h_usr2;
	if (sigaction(SIGUSR2, &sa, NULL))
		vm_fail("D: sigaction");
	word_d = 0xd;
	_exit(0);
}

static void expect_kcmp(pid_t a, pid_t b, int type, int same, const char *what)
{
	int r = syscall(SYS_kcmp, a, b, type, 0, 0);

	if ((r == 0) != same)
		fail("kcmp(%d, %d, %s) = %d: they should %sshare it", a, b, what, r,
		     same ? "" : "not ");
}

static pid_t ppid_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, n, ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p, ") %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

static void collect(pid_t pid, const char *name)
{
	int status;

	if (tree_wait(pid, &status, 0, TREE_TIMEOUT_MS))
		fail("%s (pid %d) did not end", name, pid);
	if (status)
		fail("%s (pid %d): status %#x: %s", name, pid, status, msg);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	pid_t a, d, self = getpid();

	test_init(argc, argv);
	tree_init();
	a = tree_clone(run_a, CLONE_VM, NULL);
	d = tree_clone(run_d, CLONE_VM | CLONE_SIGHAND, NULL);
	for (long end = tree_now_ms() + TREE_TIMEOUT_MS; ready < 3; tree_sleep_ms(2))
		if (tree_now_ms() > end)
			fail("set-up: the children are not ready: %s", msg);

	test_daemon();
	test_waitsig();

	expect_kcmp(self, a, KCMP_VM, 1, "VM");
	expect_kcmp(self, pid_c, KCMP_VM, 1, "VM");
	expect_kcmp(self, d, KCMP_VM, 1, "VM");
	expect_kcmp(self, pid_b, KCMP_VM, 0, "VM");
	expect_kcmp(a, pid_c, KCMP_FILES, 1, "FILES");
	expect_kcmp(self, a, KCMP_FILES, 0, "FILES");
	expect_kcmp(self, d, KCMP_SIGHAND, 1, "SIGHAND");
	expect_kcmp(self, a, KCMP_SIGHAND, 0, "SIGHAND");
	if (ppid_of(a) != self || ppid_of(d) != self || ppid_of(pid_b) != a ||
	    ppid_of(pid_c) != a)
		fail("parents changed: A %d, D %d (root %d); B %d, C %d (A %d)", ppid_of(a),
		     ppid_of(d), self, ppid_of(pid_b), ppid_of(pid_c), a);
	if (b_word != 1)
		fail("B's write to its own copy shows in the root's memory");
	if (sigaction(SIGWINCH, NULL, &sa) || sa.sa_handler != h_winch)
		fail("the SIGWINCH handler D set before the checkpoint is not the root's");
	if (sigaction(SIGURG, NULL, &sa) || sa.sa_handler != SIG_DFL)
		fail("A's SIGURG handler (its own table) became the root's");
	go = 1;
	collect(a, "A");
	collect(d, "D");
	if (word_a != 0xa || word_c != 0xc || word_d != 0xd)
		fail("words the sharers wrote after restore: A %#x C %#x D %#x", word_a, word_c,
		     word_d);
	if (sigaction(SIGUSR2, NULL, &sa) || sa.sa_handler != h_usr2)
		fail("the SIGUSR2 handler D set after restore is not the root's");
	pass();
}
