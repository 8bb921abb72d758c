/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctld_config: a file with every key read back value by value, defaults
 * when keys are absent, the --queue argument (exactly, and through
 * sluiced's own parser), and a table of broken files, each with the
 * file:line:col: path the message must start with and a piece of its text.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctld_config.h"
#include "../../check.h"

#define SHA_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SHA_B "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
#define SHA_M "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"

static const char full_yaml[] =
	"# every key of ctld.yaml, none at its default\n"
	"ctld:\n"
	"  dataplane_socket: /run/sluice/ctld.sock\n"
	"  dataplane_uids: [0, 998]\n"
	"  operator_socket: /run/sluice/ctl.sock\n"
	"  state_dir: /var/lib/sluice\n"
	"  audit_log: /var/log/sluice/audit.jsonl\n"
	"metrics:\n"
	"  listen: 10.1.2.3:9100\n"
	"  bearer_token_sha256: " SHA_M "\n"
	"auth:\n"
	"  throttle_failures: 6\n"
	"  throttle_window_s: 61\n"
	"  ban_failures: 21\n"
	"  ban_window_s: 301\n"
	"  ban_s: 901\n"
	"tickets:\n"
	"  rotate_s: 3601\n"
	"  lifetime_s: 7201\n"
	"operators:\n"
	"  - uid: 1000\n"
	"    role: operator\n"
	"  - gid: 50\n"
	"    role: viewer\n"
	"  - uid: 0\n"
	"    role: admin\n"
	"queues:\n"
	"  - name: emails\n" /* line 28 */
	"    max_jobs: 1000\n"
	"    max_bytes: 4294967295\n"
	"    max_in_flight: 7\n"
	"    rate: 100\n"
	"    burst: 200\n"
	"    max_attempts: 1000\n"
	"    lease_ms: 604800000\n"
	"    ttl_ms: 86400000\n"
	"    backoff_ms: 250\n"
	"    backoff_max_ms: 60000\n"
	"    dedup_ms: 0\n"
	"    max_payload: 8388608\n"
	"    content_types: [application/json, \"text/plain; charset=utf-8\"]\n"
	"    allow_code_serialization: true\n"
	"  - name: billing.eu\n" /* line 43 */
	"principals:\n"
	"  - name: web\n" /* line 45 */
	"    role: producer\n"
	"    queues: [\"emails\", \"billing.*\"]\n"
	"    job_types: [send_email, \"invoice.render\"]\n"
	"    max_payload: 1024\n"
	"    max_priority: 7\n"
	"    jobs_per_s: 50\n"
	"    jobs_burst: 100\n"
	"    bytes_per_s: 1099511627776\n"
	"    bytes_burst: 2048\n"
	"    max_connections: 4\n"
	"    tokens:\n"
	"      - id: 3fa9c2d1e0b4\n" /* line 57 */
	"        sha256: " SHA_A "\n"
	"        expires: 2028-02-29T23:59:59Z\n"
	"      - id: \"000000000001\"\n"
	"        sha256: '" SHA_B "'\n"
	"  - name: worker\n"
	"    role: both\n"
	"    queues: ['*']\n"
	"    job_types: ['*']\n";

static bool
hex_is(const uint8_t *b, const char *hex)
{
	for (unsigned i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || b[i] != v)
			return false;
	}
	return true;
}

static bool
starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int
parse(const char *yaml, struct ctld_config *c, char *err, size_t errlen)
{
	return ctld_config_parse("t.yaml", yaml, strlen(yaml), c, err, errlen);
}

static void
test_full(void)
{
	struct ctld_config c;
	const struct ccfg_queue *q;
	const struct ccfg_principal *p;
	char err[512];
	int rc = parse(full_yaml, &c, err, sizeof(err));

	if (rc)
		fprintf(stderr, "full: %s\n", err);
	CHECK(rc == 0);
	if (rc)
		return;
	CHECK(!strcmp(c.path, "t.yaml"));
	CHECK(!strcmp(c.dataplane_socket, "/run/sluice/ctld.sock"));
	CHECK(c.n_dataplane_uids == 2 && c.dataplane_uids[0] == 0 && c.dataplane_uids[1] == 998);
	CHECK(!strcmp(c.operator_socket, "/run/sluice/ctl.sock"));
	CHECK(!strcmp(c.state_dir, "/var/lib/sluice"));
	CHECK(!strcmp(c.audit_log, "/var/log/sluice/audit.jsonl"));
	CHECK(c.metrics);
	CHECK(c.metrics_addr == htonl(0x0a010203));
	CHECK(c.metrics_port == 9100);
	CHECK(hex_is(c.metrics_sha256, SHA_M));
	CHECK(c.throttle_failures == 6 && c.throttle_window_s == 61);
	CHECK(c.ban_failures == 21 && c.ban_window_s == 301 && c.ban_s == 901);
	CHECK(c.ticket_rotate_s == 3601 && c.ticket_lifetime_s == 7201);

	CHECK(c.n_operators == 3);
	CHECK(!c.operators[0].is_gid && c.operators[0].id == 1000);
	CHECK(c.operators[0].role == CCFG_OP_OPERATOR);
	CHECK(c.operators[1].is_gid && c.operators[1].id == 50);
	CHECK(c.operators[1].role == CCFG_OP_VIEWER);
	CHECK(!c.operators[2].is_gid && c.operators[2].id == 0);
	CHECK(c.operators[2].role == CCFG_OP_ADMIN);

	CHECK(c.n_queues == 2);
	q = &c.queues[0];
	CHECK(!strcmp(q->name, "emails") && q->line == 28);
	CHECK(q->max_jobs == 1000 && q->max_bytes == 4294967295u && q->max_in_flight == 7);
	CHECK(q->rate == 100 && q->burst == 200 && q->max_attempts == 1000);
	CHECK(q->lease_ms == 604800000 && q->ttl_ms == 86400000 && q->backoff_ms == 250);
	CHECK(q->backoff_max_ms == 60000 && q->dedup_ms == 0 && q->max_payload == 8388608);
	CHECK(q->n_ctypes == 2 && !strcmp(q->ctypes[0], "application/json") &&
	      !strcmp(q->ctypes[1], "text/plain; charset=utf-8"));
	CHECK(q->allow_code_serialization);
	CHECK(!strcmp(c.queues[1].name, "billing.eu") && c.queues[1].line == 43);

	CHECK(c.n_principals == 2);
	p = &c.principals[0];
	CHECK(!strcmp(p->name, "web") && p->line == 45 && p->role == CCFG_ROLE_PRODUCER);
	CHECK(p->n_globs == 2 && !strcmp(p->globs[0], "emails") &&
	      !strcmp(p->globs[1], "billing.*"));
	CHECK(p->n_types == 2 && !strcmp(p->types[0], "send_email") &&
	      !strcmp(p->types[1], "invoice.render"));
	CHECK(p->max_payload == 1024 && p->max_priority == 7);
	CHECK(p->jobs_per_s == 50 && p->jobs_burst == 100);
	CHECK(p->bytes_per_s == 1099511627776ull && p->bytes_burst == 2048);
	CHECK(p->max_connections == 4);
	CHECK(p->n_tokens == 2);
	CHECK(!strcmp(p->tokens[0].id, "3fa9c2d1e0b4") && p->tokens[0].line == 57);
	CHECK(hex_is(p->tokens[0].sha256, SHA_A));
	CHECK(p->tokens[0].expires == 1835481599); /* date -d 2028-02-29T23:59:59Z +%s */
	CHECK(!strcmp(p->tokens[1].id, "000000000001") && p->tokens[1].expires == 0);
	CHECK(hex_is(p->tokens[1].sha256, SHA_B));
	p = &c.principals[1];
	CHECK(!strcmp(p->name, "worker") && p->role == CCFG_ROLE_BOTH);
	CHECK(p->n_globs == 1 && !strcmp(p->globs[0], "*"));
	CHECK(p->n_types == 0); /* ["*"]: any */
	CHECK(p->n_tokens == 0);
	ctld_config_free(&c);
	CHECK(c.queues == NULL && c.principals == NULL && c.n_queues == 0);
}

#define MIN                                                                                        \
	"ctld:\n"                                                                                  \
	"  dataplane_socket: /run/sluice/ctld.sock\n"                                              \
	"  operator_socket: /run/sluice/ctl.sock\n"                                                \
	"  state_dir: /var/lib/sluice\n"                                                           \
	"  audit_log: /var/log/sluice/audit.jsonl\n"                                               \
	"queues:\n"                                                                                \
	"  - name: emails\n"

/* The listener section read back; absent, no listener. */
static void
test_listener(void)
{
	static const char yaml[] = MIN "listener:\n"
				       "  address: 0.0.0.0:7443\n"
				       "  cert: /etc/sluice/server.pem\n"
				       "  key: /etc/sluice/server.key\n"
				       "  client_ca: /etc/sluice/ca.pem\n"
				       "  client_cert: required\n";
	struct ctld_config c;
	char err[512];
	int rc = parse(yaml, &c, err, sizeof(err));

	CHECK(rc == 0);
	CHECK(rc == 0 && c.listener && c.listen_addr == 0 && c.listen_port == 7443);
	CHECK(rc == 0 && !strcmp(c.tls_cert, "/etc/sluice/server.pem") &&
	      !strcmp(c.tls_key, "/etc/sluice/server.key") &&
	      !strcmp(c.tls_client_ca, "/etc/sluice/ca.pem") &&
	      c.tls_client_cert == CCFG_CLIENT_CERT_REQUIRED);
	ctld_config_free(&c);
	rc = parse(MIN, &c, err, sizeof(err));
	CHECK(rc == 0 && !c.listener);
	ctld_config_free(&c);
}

static void
test_defaults(void)
{
	struct ctld_config c;
	char err[512];
	int rc = parse(MIN "principals:\n"
			   "  - name: web\n"
			   "    role: consumer\n"
			   "    queues: [emails]\n"
			   "    tokens:\n"
			   "      - id: 3fa9c2d1e0b4\n"
			   "        sha256: " SHA_A "\n",
		       &c, err, sizeof(err));

	if (rc)
		fprintf(stderr, "defaults: %s\n", err);
	CHECK(rc == 0);
	if (rc)
		return;
	CHECK(c.n_dataplane_uids == 1 && c.dataplane_uids[0] == 0);
	CHECK(!c.metrics);
	CHECK(c.throttle_failures == 5 && c.throttle_window_s == 60);
	CHECK(c.ban_failures == 20 && c.ban_window_s == 300 && c.ban_s == 900);
	CHECK(c.ticket_rotate_s == 3600 && c.ticket_lifetime_s == 7200);
	CHECK(c.n_operators == 0);
	CHECK(c.n_queues == 1);
	CHECK(c.queues[0].max_jobs == 100000 && c.queues[0].max_bytes == 268435456);
	CHECK(c.queues[0].max_in_flight == 0 && c.queues[0].rate == 0 && c.queues[0].burst == 0);
	CHECK(c.queues[0].max_attempts == 5 && c.queues[0].lease_ms == 30000);
	CHECK(c.queues[0].ttl_ms == 0 && c.queues[0].backoff_ms == 1000);
	CHECK(c.queues[0].backoff_max_ms == 300000 && c.queues[0].dedup_ms == 300000);
	CHECK(c.queues[0].max_payload == 262144 && c.queues[0].n_ctypes == 0);
	CHECK(!c.queues[0].allow_code_serialization);
	CHECK(c.n_principals == 1);
	CHECK(c.principals[0].role == CCFG_ROLE_CONSUMER && c.principals[0].n_types == 0);
	CHECK(c.principals[0].max_payload == 262144 && c.principals[0].max_priority == 15);
	CHECK(c.principals[0].jobs_per_s == 0 && c.principals[0].jobs_burst == 0);
	CHECK(c.principals[0].bytes_per_s == 0 && c.principals[0].bytes_burst == 0);
	CHECK(c.principals[0].max_connections == 0);
	CHECK(c.principals[0].tokens[0].expires == 0);
	ctld_config_free(&c);

	/* Flow style, quoting, CRLF line ends and a %YAML directive read the same. */
	rc = parse(
		"%YAML 1.1\r\n---\r\n{ctld: {dataplane_socket: \"/a\", operator_socket: '/b',\r\n"
		"  state_dir: /c, audit_log: /d}, queues: [{name: q, rate: 7}]}\r\n...\r\n",
		&c, err, sizeof(err));
	CHECK(rc == 0);
	CHECK(rc || (!strcmp(c.operator_socket, "/b") && c.n_queues == 1 && c.queues[0].rate == 7));
	ctld_config_free(&c);

	/* A metrics section alone gets the default listener. */
	rc = parse(MIN "metrics:\n  bearer_token_sha256: " SHA_A "\n", &c, err, sizeof(err));
	CHECK(rc == 0);
	CHECK(c.metrics && c.metrics_addr == htonl(0x7f000001) && c.metrics_port == 9464);
	CHECK(c.n_principals == 0 && c.principals == NULL);
	ctld_config_free(&c);
}

static void
test_queue_spec(void)
{
	static const char want_full[] =
		"emails,max_jobs=1000,max_bytes=4294967295,max_in_flight=7,rate=100,burst=200,"
		"max_attempts=1000,lease_ms=604800000,ttl_ms=86400000,backoff_ms=250,"
		"backoff_max_ms=60000,dedup_ms=0,max_payload=8388608,"
		"content_types=application/json|text/plain; charset=utf-8,"
		"allow_code_serialization";
	static const char want_default[] =
		"billing.eu,max_jobs=100000,max_bytes=268435456,max_in_flight=0,rate=0,burst=0,"
		"max_attempts=5,lease_ms=30000,ttl_ms=0,backoff_ms=1000,backoff_max_ms=300000,"
		"dedup_ms=300000,max_payload=262144";
	struct ctld_config c;
	struct sluiced_cfg *s;
	char err[512], buf[2048];
	int n;

	if (parse(full_yaml, &c, err, sizeof(err))) {
		CHECK(!"full config loads");
		return;
	}
	n = ctld_config_queue_spec(&c.queues[0], buf, sizeof(buf));
	CHECK(n == (int)strlen(want_full) && !strcmp(buf, want_full));
	n = ctld_config_queue_spec(&c.queues[1], buf, sizeof(buf));
	CHECK(n == (int)strlen(want_default) && !strcmp(buf, want_default));
	/* Exactly fits with its NUL, one byte short, nothing. */
	CHECK(ctld_config_queue_spec(&c.queues[1], buf, sizeof(want_default)) == n);
	CHECK(ctld_config_queue_spec(&c.queues[1], buf, sizeof(want_default) - 1) == -1);
	CHECK(ctld_config_queue_spec(&c.queues[0], buf, 278) == -1);
	CHECK(ctld_config_queue_spec(&c.queues[1], NULL, 0) == -1);

	/* sluiced's own parser reads back every setting. */
	s = calloc(1, sizeof(*s));
	CHECK(s != NULL);
	for (unsigned i = 0; s && i < c.n_queues; i++) {
		const struct ccfg_queue *q = &c.queues[i];
		const struct eng_queue_cfg *e = &s->queue_cfg[i];
		const struct pol_queue *p = &s->queue_pol[i];

		CHECK(ctld_config_queue_spec(q, buf, sizeof(buf)) > 0);
		n = sluiced_config_add_queue(s, buf, err, sizeof(err));
		if (n)
			fprintf(stderr, "sluiced refuses '%s': %s\n", buf, err);
		CHECK(n == 0);
		if (n)
			continue;
		CHECK(!strcmp(p->name, q->name) && e->max_jobs == q->max_jobs);
		CHECK(e->max_bytes == q->max_bytes && e->max_in_flight == q->max_in_flight);
		CHECK(e->dispatch_rate == q->rate && e->dispatch_burst == q->burst);
		CHECK(e->max_attempts == q->max_attempts && e->lease_timeout_ms == q->lease_ms);
		CHECK(e->ttl_ms == q->ttl_ms && e->backoff_base_ms == q->backoff_ms);
		CHECK(e->backoff_max_ms == q->backoff_max_ms && e->dedup_window_ms == q->dedup_ms);
		CHECK(p->max_payload_bytes == q->max_payload);
		CHECK(p->allow_code_serialization == q->allow_code_serialization);
		CHECK(p->n_ctypes == q->n_ctypes);
		for (unsigned j = 0; j < p->n_ctypes && j < q->n_ctypes; j++)
			CHECK(!strcmp(p->ctypes[j], q->ctypes[j]));
	}
	free(s);
	ctld_config_free(&c);
}

static void
test_load(void)
{
	struct ctld_config c;
	char err[512], path[] = "/tmp/sluice-ctld-config-XXXXXX";
	int fd = mkstemp(path), rc;

	rc = ctld_config_load("/nonexistent/ctld.yaml", &c, err, sizeof(err));
	CHECK(rc == -1);
	CHECK(!strcmp(err, "/nonexistent/ctld.yaml: cannot open: No such file or directory"));
	CHECK(c.queues == NULL && c.principals == NULL);
	ctld_config_free(&c);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, full_yaml, strlen(full_yaml)) == (ssize_t)strlen(full_yaml));
	close(fd);
	rc = ctld_config_load(path, &c, err, sizeof(err));
	CHECK(rc == 0);
	CHECK(!strcmp(c.path, path) && c.n_queues == 2 && c.n_principals == 2);
	ctld_config_free(&c);

	/* Errors name the path as given. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "queues: 5\n", 10) == 10);
	close(fd);
	rc = ctld_config_load(path, &c, err, sizeof(err));
	CHECK(rc == -1 && !strncmp(err, path, strlen(path)) &&
	      !strcmp(err + strlen(path), ":1:9: queues: expected a list of 1 to 256 entries, got "
					  "a single value"));
	ctld_config_free(&c);
	unlink(path);

	rc = ctld_config_load("/", &c, err, sizeof(err));
	CHECK(rc == -1 && strstr(err, "/: cannot read: Is a directory"));
	ctld_config_free(&c);
}

struct bad {
	const char *yaml;
	const char *where; /* the message starts with it */
	const char *what;  /* and holds it */
};

#define PRINCIPAL(extra)                                                                           \
	MIN "principals:\n"                                                                        \
	    "  - name: web\n"                                                                      \
	    "    role: producer\n"                                                                 \
	    "    queues: [emails]\n" extra
#define TOKEN(id, sha) "      - id: " id "\n        sha256: " sha "\n"

static const struct bad bad_cases[] = {
	/* the YAML itself */
	{ "", "t.yaml:1:1: top level: ", "the file is empty" },
	{ "# nothing here\n\n", "t.yaml:1:1: top level: ", "the file is empty" },
	{ "- a\n- b\n", "t.yaml:1:1: top level: ", "expected a mapping of sections" },
	{ "---\n", "t.yaml:2:1: top level: ", "got an empty value" },
	{ MIN "---\nqueues: []\n", "t.yaml:8:1: top level: ", "a second YAML document" },
	{ "ctld: [\n", "t.yaml:2:1: YAML syntax: ", "did not find expected node content" },
	{ "ctld:\n\tstate_dir: /x\n", "t.yaml:2:1: YAML syntax: ", "never tabs" },
	{ "a: b: c\n", "t.yaml:1:5: YAML syntax: ", "mapping values are not allowed" },
	{ "ctld: \"\\q\"\n", "t.yaml:1:8: YAML syntax: ", "found unknown escape character" },
	{ MIN "  - &q\n    name: billing\n", "t.yaml:8:5: queues[1]: ", "anchors (&q)" },
	{ MIN "  - *q\n", "t.yaml:8:5: queues[1]: ", "aliases (*q) are not supported" },
	{ MIN "    max_jobs: !!int 5\n",
	  "t.yaml:8:15: queues[0].max_jobs: ", "explicit tags (tag:yaml.org,2002:int)" },
	{ MIN "    max_jobs: !x 5\n", "t.yaml:8:15: queues[0].max_jobs: ", "explicit tags (!x)" },
	{ "%TAG !e! tag:example.com,2000:\n---\nctld: {}\n",
	  "t.yaml:1:1: top level: ", "%TAG directives are not supported" },
	{ "a: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]\n", "t.yaml:1:19: a[0][0][0]",
	  "nested deeper than 16 levels" },
	{ MIN "? [a]\n: b\n", "t.yaml:8:3: top level: ", "a key must be a word, not a list" },
	/* keys */
	{ MIN "queus: []\n", "t.yaml:8:1: top level: ",
	  "unknown key 'queus'; valid keys: ctld, listener, metrics, auth, tickets, operators, "
	  "queues, principals" },
	/* listener */
	{ MIN "listener:\n  cert: /a\n", "t.yaml:9:3: listener.key: ", "required key missing" },
	{ MIN "listener:\n  cert: /a\n  key: /b\n  client_cert: optional\n",
	  "t.yaml:11:16: listener.client_cert: ", "client certificates need client_ca" },
	{ MIN "listener:\n  cert: /a\n  key: /b\n  client_cert: maybe\n",
	  "t.yaml:11:16: listener.client_cert: ", "valid: none, optional, required" },
	{ MIN "listener:\n  address: 1.2.3.4\n  cert: /a\n  key: /b\n",
	  "t.yaml:9:12: listener.address: ", "is not an IPv4 address:port" },
	{ MIN "listener:\n  cert: a\n  key: /b\n",
	  "t.yaml:9:9: listener.cert: ", "is not an absolute path" },
	{ MIN "    max_job: 5\n",
	  "t.yaml:8:5: queues[0]: ", "unknown key 'max_job'; valid keys: name," },
	{ MIN "    name: other\n",
	  "t.yaml:8:5: queues[0].name: ", "given twice (first at line 7)" },
	{ MIN "ctld: {}\n", "t.yaml:8:1: ctld: ", "given twice (first at line 1)" },
	{ "queues: [{name: a}]\n", "t.yaml:1:1: ctld: ", "required key missing" },
	{ "ctld:\n  dataplane_socket: /a\n  operator_socket: /b\n  audit_log: /c\n"
	  "queues: [{name: a}]\n",
	  "t.yaml:2:3: ctld.state_dir: ",
	  "required key missing from this mapping; add state_dir:" },
	{ "ctld:\n  dataplane_socket: /a\n  operator_socket: /b\n  state_dir: /s\n"
	  "  audit_log: /c\n",
	  "t.yaml:1:1: queues: ", "required key missing" },
	{ MIN "  - max_jobs: 5\n", "t.yaml:8:5: queues[1].name: ", "required key missing" },
	{ MIN "metrics:\n  listen: 127.0.0.1:1\n",
	  "t.yaml:9:3: metrics.bearer_token_sha256: ", "required key missing" },
	/* kinds and numbers */
	{ MIN "auth:\n",
	  "t.yaml:8:6: auth: ", "expected a mapping of key: value lines, got an empty" },
	{ MIN "    max_jobs: [1]\n", "t.yaml:8:15: queues[0].max_jobs: ",
	  "expected a whole number from 1 to 4294967295, got a list" },
	{ MIN "    max_jobs:\n", "t.yaml:8:14: queues[0].max_jobs: ", "got an empty value" },
	{ MIN "    max_jobs: ~\n", "t.yaml:8:15: queues[0].max_jobs: ", "got null" },
	{ MIN "    max_attempts: 1001\n", "t.yaml:8:19: queues[0].max_attempts: ",
	  "'1001' is out of range; expected a whole number from 1 to 1000" },
	{ MIN "    max_jobs: 0\n", "t.yaml:8:15: queues[0].max_jobs: ", "is out of range" },
	{ MIN "    lease_ms: 604800001\n", "t.yaml:8:15: queues[0].lease_ms: ", "1 to 604800000" },
	{ MIN "    max_payload: 8388609\n",
	  "t.yaml:8:18: queues[0].max_payload: ", "0 to 8388608" },
	{ MIN "    max_bytes: 4294967296\n", "t.yaml:8:16: queues[0].max_bytes: ",
	  "1 to 4294967295 (sluiced reads max_bytes as 32 bits)" },
	{ MIN "    max_jobs: 99999999999999999999999\n",
	  "t.yaml:8:15: queues[0].max_jobs: ", "'99999999999999999999999' is too large" },
	{ MIN "    max_jobs: 18446744073709551616\n",
	  "t.yaml:8:15: queues[0].max_jobs: ", "is too large" },
	{ MIN "    max_jobs: 18446744073709551615\n",
	  "t.yaml:8:15: queues[0].max_jobs: ", "is out of range" },
	{ MIN "    rate: -1\n", "t.yaml:8:11: queues[0].rate: ", "'-1' has a sign" },
	{ MIN "    rate: +1\n", "t.yaml:8:11: queues[0].rate: ", "'+1' has a sign" },
	{ MIN "    rate: 010\n", "t.yaml:8:11: queues[0].rate: ", "leading zero" },
	{ MIN "    rate: 0x10\n",
	  "t.yaml:8:11: queues[0].rate: ", "is not a whole decimal number" },
	{ MIN "    rate: 1_000\n",
	  "t.yaml:8:11: queues[0].rate: ", "is not a whole decimal number" },
	{ MIN "    rate: 1.5\n", "t.yaml:8:11: queues[0].rate: ", "is not a whole decimal number" },
	{ MIN "    rate: \"10\"\n", "t.yaml:8:11: queues[0].rate: ", "is quoted" },
	{ MIN "    allow_code_serialization: yes\n",
	  "t.yaml:8:31: queues[0].allow_code_serialization: ", "'yes' is not a boolean" },
	{ MIN "    allow_code_serialization: 'true'\n",
	  "t.yaml:8:31: queues[0].allow_code_serialization: ", "is quoted" },
	{ MIN "queues: 5\n", "t.yaml:8:1: queues: ", "given twice" },
	{ "ctld: /x\n", "t.yaml:1:7: ctld: ", "expected a mapping" },
	{ MIN "auth:\n  ban_s: 0\n", "t.yaml:9:10: auth.ban_s: ", "1 to 604800" },
	{ MIN "tickets:\n  lifetime_s: 604801\n",
	  "t.yaml:9:15: tickets.lifetime_s: ", "is out of range" },
	/* names, paths, text */
	{ "ctld:\n  dataplane_socket: /a\n  operator_socket: /b\n  state_dir: /s\n  audit_log: /c\n"
	  "queues:\n  - name: e mails\n",
	  "t.yaml:7:11: queues[0].name: ",
	  "'e mails' has byte 0x20 at byte 2; expected 1 to 64 of [A-Za-z0-9_.:-]" },
	{ MIN "  - name: \"\"\n", "t.yaml:8:11: queues[1].name: ", "'' is empty" },
	{ MIN "  - name:\n", "t.yaml:8:10: queues[1].name: ", "got an empty value" },
	{ MIN "  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  "t.yaml:8:11: queues[1].name: ", "is 65 bytes long" },
	{ MIN "  - name: \"caf\\u00e9\"\n",
	  "t.yaml:8:11: queues[1].name: ", "has byte 0xc3 at byte 4" },
	{ MIN "  - name: \"a\\0b\"\n", "t.yaml:8:11: queues[1].name: ", "has byte 0x00 at byte 2" },
	{ MIN "  - name: emails\n",
	  "t.yaml:8:11: queues[1].name: ", "queue 'emails' is defined twice (first at line 7)" },
	{ "ctld:\n  dataplane_socket: run/ctld.sock\n",
	  "t.yaml:2:21: ctld.dataplane_socket: ", "is not an absolute path" },
	{ "ctld:\n  dataplane_socket: /run/"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaa\n",
	  "t.yaml:2:21: ctld.dataplane_socket: ",
	  "is 108 bytes long; expected an absolute path of at most 107 bytes" },
	{ "ctld:\n  dataplane_socket: \"/run/a\\tb\"\n",
	  "t.yaml:2:21: ctld.dataplane_socket: ", "has byte 0x09 at byte 7" },
	{ "ctld:\n  dataplane_socket: /run/x.sock\n  operator_socket: /run/x.sock\n"
	  "  state_dir: /s\n  audit_log: /a\nqueues: [{name: q}]\n",
	  "t.yaml:3:20: ctld.operator_socket: ", "is also ctld.dataplane_socket" },
	{ MIN "    content_types: [\"a,b\"]\n",
	  "t.yaml:8:21: queues[0].content_types[0]: ", "has ',' or '|'" },
	{ MIN "    content_types: [a, \"x|y\"]\n",
	  "t.yaml:8:24: queues[0].content_types[1]: ", "has ',' or '|'" },
	{ MIN "    content_types: [\"a\\tb\"]\n",
	  "t.yaml:8:21: queues[0].content_types[0]: ", "has byte 0x09 at byte 2" },
	{ MIN "    content_types: [a/b, c, a/b]\n",
	  "t.yaml:8:29: queues[0].content_types[2]: ", "'a/b' is listed twice (first at line 8)" },
	{ MIN "    content_types: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q]\n",
	  "t.yaml:8:20: queues[0].content_types: ", "17 entries; expected a list of 0 to 16" },
	{ "ctld:\n  dataplane_socket: /a\n  dataplane_uids: [0, 7, 0]\n",
	  "t.yaml:3:26: ctld.dataplane_uids[2]: ", "'0' is listed twice (first at line 3)" },
	{ "ctld:\n  dataplane_uids: []\n",
	  "t.yaml:2:19: ctld.dataplane_uids: ", "0 entries; expected a list of 1 to 8" },
	{ "ctld:\n  dataplane_uids: [4294967295]\n",
	  "t.yaml:2:20: ctld.dataplane_uids[0]: ", "0 to 4294967294" },
	{ MIN "queues: []\n", "t.yaml:8:1: queues: ", "given twice" },
	{ "queues: []\n", "t.yaml:1:9: queues: ", "0 entries; expected a list of 1 to 256" },
	/* metrics */
	{ MIN "metrics:\n  listen: localhost:9464\n",
	  "t.yaml:9:11: metrics.listen: ", "is not an IPv4 address:port" },
	{ MIN "metrics:\n  listen: 127.0.0.1:0\n", "t.yaml:9:11: metrics.listen: ",
	  "'127.0.0.1:0' has a port out of range; expected IPv4 address:port, e.g. "
	  "127.0.0.1:9464, port 1 to 65535" },
	{ MIN "metrics:\n  listen: 127.0.0.1:65536\n",
	  "t.yaml:9:11: metrics.listen: ", "has a port out of range" },
	{ MIN "metrics:\n  listen: 127.0.0.1:123456\n",
	  "t.yaml:9:11: metrics.listen: ", "not an IPv4" },
	{ MIN "metrics:\n  listen: 127.0.0.1:80x\n",
	  "t.yaml:9:11: metrics.listen: ", "not an IPv4" },
	{ MIN "metrics:\n  listen: 127.0.0.1\n", "t.yaml:9:11: metrics.listen: ", "not an IPv4" },
	{ MIN "metrics:\n  listen: 1.2.3.256:80\n",
	  "t.yaml:9:11: metrics.listen: ", "not an IPv4" },
	{ MIN "metrics:\n  listen: 01.2.3.4:80\n", "t.yaml:9:11: metrics.listen: ", "not an IPv4" },
	{ MIN "metrics:\n  listen: 1.2.3:80\n", "t.yaml:9:11: metrics.listen: ", "not an IPv4" },
	{ MIN "metrics:\n  bearer_token_sha256: abc\n",
	  "t.yaml:9:24: metrics.bearer_token_sha256: ",
	  "'abc' is 3 characters long; expected 64 hex digits" },
	/* operators */
	{ MIN "operators:\n  - uid: 1\n    gid: 2\n    role: admin\n",
	  "t.yaml:10:10: operators[0].gid: ", "both uid and gid given" },
	{ MIN "operators:\n  - role: admin\n",
	  "t.yaml:9:5: operators[0]: ", "neither uid nor gid given" },
	{ MIN "operators:\n  - uid: 1\n    role: root\n", "t.yaml:10:11: operators[0].role: ",
	  "'root' is not a role; valid: admin, operator, viewer" },
	{ MIN "operators:\n  - uid: 0\n    role: viewer\n",
	  "t.yaml:10:11: operators[0].role: ", "uid 0 is always admin" },
	{ MIN "operators:\n  - gid: 5\n    role: viewer\n  - uid: 5\n    role: admin\n"
	      "  - gid: 5\n    role: admin\n",
	  "t.yaml:13:10: operators[2].gid: ", "gid 5 is listed twice (first at line 9)" },
	{ MIN "operators:\n  - uid: 1\n",
	  "t.yaml:9:5: operators[0].role: ", "required key missing" },
	/* principals */
	{ MIN "principals:\n  - name: web\n    role: writer\n    queues: [emails]\n",
	  "t.yaml:10:11: principals[0].role: ",
	  "'writer' is not a role; valid: producer, consumer, both" },
	{ MIN "principals:\n  - name: web\n    queues: [emails]\n",
	  "t.yaml:9:5: principals[0].role: ", "required key missing" },
	{ MIN "principals:\n  - name: web\n    role: both\n",
	  "t.yaml:9:5: principals[0].queues: ", "required key missing" },
	{ PRINCIPAL("    job_types: [\"*\", send]\n"), "t.yaml:12:17: principals[0].job_types[0]: ",
	  "\"*\" (any type) cannot be listed with other types" },
	{ PRINCIPAL("    job_types: [send, \"*\"]\n"),
	  "t.yaml:12:23: principals[0].job_types[1]: ", "cannot be listed with other types" },
	{ PRINCIPAL("    job_types: []\n"),
	  "t.yaml:12:16: principals[0].job_types: ", "0 entries; expected a list of 1 to 32" },
	{ PRINCIPAL("    job_types: [\"send mail\"]\n"),
	  "t.yaml:12:17: principals[0].job_types[0]: ", "has byte 0x20 at byte 5" },
	{ PRINCIPAL("    job_types: [\"se*\"]\n"),
	  "t.yaml:12:17: principals[0].job_types[0]: ", "has '*' at byte 3" },
	{ MIN "principals:\n  - name: web\n    role: both\n    queues: [\"emails/x\"]\n",
	  "t.yaml:11:14: principals[0].queues[0]: ", "has '/' at byte 7" },
	{ MIN "principals:\n  - name: web\n    role: both\n"
	      "    queues: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q]\n",
	  "t.yaml:11:13: principals[0].queues: ", "17 entries; expected a list of 1 to 16" },
	{ PRINCIPAL("    max_priority: 16\n"),
	  "t.yaml:12:19: principals[0].max_priority: ", "0 to 15" },
	{ PRINCIPAL("    bytes_per_s: 1099511627777\n"),
	  "t.yaml:12:18: principals[0].bytes_per_s: ", "0 to 1099511627776" },
	{ PRINCIPAL("  - name: web\n    role: both\n    queues: [x]\n"),
	  "t.yaml:12:11: principals[1].name: ",
	  "principal 'web' is defined twice (first at line 9)" },
	/* certificates */
	{ PRINCIPAL("    certificates:\n      - subject: \"CN=a\"\n        sha256: " SHA_A "\n"),
	  "t.yaml:13:18: principals[0].certificates[0].subject: ",
	  "both sha256 and subject given" },
	{ PRINCIPAL("    certificates:\n      - {}\n"),
	  "t.yaml:13:9: principals[0].certificates[0]: ", "neither sha256 nor subject given" },
	{ PRINCIPAL("    certificates:\n      - subject: \"CN=\\ta\"\n"),
	  "t.yaml:13:18: principals[0].certificates[0].subject: ", "has byte 0x09" },
	{ PRINCIPAL("    certificates:\n      - subject: \"CN=a\"\n"
		    "  - name: ops\n    role: both\n    queues: [x]\n"
		    "    certificates:\n      - subject: \"CN=a\"\n"),
	  "t.yaml:18:9: principals[1].certificates[0]: ",
	  "this certificate is mapped twice (first at line 13, principal 'web')" },
	/* tokens */
	{ PRINCIPAL("    tokens:\n" TOKEN("3FA9C2D1E0B4", SHA_A)),
	  "t.yaml:13:13: principals[0].tokens[0].id: ",
	  "'3FA9C2D1E0B4' has 'F' at character 2; expected 12 lowercase hex digits" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b", SHA_A)),
	  "t.yaml:13:13: principals[0].tokens[0].id: ", "is 11 characters long" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4", "9f86")),
	  "t.yaml:14:17: principals[0].tokens[0].sha256: ", "is 4 characters long" },
	{ PRINCIPAL("    tokens:\n" TOKEN(
		  "3fa9c2d1e0b4",
		  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g")),
	  "t.yaml:14:17: principals[0].tokens[0].sha256: ", "has 'g' at character 64" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4",
					  SHA_A) "        expires: 2027-02-30T00:00:00Z\n"),
	  "t.yaml:15:18: principals[0].tokens[0].expires: ",
	  "'2027-02-30T00:00:00Z' has no such day (February 2027 has 28 days)" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4",
					  SHA_A) "        expires: 2100-02-29T00:00:00Z\n"),
	  "t.yaml:15:18: principals[0].tokens[0].expires: ", "February 2100 has 28 days" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4",
					  SHA_A) "        expires: 2027-13-01T00:00:00Z\n"),
	  "t.yaml:15:18: principals[0].tokens[0].expires: ", "has no such month" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4",
					  SHA_A) "        expires: 2027-04-31T00:00:00Z\n"),
	  "t.yaml:15:18: principals[0].tokens[0].expires: ", "April 2027 has 30 days" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4",
					  SHA_A) "        expires: 2027-01-01T24:00:00Z\n"),
	  "t.yaml:15:18: principals[0].tokens[0].expires: ", "no such time of day" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4",
					  SHA_A) "        expires: 2027-01-01 00:00:00\n"),
	  "t.yaml:15:18: principals[0].tokens[0].expires: ",
	  "is not in the form YYYY-MM-DDTHH:MM:SSZ" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4",
					  SHA_A) "        expires: 1969-12-31T23:59:59Z\n"),
	  "t.yaml:15:18: principals[0].tokens[0].expires: ", "is before 1970" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4",
					  SHA_A) "        expires: 1970-01-01T00:00:00Z\n"),
	  "t.yaml:15:18: principals[0].tokens[0].expires: ", "stands for never" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4", SHA_A) TOKEN("3fa9c2d1e0b4", SHA_B)),
	  "t.yaml:15:13: principals[0].tokens[1].id: ",
	  "token id '3fa9c2d1e0b4' is used twice (first at line 13, principal 'web')" },
	{ PRINCIPAL("    tokens:\n" TOKEN(
		  "3fa9c2d1e0b4", SHA_A) "  - name: worker\n    role: consumer\n"
					 "    queues: [emails]\n    tokens:\n" TOKEN("111111111111",
										     SHA_B)
						 TOKEN("3fa9c2d1e0b4", SHA_B)),
	  "t.yaml:21:13: principals[1].tokens[1].id: ",
	  "token id '3fa9c2d1e0b4' is used twice (first at line 13, principal 'web')" },
	{ PRINCIPAL("    tokens:\n" TOKEN(
		  "3fa9c2d1e0b4",
		  SHA_A) "  - name: worker\n    role: consumer\n"
			 "    queues: [emails]\n    tokens:\n" TOKEN("111111111111", SHA_B)
				 TOKEN("222222222222", "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0"
						       "B822CD15D6C15B0F00A08")),
	  "t.yaml:22:17: principals[1].tokens[1].sha256: ",
	  "the same token hash as line 14 (principal 'web')" },
	{ PRINCIPAL("    tokens:\n" TOKEN("3fa9c2d1e0b4", SHA_A) "        secret: x\n"),
	  "t.yaml:15:9: principals[0].tokens[0]: ",
	  "unknown key 'secret'; valid keys: id, sha256, expires" },
	{ PRINCIPAL("    tokens:\n      - id: 3fa9c2d1e0b4\n"),
	  "t.yaml:13:9: principals[0].tokens[0].sha256: ", "required key missing" },
};

static void
test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad *b = &bad_cases[i];
		struct ctld_config c;
		char err[512];
		int rc = parse(b->yaml, &c, err, sizeof(err));
		bool ok = rc == -1 && starts(err, b->where) && strstr(err, b->what) &&
			  !strchr(err, '\n');

		if (!ok)
			fprintf(stderr, "case %zu: want '%s...%s', got rc %d '%s'\n", i, b->where,
				b->what, rc, rc ? err : "");
		CHECK(ok);
		if (getenv("TEST_CONFIG_VERBOSE"))
			printf("%s\n", err);
		CHECK(c.queues == NULL && c.principals == NULL);
		ctld_config_free(&c);
	}
}

/* Inputs a table cannot hold: NUL bytes, invalid UTF-8, size and count limits. */
static void
test_bad_bytes(void)
{
	static const char nul[] = "ctld:\n  a: b\0c\n";
	static const char latin1[] = "ctld:\n  state_dir: /caf\xe9\n";
	struct ctld_config c;
	char err[512], *big, *p;
	size_t cap = (size_t)CCFG_FILE_BYTES_MAX + 2;
	int rc;

	rc = ctld_config_parse("t.yaml", nul, sizeof(nul) - 1, &c, err, sizeof(err));
	CHECK(rc == -1 && starts(err, "t.yaml:2:7: YAML syntax: control characters are not "
				      "allowed (byte 0x00)"));
	rc = ctld_config_parse("t.yaml", latin1, sizeof(latin1) - 1, &c, err, sizeof(err));
	CHECK(rc == -1 && starts(err, "t.yaml:2:18: YAML syntax: incomplete UTF-8") &&
	      strstr(err, "must be UTF-8"));

	big = malloc(cap);
	CHECK(big != NULL);
	if (!big)
		return;
	memset(big, '#', cap);
	rc = ctld_config_parse("t.yaml", big, CCFG_FILE_BYTES_MAX + 1, &c, err, sizeof(err));
	CHECK(rc == -1 && !strcmp(err, "t.yaml:1:1: top level: the file is 4194305 bytes, more "
				       "than the 4194304 a configuration may have"));

	/* 257 queues, 65 operators: one more than allowed. */
	p = big + sprintf(big, MIN);
	for (unsigned i = 1; i < CCFG_QUEUES_MAX + 1; i++)
		p += sprintf(p, "  - name: q%u\n", i);
	rc = parse(big, &c, err, sizeof(err));
	CHECK(rc == -1 && !strcmp(err, "t.yaml:7:3: queues: 257 entries; expected a list of 1 to "
				       "256 entries"));
	p = big + sprintf(big, MIN "operators:\n");
	for (unsigned i = 1; i < CCFG_OPERATORS_MAX + 2; i++)
		p += sprintf(p, "  - {uid: %u, role: viewer}\n", i);
	rc = parse(big, &c, err, sizeof(err));
	CHECK(rc == -1 && starts(err, "t.yaml:9:3: operators: 65 entries"));

	/* 16 content types of 128 bytes are each valid, together too long for sluiced. */
	p = big + sprintf(big, MIN "    content_types:\n");
	for (unsigned i = 0; i < CCFG_CTYPES_MAX; i++)
		p += sprintf(p, "      - %c%0127u\n", 'a' + i, 0);
	rc = parse(big, &c, err, sizeof(err));
	CHECK(rc == -1 && starts(err, "t.yaml:9:7: queues[0].content_types: these make the "
				      "sluiced --queue argument 2263 bytes, more than the 1023"));
	if (rc == 0)
		ctld_config_free(&c);
	free(big);
}

int
main(void)
{
	test_full();
	test_listener();
	test_defaults();
	test_queue_spec();
	test_load();
	test_bad();
	test_bad_bytes();
	return CHECK_SUMMARY();
}
