// SPDX-License-Identifier: GPL-2.0
/*
 * personality: ADDR_NO_RANDOMIZE | UNAME26 is kept; UNAME26 also shows in
 * what uname() reports, a behaviour and not just a stored number.
 */
#include <string.h>
#include <sys/personality.h>
#include <sys/utsname.h>

#include "zdtm.h"

#define PERS (ADDR_NO_RANDOMIZE | UNAME26)

int main(int argc, char **argv)
{
	struct utsname u;
	int p;

	test_init(argc, argv);
	if (personality(PERS) < 0)
		fail("personality: %m");

	test_daemon();
	test_waitsig();

	p = personality(0xffffffff);
	if (p != PERS)
		fail("personality %#x, expected %#x", p, PERS);
	if (uname(&u) || strncmp(u.release, "2.6.", 4))
		fail("uname release '%s', expected 2.6.x under UNAME26", u.release);
	pass();
}
