// SPDX-License-Identifier: GPL-2.0
/*
 * memfd_exec: a memfd holding a program (a copy of /bin/true), sealed
 * against writes as runc seals its own copy, chmod 0750 and chowned to
 * 1234:5678, plus a second memfd of another size and no sealing. After
 * restore the program runs from the memfd (fexecve: no ETXTBSY, nothing
 * holds it writable), and size, seals, mode and owner are as they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtm.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static void check(int fd, const char *what, off_t size, mode_t mode, uid_t uid, gid_t gid,
		  int seals)
{
	struct stat st;
	int got = fcntl(fd, F_GET_SEALS);

	if (fstat(fd, &st))
		fail("fstat %s: %m", what);
	if (st.st_size != size || (st.st_mode & 07777) != mode || st.st_uid != uid ||
	    st.st_gid != gid)
		fail("%s: size %lld mode %#o owner %u:%u, expected %lld %#o %u:%u", what,
		     (long long)st.st_size, st.st_mode & 07777, st.st_uid, st.st_gid,
		     (long long)size, mode, uid, gid);
	if (got != seals)
		fail("%s: seals %#x, expected %#x", what, got, seals);
}

/* Runs the program in the memfd; its exit status, or 100 + errno. */
static int run(int fd)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %m");
	if (pid == 0) {
		fexecve(fd, argv, envp);
		_exit(100 + errno);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		fail("the program from the memfd did not exit");
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct stat st;
	int prog, other, src, r;

	test_init(argc, argv);
	prog = memfd_create("zdtm-prog", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	other = memfd_create("zdtm-other", MFD_CLOEXEC);
	src = open("/bin/true", O_RDONLY | O_CLOEXEC);
	if (prog < 0 || other < 0 || src < 0 || fstat(src, &st))
		fail("set-up: %m");
	if (sendfile(prog, src, NULL, st.st_size) != st.st_size)
		fail("copy /bin/true: %m");
	close(src);
	if (fchmod(prog, 0750) || fchown(prog, 1234, 5678) || fcntl(prog, F_ADD_SEALS, SEALS))
		fail("fchmod, fchown or F_ADD_SEALS: %m");
	if (ftruncate(other, 12345) || fchmod(other, 0604))
		fail("ftruncate or fchmod: %m");
	if ((r = run(prog)) != 0)
		fail("the program did not run before the checkpoint (%d)", r);

	test_daemon();
	test_waitsig();

	check(prog, "the program's memfd", st.st_size, 0750, 1234, 5678, SEALS);
	check(other, "the other memfd", 12345, 0604, 0, 0, F_SEAL_SEAL);
	if ((r = run(prog)) != 0)
		fail("the program from the memfd: %s", r > 100 ? strerror(r - 100) : "exit non-zero");
	pass();
}
