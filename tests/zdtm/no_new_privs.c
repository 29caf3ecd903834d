// SPDX-License-Identifier: GPL-2.0
/* no_new_privs: PR_SET_NO_NEW_PRIVS is a one-way flag and must stay set. */
#include <sys/prctl.h>

#include "zdtm.h"

int main(int argc, char **argv)
{
	int v;

	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fail("PR_SET_NO_NEW_PRIVS: %m");

	test_daemon();
	test_waitsig();

	v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (v != 1)
		fail("no_new_privs is %d, expected 1", v);
	pass();
}
