// SPDX-License-Identifier: GPL-2.0
/*
 * clone_sighand: a child made with clone(CLONE_VM | CLONE_SIGHAND) shares
 * the root's signal handler table (and, as the kernel demands, its
 * memory). After restore the table is still one (kcmp KCMP_SIGHAND): the
 * handler the child set before the checkpoint is the root's, one the root
 * sets after restore is the child's and the other way round, flags and
 * masks included.
 */
#include <linux/kcmp.h>
#include <sys/syscall.h>

#include "tree.h"

#define FLAGS (SA_SIGINFO | SA_RESTART | SA_NODEFER | SA_ONSTACK | SA_RESETHAND)

static volatile int hits;

static void h_usr1(int sig)
{
	(void)sig;
	hits += 1;
}

static void h_hup(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	hits += 10;
}

static void h_winch(int sig)
{
	(void)sig;
	hits += 100;
}

static int set(int sig, void *fn, int flags, int masked)
{
	struct sigaction sa = {.sa_flags = flags};

	sa.sa_handler = (void (*)(int))fn;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, masked);
	return sigaction(sig, &sa, NULL);
}

/* 0 when sig has this handler, flags and mask; else what differs. */
static const char *differs(int sig, void *fn, int flags, int masked)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa))
		return "sigaction failed";
	if ((void *)sa.sa_handler != fn)
		return "another handler";
	if ((unsigned int)(sa.sa_flags & FLAGS) != (unsigned int)flags)
		return "other flags";
	if (!sigismember(&sa.sa_mask, masked) || sigismember(&sa.sa_mask, SIGQUIT))
		return "another mask";
	return NULL;
}

static int child(void *arg)
{
	const char *d;

	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (set(SIGUSR1, h_usr1, SA_RESTART, SIGHUP))
		tree_vm_fail("sigaction failed");
	tree_vm.ready = 1;
	tree_vm_wait();
	if ((d = differs(SIGHUP, h_hup, SA_SIGINFO | SA_NODEFER, SIGUSR2)))
		tree_vm_fail("SIGHUP set by the root after restore: the child sees %s", d);
	if (set(SIGWINCH, h_winch, SA_RESETHAND, SIGALRM))
		tree_vm_fail("sigaction failed");
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *d;
	pid_t pid;
	int r;

	test_init(argc, argv);
	tree_init();
	pid = tree_clone(child, CLONE_VM | CLONE_SIGHAND, NULL);
	tree_vm_ready(pid);
	if ((d = differs(SIGUSR1, h_usr1, SA_RESTART, SIGHUP)))
		fail("set-up: SIGUSR1 set by the child: the root sees %s", d);

	test_daemon();
	test_waitsig();

	r = syscall(SYS_kcmp, getpid(), pid, KCMP_SIGHAND, 0, 0);
	if (r)
		fail("kcmp(KCMP_SIGHAND) with the child: %d (%m), expected 0 (one table)", r);
	if ((d = differs(SIGUSR1, h_usr1, SA_RESTART, SIGHUP)))
		fail("SIGUSR1 set by the child before the checkpoint: the root sees %s", d);
	if (set(SIGHUP, h_hup, SA_SIGINFO | SA_NODEFER, SIGUSR2))
		fail("sigaction: %m");
	tree_vm_collect(pid, "child");
	if ((d = differs(SIGWINCH, h_winch, SA_RESETHAND, SIGALRM)))
		fail("SIGWINCH set by the child after restore: the root sees %s", d);
	/* And the handlers run, for the root, as the child set them. */
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGWINCH);
	if (hits != 101)
		fail("handlers ran %d times (ones: SIGUSR1, hundreds: SIGWINCH), expected 101",
		     hits);
	pass();
}
