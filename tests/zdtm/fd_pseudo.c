// SPDX-License-Identifier: GPL-2.0
/*
 * fd_pseudo: descriptors of files the kernel makes as they are read (proc,
 * sysfs): they come back reading the same kind of content, at their offset,
 * though their times and sizes mean nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtm.h"

static int open_at(const char *path, off_t off)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, off) != off)
		fail("open %s: %m", path);
	return fd;
}

static void check(int fd, off_t off, const char *start, const char *what)
{
	char buf[256];
	ssize_t n;

	if (lseek(fd, 0, SEEK_CUR) != off)
		fail("%s: offset %ld, expected %ld", what, (long)lseek(fd, 0, SEEK_CUR), (long)off);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n < 0 ? 0 : n] = '\0';
	if (strncmp(buf, start, strlen(start)))
		fail("%s reads '%.30s', expected '%s...'", what, buf, start);
}

int main(int argc, char **argv)
{
	int meminfo, pid_max, sys;

	test_init(argc, argv);
	meminfo = open_at("/proc/meminfo", 5);
	pid_max = open_at("/proc/sys/kernel/pid_max", 1);
	sys = open_at("/sys/kernel/mm/transparent_hugepage/enabled", 2);

	test_daemon();
	test_waitsig();

	check(meminfo, 5, "MemTotal:", "/proc/meminfo");
	check(pid_max, 1, "", "/proc/sys/kernel/pid_max");
	check(sys, 2, "", "/sys/kernel/mm/transparent_hugepage/enabled");
	pass();
}
