// SPDX-License-Identifier: GPL-2.0
/*
 * epoll: an epoll instance watching an eventfd with a count, a pipe with
 * unread data, an empty pipe and a pipe's write end (EPOLLOUT), each with
 * its own data word; a second instance holding a one-shot watch that has
 * already fired (disarmed). After restore the first reports exactly the
 * ready fds with their data words, the registrations still refer to the
 * same fds, and events follow new data; the one-shot stays silent until
 * re-armed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "zdtm.h"

enum { EFD = 0x1111, DATA = 0x2222, EMPTY = 0x3333, OUT = 0x4444, ONCE = 0x5555 };

/* One epoll_wait (no waiting) must give exactly these tokens. */
static void expect(int ep, const uint64_t *tok, const uint32_t *ev, int n, const char *when)
{
	struct epoll_event got[8];
	int r = epoll_wait(ep, got, 8, 0);

	if (r != n)
		fail("%s: %d ready, expected %d (first data %#lx)", when, r, n,
		     r > 0 ? (unsigned long)got[0].data.u64 : 0UL);
	for (int i = 0; i < n; i++) {
		int j = 0;

		while (j < r && got[j].data.u64 != tok[i])
			j++;
		if (j == r)
			fail("%s: data word %#lx not reported", when, (unsigned long)tok[i]);
		if (got[j].events != ev[i])
			fail("%s: data word %#lx with events %#x, expected %#x", when,
			     (unsigned long)tok[i], got[j].events, ev[i]);
	}
}

static void add(int ep, int fd, uint32_t events, uint64_t tok)
{
	struct epoll_event e = {.events = events, .data.u64 = tok};

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e))
		fail("epoll_ctl add: %m");
}

int main(int argc, char **argv)
{
	int ep, ep1, efd, once, data[2], empty[2];
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = 1};
	eventfd_t v;
	char buf[16];

	test_init(argc, argv);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ep1 = epoll_create1(EPOLL_CLOEXEC);
	efd = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
	once = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ep < 0 || ep1 < 0 || efd < 0 || once < 0 || pipe2(data, O_CLOEXEC | O_NONBLOCK) ||
	    pipe2(empty, O_CLOEXEC | O_NONBLOCK))
		fail("set-up: %m");
	if (write(data[1], "abc", 3) != 3)
		fail("write: %m");
	add(ep, efd, EPOLLIN, EFD);
	add(ep, data[0], EPOLLIN, DATA);
	add(ep, empty[0], EPOLLIN, EMPTY);
	add(ep, data[1], EPOLLOUT, OUT);
	add(ep1, once, EPOLLIN | EPOLLONESHOT, ONCE);
	expect(ep1, (uint64_t[]){ONCE}, (uint32_t[]){EPOLLIN}, 1, "set-up, one-shot");
	expect(ep1, NULL, NULL, 0, "set-up, one-shot fired");

	test_daemon();
	test_waitsig();

	expect(ep, (uint64_t[]){EFD, DATA, OUT}, (uint32_t[]){EPOLLIN, EPOLLIN, EPOLLOUT}, 3,
	       "after restore");
	expect(ep1, NULL, NULL, 0, "one-shot, fired before the checkpoint");
	/* Registered fds are known by number: adding again fails, modifying works. */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e) != -1 || errno != EEXIST)
		fail("the eventfd is not registered under fd %d any more", efd);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, empty[0], &e) != -1 || errno != EEXIST)
		fail("the empty pipe is not registered under fd %d any more", empty[0]);
	if (eventfd_read(efd, &v) || v != 3 || read(data[0], buf, sizeof(buf)) != 3 ||
	    memcmp(buf, "abc", 3))
		fail("the eventfd or the pipe lost its content");
	expect(ep, (uint64_t[]){OUT}, (uint32_t[]){EPOLLOUT}, 1, "after reading everything");
	if (write(empty[1], "x", 1) != 1 || eventfd_write(efd, 1))
		fail("write: %m");
	expect(ep, (uint64_t[]){EFD, EMPTY, OUT}, (uint32_t[]){EPOLLIN, EPOLLIN, EPOLLOUT}, 3,
	       "after new data");
	close(data[1]);
	/* Its write end closed, the emptied pipe hangs up; the closed fd leaves the set. */
	expect(ep, (uint64_t[]){EFD, EMPTY, DATA}, (uint32_t[]){EPOLLIN, EPOLLIN, EPOLLHUP}, 3,
	       "after closing the write end");
	e = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT, .data.u64 = ONCE};
	if (epoll_ctl(ep1, EPOLL_CTL_MOD, once, &e))
		fail("re-arming the one-shot: %m");
	expect(ep1, (uint64_t[]){ONCE}, (uint32_t[]){EPOLLIN}, 1, "one-shot re-armed");
	pass();
}
