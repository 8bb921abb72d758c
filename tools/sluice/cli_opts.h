/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice CLI: options of every command, parsed and checked before any
 * network I/O, plus the help texts and the exit-code mapping. No I/O here
 * except reading a token file (cli_load_token), so tests can drive it.
 *
 * Exit codes (documented in every --help):
 *   0 ok, 1 a job refused or failed, 2 usage, 3 connection/TLS/auth error.
 */
#ifndef SLUICE_CLI_OPTS_H
#define SLUICE_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice.h"

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_JOB = 1,   /* a job was refused or failed */
	CLI_EXIT_USAGE = 2, /* bad command line or configuration */
	CLI_EXIT_CONN = 3,  /* connection, TLS, authentication or session error */
};

#define CLI_DEFAULT_ADDR "127.0.0.1"
#define CLI_MAX_FILES 64
#define CLI_MAX_DURATION_MS 604800000ull /* 7 days, the protocol's bound */

/* Environment lookup (getenv in the program, a table in tests). */
typedef const char *(*cli_getenv_fn)(const char *name);

/* Connection options shared by every command (flags override SLUICE_* variables). */
struct cli_conn {
	char host[256];
	uint16_t port;
	const char *ca_file;
	const char *server_name;
	const char *token;
	const char *token_file;
	const char *cert_file;
	const char *key_file;
	const char *client_name;
	uint32_t connect_timeout_ms;
	uint32_t timeout_ms;
	uint32_t reconnect;
	bool verbose;
};

struct cli_enqueue {
	struct cli_conn conn;
	const char *queue;
	const char *type;
	const char *payload; /* --payload, or NULL */
	const char *files[CLI_MAX_FILES];
	unsigned n_files; /* "-" is stdin */
	bool from_stdin;  /* no --payload, no --file: read stdin */
	const char *content_type;
	uint8_t priority;
	uint64_t delay_ms;
	uint32_t ttl_ms;
	uint16_t max_attempts;
	uint32_t lease_timeout_ms;
	const char *unique_key;
	uint32_t unique_ttl_ms;
	struct sluice_header headers[16];
	char header_buf[16][64 + 1 + 256 + 1];
	unsigned n_headers;
	struct sluice_job_id id;
	bool has_id;
	uint64_t count;
	uint32_t batch;
	uint32_t linger_ms;
	uint32_t window;
	bool quiet;
};

struct cli_consume {
	struct cli_conn conn;
	struct sluice_queue_weight queues[16];
	char queue_buf[16][64 + 1];
	unsigned n_queues;
	uint32_t prefetch;
	uint64_t max_jobs; /* 0: no limit */
	int64_t idle_ms;   /* -1: wait for ever */
	uint32_t retry_delay_ms;
	bool dead;
	bool text;
	uint32_t job_timeout_ms; /* exec mode; 0: none */
	char **command;          /* after "--": run per job; NULL: print JSON lines */
};

struct cli_ping {
	struct cli_conn conn;
	uint32_t count;
	enum sluice_role role;
};

enum cli_admin_cmd {
	CLI_ADMIN_QUEUES = 1,
	CLI_ADMIN_PAUSE,
	CLI_ADMIN_RESUME,
	CLI_ADMIN_PURGE,
	CLI_ADMIN_REDRIVE,
};

/* sluice admin: operator actions over sluiced's control socket (cli_admin.c). */
struct cli_admin {
	const char *socket; /* --control-socket, SLUICE_CONTROL_SOCKET */
	enum cli_admin_cmd cmd;
	const char *queue; /* NULL: every queue (queues only) */
	uint32_t max;      /* redrive --max; 0 = every dead job */
	uint32_t timeout_ms;
	bool json;
};

/*
 * Parse one command's arguments (argv[0] is the command name). Return 0 to
 * run, 1 when --help was asked (text printed to out), or -1 with a message
 * for a person in err (exit CLI_EXIT_USAGE). getenv supplies SLUICE_*.
 */
/*
 * The job an enqueue command describes, without payload, id or not_before
 * (those vary per job or per send). One place, so the check at parse time and
 * the send see the same fields.
 */
struct sluice_job cli_enqueue_job(const struct cli_enqueue *o);

int cli_parse_enqueue(int argc, char **argv, cli_getenv_fn getenv_fn, struct cli_enqueue *o,
		      FILE *out, char *err, size_t errlen);
int cli_parse_consume(int argc, char **argv, cli_getenv_fn getenv_fn, struct cli_consume *o,
		      FILE *out, char *err, size_t errlen);
/* sluice admin: exit codes 0 done, 1 refused by sluiced, 2 usage, 3 unreachable. */
int cli_parse_admin(int argc, char **argv, cli_getenv_fn getenv_fn, struct cli_admin *o, FILE *out,
		    char *err, size_t errlen);
int cli_parse_ping(int argc, char **argv, cli_getenv_fn getenv_fn, struct cli_ping *o, FILE *out,
		   char *err, size_t errlen);

void cli_usage_main(FILE *out);

/* ---- pieces, exposed for tests ---- */

/* "250ms", "10s", "5m", "2h", "1d", or plain ms; at most max_ms. 0 or -1. */
int cli_parse_duration(const char *s, uint64_t max_ms, uint64_t *ms);
/* Unsigned decimal within [min, max]. 0 or -1. */
int cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v);
/* "host", "host:port", "[v6]", "[v6]:port". 0 or -1. */
int cli_parse_addr(const char *s, char *host, size_t hostlen, uint16_t *port);
/* "name" or "name:weight" (the part after the last ':' is a weight when numeric). */
int cli_parse_queue_weight(const char *s, char *name, size_t namelen, uint16_t *weight);
/* "key=value" into buf (key and value NUL-terminated inside it). */
int cli_parse_header(const char *s, char *buf, size_t buflen, const char **key, const char **value);

/* The sluice_config for these connection options (strings point into conn). */
void cli_conn_config(const struct cli_conn *conn, enum sluice_role role, struct sluice_config *cfg);

/*
 * Read the token file (first line, without the newline) into buf when
 * --token-file / SLUICE_TOKEN_FILE was given and no --token. 0, or -1 with
 * a message in err.
 */
int cli_load_token(struct cli_conn *conn, char *buf, size_t buflen, char *err, size_t errlen);

/* Exit code for a libsluice error (negative SLUICE_E_*) in a session. */
int cli_exit_for(int err);

#endif
