/* Zombies: the state /proc still shows of a dead, unreaped task. */
#ifndef NESTOR_ZOMBIE_H
#define NESTOR_ZOMBIE_H

#include "core/model.h"

/* Fills e's zombie_* fields from /proc while the zombie is held unreaped. */
int zombie_dump(const struct dump_ctx *ctx, const struct dump_task *t, PstreeEntry *e);
bool zombie_valid(const PstreeEntry *e);
/* In the restored task: takes the zombie's state (entering user namespace
 * userns_fd first unless it is -1), then ends as it ended. */
int zombie_exit(const PstreeEntry *e, int userns_fd);

#endif
