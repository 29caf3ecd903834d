// SPDX-License-Identifier: GPL-2.0
/*
 * ipc_sysctl: the sysctls of an IPC namespace of the tree's own, each set
 * to a value of its own, most of them below what the namespace's objects
 * already use (a limit applies when an object is made): a 64 KiB segment
 * under shmmax 8192, a 3000-byte message under msgmax 1000, 5000 bytes
 * queued under msgmnb 2000, a set of 50 semaphores under semmsl 10, a POSIX
 * queue of 10 messages of 4096 bytes under msg_max 5 and msgsize_max 1024,
 * two queues under queues_max 1; shm_rmid_forced on (its segment is
 * attached), and shm_next_id and sem_next_id asked for. nestor has no
 * CAP_SYS_RESOURCE here: the restore must raise the limits in the fresh
 * namespace to make the objects, then set them back. After restore every
 * sysctl reads as it did and every object is there as it was.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "zdtm.h"

static const struct {
	const char *name, *value;
} sysctls[] = {
	{ "kernel/shmmax", "8192" },
	{ "kernel/shmall", "100" },
	{ "kernel/shmmni", "10" },
	{ "kernel/msgmax", "1000" },
	{ "kernel/msgmnb", "2000" },
	{ "kernel/msgmni", "20" },
	{ "kernel/sem", "10\t100\t20\t30" },
	{ "fs/mqueue/queues_max", "1" },
	{ "fs/mqueue/msg_max", "5" },
	{ "fs/mqueue/msgsize_max", "1024" },
	{ "fs/mqueue/msg_default", "3" },
	{ "fs/mqueue/msgsize_default", "128" },
	{ "kernel/shm_rmid_forced", "1" },
	{ "kernel/shm_next_id", "7777" },
	{ "kernel/sem_next_id", "4242" },
};

#define NSYSCTL (sizeof(sysctls) / sizeof(sysctls[0]))

struct big {
	long mtype;
	char text[3000];
};

static char *sysctl_path(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	return path;
}

static void set(const char *name, const char *value)
{
	int fd = open(sysctl_path(name), O_WRONLY);

	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		fail("set %s to %s: %m", name, value);
	close(fd);
}

static void check(const char *name, const char *value)
{
	char buf[128];
	ssize_t n = read_file(sysctl_path(name), buf, sizeof(buf));

	if (n < 0)
		fail("read %s: %s", name, strerror(-n));
	buf[strcspn(buf, "\n")] = 0;
	if (strcmp(buf, value))
		fail("%s is '%s', expected '%s'", name, buf, value);
}

static ino_t ns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/ipc", &st))
		fail("stat /proc/self/ns/ipc: %m");
	return st.st_ino;
}

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = 4096 }, got;
	static struct big m = { .mtype = 3 };
	struct msqid_ds mds;
	struct semid_ds sds;
	struct shmid_ds hds;
	ino_t host = ns_ino();
	int shm, msq, sem;
	mqd_t q, q2;
	char *p;

	if (unshare(CLONE_NEWIPC))
		skip("unshare(CLONE_NEWIPC): %m");
	test_init(argc, argv);
	shm = shmget(0x777, 65536, IPC_CREAT | 0600);
	msq = msgget(0x778, IPC_CREAT | 0600);
	sem = semget(0x779, 50, IPC_CREAT | 0600);
	q = mq_open("/big", O_CREAT | O_RDWR, 0600, &attr);
	q2 = mq_open("/second", O_CREAT | O_RDWR, 0600, NULL);
	if (shm < 0 || msq < 0 || sem < 0 || q < 0 || q2 < 0)
		fail("making the objects: %m");
	p = shmat(shm, NULL, 0);
	if (p == (void *)-1)
		fail("shmat: %m");
	memset(p, 0x5a, 65536);
	memset(m.text, 'm', sizeof(m.text));
	if (msgsnd(msq, &m, sizeof(m.text), 0) || msgsnd(msq, &m, 2000, 0))
		fail("msgsnd: %m");
	if (mq_send(q, m.text, 4096 > sizeof(m.text) ? sizeof(m.text) : 4096, 1))
		fail("mq_send: %m");
	for (size_t i = 0; i < NSYSCTL; i++)
		set(sysctls[i].name, sysctls[i].value);

	test_daemon();
	test_waitsig();

	if (ns_ino() == host)
		fail("the test is in the IPC namespace it started in");
	for (size_t i = 0; i < NSYSCTL; i++)
		check(sysctls[i].name, sysctls[i].value);
	if (shmctl(shm, IPC_STAT, &hds) || hds.shm_segsz != 65536 || hds.shm_nattch != 1)
		fail("segment: size %zu, attached %lu (%m)", hds.shm_segsz,
		     (unsigned long)hds.shm_nattch);
	for (int i = 0; i < 65536; i++)
		if (p[i] != 0x5a)
			fail("segment byte %d is %#x", i, (unsigned char)p[i]);
	if (msgctl(msq, IPC_STAT, &mds) || mds.msg_qnum != 2 || mds.__msg_cbytes != 5000)
		fail("message queue: %lu messages, %lu bytes (%m)", mds.msg_qnum, mds.__msg_cbytes);
	if (semctl(sem, 0, IPC_STAT, &sds) || sds.sem_nsems != 50)
		fail("semaphore set: %lu semaphores (%m)", (unsigned long)sds.sem_nsems);
	if (mq_getattr(q, &got) || got.mq_maxmsg != 10 || got.mq_msgsize != 4096 ||
	    got.mq_curmsgs != 1)
		fail("POSIX queue: maxmsg %ld msgsize %ld curmsgs %ld (%m)", got.mq_maxmsg,
		     got.mq_msgsize, got.mq_curmsgs);
	if (mq_getattr(q2, &got) || got.mq_maxmsg != 10 || got.mq_msgsize != 8192)
		fail("second POSIX queue: maxmsg %ld msgsize %ld (%m)", got.mq_maxmsg,
		     got.mq_msgsize);
	pass();
}
