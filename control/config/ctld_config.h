/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-ctld's configuration: one YAML file, read with libyaml and checked
 * against a schema declared as tables (ctld_config.c), the way libcyaml
 * declares one (libcyaml itself is not packaged by Debian 12). Loading is
 * all or nothing: the whole file is parsed and validated before anything is
 * returned, and every error names file:line:column, what is wrong and what
 * would be valid, e.g.
 *
 *   ctld.yaml:14:17: principals[1].role: 'writer' is not a role; valid:
 *   producer, consumer, both
 *
 * The file, with defaults (README "Control plane" has a commented example):
 *
 *   ctld:
 *     dataplane_socket: /run/sluice/ctld.sock  # sluiced --ctld connects here
 *     dataplane_uids: [0]             # SO_PEERCRED uids allowed on it ([0])
 *     operator_socket: /run/sluice/ctl.sock    # sluicectl connects here
 *     state_dir: /var/lib/sluice      # tokens made at run time (required)
 *     audit_log: /var/log/sluice/audit.jsonl   # (required)
 *   listener:                         # optional section: what sluiced listens on and
 *     address: 0.0.0.0:7443           #   presents (else sluiced's --listen/--cert/...);
 *     cert: /etc/sluice/server.pem    #   taken when sluiced starts (required)
 *     key: /etc/sluice/server.key     #   read by sluiced, never by ctld (required)
 *     client_ca: /etc/sluice/ca.pem   # optional: verifies client certificates
 *     client_cert: none               # none, optional or required (needs client_ca)
 *   metrics:                          # optional section: no section, no endpoint
 *     listen: 127.0.0.1:9464          # IPv4 address:port (127.0.0.1:9464)
 *     bearer_token_sha256: <64 hex>   # SHA-256 of the scrape token (required)
 *   auth:
 *     throttle_failures: 5            # failures per address per window before
 *     throttle_window_s: 60           #   answers are delayed (5, 60)
 *     ban_failures: 20                # failures per address per window that ban
 *     ban_window_s: 300               #   it (20, 300)
 *     ban_s: 900                      # how long a ban lasts (900)
 *   tickets:
 *     rotate_s: 3600                  # new session-ticket key this often (3600)
 *     lifetime_s: 7200                # a ticket is accepted this long (7200)
 *   operators:                        # who may use sluicectl (uid 0: admin, always)
 *     - uid: 1000                     # exactly one of uid, gid
 *       role: operator                # admin, operator or viewer
 *   queues:                           # 1..256; the keys of sluiced --queue
 *     - name: emails                  # [A-Za-z0-9_.:-], 1..64 bytes, unique
 *       max_jobs: 100000              # every key optional, defaults as --queue
 *       max_bytes: 268435456
 *       max_in_flight: 0
 *       rate: 0
 *       burst: 0
 *       max_attempts: 5
 *       lease_ms: 30000
 *       ttl_ms: 0
 *       backoff_ms: 1000
 *       backoff_max_ms: 300000
 *       dedup_ms: 300000
 *       max_payload: 262144
 *       content_types: [application/json]      # 0..16; empty: any
 *       allow_code_serialization: false         # pickle, Java, Marshal, .NET
 *   principals:                       # 0..1024
 *     - name: web                     # [A-Za-z0-9_.:-], 1..64 bytes, unique
 *       role: producer                # producer, consumer or both
 *       queues: ["emails", "billing.*"]         # 1..16 globs ('*' = any run)
 *       job_types: ["*"]              # 1..32; ["*"]: any (default ["*"])
 *       max_payload: 262144           # bytes (262144)
 *       max_priority: 15              # 0..15 (15)
 *       jobs_per_s: 0                 # 0: no limit (0)
 *       jobs_burst: 0                 # 0: one second's worth (0)
 *       bytes_per_s: 0                # 0: no limit (0)
 *       bytes_burst: 0                # 0: one second's worth (0)
 *       max_connections: 0            # at once, across I/O lcores; 0: no limit
 *       tokens:                       # 0..16, provisioned (sluicectl makes more)
 *         - id: 3fa9c2d1e0b4          # 12 lowercase hex, unique in the file
 *           sha256: <64 lowercase hex>          # SHA-256 of the whole token
 *           expires: 2027-01-01T00:00:00Z       # optional, UTC, RFC 3339 'Z' form
 *       certificates:                 # 0..16 client certificates naming it (a Hello
 *         - sha256: <64 hex>          #   without a token): exactly one of sha256 (of
 *         - subject: "CN=producer-1"  #   the DER bytes) and subject (as mbedTLS
 *                                     #   prints it, printable ASCII, 1..256 bytes);
 *                                     #   unique across principals
 *
 * Unknown keys, duplicate keys, wrong types, out-of-range numbers, missing
 * required keys, anchors/aliases/tags and multiple documents are errors.
 */
#ifndef SLUICE_CTLD_CONFIG_H
#define SLUICE_CTLD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CCFG_NAME_MAX 64
#define CCFG_PATH_MAX 107 /* sun_path - 1 for sockets; files use the same bound */
#define CCFG_QUEUES_MAX 256
#define CCFG_PRINCIPALS_MAX 1024
#define CCFG_GLOBS_MAX 16
#define CCFG_TYPES_MAX 32
#define CCFG_TYPE_MAX 128 /* job type name bytes (WIRE_TYPE_NAME_MAX) */
#define CCFG_CTYPES_MAX 16
#define CCFG_CTYPE_MAX 128 /* content type bytes (WIRE_CONTENT_TYPE_MAX) */
#define CCFG_TOKENS_MAX 16
#define CCFG_CERTS_MAX 16
#define CCFG_SUBJECT_MAX 256
#define CCFG_OPERATORS_MAX 64
#define CCFG_UIDS_MAX 8
#define CCFG_TOKEN_ID_LEN 12
#define CCFG_FILE_BYTES_MAX (4u << 20) /* a larger file is refused */

enum ccfg_role { CCFG_ROLE_PRODUCER = 1, CCFG_ROLE_CONSUMER = 2, CCFG_ROLE_BOTH = 3 };
enum ccfg_op_role { CCFG_OP_VIEWER = 1, CCFG_OP_OPERATOR = 2, CCFG_OP_ADMIN = 3 };
/* The values of sluiced --client-cert (enum tls_client_cert). */
enum ccfg_client_cert {
	CCFG_CLIENT_CERT_NONE,
	CCFG_CLIENT_CERT_OPTIONAL,
	CCFG_CLIENT_CERT_REQUIRED
};

struct ccfg_token {
	char id[CCFG_TOKEN_ID_LEN + 1];
	uint8_t sha256[32];
	int64_t expires; /* Unix seconds, 0 = never */
	unsigned line;   /* where it is declared, for messages */
};

/* A client certificate that names the principal: by fingerprint or by subject. */
struct ccfg_cert {
	bool by_sha256;                     /* else by subject */
	uint8_t sha256[32];                 /* SHA-256 of the certificate's DER bytes */
	char subject[CCFG_SUBJECT_MAX + 1]; /* as mbedTLS prints it: "CN=producer-1, O=Example" */
	unsigned line;
};

struct ccfg_principal {
	char name[CCFG_NAME_MAX + 1];
	uint8_t role; /* enum ccfg_role: bit 1 producer, bit 2 consumer */
	uint8_t n_globs, n_types, n_tokens;
	char globs[CCFG_GLOBS_MAX][CCFG_NAME_MAX + 1];
	char types[CCFG_TYPES_MAX][CCFG_TYPE_MAX + 1]; /* n_types 0: any ("*" given) */
	uint32_t max_payload;
	uint8_t max_priority;
	uint32_t jobs_per_s, jobs_burst;
	uint64_t bytes_per_s, bytes_burst;
	uint32_t max_connections;
	struct ccfg_token tokens[CCFG_TOKENS_MAX];
	uint8_t n_certs;
	struct ccfg_cert certs[CCFG_CERTS_MAX];
	unsigned line;
};

struct ccfg_queue {
	char name[CCFG_NAME_MAX + 1];
	uint32_t max_jobs;
	uint64_t max_bytes;
	uint32_t max_in_flight, rate, burst;
	uint32_t max_attempts, lease_ms, ttl_ms, backoff_ms, backoff_max_ms, dedup_ms;
	uint32_t max_payload;
	uint8_t n_ctypes;
	char ctypes[CCFG_CTYPES_MAX][CCFG_CTYPE_MAX + 1];
	bool allow_code_serialization;
	unsigned line;
};

struct ccfg_operator {
	bool is_gid; /* false: id is a uid */
	uint32_t id;
	uint8_t role; /* enum ccfg_op_role */
};

struct ctld_config {
	char path[4096]; /* the file loaded, as given */
	char dataplane_socket[CCFG_PATH_MAX + 1];
	uint32_t dataplane_uids[CCFG_UIDS_MAX];
	unsigned n_dataplane_uids;
	char operator_socket[CCFG_PATH_MAX + 1];
	char state_dir[CCFG_PATH_MAX + 1];
	char audit_log[CCFG_PATH_MAX + 1];
	bool listener;        /* section present: sluiced listens and presents these */
	uint32_t listen_addr; /* network order */
	uint16_t listen_port; /* host order */
	char tls_cert[CCFG_PATH_MAX + 1];
	char tls_key[CCFG_PATH_MAX + 1];
	char tls_client_ca[CCFG_PATH_MAX + 1]; /* "" = none */
	uint8_t tls_client_cert;               /* enum ccfg_client_cert */
	bool metrics;                          /* section present */
	uint32_t metrics_addr;                 /* network order */
	uint16_t metrics_port;                 /* host order */
	uint8_t metrics_sha256[32];
	uint32_t throttle_failures, throttle_window_s;
	uint32_t ban_failures, ban_window_s, ban_s;
	uint32_t ticket_rotate_s, ticket_lifetime_s;
	unsigned n_operators, n_queues, n_principals;
	struct ccfg_operator operators[CCFG_OPERATORS_MAX];
	struct ccfg_queue *queues;         /* n_queues, malloc'd */
	struct ccfg_principal *principals; /* n_principals, malloc'd */
};

/*
 * Load and validate the file at path into *out (filled fresh; free with
 * ctld_config_free, also after a failure). 0, or -1 with one message in
 * err: "path:line:col: what is wrong; what is valid". Thread-safe.
 */
int ctld_config_load(const char *path, struct ctld_config *out, char *err, size_t errlen);

/* The same over len bytes in memory; name stands for the file in messages. */
int ctld_config_parse(const char *name, const char *buf, size_t len, struct ctld_config *out,
		      char *err, size_t errlen);

void ctld_config_free(struct ctld_config *c);

/*
 * Queue q as the argument of sluiced --queue ("emails,max_jobs=100000,...",
 * every key written, content types joined by '|'). The length, or -1 when
 * cap is too small.
 */
int ctld_config_queue_spec(const struct ccfg_queue *q, char *buf, size_t cap);

#endif
