// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_filter: two stacked seccomp filters (getppid fails with EDOM,
 * uname with ENOTTY) stay installed and in force; /proc shows mode 2 with
 * two filters.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "zdtm.h"

static void install(int nr, int err)
{
	struct sock_filter insns[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		fail("seccomp: %m");
}

static void check(void)
{
	struct utsname u;
	char buf[4096];

	errno = 0;
	if (syscall(SYS_getppid) != -1 || errno != EDOM)
		fail("getppid gave errno %d, expected EDOM from the first filter", errno);
	errno = 0;
	if (uname(&u) != -1 || errno != ENOTTY)
		fail("uname gave errno %d, expected ENOTTY from the second filter", errno);
	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		fail("/proc/self/status: %m");
	if (!strstr(buf, "\nSeccomp:\t2\n") || !strstr(buf, "\nSeccomp_filters:\t2\n"))
		fail("/proc/self/status lacks 'Seccomp: 2' and 'Seccomp_filters: 2'");
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fail("PR_SET_NO_NEW_PRIVS: %m");
	install(SYS_getppid, EDOM);
	install(SYS_uname, ENOTTY);
	check();

	test_daemon();
	test_waitsig();

	check();
	pass();
}
