// SPDX-License-Identifier: GPL-2.0
/*
 * fown: signal-driven I/O. A pipe's read end with O_ASYNC, owned by the
 * task (F_SETOWN_EX, F_OWNER_PID) and signalling SIGRTMIN+2 (F_SETSIG);
 * a second pipe owned by the task's group (F_SETOWN with -pgid), default
 * SIGIO; a unix socket pair whose first end has O_ASYNC, owned by the task
 * with SIGRTMIN+3. After restore the owners and signals read back the same,
 * and a write into each pipe (or to the socket) delivers its signal, the
 * real-time ones with si_fd naming the receiving fd and si_code POLL_IN.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

static volatile sig_atomic_t rt_fd = -1, rt_code, io_count, sk_fd = -1;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	rt_fd = si->si_fd;
	rt_code = si->si_code;
}

static void on_sk(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	sk_fd = si->si_fd;
}

static void on_io(int sig)
{
	(void)sig;
	io_count++;
}

static void wait_for(volatile sig_atomic_t *v, int unset, const char *what)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 300 && *v == unset; i++)
		nanosleep(&ts, NULL);
	if (*v == unset)
		fail("no %s after a write into the pipe", what);
}

static void check_owner(int fd, int type, pid_t pid, int sig)
{
	struct f_owner_ex o;
	int got = fcntl(fd, F_GETSIG);

	if (fcntl(fd, F_GETOWN_EX, &o) || (int)o.type != type || o.pid != pid || got != sig ||
	    !(fcntl(fd, F_GETFL) & O_ASYNC))
		fail("fd %d: owner type %d id %d signal %d flags %#x, expected %d %d %d with O_ASYNC",
		     fd, o.type, o.pid, got, fcntl(fd, F_GETFL), type, pid, sig);
}

int main(int argc, char **argv)
{
	struct sigaction rt = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigaction io = { .sa_handler = on_io, .sa_flags = SA_RESTART };
	struct sigaction sk = { .sa_sigaction = on_sk, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct f_owner_ex me;
	int a[2], b[2], s[2];
	char c;

	test_init(argc, argv);
	me = (struct f_owner_ex){ F_OWNER_PID, getpid() };
	if (sigaction(SIGRTMIN + 2, &rt, NULL) || sigaction(SIGIO, &io, NULL) ||
	    sigaction(SIGRTMIN + 3, &sk, NULL))
		fail("sigaction: %m");
	if (pipe2(a, O_NONBLOCK | O_CLOEXEC) || pipe2(b, O_NONBLOCK | O_CLOEXEC))
		fail("pipe2: %m");
	if (fcntl(a[0], F_SETOWN_EX, &me) || fcntl(a[0], F_SETSIG, SIGRTMIN + 2) ||
	    fcntl(a[0], F_SETFL, O_NONBLOCK | O_ASYNC))
		fail("set up pipe a: %m");
	if (fcntl(b[0], F_SETOWN, -getpgrp()) || fcntl(b[0], F_SETFL, O_NONBLOCK | O_ASYNC))
		fail("set up pipe b: %m");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s) ||
	    fcntl(s[0], F_SETOWN_EX, &me) || fcntl(s[0], F_SETSIG, SIGRTMIN + 3) ||
	    fcntl(s[0], F_SETFL, O_NONBLOCK | O_ASYNC))
		fail("set up the socket pair: %m");
	if (write(a[1], "x", 1) != 1)
		fail("write: %m");
	wait_for(&rt_fd, -1, "SIGRTMIN+2 before the checkpoint");
	if (read(a[0], &c, 1) != 1)
		fail("read: %m");
	rt_fd = -1;

	test_daemon();
	test_waitsig();

	check_owner(a[0], F_OWNER_PID, getpid(), SIGRTMIN + 2);
	check_owner(b[0], F_OWNER_PGRP, getpgrp(), 0);
	check_owner(s[0], F_OWNER_PID, getpid(), SIGRTMIN + 3);
	if (write(a[1], "y", 1) != 1 || write(b[1], "z", 1) != 1)
		fail("write: %m");
	wait_for(&rt_fd, -1, "SIGRTMIN+2");
	if (rt_fd != a[0] || rt_code != POLL_IN)
		fail("SIGRTMIN+2 with si_fd %d si_code %d, expected %d and POLL_IN", rt_fd,
		     rt_code, a[0]);
	wait_for(&io_count, 0, "SIGIO");
	if (write(s[1], "s", 1) != 1)
		fail("write to the socket: %m");
	wait_for(&sk_fd, -1, "SIGRTMIN+3");
	if (sk_fd != s[0])
		fail("SIGRTMIN+3 with si_fd %d, expected %d", sk_fd, s[0]);
	pass();
}
