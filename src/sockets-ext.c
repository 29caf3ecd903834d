/*
 * --ext-unix-sk: datagram unix sockets of the tree connected to a socket
 * outside it. Only the peer's name can be kept: the dump saves it, and the
 * restore connects the new socket to whatever holds that name then (what a
 * datagram socket's connect() means anyway). The peer must have a name a
 * restore can reach: an abstract one, or an absolute path whose socket file
 * is the peer's own at the dump.
 *
 * Datagrams the peer sent that wait in the queue carry its name as their
 * sender; the peer still holds that name at restore, so no stand-in can
 * bind it. They are sent again by the live socket that holds it (a copy
 * taken with pidfd_getfd, as a dump takes the tree's), which is also the
 * socket whose send buffer they were charged to.
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
#include "arena.h"
#include "log.h"
#include "sockdiag.h"
#include "sockets-priv.h"
#include "sys.h"
#include "util.h"

/* ---- dump ---- */

/* Why a restore could not reach peer again by its name, or NULL. */
static const char *unreachable(const struct sockdiag_unix *peer, const char *path)
{
	struct stat st;

	if (!peer->name_len)
		return "has no name";
	if (!is_path(peer->name, peer->name_len))
		return NULL;
	if (path[0] != '/')
		return "has a relative name, which a restore cannot find";
	if (lstat(path, &st) || !S_ISSOCK(st.st_mode) || !sockdiag_unix_is_file(peer, &st))
		return "is not at its path any more (removed, replaced, or in another root)";
	return NULL;
}

int ext_dump_peer(pid_t pid, int fd, const struct sockdiag_unix *peer, const char *who,
		  SocketEntry *e)
{
	char path[NAME_LEN + 1] = "", nb[NAME_BUF];
	const char *why;

	if (is_path(peer->name, peer->name_len)) {
		memcpy(path, peer->name, peer->name_len);
		path[peer->name_len] = 0;
	}
	why = unreachable(peer, path);
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

/* A copy of socket:[ino] from the first process that holds it. */
static int copy_held(uint32_t ino)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();
	int pid, fd;

	while (d && (de = readdir(d))) {
		if (parse_int(de->d_name, &pid) < 0 || pid == self)
			continue;
		fd = fd_holding(pid, ino);
		if (fd >= 0)
			return sys_dup_task_fd(pid, fd);
	}
	return -ESRCH;
}

int ext_sender(const ProtobufCBinaryData *name, uint32_t id, int *ret_fd)
{
	struct sockdiag_list ls = {0};
	char nb[NAME_BUF];
	uint32_t ino = 0;
	int r;

	r = sockdiag_unix_list((1 << TCP_CLOSE) | (1 << TCP_ESTABLISHED),
			       UDIAG_SHOW_NAME | UDIAG_SHOW_VFS, &ls);
	if (r == 0)
		ino = bound_to(&ls, name);
	sockdiag_list_free(&ls);
	if (r < 0)
		return log_error_errno(r, "cannot list the unix sockets");
	r = ino ? copy_held(ino) : -ENOENT;
	if (r < 0)
		return log_error_errno(r,
				       "can't restore: datagrams queued on socket %u came from %s, "
				       "outside the tree, and no live socket of that name can send "
				       "them again",
				       id, name_str(name->data, name->len, nb));
	*ret_fd = r;
	return 0;
}
