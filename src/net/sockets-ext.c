/*
 * Unix sockets outside the tree. --ext-unix-sk: datagram unix sockets of
 * the tree connected to a socket outside it. Only the peer's name can be
 * kept: the dump saves it, and the restore connects the new socket to
 * whatever holds that name then (what a datagram socket's connect() means
 * anyway). The peer must have a name a restore can reach: an abstract one,
 * or an absolute path whose socket file is the peer's own at the dump.
 *
 * Datagrams queued on any datagram socket of the tree (with or without the
 * option: the queue is the tree's own) carry their sender's name. When a
 * live socket outside the tree holds that name at restore, no stand-in can
 * bind it: they are sent again by that socket (a copy taken with
 * pidfd_getfd, as a dump takes the tree's), which is also the socket whose
 * send buffer they were charged to. A name nobody holds is left to the
 * restore's own temporary sockets; the --ext-unix-sk peer must be there.
 *
 * Stream and seqpacket connections stay refused, as in criu: a connection
 * is one object in the kernel, and the process outside would have to take
 * part in making it again.
 */
#define LOG_PREFIX "sockets: "
#include <dirent.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "net/sockdiag.h"
#include "net/sockets-priv.h"
#include "core/sys.h"
#include "core/util.h"

/* ---- dump ---- */

/* Why a restore could not reach peer again by its name, or NULL. */
static const char *unreachable(const struct sockdiag_unix *peer, const char *path, bool host)
{
	struct stat st;

	if (!peer->name_len)
		return "has no name";
	if (!is_path(peer->name, peer->name_len))
		return host ? NULL
			    : "is abstract, in a network namespace other than nestor's, which a "
			      "restore makes again without it";
	if (path[0] != '/')
		return "has a relative name, which a restore cannot find";
	if (lstat(path, &st) || !S_ISSOCK(st.st_mode) || !sockdiag_unix_is_file(peer, &st))
		return "is not at its path any more (removed, replaced, or in another root)";
	return NULL;
}

int ext_dump_peer(pid_t pid, int fd, const struct sockdiag_unix *peer, const char *who,
		  bool host, SocketEntry *e)
{
	char path[NAME_LEN + 1] = "", nb[NAME_BUF];
	const char *why;

	if (is_path(peer->name, peer->name_len)) {
		memcpy(path, peer->name, peer->name_len);
		path[peer->name_len] = 0;
	}
	why = unreachable(peer, path, host);
	if (why)
		return log_error_ret(
		    -EOPNOTSUPP,
		    "can't dump: task %d fd %d is a datagram unix socket connected "
		    "to socket:[%u] %s, outside the tree, %s, which %s: a restore could "
		    "not connect to it again",
		    pid, fd, peer->ino, name_str(peer->name, peer->name_len, nb), who, why);
	e->has_peer_external = e->peer_external = true;
	e->has_peer_name = true;
	e->peer_name.len = peer->name_len;
	e->peer_name.data = arena_memdup(peer->name, peer->name_len);
	if (!e->peer_name.data)
		return -ENOMEM;
	pr_info("task %d fd %d: connected to %s outside the tree (--ext-unix-sk)", pid, fd,
		name_str(peer->name, peer->name_len, nb));
	return 0;
}

/* ---- restore ---- */

int ext_connect(int sk, const SocketEntry *e, uint32_t id)
{
	struct sockaddr_un sa;
	socklen_t sl = sun_of(e->peer_name.data, e->peer_name.len, &sa);
	char nb[NAME_BUF];
	int r = connect(sk, (struct sockaddr *)&sa, sl) ? -errno : 0;

	if (r < 0)
		return log_error_errno(r,
				       "can't restore: socket %u was connected to %s, outside the "
				       "tree, which cannot be reached now%s",
				       id, name_str(e->peer_name.data, e->peer_name.len, nb),
				       r == -EPERM ? " (it is connected to another socket)" : "");
	pr_info("socket %u connected to %s outside the tree", id,
		name_str(e->peer_name.data, e->peer_name.len, nb));
	return 0;
}

/* The datagram socket bound to name that connect() would reach: its inode, or 0. */
static uint32_t bound_to(const struct sockdiag_list *ls, const ProtobufCBinaryData *name)
{
	struct stat st;
	bool path = is_path(name->data, name->len);

	if (path && (lstat((const char *)name->data, &st) || !S_ISSOCK(st.st_mode)))
		return 0;
	for (size_t i = 0; i < ls->n; i++) {
		const struct sockdiag_unix *d = &ls->v[i];

		if (d->type == SOCK_DGRAM && same_bytes(name, d->name, d->name_len) &&
		    (!path || sockdiag_unix_is_file(d, &st)))
			return d->ino;
	}
	return 0;
}

/* A copy of socket:[ino] from a process that holds it; ret_pid: the last one tried, or 0. */
static int copy_held(uint32_t ino, pid_t *ret_pid)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();
	int pid, fd, r = -ESRCH;

	*ret_pid = 0;
	while (d && (de = readdir(d))) {
		if (parse_int(de->d_name, &pid) < 0 || pid == self)
			continue;
		fd = fd_holding(pid, ino);
		if (fd < 0)
			continue;
		*ret_pid = pid;
		r = sys_dup_task_fd(pid, fd);
		if (r >= 0)
			return r;
	}
	return r;
}

/* The live datagram socket that holds name now: its inode, 0 if none, or -errno. */
static int64_t holder_of_name(int nl, const ProtobufCBinaryData *name)
{
	struct sockdiag_list ls = {0};
	int r = sockdiag_unix_list(nl, (1 << TCP_CLOSE) | (1 << TCP_ESTABLISHED),
				   UDIAG_SHOW_NAME | UDIAG_SHOW_VFS, &ls);
	int64_t ino = r < 0 ? (int64_t)r : (int64_t)bound_to(&ls, name);

	sockdiag_list_free(&ls);
	return ino < 0 ? log_error_errno((int)ino, "cannot list the unix sockets") : ino;
}

int ext_sender(int nl, const ProtobufCBinaryData *name, uint32_t id, bool peer, int *ret_fd)
{
	int64_t ino = holder_of_name(nl, name);
	char nb[NAME_BUF];
	pid_t pid;
	int r;

	if (ino < 0)
		return (int)ino;
	if (!ino && !peer)
		return 0;
	if (!ino)
		return log_error_ret(-ENOENT,
				     "can't restore: datagrams queued on socket %u came from %s, "
				     "its peer outside the tree, and no live socket of that name "
				     "can send them again",
				     id, name_str(name->data, name->len, nb));
	r = copy_held(ino, &pid);
	if (r < 0 && !pid)
		return log_error_ret(
		    r,
		    "can't restore: datagrams queued on socket %u came from %s, "
		    "outside the tree, whose live socket:[%u] no process holds (in "
		    "flight?): nothing else can send them again under that name",
		    id, name_str(name->data, name->len, nb), (unsigned)ino);
	if (r < 0)
		return log_error_errno(r,
				       "can't restore: datagrams queued on socket %u came from "
				       "%s, outside the tree, whose live socket:[%u] (process %d) "
				       "nestor cannot copy to send them again under that name",
				       id, name_str(name->data, name->len, nb), (unsigned)ino, pid);
	pr_info("socket %u: datagrams from %s sent again by socket:[%u] of process %d", id,
		name_str(name->data, name->len, nb), (unsigned)ino, pid);
	*ret_fd = r;
	return 1;
}
