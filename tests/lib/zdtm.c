// SPDX-License-Identifier: GPL-2.0
/*
 * zdtm: readiness, SIGTERM wait and result reporting for test programs,
 * plus the /proc readers several tests share. See zdtm.h for the protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtm.h"

volatile sig_atomic_t test_stop;
const char *test_dir;

static void sigterm_handler(int sig)
{
	(void)sig;
	test_stop = 1;
}

void test_init(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = sigterm_handler, .sa_flags = SA_RESTART};

	if (argc != 2) {
		dprintf(2, "usage: %s WORKDIR\n", argv[0]);
		exit(2);
	}
	test_dir = argv[1];
	/*
	 * Installed now, not in test_waitsig(): the runner may send SIGTERM
	 * as soon as WORKDIR/ready exists, before a busy test polls test_stop.
	 */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0)
		fail("sigaction(SIGTERM): %m");
}

char *test_path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", test_dir, name) < 0)
		fail("asprintf: %m");
	return p;
}

/* open/write/close only: a result must never sit half-written in a buffer. */
static void write_result(const char *text, size_t len)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/result", test_dir ? test_dir : ".");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, text, len) != (ssize_t)len)
			dprintf(2, "zdtm: short write to %s\n", path);
		close(fd);
	} else {
		dprintf(2, "zdtm: cannot create %s: %m\n", path);
	}
	/* A copy in out.log too, next to whatever the test logged. */
	if (write(2, text, len) < 0)
		return;
}

static void __attribute__((noreturn)) report(int code, const char *tag, const char *fmt, va_list ap)
{
	char buf[2048];
	size_t n, i;

	n = snprintf(buf, sizeof(buf), "%s", tag);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	n = strlen(buf);
	/* The runner reads the result as one line. */
	for (i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	buf[n++] = '\n';
	write_result(buf, n);
	exit(code);
}

void pass(void)
{
	write_result("PASS\n", 5);
	exit(0);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(1, "FAIL: ", fmt, ap);
}

void skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(77, "SKIP: ", fmt, ap);
}

void test_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdprintf(2, fmt, ap);
	va_end(ap);
}

void test_daemon(void)
{
	char *path = test_path("ready");
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("cannot create %s: %m", path);
	close(fd);
	free(path);
}

void test_waitsig(void)
{
	sigset_t term, old, wait;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	/* Blocked while test_stop is checked, so the signal cannot slip in between. */
	sigprocmask(SIG_BLOCK, &term, &old);
	if (sigismember(&old, SIGTERM))
		fail("test bug: SIGTERM is blocked, the runner could never stop the test");
	wait = old;
	while (!test_stop)
		sigsuspend(&wait);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

ssize_t read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

static void parse_smaps_field(const char *line, struct vma_info *vma)
{
	size_t len;

	if (sscanf(line, "Rss: %lu kB", &vma->rss_kb) == 1)
		return;
	if (sscanf(line, "Locked: %lu kB", &vma->locked_kb) == 1)
		return;
	if (strncmp(line, "VmFlags:", 8))
		return;
	/* Keep " rd wr ... " with spaces around each code for vma_has_flag(). */
	snprintf(vma->flags, sizeof(vma->flags), "%s", line + 8);
	len = strcspn(vma->flags, "\n");
	if (len < sizeof(vma->flags) - 1) {
		vma->flags[len] = ' ';
		vma->flags[len + 1] = '\0';
	}
}

int vma_find(const void *addr, struct vma_info *ret)
{
	unsigned long a = (unsigned long)addr, start, end;
	struct vma_info vma = {};
	bool found = false;
	char *line = NULL;
	size_t cap = 0;
	char perms[5], name[256];
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		/* Field lines ("Rss:", "AnonHugePages:") never parse as three fields. */
		int n =
		    sscanf(line, "%lx-%lx %4s %*s %*s %*s %255[^\n]", &start, &end, perms, name);

		if (n >= 3) {
			if (found)
				break;
			if (a < start || a >= end)
				continue;
			found = true;
			vma.start = start;
			vma.end = end;
			memcpy(vma.perms, perms, sizeof(perms));
			snprintf(vma.name, sizeof(vma.name), "%s", n > 3 ? name : "");
		} else if (found) {
			parse_smaps_field(line, &vma);
		}
	}
	free(line);
	fclose(f);
	if (!found)
		return -ENOENT;
	*ret = vma;
	return 0;
}

bool vma_has_flag(const struct vma_info *vma, const char *code)
{
	char pat[8];

	snprintf(pat, sizeof(pat), " %.2s ", code);
	return strstr(vma->flags, pat) != NULL;
}
