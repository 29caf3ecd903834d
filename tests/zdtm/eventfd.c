// SPDX-License-Identifier: GPL-2.0
/*
 * eventfd: a semaphore-mode, non-blocking eventfd keeps its counter and
 * flags: it yields exactly its count of reads of 1, then EAGAIN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "zdtm.h"

#define COUNT 5

int main(int argc, char **argv)
{
	uint64_t v;
	int fd, n;

	test_init(argc, argv);
	fd = eventfd(2, EFD_NONBLOCK | EFD_SEMAPHORE | EFD_CLOEXEC);
	if (fd < 0 || eventfd_write(fd, COUNT - 2))
		fail("eventfd: %m");

	test_daemon();
	test_waitsig();

	for (n = 0; n < COUNT + 1; n++) {
		if (read(fd, &v, sizeof(v)) != sizeof(v))
			break;
		if (v != 1)
			fail("read %lu from a semaphore eventfd, expected 1", v);
	}
	if (n != COUNT || errno != EAGAIN)
		fail("%d reads before it %s, expected %d then EAGAIN", n,
		     n == COUNT + 1 ? "never stopped" : strerror(errno), COUNT);
	pass();
}
