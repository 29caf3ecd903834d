// SPDX-License-Identifier: GPL-2.0
/*
 * ns_container: a container running a container, as far as nestor makes
 * namespaces today. The root clones c1 with new pid, UTS and network
 * namespaces (hostname "outer", loopback up); c1 forks w, which shares
 * them and runs a second thread; w clones c2 with new pid and UTS
 * namespaces ("inner"), still in c1's network namespace. After restore
 * every task has its pid vector (NSpid), names and loopback as before,
 * w's thread its tid vector, and the namespaces are shared as they were.
 */
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "tree.h"

static void nspid_of(const char *path, char *buf, size_t len)
{
	char st[4096], *p, *e;

	if (read_file(path, st, sizeof(st)) <= 0 || !(p = strstr(st, "NSpid:")) ||
	    !(e = strchr(p, '\n')))
		tree_fail("cannot read NSpid of %s", path);
	snprintf(buf, len, "%.*s", (int)(e - p - 6), p + 6);
}

static bool lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr))
		tree_fail("SIOCGIFFLAGS: %m");
	close(sk);
	return ifr.ifr_flags & IFF_UP;
}

static void set_lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr))
		tree_fail("SIOCGIFFLAGS: %m");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr))
		tree_fail("SIOCSIFFLAGS: %m");
	close(sk);
}

static ino_t ns_of(pid_t pid, const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	if (stat(path, &st))
		tree_fail("stat %s: %m", path);
	return st.st_ino;
}

/* What a task checks of itself after the restore. */
struct self {
	char nspid[128], host[65];
	bool lo;
};

static void self_get(struct self *s)
{
	struct utsname u;

	nspid_of("/proc/self/status", s->nspid, sizeof(s->nspid));
	uname(&u);
	snprintf(s->host, sizeof(s->host), "%s", u.nodename);
	s->lo = lo_up();
}

static void self_check(const struct self *want)
{
	struct self now;

	self_get(&now);
	if (strcmp(now.nspid, want->nspid) || strcmp(now.host, want->host) || now.lo != want->lo)
		tree_fail("NSpid%s host %s lo %d, expected NSpid%s host %s lo %d", now.nspid,
			  now.host, now.lo, want->nspid, want->host, want->lo);
}

static int c2_main(void *arg)
{
	struct self s;

	(void)arg;
	tree_enter_child("c2", 0, true);
	if (sethostname("inner", 5))
		tree_fail("sethostname: %m");
	self_get(&s);
	tree_ready(3);
	test_waitsig();
	self_check(&s);
	tree_pass();
}

static volatile int th_state;
static char th_vec[128], th_msg[300];

static void *w_thread(void *arg)
{
	char now[128];

	(void)arg;
	nspid_of("/proc/thread-self/status", th_vec, sizeof(th_vec));
	th_state = 1;
	while (th_state != 2)
		tree_sleep_ms(1);
	nspid_of("/proc/thread-self/status", now, sizeof(now));
	if (strcmp(now, th_vec))
		snprintf(th_msg, sizeof(th_msg), "thread: NSpid%s, expected NSpid%s", now, th_vec);
	th_state = 3;
	return NULL;
}

static void w_main(void)
{
	struct self s;
	pthread_t th;
	pid_t c2;

	c2 = tree_clone(c2_main, CLONE_NEWPID | CLONE_NEWUTS, NULL);
	if (pthread_create(&th, NULL, w_thread, NULL))
		tree_fail("pthread_create failed");
	while (th_state != 1)
		tree_sleep_ms(1);
	self_get(&s);
	tree_ready(2);
	test_waitsig();
	self_check(&s);
	th_state = 2;
	pthread_join(th, NULL);
	if (th_msg[0])
		tree_fail("%s", th_msg);
	tree_finish(c2, "c2");
	tree_pass();
}

static int c1_main(void *arg)
{
	struct self s;
	pid_t w;

	(void)arg;
	tree_enter_child("c1", 0, true);
	if (sethostname("outer", 5))
		tree_fail("sethostname: %m");
	set_lo_up();
	w = tree_fork("w");
	if (w == 0)
		w_main();
	self_get(&s);
	tree_ready(1);
	test_waitsig();
	self_check(&s);
	tree_finish(w, "w");
	tree_pass();
}

/* The one child of pid, as the machine's /proc numbers it. */
static pid_t only_child(pid_t pid)
{
	char path[80], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		fail("cannot read %s", path);
	return atoi(buf);
}

int main(int argc, char **argv)
{
	pid_t c1, w, c2;

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	c1 = tree_clone(c1_main, CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNET, NULL);
	tree_barrier_wait(3, NULL);
	test_daemon();
	test_waitsig();
	/* The sharing, seen from here, where the pids are the machine's. */
	w = only_child(c1);
	c2 = only_child(w);
	if (ns_of(c1, "net") == ns_of(getpid(), "net") || ns_of(c1, "uts") == ns_of(getpid(), "uts"))
		fail("c1 should have network and UTS namespaces of its own");
	if (ns_of(w, "uts") != ns_of(c1, "uts") || ns_of(w, "net") != ns_of(c1, "net") ||
	    ns_of(w, "pid") != ns_of(c1, "pid"))
		fail("w should share c1's namespaces");
	if (ns_of(c2, "net") != ns_of(w, "net") || ns_of(c2, "uts") == ns_of(w, "uts") ||
	    ns_of(c2, "pid") == ns_of(w, "pid"))
		fail("c2 should share w's network namespace, not its UTS or pid one");
	tree_finish(c1, "c1");
	pass();
}
