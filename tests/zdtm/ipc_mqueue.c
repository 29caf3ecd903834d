// SPDX-License-Identifier: GPL-2.0
/*
 * ipc_mqueue: POSIX message queues in an IPC namespace of the tree's own.
 * /q1 (10 messages of 64 bytes at most, mode 0640, owned by 1000/1001)
 * holds messages of several priorities sent out of order; /q2 is empty
 * with the namespace's defaults; /q3 is full. The test holds /q1 open
 * non-blocking for reading and writing (fd 10) and /q3 for writing only.
 * After restore the attributes, owners and modes are as they were, the
 * messages come out by priority and, within one, in the order they were
 * sent, and the descriptors still reach their queues with their flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>

#include "zdtm.h"

#define Q1_FD 10
#define NMSG  5

static const unsigned prios[NMSG] = { 1, 7, 1, 0, 7 };
static const char *const texts[NMSG] = { "one-a", "seven-a", "one-b", "zero", "seven-b" };
/* The order they come out in. */
static const int order[NMSG] = { 1, 4, 0, 2, 3 };

static ino_t ns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/ipc", &st))
		fail("stat /proc/self/ns/ipc: %m");
	return st.st_ino;
}

static void check_attr(mqd_t q, const char *name, long flags, long maxmsg, long size, long cur)
{
	struct mq_attr a;

	if (mq_getattr(q, &a))
		fail("mq_getattr %s: %m", name);
	if (a.mq_flags != flags || a.mq_maxmsg != maxmsg || a.mq_msgsize != size ||
	    a.mq_curmsgs != cur)
		fail("%s: flags %#lx maxmsg %ld msgsize %ld curmsgs %ld, expected %#lx %ld %ld %ld",
		     name, a.mq_flags, a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs, flags, maxmsg, size,
		     cur);
}

static void check_owner(mqd_t q, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	if (fstat(q, &st))
		fail("fstat %s: %m", name);
	if ((st.st_mode & 07777) != mode || st.st_uid != uid || st.st_gid != gid)
		fail("%s: mode %#o uid %u gid %u, expected %#o %u %u", name, st.st_mode & 07777,
		     st.st_uid, st.st_gid, mode, uid, gid);
}

int main(int argc, char **argv)
{
	struct mq_attr a1 = { .mq_maxmsg = 10, .mq_msgsize = 64 }, a3 = { .mq_maxmsg = 2,
									  .mq_msgsize = 8 };
	struct mq_attr def;
	ino_t host = ns_ino();
	mqd_t q1, q2, q3;
	char buf[64];

	if (unshare(CLONE_NEWIPC))
		skip("unshare(CLONE_NEWIPC): %m");
	test_init(argc, argv);
	umask(0);
	q1 = mq_open("/q1", O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0640, &a1);
	q2 = mq_open("/q2", O_CREAT | O_EXCL | O_RDONLY, 0600, NULL);
	q3 = mq_open("/q3", O_CREAT | O_EXCL | O_WRONLY, 0666, &a3);
	if (q1 < 0 || q2 < 0 || q3 < 0)
		fail("mq_open: %m");
	if (dup2(q1, Q1_FD) != Q1_FD)
		fail("dup2: %m");
	close(q1);
	q1 = Q1_FD;
	if (fchown(q1, 1000, 1001))
		fail("fchown: %m");
	for (int i = 0; i < NMSG; i++)
		if (mq_send(q1, texts[i], strlen(texts[i]), prios[i]))
			fail("mq_send %d: %m", i);
	if (mq_send(q3, "full-1", 6, 3) || mq_send(q3, "full-2!!", 8, 3))
		fail("mq_send q3: %m");
	if (mq_getattr(q2, &def))
		fail("mq_getattr: %m");
	mq_close(q2);

	test_daemon();
	test_waitsig();

	if (ns_ino() == host)
		fail("the test is in the IPC namespace it started in");
	if ((fcntl(q1, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != (O_RDWR | O_NONBLOCK) ||
	    (fcntl(q3, F_GETFL) & O_ACCMODE) != O_WRONLY)
		fail("descriptor flags %#x and %#x", fcntl(q1, F_GETFL), fcntl(q3, F_GETFL));
	check_attr(q1, "/q1", O_NONBLOCK, 10, 64, NMSG);
	check_owner(q1, "/q1", 0640, 1000, 1001);
	check_attr(q3, "/q3", 0, 2, 8, 2);
	check_owner(q3, "/q3", 0666, 0, 0);
	q2 = mq_open("/q2", O_RDONLY);
	if (q2 < 0)
		fail("mq_open /q2 after restore: %m");
	check_attr(q2, "/q2", 0, def.mq_maxmsg, def.mq_msgsize, 0);
	check_owner(q2, "/q2", 0600, 0, 0);
	for (int i = 0; i < NMSG; i++) {
		unsigned prio;
		ssize_t n = mq_receive(q1, buf, sizeof(buf), &prio);
		int k = order[i];

		if (n < 0)
			fail("mq_receive %d: %m", i);
		if (prio != prios[k] || (size_t)n != strlen(texts[k]) || memcmp(buf, texts[k], n))
			fail("message %d: '%.*s' priority %u, expected '%s' priority %u", i, (int)n,
			     buf, prio, texts[k], prios[k]);
	}
	if (mq_receive(q1, buf, sizeof(buf), NULL) >= 0 || errno != EAGAIN)
		fail("a message too many in /q1");
	if (mq_send(q1, "again", 5, 2) || mq_receive(q1, buf, sizeof(buf), NULL) != 5)
		fail("/q1 after restore: %m");
	pass();
}
