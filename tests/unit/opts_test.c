/* Unit tests of command line parsing. */
#include "core/log.h"
#include "core/opts.h"
#include "unit.h"

static int parse(struct opts *o, const char **show, int argc, ...)
{
	char *argv[16];
	__builtin_va_list ap;

	__builtin_va_start(ap, argc);
	argv[0] = "nestor";
	for (int i = 1; i < argc; i++)
		argv[i] = __builtin_va_arg(ap, char *);
	argv[argc] = NULL;
	__builtin_va_end(ap);
	*show = NULL;
	return opts_parse(argc, argv, o, show);
}

int main(void)
{
	struct opts o;
	const char *show;

	freopen("/dev/null", "w", stderr); /* expected usage errors */
	CHECK("dump", parse(&o, &show, 6, "dump", "-t", "123", "-D", "/tmp/x") == CMD_DUMP &&
			      o.pid == 123 && !strcmp(o.dir, "/tmp/x") && !o.leave_running);
	CHECK("dump long options", parse(&o, &show, 8, "dump", "--tree", "5", "--images-dir", "d",
					 "--leave-running", "--shell-job") == CMD_DUMP &&
					   o.pid == 5 && o.leave_running && o.shell_job);
	CHECK("--ext-unix-sk", parse(&o, &show, 7, "dump", "-t", "5", "-D", "d", "--ext-unix-sk") ==
				       CMD_DUMP && o.ext_unix_sk);
	CHECK("-x on restore", parse(&o, &show, 4, "restore", "-Dd", "-x") == CMD_RESTORE &&
				       o.ext_unix_sk);
	CHECK("no --ext-unix-sk", parse(&o, &show, 3, "restore", "-Dd") == CMD_RESTORE &&
				       !o.ext_unix_sk);
	CHECK("options before the command", parse(&o, &show, 6, "-R", "-t", "9", "dump", "-Dd") ==
						    CMD_DUMP && o.leave_running && o.pid == 9);
	CHECK("restore -d --pidfile -o", parse(&o, &show, 8, "restore", "-D", "d", "-d", "--pidfile",
					       "p", "-olog") == CMD_RESTORE &&
						 o.detach && !strcmp(o.pidfile, "p") &&
						 !strcmp(o.log_file, "log"));
	CHECK("-v4", parse(&o, &show, 4, "restore", "-Dd", "-v4") == CMD_RESTORE && o.verbosity == 4);
	CHECK("-v0", parse(&o, &show, 4, "restore", "-Dd", "-v0") == CMD_RESTORE && o.verbosity == 0);
	CHECK("-vv", parse(&o, &show, 4, "restore", "-Dd", "-vv") == CMD_RESTORE && o.verbosity == 3);
	CHECK("default verbosity", parse(&o, &show, 3, "restore", "-Dd") == CMD_RESTORE &&
					   o.verbosity == LOG_WARN);
	CHECK("show path", parse(&o, &show, 3, "show", "/x") == CMD_SHOW && !strcmp(show, "/x"));
	CHECK("check", parse(&o, &show, 2, "check") == CMD_CHECK);
	CHECK("--help", parse(&o, &show, 2, "--help") == CMD_HELP);
	CHECK("--version", parse(&o, &show, 2, "--version") == CMD_VERSION);
	CHECK("no command", parse(&o, &show, 1) < 0);
	CHECK("unknown command", parse(&o, &show, 2, "frobnicate") < 0);
	CHECK("dump without -t", parse(&o, &show, 4, "dump", "-D", "d") < 0);
	CHECK("dump without -D", parse(&o, &show, 4, "dump", "-t", "1") < 0);
	CHECK("bad pid", parse(&o, &show, 6, "dump", "-t", "12x", "-D", "d") < 0);
	CHECK("negative pid", parse(&o, &show, 6, "dump", "-t", "-3", "-D", "d") < 0);
	CHECK("unknown option", parse(&o, &show, 4, "dump", "--frob", "-t1") < 0);
	CHECK("missing argument", parse(&o, &show, 3, "restore", "-D") < 0);
	CHECK("bad verbosity", parse(&o, &show, 4, "restore", "-Dd", "-v9") < 0);
	CHECK("restore without -D", parse(&o, &show, 2, "restore") < 0);
	CHECK("extra words", parse(&o, &show, 4, "restore", "-Dd", "extra") < 0);
	UNIT_END();
}
