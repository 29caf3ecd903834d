// SPDX-License-Identifier: GPL-2.0
/*
 * eventfd_tree: eventfds across the tree. One, counter 7, is a single open
 * file description shared by the root and its child (inherited over
 * fork). Another is empty and the child sleeps in read() on it at the
 * checkpoint. After restore the shared counter is one counter for both
 * tasks, and the sleeping read wakes only when the root writes, with the
 * value written.
 */
#include <linux/kcmp.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

#include "tree.h"

int main(int argc, char **argv)
{
	int shared, wake;
	eventfd_t v;
	pid_t pid;

	test_init(argc, argv);
	tree_init();
	shared = eventfd(7, EFD_NONBLOCK | EFD_CLOEXEC);
	wake = eventfd(0, EFD_CLOEXEC);
	if (shared < 0 || wake < 0)
		fail("eventfd: %m");
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		ssize_t r;

		tree_ready(0);
		/* Asleep here at the checkpoint. */
		r = read(wake, &v, sizeof(v));
		if (r != sizeof(v) || v != 42)
			tree_fail("read on the wake eventfd: %zd (%s), value %lu, expected 42", r,
				  r < 0 ? strerror(errno) : "-", (unsigned long)v);
		/* The root took the 7 and added 5 before waking us. */
		if (eventfd_read(shared, &v) || v != 5)
			tree_fail("shared eventfd: read %lu (%m), expected 5", (unsigned long)v);
		if (eventfd_write(shared, 100))
			tree_fail("eventfd_write: %m");
		tree_pass();
	}
	tree_barrier_wait(1, NULL);
	tree_wait_syscall(pid, pid, SYS_read, "child");

	test_daemon();
	test_waitsig();

	if (syscall(SYS_kcmp, getpid(), pid, KCMP_FILE, shared, shared))
		fail("kcmp: the shared eventfd is two files in root and child");
	if (tree_syscall_nr(pid, pid) != SYS_read)
		fail("the child is in syscall %ld, expected still in read()",
		     tree_syscall_nr(pid, pid));
	if (eventfd_read(shared, &v) || v != 7)
		fail("shared eventfd: read %lu (%m), expected 7", (unsigned long)v);
	if (eventfd_read(shared, &v) != -1 || errno != EAGAIN)
		fail("shared eventfd: not empty after one read");
	if (eventfd_write(shared, 5) || eventfd_write(wake, 42))
		fail("eventfd_write: %m");
	tree_collect(pid, "child");
	if (eventfd_read(shared, &v) || v != 100)
		fail("shared eventfd: read %lu (%m), expected the child's 100", (unsigned long)v);
	pass();
}
