// SPDX-License-Identifier: GPL-2.0
/*
 * memfd: a memfd with content, seals, and a shared mapping of it. Name,
 * content and seals come back, and the mapping and the descriptor still
 * share the same pages.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtm.h"

#define SIZE  (4 * PAGE_SIZE)
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

int main(int argc, char **argv)
{
	char proc[64], link[PATH_MAX], buf[16];
	char *map;
	ssize_t n;
	int fd, seals;

	test_init(argc, argv);
	fd = memfd_create("zdtm-memfd", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, SIZE))
		fail("memfd_create: %m");
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	memset(map, 'm', PAGE_SIZE);
	if (pwrite(fd, "written", 7, 2 * PAGE_SIZE) != 7 || fcntl(fd, F_ADD_SEALS, SEALS))
		fail("pwrite or F_ADD_SEALS: %m");

	test_daemon();
	test_waitsig();

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	if (strcmp(link, "/memfd:zdtm-memfd (deleted)"))
		fail("fd links to '%s', expected '/memfd:zdtm-memfd (deleted)'", link);
	seals = fcntl(fd, F_GET_SEALS);
	if (seals != SEALS)
		fail("seals %#x, expected %#x", seals, SEALS);
	if (pread(fd, buf, 1, 100) != 1 || buf[0] != 'm')
		fail("the fd does not see what the mapping wrote");
	if (memcmp(map + 2 * PAGE_SIZE, "written", 7))
		fail("the mapping does not see what the fd wrote");
	map[3 * PAGE_SIZE] = 'q';
	if (pread(fd, buf, 1, 3 * PAGE_SIZE) != 1 || buf[0] != 'q')
		fail("a write through the mapping after restore does not reach the memfd");
	if (ftruncate(fd, SIZE / 2) == 0)
		fail("F_SEAL_SHRINK not in force: the memfd could shrink");
	pass();
}
