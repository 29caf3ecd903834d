// SPDX-License-Identifier: GPL-2.0
/*
 * ipc_msg: System V message queues in an IPC namespace of the tree's own.
 * A keyed queue holds messages of several types in an order that is not
 * the types' (an empty one and one of 8000 bytes among them) under a
 * lowered msg_qbytes; a private queue, made by uid 1234 and given to
 * 3000/3001, is empty. After restore each queue has its id, key, mode,
 * owners, creator and limit, and gives back its messages by type and then
 * all in their order, byte for byte.
 */
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>

#include "tree.h"

#define NMSG 6
#define BIG  8000

static const long types[NMSG] = { 5, 1, 5, 2, 9, 1 };
static const size_t lens[NMSG] = { 10, 0, 300, BIG, 1, 77 };
static int ids[2];
static struct msqid_ds was[2];

struct msg {
	long mtype;
	char text[BIG];
};

static char byte(int m, size_t i)
{
	return (char)(m * 31 + i * 7 + 1);
}

static ino_t ns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/ipc", &st))
		fail("stat /proc/self/ns/ipc: %m");
	return st.st_ino;
}

static void make_queues(void)
{
	static struct msg m;
	struct msqid_ds ds;

	ids[0] = msgget(0x222, IPC_CREAT | IPC_EXCL | 0640);
	if (setegid(1235) || seteuid(1234))
		fail("seteuid: %m");
	ids[1] = msgget(IPC_PRIVATE, IPC_CREAT | 0666);
	if (seteuid(0) || setegid(0))
		fail("seteuid back: %m");
	if (ids[0] < 0 || ids[1] < 0)
		fail("msgget: %m");
	for (int k = 0; k < NMSG; k++) {
		m.mtype = types[k];
		for (size_t i = 0; i < lens[k]; i++)
			m.text[i] = byte(k, i);
		if (msgsnd(ids[0], &m, lens[k], IPC_NOWAIT))
			fail("msgsnd %d: %m", k);
	}
	if (msgctl(ids[0], IPC_STAT, &ds))
		fail("IPC_STAT: %m");
	ds.msg_qbytes = 12000;
	if (msgctl(ids[0], IPC_SET, &ds) || msgctl(ids[1], IPC_STAT, &ds))
		fail("IPC_SET: %m");
	ds.msg_perm.uid = 3000;
	ds.msg_perm.gid = 3001;
	ds.msg_perm.mode = 0600;
	ds.msg_qbytes = 100;
	if (msgctl(ids[1], IPC_SET, &ds))
		fail("IPC_SET: %m");
}

static void receive(int k, long type)
{
	static struct msg m;
	ssize_t n = msgrcv(ids[0], &m, BIG, type, IPC_NOWAIT);

	if (n < 0)
		fail("msgrcv (type %ld, expecting message %d): %m", type, k);
	if (m.mtype != types[k] || (size_t)n != lens[k])
		fail("message of type %ld, %zd bytes, expected message %d: type %ld, %zu bytes",
		     m.mtype, n, k, types[k], lens[k]);
	for (size_t i = 0; i < lens[k]; i++)
		if (m.text[i] != byte(k, i))
			fail("message %d byte %zu: %#x, expected %#x", k, i, (unsigned char)m.text[i],
			     (unsigned char)byte(k, i));
}

int main(int argc, char **argv)
{
	ino_t host = ns_ino();

	if (unshare(CLONE_NEWIPC))
		skip("unshare(CLONE_NEWIPC): %m");
	test_init(argc, argv);
	make_queues();
	for (int i = 0; i < 2; i++)
		if (msgctl(ids[i], IPC_STAT, &was[i]))
			fail("IPC_STAT: %m");

	test_daemon();
	test_waitsig();

	if (ns_ino() == host)
		fail("the test is in the IPC namespace it started in");
	for (int i = 0; i < 2; i++) {
		struct msqid_ds now;
		const struct ipc_perm *a = &now.msg_perm, *b = &was[i].msg_perm;

		if (msgctl(ids[i], IPC_STAT, &now))
			fail("queue %d (id %d) is gone: %m", i, ids[i]);
		if (a->__key != b->__key || a->mode != b->mode || a->uid != b->uid ||
		    a->gid != b->gid || a->cuid != b->cuid || a->cgid != b->cgid ||
		    now.msg_qbytes != was[i].msg_qbytes || now.msg_qnum != was[i].msg_qnum ||
		    now.__msg_cbytes != was[i].__msg_cbytes)
			fail("queue %d: key %#x mode %#o uid %u gid %u cuid %u cgid %u qbytes %lu qnum "
			     "%lu cbytes %lu, expected %#x %#o %u %u %u %u %lu %lu %lu", i, a->__key,
			     a->mode, a->uid, a->gid, a->cuid, a->cgid, now.msg_qbytes, now.msg_qnum,
			     now.__msg_cbytes, b->__key, b->mode, b->uid, b->gid, b->cuid, b->cgid,
			     was[i].msg_qbytes, was[i].msg_qnum, was[i].__msg_cbytes);
	}
	/* By type first (the first 2, then the first 9), then the rest in order. */
	receive(3, 2);
	receive(4, 9);
	receive(0, 0);
	receive(1, 0);
	receive(2, 0);
	receive(5, 0);
	if (msgrcv(ids[0], &(struct msg){ 0 }, BIG, 0, IPC_NOWAIT) >= 0 || errno != ENOMSG)
		fail("a message too many in the queue");
	pass();
}
