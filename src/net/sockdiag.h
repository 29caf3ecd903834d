/* NETLINK_SOCK_DIAG queries about unix sockets: what a socket's own fd
 * cannot tell (its peer's inode, pending connections, queue lengths). */
#ifndef NESTOR_SOCKDIAG_H
#define NESTOR_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <linux/unix_diag.h>

#define SOCKDIAG_NAME_MAX 108 /* sizeof(sun_path) */

struct sockdiag_unix {
	uint32_t ino;
	uint8_t type, state;
	/* Connected; peer is 0 when the peer has no inode (closed, or not accepted). */
	bool has_peer;
	uint32_t peer;
	size_t name_len; /* 0: unnamed; else sun_path bytes as bound (abstract: a NUL first) */
	uint8_t name[SOCKDIAG_NAME_MAX];
	bool has_vfs;
	uint32_t vfs_ino, vfs_dev;
	bool has_rqlen;
	uint32_t rqueue, wqueue; /* listeners: backlog length and limit */
	uint8_t shutdown;
	uint32_t *icons; /* listeners: the clients' inodes, in queue order (malloc'ed) */
	size_t nr_icons;
};

/*
 * Every query takes nl, a NETLINK_SOCK_DIAG socket: the answers are about
 * the sockets of the network namespace it was made in. -1: one made for
 * the query in the caller's.
 */
int sockdiag_open(void);
/* One socket by inode, with the UDIAG_SHOW_* attributes in show; -ENOENT if none. */
int sockdiag_unix_one(int nl, uint32_t ino, uint32_t show, struct sockdiag_unix *ret);
/* Calls fn for every unix socket in states (a mask of 1 << TCP_*), until fn returns
 * non-zero: that is the result (0 when it never does). */
int sockdiag_unix_each(int nl, uint32_t states, uint32_t show,
		       int (*fn)(const struct sockdiag_unix *d, void *arg), void *arg);
void sockdiag_unix_free(struct sockdiag_unix *d);

struct sockdiag_list {
	struct sockdiag_unix *v;
	size_t n;
};

/* Every unix socket in states, into ret (freed with sockdiag_list_free, also on error). */
int sockdiag_unix_list(int nl, uint32_t states, uint32_t show, struct sockdiag_list *ret);
void sockdiag_list_free(struct sockdiag_list *l);
/* d (asked with UDIAG_SHOW_VFS) is bound to the socket file st describes. */
bool sockdiag_unix_is_file(const struct sockdiag_unix *d, const struct stat *st);
/* 1 if a live socket is bound to the socket file st describes, 0 if none, or -errno. */
int sockdiag_unix_bound_at(int nl, const struct stat *st);

#endif
