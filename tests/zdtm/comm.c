// SPDX-License-Identifier: GPL-2.0
/* comm: the task name set with PR_SET_NAME (not the program's) is kept. */
#include <string.h>
#include <sys/prctl.h>

#include "zdtm.h"

#define NAME "zdtm comm(x)1"

int main(int argc, char **argv)
{
	char got[32], proc[32];

	test_init(argc, argv);
	if (prctl(PR_SET_NAME, NAME, 0, 0, 0))
		fail("PR_SET_NAME: %m");

	test_daemon();
	test_waitsig();

	if (prctl(PR_GET_NAME, got, 0, 0, 0))
		fail("PR_GET_NAME: %m");
	if (strcmp(got, NAME))
		fail("comm '%s', expected '%s'", got, NAME);
	if (read_file("/proc/self/comm", proc, sizeof(proc)) < 0 || strcmp(proc, NAME "\n"))
		fail("/proc/self/comm '%s', expected '%s'", proc, NAME);
	pass();
}
