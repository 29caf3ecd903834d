/* Reading and writing image files; every length and checksum is checked. */
#define LOG_PREFIX "image: "
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include "core/image.h"
#include "core/log.h"
#include "core/util.h"

const struct img_desc img_descs[IMG_NR_TYPES] = {
	[IMG_INVENTORY] = { "inventory", 0x4e455301, &inventory_entry__descriptor, false },
	[IMG_CORE] = { "core", 0x4e455302, &task_core_entry__descriptor, true },
	[IMG_MM] = { "mm", 0x4e455303, &mm_entry__descriptor, true },
	[IMG_FDINFO] = { "fdinfo", 0x4e455304, &fdinfo_entry__descriptor, true },
	[IMG_FILES] = { "files", 0x4e455305, &file_entry__descriptor, false },
	[IMG_PSTREE] = { "pstree", 0x4e455306, &pstree_entry__descriptor, false },
	[IMG_NS] = { "ns", 0x4e455307, &ns_entry__descriptor, false },
	/* One per UTS namespace: uts-ID.img. */
	[IMG_UTS] = { "uts", 0x4e455308, &uts_entry__descriptor, true },
	/* One per time namespace: time-ID.img. */
	[IMG_TIMENS] = { "time", 0x4e455309, &timens_entry__descriptor, true },
	/* One per network namespace: net-ID.img. */
	[IMG_NETNS] = { "net", 0x4e45530a, &netns_entry__descriptor, true },
	/* One per user namespace: userns-ID.img. */
	[IMG_USERNS] = { "userns", 0x4e45530b, &userns_entry__descriptor, true },
	[IMG_BACKLOG] = { "backlog", 0x4e455320, &socket_backlog__descriptor, false },
	/* One per IPC namespace, ipc-ID.img, and its POSIX queues' messages, ipcmq-ID.img. */
	[IMG_IPC] = { "ipc", 0x4e455310, &ipc_ns_entry__descriptor, true },
	[IMG_IPC_MQ] = { "ipcmq", 0x4e455311, &ipc_mq_msg_entry__descriptor, true },
	/* One per mount namespace copied from nestor's: mntns-ID.img. */
	[IMG_MNTNS] = { "mntns", 0x4e455312, &mntns_entry__descriptor, true },
	/* One per cgroup namespace: cgroupns-ID.img. */
	[IMG_CGROUPNS] = { "cgroupns", 0x4e455313, &cgroupns_entry__descriptor, true },
};

struct img_head {
	uint32_t magic;
	uint32_t version;
};

static void img_name(enum img_type type, int pid, char *buf, size_t len)
{
	if (img_descs[type].per_task)
		snprintf(buf, len, "%s-%d.img", img_descs[type].prefix, pid);
	else
		snprintf(buf, len, "%s.img", img_descs[type].prefix);
}

int img_create(int dirfd, enum img_type type, int pid, struct img *ret)
{
	struct img_head h = { img_descs[type].magic, IMG_VERSION };
	int fd, r;

	img_name(type, pid, ret->name, sizeof(ret->name));
	fd = openat(dirfd, ret->name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_error_errno(-errno, "cannot create %s", ret->name);
	r = write_all(fd, &h, sizeof(h));
	if (r < 0) {
		close(fd);
		return log_error_errno(r, "cannot write %s", ret->name);
	}
	ret->fd = fd;
	ret->type = type;
	ret->off = sizeof(h);
	return 0;
}

int img_open_file(int dirfd, const char *name)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO in place of an image must not hang us. */
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open image %s", name);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return log_error_ret(-EINVAL, "image %s is not a regular file", name);
	}
	return fd;
}

int img_open(int dirfd, enum img_type type, int pid, struct img *ret)
{
	struct img_head h;
	int fd, r;

	img_name(type, pid, ret->name, sizeof(ret->name));
	fd = img_open_file(dirfd, ret->name);
	if (fd < 0)
		return fd;
	r = read_all(fd, &h, sizeof(h));
	if (r < 0) {
		close(fd);
		return log_error_ret(-EINVAL, "image %s is truncated (no header)", ret->name);
	}
	if (h.magic != img_descs[type].magic) {
		close(fd);
		return log_error_ret(-EINVAL, "image %s is not a nestor %s image (bad magic %#x)",
				     ret->name, img_descs[type].prefix, h.magic);
	}
	if (h.version != IMG_VERSION) {
		close(fd);
		return log_error_ret(-EINVAL, "image %s has format version %u, this nestor reads %u",
				     ret->name, h.version, IMG_VERSION);
	}
	ret->fd = fd;
	ret->type = type;
	ret->off = sizeof(h);
	return 0;
}

void img_close(struct img *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
}

int img_write(struct img *img, const void *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	_cleanup_free_ uint8_t *buf = malloc(len + 8);
	uint32_t hdr[2];
	int r;

	if (!buf)
		return log_error_errno(-ENOMEM, "cannot pack %s", img->name);
	if (len > IMG_MAX_ENTRY)
		return log_error_ret(-EFBIG, "entry of %zu bytes is too large for %s", len,
				     img->name);
	protobuf_c_message_pack(msg, buf + 8);
	hdr[0] = len;
	hdr[1] = crc32c(0, buf + 8, len);
	memcpy(buf, hdr, 8);
	r = write_all(img->fd, buf, len + 8);
	if (r < 0)
		return log_error_errno(r, "cannot write %s", img->name);
	img->off += len + 8;
	return 0;
}

/* Where messages are unpacked (and freed): the heap, or a region (core/region.h). */
static ProtobufCAllocator *unpack_alloc;

int img_decode(enum img_type type, const uint8_t *buf, size_t len, void **ret)
{
	uint32_t hdr[2];
	ProtobufCMessage *m;

	if (len < 8)
		return -ENODATA;
	memcpy(hdr, buf, 8);
	if (hdr[0] > IMG_MAX_ENTRY || hdr[0] > len - 8)
		return -ENODATA;
	if (crc32c(0, buf + 8, hdr[0]) != hdr[1])
		return -EBADMSG;
	m = protobuf_c_message_unpack(img_descs[type].msg, unpack_alloc, hdr[0], buf + 8);
	if (!m)
		return -EBADMSG;
	*ret = m;
	return hdr[0] + 8;
}

int img_read(struct img *img, void **ret)
{
	uint32_t hdr[2];
	_cleanup_free_ uint8_t *buf = NULL;
	ssize_t n;
	void *m;
	int r;

	n = pread(img->fd, hdr, sizeof(hdr), img->off);
	if (n == 0)
		return 0;
	if (n != sizeof(hdr))
		return log_error_ret(-EINVAL, "image %s is truncated at offset %llu", img->name,
				     (unsigned long long)img->off);
	if (hdr[0] > IMG_MAX_ENTRY)
		return log_error_ret(-EINVAL, "image %s is corrupted: entry of %u bytes", img->name,
				     hdr[0]);
	buf = malloc(hdr[0] + 8);
	if (!buf)
		return log_error_errno(-ENOMEM, "cannot read %s", img->name);
	memcpy(buf, hdr, 8);
	r = pread_all(img->fd, buf + 8, hdr[0], img->off + 8);
	if (r == -ENODATA)
		return log_error_ret(-EINVAL, "image %s is truncated at offset %llu", img->name,
				     (unsigned long long)img->off);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", img->name);
	r = img_decode(img->type, buf, hdr[0] + 8, &m);
	if (r < 0)
		return log_error_ret(-EINVAL, "image %s is corrupted at offset %llu (%s)",
				     img->name, (unsigned long long)img->off,
				     r == -EBADMSG ? "checksum or encoding" : "length");
	img->off += r;
	*ret = m;
	return 1;
}

int img_read_one(int dirfd, enum img_type type, int pid, void **ret)
{
	struct img img;
	void *m, *extra;
	int r;

	r = img_open(dirfd, type, pid, &img);
	if (r < 0)
		return r;
	r = img_read(&img, &m);
	if (r == 0)
		r = log_error_ret(-EINVAL, "image %s is empty", img.name);
	if (r < 0)
		goto out;
	r = img_read(&img, &extra);
	if (r > 0) {
		img_free(type, extra);
		img_free(type, m);
		r = log_error_ret(-EINVAL, "image %s has trailing entries", img.name);
		goto out;
	}
	if (r == 0)
		*ret = m;
	else
		img_free(type, m);
out:
	img_close(&img);
	return r;
}

int img_write_one(int dirfd, enum img_type type, int pid, const void *msg)
{
	char name[64];

	img_name(type, pid, name, sizeof(name));
	return img_write_one_named(dirfd, type, name, msg);
}

/* The header and the one entry in a single write: a dump writes hundreds of these. */
int img_write_one_named(int dirfd, enum img_type type, const char *name, const void *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	struct img_head h = { img_descs[type].magic, IMG_VERSION };
	_cleanup_free_ uint8_t *buf = malloc(len + 16);
	_cleanup_close_ int fd = -1;
	uint32_t hdr[2];
	int r;

	if (!buf)
		return -ENOMEM;
	if (len > IMG_MAX_ENTRY)
		return log_error_ret(-EFBIG, "entry of %zu bytes is too large", len);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_error_errno(-errno, "cannot create %s", name);
	protobuf_c_message_pack(msg, buf + 16);
	hdr[0] = len;
	hdr[1] = crc32c(0, buf + 16, len);
	memcpy(buf, &h, 8);
	memcpy(buf + 8, hdr, 8);
	r = write_all(fd, buf, len + 16);
	return r < 0 ? log_error_errno(r, "cannot write %s", name) : 0;
}

void img_free(enum img_type type, void *msg)
{
	(void)type;
	if (msg)
		protobuf_c_message_free_unpacked(msg, unpack_alloc);
}

void img_set_allocator(ProtobufCAllocator *a)
{
	unpack_alloc = a;
}

int img_type_of(const char *name)
{
	for (int t = 0; t < IMG_NR_TYPES; t++) {
		size_t n = strlen(img_descs[t].prefix);

		if (strncmp(name, img_descs[t].prefix, n))
			continue;
		if (img_descs[t].per_task ? name[n] == '-' : !strcmp(name + n, ".img"))
			return t;
	}
	return -ENOENT;
}
