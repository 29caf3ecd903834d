/* Unix sockets: validation of their image entries before anything is made. */
#define LOG_PREFIX "sockets: "
#include <fcntl.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/log.h"
#include "core/util.h"
#include "net/sockets.h"
#include "net/sockets-priv.h"
#include "ns/ns.h"

/* ---- validation ---- */

const SocketEntry *image_sk(const struct restore_ctx *ctx, uint64_t ino)
{
	for (size_t i = 0; i < ctx->nr_files; i++) {
		const FileEntry *f = ctx->files[i];

		if (f->type == FILE_TYPE__SOCKET && f->sock && f->sock->has_ino &&
		    f->sock->ino == ino)
			return f->sock;
	}
	return NULL;
}

/* A peer's name nestor can reach from anywhere: abstract, or an absolute path. */

/* A path carries its NUL and no other; an abstract name is any bytes after its NUL. */
static bool good_name(const ProtobufCBinaryData *n)
{
	if (n->len < 1 || n->len > NAME_LEN)
		return false;
	return !n->data[0] || strnlen((const char *)n->data, n->len) == n->len - 1;
}

static bool good_msgs(SocketMsg *const *v, size_t n, int type)
{
	uint64_t bytes = 0;

	if (n > MAX_MSGS)
		return false;
	for (size_t i = 0; i < n; i++) {
		bytes += v[i]->data.len;
		if (bytes > MAX_QUEUE ||
		    (v[i]->has_sender && (type != SOCK_DGRAM || !good_name(&v[i]->sender))))
			return false;
	}
	return true;
}

static bool lists_client(const SocketEntry *l, uint64_t ino)
{
	for (size_t i = 0; i < l->n_pending; i++)
		if (l->pending[i]->client_ino == ino)
			return true;
	return false;
}

static const char *bad_connection(const struct restore_ctx *ctx, const SocketEntry *e)
{
	const SocketEntry *p = e->has_peer_ino ? image_sk(ctx, e->peer_ino) : NULL;
	const SocketEntry *l = e->has_listener_ino ? image_sk(ctx, e->listener_ino) : NULL;
	int links = e->has_peer_ino + e->peer_gone + e->has_listener_ino + e->peer_external;

	if (links != (e->state == TCP_ESTABLISHED))
		return "connection";
	if (e->has_peer_name && ((!e->peer_gone && !e->peer_external) ||
				 (e->peer_name.len && !good_name(&e->peer_name))))
		return "peer name";
	if (e->peer_external && (e->type != SOCK_DGRAM || !usable_peer_name(e)))
		return "external peer";
	if (e->accepted && (!is_stream(e->type) || !e->has_name || e->has_listener_ino))
		return "accepted";
	if (e->has_peer_ino &&
	    (!p || (p == e && is_stream(e->type)) || p->type != e->type ||
	     (is_stream(e->type) && (p->peer_ino != e->ino || (e->accepted && p->accepted)))))
		return "peer";
	if (e->has_listener_ino && (!l || l->state != TCP_LISTEN || l->type != e->type ||
				    !lists_client(l, e->ino) || e->n_queue))
		return "listener";
	return NULL;
}

static const char *bad_listener(const struct restore_ctx *ctx, const SocketEntry *e)
{
	if (e->state != TCP_LISTEN)
		return e->n_pending || e->has_backlog ? "backlog" : NULL;
	if (!e->has_name || e->backlog > MAX_BACKLOG || e->n_pending > MAX_PENDING || e->n_queue)
		return "listener";
	for (size_t i = 0; i < e->n_pending; i++) {
		const SocketPending *p = e->pending[i];
		const SocketEntry *c = p->client_ino ? image_sk(ctx, p->client_ino) : NULL;

		if ((p->client_ino && (!c || c->listener_ino != e->ino)) ||
		    !good_msgs(p->data, p->n_data, e->type) || (p->n_data && !p->taken))
			return "waiting connection";
	}
	return NULL;
}

/* Its network namespace: an ns.img entry of kind net; absent, nestor's (older images). */
static uint32_t net_id(const struct restore_ctx *ctx, const SocketEntry *e)
{
	const NsEntry *n = e->has_netns ? ns_entry(ctx, e->netns) : NULL;

	return n && !n->host ? e->netns : 0;
}

/*
 * What the kernel makes in one network namespace: both ends of a pair or
 * a connection (an accepted end is made in its client's), and whatever
 * reaches an abstract name (a client of an abstract listener, a datagram
 * socket connected to an abstract one).
 */
static const char *bad_netns(const struct restore_ctx *ctx, const SocketEntry *e)
{
	const SocketEntry *p = e->has_peer_ino ? image_sk(ctx, e->peer_ino) : NULL;
	const SocketEntry *l = e->has_listener_ino ? image_sk(ctx, e->listener_ino) : NULL;
	const NsEntry *n = e->has_netns ? ns_entry(ctx, e->netns) : NULL;

	if (e->has_netns && (!n || strcmp(n->kind, "net")))
		return "network namespace";
	if (p && net_id(ctx, p) != net_id(ctx, e) &&
	    (is_stream(e->type) || !p->has_name || !is_path(p->name.data, p->name.len)))
		return "network namespace of its peer";
	if (l && net_id(ctx, l) != net_id(ctx, e) && !is_path(l->name.data, l->name.len))
		return "network namespace of its listener";
	if (e->peer_external && net_id(ctx, e) && !is_path(e->peer_name.data, e->peer_name.len))
		return "external peer's network namespace";
	return NULL;
}

static const char *bad_entry(const struct restore_ctx *ctx, const FileEntry *f)
{
	const SocketEntry *e = f->sock;
	const char *why;

	if (!e || e->family != AF_UNIX)
		return "family";
	if (e->type != SOCK_STREAM && e->type != SOCK_DGRAM && e->type != SOCK_SEQPACKET)
		return "type";
	if (!e->has_ino || !e->ino || e->ino > UINT32_MAX || image_sk(ctx, e->ino) != e)
		return "inode";
	if (!e->has_state ||
	    (e->state != TCP_ESTABLISHED && e->state != TCP_CLOSE && e->state != TCP_LISTEN) ||
	    (e->state == TCP_LISTEN && e->type == SOCK_DGRAM))
		return "state";
	if (f->flags & ~(O_ACCMODE | O_NONBLOCK | O_ASYNC) || e->shutdown > 3)
		return "flags";
	if ((e->has_name && !good_name(&e->name)) ||
	    ((e->name_dir || e->name_file) &&
	     (!e->has_name || !is_path(e->name.data, e->name.len))) ||
	    (e->name_dir && (e->name_dir[0] != '/' || e->name.data[0] == '/')))
		return "name";
	if ((why = bad_connection(ctx, e)) || (why = bad_listener(ctx, e)) ||
	    (why = bad_netns(ctx, e)))
		return why;
	if (!good_msgs(e->queue, e->n_queue, e->type) ||
	    (e->n_queue && e->type != SOCK_DGRAM && e->state != TCP_ESTABLISHED))
		return "queue";
	if (e->sndbuf > INT32_MAX || e->rcvbuf > INT32_MAX || e->rcvlowat > INT32_MAX ||
	    (e->has_peek_off && e->peek_off < 0) || e->rcvtimeo_us > INT32_MAX * 1000000ull ||
	    e->sndtimeo_us > INT32_MAX * 1000000ull)
		return "options";
	return NULL;
}

int sockets_validate(struct restore_ctx *ctx, const FileEntry *f)
{
	const char *why = bad_entry(ctx, f);

	if (why)
		return log_error_ret(-EINVAL, "image files.img is corrupted: bad socket %u (%s)",
				     f->id, why);
	for (size_t i = 0; i < f->sock->n_pending; i++)
		if (f->sock->pending[i]->queued && !f->sock->pending[i]->taken)
			return log_error_ret(
			    -EINVAL,
			    "can't restore: the image lacks what a client sent on a "
			    "connection not yet accepted by socket %u (only a dump "
			    "that kills the tree takes it)",
			    f->id);
	return 0;
}
