/* Command line: criu's option names, so users' habits and scripts carry over. */
#define LOG_PREFIX ""
#include <getopt.h>
#include <string.h>
#include "core/log.h"
#include "core/opts.h"
#include "core/util.h"

void opts_usage(FILE *out)
{
	fputs("Usage:\n"
	      "  nestor dump -t PID -D DIR [-R|--leave-running] [-j|--shell-job] [-x|--ext-unix-sk]\n"
	      "              [-v[N]] [-o FILE]\n"
	      "  nestor restore -D DIR [-d|--restore-detached] [--pidfile FILE] [-j] [-x] [-v[N]]\n"
	      "              [-o FILE]\n"
	      "  nestor check\n"
	      "  nestor show DIR|FILE\n"
	      "  nestor --help | --version\n"
	      "\n"
	      "  -t, --tree PID         the process to checkpoint\n"
	      "  -D, --images-dir DIR   where images are written or read\n"
	      "  -R, --leave-running    let the process go on after the dump\n"
	      "  -j, --shell-job        the process uses the caller's terminal and session\n"
	      "  -x, --ext-unix-sk      dump: allow datagram unix sockets connected to a named\n"
	      "                         socket outside the tree (reconnected by that name at\n"
	      "                         restore); stream and seqpacket connections outside\n"
	      "                         are still refused. restore: accepted, changes nothing\n"
	      "  -d, --restore-detached return once the process runs again\n"
	      "      --pidfile FILE     write the restored pid there\n"
	      "  -o, --log-file FILE    log file, relative to the images dir\n"
	      "  -v[N], --verbosity     0 errors, 1 warnings, 2 info, 3 debug, 4 trace\n",
	      out);
}

static int parse_command(const char *s)
{
	static const struct {
		const char *name;
		enum command cmd;
	} cmds[] = { { "dump", CMD_DUMP }, { "restore", CMD_RESTORE }, { "check", CMD_CHECK },
		     { "show", CMD_SHOW } };

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(s, cmds[i].name))
			return cmds[i].cmd;
	return -EINVAL;
}

/* What each command needs, once every option is in. */
static int check_command(int cmd, struct opts *o, const char **ret_show_path)
{
	switch (cmd) {
	case CMD_NONE:
		fprintf(stderr, "nestor: no command given (try --help)\n");
		return -EINVAL;
	case CMD_DUMP:
		if (!o->pid || !o->dir)
			return fprintf(stderr, "nestor: dump needs -t PID and -D DIR\n"), -EINVAL;
		break;
	case CMD_RESTORE:
		if (!o->dir)
			return fprintf(stderr, "nestor: restore needs -D DIR\n"), -EINVAL;
		break;
	case CMD_SHOW:
		if (!*ret_show_path && !o->dir)
			return fprintf(stderr, "nestor: show needs a DIR or FILE\n"), -EINVAL;
		if (!*ret_show_path)
			*ret_show_path = o->dir;
		break;
	}
	return cmd;
}

int opts_parse(int argc, char **argv, struct opts *o, const char **ret_show_path)
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "shell-job", no_argument, NULL, 'j' },
		{ "ext-unix-sk", no_argument, NULL, 'x' },
		{ "restore-detached", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "log-file", required_argument, NULL, 'o' },
		{ "verbosity", optional_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int cmd = CMD_NONE, c, lvl;

	memset(o, 0, sizeof(*o));
	o->verbosity = LOG_WARN;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+t:D:RjxdP:o:v::hV", longopts, NULL)) != -1 ||
	       optind < argc) {
		if (c == -1) { /* a command word; options may follow it */
			if (cmd != CMD_NONE && cmd != CMD_SHOW)
				goto bad_word;
			if (cmd == CMD_SHOW) {
				if (*ret_show_path)
					goto bad_word;
				*ret_show_path = argv[optind++];
				continue;
			}
			cmd = parse_command(argv[optind]);
			if (cmd < 0)
				goto bad_word;
			optind++;
			continue;
		}
		switch (c) {
		case 't':
			if (parse_int(optarg, &o->pid) < 0 || o->pid <= 0)
				return fprintf(stderr, "nestor: bad pid '%s'\n", optarg), -EINVAL;
			break;
		case 'D': o->dir = optarg; break;
		case 'R': o->leave_running = true; break;
		case 'j': o->shell_job = true; break;
		case 'x': o->ext_unix_sk = true; break;
		case 'd': o->detach = true; break;
		case 'P': o->pidfile = optarg; break;
		case 'o': o->log_file = optarg; break;
		case 'h': return CMD_HELP;
		case 'V': return CMD_VERSION;
		case 'v':
			if (!optarg) {
				o->verbosity = o->verbosity < LOG_TRACE ? o->verbosity + 1 : LOG_TRACE;
			} else if (parse_int(optarg, &lvl) == 0 && lvl >= 0 && lvl <= 4) {
				o->verbosity = lvl;
			} else if (strspn(optarg, "v") == strlen(optarg)) {
				o->verbosity = MIN(LOG_TRACE, o->verbosity + 1 + (int)strlen(optarg));
			} else {
				return fprintf(stderr, "nestor: bad verbosity '%s'\n", optarg), -EINVAL;
			}
			break;
		default:
			fprintf(stderr, "nestor: unknown or incomplete option '%s'\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	return check_command(cmd, o, ret_show_path);
bad_word:
	fprintf(stderr, "nestor: unexpected argument '%s' (try --help)\n", argv[optind]);
	return -EINVAL;
}
