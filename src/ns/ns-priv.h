/* What the namespace model's files (ns.c, ns-restore.c, pid.c, uts.c) share. */
#ifndef NESTOR_NS_PRIV_H
#define NESTOR_NS_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include "ns/ns.h"

/* linux/nsfs.h, defined here: Debian's headers are older than this kernel. */
#ifndef NS_GET_USERNS
#define NS_GET_USERNS _IO(0xb7, 0x1)
#endif
#ifndef NS_GET_PARENT
#define NS_GET_PARENT _IO(0xb7, 0x2)
#endif
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3)
#endif

enum ns_kind_nr {
	NSK_PID,
	NSK_USER,
	NSK_UTS,
	NSK_IPC,
	NSK_MNT,
	NSK_NET,
	NSK_CGROUP,
	NSK_TIME,
	NS_NR_KINDS,
};

struct ns_kind {
	const char *name;  /* as /proc/PID/ns and ns.img say it */
	const char *human; /* in messages */
	int clone_flag;
};

extern const struct ns_kind ns_kinds[NS_NR_KINDS];
extern const char *const ns_slot_names[NS_NR_SLOTS];
enum ns_kind_nr ns_slot_kind(int slot);
int ns_kind_by_name(const char *name);
const struct ns_kind_ops *ns_ops_of(int kind);

/* One namespace as the dump sees it. */
struct dump_ns {
	uint32_t id;
	int kind;
	uint64_t ino;
	uint32_t parent, owner; /* ids, 0 for nestor's */
	bool host;
	bool committed; /* its kind's dump_commit ran */
	int fd;         /* held until the dump ends */
	int diag;       /* net: a NETLINK_SOCK_DIAG socket made inside, or -1 */
	char who[64];   /* what led to it first, for messages when no thread is in it */
};

/* One namespace as the restore makes it. */
struct restore_ns {
	NsEntry *e;
	int kind;
	int fd;     /* once made (or nestor's own, for host ones), else -1 */
	void *priv; /* what its kind's validate kept */
	int init;   /* pid kind: the task index of its init, or -1 */
	int depth;  /* pid kind: levels below nestor's */
};

/* What a child of nestor inside nsfd (of kind flag: it setns()es) reads
 * from path, NUL-terminated in *ret (to free); -errno on failure. */
int ns_read_file(int nsfd, int flag, const char *path, char **ret);

/* pid.c */
int pidns_check(struct dump_ctx *ctx);
int pidns_fill_pstree(const struct dump_ctx *ctx, const struct dump_task *t, PstreeEntry *e);
int pidns_validate(struct restore_ctx *ctx);
/* Pid namespace id has its init in the dump. */
bool pidns_has_init(const struct dump_ctx *ctx, uint32_t id);
/* Task idx's pid namespace for children is not its own. */
bool pidns_pfc_differs(const struct restore_ctx *ctx, int idx);
/* A descriptor of it, above nestor's fd base. */
int pidns_pfc_open(const struct restore_ctx *ctx, int idx);

#endif
