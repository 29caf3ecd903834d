/*
 * Handing one of nestor's descriptors to a seized task: the task binds an
 * abstract unix socket (remote syscalls), nestor sends the descriptor to it
 * (SCM_RIGHTS: no permission a non-root task may lack, unlike
 * pidfd_getfd() from the task's side), the task receives it. Its number
 * is listed in the main thread's cure block (ptrace.c): a nestor that dies
 * leaves it closed.
 */
#define LOG_PREFIX "ptrace: "
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/log.h"
#include "core/util.h"
#include "infect/givefd.h"

int remote_give_fd(struct remote *rt, int fd, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct {
		struct msghdr mh;
		struct iovec iov;
		struct sockaddr_un sa;
		char byte;
		_Alignas(8) char cbuf[CMSG_SPACE(sizeof(int))];
	} rbuf = { 0 };
	struct msghdr mh = { 0 };
	struct iovec iov = { "p", 1 };
	struct cmsghdr *cm;
	socklen_t salen;
	_cleanup_close_ int s = -1;
	uint64_t addr;
	long ts = -1, ret;
	int r;

	salen = offsetof(struct sockaddr_un, sun_path) + 1 +
		snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "nestor-%d-%d", getpid(), rt->pid);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	r = remote_scratch(rt, sizeof(rbuf), &addr);
	if (r < 0)
		return r;
	r = remote_syscall(rt, __NR_socket, &ts, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0, 0);
	if (r < 0 || ts < 0)
		return r < 0 ? r : (int)ts;
	rbuf.sa = sa;
	rbuf.iov = (struct iovec){ (void *)(addr + offsetof(typeof(rbuf), byte)), 1 };
	rbuf.mh = (struct msghdr){ .msg_iov = (void *)(addr + offsetof(typeof(rbuf), iov)),
				   .msg_iovlen = 1,
				   .msg_control = (void *)(addr + offsetof(typeof(rbuf), cbuf)),
				   .msg_controllen = sizeof(rbuf.cbuf) };
	if ((r = remote_write(rt->pid, addr, &rbuf, sizeof(rbuf))) < 0)
		goto out;
	r = remote_syscall(rt, __NR_bind, &ret, ts, addr + offsetof(typeof(rbuf), sa), salen, 0,
			   0, 0);
	if (r < 0 || (r = ret) < 0)
		goto out;
	mh.msg_name = &sa;
	mh.msg_namelen = salen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(s, &mh, 0) != 1) {
		r = -errno;
		goto out;
	}
	r = remote_syscall(rt, __NR_recvmsg, &ret, ts, addr, MSG_CMSG_CLOEXEC, 0, 0, 0);
	if (r < 0 || (r = ret) < 0 || (r = remote_read(rt->pid, addr, &rbuf, sizeof(rbuf))) < 0)
		goto out;
	cm = (struct cmsghdr *)rbuf.cbuf;
	if (rbuf.mh.msg_flags & MSG_CTRUNC || cm->cmsg_type != SCM_RIGHTS) {
		r = -EMFILE;
		goto out;
	}
	memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
out:
	remote_syscall(rt, __NR_close, &ret, ts, 0, 0, 0, 0, 0);
	return r;
}

