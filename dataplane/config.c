/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sess.h"
#include "tokens.h"

void
sluiced_usage(FILE *out)
{
	fprintf(out,
		"usage: sluiced [EAL options] -- [options]\n"
		"The sluice appliance: TLS producers and consumers, verified frames, queues.\n"
		"\n"
		"listening and TLS:\n"
		"  --listen ADDR:PORT        IPv4 address and port (default 127.0.0.1:7443)\n"
		"  --transport T             kernel (default): kernel TCP sockets; dpdk: the "
		"EAL's\n"
		"                            ethdev port with sluice's own TCP/IP stack\n"
		"  --ip ADDR/LEN             dpdk: the stack's IPv4 address and prefix (required)\n"
		"  --gateway ADDR            dpdk: next hop for off-link peers (default: none)\n"
		"  --port-id N               dpdk: ethdev port (default 0)\n"
		"  --mbufs N                 dpdk: packet buffers per NUMA socket (default 16383)\n"
		"  --cert FILE --key FILE    server certificate and key (PEM), required (with\n"
		"                            --ctld, or from ctld's listener section)\n"
		"  --client-ca FILE          CA for client certificates\n"
		"  --client-cert MODE        none (default), optional or required\n"
		"  --ticket-lifetime S       session ticket lifetime in s (default 3600, 0 = off)\n"
		"  --server-name NAME        sent in Welcome (default sluiced)\n"
		"\n"
		"who may connect (one of --ctld and --tokens is required):\n"
		"  --ctld PATH               sluice-ctld's dataplane_socket: ctld authenticates\n"
		"                            every session, sends the queues, principals, bans\n"
		"                            and ticket keys; sluiced never sees a token store.\n"
		"                            If ctld goes away, open sessions go on and new\n"
		"                            ones are refused Unavailable until it is back\n"
		"  --ctld-wait-ms N          how long to wait for ctld at start (30000)\n"
		"  --tokens FILE             standalone, without ctld: principals and SHA-256\n"
		"                            token hashes (format in dataplane/auth/tokens.h);\n"
		"                            SIGHUP reloads it: sessions of removed or changed\n"
		"                            principals end, a bad file changes nothing\n"
		"  --hash-token TOKEN        print the hash line field for TOKEN and exit\n"
		"\n"
		"queues (repeat --queue; with --ctld they come from ctld's configuration):\n"
		"  --queue NAME[,key=value...]\n"
		"      max_jobs=N (100000) max_bytes=N (268435456) max_in_flight=N (0: no limit)\n"
		"      rate=N jobs/s (0: no limit) burst=N max_attempts=N (5) lease_ms=N (30000)\n"
		"      ttl_ms=N (0: none) backoff_ms=N (1000) backoff_max_ms=N (300000)\n"
		"      dedup_ms=N (300000) max_payload=N content_types=a|b "
		"allow_code_serialization\n"
		"\n"
		"limits:\n"
		"  --max-frame-bytes N       (default %u)   --max-payload-bytes N (default %u)\n"
		"  --max-batch-jobs N        (default %u)   --max-unacked-batches N (default 16)\n"
		"  --handshake-timeout-ms N  (10000)  --hello-timeout-ms N (5000)\n"
		"  --idle-timeout-ms N       (60000)  --handshakes-per-poll N (8)\n"
		"  --max-conns N per I/O lcore (1024)  --max-jobs N held per worker (200000)\n"
		"  --job-mem-mb N            memory for job objects (256)\n"
		"  --drain-timeout-ms N      on SIGTERM/SIGINT (5000)\n",
		WIRE_FRAME_BYTES_DEFAULT, WIRE_PAYLOAD_BYTES_DEFAULT, WIRE_BATCH_JOBS_DEFAULT);
	/* Two calls: one string literal may not pass 4095 bytes (ISO C). */
	fprintf(out,
		"\n"
		"operator actions on queues (sluice admin --help):\n"
		"  --control-socket PATH     serve a local control socket (AF_UNIX seqpacket,\n"
		"                            created mode 0600, removed at exit; default: off;\n"
		"                            e.g. /run/sluiced/control.sock): list queues with\n"
		"                            their depths, pause, resume, purge, redrive dead\n"
		"                            letters. Peers with uid 0 or sluiced's uid only.\n"
		"\n"
		"lcores:\n"
		"  --io-lcores LIST          lcore ids polling connections (default: the first\n"
		"                            worker lcore of the EAL)\n"
		"  --workers N               worker lcores owning the queues, 1 to %d\n"
		"                            (default 1); queue i, in --queue order, is\n"
		"                            worker (i mod N)'s; consumers may span workers\n"
		"  --worker-lcores LIST      their lcore ids, one per worker (default: the\n"
		"                            last N; one may be an I/O lcore on small machines;\n"
		"                            --lcores 0@0,1@0,2@0 runs 2 workers on 1 CPU)\n"
		"  --worker-lcore ID         the same as --worker-lcores ID\n"
		"  -v, --verbose             log connection errors\n"
		"  -h, --help                this text\n"
		"\n"
		"exit status: 0 clean shutdown, 1 runtime failure, 2 bad configuration.\n",
		CFG_LCORES_MAX);
}

static int
parse_u32(const char *what, const char *s, uint64_t max, uint32_t *v, char *err, size_t errlen)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *s == '\0' || *end || *s == '-' || x > max) {
		snprintf(err, errlen, "%s: '%s' is not a number from 0 to %llu", what, s,
			 (unsigned long long)max);
		return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

static int
parse_listen(struct sluiced_cfg *cfg, const char *s, char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	struct in_addr in;
	uint32_t port;

	if (!colon || (size_t)(colon - s) >= sizeof(host)) {
		snprintf(err, errlen, "--listen: '%s' is not ADDR:PORT (e.g. 127.0.0.1:7443)", s);
		return -1;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (inet_pton(AF_INET, host, &in) != 1) {
		snprintf(err, errlen, "--listen: '%s' is not an IPv4 address", host);
		return -1;
	}
	if (parse_u32("--listen port", colon + 1, 65535, &port, err, errlen) || port == 0) {
		if (port == 0)
			snprintf(err, errlen, "--listen: port must be 1-65535");
		return -1;
	}
	cfg->listen_addr = in.s_addr;
	cfg->listen_port = htons((uint16_t)port);
	return 0;
}

int
sluiced_config_add_queue(struct sluiced_cfg *cfg, const char *spec, char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *tok;
	struct eng_queue_cfg *q;
	struct pol_queue *p;
	unsigned i;

	if (cfg->n_queues == CFG_QUEUES_MAX) {
		snprintf(err, errlen, "--queue: at most %d queues", CFG_QUEUES_MAX);
		return -1;
	}
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--queue: specification longer than %zu bytes",
			 sizeof(buf) - 1);
		return -1;
	}
	strcpy(buf, spec);
	q = &cfg->queue_cfg[cfg->n_queues];
	p = &cfg->queue_pol[cfg->n_queues];
	memset(p, 0, sizeof(*p));
	tok = strtok_r(buf, ",", &save);
	if (!tok || wire_check_name(tok, strlen(tok), WIRE_QUEUE_NAME_MAX)) {
		snprintf(err, errlen, "--queue '%s': the name must be 1-%u of [A-Za-z0-9_.:-]",
			 spec, WIRE_QUEUE_NAME_MAX);
		return -1;
	}
	for (i = 0; i < cfg->n_queues; i++) {
		if (!strcmp(cfg->queue_pol[i].name, tok)) {
			snprintf(err, errlen, "--queue '%s': defined twice", tok);
			return -1;
		}
	}
	strcpy(p->name, tok);
	*q = (struct eng_queue_cfg){
		.name = p->name,
		.max_jobs = 100000,
		.max_bytes = 256ull << 20,
		.max_attempts = 5,
		.lease_timeout_ms = 30000,
		.backoff_base_ms = 1000,
		.backoff_max_ms = 300000,
		.dedup_window_ms = 300000,
	};
	p->index = (uint16_t)cfg->n_queues;
	p->max_payload_bytes = WIRE_PAYLOAD_BYTES_CAP;
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		const char *key = tok, *val = eq ? eq + 1 : NULL;
		uint32_t v = 0;

		if (eq)
			*eq = '\0';
		if (!strcmp(key, "allow_code_serialization") && !val) {
			p->allow_code_serialization = true;
			continue;
		}
		if (!val) {
			snprintf(err, errlen, "--queue %s: '%s' needs a value (key=value)", p->name,
				 key);
			return -1;
		}
		if (!strcmp(key, "content_types")) {
			char *s2 = NULL, *ct;

			for (ct = strtok_r((char *)val, "|", &s2); ct;
			     ct = strtok_r(NULL, "|", &s2)) {
				if (p->n_ctypes == POL_CTYPES_MAX ||
				    wire_check_text(ct, strlen(ct), WIRE_CONTENT_TYPE_MAX) ||
				    !*ct) {
					snprintf(err, errlen,
						 "--queue %s: content_types: at most %u printable "
						 "types of at most %u bytes, separated by |",
						 p->name, POL_CTYPES_MAX, WIRE_CONTENT_TYPE_MAX);
					return -1;
				}
				strcpy(p->ctypes[p->n_ctypes++], ct);
			}
			continue;
		}
		if (parse_u32(key, val, UINT32_MAX, &v, err, errlen))
			return -1;
		if (!strcmp(key, "max_jobs") && v > 0)
			q->max_jobs = v;
		else if (!strcmp(key, "max_bytes") && v > 0)
			q->max_bytes = v;
		else if (!strcmp(key, "max_in_flight"))
			q->max_in_flight = v;
		else if (!strcmp(key, "rate"))
			q->dispatch_rate = v;
		else if (!strcmp(key, "burst"))
			q->dispatch_burst = v;
		else if (!strcmp(key, "max_attempts") && v >= 1 && v <= WIRE_ATTEMPTS_MAX)
			q->max_attempts = (uint16_t)v;
		else if (!strcmp(key, "lease_ms") && v > 0 && v <= WIRE_DURATION_MS_MAX)
			q->lease_timeout_ms = v;
		else if (!strcmp(key, "ttl_ms") && v <= WIRE_DURATION_MS_MAX)
			q->ttl_ms = v;
		else if (!strcmp(key, "backoff_ms"))
			q->backoff_base_ms = v;
		else if (!strcmp(key, "backoff_max_ms"))
			q->backoff_max_ms = v;
		else if (!strcmp(key, "dedup_ms"))
			q->dedup_window_ms = v;
		else if (!strcmp(key, "max_payload") && v <= WIRE_PAYLOAD_BYTES_CAP)
			p->max_payload_bytes = v;
		else {
			snprintf(err, errlen,
				 "--queue %s: '%s=%s' is not a known key or is out of range (see "
				 "--help)",
				 p->name, key, val);
			return -1;
		}
	}
	cfg->n_queues++;
	return 0;
}

/* A comma-separated list of lcore ids for option `what`; *n of them, each distinct. */
static int
parse_lcores(const char *what, const char *s, unsigned *ids, unsigned *n, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *tok;
	unsigned i;

	snprintf(buf, sizeof(buf), "%s", s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t v;

		if (*n == CFG_LCORES_MAX) {
			snprintf(err, errlen, "%s: at most %d", what, CFG_LCORES_MAX);
			return -1;
		}
		if (parse_u32(what, tok, 1023, &v, err, errlen))
			return -1;
		for (i = 0; i < *n; i++) {
			if (ids[i] == v) {
				snprintf(err, errlen, "%s: lcore %u listed twice", what, v);
				return -1;
			}
		}
		ids[(*n)++] = v;
	}
	return 0;
}

/* "A.B.C.D/LEN" into address and netmask (network order). */
static int
parse_prefix(const char *s, uint32_t *ip, uint32_t *mask)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	unsigned long len;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || len == 0 || len > 32 ||
	    inet_pton(AF_INET, buf, &a) != 1 || a.s_addr == 0)
		return -1;
	*ip = a.s_addr;
	*mask = htonl((uint32_t)(UINT64_C(0xffffffff) << (32 - len)));
	return 0;
}

int
sluiced_config_parse(struct sluiced_cfg *cfg, int argc, char **argv, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "transport", required_argument, NULL, 't' },
		{ "ip", required_argument, NULL, 40 },
		{ "gateway", required_argument, NULL, 41 },
		{ "port-id", required_argument, NULL, 42 },
		{ "mbufs", required_argument, NULL, 43 },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "client-ca", required_argument, NULL, 'A' },
		{ "client-cert", required_argument, NULL, 'C' },
		{ "ticket-lifetime", required_argument, NULL, 'L' },
		{ "server-name", required_argument, NULL, 'N' },
		{ "tokens", required_argument, NULL, 'T' },
		{ "hash-token", required_argument, NULL, 'H' },
		{ "queue", required_argument, NULL, 'q' },
		{ "max-frame-bytes", required_argument, NULL, 1 },
		{ "max-payload-bytes", required_argument, NULL, 2 },
		{ "max-batch-jobs", required_argument, NULL, 3 },
		{ "max-unacked-batches", required_argument, NULL, 4 },
		{ "handshake-timeout-ms", required_argument, NULL, 5 },
		{ "hello-timeout-ms", required_argument, NULL, 6 },
		{ "idle-timeout-ms", required_argument, NULL, 7 },
		{ "handshakes-per-poll", required_argument, NULL, 8 },
		{ "max-conns", required_argument, NULL, 9 },
		{ "max-jobs", required_argument, NULL, 10 },
		{ "job-mem-mb", required_argument, NULL, 11 },
		{ "drain-timeout-ms", required_argument, NULL, 12 },
		{ "io-lcores", required_argument, NULL, 13 },
		{ "worker-lcore", required_argument, NULL, 14 },
		{ "worker-lcores", required_argument, NULL, 14 },
		{ "workers", required_argument, NULL, 15 },
		{ "control-socket", required_argument, NULL, 60 },
		{ "ctld", required_argument, NULL, 61 },
		{ "ctld-wait-ms", required_argument, NULL, 62 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t v, workers = 0;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->transport = "kernel";
	cfg->mbufs = 16383;
	cfg->listen_addr = htonl(INADDR_LOOPBACK);
	cfg->listen_port = htons(7443);
	cfg->ticket_lifetime_s = 3600;
	cfg->server_name = "sluiced";
	cfg->max_frame_bytes = WIRE_FRAME_BYTES_DEFAULT;
	cfg->max_payload_bytes = WIRE_PAYLOAD_BYTES_DEFAULT;
	cfg->max_batch_jobs = WIRE_BATCH_JOBS_DEFAULT;
	cfg->max_unacked_batches = 16;
	cfg->handshake_timeout_ms = 10000;
	cfg->hello_timeout_ms = 5000;
	cfg->idle_timeout_ms = 60000;
	cfg->heartbeat_ms = 10000;
	cfg->handshakes_per_poll = 8;
	cfg->max_conns = 1024;
	cfg->max_jobs = 200000;
	cfg->dedup_entries = 262144;
	cfg->job_mem_mb = 256;
	cfg->drain_timeout_ms = 5000;
	cfg->ctld_wait_ms = 30000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			cfg->listen_given = true;
			if (parse_listen(cfg, optarg, err, errlen))
				return -1;
			break;
		case 't':
			if (strcmp(optarg, "kernel") == 0) {
				cfg->transport = "kernel";
			} else if (strcmp(optarg, "dpdk") == 0) {
				cfg->transport = "dpdk";
			} else {
				snprintf(err, errlen, "--transport %s: use kernel or dpdk", optarg);
				return -1;
			}
			break;
		case 40:
			if (parse_prefix(optarg, &cfg->ip, &cfg->netmask)) {
				snprintf(err, errlen,
					 "--ip %s: want an IPv4 address and prefix length, e.g. "
					 "198.18.0.2/24",
					 optarg);
				return -1;
			}
			break;
		case 41: {
			struct in_addr a;

			if (inet_pton(AF_INET, optarg, &a) != 1) {
				snprintf(err, errlen, "--gateway %s: not an IPv4 address", optarg);
				return -1;
			}
			cfg->gateway = a.s_addr;
			break;
		}
		case 42:
			if (parse_u32("--port-id", optarg, 1023, &v, err, errlen))
				return -1;
			cfg->port_id = (uint16_t)v;
			break;
		case 43:
			if (parse_u32("--mbufs", optarg, 4194303, &v, err, errlen))
				return -1;
			if (v < 1023) {
				snprintf(err, errlen, "--mbufs %s: at least 1023", optarg);
				return -1;
			}
			cfg->mbufs = v;
			break;
		case 'c':
			cfg->cert_file = optarg;
			break;
		case 'k':
			cfg->key_file = optarg;
			break;
		case 'A':
			cfg->client_ca_file = optarg;
			break;
		case 'C':
			cfg->client_cert_given = true;
			if (!strcmp(optarg, "none"))
				cfg->client_cert = TLS_CLIENT_CERT_NONE;
			else if (!strcmp(optarg, "optional"))
				cfg->client_cert = TLS_CLIENT_CERT_OPTIONAL;
			else if (!strcmp(optarg, "required"))
				cfg->client_cert = TLS_CLIENT_CERT_REQUIRED;
			else {
				snprintf(err, errlen,
					 "--client-cert %s: use none, optional or required",
					 optarg);
				return -1;
			}
			break;
		case 'L':
			if (parse_u32("--ticket-lifetime", optarg, 7 * 86400,
				      &cfg->ticket_lifetime_s, err, errlen))
				return -1;
			break;
		case 'N':
			if (wire_check_text(optarg, strlen(optarg), WIRE_CLIENT_NAME_MAX)) {
				snprintf(err, errlen, "--server-name: printable, at most %u bytes",
					 WIRE_CLIENT_NAME_MAX);
				return -1;
			}
			cfg->server_name = optarg;
			break;
		case 'T':
			cfg->tokens_file = optarg;
			break;
		case 'H': {
			uint8_t h[AUTH_HASH_BYTES];
			unsigned i;

			auth_hash((const uint8_t *)optarg, (uint32_t)strlen(optarg), h);
			for (i = 0; i < AUTH_HASH_BYTES; i++)
				printf("%02x", h[i]);
			printf("\n");
			return 1;
		}
		case 'q':
			if (sluiced_config_add_queue(cfg, optarg, err, errlen))
				return -1;
			break;
		case 1:
			if (parse_u32("--max-frame-bytes", optarg, WIRE_FRAME_BYTES_CAP,
				      &cfg->max_frame_bytes, err, errlen))
				return -1;
			break;
		case 2:
			if (parse_u32("--max-payload-bytes", optarg, WIRE_PAYLOAD_BYTES_CAP,
				      &cfg->max_payload_bytes, err, errlen))
				return -1;
			break;
		case 3:
			if (parse_u32("--max-batch-jobs", optarg, WIRE_BATCH_JOBS_CAP,
				      &cfg->max_batch_jobs, err, errlen))
				return -1;
			break;
		case 4:
			if (parse_u32("--max-unacked-batches", optarg, SESS_BATCHES_MAX, &v, err,
				      errlen) ||
			    v == 0) {
				if (v == 0)
					snprintf(err, errlen, "--max-unacked-batches: 1 to %d",
						 SESS_BATCHES_MAX);
				return -1;
			}
			cfg->max_unacked_batches = v;
			break;
		case 5:
			if (parse_u32("--handshake-timeout-ms", optarg, 600000,
				      &cfg->handshake_timeout_ms, err, errlen))
				return -1;
			break;
		case 6:
			if (parse_u32("--hello-timeout-ms", optarg, 600000, &cfg->hello_timeout_ms,
				      err, errlen))
				return -1;
			break;
		case 7:
			if (parse_u32("--idle-timeout-ms", optarg, 86400000, &cfg->idle_timeout_ms,
				      err, errlen))
				return -1;
			break;
		case 8:
			if (parse_u32("--handshakes-per-poll", optarg, 4096,
				      &cfg->handshakes_per_poll, err, errlen))
				return -1;
			break;
		case 9:
			if (parse_u32("--max-conns", optarg, 1u << 20, &cfg->max_conns, err,
				      errlen))
				return -1;
			break;
		case 10:
			if (parse_u32("--max-jobs", optarg, 1u << 26, &cfg->max_jobs, err, errlen))
				return -1;
			break;
		case 11:
			if (parse_u32("--job-mem-mb", optarg, 1u << 20, &cfg->job_mem_mb, err,
				      errlen))
				return -1;
			break;
		case 12:
			if (parse_u32("--drain-timeout-ms", optarg, 600000, &cfg->drain_timeout_ms,
				      err, errlen))
				return -1;
			break;
		case 13:
			if (parse_lcores("--io-lcores", optarg, cfg->io_lcores, &cfg->n_io, err,
					 errlen))
				return -1;
			cfg->roles_given = true;
			break;
		case 14:
			if (parse_lcores("--worker-lcores", optarg, cfg->worker_lcores,
					 &cfg->n_worker_lcores, err, errlen))
				return -1;
			cfg->roles_given = true;
			break;
		case 15:
			if (parse_u32("--workers", optarg, CFG_LCORES_MAX, &workers, err, errlen) ||
			    workers == 0) {
				snprintf(err, errlen,
					 "--workers %s: a number of worker lcores, 1 to %d", optarg,
					 CFG_LCORES_MAX);
				return -1;
			}
			break;
		case 60:
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "--control-socket: give a path");
				return -1;
			}
			cfg->control_socket = optarg;
			break;
		case 61:
			if (optarg[0] != '/') {
				snprintf(err, errlen,
					 "--ctld: give the absolute path of sluice-ctld's "
					 "dataplane_socket");
				return -1;
			}
			cfg->ctld_socket = optarg;
			break;
		case 62:
			if (parse_u32("--ctld-wait-ms", optarg, 3600000, &cfg->ctld_wait_ms, err,
				      errlen))
				return -1;
			break;
		case 'v':
			cfg->verbose = true;
			break;
		case 'h':
			sluiced_usage(stdout);
			return 1;
		default:
			snprintf(err, errlen, "unknown option (see --help)");
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	/* With --ctld they may come from ctld's listener section (sluiced_config_check_tls). */
	if (!cfg->ctld_socket && sluiced_config_check_tls(cfg, err, errlen))
		return -1;
	if (!cfg->tokens_file == !cfg->ctld_socket) {
		snprintf(err, errlen,
			 cfg->tokens_file
				 ? "--ctld and --tokens exclude each other: ctld "
				   "authenticates, or the token file does"
				 : "--ctld PATH (or, without sluice-ctld, --tokens FILE) is "
				   "required: who may connect");
		return -1;
	}
	if (cfg->ctld_socket && cfg->n_queues) {
		snprintf(err, errlen,
			 "--queue with --ctld: the queues come from sluice-ctld's configuration");
		return -1;
	}
	if (!cfg->ctld_socket && cfg->n_queues == 0) {
		snprintf(err, errlen, "at least one --queue is required");
		return -1;
	}
	if (cfg->max_frame_bytes < 64 * 1024) {
		snprintf(err, errlen, "--max-frame-bytes: at least 65536");
		return -1;
	}
	cfg->n_workers = workers ? workers : 1;
	if (cfg->n_worker_lcores) {
		if (workers && workers != cfg->n_worker_lcores) {
			snprintf(err, errlen,
				 "--workers %u but --worker-lcores lists %u lcores: give one "
				 "lcore per worker, or only one of the two options",
				 workers, cfg->n_worker_lcores);
			return -1;
		}
		cfg->n_workers = cfg->n_worker_lcores;
	}
	if (strcmp(cfg->transport, "dpdk") == 0) {
		if (cfg->ip == 0) {
			snprintf(err, errlen,
				 "--transport dpdk needs --ip ADDR/LEN: the address sluice's own "
				 "TCP/IP stack answers on");
			return -1;
		}
	} else if (cfg->ip != 0 || cfg->gateway != 0) {
		snprintf(err, errlen, "--ip and --gateway apply to --transport dpdk only");
		return -1;
	}
	return sluiced_config_check_listen(cfg, err, errlen);
}

int
sluiced_config_check_listen(struct sluiced_cfg *cfg, char *err, size_t errlen)
{
	if (strcmp(cfg->transport, "dpdk") != 0)
		return 0;
	if (cfg->listen_addr == htonl(INADDR_LOOPBACK))
		cfg->listen_addr = cfg->ip; /* the default --listen means "our port" */
	if (cfg->listen_addr != cfg->ip && cfg->listen_addr != 0) {
		snprintf(
			err, errlen,
			"the listen address: with --transport dpdk it must be --ip's (or 0.0.0.0)");
		return -1;
	}
	return 0;
}

int
sluiced_config_check_tls(const struct sluiced_cfg *cfg, char *err, size_t errlen)
{
	if (!cfg->cert_file || !cfg->key_file) {
		snprintf(err, errlen, "--cert and --key are required (the server's TLS identity)%s",
			 cfg->ctld_socket ? ", or a listener section in sluice-ctld's configuration"
					  : "");
		return -1;
	}
	return 0;
}
