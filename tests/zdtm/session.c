// SPDX-License-Identifier: GPL-2.0
/*
 * session: the test leads its own session and process group (the runner
 * starts it with setsid); after restore both ids still equal its pid.
 */
#include <unistd.h>

#include "zdtm.h"

int main(int argc, char **argv)
{
	pid_t pid = getpid();

	test_init(argc, argv);
	if (getsid(0) != pid && setsid() < 0)
		fail("not a session leader and setsid failed: %m");

	test_daemon();
	test_waitsig();

	if (getsid(0) != pid || getpgid(0) != pid || getpid() != pid)
		fail("pid %d sid %d pgid %d, expected all %d", getpid(), getsid(0), getpgid(0),
		     pid);
	pass();
}
