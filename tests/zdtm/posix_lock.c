// SPDX-License-Identifier: GPL-2.0
/*
 * posix_lock: fcntl record locks on one file. The root holds a write lock
 * on bytes 0-99 and a read lock on 200-299, its child a write lock on
 * 400-499, and an open-file-description lock (F_OFD_SETLK) covers 600-699.
 * After restore a helper forked by the root asks F_GETLK for each range:
 * type, extent and owner pid are as before, gaps are free, and the locks
 * go away when their owner unlocks or exits.
 */
#include "tree.h"

static char *path;

struct probe {
	short type; /* F_UNLCK when free */
	off_t start, len;
	pid_t pid;
};

/* What F_GETLK says about a lock of type want on [start, start+len), from a new process. */
static struct probe probe(off_t start, off_t len, short want)
{
	struct probe *res =
	    mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct probe out;
	pid_t pid;
	int status;

	if (res == MAP_FAILED)
		fail("mmap: %m");
	pid = fork();
	if (pid < 0)
		fail("fork: %m");
	if (pid == 0) {
		struct flock fl = {
		    .l_type = want, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd < 0 || fcntl(fd, F_GETLK, &fl))
			_exit(1);
		*res = (struct probe){fl.l_type, fl.l_start, fl.l_len, fl.l_pid};
		_exit(0);
	}
	if (tree_wait(pid, &status, 0, TREE_TIMEOUT_MS) || status)
		fail("lock probe failed");
	out = *res;
	munmap(res, sizeof(*res));
	return out;
}

static const char *type_name(short type)
{
	return type == F_RDLCK	 ? "read"
	       : type == F_WRLCK ? "write"
	       : type == F_UNLCK ? "none"
				 : "?";
}

static void expect(off_t start, off_t len, short want, short type, pid_t owner, const char *when)
{
	struct probe p = probe(start, len, want);

	if (p.type != type ||
	    (type != F_UNLCK && (p.pid != owner || p.start != start || p.len != len)))
		fail("%s: F_GETLK %s on %ld+%ld: %s lock of pid %d at %ld+%ld, expected %s lock "
		     "of pid %d",
		     when, type_name(want), (long)start, (long)len, type_name(p.type), p.pid,
		     (long)p.start, (long)p.len, type_name(type), owner);
}

static void lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	if (fcntl(fd, cmd, &fl))
		tree_fail("fcntl lock %ld+%ld: %m", (long)start, (long)len);
}

static void check_all(pid_t root, pid_t child, const char *when)
{
	expect(0, 100, F_RDLCK, F_WRLCK, root, when);
	expect(100, 100, F_WRLCK, F_UNLCK, 0, when);
	expect(200, 100, F_WRLCK, F_RDLCK, root, when);
	expect(200, 100, F_RDLCK, F_UNLCK, 0, when);
	expect(400, 100, F_RDLCK, F_WRLCK, child, when);
	/* An OFD lock has no owner pid: F_GETLK gives -1. */
	expect(600, 100, F_RDLCK, F_WRLCK, -1, when);
	expect(700, 1000, F_WRLCK, F_UNLCK, 0, when);
}

int main(int argc, char **argv)
{
	int fd, ofd;
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	path = test_path("locked");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ofd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ofd < 0 || ftruncate(fd, 4096))
		fail("open: %m");
	lock(fd, F_SETLK, F_WRLCK, 0, 100);
	lock(fd, F_SETLK, F_RDLCK, 200, 100);
	lock(ofd, F_OFD_SETLK, F_WRLCK, 600, 100);
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		close(ofd);
		lock(fd, F_SETLK, F_WRLCK, 400, 100);
		tree_ready(0);
		test_waitsig();
		tree_pass();
	}
	tree_barrier_wait(1, NULL);
	check_all(getpid(), pid, "set-up");

	test_daemon();
	test_waitsig();

	check_all(getpid(), pid, "after restore");
	lock(fd, F_SETLK, F_UNLCK, 0, 100);
	expect(0, 100, F_WRLCK, F_UNLCK, 0, "the root unlocked 0-99");
	/* Not close(): that would drop all the root's POSIX locks on the file. */
	lock(ofd, F_OFD_SETLK, F_UNLCK, 600, 100);
	expect(600, 100, F_WRLCK, F_UNLCK, 0, "the OFD lock unlocked");
	tree_finish(pid, "child");
	expect(400, 100, F_WRLCK, F_UNLCK, 0, "the child gone");
	expect(200, 100, F_WRLCK, F_RDLCK, getpid(), "the child gone");
	pass();
}
