/* Shared between the dump (sockets.c) and the restore (sockets-restore.c) of unix sockets. */
#ifndef NESTOR_SOCKETS_PRIV_H
#define NESTOR_SOCKETS_PRIV_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/sockios.h>
#include "core/model.h"
#include "net/sockdiag.h"
#include "core/util.h"

#ifndef SIOCUNIXFILE
#define SIOCUNIXFILE (SIOCPROTOPRIVATE + 0)
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

#define MAX_QUEUE   (64u << 20) /* bytes queued on one socket */
#define MAX_MSGS    (1u << 20)
#define MAX_PENDING (1u << 16)
#define MAX_BACKLOG (1u << 20)
#define CHUNK	    (64u << 10)
#define FILL_SNDBUF (1 << 28) /* while nestor refills queues (doubled by the kernel) */
#define NAME_LEN    sizeof(((struct sockaddr_un *)0)->sun_path)
#define NAME_BUF    1024
#define DIAG_ALL    (UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN)

static inline bool is_stream(int type)
{
	return type == SOCK_STREAM || type == SOCK_SEQPACKET;
}

static inline bool is_path(const uint8_t *n, size_t len)
{
	return len && n[0];
}

/* For messages, on one line: "/path", "@abstract" or "(unnamed)", odd bytes as \xNN. */
static inline const char *name_str(const uint8_t *n, size_t len, char *buf)
{
	size_t o = 0, i = 0;

	if (!len)
		return "(unnamed)";
	if (n[0])
		len = strnlen((const char *)n, len);
	else
		buf[o++] = '@', i = 1;
	for (; i < len && o + 5 < NAME_BUF; i++) {
		if (n[i] >= 0x20 && n[i] < 0x7f && n[i] != '\\')
			buf[o++] = n[i];
		else
			o += snprintf(buf + o, NAME_BUF - o, "\\x%02x", n[i]);
	}
	buf[o] = 0;
	return buf;
}

static inline const char *str_str(const char *p, char *buf)
{
	return name_str((const uint8_t *)p, strlen(p), buf);
}

static inline socklen_t sun_of(const uint8_t *n, size_t len, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, n, MIN(len, NAME_LEN));
	return offsetof(struct sockaddr_un, sun_path) + MIN(len, NAME_LEN);
}

static inline bool same_bytes(const ProtobufCBinaryData *a, const uint8_t *n, size_t len)
{
	return a->len == len && !memcmp(a->data, n, len);
}

static inline int getopt_int(int sk, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(sk, SOL_SOCKET, opt, ret, &len) ? -errno : 0;
}

static inline int setopt_int(int sk, int opt, int v)
{
	return setsockopt(sk, SOL_SOCKET, opt, &v, sizeof(v)) ? -errno : 0;
}

static inline bool same_file(const char *path, const struct stat *st, struct stat *ret)
{
	return !lstat(path, ret) && ret->st_dev == st->st_dev && ret->st_ino == st->st_ino;
}

/* The fd of pid that holds socket:[ino], or -1 (sockets.c). */
int fd_holding(pid_t pid, uint64_t ino);
/*
 * Dump, sockets.c: sock_diag about socket ino, asked in network namespace
 * home (an id of the model) first, then in the model's others (a datagram
 * peer or a listener's client reached by a path may be in any), then in
 * that of a task of the tree that holds it; -ENOENT when none has it.
 */
int sk_diag_one(struct dump_ctx *ctx, uint32_t home, uint64_t ino, uint32_t show,
		struct sockdiag_unix *ret);
/* Every unix socket in states of every network namespace of the model, nestor's included. */
int sk_diag_list(struct dump_ctx *ctx, uint32_t states, uint32_t show, struct sockdiag_list *ret);

/*
 * sockets-ext.c, --ext-unix-sk: a datagram socket of the tree connected to
 * peer, a named socket outside the tree (who: "held by ..."; host: the
 * socket is of nestor's network namespace). Fills e, or refuses, naming
 * the task, its fd and the peer.
 */
int ext_dump_peer(pid_t pid, int fd, const struct sockdiag_unix *peer, const char *who,
		  bool host, SocketEntry *e);
/* At restore: connects sk (socket id of the image) to its peer outside, by name. */
int ext_connect(int sk, const SocketEntry *e, uint32_t id);
/*
 * At restore, for datagrams queued on socket id that a socket outside the
 * tree sent from name: a copy of the live datagram socket that holds name
 * now, which alone can send them again under that name (1, *ret_fd); 0
 * when no socket holds it (a socket of nestor's may take it), unless peer
 * (name is the --ext-unix-sk peer's, which must still be there); or -errno,
 * said, when a live socket holds it that nestor cannot copy. nl: a
 * sock_diag socket of nestor's network namespace, where the outside is.
 */
int ext_sender(int nl, const ProtobufCBinaryData *name, uint32_t id, bool peer, int *ret_fd);

/* A peer name that can be bound or connected to again: abstract, or an absolute path. */
static inline bool usable_peer_name(const SocketEntry *e)
{
	return e->peer_name.len &&
	       (!is_path(e->peer_name.data, e->peer_name.len) || e->peer_name.data[0] == '/');
}

/* A socket's queued messages, as the dump reads them. */
struct queue {
	SocketMsg **v;
	size_t n, cap;
	uint64_t bytes;
};

/* sockets.c: a descriptor of task pid's fd; a socket's queue, read. */
int task_fd(pid_t pid, int fd);
int read_queue(int sk, int type, bool peek, bool eof_creds, struct queue *q, const char *what);
/* sockets-validate.c: files.img's socket of inode ino, or NULL. */
const SocketEntry *image_sk(const struct restore_ctx *ctx, uint64_t ino);
/* sockets-backlog.c: the fd_ops commit of waiting connections. */
long sockets_backlog_size(struct dump_ctx *ctx);
int sockets_backlog_take(struct dump_ctx *ctx, struct img *img);

#endif
