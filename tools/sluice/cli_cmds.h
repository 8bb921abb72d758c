/* SPDX-License-Identifier: BSD-3-Clause */
/* sluice CLI: the commands, run after their options were parsed (cli_opts.h). */
#ifndef SLUICE_CLI_CMDS_H
#define SLUICE_CLI_CMDS_H

#include "cli_opts.h"
#include "sluice.h"

/* Each returns an exit code (enum cli_exit) and reports on stderr. */
int cli_cmd_enqueue(struct cli_enqueue *o);
int cli_cmd_consume(struct cli_consume *o);
int cli_cmd_ping(struct cli_ping *o);
/* One operator action over sluiced's control socket (cli_admin.c). */
int cli_cmd_admin(struct cli_admin *o);

/* Set by the commands so that SIGINT/SIGTERM can stop the session in progress. */
void cli_stop_target(struct sluice_client *c);
/* SIGINT/SIGTERM handler: stops the target (sluice_stop() is async-signal-safe). */
void cli_on_signal(int sig);

/*
 * Run cmd for delivery d: payload on stdin, job facts in SLUICE_JOB_* variables,
 * leases extended while it runs, killed after timeout_ms (0: never).
 * 0 when it exited 0; 1 with a reason (printable ASCII) otherwise.
 */
int cli_exec_job(struct sluice_client *c, char *const *cmd, const struct sluice_delivery *d,
		 uint32_t timeout_ms, char *reason, size_t rlen);

#endif
