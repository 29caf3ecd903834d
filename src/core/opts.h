/* Command line parsing, apart from main() so unit tests can drive it. */
#ifndef NESTOR_OPTS_H
#define NESTOR_OPTS_H

#include <stdio.h>
#include "core/model.h"

enum command { CMD_NONE, CMD_DUMP, CMD_RESTORE, CMD_CHECK, CMD_SHOW, CMD_HELP, CMD_VERSION };

/* Fills o and returns the command, or -EINVAL after printing why. */
int opts_parse(int argc, char **argv, struct opts *o, const char **ret_show_path);
void opts_usage(FILE *out);

#endif
