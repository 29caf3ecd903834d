/*
 * shell_pipeline: a real shell pipeline in the tree, `sh -c 'loop | cat >
 * seq'`: exec'd children, a pipe between them, short-lived sleeps. After
 * restore the numbers in seq must go on, one after another, none lost or
 * repeated (a pipe's data dropped or doubled would show).
 * The tree is busy by design (tests/lib/snapshot.sh): a new sleep every
 * 20 ms, and cat's output grows:
 * zdtm-snapshot-transient: sleep
 * zdtm-snapshot-allow: fd\.1\.info\.pos
 * and the loop's shell (dash) blocks every signal while it vforks each
 * sleep, until that sleep has exec'd, and takes a SIGCHLD when it ends: a
 * snapshot that falls in either moment (more often under load, when the
 * exec is slow) sees that mask or that signal pending, the next one not
 * (seen in the twice flavour, 2 runs of 37 under load, the loop's shell
 * only: SigBlk.1-64 '1' before, none after; ShdPnd.17 none before, '1'
 * after):
 * zdtm-snapshot-allow: status\.SigBlk\.[0-9]+
 * zdtm-snapshot-allow: status\.ShdPnd\.17
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "zdtm.h"

/*
 * The last number in seq after checking they all follow; -1 if none, -2 if
 * broken. A last line still being written (no newline yet) is left out.
 */
static long check_seq(const char *path, char *why, size_t len)
{
	static char buf[1 << 20];
	long prev = -1;
	ssize_t n;
	char *p, *nl;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	for (p = buf; (nl = strchr(p, '\n')); p = nl + 1) {
		long v = strtol(p, NULL, 10);

		if (v != prev + 1) {
			snprintf(why, len, "%ld after %ld", v, prev);
			return -2;
		}
		prev = v;
	}
	return prev;
}

int main(int argc, char **argv)
{
	char *seq, cmd[4400], why[128] = "";
	long before, after;
	pid_t sh;

	test_init(argc, argv);
	seq = test_path("seq");
	snprintf(cmd, sizeof(cmd),
		 "i=0; while :; do echo $i; i=$((i+1)); sleep 0.02; done | cat > '%s'", seq);
	sh = fork();
	if (sh == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(sh, sh);
	for (int i = 0; i < 500 && check_seq(seq, why, sizeof(why)) < 5; i++)
		usleep(10000);
	test_daemon();
	test_waitsig();
	before = check_seq(seq, why, sizeof(why));
	usleep(300000);
	after = check_seq(seq, why, sizeof(why));
	kill(-sh, SIGKILL);
	waitpid(sh, NULL, 0);
	if (before == -2 || after == -2)
		fail("the numbers do not follow: %s", why);
	if (after <= before)
		fail("the pipeline stopped at %ld", after);
	pass();
}
