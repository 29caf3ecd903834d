/*
 * The workload of the --shell-job test: a job started from a shell on a
 * terminal (not a session leader, its own group, in the foreground, stdio
 * on the terminal). After restore the same must hold.
 */
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "zdtm.h"

static volatile sig_atomic_t got_ttou;

static void on_ttou(int sig)
{
	got_ttou = 1;
}

int main(int argc, char **argv)
{
	char before[64], *now;
	pid_t sid, pid;
	struct termios tio;

	test_init(argc, argv);
	pid = getpid();
	sid = getsid(0);
	if (!isatty(0) || !ttyname(0) || sid == pid || getpgrp() != pid)
		fail("not started as a shell job (sid %d pid %d pgrp %d)", sid, pid, getpgrp());
	snprintf(before, sizeof(before), "%s", ttyname(0));
	if (tcgetattr(0, &tio))
		fail("tcgetattr: %m");
	test_daemon();
	test_waitsig();
	for (int fd = 0; fd < 3; fd++) {
		now = ttyname(fd);
		if (!now || strcmp(now, before))
			fail("fd %d is %s, expected the terminal %s", fd, now ? now : "no tty", before);
	}
	if (getsid(0) != sid)
		fail("session %d, expected the shell's %d", getsid(0), sid);
	if (getpgrp() != pid)
		fail("process group %d, expected %d", getpgrp(), pid);
	if (tcgetpgrp(0) != pid)
		fail("foreground group of the terminal is %d, expected %d", tcgetpgrp(0), pid);
	/*
	 * tcgetpgrp() shows a number, which a dead group of the same pid still
	 * has: only the kernel's own check tells the foreground. A background
	 * group gets SIGTTOU for tcsetattr (and EINTR without SA_RESTART).
	 */
	struct sigaction sa = { .sa_handler = on_ttou };
	sigaction(SIGTTOU, &sa, NULL);
	if (tcsetattr(0, TCSANOW, &tio) || got_ttou)
		fail("the job is not in the foreground after restore (SIGTTOU on tcsetattr)");
	int fd = open("/dev/tty", O_RDWR);
	if (fd < 0)
		fail("no controlling terminal after restore: %m");
	close(fd);
	pass();
}
