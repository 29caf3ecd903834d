// SPDX-License-Identifier: GPL-2.0
/*
 * unix_gone_name: unix sockets whose names were removed after bind: a
 * listener bound in a directory since removed, and a datagram socket whose
 * path is now a FIFO. Both come back bound to their names; the directory
 * stays removed and the FIFO stays where it is, the same FIFO.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtm.h"

static int bound(int type, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail("bind %s: %m", path);
	return fd;
}

static void check_name(int fd, const char *path)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) || strcmp(sa.sun_path, path))
		fail("socket is bound to '%s', expected '%s'", len > 2 ? sa.sun_path : "", path);
}

int main(int argc, char **argv)
{
	char *dir, *in_dir, *taken;
	struct stat st, now;
	int l, d;

	test_init(argc, argv);
	dir = test_path("d");
	in_dir = test_path("d/listener");
	taken = test_path("dgram");
	if (strlen(in_dir) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		skip("work dir path too long for a socket name");
	if (mkdir(dir, 0755))
		fail("mkdir: %m");
	l = bound(SOCK_STREAM, in_dir);
	if (listen(l, 4) || unlink(in_dir) || rmdir(dir))
		fail("listener: %m");
	d = bound(SOCK_DGRAM, taken);
	if (unlink(taken) || mkfifo(taken, 0600) || stat(taken, &st))
		fail("fifo over the name: %m");

	test_daemon();
	test_waitsig();

	check_name(l, in_dir);
	check_name(d, taken);
	if (access(dir, F_OK) == 0 || errno != ENOENT)
		fail("%s exists again after restore", dir);
	if (stat(taken, &now) || !S_ISFIFO(now.st_mode) || now.st_ino != st.st_ino)
		fail("%s is no longer the FIFO it was", taken);
	pass();
}
