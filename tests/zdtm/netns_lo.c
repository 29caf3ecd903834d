// SPDX-License-Identifier: GPL-2.0
/*
 * netns_lo: network namespaces holding loopback alone, in the three states
 * the kernel gives it. a unshares one and leaves it fresh (down, no
 * address); b brings its loopback up (127.0.0.1/8, ::1/128) and forks b1,
 * which shares it; c brings its up and down again (127.0.0.1/8 alone).
 * After restore each sees its loopback as before, b can connect to a
 * listener of its own on 127.0.0.1, b and b1 share one namespace, and none
 * is the root's (the runner's).
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "tree.h"

static void set_lo(bool up)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr))
		tree_fail("SIOCGIFFLAGS: %m");
	ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr))
		tree_fail("SIOCSIFFLAGS: %m");
	close(sk);
}

/* "up 4 6", "down 4", "down": loopback's state and addresses. */
static void lo_state(char *buf, size_t len)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	struct ifaddrs *all, *a;
	bool v4 = false, v6 = false;
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr) || getifaddrs(&all))
		tree_fail("loopback state: %m");
	close(sk);
	for (a = all; a; a = a->ifa_next) {
		v4 |= a->ifa_addr && a->ifa_addr->sa_family == AF_INET;
		v6 |= a->ifa_addr && a->ifa_addr->sa_family == AF_INET6;
	}
	freeifaddrs(all);
	snprintf(buf, len, "%s%s%s", ifr.ifr_flags & IFF_UP ? "up" : "down", v4 ? " 4" : "",
		 v6 ? " 6" : "");
}

static ino_t net_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st))
		tree_fail("stat %s: %m", path);
	return st.st_ino;
}

/* A TCP connection to ourselves on 127.0.0.1: loopback works. */
static void connect_self(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c;

	if (l < 0 || bind(l, (void *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (void *)&sa, &len))
		tree_fail("listen on 127.0.0.1: %m");
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (void *)&sa, sizeof(sa)))
		tree_fail("connect to 127.0.0.1: %m");
	close(c);
	close(l);
}

static void member(int tag, const char *want, bool connect)
{
	char now[32];

	lo_state(now, sizeof(now));
	if (strcmp(now, want))
		tree_fail("set-up: loopback %s, expected %s", now, want);
	tree_ready(tag);
	test_waitsig();
	lo_state(now, sizeof(now));
	if (strcmp(now, want))
		tree_fail("loopback %s after restore, expected %s", now, want);
	if (connect)
		connect_self();
	tree_pass();
}

int main(int argc, char **argv)
{
	pid_t a, b, c;
	int p[2];

	test_init(argc, argv);
	tree_init();
	tree_barrier_init();
	if (pipe(p))
		fail("pipe: %m");
	a = tree_fork("a");
	if (a == 0) {
		if (unshare(CLONE_NEWNET))
			tree_fail("unshare: %m");
		member(1, "down", false);
	}
	b = tree_fork("b");
	if (b == 0) {
		pid_t b1;

		if (unshare(CLONE_NEWNET))
			tree_fail("unshare: %m");
		set_lo(true);
		b1 = tree_fork("b1");
		if (b1 == 0)
			member(3, "up 4 6", true);
		if (write(p[1], &b1, sizeof(b1)) != sizeof(b1))
			tree_fail("write: %m");
		close(p[0]);
		close(p[1]);
		tree_ready(2);
		test_waitsig();
		if (net_of(getpid()) != net_of(b1))
			tree_fail("b and b1 are in different network namespaces");
		connect_self();
		tree_finish(b1, "b1");
		tree_pass();
	}
	c = tree_fork("c");
	if (c == 0) {
		if (unshare(CLONE_NEWNET))
			tree_fail("unshare: %m");
		set_lo(true);
		set_lo(false);
		member(4, "down 4", false);
	}
	close(p[1]);
	tree_barrier_wait(4, NULL);
	close(p[0]);
	test_daemon();
	test_waitsig();

	if (net_of(a) == net_of(getpid()) || net_of(b) == net_of(getpid()) ||
	    net_of(c) == net_of(getpid()) || net_of(a) == net_of(b) || net_of(b) == net_of(c))
		fail("a, b and c should each have a network namespace of their own");
	tree_finish(a, "a");
	tree_finish(b, "b");
	tree_finish(c, "c");
	pass();
}
