/*
 * Network namespaces, a kind of the namespace model (ns.c): for now one
 * with the loopback device alone, in a state the kernel makes by bringing
 * it up or down (fresh: down, no address; up: 127.0.0.1/8 and ::1/128;
 * down again: 127.0.0.1/8). Anything else, another device or address, is
 * refused by name; routes, rules and sysctls of such a namespace are the
 * kernel's defaults as far as nestor knows (not read).
 *
 * Unix sockets belong to the network namespace they were made in, which
 * need not be their holder's (SIOCGSKNS names it): the dump asks sock_diag
 * about them from a NETLINK_SOCK_DIAG socket made inside that namespace,
 * once per namespace; the restore makes each socket with nestor's thread
 * inside its namespace (netns_enter), which also adds to the model one
 * that no thread is in.
 */
#define LOG_PREFIX "netns: "
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include "core/log.h"
#include "core/util.h"
#include "net/sockdiag.h"
#include "ns/ns.h"
#include "ns/ns-priv.h"

static int lo_flags(int *ret)
{
	struct ifreq ifr = { 0 };
	_cleanup_close_ int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, "lo");
	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr))
		return -errno;
	*ret = ifr.ifr_flags;
	return 0;
}

static int check_devices(const struct dump_ctx *ctx, uint32_t id)
{
	struct if_nameindex *v = if_nameindex(), *p;
	int r = 0;

	if (!v)
		return log_error_errno(-errno, "cannot list the devices of network namespace %u", id);
	for (p = v; p->if_index && r == 0; p++)
		if (strcmp(p->if_name, "lo"))
			r = log_error_ret(-EOPNOTSUPP, "can't dump: %s is in a network namespace "
						       "with device %s (only loopback is supported "
						       "yet)", ns_who(ctx, id), p->if_name);
	if_freenameindex(v);
	return r;
}

/* Which of lo's two addresses it has; any other is refused. */
static int check_addresses(const struct dump_ctx *ctx, uint32_t id, bool *ret_v4, bool *ret_v6)
{
	struct ifaddrs *all, *a;
	int r = 0;

	*ret_v4 = *ret_v6 = false;
	if (getifaddrs(&all))
		return log_error_errno(-errno, "cannot list the addresses of network namespace %u",
				       id);
	for (a = all; a && r == 0; a = a->ifa_next) {
		char buf[INET6_ADDRSTRLEN] = "?";
		int fam = a->ifa_addr ? a->ifa_addr->sa_family : AF_UNSPEC;

		if (fam == AF_INET) {
			const struct sockaddr_in *in = (void *)a->ifa_addr, *m = (void *)a->ifa_netmask;

			inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
			if (in->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && m &&
			    m->sin_addr.s_addr == htonl(0xff000000)) {
				*ret_v4 = true;
				continue;
			}
		} else if (fam == AF_INET6) {
			const struct sockaddr_in6 *in = (void *)a->ifa_addr;

			inet_ntop(AF_INET6, &in->sin6_addr, buf, sizeof(buf));
			if (IN6_IS_ADDR_LOOPBACK(&in->sin6_addr)) {
				*ret_v6 = true;
				continue;
			}
		} else {
			continue; /* AF_PACKET: the device itself */
		}
		r = log_error_ret(-EOPNOTSUPP, "can't dump: %s is in a network namespace with "
					       "address %s on %s (only loopback's own is supported "
					       "yet)", ns_who(ctx, id), buf, a->ifa_name);
	}
	freeifaddrs(all);
	return r;
}

static int net_dump(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	NetnsEntry e = NETNS_ENTRY__INIT;
	bool v4, v6;
	int flags = 0, r;

	if ((r = check_devices(ctx, id)) < 0 || (r = check_addresses(ctx, id, &v4, &v6)) < 0)
		return r;
	if ((r = lo_flags(&flags)) < 0)
		return log_error_errno(r, "cannot read loopback's flags in network namespace %u",
				       id);
	e.lo_up = flags & IFF_UP;
	e.lo_inet = v4;
	/* What bringing lo up and down can make again. */
	if (e.lo_up ? !v4 || !v6 : v6)
		return log_error_ret(-EOPNOTSUPP, "can't dump: %s is in a network namespace whose "
						  "loopback is %s with%s 127.0.0.1 and with%s ::1 (not "
						  "supported yet)", ns_who(ctx, id),
				     e.lo_up ? "up" : "down", v4 ? "" : "out", v6 ? "" : "out");
	return img_write_one(ctx->dirfd, IMG_NETNS, id, &e);
}

static int net_validate(struct restore_ctx *ctx, uint32_t id)
{
	NetnsEntry *e;
	int r = img_read_one(ctx->dirfd, IMG_NETNS, id, (void **)&e);

	if (r < 0)
		return r;
	if (e->lo_up && !e->lo_inet) {
		img_free(IMG_NETNS, e);
		return log_error_ret(-EINVAL, "image net-%u.img is corrupted: loopback up without "
					      "its address", id);
	}
	*ns_priv(ctx, id) = e;
	return 0;
}

static int set_lo(bool up)
{
	struct ifreq ifr = { 0 };
	_cleanup_close_ int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, "lo");
	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr))
		return -errno;
	ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
	return ioctl(sk, SIOCSIFFLAGS, &ifr) ? -errno : 0;
}

static int net_restore(struct restore_ctx *ctx, uint32_t id)
{
	const NetnsEntry *e = *ns_priv(ctx, id);
	int r = 0;

	/* Up gives both addresses; down again keeps 127.0.0.1 alone. */
	if (e->lo_inet && (r = set_lo(true)) == 0 && !e->lo_up)
		r = set_lo(false);
	if (r < 0)
		return log_error_errno(r, "cannot set loopback in network namespace %u", id);
	return 0;
}

/* ---- where unix sockets belong ---- */

int netns_enter(int nsfd, int *home)
{
	if (*home < 0 && (*home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		return log_error_errno(-errno, "cannot open nestor's network namespace");
	if (setns(nsfd, CLONE_NEWNET))
		return log_error_errno(-errno, "cannot enter a network namespace");
	return 0;
}

int netns_leave(int *home)
{
	int r = 0;

	if (*home < 0)
		return 0;
	if (setns(*home, CLONE_NEWNET))
		r = log_error_errno(-errno, "cannot come back to nestor's network namespace");
	close(steal_fd(*home));
	return r;
}

static struct dump_ns *net_of(struct dump_ctx *ctx, uint32_t id)
{
	struct dump_ns *n = id && id <= ctx->nr_ns ? &ctx->ns[id - 1] : NULL;

	return n && n->kind == NSK_NET ? n : NULL;
}

int netns_diag(struct dump_ctx *ctx, uint32_t id)
{
	struct dump_ns *n = net_of(ctx, id);
	int home = -1, r;

	if (!n)
		return log_error_ret(-EINVAL, "%u is not a network namespace of the model", id);
	if (n->diag >= 0)
		return n->diag;
	if (n->host)
		return n->diag = sockdiag_open();
	if ((r = netns_enter(n->fd, &home)) == 0)
		n->diag = r = sockdiag_open();
	/* nestor must not stay there: without the way back, the dump fails. */
	return netns_leave(&home) < 0 ? -EIO : r;
}

uint32_t netns_next(const struct dump_ctx *ctx, uint32_t after)
{
	for (size_t i = after; i < ctx->nr_ns; i++)
		if (ctx->ns[i].kind == NSK_NET)
			return ctx->ns[i].id;
	return 0;
}

bool netns_is_host(const struct dump_ctx *ctx, uint32_t id)
{
	struct dump_ns *n = net_of((struct dump_ctx *)ctx, id);

	return n && n->host;
}

int netns_of_socket(struct dump_ctx *ctx, int sk, const char *who, uint32_t *ret_id)
{
	int nsfd = ioctl(sk, SIOCGSKNS);

	if (nsfd < 0)
		return log_error_errno(-errno, "cannot get the network namespace of %s", who);
	return ns_dump_add(ctx, nsfd, NSK_NET, who, ret_id);
}

int netns_own(struct dump_ctx *ctx, uint32_t *ret_id)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return log_error_errno(-errno, "cannot open nestor's network namespace");
	return ns_dump_add(ctx, fd, NSK_NET, "nestor", ret_id);
}

const struct ns_kind_ops net_ns_ops = {
	.kind = "net",
	.enter_to_dump = true,
	.dump = net_dump,
	.validate = net_validate,
	.restore = net_restore,
	.priv_img = IMG_NETNS,
};
