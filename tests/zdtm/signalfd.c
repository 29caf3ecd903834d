// SPDX-License-Identifier: GPL-2.0
/*
 * signalfd: a non-blocking signalfd for SIGUSR1 and SIGRTMIN+2, with those
 * signals blocked and pending (SIGUSR1 once from kill(), SIGRTMIN+2 twice
 * with values), and SIGHUP blocked and pending but outside the fd's mask.
 * After restore the fd keeps its mask (fdinfo) and flags, reads exactly
 * the pending signals with their siginfo, in order, then EAGAIN; SIGHUP
 * stays pending and unread; a signal sent after restore is read too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

static void queue(int sig, int value)
{
	siginfo_t si = {.si_signo = sig, .si_code = SI_QUEUE};

	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	if (syscall(SYS_rt_sigqueueinfo, getpid(), sig, &si))
		fail("rt_sigqueueinfo: %m");
}

static void expect(int fd, int sig, int code, int value)
{
	struct signalfd_siginfo si;
	ssize_t r = read(fd, &si, sizeof(si));

	if (r != sizeof(si))
		fail("signalfd read: %zd (%m), expected signal %d", r, sig);
	if ((int)si.ssi_signo != sig || si.ssi_code != code || (int)si.ssi_pid != getpid() ||
	    (code == SI_QUEUE && si.ssi_int != value))
		fail("signalfd gave signal %u code %d pid %u value %d, expected %d %d %d %d",
		     si.ssi_signo, si.ssi_code, si.ssi_pid, si.ssi_int, sig, code, getpid(), value);
}

/* The "sigmask:" line of the fd's fdinfo: the signals it reads. */
static uint64_t fdinfo_sigmask(int fd)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "sigmask:")))
		fail("no sigmask in %s", path);
	return strtoull(p + 8, NULL, 16);
}

int main(int argc, char **argv)
{
	uint64_t want = 1ULL << (SIGUSR1 - 1) | 1ULL << (SIGRTMIN + 2 - 1);
	sigset_t block, fdset, pend;
	struct signalfd_siginfo si;
	int fd;

	test_init(argc, argv);
	sigemptyset(&fdset);
	sigaddset(&fdset, SIGUSR1);
	sigaddset(&fdset, SIGRTMIN + 2);
	block = fdset;
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	fd = signalfd(-1, &fdset, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		fail("signalfd: %m");
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGHUP);
	queue(SIGRTMIN + 2, 1);
	queue(SIGRTMIN + 2, 2);
	if (fdinfo_sigmask(fd) != want)
		fail("set-up: fdinfo sigmask %#lx, expected %#lx", fdinfo_sigmask(fd), want);

	test_daemon();
	test_waitsig();

	if (fdinfo_sigmask(fd) != want)
		fail("fdinfo sigmask %#lx, expected %#lx", fdinfo_sigmask(fd), want);
	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
		fail("the signalfd lost O_NONBLOCK");
	expect(fd, SIGUSR1, SI_USER, 0);
	expect(fd, SIGRTMIN + 2, SI_QUEUE, 1);
	expect(fd, SIGRTMIN + 2, SI_QUEUE, 2);
	if (read(fd, &si, sizeof(si)) != -1 || errno != EAGAIN)
		fail("signalfd: more than the pending signals (signal %u), or no EAGAIN",
		     si.ssi_signo);
	if (sigpending(&pend) || !sigismember(&pend, SIGHUP) || sigismember(&pend, SIGUSR1))
		fail("pending set: SIGHUP %s, SIGUSR1 %s; expected SIGHUP only",
		     sigismember(&pend, SIGHUP) ? "pending" : "gone",
		     sigismember(&pend, SIGUSR1) ? "pending" : "read");
	kill(getpid(), SIGUSR1);
	expect(fd, SIGUSR1, SI_USER, 0);
	pass();
}
