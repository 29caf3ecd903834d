// SPDX-License-Identifier: GPL-2.0
/*
 * inotify: an inotify fd with a watch on WORKDIR/dir (create, delete; not
 * WORKDIR itself, where the runner makes files) and one on a file in it
 * (modify, attrib), no event pending. After restore the
 * watches keep their numbers, inodes and masks (fdinfo), adding the same
 * watch again gives the old number back, nothing spurious is queued, and
 * new changes come as events on the right watch. (inotify_queued covers
 * events pending at the checkpoint.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtm.h"

#define DIR_MASK  (IN_CREATE | IN_DELETE | IN_ONLYDIR)
#define FILE_MASK (IN_MODIFY | IN_ATTRIB)

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The watch lines of the fd's fdinfo ("inotify wd:1 ino:... mask:..."),
 * sorted and joined: the kernel lists them newest first, and a restore
 * may well add them in another order.
 */
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

static void expect_event(int fd, int wd, uint32_t mask, const char *name)
{
	char buf[4096] __attribute__((aligned(8)));
	struct inotify_event *ev = (void *)buf;
	ssize_t r = read(fd, buf, sizeof(struct inotify_event) + 256);

	if (r < (ssize_t)sizeof(*ev))
		fail("no event for %s (%m), expected mask %#x on watch %d",
		     name ? name : "the file", mask, wd);
	if (ev->wd != wd || ev->mask != mask || (name && strcmp(ev->name, name)) ||
	    (!name && ev->len))
		fail("event wd %d mask %#x name '%s', expected wd %d mask %#x name '%s'", ev->wd,
		     ev->mask, ev->len ? ev->name : "", wd, mask, name ? name : "");
	if (r != (ssize_t)(sizeof(*ev) + ev->len))
		fail("more than one event queued (%zd bytes)", r);
}

static void expect_none(int fd)
{
	char buf[4096];

	if (read(fd, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		fail("an event is queued, expected none");
}

int main(int argc, char **argv)
{
	char before[1024], after[1024], *dir, *file, *created;
	int fd, wd_dir, wd_file, f;

	test_init(argc, argv);
	dir = test_path("dir");
	file = test_path("dir/watched");
	created = test_path("dir/created");
	if (mkdir(dir, 0755))
		fail("mkdir: %m");
	f = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f < 0 || fd < 0)
		fail("set-up: %m");
	wd_dir = inotify_add_watch(fd, dir, DIR_MASK);
	wd_file = inotify_add_watch(fd, file, FILE_MASK);
	if (wd_dir < 0 || wd_file < 0)
		fail("inotify_add_watch: %m");
	watches(fd, before, sizeof(before));
	expect_none(fd);

	test_daemon();
	test_waitsig();

	watches(fd, after, sizeof(after));
	if (strcmp(before, after))
		fail("watches '%s', expected '%s'", after, before);
	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
		fail("the inotify fd lost O_NONBLOCK");
	expect_none(fd);
	if (inotify_add_watch(fd, dir, DIR_MASK) != wd_dir ||
	    inotify_add_watch(fd, file, FILE_MASK) != wd_file)
		fail("adding the watches again gave new numbers, not %d and %d", wd_dir, wd_file);
	close(open(created, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	expect_event(fd, wd_dir, IN_CREATE, "created");
	if (write(f, "x", 1) != 1)
		fail("write: %m");
	expect_event(fd, wd_file, IN_MODIFY, NULL);
	if (chmod(file, 0600))
		fail("chmod: %m");
	expect_event(fd, wd_file, IN_ATTRIB, NULL);
	unlink(created);
	expect_event(fd, wd_dir, IN_DELETE, "created");
	expect_none(fd);
	pass();
}
