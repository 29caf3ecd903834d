// SPDX-License-Identifier: GPL-2.0
/*
 * ipc_sem: System V semaphore sets in an IPC namespace of the tree's own.
 * A keyed set of five with values up to SEMVMX; a private one made by uid
 * 1234/gid 1235 and given to 3000/3001 with mode 0600; a set whose id is
 * not its slot's first (one made and removed before). A child sleeps in
 * semop() at the checkpoint (again after the EINTR a freeze gives it),
 * waiting to take one from a semaphore at 0.
 * After restore: ids, keys, modes, owners, creators, sizes and every value
 * as they were, and the sleeping child wakes when the root gives it one.
 */
#include <sched.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "tree.h"

#define NSET 3

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static const unsigned short vals0[5] = { 0, 1, 2, 32767, 7 };
static int ids[NSET], nsems[NSET] = { 5, 1, 2 };
static struct semid_ds was[NSET];
static unsigned short vals[NSET][5];

static ino_t ns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/ipc", &st))
		fail("stat /proc/self/ns/ipc: %m");
	return st.st_ino;
}

static void make_sets(void)
{
	int gone = semget(0x999, 1, IPC_CREAT | 0600);
	struct semid_ds ds;
	unsigned short two[2] = { 9, 0 }, one = 3;

	if (gone < 0 || semctl(gone, 0, IPC_RMID))
		fail("semget/IPC_RMID: %m");
	ids[0] = semget(0x111, 5, IPC_CREAT | IPC_EXCL | 0644);
	if (setegid(1235) || seteuid(1234))
		fail("seteuid: %m");
	ids[1] = semget(IPC_PRIVATE, 1, IPC_CREAT | 0660);
	if (seteuid(0) || setegid(0))
		fail("seteuid back: %m");
	ids[2] = semget(0x333, 2, IPC_CREAT | IPC_EXCL | 0666);
	if (ids[0] < 0 || ids[1] < 0 || ids[2] < 0)
		fail("semget: %m");
	if (semctl(ids[0], 0, SETALL, (union semun){ .array = (unsigned short *)vals0 }) ||
	    semctl(ids[1], 0, SETALL, (union semun){ .array = &one }) ||
	    semctl(ids[2], 0, SETALL, (union semun){ .array = two }))
		fail("SETALL: %m");
	if (semctl(ids[1], 0, IPC_STAT, (union semun){ .buf = &ds }))
		fail("IPC_STAT: %m");
	ds.sem_perm.uid = 3000;
	ds.sem_perm.gid = 3001;
	ds.sem_perm.mode = 0600;
	if (semctl(ids[1], 0, IPC_SET, (union semun){ .buf = &ds }))
		fail("IPC_SET: %m");
}

static void snap(struct semid_ds *ds, unsigned short v[NSET][5])
{
	for (int i = 0; i < NSET; i++)
		if (semctl(ids[i], 0, IPC_STAT, (union semun){ .buf = &ds[i] }) ||
		    semctl(ids[i], 0, GETALL, (union semun){ .array = v[i] }))
			fail("set %d (id %d): %m", i, ids[i]);
}

int main(int argc, char **argv)
{
	ino_t host = ns_ino();
	struct semid_ds now[NSET];
	unsigned short nv[NSET][5];
	pid_t pid;

	if (unshare(CLONE_NEWIPC))
		skip("unshare(CLONE_NEWIPC): %m");
	test_init(argc, argv);
	tree_init();
	make_sets();
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		struct sembuf take = { .sem_num = 1, .sem_op = -1 };

		tree_ready(0);
		/*
		 * Asleep here at the checkpoint: semaphore 1 of set 2 is 0. A
		 * stopped semop() fails with EINTR once resumed, handler or not
		 * (signal(7)): freezing the tree is such a stop, so it asks again.
		 */
		while (semop(ids[2], &take, 1))
			if (errno != EINTR)
				tree_fail("semop: %m");
		tree_pass();
	}
	tree_barrier_wait(1, NULL);
	tree_wait_syscall(pid, pid, SYS_semtimedop, "child");
	snap(was, vals);
	if (vals[2][1] != 0 || was[0].sem_nsems != 5)
		fail("set-up: set 2 semaphore 1 is %u, set 0 has %lu", vals[2][1],
		     (unsigned long)was[0].sem_nsems);

	test_daemon();
	test_waitsig();

	if (ns_ino() == host)
		fail("the test is in the IPC namespace it started in");
	snap(now, nv);
	for (int i = 0; i < NSET; i++) {
		const struct ipc_perm *a = &now[i].sem_perm, *b = &was[i].sem_perm;

		if (a->__key != b->__key || a->mode != b->mode || a->uid != b->uid ||
		    a->gid != b->gid || a->cuid != b->cuid || a->cgid != b->cgid ||
		    now[i].sem_nsems != was[i].sem_nsems)
			fail("set %d (id %d): key %#x mode %#o uid %u gid %u cuid %u cgid %u nsems "
			     "%lu, expected %#x %#o %u %u %u %u %lu", i, ids[i], a->__key, a->mode,
			     a->uid, a->gid, a->cuid, a->cgid, (unsigned long)now[i].sem_nsems,
			     b->__key, b->mode, b->uid, b->gid, b->cuid, b->cgid,
			     (unsigned long)was[i].sem_nsems);
		for (int k = 0; k < nsems[i]; k++)
			if (nv[i][k] != vals[i][k])
				fail("set %d semaphore %d: %u, expected %u", i, k, nv[i][k],
				     vals[i][k]);
	}
	tree_wait_syscall(pid, pid, SYS_semtimedop, "child");
	{
		struct sembuf give = { .sem_num = 1, .sem_op = 1 };

		if (semop(ids[2], &give, 1))
			fail("semop give: %m");
	}
	tree_collect(pid, "child");
	if (semctl(ids[2], 1, GETVAL) != 0 || semctl(ids[2], 0, GETVAL) != 9)
		fail("set 2 after the child took one: %d %d, expected 9 0",
		     semctl(ids[2], 0, GETVAL), semctl(ids[2], 1, GETVAL));
	pass();
}
