/* SPDX-License-Identifier: BSD-3-Clause */
/* sluice CLI: option parsing, checks, help texts, exit codes (cli_opts.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opts.h"
#include "ctl.h"

#define EXIT_CODES                                                                                 \
	"exit status: 0 ok; 1 a job was refused or failed; 2 usage or configuration\n"             \
	"error; 3 connection, TLS, authentication or session error.\n"

#define CONN_HELP                                                                                  \
	"connection (flags override the environment):\n"                                           \
	"  --addr HOST[:PORT]      appliance address           SLUICE_ADDR (127.0.0.1:7443)\n"     \
	"  --ca FILE               CA of the appliance's cert  SLUICE_CA (required)\n"             \
	"  --server-name NAME      name in its certificate     SLUICE_SERVER_NAME (HOST)\n"        \
	"  --token TOKEN           API token                   SLUICE_TOKEN\n"                     \
	"  --token-file FILE       token from a file's first line  SLUICE_TOKEN_FILE\n"            \
	"                          (a file or the environment keeps it out of `ps`)\n"             \
	"  --cert FILE, --key FILE client certificate and key  SLUICE_CERT, SLUICE_KEY\n"          \
	"  --client-name NAME      shown to the operator (default sluice-cli)\n"                   \
	"  --connect-timeout DUR   TCP + TLS + hello (default 10s)  SLUICE_CONNECT_TIMEOUT\n"      \
	"  --timeout DUR           longest wait for an answer (default 30s)  SLUICE_TIMEOUT\n"     \
	"  --reconnect N           re-establish a lost session N times (default 3)\n"              \
	"  -v, --verbose           say what happens on stderr (never payload bytes)\n"             \
	"  -h, --help              this text\n"                                                    \
	"DUR is a number of ms or has a unit: 250ms, 10s, 5m, 2h, 1d.\n"

void
cli_usage_main(FILE *out)
{
	fprintf(out, "usage: sluice COMMAND [options]\n"
		     "Client of the sluice job-queue appliance (TLS, ALPN sluice/1).\n"
		     "\n"
		     "commands:\n"
		     "  enqueue   put jobs on a queue (payload from --payload, files or stdin)\n"
		     "  consume   lease jobs: print each as a JSON line, or run a command per job\n"
		     "  ping      check that the appliance answers, and how fast\n"
		     "  admin     operator actions on queues over sluiced's control socket:\n"
		     "            queues, pause, resume, purge, redrive (sluice admin --help)\n"
		     "  help CMD  the options of CMD (also: sluice CMD --help)\n"
		     "\n"
		     "Connection settings come from flags or SLUICE_ADDR, SLUICE_CA,\n"
		     "SLUICE_SERVER_NAME, SLUICE_TOKEN (or SLUICE_TOKEN_FILE), SLUICE_CERT,\n"
		     "SLUICE_KEY, SLUICE_TIMEOUT, SLUICE_CONNECT_TIMEOUT.\n"
		     "\n" EXIT_CODES);
}

static void
usage_enqueue(FILE *out)
{
	fprintf(out,
		"usage: sluice enqueue -q QUEUE -t TYPE [options] [--payload TEXT | --file F...]\n"
		"Put jobs on QUEUE. The payload is --payload, each --file (one job per file,\n"
		"'-' is stdin), or standard input when neither is given. Payload bytes are\n"
		"opaque to the appliance and never printed. Prints one line per job:\n"
		"  <job id> <status>          (Ok, Duplicate, QueueFull, Forbidden, ...)\n"
		"Each job gets a random 16-byte id, so a re-send after a lost connection is\n"
		"answered Duplicate (a success) instead of enqueueing twice.\n"
		"\n"
		"job:\n"
		"  -q, --queue NAME        queue (A-Z a-z 0-9 _ . : -, up to 64)\n"
		"  -t, --type NAME         job type (same charset, up to 128)\n"
		"  -p, --payload TEXT      payload given on the command line\n"
		"  -f, --file FILE         payload from FILE; repeat for more jobs; '-' = stdin\n"
		"  --content-type TEXT     e.g. application/json\n"
		"  --priority N            0..15, higher is leased first (default 0)\n"
		"  --delay DUR             not before now + DUR\n"
		"  --ttl DUR               drop the job if not accepted within DUR (<= 7d)\n"
		"  --max-attempts N        deliveries before dead-letter (<= 1000)\n"
		"  --lease-timeout DUR     lease per attempt (<= 7d)\n"
		"  --unique-key KEY        refuse while a live job holds KEY\n"
		"  --unique-ttl DUR        how long KEY is held\n"
		"  -H, --header KEY=VALUE  up to 16 headers\n"
		"  --id HEX32              explicit job id (32 hex digits) instead of a random "
		"one\n"
		"bulk:\n"
		"  -n, --count N           enqueue each payload N times, each with its own id\n"
		"  --batch N               at most N jobs per batch (default: the appliance's)\n"
		"  --linger DUR            wait up to DUR to fill a batch (default 5ms)\n"
		"  --window N              batches in flight without ack (default 16)\n"
		"  --quiet                 no per-job lines; refusals still go to stderr\n"
		"\n" CONN_HELP "\n" EXIT_CODES);
}

static void
usage_consume(FILE *out)
{
	fprintf(out,
		"usage: sluice consume -q QUEUE[:WEIGHT]... [options] [-- COMMAND [ARG...]]\n"
		"Lease jobs from the queues and settle each one:\n"
		"  without COMMAND  print each job as one line of JSON on stdout and complete it;\n"
		"                   the payload is in \"payload_base64\" (or \"payload\", --text)\n"
		"  with COMMAND     run COMMAND per job (no shell) with the payload on its stdin\n"
		"                   and SLUICE_JOB_ID, SLUICE_JOB_QUEUE, SLUICE_JOB_TYPE,\n"
		"                   SLUICE_JOB_ATTEMPT, SLUICE_LEASE_ID, SLUICE_JOB_CONTENT_TYPE\n"
		"                   in its environment; exit 0 completes the job, anything\n"
		"                   else fails it (retried later, or dead-lettered with --dead)\n"
		"Leases are extended while COMMAND runs. Ctrl-C finishes the current job and\n"
		"stops.\n"
		"\n"
		"  -q, --queue NAME[:W]    queue and weight 1..1000 (default 1); repeat, up to 16\n"
		"                          (the part after the last ':' is a weight if numeric)\n"
		"  --prefetch N            jobs leased ahead (default 16, at most --max)\n"
		"  -n, --max N             exit after N jobs (default: run until stopped)\n"
		"  --idle DUR              exit when no job came for DUR\n"
		"  --retry-delay DUR       retry a failed job after DUR (default: queue backoff)\n"
		"  --dead                  send failed jobs to the dead-letter set at once\n"
		"  --job-timeout DUR       kill COMMAND after DUR and fail the job\n"
		"  --text                  JSON: payload as a string when it is valid UTF-8\n"
		"\n" CONN_HELP "\n" EXIT_CODES
		"With COMMAND, a job whose command failed makes the exit status 1.\n");
}

static void
usage_ping(FILE *out)
{
	fprintf(out,
		"usage: sluice ping [options]\n"
		"Connect, say hello, send Ping and time the Pong. Prints the appliance's name,\n"
		"session id, limits and the round trip of each ping.\n"
		"\n"
		"  -n, --count N           pings to send (default 1)\n"
		"  --role ROLE             producer, consumer or both (default producer)\n"
		"\n" CONN_HELP "\n" EXIT_CODES);
}

static void
usage_admin(FILE *out)
{
	fprintf(out,
		"usage: sluice admin COMMAND [QUEUE] [options]\n"
		"Operator actions on sluiced's queues, over its local control socket (sluiced\n"
		"--control-socket PATH). Until sluice-ctld and its roles exist, only uid 0 and\n"
		"the uid sluiced runs as may use it.\n"
		"\n"
		"commands:\n"
		"  queues [QUEUE]          every queue (or one): state, depth by state (ready,\n"
		"                          delayed, retry-wait, leased, dead), bytes; --json adds\n"
		"                          the counters since sluiced started\n"
		"  pause QUEUE             stop leasing from QUEUE; enqueues are still accepted\n"
		"  resume QUEUE            lease from QUEUE again\n"
		"  purge QUEUE             drop every waiting job (ready, delayed, retry-wait);\n"
		"                          leased jobs and dead letters stay\n"
		"  redrive QUEUE [--max N] move dead letters back to ready, oldest first, each\n"
		"                          with its attempts starting again (default: all)\n"
		"\n"
		"options:\n"
		"  --control-socket PATH   sluiced's control socket  SLUICE_CONTROL_SOCKET\n"
		"                          (required: sluiced serves none by default)\n"
		"  --json                  one JSON object per line: a queue, or an action's\n"
		"                          result with the queue after it\n"
		"  --timeout DUR           longest wait for sluiced's answer (default 10s)\n"
		"  -h, --help              this text\n"
		"\n"
		"exit status: 0 done; 1 sluiced refused the request (no such queue, invalid\n"
		"request); 2 usage error; 3 cannot reach sluiced, not permitted, or an answer\n"
		"that is not a valid control message.\n");
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

int
cli_parse_duration(const char *s, uint64_t max_ms, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "ms", 1 },      { "s", 1000 },     { "m", 60000 },
		      { "h", 3600000 }, { "d", 86400000 }, { "", 1 } };
	unsigned long long x;
	char *end;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (x > max_ms / units[i].ms)
			return -1;
		*ms = x * units[i].ms;
		return 0;
	}
	return -1;
}

int
cli_parse_addr(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *hend;
	uint64_t p = SLUICE_DEFAULT_PORT;

	if (!s || !*s)
		return -1;
	if (*s == '[') {
		hend = strchr(s, ']');
		if (!hend || hend == s + 1)
			return -1;
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (!colon && hend[1])
			return -1;
		s++;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			return -1; /* a bare IPv6 address: write it as [addr]:port */
		hend = colon ? colon : s + strlen(s);
	}
	if (colon && cli_parse_uint(colon + 1, 1, 65535, &p))
		return -1;
	if (hend == s || (size_t)(hend - s) >= hostlen)
		return -1;
	memcpy(host, s, (size_t)(hend - s));
	host[hend - s] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int
cli_parse_queue_weight(const char *s, char *name, size_t namelen, uint16_t *weight)
{
	const char *colon = strrchr(s, ':');
	uint64_t w = 1;
	size_t l = strlen(s);

	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		if (cli_parse_uint(colon + 1, 1, 1000, &w))
			return -1;
		l = (size_t)(colon - s);
	}
	if (l == 0 || l >= namelen || l > 64)
		return -1;
	memcpy(name, s, l);
	name[l] = '\0';
	for (size_t i = 0; i < l; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' || ch == '-'))
			return -1;
	}
	*weight = (uint16_t)w;
	return 0;
}

int
cli_parse_header(const char *s, char *buf, size_t buflen, const char **key, const char **value)
{
	const char *eq = strchr(s, '=');
	size_t l = strlen(s);

	if (!eq || eq == s || l >= buflen)
		return -1;
	memcpy(buf, s, l + 1);
	buf[eq - s] = '\0';
	*key = buf;
	*value = buf + (eq - s) + 1;
	return 0;
}

/* ---- connection options ---- */

enum {
	O_ADDR = 256,
	O_CA,
	O_SERVER_NAME,
	O_TOKEN,
	O_TOKEN_FILE,
	O_CERT,
	O_KEY,
	O_CLIENT_NAME,
	O_CONNECT_TIMEOUT,
	O_TIMEOUT,
	O_RECONNECT,
	O_CONTENT_TYPE,
	O_PRIORITY,
	O_DELAY,
	O_TTL,
	O_MAX_ATTEMPTS,
	O_LEASE_TIMEOUT,
	O_UNIQUE_KEY,
	O_UNIQUE_TTL,
	O_ID,
	O_BATCH,
	O_LINGER,
	O_WINDOW,
	O_QUIET,
	O_PREFETCH,
	O_IDLE,
	O_RETRY_DELAY,
	O_DEAD,
	O_TEXT,
	O_JOB_TIMEOUT,
	O_ROLE,
	O_CONTROL_SOCKET,
	O_JSON,
	O_MAX,
};

#define CONN_LONGOPTS                                                                              \
	{ "addr", required_argument, NULL, O_ADDR }, { "ca", required_argument, NULL, O_CA },      \
		{ "server-name", required_argument, NULL, O_SERVER_NAME },                         \
		{ "token", required_argument, NULL, O_TOKEN },                                     \
		{ "token-file", required_argument, NULL, O_TOKEN_FILE },                           \
		{ "cert", required_argument, NULL, O_CERT },                                       \
		{ "key", required_argument, NULL, O_KEY },                                         \
		{ "client-name", required_argument, NULL, O_CLIENT_NAME },                         \
		{ "connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT },                 \
		{ "timeout", required_argument, NULL, O_TIMEOUT },                                 \
		{ "reconnect", required_argument, NULL, O_RECONNECT },                             \
		{ "verbose", no_argument, NULL, 'v' },                                             \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

static int
set_timeout(const char *what, const char *s, uint32_t *ms, char *err, size_t errlen)
{
	uint64_t v;

	if (cli_parse_duration(s, 86400000, &v) || v == 0)
		return fail(err, errlen, "%s: '%s' is not a duration from 1ms to 1d (e.g. 10s)",
			    what, s);
	*ms = (uint32_t)v;
	return 0;
}

static int
set_addr(const char *what, const char *s, struct cli_conn *c, char *err, size_t errlen)
{
	if (cli_parse_addr(s, c->host, sizeof(c->host), &c->port))
		return fail(err, errlen,
			    "%s: '%s' is not HOST, HOST:PORT or [IPv6]:PORT (port 1..65535)", what,
			    s);
	return 0;
}

static int
conn_from_env(struct cli_conn *c, cli_getenv_fn env, char *err, size_t errlen)
{
	const char *v;

	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "%s", CLI_DEFAULT_ADDR);
	c->port = SLUICE_DEFAULT_PORT;
	c->connect_timeout_ms = 10000;
	c->timeout_ms = 30000;
	c->reconnect = 3;
	c->client_name = "sluice-cli";
	if ((v = env("SLUICE_ADDR")) && *v && set_addr("SLUICE_ADDR", v, c, err, errlen))
		return -1;
	if ((v = env("SLUICE_CA")) && *v)
		c->ca_file = v;
	if ((v = env("SLUICE_SERVER_NAME")) && *v)
		c->server_name = v;
	if ((v = env("SLUICE_TOKEN_FILE")) && *v)
		c->token_file = v;
	if ((v = env("SLUICE_TOKEN")) && *v) {
		c->token = v;
		c->token_file = NULL;
	}
	if ((v = env("SLUICE_CERT")) && *v)
		c->cert_file = v;
	if ((v = env("SLUICE_KEY")) && *v)
		c->key_file = v;
	if ((v = env("SLUICE_TIMEOUT")) && *v &&
	    set_timeout("SLUICE_TIMEOUT", v, &c->timeout_ms, err, errlen))
		return -1;
	if ((v = env("SLUICE_CONNECT_TIMEOUT")) && *v &&
	    set_timeout("SLUICE_CONNECT_TIMEOUT", v, &c->connect_timeout_ms, err, errlen))
		return -1;
	return 0;
}

/* One connection option; 1 when opt is not one of them. */
static int
conn_opt(struct cli_conn *c, int opt, const char *arg, char *err, size_t errlen)
{
	uint64_t v;

	switch (opt) {
	case O_ADDR:
		return set_addr("--addr", arg, c, err, errlen);
	case O_CA:
		c->ca_file = arg;
		return 0;
	case O_SERVER_NAME:
		c->server_name = arg;
		return 0;
	case O_TOKEN:
		c->token = arg;
		c->token_file = NULL;
		return 0;
	case O_TOKEN_FILE:
		c->token_file = arg;
		c->token = NULL;
		return 0;
	case O_CERT:
		c->cert_file = arg;
		return 0;
	case O_KEY:
		c->key_file = arg;
		return 0;
	case O_CLIENT_NAME:
		c->client_name = arg;
		return 0;
	case O_CONNECT_TIMEOUT:
		return set_timeout("--connect-timeout", arg, &c->connect_timeout_ms, err, errlen);
	case O_TIMEOUT:
		return set_timeout("--timeout", arg, &c->timeout_ms, err, errlen);
	case O_RECONNECT:
		if (cli_parse_uint(arg, 0, 100, &v))
			return fail(err, errlen, "--reconnect: '%s' is not a number from 0 to 100",
				    arg);
		c->reconnect = (uint32_t)v;
		return 0;
	case 'v':
		c->verbose = true;
		return 0;
	default:
		return 1;
	}
}

static int
conn_finish(struct cli_conn *c, char *err, size_t errlen)
{
	if (!c->ca_file)
		return fail(err, errlen,
			    "no CA file: give --ca FILE or set SLUICE_CA (the CA that signed the "
			    "appliance's certificate)");
	if (!c->cert_file != !c->key_file)
		return fail(err, errlen, "a client certificate needs both --cert and --key");
	if (c->token && strlen(c->token) > 256)
		return fail(err, errlen, "the token is longer than 256 bytes");
	if (strlen(c->client_name) > 64)
		return fail(err, errlen, "--client-name is longer than 64 bytes");
	for (const char *p = c->client_name; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return fail(err, errlen, "--client-name must be printable ASCII");
	return 0;
}

/* Shared tail of getopt handling: unknown options and missing arguments. */
static int
getopt_error(const char *cmd, int opt, char **argv, char *err, size_t errlen)
{
	if (opt == ':')
		return fail(err, errlen, "%s: %s needs a value (see sluice %s --help)", cmd,
			    argv[optind - 1], cmd);
	return fail(err, errlen, "%s: unknown option %s (see sluice %s --help)", cmd,
		    argv[optind - 1], cmd);
}

static int
num_opt(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *v, char *err,
	size_t errlen)
{
	if (cli_parse_uint(arg, min, max, v))
		return fail(err, errlen, "%s: '%s' is not a number from %llu to %llu", name, arg,
			    (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int
dur_opt(const char *name, const char *arg, uint64_t max, uint64_t *v, char *err, size_t errlen)
{
	if (cli_parse_duration(arg, max, v))
		return fail(err, errlen,
			    "%s: '%s' is not a duration up to %llu ms (e.g. 500ms, 30s, 2h, 1d)",
			    name, arg, (unsigned long long)max);
	return 0;
}

/* ---- enqueue ---- */

struct sluice_job
cli_enqueue_job(const struct cli_enqueue *o)
{
	struct sluice_job j = {
		.queue = o->queue,
		.type = o->type,
		.content_type = o->content_type,
		.priority = o->priority,
		.ttl_ms = o->ttl_ms,
		.max_attempts = o->max_attempts,
		.lease_timeout_ms = o->lease_timeout_ms,
		.unique_key = o->unique_key,
		.unique_ttl_ms = o->unique_ttl_ms,
		.headers = o->headers,
		.n_headers = o->n_headers,
	};

	return j;
}

int
cli_parse_enqueue(int argc, char **argv, cli_getenv_fn env, struct cli_enqueue *o, FILE *out,
		  char *err, size_t errlen)
{
	static const struct option longopts[] = {
		CONN_LONGOPTS,
		{ "queue", required_argument, NULL, 'q' },
		{ "type", required_argument, NULL, 't' },
		{ "payload", required_argument, NULL, 'p' },
		{ "file", required_argument, NULL, 'f' },
		{ "content-type", required_argument, NULL, O_CONTENT_TYPE },
		{ "priority", required_argument, NULL, O_PRIORITY },
		{ "delay", required_argument, NULL, O_DELAY },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "max-attempts", required_argument, NULL, O_MAX_ATTEMPTS },
		{ "lease-timeout", required_argument, NULL, O_LEASE_TIMEOUT },
		{ "unique-key", required_argument, NULL, O_UNIQUE_KEY },
		{ "unique-ttl", required_argument, NULL, O_UNIQUE_TTL },
		{ "header", required_argument, NULL, 'H' },
		{ "id", required_argument, NULL, O_ID },
		{ "count", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "linger", required_argument, NULL, O_LINGER },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ NULL, 0, NULL, 0 },
	};
	struct sluice_job probe;
	uint64_t v;
	int opt, rc;

	memset(o, 0, sizeof(*o));
	if (conn_from_env(&o->conn, env, err, errlen))
		return -1;
	o->count = 1;
	o->linger_ms = 5;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:q:t:p:f:H:n:vh", longopts, NULL)) != -1) {
		rc = conn_opt(&o->conn, opt, optarg, err, errlen);
		if (rc <= 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		switch (opt) {
		case 'h':
			usage_enqueue(out);
			return 1;
		case 'q':
			o->queue = optarg;
			break;
		case 't':
			o->type = optarg;
			break;
		case 'p':
			if (o->payload)
				return fail(err, errlen, "enqueue: --payload given twice");
			o->payload = optarg;
			break;
		case 'f':
			if (o->n_files == CLI_MAX_FILES)
				return fail(err, errlen, "enqueue: at most %d --file",
					    CLI_MAX_FILES);
			o->files[o->n_files++] = optarg;
			break;
		case O_CONTENT_TYPE:
			o->content_type = optarg;
			break;
		case O_PRIORITY:
			if (num_opt("--priority", optarg, 0, 15, &v, err, errlen))
				return -1;
			o->priority = (uint8_t)v;
			break;
		case O_DELAY:
			if (dur_opt("--delay", optarg, CLI_MAX_DURATION_MS * 52, &o->delay_ms, err,
				    errlen))
				return -1;
			break;
		case O_TTL:
			if (dur_opt("--ttl", optarg, CLI_MAX_DURATION_MS, &v, err, errlen))
				return -1;
			o->ttl_ms = (uint32_t)v;
			break;
		case O_MAX_ATTEMPTS:
			if (num_opt("--max-attempts", optarg, 1, 1000, &v, err, errlen))
				return -1;
			o->max_attempts = (uint16_t)v;
			break;
		case O_LEASE_TIMEOUT:
			if (dur_opt("--lease-timeout", optarg, CLI_MAX_DURATION_MS, &v, err,
				    errlen))
				return -1;
			o->lease_timeout_ms = (uint32_t)v;
			break;
		case O_UNIQUE_KEY:
			o->unique_key = optarg;
			break;
		case O_UNIQUE_TTL:
			if (dur_opt("--unique-ttl", optarg, CLI_MAX_DURATION_MS, &v, err, errlen))
				return -1;
			o->unique_ttl_ms = (uint32_t)v;
			break;
		case 'H':
			if (o->n_headers == 16)
				return fail(err, errlen, "enqueue: at most 16 --header");
			if (cli_parse_header(
				    optarg, o->header_buf[o->n_headers], sizeof(o->header_buf[0]),
				    &o->headers[o->n_headers].key, &o->headers[o->n_headers].value))
				return fail(err, errlen,
					    "--header: '%s' is not KEY=VALUE (key up to 64, value "
					    "up to 256 bytes)",
					    optarg);
			o->n_headers++;
			break;
		case O_ID:
			if (sluice_id_parse(optarg, &o->id))
				return fail(err, errlen,
					    "--id: '%s' is not 32 hex digits (and not all zero)",
					    optarg);
			o->has_id = true;
			break;
		case 'n':
			if (num_opt("--count", optarg, 1, 1000000000, &o->count, err, errlen))
				return -1;
			break;
		case O_BATCH:
			if (num_opt("--batch", optarg, 1, 4096, &v, err, errlen))
				return -1;
			o->batch = (uint32_t)v;
			break;
		case O_LINGER:
			if (dur_opt("--linger", optarg, 10000, &v, err, errlen))
				return -1;
			o->linger_ms = (uint32_t)v;
			break;
		case O_WINDOW:
			if (num_opt("--window", optarg, 1, 1024, &v, err, errlen))
				return -1;
			o->window = (uint32_t)v;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		default:
			return getopt_error("enqueue", opt, argv, err, errlen);
		}
	}
	if (optind < argc)
		return fail(
			err, errlen,
			"enqueue: unexpected argument '%s' (payloads go in --payload or --file)",
			argv[optind]);
	if (!o->queue || !o->type)
		return fail(err, errlen, "enqueue: --queue and --type are required");
	if (o->payload && o->n_files)
		return fail(err, errlen, "enqueue: give --payload or --file, not both");
	o->from_stdin = !o->payload && !o->n_files;
	if ((o->has_id || o->unique_key) && (o->count > 1 || o->n_files > 1))
		return fail(err, errlen,
			    "enqueue: --id and --unique-key name one job; they cannot go with "
			    "--count > 1 or several --file");
	/* The job's fields are checked now, so a typo costs no connection. */
	probe = cli_enqueue_job(o);
	if (sluice_job_check(&probe, err, errlen))
		return -1;
	return conn_finish(&o->conn, err, errlen);
}

/* ---- consume ---- */

int
cli_parse_consume(int argc, char **argv, cli_getenv_fn env, struct cli_consume *o, FILE *out,
		  char *err, size_t errlen)
{
	static const struct option longopts[] = {
		CONN_LONGOPTS,
		{ "queue", required_argument, NULL, 'q' },
		{ "prefetch", required_argument, NULL, O_PREFETCH },
		{ "max", required_argument, NULL, 'n' },
		{ "idle", required_argument, NULL, O_IDLE },
		{ "retry-delay", required_argument, NULL, O_RETRY_DELAY },
		{ "dead", no_argument, NULL, O_DEAD },
		{ "text", no_argument, NULL, O_TEXT },
		{ "job-timeout", required_argument, NULL, O_JOB_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int opt, rc;

	memset(o, 0, sizeof(*o));
	if (conn_from_env(&o->conn, env, err, errlen))
		return -1;
	o->prefetch = 16;
	o->idle_ms = -1;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:q:n:vh", longopts, NULL)) != -1) {
		rc = conn_opt(&o->conn, opt, optarg, err, errlen);
		if (rc <= 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		switch (opt) {
		case 'h':
			usage_consume(out);
			return 1;
		case 'q':
			if (o->n_queues == 16)
				return fail(err, errlen, "consume: at most 16 --queue");
			if (cli_parse_queue_weight(optarg, o->queue_buf[o->n_queues],
						   sizeof(o->queue_buf[0]),
						   &o->queues[o->n_queues].weight))
				return fail(err, errlen,
					    "--queue: '%s' is not NAME or NAME:WEIGHT (name: 1..64 "
					    "of A-Z a-z 0-9 _ . : -, weight 1..1000)",
					    optarg);
			o->queues[o->n_queues].queue = o->queue_buf[o->n_queues];
			o->n_queues++;
			break;
		case O_PREFETCH:
			if (num_opt("--prefetch", optarg, 1, 65536, &v, err, errlen))
				return -1;
			o->prefetch = (uint32_t)v;
			break;
		case 'n':
			if (num_opt("--max", optarg, 1, UINT64_MAX, &o->max_jobs, err, errlen))
				return -1;
			break;
		case O_IDLE:
			if (dur_opt("--idle", optarg, 86400000, &v, err, errlen))
				return -1;
			o->idle_ms = (int64_t)v;
			break;
		case O_RETRY_DELAY:
			if (dur_opt("--retry-delay", optarg, CLI_MAX_DURATION_MS, &v, err, errlen))
				return -1;
			o->retry_delay_ms = (uint32_t)v;
			break;
		case O_DEAD:
			o->dead = true;
			break;
		case O_TEXT:
			o->text = true;
			break;
		case O_JOB_TIMEOUT:
			if (dur_opt("--job-timeout", optarg, CLI_MAX_DURATION_MS, &v, err,
				    errlen) ||
			    v == 0)
				return v == 0 ? fail(err, errlen, "--job-timeout must be above 0")
					      : -1;
			o->job_timeout_ms = (uint32_t)v;
			break;
		default:
			return getopt_error("consume", opt, argv, err, errlen);
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") != 0)
			return fail(err, errlen,
				    "consume: unexpected argument '%s' (a command goes after --)",
				    argv[optind]);
		o->command = argv + optind;
	} else if (optind > 0 && optind <= argc && strcmp(argv[optind - 1], "--") == 0) {
		return fail(err, errlen, "consume: no command after --");
	}
	if (!o->n_queues)
		return fail(err, errlen, "consume: give at least one --queue NAME[:WEIGHT]");
	if (o->job_timeout_ms && !o->command)
		return fail(err, errlen, "consume: --job-timeout needs a command after --");
	if (o->max_jobs && o->prefetch > o->max_jobs)
		o->prefetch = (uint32_t)o->max_jobs; /* do not lease what will not be handled */
	return conn_finish(&o->conn, err, errlen);
}

/* ---- ping ---- */

int
cli_parse_ping(int argc, char **argv, cli_getenv_fn env, struct cli_ping *o, FILE *out, char *err,
	       size_t errlen)
{
	static const struct option longopts[] = {
		CONN_LONGOPTS,
		{ "count", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, O_ROLE },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int opt, rc;

	memset(o, 0, sizeof(*o));
	if (conn_from_env(&o->conn, env, err, errlen))
		return -1;
	o->count = 1;
	o->role = SLUICE_PRODUCER;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:n:vh", longopts, NULL)) != -1) {
		rc = conn_opt(&o->conn, opt, optarg, err, errlen);
		if (rc <= 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		switch (opt) {
		case 'h':
			usage_ping(out);
			return 1;
		case 'n':
			if (num_opt("--count", optarg, 1, 1000000, &v, err, errlen))
				return -1;
			o->count = (uint32_t)v;
			break;
		case O_ROLE:
			if (strcmp(optarg, "producer") == 0)
				o->role = SLUICE_PRODUCER;
			else if (strcmp(optarg, "consumer") == 0)
				o->role = SLUICE_CONSUMER;
			else if (strcmp(optarg, "both") == 0)
				o->role = SLUICE_BOTH;
			else
				return fail(err, errlen,
					    "--role: '%s' is not producer, consumer or both",
					    optarg);
			break;
		default:
			return getopt_error("ping", opt, argv, err, errlen);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "ping: unexpected argument '%s'", argv[optind]);
	return conn_finish(&o->conn, err, errlen);
}

/* ---- admin ---- */

int
cli_parse_admin(int argc, char **argv, cli_getenv_fn env, struct cli_admin *o, FILE *out, char *err,
		size_t errlen)
{
	static const struct option longopts[] = {
		{ "control-socket", required_argument, NULL, O_CONTROL_SOCKET },
		{ "json", no_argument, NULL, O_JSON },
		{ "max", required_argument, NULL, O_MAX },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cmds[] = {
		[CLI_ADMIN_QUEUES] = "queues",   [CLI_ADMIN_PAUSE] = "pause",
		[CLI_ADMIN_RESUME] = "resume",   [CLI_ADMIN_PURGE] = "purge",
		[CLI_ADMIN_REDRIVE] = "redrive",
	};
	const char *v, *words[2];
	unsigned n_words = 0, c;
	bool max_given = false;
	uint64_t x;
	int opt;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 10000;
	if ((v = env("SLUICE_CONTROL_SOCKET")) && *v)
		o->socket = v;
	optind = 0;
	opterr = 0;
	/* Options may come before or after the command and its queue. */
	while (optind < argc) {
		opt = getopt_long(argc, argv, "-:h", longopts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 1: /* a word: the command, then the queue */
			if (n_words == 2)
				return fail(err, errlen, "admin: unexpected argument '%s'", optarg);
			words[n_words++] = optarg;
			break;
		case 'h':
			usage_admin(out);
			return 1;
		case O_CONTROL_SOCKET:
			o->socket = optarg;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_MAX:
			if (num_opt("--max", optarg, 1, CTL_REDRIVE_MAX, &x, err, errlen))
				return -1;
			o->max = (uint32_t)x;
			max_given = true;
			break;
		case O_TIMEOUT:
			if (set_timeout("--timeout", optarg, &o->timeout_ms, err, errlen))
				return -1;
			break;
		default:
			return getopt_error("admin", opt, argv, err, errlen);
		}
	}
	for (; optind < argc; optind++) { /* after "--" */
		if (n_words == 2)
			return fail(err, errlen, "admin: unexpected argument '%s'", argv[optind]);
		words[n_words++] = argv[optind];
	}
	if (n_words == 0)
		return fail(err, errlen,
			    "admin: give a command: queues, pause, resume, purge or redrive (see "
			    "sluice admin --help)");
	for (c = CLI_ADMIN_QUEUES; c <= CLI_ADMIN_REDRIVE; c++)
		if (strcmp(words[0], cmds[c]) == 0)
			o->cmd = (enum cli_admin_cmd)c;
	if (!o->cmd)
		return fail(err, errlen,
			    "admin: unknown command '%s' (queues, pause, resume, purge, redrive)",
			    words[0]);
	if (n_words == 2)
		o->queue = words[1];
	if (!o->queue && o->cmd != CLI_ADMIN_QUEUES)
		return fail(err, errlen, "admin %s: which queue? (sluice admin %s QUEUE)", words[0],
			    words[0]);
	if (o->queue && wire_check_name(o->queue, strlen(o->queue), WIRE_QUEUE_NAME_MAX))
		return fail(err, errlen,
			    "admin %s: '%s' is not a queue name (1..64 of A-Z a-z 0-9 _ . : -)",
			    words[0], o->queue);
	if (max_given && o->cmd != CLI_ADMIN_REDRIVE)
		return fail(err, errlen, "admin %s: --max applies to redrive only", words[0]);
	if (!o->socket)
		return fail(err, errlen,
			    "admin: no control socket: give --control-socket PATH or set "
			    "SLUICE_CONTROL_SOCKET (sluiced --control-socket PATH serves it)");
	return 0;
}

void
cli_conn_config(const struct cli_conn *conn, enum sluice_role role, struct sluice_config *cfg)
{
	sluice_config_init(cfg);
	cfg->host = conn->host;
	cfg->port = conn->port;
	cfg->ca_file = conn->ca_file;
	cfg->server_name = conn->server_name;
	cfg->cert_file = conn->cert_file;
	cfg->key_file = conn->key_file;
	cfg->token = conn->token;
	cfg->client_name = conn->client_name;
	cfg->role = role;
	cfg->connect_timeout_ms = conn->connect_timeout_ms;
	cfg->io_timeout_ms = conn->timeout_ms;
	cfg->reconnect_attempts = conn->reconnect;
	cfg->reconnect_backoff_ms = 200;
}

int
cli_load_token(struct cli_conn *conn, char *buf, size_t buflen, char *err, size_t errlen)
{
	FILE *f;
	size_t l;

	if (conn->token || !conn->token_file)
		return 0;
	f = fopen(conn->token_file, "r");
	if (!f)
		return fail(err, errlen, "token file %s: %s", conn->token_file, strerror(errno));
	if (!fgets(buf, (int)buflen, f)) {
		fclose(f);
		return fail(err, errlen, "token file %s is empty", conn->token_file);
	}
	fclose(f);
	l = strlen(buf);
	while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
		buf[--l] = '\0';
	if (l == 0 || l > 256)
		return fail(err, errlen, "token file %s: the first line must hold 1..256 bytes",
			    conn->token_file);
	conn->token = buf;
	return 0;
}

int
cli_exit_for(int err)
{
	switch (-err) {
	case SLUICE_OK:
	case SLUICE_E_STOPPED:
		return CLI_EXIT_OK;
	case SLUICE_E_INVALID:
	case SLUICE_E_TOO_LARGE:
		return CLI_EXIT_JOB; /* a job this session cannot take */
	default:
		/* RESOLVE CONNECT TLS TIMEOUT CLOSED PROTOCOL REFUSED STATE NOMEM REENTRANT */
		return CLI_EXIT_CONN;
	}
}
