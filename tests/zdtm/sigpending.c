// SPDX-License-Identifier: GPL-2.0
/*
 * sigpending: blocked signals pending at checkpoint, in the process queue
 * (kill, sigqueue) and in the thread queue (tgkill, rt_tgsigqueueinfo), and
 * real-time signals queued several times with values. After unblocking,
 * each must arrive with its siginfo (code, value, sender), the real-time
 * ones as many times as sent and in the order sent.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

struct sent {
	int sig, code, value;
	bool thread; /* thread-private queue */
};

static struct sent sent[16];
static int nsent;
static struct {
	int sig, code, value, pid;
} got[32];
static volatile int ngot;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (ngot < 32) {
		got[ngot].sig = sig;
		got[ngot].code = si->si_code;
		got[ngot].value = si->si_code == SI_QUEUE ? si->si_value.sival_int : 0;
		got[ngot].pid = si->si_pid;
	}
	ngot++;
}

static void send(int sig, int code, int value, bool thread)
{
	siginfo_t si = {.si_signo = sig, .si_code = code};
	int r;

	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	if (code == SI_USER)
		r = kill(getpid(), sig);
	else if (code == SI_TKILL)
		r = syscall(SYS_tgkill, getpid(), gettid(), sig);
	else if (thread)
		r = syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, &si);
	else
		r = syscall(SYS_rt_sigqueueinfo, getpid(), sig, &si);
	if (r)
		fail("sending signal %d: %m", sig);
	sent[nsent++] = (struct sent){sig, code, value, thread || code == SI_TKILL};
}

/* SigPnd (thread) or ShdPnd (process) from /proc/self/status. */
static uint64_t proc_pending(const char *field)
{
	char buf[4096], *p;

	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0 || !(p = strstr(buf, field)))
		fail("no %s in /proc/self/status", field);
	return strtoull(p + strlen(field), NULL, 16);
}

static void check_queues(void)
{
	uint64_t thread = 0, shared = 0;

	for (int i = 0; i < nsent; i++)
		*(sent[i].thread ? &thread : &shared) |= 1ULL << (sent[i].sig - 1);
	if (proc_pending("SigPnd:") != thread || proc_pending("ShdPnd:") != shared)
		fail("pending: thread %#lx, process %#lx; expected thread %#lx, process %#lx",
		     proc_pending("SigPnd:"), proc_pending("ShdPnd:"), thread, shared);
}

int main(int argc, char **argv)
{
	const int sigs[] = {SIGUSR1, SIGUSR2, SIGHUP, SIGRTMIN + 1, SIGRTMIN + 4, SIGRTMAX - 1};
	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO};
	sigset_t block;

	test_init(argc, argv);
	sigemptyset(&block);
	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&block, sigs[i]);
		/* Handlers block everything, so they cannot interleave. */
		sigaddset(&sa.sa_mask, sigs[i]);
	}
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			fail("sigaction: %m");
	sigprocmask(SIG_BLOCK, &block, NULL);
	send(SIGUSR1, SI_USER, 0, false);
	send(SIGUSR2, SI_QUEUE, 0x2222, false);
	send(SIGHUP, SI_TKILL, 0, true);
	for (int v = 1; v <= 3; v++)
		send(SIGRTMIN + 1, SI_QUEUE, 100 + v, false);
	send(SIGRTMIN + 4, SI_QUEUE, 401, true);
	send(SIGRTMIN + 4, SI_QUEUE, 402, true);
	send(SIGRTMAX - 1, SI_QUEUE, 999, false);
	check_queues();

	test_daemon();
	test_waitsig();

	check_queues();
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	if (ngot != nsent)
		fail("%d signals delivered, expected %d", ngot, nsent);
	/* Match each sent signal to the next delivery of the same number. */
	for (int i = 0, from[65] = {}; i < nsent; i++) {
		int j = from[sent[i].sig];

		while (j < ngot && got[j].sig != sent[i].sig)
			j++;
		if (j == ngot)
			fail("signal %d (value %d) never arrived", sent[i].sig, sent[i].value);
		if (got[j].code != sent[i].code || got[j].value != sent[i].value ||
		    got[j].pid != getpid())
			fail("signal %d arrived with code %d value %d pid %d, expected code %d "
			     "value %d pid %d",
			     sent[i].sig, got[j].code, got[j].value, got[j].pid, sent[i].code,
			     sent[i].value, getpid());
		from[sent[i].sig] = j + 1;
	}
	pass();
}
