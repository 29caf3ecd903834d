/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zdtm: the library every checkpoint/restore test program links with.
 *
 * Protocol (tests/run.sh drives it): the program runs as `PROG WORKDIR`.
 *   test_init()     records WORKDIR and installs the SIGTERM handler;
 *   (set up state)
 *   test_daemon()   creates WORKDIR/ready: the runner may checkpoint now;
 *   test_waitsig()  sleeps until SIGTERM (sent after restore);
 *   (verify state)
 *   pass() / fail() / skip()  write WORKDIR/result and exit 0 / 1 / 77.
 *
 * Signals: SIGTERM belongs to the library (test_init() installs its
 * handler, nothing else). A test must not block it nor change its action.
 * test_waitsig() sleeps in sigsuspend() with the caller's own mask, in
 * which SIGTERM is unblocked: signals a test blocked stay blocked and
 * pending through the wait (and through checkpoint/restore), the test's
 * own handlers may run meanwhile (the wait goes on until SIGTERM), and the
 * mask is unchanged on return. Busy tests poll test_stop instead of
 * calling test_waitsig(). Results go out through open/write/close only.
 */
#ifndef ZDTM_H
#define ZDTM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGE_SIZE 4096UL

/* Set by the SIGTERM handler. */
extern volatile sig_atomic_t test_stop;
/* WORKDIR, as given on the command line. */
extern const char *test_dir;

void test_init(int argc, char **argv);
void test_daemon(void);
void test_waitsig(void);

void pass(void) __attribute__((noreturn));
void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Progress notes for WORKDIR/out.log; they never decide the result. */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* WORKDIR/name in a new string; tests never free it. */
char *test_path(const char *name);

/* Reads a whole (small) file, NUL-terminated; returns length or -errno. */
ssize_t read_file(const char *path, char *buf, size_t size);

/* What /proc/self/smaps says about the area that holds one address. */
struct vma_info {
	unsigned long start, end;
	char perms[5];	 /* "rw-p" */
	char name[256];	 /* path, "[heap]", or "" */
	char flags[256]; /* VmFlags, " rd wr mr ..." with a space before each */
	unsigned long rss_kb, locked_kb;
};

/* Returns 0, -ENOENT when no area holds addr, or another -errno. */
int vma_find(const void *addr, struct vma_info *ret);
/* True when the two-letter VmFlags code is set on the area. */
bool vma_has_flag(const struct vma_info *vma, const char *code);

#endif
