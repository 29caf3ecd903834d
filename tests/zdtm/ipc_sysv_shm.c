// SPDX-License-Identifier: GPL-2.0
/*
 * ipc_sysv_shm: System V shared memory in an IPC namespace of the tree's
 * own (the root unshares one before anything). Segments of several sizes:
 *   A  key 0x1234, 3 pages + 100 bytes, attached by the root and, at a
 *      second address too, by its child (three attachments);
 *   B  private, 1 MiB, sparse, attached by the root and destroyed (IPC_RMID)
 *      while attached;
 *   C  key 0x5678, made by uid 1234/gid 1235, owned by 2000/2001, locked
 *      (SHM_LOCK), attached nowhere;
 *   D  key 0x9abc, 8 pages, attached whole by the root, then a hole
 *      munmap'd (pages 2-3) and pages 5-7 made read-only;
 *   E  key 0x4321, 1 page, attached SHM_RDONLY.
 * After restore each segment has its id, key, mode, owners, size and
 * attach count, every byte of every segment is as it was, every
 * attachment is at its address with its rights, and A is still one
 * segment for both tasks (a write through the child's is seen by the root).
 */
#include <sched.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "tree.h"

#define NSEG 5
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

struct seg {
	const char *name;
	key_t key;
	size_t size;
	int mode;
	int id;
	struct shmid_ds ds; /* before the checkpoint */
};

/* .name, .key, .size, .mode; the rest is filled at set-up. */
static struct seg segs[NSEG] = {
	{ .name = "A", .key = 0x1234, .size = 3 * PAGE_SIZE + 100, .mode = 0640 },
	{ .name = "B", .key = IPC_PRIVATE, .size = 256 * PAGE_SIZE, .mode = 0600 },
	{ .name = "C", .key = 0x5678, .size = 2 * PAGE_SIZE, .mode = 0604 },
	{ .name = "D", .key = 0x9abc, .size = 8 * PAGE_SIZE, .mode = 0660 },
	{ .name = "E", .key = 0x4321, .size = PAGE_SIZE, .mode = 0444 },
};

/* Byte i of segment s: never 0 where written, so a lost page shows. */
static char byte(int s, size_t i)
{
	return (char)(1 + (i * 13 + s * 71 + i / PAGE_SIZE) % 251);
}

/* Whether byte i of segment s was written (B only at its first and last page). */
static bool written(int s, size_t i)
{
	if (s == 1)
		return i < PAGE_SIZE || i >= segs[1].size - PAGE_SIZE;
	return true;
}

static void fill(int s, char *p)
{
	for (size_t i = 0; i < segs[s].size; i++)
		if (written(s, i))
			p[i] = byte(s, i);
}

static void check_bytes(int s, const char *p, size_t from, size_t to, void (*die)(const char *, ...))
{
	for (size_t i = from; i < to; i++) {
		char want = written(s, i) ? byte(s, i) : 0;

		if (p[i] != want)
			die("segment %s byte %zu: %#x, expected %#x", segs[s].name, i,
			    (unsigned char)p[i], (unsigned char)want);
	}
}

static void check_area(const void *addr, size_t len, const char *perms, key_t key)
{
	struct vma_info v;
	char name[32];

	snprintf(name, sizeof(name), "/SYSV%08x (deleted)", key);
	if (vma_find(addr, &v))
		fail("no mapping at %p", addr);
	if (v.start != (unsigned long)addr || v.end != v.start + len || strcmp(v.perms, perms) ||
	    strcmp(v.name, name))
		fail("mapping %lx-%lx %s '%s', expected %p-%#lx %s '%s'", v.start, v.end, v.perms,
		     v.name, addr, (unsigned long)addr + len, perms, name);
}

static void make_c(void)
{
	struct shmid_ds ds;
	char *p;

	if (setegid(1235) || seteuid(1234))
		fail("seteuid: %m");
	segs[2].id = shmget(segs[2].key, segs[2].size, IPC_CREAT | IPC_EXCL | segs[2].mode);
	if (seteuid(0) || setegid(0))
		fail("seteuid back: %m");
	if (segs[2].id < 0)
		fail("shmget C: %m");
	p = shmat(segs[2].id, NULL, 0);
	if (p == (void *)-1)
		fail("shmat C: %m");
	fill(2, p);
	shmdt(p);
	if (shmctl(segs[2].id, IPC_STAT, &ds))
		fail("IPC_STAT C: %m");
	ds.shm_perm.uid = 2000;
	ds.shm_perm.gid = 2001;
	if (shmctl(segs[2].id, IPC_SET, &ds) || shmctl(segs[2].id, SHM_LOCK, NULL))
		fail("IPC_SET/SHM_LOCK C: %m");
}

static void compare_ds(int s)
{
	struct shmid_ds now;
	const struct shmid_ds *was = &segs[s].ds;

	if (shmctl(segs[s].id, IPC_STAT, &now))
		fail("segment %s (id %d) is gone: %m", segs[s].name, segs[s].id);
	if (now.shm_perm.__key != was->shm_perm.__key || now.shm_perm.mode != was->shm_perm.mode ||
	    now.shm_perm.uid != was->shm_perm.uid || now.shm_perm.gid != was->shm_perm.gid ||
	    now.shm_perm.cuid != was->shm_perm.cuid || now.shm_perm.cgid != was->shm_perm.cgid ||
	    now.shm_segsz != was->shm_segsz || now.shm_nattch != was->shm_nattch)
		fail("segment %s: key %#x mode %#o uid %u gid %u cuid %u cgid %u size %zu nattch %lu, "
		     "expected %#x %#o %u %u %u %u %zu %lu", segs[s].name, now.shm_perm.__key,
		     now.shm_perm.mode, now.shm_perm.uid, now.shm_perm.gid, now.shm_perm.cuid,
		     now.shm_perm.cgid, now.shm_segsz, (unsigned long)now.shm_nattch,
		     was->shm_perm.__key, was->shm_perm.mode, was->shm_perm.uid, was->shm_perm.gid,
		     was->shm_perm.cuid, was->shm_perm.cgid, was->shm_segsz,
		     (unsigned long)was->shm_nattch);
}

static void child_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tree_vfail(fmt, ap);
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
	char *a1, *b, *d, *e, *a2;
	pid_t pid;
	int tell[2];
	ino_t host = ns_ino();

	if (unshare(CLONE_NEWIPC))
		skip("unshare(CLONE_NEWIPC): %m");
	test_init(argc, argv);
	tree_init();
	for (int s = 0; s < NSEG; s++) {
		if (s == 2) {
			make_c();
			continue;
		}
		segs[s].id = shmget(segs[s].key, segs[s].size, IPC_CREAT | IPC_EXCL | segs[s].mode);
		if (segs[s].id < 0)
			fail("shmget %s: %m", segs[s].name);
	}
	a1 = shmat(segs[0].id, NULL, 0);
	b = shmat(segs[1].id, NULL, 0);
	d = shmat(segs[3].id, NULL, 0);
	e = shmat(segs[4].id, NULL, 0);
	if (a1 == (void *)-1 || b == (void *)-1 || d == (void *)-1 || e == (void *)-1)
		fail("shmat: %m");
	fill(0, a1);
	fill(1, b);
	fill(3, d);
	fill(4, e);
	shmdt(e);
	e = shmat(segs[4].id, NULL, SHM_RDONLY);
	if (e == (void *)-1 || shmctl(segs[1].id, IPC_RMID, NULL))
		fail("shmat E / IPC_RMID B: %m");
	if (munmap(d + 2 * PAGE_SIZE, 2 * PAGE_SIZE) ||
	    mprotect(d + 5 * PAGE_SIZE, 3 * PAGE_SIZE, PROT_READ))
		fail("munmap/mprotect D: %m");

	if (pipe(tell))
		fail("pipe: %m");
	tree_barrier_init();
	pid = tree_fork("child");
	if (!pid) {
		a2 = shmat(segs[0].id, NULL, 0);
		if (a2 == (void *)-1)
			tree_fail("shmat A: %m");
		if (write(tell[1], &a2, sizeof(a2)) != sizeof(a2))
			tree_fail("write: %m");
		close(tell[0]);
		close(tell[1]);
		tree_ready(0);
		test_waitsig();
		check_bytes(0, a2, 0, segs[0].size, child_fail);
		check_bytes(0, a1, 0, segs[0].size, child_fail);
		a2[7] = 0; /* the root looks for it through its own attachment */
		tree_pass();
	}
	tree_read_exact(tell[0], &a2, sizeof(a2), "the child's address");
	close(tell[0]);
	close(tell[1]);
	tree_barrier_wait(1, NULL);
	for (int s = 0; s < NSEG; s++)
		if (shmctl(segs[s].id, IPC_STAT, &segs[s].ds))
			fail("IPC_STAT %s: %m", segs[s].name);
	if (segs[0].ds.shm_nattch != 3 || !(segs[1].ds.shm_perm.mode & SHM_DEST) ||
	    !(segs[2].ds.shm_perm.mode & SHM_LOCKED))
		fail("set-up: A attached %lu times, B mode %#o, C mode %#o",
		     (unsigned long)segs[0].ds.shm_nattch, segs[1].ds.shm_perm.mode,
		     segs[2].ds.shm_perm.mode);

	test_daemon();
	test_waitsig();

	if (ns_ino() == host)
		fail("the test is in the IPC namespace it started in");
	for (int s = 0; s < NSEG; s++)
		compare_ds(s);
	check_area(a1, PAGE_ALIGN(segs[0].size), "rw-s", segs[0].key);
	check_area(b, segs[1].size, "rw-s", 0);
	check_area(d, 2 * PAGE_SIZE, "rw-s", segs[3].key);
	check_area(d + 4 * PAGE_SIZE, PAGE_SIZE, "rw-s", segs[3].key);
	check_area(d + 5 * PAGE_SIZE, 3 * PAGE_SIZE, "r--s", segs[3].key);
	check_area(e, PAGE_SIZE, "r--s", segs[4].key);
	if (vma_find(d + 2 * PAGE_SIZE, &(struct vma_info){ 0 }) != -ENOENT)
		fail("the hole in D's attachment is mapped");
	check_bytes(0, a1, 0, segs[0].size, fail);
	check_bytes(1, b, 0, segs[1].size, fail);
	check_bytes(3, d, 0, 2 * PAGE_SIZE, fail);
	check_bytes(3, d, 4 * PAGE_SIZE, 8 * PAGE_SIZE, fail);
	check_bytes(4, e, 0, PAGE_SIZE, fail);
	/* The rest of A's tail page and of C, read through fresh attachments. */
	{
		char *c = shmat(segs[2].id, NULL, SHM_RDONLY), *dd = shmat(segs[3].id, NULL, 0);

		if (c == (void *)-1 || dd == (void *)-1)
			fail("shmat C/D after restore: %m");
		check_bytes(2, c, 0, segs[2].size, fail);
		check_bytes(3, dd, 0, segs[3].size, fail);
		shmdt(c);
		shmdt(dd);
	}
	tree_stop(pid, "child");
	tree_collect(pid, "child");
	if (a1[7] != 0)
		fail("the child's write through its attachment of A is not seen by the root");
	pass();
}
