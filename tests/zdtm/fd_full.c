// SPDX-License-Identifier: GPL-2.0
/*
 * fd_full: every descriptor the task may have is open (RLIMIT_NOFILE soft
 * limit reached) when it is frozen. nestor's parasite cannot make its
 * socket to nestor there (EMFILE): it must fall back to stopping at every
 * syscall, and the task must come back with exactly its descriptors, still
 * full, and its limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "zdtm.h"

#define LIMIT 40

static int fill(void)
{
	int last = -1, fd;

	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		last = fd;
	if (errno != EMFILE)
		fail("open: %s, expected EMFILE", strerror(errno));
	return last;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int last;

	test_init(argc, argv);
	if (getrlimit(RLIMIT_NOFILE, &rl))
		fail("getrlimit: %m");
	rl.rlim_cur = LIMIT;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		fail("setrlimit: %m");
	/* One left for test_daemon's file, then that one too. */
	last = fill();
	close(last);
	test_daemon();
	if ((last = open("/dev/null", O_RDONLY)) < 0)
		fail("the last descriptor: %m");
	test_waitsig();

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur != LIMIT)
		fail("soft RLIMIT_NOFILE %llu, expected %d", (unsigned long long)rl.rlim_cur, LIMIT);
	if (open("/dev/null", O_RDONLY) >= 0 || errno != EMFILE)
		fail("a descriptor was free after restore (%s)", strerror(errno));
	for (int fd = 3; fd < LIMIT; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			fail("descriptor %d is gone", fd);
	close(last); /* room for the result */
	pass();
}
