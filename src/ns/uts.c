/*
 * UTS namespaces, a kind of the namespace model (ns.c): each one's
 * hostname and domainname, read with nestor inside it, written back by the
 * child the model makes it in.
 */
#define LOG_PREFIX "uts: "
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "ns/ns.h"

static int uts_dump(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	UtsEntry e = UTS_ENTRY__INIT;
	struct utsname u;

	if (uname(&u))
		return log_error_errno(-errno, "cannot read the names of UTS namespace %u", id);
	e.hostname = u.nodename;
	e.domainname = u.domainname;
	return img_write_one(ctx->dirfd, IMG_UTS, id, &e);
}

static int uts_validate(struct restore_ctx *ctx, uint32_t id)
{
	UtsEntry *e;
	int r = img_read_one(ctx->dirfd, IMG_UTS, id, (void **)&e);

	if (r < 0)
		return r;
	/* The kernel's limit: __NEW_UTS_LEN, 64 bytes. */
	if (strlen(e->hostname) > 64 || strlen(e->domainname) > 64) {
		img_free(IMG_UTS, e);
		return log_error_ret(-EINVAL, "image uts-%u.img is corrupted: a name longer than "
					      "64 bytes", id);
	}
	*ns_priv(ctx, id) = e;
	return 0;
}

static int uts_restore(struct restore_ctx *ctx, uint32_t id)
{
	const UtsEntry *e = *ns_priv(ctx, id);

	if (sethostname(e->hostname, strlen(e->hostname)) ||
	    setdomainname(e->domainname, strlen(e->domainname)))
		return log_error_errno(-errno, "cannot set the names of UTS namespace %u", id);
	return 0;
}

const struct ns_kind_ops uts_ns_ops = {
	.kind = "uts",
	.enter_to_dump = true,
	.dump = uts_dump,
	.validate = uts_validate,
	.restore = uts_restore,
	.priv_img = IMG_UTS,
};
