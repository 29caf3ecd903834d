// SPDX-License-Identifier: GPL-2.0
/*
 * mm_fields: the mm fields the kernel keeps about the address space
 * (/proc/self/stat fields 26-28 and 45-51: code, stack, data, brk, argv and
 * environ bounds), the auxiliary vector, and argv/environ as /proc shows them.
 */
#include <stdlib.h>
#include <string.h>

#include "zdtm.h"

#define NFIELDS 10

static const int fields[NFIELDS] = {26, 27, 28, 45, 46, 47, 48, 49, 50, 51};
static const char *const names[NFIELDS] = {"start_code", "end_code",  "start_stack", "start_data",
					   "end_data",	 "start_brk", "arg_start",   "arg_end",
					   "env_start",	 "env_end"};

static void read_fields(unsigned long *v)
{
	char buf[2048], *p;
	int field = 3, i = 0;

	if (read_file("/proc/self/stat", buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
		fail("/proc/self/stat: %m");
	/* p + 2 is field 3 (state); comm may hold spaces, so count after ')'. */
	for (p += 2; *p && i < NFIELDS; field++) {
		if (field == fields[i])
			v[i++] = strtoul(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	if (i != NFIELDS)
		fail("/proc/self/stat has only %d fields", field);
}

int main(int argc, char **argv)
{
	const char *files[] = {"/proc/self/auxv", "/proc/self/cmdline", "/proc/self/environ"};
	unsigned long want[NFIELDS], got[NFIELDS];
	char saved[3][8192], buf[8192];
	ssize_t len[3], l;

	test_init(argc, argv);
	read_fields(want);
	for (int i = 0; i < 3; i++)
		if ((len[i] = read_file(files[i], saved[i], sizeof(saved[i]))) < 0)
			fail("%s: %s", files[i], strerror(-len[i]));

	test_daemon();
	test_waitsig();

	read_fields(got);
	for (int i = 0; i < NFIELDS; i++)
		if (got[i] != want[i])
			fail("%s (stat field %d) %#lx, expected %#lx", names[i], fields[i], got[i],
			     want[i]);
	for (int i = 0; i < 3; i++) {
		l = read_file(files[i], buf, sizeof(buf));
		if (l != len[i] || memcmp(buf, saved[i], l))
			fail("%s changed: %zd bytes, expected %zd (or same length, other bytes)",
			     files[i], l, len[i]);
	}
	pass();
}
