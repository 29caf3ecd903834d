/* nestor: checkpoint and restore of Linux process trees. */
#include <signal.h>
#include <string.h>
#include "core/cr.h"
#include "core/kerndat.h"
#include "core/log.h"
#include "core/opts.h"
#include "core/show.h"

int main(int argc, char **argv)
{
	const char *show_path = NULL;
	struct opts o;
	int cmd, r;

	/*
	 * A closed stderr or log pipe must not kill nestor half way through a
	 * dump, with the tree still held: write errors are checked instead.
	 */
	signal(SIGPIPE, SIG_IGN);
	cmd = opts_parse(argc, argv, &o, &show_path);

	switch (cmd) {
	case CMD_HELP:
		opts_usage(stdout);
		return 0;
	case CMD_VERSION:
		printf("nestor %s\n", NESTOR_VERSION);
		return 0;
	case CMD_CHECK:
		log_init(o.verbosity, -1, NULL);
		return kerndat_check() < 0 ? 1 : 0;
	case CMD_SHOW:
		log_init(o.verbosity, -1, NULL);
		return cr_show(show_path) < 0 ? 1 : 0;
	case CMD_DUMP:
		r = cr_dump(&o);
		log_final(r >= 0, "Dump");
		return r < 0 ? 1 : 0;
	case CMD_RESTORE:
		r = cr_restore(&o);
		log_final(r >= 0, "Restore");
		return r < 0 ? 1 : r;
	default:
		return 1;
	}
}
