// SPDX-License-Identifier: GPL-2.0
/*
 * ipc_many: several IPC namespaces in one tree, each with objects of the
 * same keys and ids. The root stays in the runner's namespace and makes
 * nothing there. Child a unshares one, child b another and forks b1, which
 * inherits it; child c enters a's with setns. In a and in b: a segment of
 * key 0x100 (attached, its bytes those of its namespace), a semaphore set
 * of key 0x200, a message queue of key 0x300 holding one message, a POSIX
 * queue /q holding one message; each gets the same id in both. After
 * restore every task sees the objects of its namespace only, with the ids
 * they had, a and c share one namespace (c sees a's segment change), b and
 * b1 another, and neither is the root's.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "tree.h"

#define SEG 8192

struct objs {
	int shm, sem, msq;
	char *seg;
};

struct tmsg {
	long mtype;
	char text[16];
};

static ino_t ipc_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", pid);
	if (stat(path, &st))
		tree_fail("stat %s: %m", path);
	return st.st_ino;
}

static void make(struct objs *o, char tag)
{
	struct tmsg m = { .mtype = tag };
	char text[2] = { tag, 0 };
	mqd_t q;

	o->shm = shmget(0x100, SEG, IPC_CREAT | IPC_EXCL | 0600);
	o->sem = semget(0x200, 3, IPC_CREAT | IPC_EXCL | 0600);
	o->msq = msgget(0x300, IPC_CREAT | IPC_EXCL | 0600);
	q = mq_open("/q", O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	if (o->shm < 0 || o->sem < 0 || o->msq < 0 || q < 0)
		tree_fail("making the objects of %c: %m", tag);
	o->seg = shmat(o->shm, NULL, 0);
	if (o->seg == (void *)-1)
		tree_fail("shmat: %m");
	memset(o->seg, tag, SEG);
	memset(m.text, tag, sizeof(m.text));
	if (semctl(o->sem, 1, SETVAL, (int)tag) ||
	    msgsnd(o->msq, &m, sizeof(m.text), 0) || mq_send(q, text, 1, 1))
		tree_fail("filling the objects of %c: %m", tag);
	mq_close(q);
}

/* What a task of namespace tag sees; o->seg: its attachment. The POSIX
 * message is taken, by one task of each namespace only (mq). */
static void check(const struct objs *o, char tag, const char *who, bool mq)
{
	struct tmsg m;
	char buf[8192];
	unsigned prio;
	mqd_t q;

	if (shmget(0x100, 0, 0) != o->shm || semget(0x200, 0, 0) != o->sem ||
	    msgget(0x300, 0) != o->msq)
		tree_fail("%s: ids %d %d %d, expected %d %d %d", who, shmget(0x100, 0, 0),
			  semget(0x200, 0, 0), msgget(0x300, 0), o->shm, o->sem, o->msq);
	for (int i = 0; i < SEG; i++)
		if (o->seg[i] != tag)
			tree_fail("%s: segment byte %d is %#x, expected '%c'", who, i,
				  (unsigned char)o->seg[i], tag);
	if (semctl(o->sem, 1, GETVAL) != tag)
		tree_fail("%s: semaphore 1 is %d, expected %d", who, semctl(o->sem, 1, GETVAL), tag);
	if (msgrcv(o->msq, &m, sizeof(m.text), 0, IPC_NOWAIT | MSG_COPY) != sizeof(m.text) ||
	    m.mtype != tag || m.text[3] != tag)
		tree_fail("%s: the message is not %c's: %m", who, tag);
	if (!mq)
		return;
	q = mq_open("/q", O_RDONLY | O_NONBLOCK);
	if (q < 0)
		tree_fail("%s: mq_open: %m", who);
	if (mq_receive(q, buf, sizeof(buf), &prio) != 1 || buf[0] != tag || prio != 1)
		tree_fail("%s: the POSIX message is not %c's", who, tag);
	mq_close(q);
}

int main(int argc, char **argv)
{
	static struct objs oa, ob;
	int tell[2], go[2], nsfd;
	pid_t a, b, b1, c;
	char path[64], byte;

	test_init(argc, argv);
	tree_init();
	if (pipe(tell) || pipe(go))
		fail("pipe: %m");
	tree_barrier_init();
	a = tree_fork("a");
	if (!a) {
		if (unshare(CLONE_NEWIPC))
			tree_fail("unshare: %m");
		make(&oa, 'a');
		if (write(tell[1], &oa, sizeof(oa)) != sizeof(oa))
			tree_fail("write: %m");
		tree_ready(0);
		test_waitsig();
		check(&oa, 'a', "a", true);
		/* Once c has checked: it must see this through its own attachment. */
		tree_read_exact(go[0], &byte, 1, "c's word");
		oa.seg[0] = 'A';
		if (write(tell[1], "x", 1) != 1)
			tree_fail("write: %m");
		tree_pass();
	}
	tree_read_exact(tell[0], &oa, sizeof(oa), "a's objects");
	b = tree_fork("b");
	if (!b) {
		if (unshare(CLONE_NEWIPC))
			tree_fail("unshare: %m");
		make(&ob, 'b');
		b1 = tree_fork("b1");
		if (!b1) {
			tree_ready(0);
			test_waitsig();
			check(&ob, 'b', "b1", false);
			tree_pass();
		}
		if (write(tell[1], &ob, sizeof(ob)) != sizeof(ob))
			tree_fail("write: %m");
		tree_ready(0);
		test_waitsig();
		check(&ob, 'b', "b", true);
		tree_stop(b1, "b1");
		tree_collect(b1, "b1");
		tree_pass();
	}
	tree_read_exact(tell[0], &ob, sizeof(ob), "b's objects");
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", a);
	c = tree_fork("c");
	if (!c) {
		struct objs oc = oa;

		nsfd = open(path, O_RDONLY);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWIPC))
			tree_fail("setns into a's: %m");
		close(nsfd);
		oc.seg = shmat(oa.shm, NULL, 0);
		if (oc.seg == (void *)-1)
			tree_fail("shmat: %m");
		tree_ready(0);
		test_waitsig();
		check(&oc, 'a', "c", false);
		if (write(go[1], "x", 1) != 1)
			tree_fail("write: %m");
		tree_read_exact(tell[0], &byte, 1, "a's word");
		if (oc.seg[0] != 'A')
			tree_fail("c does not see a's write into their segment");
		tree_pass();
	}
	tree_barrier_wait(4, NULL);
	if (oa.shm != ob.shm || oa.sem != ob.sem || oa.msq != ob.msq)
		fail("set-up: a's ids %d %d %d differ from b's %d %d %d", oa.shm, oa.sem, oa.msq,
		     ob.shm, ob.sem, ob.msq);
	if (ipc_of(a) == ipc_of(b) || ipc_of(a) != ipc_of(c))
		fail("set-up: namespaces not as planned");

	test_daemon();
	test_waitsig();

	if (ipc_of(a) == ipc_of(b) || ipc_of(a) != ipc_of(c) || ipc_of(a) == ipc_of(getpid()) ||
	    ipc_of(b) == ipc_of(getpid()))
		fail("namespaces after restore: root %lu a %lu b %lu c %lu",
		     (unsigned long)ipc_of(getpid()), (unsigned long)ipc_of(a),
		     (unsigned long)ipc_of(b), (unsigned long)ipc_of(c));
	if (shmget(0x100, 0, 0) >= 0)
		fail("the root sees a segment of key 0x100 in its namespace");
	tree_stop(a, "a");
	tree_stop(b, "b");
	tree_stop(c, "c");
	tree_collect(a, "a");
	tree_collect(c, "c");
	tree_collect(b, "b");
	pass();
}
