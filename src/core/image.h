/* Image files: a magic and a format version at the head, then entries of
 * [u32 length][u32 crc32c][protobuf message]. Raw page files sit beside them. */
#ifndef NESTOR_IMAGE_H
#define NESTOR_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include "inventory.pb-c.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "files.pb-c.h"
#include "pstree.pb-c.h"
#include "anonfd.pb-c.h"
#include "sockets.pb-c.h"
#include "timers.pb-c.h"
#include "ns.pb-c.h"
#include "uts.pb-c.h"
#include "timens.pb-c.h"
#include "netns.pb-c.h"
#include "userns.pb-c.h"
#include "ipc.pb-c.h"
#include "mntns.pb-c.h"
#include "cgroupns.pb-c.h"

#define IMG_VERSION 1
#define IMG_MAX_ENTRY (512u << 20)

enum img_type {
	IMG_INVENTORY,
	IMG_CORE,
	IMG_MM,
	IMG_FDINFO,
	IMG_FILES,
	IMG_PSTREE,
	IMG_NS,
	IMG_UTS,
	IMG_TIMENS,
	IMG_NETNS,
	IMG_USERNS,
	IMG_BACKLOG,
	IMG_IPC,
	IMG_IPC_MQ,
	IMG_MNTNS,
	IMG_CGROUPNS,
	IMG_NR_TYPES,
};

struct img_desc {
	const char *prefix; /* file name, or prefix before "-PID.img" */
	uint32_t magic;
	const ProtobufCMessageDescriptor *msg;
	bool per_task;
};

extern const struct img_desc img_descs[IMG_NR_TYPES];

struct img {
	int fd;
	enum img_type type;
	char name[64];
	uint64_t off;
};

/* Opens (creating) the image of type for pid (ignored for global ones). */
int img_create(int dirfd, enum img_type type, int pid, struct img *ret);
int img_open(int dirfd, enum img_type type, int pid, struct img *ret);
void img_close(struct img *img);
/* Opens a file of the images dir for reading, refusing anything but a regular file. */
int img_open_file(int dirfd, const char *name);
int img_write(struct img *img, const void *msg);
/* Reads the next entry: 1 and *ret on success, 0 at a clean end, -errno else. */
int img_read(struct img *img, void **ret);
/* Reads the one entry an image of this type must hold. */
int img_read_one(int dirfd, enum img_type type, int pid, void **ret);
/* Messages are unpacked, and freed, with a from now on (NULL: the heap's). */
void img_set_allocator(ProtobufCAllocator *a);
int img_write_one(int dirfd, enum img_type type, int pid, const void *msg);
/* The same, under another name (written first, renamed into place later). */
int img_write_one_named(int dirfd, enum img_type type, const char *name, const void *msg);
void img_free(enum img_type type, void *msg);
/* Which image type a file name is, or -ENOENT. */
int img_type_of(const char *name);
/* Decodes one entry from a buffer, for the fuzzer: returns bytes used or -errno. */
int img_decode(enum img_type type, const uint8_t *buf, size_t len, void **ret);

#endif
