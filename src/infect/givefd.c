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
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/*
 * A socket of nestor's in the task's network namespace: the abstract name
 * the task binds lives there, and a sender finds it only from a socket of
 * the same namespace (setns() of a network namespace is per thread).
 */
static int socket_beside(pid_t tid)
{
	_cleanup_close_ int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int theirs = -1;
	struct stat a, b;
	char p[64];
	int s, r;

	snprintf(p, sizeof(p), "/proc/%d/ns/net", tid);
	theirs = open(p, O_RDONLY | O_CLOEXEC);
	if (own < 0 || theirs < 0 || fstat(own, &a) || fstat(theirs, &b))
		return log_error_errno(-errno, "cannot open the network namespace of task %d", tid);
	if (a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	else if (setns(theirs, CLONE_NEWNET))
		return log_error_errno(-errno, "cannot enter the network namespace of task %d", tid);
	else
		s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = s < 0 ? -errno : s;
	if (a.st_ino != b.st_ino && setns(own, CLONE_NEWNET)) {
		/* nestor cannot stay in the task's namespace: nothing else can go on. */
		log_error_errno(-errno, "cannot go back to nestor's network namespace");
		abort();
	}
	return r;
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
	s = socket_beside(rt->pid);
	if (s < 0)
		return s;
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
