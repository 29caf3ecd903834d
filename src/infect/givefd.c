/*
 * Handing nestor's descriptors to a seized task: the task binds an abstract
 * unix socket (remote syscalls), nestor sends each descriptor to it
 * (SCM_RIGHTS: no permission a non-root task may lack, unlike
 * pidfd_getfd() from the task's side), the task receives it. Each number
 * is listed in the main thread's cure block (ptrace.c): a nestor that dies
 * leaves them closed.
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

/* What the task's recvmsg reads and fills, in its scratch memory. */
struct fd_msg {
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_un sa;
	char byte;
	_Alignas(8) char cbuf[CMSG_SPACE(sizeof(int))];
};

/* Sends fd from s to the task's socket ts (bound at sa), which receives it. */
static int pass_fd(struct remote *rt, int s, const struct sockaddr_un *sa, socklen_t salen,
		   long ts, uint64_t addr, int fd, int *ret_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "p", 1 };
	struct msghdr mh = { .msg_name = (void *)sa, .msg_namelen = salen, .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct fd_msg rbuf = { .sa = *sa };
	long ret;
	int r;

	rbuf.iov = (struct iovec){ (void *)(addr + offsetof(struct fd_msg, byte)), 1 };
	rbuf.mh = (struct msghdr){ .msg_iov = (void *)(addr + offsetof(struct fd_msg, iov)),
				   .msg_iovlen = 1,
				   .msg_control = (void *)(addr + offsetof(struct fd_msg, cbuf)),
				   .msg_controllen = sizeof(rbuf.cbuf) };
	if ((r = remote_write(rt->pid, addr, &rbuf, sizeof(rbuf))) < 0)
		return r;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(s, &mh, 0) != 1)
		return -errno;
	/* One fd per recvmsg: the cure's list (ptrace.c) expects no more. */
	r = remote_syscall(rt, __NR_recvmsg, &ret, ts, addr, MSG_CMSG_CLOEXEC, 0, 0, 0);
	if (r < 0 || (r = ret) < 0 || (r = remote_read(rt->pid, addr, &rbuf, sizeof(rbuf))) < 0)
		return r;
	cm = (struct cmsghdr *)rbuf.cbuf;
	if (rbuf.mh.msg_flags & MSG_CTRUNC || cm->cmsg_type != SCM_RIGHTS)
		return -EMFILE;
	memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

int remote_give_fds(struct remote *rt, const int *fds, int n, int *ret_fds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int s = -1;
	socklen_t salen;
	uint64_t addr;
	long ts = -1, ret;
	int r;

	salen = offsetof(struct sockaddr_un, sun_path) + 1 +
		snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "nestor-%d-%d", getpid(), rt->pid);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	r = remote_scratch(rt, sizeof(struct fd_msg), &addr);
	if (r < 0)
		return r;
	r = remote_syscall(rt, __NR_socket, &ts, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0, 0);
	if (r < 0 || ts < 0)
		return r < 0 ? r : (int)ts;
	if ((r = remote_write(rt->pid, addr + offsetof(struct fd_msg, sa), &sa, sizeof(sa))) < 0)
		goto out;
	r = remote_syscall(rt, __NR_bind, &ret, ts, addr + offsetof(struct fd_msg, sa), salen, 0, 0,
			   0);
	if (r < 0 || (r = ret) < 0)
		goto out;
	for (int k = 0; k < n && r == 0; k++)
		r = pass_fd(rt, s, &sa, salen, ts, addr, fds[k], &ret_fds[k]);
out:
	remote_syscall(rt, __NR_close, &ret, ts, 0, 0, 0, 0, 0);
	return r;
}

int remote_give_fd(struct remote *rt, int fd, int *ret_fd)
{
	return remote_give_fds(rt, &fd, 1, ret_fd);
}
