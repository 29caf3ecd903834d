// SPDX-License-Identifier: GPL-2.0
/*
 * badtask MODE WORKDIR: a task nestor must refuse to dump (or, in mode map,
 * one it can dump), for tests/bad_input.sh. It sets up what MODE names,
 * creates WORKDIR/ready, then counts in user space until SIGTERM, when it
 * checks that what it set up is still as it left it (the refused dump must
 * not have harmed it) and writes PASS, FAIL: why or SKIP: why into
 * WORKDIR/result. WORKDIR/aux gets the pid of a helper task or thread.
 *
 * badtask tracer WORKDIR PID: PTRACE_SEIZEs PID and sleeps until SIGTERM;
 * exiting detaches it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <mqueue.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAGIC	 0x5a5a5a5a5a5a5a5aUL
#define MAP_SIZE (3 * 4096)

static const char *workdir;
static const char *mode;
static volatile sig_atomic_t stop;
static volatile unsigned long global_cnt;

/* What setup left behind, for the check at the end. */
static pid_t child;
#define BIG_SIZE (512UL << 20)
static char *big;
static volatile unsigned long thread_cnt;
static volatile int thread_stop;
static pthread_t thread;
static struct stat ns_before;
static const char *ns_name;
static unsigned char *map;
#define SHM_SIZE (4 * 4096)
static char *sysv;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void put_file(const char *name, const char *fmt, ...)
{
	char path[4096], tmp[4200], buf[512];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		_exit(3);
	/* Readers poll for the name: it must appear with its whole content. */
	if (write(fd, buf, n) != n || close(fd) || rename(tmp, path))
		_exit(3);
}

__attribute__((noreturn, format(printf, 2, 3))) static void result(const char *what,
								   const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put_file("result", "%s%s%s\n", what, buf[0] ? ": " : "", buf);
	exit(!strcmp(what, "PASS") ? 0 : !strcmp(what, "SKIP") ? 77 : 1);
}

#define fail(...) result("FAIL", __VA_ARGS__)
#define skip(...) result("SKIP", __VA_ARGS__)

static void *spin_thread(void *arg)
{
	(void)arg;
	while (!thread_stop)
		thread_cnt++;
	return NULL;
}

/* A thread in a UTS namespace of its own, with its own hostname. */
static volatile pid_t uts_tid;
static void *uts_thread(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWUTS) || sethostname("nestor-thread", 13))
		return NULL;
	uts_tid = syscall(SYS_gettid);
	return spin_thread(NULL);
}

/* A thread in an IPC namespace of its own. */
static void *ipc_thread(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWIPC))
		return NULL;
	uts_tid = syscall(SYS_gettid);
	return spin_thread(NULL);
}

/* A thread in a network namespace of its own. */
static void *net_thread(void *arg)
{
	struct ifreq ifr = { .ifr_name = "lo:1" };
	struct sockaddr_in *in = (struct sockaddr_in *)&ifr.ifr_addr;
	int sk;

	(void)arg;
	if (unshare(CLONE_NEWNET))
		return NULL;
	/* More than loopback alone: a second address on it. */
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(0x7f000002);
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0 || ioctl(sk, SIOCSIFADDR, &ifr))
		return NULL;
	close(sk);
	uts_tid = syscall(SYS_gettid);
	return spin_thread(NULL);
}

/* A thread that says its tid (in uts_tid), then spins. */
static void *tid_thread(void *arg)
{
	(void)arg;
	uts_tid = syscall(SYS_gettid);
	return spin_thread(NULL);
}

static void place_fd(int fd, int want)
{
	if (fd == want)
		return;
	if (dup2(fd, want) != want)
		fail("dup2 to %d: %m", want);
	close(fd);
}

static void enter_ns(int flag, const char *name)
{
	char path[64];

	ns_name = name;
	if (unshare(flag))
		skip("unshare(%s): %m", name);
	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	if (stat(path, &ns_before))
		fail("stat %s: %m", path);
}

/*
 * A proc in our mount namespace of a pid namespace whose init is not in our
 * tree: a child makes the init and exits (the init goes to the subreaper),
 * the init mounts its proc on WORKDIR/proc and lives until we are gone (a
 * pidfd of ours tells it).
 */
static void outside_proc(void)
{
	int pfd = (int)syscall(SYS_pidfd_open, getpid(), 0), ready[2], st;
	char dir[4096], c;
	pid_t a;

	snprintf(dir, sizeof(dir), "%s/proc", workdir);
	if (pfd < 0 || mkdir(dir, 0755) || pipe(ready))
		fail("pidfd, mkdir or pipe: %m");
	if ((a = fork()) < 0)
		fail("fork: %m");
	if (a == 0) {
		if (unshare(CLONE_NEWPID) || (a = fork()) < 0)
			_exit(1);
		if (a == 0) {
			struct pollfd pl = { .fd = pfd, .events = POLLIN };

			if (mount("proc", dir, "proc", 0, NULL) || write(ready[1], "r", 1) != 1)
				_exit(1);
			for (int fd = 0; fd < 1024; fd++)
				if (fd != pfd)
					close(fd);
			while (poll(&pl, 1, -1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		_exit(0);
	}
	close(ready[1]);
	if (waitpid(a, &st, 0) != a || st || read(ready[0], &c, 1) != 1)
		fail("the init outside did not mount its proc");
	close(ready[0]);
	close(pfd);
}

/* More than loopback alone in the caller's network namespace: a second address on it. */
static void add_lo_addr(void)
{
	struct ifreq ifr = { .ifr_name = "lo:1" };
	struct sockaddr_in *in = (struct sockaddr_in *)&ifr.ifr_addr;
	int sk;

	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(0x7f000002);
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0 || ioctl(sk, SIOCSIFADDR, &ifr))
		fail("cannot add 127.0.0.2: %m");
	close(sk);
}

/* Root inside mapped to root outside, so the result can still be written. */
static void map_root(void)
{
	static const struct {
		const char *file, *text;
	} maps[] = { { "/proc/self/uid_map", "0 0 1" },
		     { "/proc/self/setgroups", "deny" },
		     { "/proc/self/gid_map", "0 0 1" } };

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int fd = open(maps[i].file, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, maps[i].text, strlen(maps[i].text)) < 0)
			fail("write %s: %m", maps[i].file);
		close(fd);
	}
}

static void setup_seccomp(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fail("no_new_privs: %m");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		skip("seccomp filter: %m");
}

/* A listener (fd 6) on WORKDIR/sock with BACKLOG connections of its own
 * waiting, each holding data its client (fds 7...) sent. */
#define BACKLOG 3
static void setup_backlog(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", workdir);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 8))
		fail("listener: %m");
	place_fd(l, 6);
	for (int i = 0; i < BACKLOG; i++) {
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char msg[32];

		snprintf(msg, sizeof(msg), "client %d", i);
		if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) ||
		    write(c, msg, strlen(msg)) != (ssize_t)strlen(msg))
			fail("client %d: %m", i);
		place_fd(c, 7 + i);
	}
}

/* Every waiting connection is still there, in order, with its data, and its
 * client hears the answer. */
static void check_backlog(void)
{
	for (int i = 0; i < BACKLOG; i++) {
		char msg[32], got[32] = "";
		int a = accept4(6, NULL, NULL, SOCK_CLOEXEC);

		snprintf(msg, sizeof(msg), "client %d", i);
		if (a < 0)
			fail("connection %d is no longer waiting: %m", i);
		if (read(a, got, sizeof(got) - 1) != (ssize_t)strlen(msg) || strcmp(got, msg))
			fail("connection %d holds '%s', expected '%s'", i, got, msg);
		if (write(a, "ok", 2) != 2 || read(7 + i, got, 2) != 2 || memcmp(got, "ok", 2))
			fail("client %d does not hear its connection: %m", i);
		close(a);
	}
	if (accept4(6, NULL, NULL, SOCK_CLOEXEC) >= 0)
		fail("one more connection is waiting");
}

/* An open file (fd 6, at offset 100) and a cwd, both in the work dir. */
static void setup_files(void)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/data", workdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("create %s: %m", path);
	for (int i = 0; i < MAP_SIZE; i++)
		if (write(fd, &(char){ 'a' + i % 26 }, 1) != 1)
			fail("write %s: %m", path);
	if (lseek(fd, 100, SEEK_SET) != 100)
		fail("lseek: %m");
	place_fd(fd, 6);
	snprintf(path, sizeof(path), "%s/cwd", workdir);
	if (mkdir(path, 0755) || chdir(path))
		fail("mkdir/chdir %s: %m", path);
}

static void check_files(void)
{
	char buf[4096], want[4096];
	struct stat st;

	snprintf(want, sizeof(want), "%s/cwd", workdir);
	if (!getcwd(buf, sizeof(buf)) || strcmp(buf, want))
		fail("cwd is %s, expected %s", buf, want);
	if (fstat(6, &st) || st.st_size != MAP_SIZE || lseek(6, 0, SEEK_CUR) != 100)
		fail("fd 6: size %ld offset %ld, expected %d 100", (long)st.st_size,
		     (long)lseek(6, 0, SEEK_CUR), MAP_SIZE);
	if (read(6, buf, 1) != 1 || buf[0] != 'a' + 100 % 26)
		fail("fd 6 reads %#x at 100", buf[0]);
}

static void setup_map(void)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/mapped", workdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("create %s: %m", path);
	for (int i = 0; i < MAP_SIZE; i++)
		if (write(fd, &(char){ 'a' + i % 26 }, 1) != 1)
			fail("write %s: %m", path);
	map = mmap(NULL, MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap %s: %m", path);
	close(fd);
}

static int vm_child(void *arg)
{
	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;)
		pause();
	return 0;
}

static void vm_orphans(void)
{
	static char stacks[2][64 << 10] __attribute__((aligned(16)));
	pid_t b, c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	b = clone(vm_child, stacks[0] + sizeof(stacks[0]), CLONE_VM | SIGCHLD, NULL);
	c = clone(vm_child, stacks[1] + sizeof(stacks[1]), CLONE_VM | SIGCHLD, NULL);
	if (b < 0 || c < 0)
		_exit(3);
	put_file("aux", "%d %d", b, c);
	execl("/bin/sleep", "sleep", "1000", (char *)NULL);
	_exit(127);
}

/* Waits until pid runs the program named comm (its exec is done). */
static void wait_exec(pid_t pid, const char *comm)
{
	char path[64], buf[32] = "";

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");

		if (f && fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = '\0';
		if (f)
			fclose(f);
		if (!strcmp(buf, comm))
			return;
		usleep(1000);
	}
	fail("child %d did not exec %s", pid, comm);
}

/*
 * A System V shm segment attached in the host's IPC namespace; aux gets
 * its address range as maps shows it. Marked for removal right after the
 * attach: it vanishes when the task ends, however it ends.
 */
static void setup_sysv_shm(void)
{
	int id = shmget(IPC_PRIVATE, SHM_SIZE, IPC_CREAT | 0600);

	if (id < 0)
		fail("shmget: %m");
	sysv = shmat(id, NULL, 0);
	if (shmctl(id, IPC_RMID, NULL))
		fail("shmctl IPC_RMID: %m");
	if (sysv == (void *)-1)
		fail("shmat: %m");
	for (int i = 0; i < SHM_SIZE; i++)
		sysv[i] = (char)(i * 13 + 5);
	put_file("aux", "%lx-%lx", (unsigned long)sysv, (unsigned long)sysv + SHM_SIZE);
}

/*
 * IPC namespaces. mq_notify: in an IPC namespace of its own, a POSIX queue
 * /n with a notification registered (a refill would fire it). mq_host: a
 * descriptor of a queue of the host's namespace (unlinked at once; aux gets
 * its fd). shm_forced: in a namespace of its own with shm_rmid_forced set, a
 * segment attached nowhere, which nestor's attach and detach would destroy
 * (aux gets its id; check() proves it is still there). ipc_objs: in a
 * namespace of its own, a segment with data (kept attached), a queued
 * message and a POSIX queue holding one (kept open), and a socketpair, for
 * the restore cases that damage or rewrite their images.
 */
static int ipc_id = -1;

static void setup_ipc(void)
{
	char name[64];

	if (!strcmp(mode, "mq_host")) {
		snprintf(name, sizeof(name), "/nestor-bad-%d", getpid());
		ipc_id = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
		if (ipc_id < 0)
			fail("mq_open %s: %m", name);
		mq_unlink(name);
		put_file("aux", "%d", ipc_id);
		return;
	}
	enter_ns(CLONE_NEWIPC, "ipc");
	if (!strcmp(mode, "ipc_objs")) {
		struct {
			long mtype;
			char text[32];
		} m = { 1, "a message" };
		int shm = shmget(0x42, SHM_SIZE, IPC_CREAT | 0600), msq = msgget(0x43, IPC_CREAT | 0600);
		mqd_t q = mq_open("/objs", O_CREAT | O_RDWR, 0600, NULL);
		char *p = shm < 0 ? (void *)-1 : shmat(shm, NULL, 0);

		if (p == (void *)-1 || msq < 0 || q < 0 || msgsnd(msq, &m, sizeof(m.text), 0) ||
		    mq_send(q, "posix", 5, 3))
			fail("making the IPC objects: %m");
		int sp[2];

		memset(p, 0x33, SHM_SIZE);
		/* Kept attached and open, and a socketpair: what the cross
		 * references of the restore's rewriting cases name. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
			fail("socketpair: %m");
		return;
	}
	if (!strcmp(mode, "mq_notify")) {
		struct sigevent ev = { .sigev_notify = SIGEV_NONE };

		ipc_id = mq_open("/n", O_CREAT | O_RDWR, 0600, NULL);
		if (ipc_id < 0 || mq_notify(ipc_id, &ev))
			fail("mq_open/mq_notify: %m");
		return;
	}
	ipc_id = shmget(IPC_PRIVATE, SHM_SIZE, IPC_CREAT | 0600);
	if (ipc_id < 0)
		fail("shmget: %m");
	int fd = open("/proc/sys/kernel/shm_rmid_forced", O_WRONLY);

	if (fd < 0 || write(fd, "1", 1) != 1)
		fail("shm_rmid_forced: %m");
	close(fd);
	put_file("aux", "%d", ipc_id);
}

/*
 * family: a child in a group of its own and its child, which has a second
 * thread; none asks for a death signal, so a root that dies alone leaves
 * them running. aux gets "CHILD GRANDCHILD".
 */
static pid_t grandchild;

static void family_member(void)
{
	int e;

	if ((e = pthread_create(&thread, NULL, spin_thread, NULL)))
		_exit(1);
	for (;;)
		pause();
}

static void setup_family(void)
{
	int p[2];

	if (pipe(p))
		fail("pipe: %m");
	child = fork();
	if (child < 0)
		fail("fork: %m");
	if (child == 0) {
		pid_t g;

		close(p[0]);
		setpgid(0, 0);
		g = fork();
		if (g == 0) {
			close(p[1]);
			family_member();
		}
		if (g < 0 || write(p[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
		fail("the child did not fork the grandchild");
	close(p[0]);
	put_file("aux", "%d %d", child, grandchild);
}

static void setup(void)
{
	int p[2], e;

	if (!strcmp(mode, "plain")) {
		return;
	} else if (!strcmp(mode, "family")) {
		setup_family();
	} else if (!strcmp(mode, "vm_orphans")) {
		/* Two grandchildren share one memory that their parent left by exec:
		 * neither got it from the other, which no restore can make again. */
		child = fork();
		if (child < 0)
			fail("fork: %m");
		if (child == 0)
			vm_orphans();
		wait_exec(child, "sleep");
	} else if (!strcmp(mode, "pending")) {
		/* More queued real-time signals than a dump takes. */
		sigset_t rt;
		union sigval v = { 0 };

		sigemptyset(&rt);
		sigaddset(&rt, SIGRTMIN + 1);
		sigprocmask(SIG_BLOCK, &rt, NULL);
		for (int i = 0; i < 4100; i++)
			if (sigqueue(getpid(), SIGRTMIN + 1, v))
				fail("sigqueue %d: %m", i);
	} else if (!strcmp(mode, "vfork")) {
		/* We sleep in vfork() until the child exits, 2 s after it says we
		 * are ready: a dump meanwhile must refuse (it gives a vfork half a
		 * second to end), not hang. */
		pid_t self = getpid();

		child = vfork();
		if (child < 0)
			fail("vfork: %m");
		if (child == 0) {
			struct timespec ts = { 2, 0 };

			put_file("ready", "%d", self);
			nanosleep(&ts, NULL);
			_exit(0);
		}
		waitpid(child, NULL, 0);
	} else if (!strcmp(mode, "child") || !strcmp(mode, "zombie")) {
		child = fork();
		if (child < 0)
			fail("fork: %m");
		if (child == 0) {
			if (!strcmp(mode, "zombie"))
				_exit(0);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		put_file("aux", "%d", child);
		if (!strcmp(mode, "zombie")) {
			siginfo_t si;

			/* Wait for it to die without reaping it. */
			if (waitid(P_PID, child, &si, WEXITED | WNOWAIT))
				fail("waitid: %m");
		}
	} else if (!strcmp(mode, "threads")) {
		if ((e = pthread_create(&thread, NULL, spin_thread, NULL)))
			fail("pthread_create: %s", strerror(e));
		for (int i = 0; !thread_cnt; i++)
			if (i > 1000000)
				fail("the second thread never started counting");
			else
				sched_yield();
	} else if (!strcmp(mode, "thread_uts")) {
		if ((e = pthread_create(&thread, NULL, uts_thread, NULL)))
			fail("pthread_create: %s", strerror(e));
		for (int i = 0; !thread_cnt; i++)
			if (i > 1000000)
				fail("the UTS thread never started counting (unshare: %m)");
			else
				sched_yield();
		put_file("aux", "%d", uts_tid);
	} else if (!strcmp(mode, "sysv_thread")) {
		/* A segment attached in the task's own IPC namespace, a thread in another. */
		int id;

		enter_ns(CLONE_NEWIPC, "ipc");
		id = shmget(IPC_PRIVATE, SHM_SIZE, IPC_CREAT | 0600);
		if (id < 0 || shmat(id, NULL, 0) == (void *)-1)
			fail("shmget/shmat: %m");
		if ((e = pthread_create(&thread, NULL, ipc_thread, NULL)))
			fail("pthread_create: %s", strerror(e));
		for (int i = 0; !thread_cnt; i++)
			if (i > 1000000)
				fail("the IPC thread never started counting (unshare: %m)");
			else
				sched_yield();
		put_file("aux", "%d", uts_tid);
	} else if (!strcmp(mode, "thread_net")) {
		if ((e = pthread_create(&thread, NULL, net_thread, NULL)))
			fail("pthread_create: %s", strerror(e));
		for (int i = 0; !thread_cnt; i++)
			if (i > 1000000)
				fail("the network thread never started counting (unshare: %m)");
			else
				sched_yield();
		put_file("aux", "%d", uts_tid);
	} else if (!strcmp(mode, "netns_unix")) {
		/* A socket pair made in a network namespace with a second address,
		 * which no task is in: the task went back to its own. */
		int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), sv[2];

		if (home < 0 || unshare(CLONE_NEWNET))
			skip("unshare(net): %m");
		add_lo_addr();
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || setns(home, CLONE_NEWNET))
			fail("socketpair, or back to the first network namespace: %m");
		close(home);
		place_fd(sv[0], 5);
		place_fd(sv[1], 6);
	} else if (!strcmp(mode, "nsfd")) {
		/* A descriptor of its own UTS namespace. */
		place_fd(open("/proc/self/ns/uts", O_RDONLY), 5);
	} else if (!strcmp(mode, "ns-cgroup")) {
		/* Made in a pids cgroup of its own, then back out of it (and the cgroup
		 * removed): outside its namespace's root, which nestor cannot make. */
		char dir[128], procs[160];
		int fd;

		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/pids/nestor-bad-%d", getpid());
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		if (mkdir(dir, 0755))
			fail("mkdir %s: %m", dir);
		fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			fail("cannot enter %s: %m", dir);
		close(fd);
		enter_ns(CLONE_NEWCGROUP, "cgroup");
		fd = open("/sys/fs/cgroup/pids/cgroup.procs", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1 || rmdir(dir))
			fail("cannot leave %s: %m", dir);
		close(fd);
	} else if (!strcmp(mode, "ns-time")) {
		/* Only our children would be in it. */
		enter_ns(0x80 /* CLONE_NEWTIME */, "time_for_children");
	} else if (!strcmp(mode, "ns-pid_for_children")) {
		/* Our next child would be init of a new pid namespace. */
		enter_ns(CLONE_NEWPID, "pid");
		ns_name = "pid_for_children";
	} else if (!strcmp(mode, "pdeath")) {
		/* SIGWINCH: harmless whenever it comes (our parent may be gone already). */
		if (prctl(PR_SET_PDEATHSIG, SIGWINCH))
			fail("PR_SET_PDEATHSIG: %m");
	} else if (!strcmp(mode, "ns-user")) {
		enter_ns(CLONE_NEWUSER, "user");
		map_root();
	} else if (!strcmp(mode, "ns-user-fs")) {
		/* Our child shares our fs info: it could not setns() into the namespace. */
		enter_ns(CLONE_NEWUSER, "user");
		map_root();
		child = syscall(SYS_clone, CLONE_FS | SIGCHLD, 0, 0, 0, 0);
		if (child < 0)
			fail("clone(CLONE_FS): %m");
		if (child == 0)
			for (;;)
				pause();
		put_file("aux", "%d", child);
	} else if (!strcmp(mode, "ns-user-threads")) {
		/* A threaded task cannot setns() into its user namespace at restore. */
		enter_ns(CLONE_NEWUSER, "user");
		map_root();
		if ((e = pthread_create(&thread, NULL, spin_thread, NULL)))
			fail("pthread_create: %s", strerror(e));
	} else if (!strcmp(mode, "ns-user-pid")) {
		/*
		 * A pid namespace our user namespace owns, its init our child,
		 * a session leader whose child is in its session: made by a
		 * proxy outside it at restore, the child could not be.
		 */
		enter_ns(CLONE_NEWUSER, "user");
		map_root();
		if (unshare(CLONE_NEWPID))
			fail("unshare(CLONE_NEWPID): %m");
		child = fork();
		if (child < 0)
			fail("fork: %m");
		if (child == 0) {
			if (setsid() < 0 || (child = fork()) < 0)
				_exit(1);
			if (child == 0) {
				char self[32] = "";

				if (readlink("/proc/self", self, sizeof(self) - 1) > 0)
					put_file("aux", "%s", self);
			}
			for (;;)
				pause();
		}
		for (int i = 0; i < 500 && access("aux", F_OK); i++)
			usleep(10000);
	} else if (!strcmp(mode, "ns-net")) {
		enter_ns(CLONE_NEWNET, "net");
		add_lo_addr();
	} else if (!strcmp(mode, "ns-mnt")) {
		/* A copy of nestor's is made again; one with a mount of its own is not. */
		char dir[4096];

		enter_ns(CLONE_NEWNS, "mnt");
		snprintf(dir, sizeof(dir), "%s/mnt", workdir);
		if (mkdir(dir, 0755) || mount("badtask", dir, "tmpfs", 0, "size=4k"))
			fail("cannot mount a tmpfs on %s: %m", dir);
	} else if (!strcmp(mode, "ns-mnt-proc")) {
		enter_ns(CLONE_NEWNS, "mnt");
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			fail("cannot make the mounts private: %m");
		outside_proc();
	} else if (!strcmp(mode, "seccomp")) {
		setup_seccomp();
	} else if (!strcmp(mode, "fown_thread")) {
		/* A pipe whose SIGIO goes to a thread other than the main one. */
		struct f_owner_ex o = { F_OWNER_TID, 0 };

		if ((e = pthread_create(&thread, NULL, tid_thread, NULL)))
			fail("pthread_create: %s", strerror(e));
		for (int i = 0; !thread_cnt; i++)
			if (i > 1000000)
				fail("the thread never started counting");
			else
				sched_yield();
		o.pid = uts_tid;
		if (pipe(p) || fcntl(p[0], F_SETOWN_EX, &o))
			fail("pipe or F_SETOWN_EX: %m");
		place_fd(p[0], 7);
		place_fd(p[1], 8);
		put_file("aux", "%d", uts_tid);
	} else if (!strcmp(mode, "pipe")) {
		if (pipe(p))
			fail("pipe: %m");
		place_fd(p[0], 7);
		place_fd(p[1], 8);
		if (write(8, "x", 1) != 1)
			fail("write to the pipe: %m");
	} else if (!strcmp(mode, "socket")) {
		/* An inet socket: only unix sockets inside the tree are restored. */
		e = socket(AF_INET, SOCK_DGRAM, 0);
		if (e < 0)
			fail("socket: %m");
		place_fd(e, 9);
	} else if (!strcmp(mode, "eventfd")) {
		e = eventfd(42, 0);
		if (e < 0)
			fail("eventfd: %m");
		place_fd(e, 5);
	} else if (!strcmp(mode, "epoll_fired")) {
		/* A one-shot watch fired on a pipe emptied since: no event to fire it again. */
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
		int p[2];
		char c;

		if (pipe(p))
			fail("pipe: %m");
		place_fd(p[0], 20); /* out of the way of 6 and 7 first */
		place_fd(p[1], 21);
		place_fd(20, 6);
		place_fd(21, 7);
		e = epoll_create1(0);
		if (e < 0)
			fail("epoll_create1: %m");
		place_fd(e, 5);
		if (epoll_ctl(5, EPOLL_CTL_ADD, 6, &ev) || write(7, "x", 1) != 1 ||
		    epoll_wait(5, &ev, 1, 1000) != 1 || read(6, &c, 1) != 1)
			fail("firing the one-shot watch: %m");
	} else if (!strcmp(mode, "procfd")) {
		e = open("/proc/1/stat", O_RDONLY | O_CLOEXEC);
		if (e < 0)
			fail("open /proc/1/stat: %m");
		place_fd(e, 5);
	} else if (!strcmp(mode, "pidfd")) {
		e = syscall(SYS_pidfd_open, getpid(), 0);
		if (e < 0)
			fail("pidfd_open: %m");
		place_fd(e, 5);
	} else if (!strcmp(mode, "io_uring")) {
		static char params[120]; /* struct io_uring_params, zeroed */
		e = syscall(SYS_io_uring_setup, 4, params);
		if (e < 0)
			fail("io_uring_setup: %m");
		place_fd(e, 5);
	} else if (!strcmp(mode, "cgroup")) {
		/* A pids cgroup of its own, named in aux for the script to remove. */
		char dir[128];
		int fd;

		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/pids/nestor-bad-%d", getpid());
		if (mkdir(dir, 0755))
			fail("mkdir %s: %m", dir);
		put_file("aux", "%s", dir);
		strcat(dir, "/cgroup.procs");
		fd = open(dir, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			fail("cannot enter %s: %m", dir);
		close(fd);
	} else if (!strcmp(mode, "bigmem")) {
		/* Enough memory that a dump takes a while: a signal can reach nestor mid-way. */
		big = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (big == MAP_FAILED)
			fail("mmap: %m");
		for (size_t off = 0; off < BIG_SIZE; off += 4096)
			big[off] = (char)(off >> 12);
	} else if (!strcmp(mode, "map")) {
		setup_map();
	} else if (!strcmp(mode, "files")) {
		setup_files();
	} else if (!strcmp(mode, "backlog")) {
		setup_backlog();
	} else if (!strcmp(mode, "sysv_shm")) {
		setup_sysv_shm();
	} else if (!strcmp(mode, "mq_notify") || !strcmp(mode, "mq_host") ||
		   !strcmp(mode, "shm_forced") || !strcmp(mode, "ipc_objs")) {
		setup_ipc();
	} else {
		fprintf(stderr, "badtask: unknown mode %s\n", mode);
		exit(2);
	}
}

/* One byte must still wait in fd: nothing read it behind our back. */
static void check_queued(int fd, char want, const char *what)
{
	char c = 0;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (read(fd, &c, 1) != 1 || c != want)
		fail("the byte in the %s (fd %d) is gone: %m", what, fd);
}

static void check(void)
{
	char path[64];
	struct stat st;
	uint64_t v = 0;
	unsigned long before;
	siginfo_t si;

	if (!strcmp(mode, "shm_forced") && shmctl(ipc_id, IPC_STAT, &(struct shmid_ds){ 0 }))
		fail("segment %d is gone: %m", ipc_id);
	if (!strcmp(mode, "mq_notify") && mq_notify(ipc_id, NULL))
		fail("the notification of /n is gone: %m");
	if (!strcmp(mode, "family")) {
		if (kill(child, 0) || kill(grandchild, 0))
			fail("child %d or grandchild %d is gone", child, grandchild);
		kill(grandchild, SIGKILL);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	} else if (!strcmp(mode, "child") || !strcmp(mode, "vm_orphans")) {
		if (kill(child, 0) || waitpid(child, NULL, WNOHANG) != 0)
			fail("child %d is gone", child);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	} else if (!strcmp(mode, "zombie")) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, child, &si, WEXITED | WNOHANG) || si.si_pid != child)
			fail("zombie child %d was reaped by someone else", child);
	} else if (!strcmp(mode, "threads")) {
		if (getegid() != 0)
			fail("main thread's egid is %d, expected 0", getegid());
		before = thread_cnt;
		usleep(20000);
		if (thread_cnt == before)
			fail("the second thread stopped counting");
		thread_stop = 1;
		pthread_join(thread, NULL);
	} else if (!strcmp(mode, "thread_uts")) {
		char host[64] = "";

		before = thread_cnt;
		usleep(20000);
		if (thread_cnt == before)
			fail("the UTS thread stopped counting");
		snprintf(path, sizeof(path), "/proc/self/task/%d/ns/uts", uts_tid);
		if (stat(path, &st) || stat("/proc/self/ns/uts", &ns_before) ||
		    st.st_ino == ns_before.st_ino)
			fail("the thread is no longer in a UTS namespace of its own");
		gethostname(host, sizeof(host));
		if (!strcmp(host, "nestor-thread"))
			fail("the main thread has the thread's hostname");
		thread_stop = 1;
		pthread_join(thread, NULL);
	} else if (!strcmp(mode, "thread_net")) {
		before = thread_cnt;
		usleep(20000);
		if (thread_cnt == before)
			fail("the network thread stopped counting");
		snprintf(path, sizeof(path), "/proc/self/task/%d/ns/net", uts_tid);
		if (stat(path, &st) || stat("/proc/self/ns/net", &ns_before) ||
		    st.st_ino == ns_before.st_ino)
			fail("the thread is no longer in a network namespace of its own");
		thread_stop = 1;
		pthread_join(thread, NULL);
	} else if (!strcmp(mode, "ns-pid_for_children")) {
		char link[64];

		if (readlink("/proc/self/ns/pid_for_children", link, sizeof(link)) >= 0 ||
		    errno != ENOENT)
			fail("pid_for_children is readable: no longer a new pid namespace");
	} else if (!strncmp(mode, "ns-", 3)) {
		if (child && (kill(child, 0) || waitpid(child, NULL, WNOHANG)))
			fail("child %d is gone", child);
		if (child) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_name);
		if (stat(path, &st) || st.st_ino != ns_before.st_ino)
			fail("no longer in the %s namespace it made", ns_name);
	} else if (!strcmp(mode, "seccomp")) {
		if (prctl(PR_GET_SECCOMP) != 2)
			fail("seccomp mode is %d, expected 2 (filter)", prctl(PR_GET_SECCOMP));
	} else if (!strcmp(mode, "pipe")) {
		check_queued(7, 'x', "pipe");
	} else if (!strcmp(mode, "socket")) {
		struct stat st;
		if (fstat(9, &st) || !S_ISSOCK(st.st_mode))
			fail("the socket on fd 9 is gone");
	} else if (!strcmp(mode, "eventfd")) {
		if (read(5, &v, sizeof(v)) != sizeof(v) || v != 42)
			fail("eventfd counter %llu, expected 42", (unsigned long long)v);
	} else if (!strcmp(mode, "pidfd") || !strcmp(mode, "io_uring") ||
		   !strcmp(mode, "procfd") || !strcmp(mode, "epoll_fired")) {
		struct stat st;
		if (fstat(5, &st))
			fail("the %s on fd 5 is gone", mode);
	} else if (!strcmp(mode, "bigmem")) {
		for (size_t off = 0; off < BIG_SIZE; off += 4096)
			if (big[off] != (char)(off >> 12))
				fail("big memory at %zu changed", off);
	} else if (!strcmp(mode, "files")) {
		check_files();
	} else if (!strcmp(mode, "backlog")) {
		check_backlog();
	} else if (!strcmp(mode, "map")) {
		for (int i = 0; i < MAP_SIZE; i++)
			if (map[i] != 'a' + i % 26)
				fail("mapped byte %d is %#x", i, map[i]);
	} else if (!strcmp(mode, "sysv_shm")) {
		for (int i = 0; i < SHM_SIZE; i++)
			if (sysv[i] != (char)(i * 13 + 5))
				fail("System V shm byte %d is %#x", i, (unsigned char)sysv[i]);
	}
}

static void check_signals(const sigset_t *want)
{
	sigset_t cur, pending;

	sigprocmask(SIG_SETMASK, NULL, &cur);
	for (int s = 1; s < SIGRTMIN; s++)
		if (sigismember(&cur, s) != sigismember(want, s))
			fail("signal %d is %sblocked now", s, sigismember(&cur, s) ? "" : "not ");
	sigpending(&pending);
	for (int s = 1; s < SIGRTMIN; s++)
		if (s != SIGTERM && sigismember(&pending, s))
			fail("signal %d is pending", s);
}

static int tracer(pid_t pid)
{
	sigset_t none;

	if (ptrace(PTRACE_SEIZE, pid, 0, 0))
		result("FAIL", "PTRACE_SEIZE %d: %m", pid);
	put_file("ready", "%d", getpid());
	sigemptyset(&none);
	while (!stop)
		sigsuspend(&none);
	return 0;
}

/*
 * sockholder: holds one end of a unix socketpair, outside the tree, while a
 * "plain" task (its child, a session leader) has the other end as stdin.
 * dgramholder: holds a datagram socket bound to WORKDIR/ext.sock, to which
 * the plain task's stdin (an unnamed datagram socket) is connected.
 * dgrampairholder: as sockholder, with a datagram socketpair (no names).
 * inflightholder: the plain task's stdin is a datagram socket bound to
 * WORKDIR/srv.sock, connected to nothing, where a datagram from a socket
 * bound to WORKDIR/client.sock waits; that socket then lives on only in
 * flight (SCM_RIGHTS in a socketpair the holder keeps): its name is held,
 * by a socket no process holds.
 */
static int dgram_pair(int sv[2])
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ext.sock", workdir);
	unlink(sa.sun_path);
	sv[0] = socket(AF_UNIX, SOCK_DGRAM, 0);
	sv[1] = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sv[0] < 0 || sv[1] < 0 || bind(sv[0], (struct sockaddr *)&sa, sizeof(sa)) ||
	    connect(sv[1], (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return 0;
}

static int bound_dgram(const char *file)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", workdir, file);
	unlink(sa.sun_path);
	return fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -1 : fd;
}

/* sv[1]: the server socket, a datagram queued; sv[0]: the socket the client waits in. */
static int inflight_sender(int sv[2])
{
	struct sockaddr_un to = {.sun_family = AF_UNIX};
	char ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {"x", 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int srv = bound_dgram("srv.sock"), cl = bound_dgram("client.sock"), pair[2];

	snprintf(to.sun_path, sizeof(to.sun_path), "%s/srv.sock", workdir);
	if (srv < 0 || cl < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) ||
	    sendto(cl, "queued", 6, 0, (struct sockaddr *)&to, sizeof(to)) != 6)
		return -1;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &cl, sizeof(int));
	if (sendmsg(pair[0], &mh, 0) != 1)
		return -1;
	close(cl);
	close(pair[0]); /* the client waits in pair[1]'s queue */
	sv[0] = pair[1];
	sv[1] = srv;
	return 0;
}

static int sock_holder(const char *self)
{
	bool named = !strcmp(mode, "dgramholder");
	int type = strcmp(mode, "sockholder") ? SOCK_DGRAM : SOCK_STREAM;
	bool reaped = false;
	int sv[2], r;
	pid_t pid;

	if (!strcmp(mode, "inflightholder"))
		r = inflight_sender(sv);
	else
		r = named ? dgram_pair(sv) : socketpair(AF_UNIX, type, 0, sv);
	if (r)
		return 1;
	pid = fork();
	if (pid == 0) {
		dup2(sv[1], 0);
		close(sv[0]);
		close(sv[1]);
		setsid();
		execl(self, self, "plain", workdir, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	put_file("aux", "%d", pid);
	/* Reaped as soon as a dump kills it, so that a restore finds its pid free. */
	while (!stop && !reaped)
		reaped = waitpid(pid, NULL, 0) == pid;
	while (!stop)
		pause();
	if (!reaped) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	volatile unsigned long stack_cnt = 0;
	unsigned long at_ready;
	sigset_t mask;
	pid_t pid = getpid();

	if (argc < 3) {
		fprintf(stderr, "usage: badtask MODE WORKDIR | badtask tracer WORKDIR PID\n");
		return 2;
	}
	mode = argv[1];
	workdir = argv[2];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	if (!strcmp(mode, "tracer"))
		return argc > 3 ? tracer(atoi(argv[3])) : 2;
	if (strstr(mode, "holder"))
		return sock_holder(argv[0]);

	/* A blocked signal: a seize that forgets to give back the mask shows. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	setup();
	while (stack_cnt < 100000)
		global_cnt = ++stack_cnt ^ MAGIC;
	at_ready = stack_cnt;
	put_file("ready", "%d", pid);
	/* Registers wrongly put back after a seize break this loop's invariant. */
	while (!stop)
		global_cnt = ++stack_cnt ^ MAGIC;
	if ((global_cnt ^ MAGIC) != stack_cnt && (global_cnt ^ MAGIC) != stack_cnt - 1)
		fail("memory counter %lu, stack counter %lu: they diverged", global_cnt ^ MAGIC,
		     (unsigned long)stack_cnt);
	if (stack_cnt <= at_ready)
		fail("counter %lu did not grow past %lu", (unsigned long)stack_cnt, at_ready);
	if (getpid() != pid)
		fail("pid %d, expected %d", getpid(), pid);
	check_signals(&mask);
	check();
	result("PASS", "%s", "");
}
