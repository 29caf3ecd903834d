// SPDX-License-Identifier: GPL-2.0
/*
 * thread_seccomp: only a non-main thread has a seccomp filter (getppid
 * fails with EDOM there); the main thread has none. After restore the
 * thread's sandbox is still in force and the main thread is still free.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

static volatile int state; /* 1: filtered, 2: check, 3: checked */
static char err[256];

static void *thread_fn(void *arg)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EDOM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};

	(void)arg;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		snprintf(err, sizeof(err), "seccomp: %m");
	__atomic_store_n(&state, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != 2)
		usleep(1000);
	errno = 0;
	if (!err[0] && (syscall(SYS_getppid) != -1 || errno != EDOM))
		snprintf(err, sizeof(err), "the thread's filter is gone: getppid gave errno %d",
			 errno);
	return NULL;
}

int main(int argc, char **argv)
{
	sigset_t term, old;
	pthread_t th;

	test_init(argc, argv);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	if (pthread_create(&th, NULL, thread_fn, NULL))
		fail("pthread_create failed");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != 1)
		usleep(1000);

	test_daemon();
	test_waitsig();

	__atomic_store_n(&state, 2, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	if (err[0])
		fail("%s", err);
	if (syscall(SYS_getppid) < 0 || prctl(PR_GET_SECCOMP) != 0)
		fail("the main thread is filtered now (seccomp mode %d)", prctl(PR_GET_SECCOMP));
	pass();
}
