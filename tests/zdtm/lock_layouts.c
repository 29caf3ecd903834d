// SPDX-License-Identifier: GPL-2.0
/*
 * lock_layouts: locks in the layouts the simple tests do not reach.
 *  - file P: the root holds POSIX locks on three ranges (write 0-9, read
 *    20-29, write 100 to EOF) while its fd table is shared with a child
 *    (clone CLONE_FILES): the lock owner is the table, l_pid the root;
 *  - file O: an OFD write lock on 0-99 and an OFD read lock on 200-299,
 *    taken through a description the root and a forked child share.
 * After restore a new process asks F_GETLK / F_OFD_GETLK: the locks are
 * there with their types, extents and l_pid, gaps are free; the OFD locks
 * stay while either task keeps the shared description, and go with it.
 */
#include "tree.h"

static char *path_p, *path_o;

struct probe {
	short type;
	off_t start, len;
	pid_t pid;
};

static struct probe probe(const char *path, int cmd, off_t start, off_t len, short want)
{
	struct probe *res =
	    mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct probe out;
	int status;
	pid_t pid;

	if (res == MAP_FAILED)
		fail("mmap: %m");
	pid = fork();
	if (pid < 0)
		fail("fork: %m");
	if (pid == 0) {
		struct flock fl = { .l_type = want, .l_whence = SEEK_SET, .l_start = start,
				    .l_len = len };
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd < 0 || fcntl(fd, cmd, &fl))
			_exit(1);
		*res = (struct probe){ fl.l_type, fl.l_start, fl.l_len, fl.l_pid };
		_exit(0);
	}
	if (tree_wait(pid, &status, 0, TREE_TIMEOUT_MS) || status)
		fail("lock probe failed");
	out = *res;
	munmap(res, sizeof(*res));
	return out;
}

static void expect(const char *path, int cmd, off_t start, off_t len, short type, off_t lstart,
		   off_t llen, pid_t owner, const char *when)
{
	struct probe p = probe(path, cmd, start, len, F_WRLCK);

	if (p.type != type || (type != F_UNLCK && (p.start != lstart || p.len != llen ||
						   p.pid != owner)))
		fail("%s: %s %lld+%lld: type %d at %lld+%lld pid %d, expected type %d at "
		     "%lld+%lld pid %d",
		     when, path, (long long)start, (long long)len, p.type, (long long)p.start,
		     (long long)p.len, p.pid, type, (long long)lstart, (long long)llen, owner);
}

static void expect_all(pid_t root, const char *when)
{
	expect(path_p, F_GETLK, 0, 10, F_WRLCK, 0, 10, root, when);
	expect(path_p, F_GETLK, 10, 10, F_UNLCK, 0, 0, 0, when);
	expect(path_p, F_GETLK, 20, 10, F_RDLCK, 20, 10, root, when);
	expect(path_p, F_GETLK, 30, 70, F_UNLCK, 0, 0, 0, when);
	expect(path_p, F_GETLK, 1000, 1, F_WRLCK, 100, 0, root, when);
	expect(path_o, F_OFD_GETLK, 0, 100, F_WRLCK, 0, 100, -1, when);
	expect(path_o, F_OFD_GETLK, 100, 100, F_UNLCK, 0, 0, 0, when);
	expect(path_o, F_OFD_GETLK, 200, 100, F_RDLCK, 200, 100, -1, when);
}

static int sharer(void *arg)
{
	(void)arg;
	tree_enter_child("sharer", getppid(), true);
	tree_ready_write(0); /* the barrier fds are the root's too */
	test_waitsig();
	tree_pass();
}

static void lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, cmd, &fl))
		fail("lock %lld+%lld: %m", (long long)start, (long long)len);
}

int main(int argc, char **argv)
{
	pid_t root, forked, shared;
	int p, o;

	test_init(argc, argv);
	tree_init();
	root = getpid();
	path_p = test_path("p.lock");
	path_o = test_path("o.lock");
	p = open(path_p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	o = open(path_o, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (p < 0 || o < 0)
		fail("open: %m");
	lock(p, F_SETLK, F_WRLCK, 0, 10);
	lock(p, F_SETLK, F_RDLCK, 20, 10);
	lock(p, F_SETLK, F_WRLCK, 100, 0);
	lock(o, F_OFD_SETLK, F_WRLCK, 0, 100);
	lock(o, F_OFD_SETLK, F_RDLCK, 200, 100);
	tree_barrier_init();
	forked = tree_fork("forked");
	if (!forked) {
		close(p); /* not ours: the root's table owns those locks */
		tree_ready(0);
		test_waitsig();
		tree_pass();
	}
	shared = tree_clone(sharer, CLONE_FILES, NULL);
	tree_barrier_wait(2, NULL);
	expect_all(root, "set-up");

	test_daemon();
	test_waitsig();

	expect_all(root, "after restore");
	close(o);
	expect(path_o, F_OFD_GETLK, 0, 100, F_WRLCK, 0, 100, -1, "the root closed O");
	tree_finish(forked, "forked");
	expect(path_o, F_OFD_GETLK, 0, 300, F_UNLCK, 0, 0, 0, "the last holder of O gone");
	tree_finish(shared, "sharer");
	expect(path_p, F_GETLK, 0, 10, F_WRLCK, 0, 10, root, "the sharer gone");
	pass();
}
