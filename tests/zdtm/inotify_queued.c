// SPDX-License-Identifier: GPL-2.0
/*
 * inotify_queued: an inotify fd with events not read at the checkpoint
 * (a file created in WORKDIR/dir, one written, the IN_IGNORED of removed
 * watches) and watches numbered 1, 3 and 7 (2, 4, 5 and 6 removed; WORKDIR
 * itself is not watched, the runner's files come and go there).
 *
 * The kernel cannot queue events again, so after a restore the first read
 * must return IN_Q_OVERFLOW (wd -1: "events were lost, rescan") and nothing
 * else stale; a task that was not restored (dump -R, no checkpoint) reads
 * its own events, all of them, in order: the dump took none. Either way the
 * watches keep their numbers, inodes and masks, and later changes come on
 * them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

#define NFILES 7

static char evbuf[8192] __attribute__((aligned(8)));

static ssize_t read_events(int fd)
{
	ssize_t r = read(fd, evbuf, sizeof(evbuf));

	if (r < 0 && errno != EAGAIN)
		fail("read the inotify fd: %m");
	return r < 0 ? 0 : r;
}

static void expect_none(int fd)
{
	if (read_events(fd))
		fail("an event is queued, expected none");
}

/* The event at *off, which must be wd/mask/name; advances *off. */
static void expect_at(ssize_t len, ssize_t *off, int wd, uint32_t mask, const char *name)
{
	const struct inotify_event *ev = (const void *)(evbuf + *off);

	if (*off + (ssize_t)sizeof(*ev) > len)
		fail("events end early, expected wd %d mask %#x name '%s'", wd, mask, name);
	if (ev->wd != wd || ev->mask != mask || strcmp(ev->len ? ev->name : "", name))
		fail("event wd %d mask %#x name '%s', expected wd %d mask %#x name '%s'", ev->wd,
		     ev->mask, ev->len ? ev->name : "", wd, mask, name);
	*off += sizeof(*ev) + ev->len;
}

/* A new change on watch wd comes as exactly one event. */
static void expect_one(int fd, int wd, uint32_t mask, const char *name)
{
	ssize_t len = read_events(fd), off = 0;

	expect_at(len, &off, wd, mask, name);
	if (off != len)
		fail("more than one event after a change on watch %d", wd);
}

/* Not restored: the events queued before the dump, in order, and no more. */
static void expect_original(ssize_t len, const int *wds)
{
	ssize_t off = 0;

	for (int i = 2; i <= 6; i++)
		if (i != 3)
			expect_at(len, &off, wds[i], IN_IGNORED, "");
	expect_at(len, &off, wds[1], IN_CREATE, "born");
	expect_at(len, &off, wds[3], IN_MODIFY, "");
	expect_at(len, &off, wds[7], IN_ATTRIB, "");
	if (off != len)
		fail("more events than were queued before the dump");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fd's watch lines from fdinfo, sorted and joined. */
static void watches(int fd, char *out, size_t len)
{
	char path[64], buf[4096], *lines[16], *p = buf;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		fail("read %s: %m", path);
	while ((p = strstr(p, "inotify ")) && n < 16) {
		lines[n++] = p;
		p += strcspn(p, "\n");
		if (*p)
			*p++ = '\0';
	}
	qsort(lines, n, sizeof(lines[0]), cmp_str);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s;", lines[i]);
}

int main(int argc, char **argv)
{
	char before[2048], after[2048], name[32], *files[NFILES + 1];
	int fd, wds[NFILES + 1], queued = 0;
	ssize_t len;

	test_init(argc, argv);
	files[1] = test_path("dir");
	if (mkdir(files[1], 0755))
		fail("mkdir: %m");
	for (int i = 2; i <= NFILES; i++) {
		snprintf(name, sizeof(name), "dir/f%d", i);
		files[i] = test_path(name);
		close(open(files[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	}
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		fail("inotify_init1: %m");
	for (int i = 1; i <= NFILES; i++) {
		uint32_t mask = i == 1 ? IN_CREATE | IN_DELETE : i == 7 ? IN_ATTRIB : IN_MODIFY;

		wds[i] = inotify_add_watch(fd, files[i], mask);
		if (wds[i] != i)
			fail("watch on %s is %d, expected %d (%m)", files[i], wds[i], i);
	}
	for (int i = 2; i <= 6; i++)
		if (i != 3 && inotify_rm_watch(fd, wds[i]))
			fail("inotify_rm_watch %d: %m", wds[i]);
	close(open(test_path("dir/born"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	{
		int f = open(files[3], O_WRONLY | O_CLOEXEC);

		if (f < 0 || write(f, "x", 1) != 1)
			fail("write %s: %m", files[3]);
		close(f);
	}
	if (chmod(files[7], 0600))
		fail("chmod: %m");
	if (ioctl(fd, FIONREAD, &queued) || queued <= 0)
		fail("no events queued before the checkpoint (%d bytes, %m)", queued);
	watches(fd, before, sizeof(before));

	test_daemon();
	test_waitsig();

	watches(fd, after, sizeof(after));
	if (strcmp(before, after))
		fail("watches '%s', expected '%s'", after, before);
	len = read_events(fd);
	if (len == (ssize_t)sizeof(struct inotify_event)) {
		ssize_t off = 0;

		expect_at(len, &off, -1, IN_Q_OVERFLOW, "");
		test_msg("restored: IN_Q_OVERFLOW first\n");
	} else {
		expect_original(len, wds);
	}
	expect_none(fd);
	unlink(test_path("dir/born"));
	expect_one(fd, wds[1], IN_DELETE, "born");
	{
		int f = open(files[3], O_WRONLY | O_CLOEXEC);

		if (f < 0 || write(f, "y", 1) != 1)
			fail("write %s: %m", files[3]);
		close(f);
	}
	expect_one(fd, wds[3], IN_MODIFY, "");
	if (chmod(files[7], 0644))
		fail("chmod: %m");
	expect_one(fd, wds[7], IN_ATTRIB, "");
	expect_none(fd);
	pass();
}
