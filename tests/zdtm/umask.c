// SPDX-License-Identifier: GPL-2.0
/* umask: the file mode creation mask is kept and still applies to new files. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

#define MASK 0027

int main(int argc, char **argv)
{
	char *path;
	struct stat st;
	mode_t m;
	int fd;

	test_init(argc, argv);
	umask(MASK);

	test_daemon();
	test_waitsig();

	m = umask(MASK);
	if (m != MASK)
		fail("umask %#o, expected %#o", m, MASK);
	path = test_path("umask.file");
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	if (fd < 0 || fstat(fd, &st))
		fail("creating %s: %m", path);
	if ((st.st_mode & 0777) != (0666 & ~MASK))
		fail("new file mode %#o, expected %#o", st.st_mode & 0777, 0666 & ~MASK);
	close(fd);
	pass();
}
