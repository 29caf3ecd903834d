// SPDX-License-Identifier: GPL-2.0
/*
 * exe_deleted: a program whose file was deleted while it runs (as after an
 * upgrade): the test copies itself, runs the copy and deletes it. After
 * restore the task runs the same program, still deleted, and nothing is
 * left at its old name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

static void copy_self(const char *to)
{
	struct stat st;
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);

	if (in < 0 || out < 0 || fstat(in, &st) ||
	    sendfile(out, in, NULL, st.st_size) != st.st_size || close(out))
		fail("copying the program to %s: %m", to);
	close(in);
}

int main(int argc, char **argv)
{
	char prog[4096], link[4200], want[4200];
	ssize_t n;

	if (argc < 2)
		return 2;
	snprintf(prog, sizeof(prog), "%s/prog", argv[1]);
	if (argc == 2) {
		test_init(argc, argv);
		copy_self(prog);
		execl(prog, prog, argv[1], "copy", (char *)NULL);
		fail("exec %s: %m", prog);
	}
	test_init(2, argv);
	if (unlink(prog))
		fail("unlink %s: %m", prog);

	test_daemon();
	test_waitsig();

	n = readlink("/proc/self/exe", link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	snprintf(want, sizeof(want), "%s (deleted)", prog);
	if (strcmp(link, want))
		fail("the program is '%s', expected '%s'", link, want);
	if (access(prog, F_OK) == 0 || errno != ENOENT)
		fail("%s exists again after restore", prog);
	pass();
}
