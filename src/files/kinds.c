/* The table of the kinds of open file descriptions (see fd-ops.h): a new
 * kind is one file in this folder (or src/net) and one entry here. */
#include "core/util.h"
#include "files/fd-ops.h"

/* Asked in this order: ptys before other character devices, memfds and
 * POSIX message queues before other regular files. */
const struct fd_ops *const fd_kinds[] = {
	&tty_fd_ops, &memfd_fd_ops, &mqueue_fd_ops, &regular_fd_ops, &pipes_fd_ops, &anonfd_fd_ops, &sockets_fd_ops,
};
const size_t nr_fd_kinds = ARRAY_SIZE(fd_kinds);
