// SPDX-License-Identifier: GPL-2.0
/*
 * pty: a pseudo-terminal inside the tree. The root holds the master; its
 * child made a session of its own and took the slave as its controlling
 * terminal (it leads the foreground group). The terminal has non-default
 * settings (no echo, no output processing, ^X as VINTR, 33x111 window),
 * a line of input the child has not read and a line of output the root has
 * not read. After restore the pty has the same index, the child's session,
 * foreground group and controlling terminal are the same (a write to
 * /dev/tty comes out of the root's master), settings and
 * window size are kept, both unread lines come out exactly, and new lines
 * pass both ways.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "tree.h"

#define INPUT	"line typed before\n"
#define OUTPUT	"output not yet read\n"
#define ROWS	33
#define COLS	111
#define VINTR_C 0x18

static void set_tty(int fd)
{
	struct winsize ws = {.ws_row = ROWS, .ws_col = COLS};
	struct termios t;

	if (tcgetattr(fd, &t))
		fail("tcgetattr: %m");
	t.c_lflag &= ~(ECHO | ECHOE | ECHOK | ECHONL);
	t.c_lflag |= ICANON;
	t.c_oflag &= ~OPOST;
	t.c_cc[VINTR] = VINTR_C;
	if (tcsetattr(fd, TCSANOW, &t) || ioctl(fd, TIOCSWINSZ, &ws))
		fail("tcsetattr: %m");
}

static void check_tty(int fd)
{
	struct winsize ws;
	struct termios t;

	if (tcgetattr(fd, &t) || ioctl(fd, TIOCGWINSZ, &ws))
		tree_fail("tcgetattr: %m");
	if ((t.c_lflag & (ECHO | ICANON)) != ICANON || (t.c_oflag & OPOST) ||
	    t.c_cc[VINTR] != VINTR_C)
		tree_fail("termios lflag %#x oflag %#x VINTR %#x, expected ICANON without ECHO, no "
			  "OPOST, VINTR %#x",
			  t.c_lflag, t.c_oflag, t.c_cc[VINTR], VINTR_C);
	if (ws.ws_row != ROWS || ws.ws_col != COLS)
		tree_fail("window %ux%u, expected %ux%u", ws.ws_row, ws.ws_col, ROWS, COLS);
}

static void __attribute__((noreturn)) child(const char *slave_path, int index)
{
	struct stat st;
	char buf[64] = "";
	int s, tty;
	pid_t sid;

	if ((sid = setsid()) < 0)
		tree_fail("setsid: %m");
	/* A session leader without a terminal opening one takes it as its own. */
	s = open(slave_path, O_RDWR | O_CLOEXEC);
	if (s < 0)
		tree_fail("open %s: %m", slave_path);
	if (write(s, OUTPUT, strlen(OUTPUT)) != (ssize_t)strlen(OUTPUT))
		tree_fail("write: %m");
	tree_ready(s);
	test_waitsig();
	if (getsid(0) != sid || tcgetsid(s) != sid || tcgetpgrp(s) != sid)
		tree_fail("session %d, terminal's session %d, foreground group %d; expected all %d",
			  getsid(0), tcgetsid(s), tcgetpgrp(s), sid);
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (tty < 0)
		tree_fail("no controlling terminal: open /dev/tty: %m");
	if (fstat(s, &st))
		tree_fail("fstat: %m");
	if ((int)minor(st.st_rdev) != index)
		tree_fail("the slave is pts %u, expected %d", minor(st.st_rdev), index);
	check_tty(s);
	/* Canonical mode: one read gives the whole line, no more. */
	tree_read_exact(s, buf, strlen(INPUT), "input typed before the checkpoint");
	if (strcmp(buf, INPUT))
		tree_fail("input '%s', expected '%s'", buf, INPUT);
	tree_expect_empty(s, "input");
	/* Through /dev/tty: the root reads it from the master only if this is our terminal. */
	if (write(tty, "after\n", 6) != 6)
		tree_fail("write to /dev/tty: %m");
	memset(buf, 0, sizeof(buf));
	tree_read_exact(s, buf, 6, "input typed after restore");
	if (strcmp(buf, "again\n"))
		tree_fail("input '%s', expected 'again'", buf);
	tree_pass();
}

int main(int argc, char **argv)
{
	char slave_path[64], buf[64] = "";
	int m, s, index, n = 0;
	struct tree_rec rec;
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m) || ioctl(m, TIOCGPTN, &index))
		fail("posix_openpt: %m");
	snprintf(slave_path, sizeof(slave_path), "/dev/pts/%d", index);
	s = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		fail("open %s: %m", slave_path);
	set_tty(s);
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		close(m);
		close(s);
		child(slave_path, index);
	}
	tree_barrier_wait(1, &rec);
	if (write(m, INPUT, strlen(INPUT)) != (ssize_t)strlen(INPUT))
		fail("write: %m");
	/* The line discipline takes input in the background: wait until it holds the line. */
	for (long deadline = tree_now_ms() + TREE_TIMEOUT_MS; n < (int)strlen(INPUT);) {
		if (ioctl(s, FIONREAD, &n) || tree_now_ms() > deadline)
			fail("the input line never reached the slave (%d bytes)", n);
		tree_sleep_ms(2);
	}
	close(s);

	test_daemon();
	test_waitsig();

	if (ioctl(m, TIOCGPTN, &n) || n != index)
		fail("the master is pty %d, expected %d", n, index);
	tree_read_exact(m, buf, strlen(OUTPUT), "output written before the checkpoint");
	if (strcmp(buf, OUTPUT))
		fail("output '%s', expected '%s'", buf, OUTPUT);
	tree_expect_empty(m, "output");
	tree_stop(pid, "child");
	memset(buf, 0, sizeof(buf));
	tree_read_exact(m, buf, 6, "output written after restore");
	if (strcmp(buf, "after\n"))
		fail("output '%s', expected 'after'", buf);
	if (write(m, "again\n", 6) != 6)
		fail("write: %m");
	tree_collect(pid, "child");
	pass();
}
