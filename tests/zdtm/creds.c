// SPDX-License-Identifier: GPL-2.0
/*
 * creds: a task that dropped root to distinct real, effective, saved and
 * filesystem ids, with supplementary groups. All of them come back. The
 * runner makes WORKDIR writable by anyone so the result can still be written.
 */
#include <grp.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include "zdtm.h"

static const gid_t groups[] = {100, 1000, 65534};

static void check(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg, got[16];
	int n;

	if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
		fail("getresuid: %m");
	if (r != 1000 || e != 1001 || s != 1002)
		fail("uids %d/%d/%d, expected 1000/1001/1002", r, e, s);
	if (rg != 2000 || eg != 2001 || sg != 2002)
		fail("gids %d/%d/%d, expected 2000/2001/2002", rg, eg, sg);
	/* An invalid id changes nothing and returns the current one. */
	if (setfsuid(-1) != 1002 || setfsgid(-1) != 2000)
		fail("fsuid %d fsgid %d, expected 1002 2000", setfsuid(-1), setfsgid(-1));
	n = getgroups(16, got);
	if (n != 3 || got[0] != groups[0] || got[1] != groups[1] || got[2] != groups[2])
		fail("%d groups (%d %d %d ...), expected 3: 100 1000 65534", n,
		     n > 0 ? (int)got[0] : -1, n > 1 ? (int)got[1] : -1, n > 2 ? (int)got[2] : -1);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (geteuid() != 0)
		skip("needs root to change ids");
	if (setgroups(3, groups) || setresgid(2000, 2001, 2002) || setresuid(1000, 1001, 1002))
		fail("dropping ids: %m");
	/* Allowed unprivileged: both are one of the current ids. */
	setfsuid(1002);
	setfsgid(2000);
	check();

	test_daemon();
	test_waitsig();

	check();
	pass();
}
