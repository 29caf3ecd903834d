// SPDX-License-Identifier: GPL-2.0
/*
 * inotify_queued: events queued on an inotify fd at the checkpoint (a file
 * deleted, then one created, in WORKDIR/dir: WORKDIR itself sees the
 * runner's files come and go). After restore they are read
 * back in order, with their watch number, mask and name, and
 * nothing else; the watch then goes on reporting.
 *
 * The kernel offers no way to put events back into a queue: a restore can
 * only pass this by regenerating them. See the note in tests/zdtm3.list.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

/* Events read but not yet checked: one read() may return several. */
static char evbuf[4096] __attribute__((aligned(8)));
static size_t evlen, evpos;

static void expect_event(int fd, int wd, uint32_t mask, const char *name)
{
	struct inotify_event *ev;

	if (evpos == evlen) {
		ssize_t r = read(fd, evbuf, sizeof(evbuf));

		if (r <= 0)
			fail("no event for '%s' (%m), expected mask %#x on watch %d", name, mask,
			     wd);
		evlen = r;
		evpos = 0;
	}
	ev = (struct inotify_event *)(evbuf + evpos);
	evpos += sizeof(*ev) + ev->len;
	if (ev->wd != wd || ev->mask != mask || !ev->len || strcmp(ev->name, name))
		fail("event wd %d mask %#x name '%s', expected wd %d mask %#x name '%s'", ev->wd,
		     ev->mask, ev->len ? ev->name : "", wd, mask, name);
}

int main(int argc, char **argv)
{
	char *dir, *gone, *born, buf[512];
	int fd, wd;

	test_init(argc, argv);
	dir = test_path("dir");
	gone = test_path("dir/gone");
	born = test_path("dir/born");
	if (mkdir(dir, 0755))
		fail("mkdir: %m");
	close(open(gone, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		fail("inotify_init1: %m");
	wd = inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE);
	if (wd < 0)
		fail("inotify_add_watch: %m");
	unlink(gone);
	close(open(born, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));

	test_daemon();
	test_waitsig();

	expect_event(fd, wd, IN_DELETE, "gone");
	expect_event(fd, wd, IN_CREATE, "born");
	if (evpos != evlen || read(fd, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		fail("more events than the two queued");
	unlink(born);
	expect_event(fd, wd, IN_DELETE, "born");
	pass();
}
