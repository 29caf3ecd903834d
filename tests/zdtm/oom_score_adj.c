// SPDX-License-Identifier: GPL-2.0
/* oom_score_adj: a raised /proc/self/oom_score_adj is kept. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "zdtm.h"

#define ADJ 500

int main(int argc, char **argv)
{
	char buf[32];
	int fd;

	test_init(argc, argv);
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "500", 3) != 3)
		fail("writing oom_score_adj: %m");
	close(fd);

	test_daemon();
	test_waitsig();

	if (read_file("/proc/self/oom_score_adj", buf, sizeof(buf)) < 0)
		fail("reading oom_score_adj: %m");
	if (atoi(buf) != ADJ)
		fail("oom_score_adj %d, expected %d", atoi(buf), ADJ);
	pass();
}
