/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice: command-line client of the sluice appliance.
 *
 *   sluice enqueue ...   cli_parse_enqueue() then cli_cmd_enqueue()
 *   sluice consume ...   cli_parse_consume() then cli_cmd_consume()
 *   sluice ping ...      cli_parse_ping()    then cli_cmd_ping()
 *   sluice admin ...     cli_parse_admin()   then cli_cmd_admin() (control socket)
 *
 * Options live in cli_opts.c, commands in cli_cmds.c. Exit status: 0 ok, 1 a
 * job refused or failed, 2 usage, 3 connection/TLS/auth error.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cmds.h"
#include "cli_opts.h"

static const char *
env_lookup(const char *name)
{
	return getenv(name);
}

static void
signals_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked poll() returns, and the loop sees the stop. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed stdout or a job command that exits early is an error to report, not death. */
	signal(SIGPIPE, SIG_IGN);
}

static int
usage_error(const char *err)
{
	fprintf(stderr, "sluice: %s\n", err);
	return CLI_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	static struct cli_enqueue enq;
	static struct cli_consume con;
	static struct cli_ping png;
	static struct cli_admin adm;
	char err[512], help_flag[] = "--help";
	char *help_argv[3] = { NULL, help_flag, NULL };
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int rc;

	if (!cmd) {
		cli_usage_main(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		cli_usage_main(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc < 3) {
			cli_usage_main(stdout);
			return CLI_EXIT_OK;
		}
		/* "sluice help CMD" is "sluice CMD --help". */
		help_argv[0] = argv[2];
		argv = help_argv;
		argc = 2;
		cmd = argv[0];
	} else {
		argv++;
		argc--;
	}
	signals_setup();
	if (strcmp(cmd, "enqueue") == 0) {
		rc = cli_parse_enqueue(argc, argv, env_lookup, &enq, stdout, err, sizeof(err));
		return rc < 0 ? usage_error(err) : rc > 0 ? CLI_EXIT_OK : cli_cmd_enqueue(&enq);
	}
	if (strcmp(cmd, "consume") == 0) {
		rc = cli_parse_consume(argc, argv, env_lookup, &con, stdout, err, sizeof(err));
		return rc < 0 ? usage_error(err) : rc > 0 ? CLI_EXIT_OK : cli_cmd_consume(&con);
	}
	if (strcmp(cmd, "ping") == 0) {
		rc = cli_parse_ping(argc, argv, env_lookup, &png, stdout, err, sizeof(err));
		return rc < 0 ? usage_error(err) : rc > 0 ? CLI_EXIT_OK : cli_cmd_ping(&png);
	}
	if (strcmp(cmd, "admin") == 0) {
		rc = cli_parse_admin(argc, argv, env_lookup, &adm, stdout, err, sizeof(err));
		return rc < 0 ? usage_error(err) : rc > 0 ? CLI_EXIT_OK : cli_cmd_admin(&adm);
	}
	fprintf(stderr,
		"sluice: unknown command '%s' (enqueue, consume, ping, admin; sluice --help)\n",
		cmd);
	return CLI_EXIT_USAGE;
}
