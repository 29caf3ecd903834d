/*
 * Time namespaces, a kind of the namespace model (ns.c): each one's
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets, read with nestor inside it
 * (/proc/self/timens_offsets shows those of the namespace its children go
 * to, which setns made the same), written by the child the model makes it
 * in before any task enters it (the kernel allows it only then).
 */
#define LOG_PREFIX "timens: "
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "core/log.h"
#include "core/util.h"
#include "ns/ns.h"

static int parse_offsets(const char *buf, TimensEntry *e)
{
	long long ms, mn, bs, bn;
	char a[16], b[16];

	if (sscanf(buf, "%15s %lld %lld %15s %lld %lld", a, &ms, &mn, b, &bs, &bn) != 6 ||
	    strcmp(a, "monotonic") || strcmp(b, "boottime"))
		return -EINVAL;
	e->monotonic_sec = ms;
	e->monotonic_nsec = mn;
	e->boottime_sec = bs;
	e->boottime_nsec = bn;
	return 0;
}

static int time_dump(struct dump_ctx *ctx, uint32_t id, int nsfd)
{
	TimensEntry e = TIMENS_ENTRY__INIT;
	_cleanup_free_ char *buf = NULL;
	int r = read_file_at(AT_FDCWD, "/proc/self/timens_offsets", &buf, 4096);

	if (r < 0)
		return log_error_errno(r, "cannot read the offsets of time namespace %u", id);
	if (parse_offsets(buf, &e) < 0)
		return log_error_ret(-EIO, "time namespace %u: cannot parse its offsets '%.60s'", id,
				     buf);
	return img_write_one(ctx->dirfd, IMG_TIMENS, id, &e);
}

static int time_validate(struct restore_ctx *ctx, uint32_t id)
{
	TimensEntry *e;
	int r = img_read_one(ctx->dirfd, IMG_TIMENS, id, (void **)&e);

	if (r < 0)
		return r;
	if (e->monotonic_nsec < 0 || e->monotonic_nsec >= 1000000000 || e->boottime_nsec < 0 ||
	    e->boottime_nsec >= 1000000000) {
		img_free(IMG_TIMENS, e);
		return log_error_ret(-EINVAL, "image time-%u.img is corrupted: nanoseconds out of "
					      "range", id);
	}
	*ns_priv(ctx, id) = e;
	return 0;
}

static int time_restore(struct restore_ctx *ctx, uint32_t id)
{
	const TimensEntry *e = *ns_priv(ctx, id);
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "monotonic %lld %lld\nboottime %lld %lld\n",
			 (long long)e->monotonic_sec, (long long)e->monotonic_nsec,
			 (long long)e->boottime_sec, (long long)e->boottime_nsec);
	_cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, buf, n) != n)
		return log_error_errno(-errno, "cannot set the offsets of time namespace %u", id);
	return 0;
}

const struct ns_kind_ops time_ns_ops = {
	.kind = "time",
	.enter_to_dump = true,
	.dump = time_dump,
	.validate = time_validate,
	.restore = time_restore,
	.priv_img = IMG_TIMENS,
	/* unshare() makes the namespace the maker's children would be in. */
	.made_link = "time_for_children",
};
