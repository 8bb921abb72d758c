/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: sluice-ctld's configuration loader (control/config,
 * ctld_config_parse) on arbitrary file contents.
 *
 * Each input is parsed as "fuzz.yaml", every queue is turned into its
 * sluiced --queue argument, and the result is freed (LeakSanitizer sees
 * what is left). abort() unless:
 *   - it returned 0 and every value is inside the bounds ctld_config.h
 *     documents (names, globs, types, content types, paths, counts,
 *     ranges, roles, token ids; queue names, principal names, token ids and
 *     hashes unique), and each queue's --queue argument is at most 1023
 *     bytes and, split the way sluiced's parse_queue splits it, gives back
 *     the queue's settings;
 *   - or it returned -1 with "fuzz.yaml:LINE:COL: PATH: what" in err, LINE
 *     and COL from 1 to the input's size + 1, printable ASCII only, and no
 *     arrays left behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctld_config.h"
#include "wire_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn)) invariant(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_ctld_config: INVARIANT VIOLATED (MISMATCH): %s\n", what);
	if (detail)
		fprintf(stderr, "fuzz_ctld_config: %s\n", detail);
	abort();
}

static bool
name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == ':' || ch == '-';
}

/* NUL-terminated within max + 1 bytes, 1..max bytes of the name charset (and '*' if star). */
static bool
name_ok(const char *s, size_t max, bool star)
{
	size_t len = strnlen(s, max + 1);

	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]) && !(star && s[i] == '*'))
			return false;
	return true;
}

static bool
path_ok(const char *s)
{
	size_t len = strnlen(s, CCFG_PATH_MAX + 1);

	if (len == 0 || len > CCFG_PATH_MAX || s[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool
ctype_ok(const char *s)
{
	size_t len = strnlen(s, CCFG_CTYPE_MAX + 1);

	if (len == 0 || len > CCFG_CTYPE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == ',' || s[i] == '|')
			return false;
	return true;
}

/*
 * The queue's --queue argument split as dataplane/config.c parse_queue
 * splits it (',' between keys, '=' after a key, '|' between content
 * types), each value compared with the queue's own.
 */
static void
check_spec(const struct ccfg_queue *q)
{
	char spec[2048], *save = NULL, *tok;
	unsigned n_ct = 0, keys = 0;
	bool acs = false;
	int len = ctld_config_queue_spec(q, spec, sizeof(spec));

	if (len < 0 || len > 1023 || (size_t)len != strlen(spec))
		invariant("--queue argument missing or longer than sluiced reads", q->name);
	tok = strtok_r(spec, ",", &save);
	if (!tok || strcmp(tok, q->name) != 0)
		invariant("--queue argument does not start with the name", q->name);
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		unsigned long long v;

		if (!eq) {
			if (strcmp(tok, "allow_code_serialization") != 0)
				invariant("--queue key without a value", tok);
			acs = true;
			continue;
		}
		*eq = '\0';
		if (!strcmp(tok, "content_types")) {
			char *s2 = NULL, *ct;

			for (ct = strtok_r(eq + 1, "|", &s2); ct; ct = strtok_r(NULL, "|", &s2))
				if (n_ct >= q->n_ctypes || strcmp(ct, q->ctypes[n_ct++]) != 0)
					invariant("--queue content types differ", ct);
			continue;
		}
		v = strtoull(eq + 1, NULL, 10);
		keys++;
		if (!((!strcmp(tok, "max_jobs") && v == q->max_jobs) ||
		      (!strcmp(tok, "max_bytes") && v == q->max_bytes) ||
		      (!strcmp(tok, "max_in_flight") && v == q->max_in_flight) ||
		      (!strcmp(tok, "rate") && v == q->rate) ||
		      (!strcmp(tok, "burst") && v == q->burst) ||
		      (!strcmp(tok, "max_attempts") && v == q->max_attempts) ||
		      (!strcmp(tok, "lease_ms") && v == q->lease_ms) ||
		      (!strcmp(tok, "ttl_ms") && v == q->ttl_ms) ||
		      (!strcmp(tok, "backoff_ms") && v == q->backoff_ms) ||
		      (!strcmp(tok, "backoff_max_ms") && v == q->backoff_max_ms) ||
		      (!strcmp(tok, "dedup_ms") && v == q->dedup_ms) ||
		      (!strcmp(tok, "max_payload") && v == q->max_payload)))
			invariant("--queue key unknown or value differs", tok);
	}
	if (keys != 12 || n_ct != q->n_ctypes || acs != q->allow_code_serialization)
		invariant("--queue argument does not carry every setting", q->name);
}

static void
check_queue(const struct ccfg_queue *q)
{
	if (!name_ok(q->name, CCFG_NAME_MAX, false))
		invariant("queue name out of bounds", q->name);
	if (q->max_jobs == 0 || q->max_bytes == 0 || q->max_bytes > UINT32_MAX)
		invariant("queue max_jobs or max_bytes out of range", q->name);
	if (q->max_attempts < 1 || q->max_attempts > WIRE_ATTEMPTS_MAX)
		invariant("queue max_attempts out of range", q->name);
	if (q->lease_ms < 1 || q->lease_ms > WIRE_DURATION_MS_MAX ||
	    q->ttl_ms > WIRE_DURATION_MS_MAX)
		invariant("queue lease_ms or ttl_ms out of range", q->name);
	if (q->max_payload > WIRE_PAYLOAD_BYTES_CAP)
		invariant("queue max_payload above the cap", q->name);
	if (q->n_ctypes > CCFG_CTYPES_MAX)
		invariant("queue content type count out of range", q->name);
	for (unsigned i = 0; i < q->n_ctypes; i++)
		if (!ctype_ok(q->ctypes[i]))
			invariant("content type out of bounds", q->name);
	check_spec(q);
}

static bool
token_id_ok(const char *id)
{
	if (strnlen(id, CCFG_TOKEN_ID_LEN + 1) != CCFG_TOKEN_ID_LEN)
		return false;
	for (unsigned i = 0; i < CCFG_TOKEN_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

static void
check_principal(const struct ccfg_principal *p)
{
	if (!name_ok(p->name, CCFG_NAME_MAX, false))
		invariant("principal name out of bounds", p->name);
	if (p->role < CCFG_ROLE_PRODUCER || p->role > CCFG_ROLE_BOTH)
		invariant("principal role out of range", p->name);
	if (p->n_globs < 1 || p->n_globs > CCFG_GLOBS_MAX)
		invariant("glob count out of range", p->name);
	for (unsigned i = 0; i < p->n_globs; i++)
		if (!name_ok(p->globs[i], CCFG_NAME_MAX, true))
			invariant("queue glob out of bounds", p->name);
	if (p->n_types > CCFG_TYPES_MAX)
		invariant("type count out of range", p->name);
	for (unsigned i = 0; i < p->n_types; i++)
		if (!name_ok(p->types[i], CCFG_TYPE_MAX, false))
			invariant("job type out of bounds", p->name);
	if (p->max_payload > WIRE_PAYLOAD_BYTES_CAP || p->max_priority > WIRE_PRIORITY_MAX)
		invariant("principal max_payload or max_priority out of range", p->name);
	if (p->n_tokens > CCFG_TOKENS_MAX)
		invariant("token count out of range", p->name);
	for (unsigned i = 0; i < p->n_tokens; i++)
		if (!token_id_ok(p->tokens[i].id) || p->tokens[i].expires < 0 ||
		    p->tokens[i].line == 0)
			invariant("token out of bounds", p->name);
}

static void
check_unique(const struct ctld_config *c)
{
	for (unsigned i = 0; i < c->n_queues; i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(c->queues[i].name, c->queues[j].name))
				invariant("two queues with one name", c->queues[i].name);
	for (unsigned i = 0; i < c->n_principals; i++) {
		const struct ccfg_principal *p = &c->principals[i];

		for (unsigned j = 0; j < i; j++)
			if (!strcmp(p->name, c->principals[j].name))
				invariant("two principals with one name", p->name);
		for (unsigned t = 0; t < p->n_tokens; t++) {
			for (unsigned j = 0; j <= i; j++) {
				const struct ccfg_principal *o = &c->principals[j];

				for (unsigned u = 0; u < o->n_tokens && (j < i || u < t); u++) {
					if (!strcmp(p->tokens[t].id, o->tokens[u].id))
						invariant("two tokens with one id",
							  p->tokens[t].id);
					if (!memcmp(p->tokens[t].sha256, o->tokens[u].sha256, 32))
						invariant("two tokens with one hash", p->name);
				}
			}
		}
	}
}

static void
check_config(const struct ctld_config *c)
{
	if (!path_ok(c->dataplane_socket) || !path_ok(c->operator_socket) ||
	    !path_ok(c->state_dir) || !path_ok(c->audit_log))
		invariant("a path out of bounds", NULL);
	if (!strcmp(c->dataplane_socket, c->operator_socket))
		invariant("both sockets on one path", c->dataplane_socket);
	if (c->n_dataplane_uids < 1 || c->n_dataplane_uids > CCFG_UIDS_MAX)
		invariant("dataplane uid count out of range", NULL);
	if (c->metrics && c->metrics_port == 0)
		invariant("metrics port 0", NULL);
	if (c->throttle_failures == 0 || c->throttle_window_s == 0 || c->ban_failures == 0 ||
	    c->ban_window_s == 0 || c->ban_s == 0 || c->ticket_rotate_s == 0 ||
	    c->ticket_lifetime_s == 0 || c->ticket_lifetime_s > 604800)
		invariant("auth or tickets value out of range", NULL);
	if (c->n_operators > CCFG_OPERATORS_MAX)
		invariant("operator count out of range", NULL);
	for (unsigned i = 0; i < c->n_operators; i++) {
		const struct ccfg_operator *o = &c->operators[i];

		if (o->role < CCFG_OP_VIEWER || o->role > CCFG_OP_ADMIN)
			invariant("operator role out of range", NULL);
		if (!o->is_gid && o->id == 0 && o->role != CCFG_OP_ADMIN)
			invariant("uid 0 below admin", NULL);
		for (unsigned j = 0; j < i; j++)
			if (c->operators[j].is_gid == o->is_gid && c->operators[j].id == o->id)
				invariant("operator listed twice", NULL);
	}
	if (c->n_queues < 1 || c->n_queues > CCFG_QUEUES_MAX || !c->queues)
		invariant("queue count out of range", NULL);
	if (c->n_principals > CCFG_PRINCIPALS_MAX || (c->n_principals && !c->principals))
		invariant("principal count out of range", NULL);
	for (unsigned i = 0; i < c->n_queues; i++)
		check_queue(&c->queues[i]);
	for (unsigned i = 0; i < c->n_principals; i++)
		check_principal(&c->principals[i]);
	check_unique(c);
}

static void
check_error(const char *err, size_t size)
{
	static const char name[] = "fuzz.yaml:";
	unsigned long line, col;
	const char *p;
	char *end;

	if (!memchr(err, '\0', 1024) || strncmp(err, name, sizeof(name) - 1) != 0)
		invariant("error message does not start with the file name", err);
	for (p = err; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			invariant("error message holds a byte that is not printable ASCII", err);
	p = err + sizeof(name) - 1;
	line = strtoul(p, &end, 10);
	if (end == p || *end != ':' || line < 1 || line > size + 1)
		invariant("error message has no line, or one outside the file", err);
	p = end + 1;
	col = strtoul(p, &end, 10);
	if (end == p || *end != ':' || col < 1 || col > size + 1)
		invariant("error message has no column, or one outside the file", err);
	/* PATH may hold any printable key of the file, ':' and ' ' included. */
	if (end[1] != ' ' || end[2] == '\0' || !strstr(end + 2, ": "))
		invariant("error message is not FILE:LINE:COL: PATH: what", err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctld_config *c = malloc(sizeof(*c));
	char err[1024];
	int rc;

	if (!c)
		return 0;
	memset(err, 0x55, sizeof(err));
	rc = ctld_config_parse("fuzz.yaml", (const char *)data, size, c, err, sizeof(err));
	if (rc == 0) {
		check_config(c);
	} else if (rc == -1) {
		if (c->queues || c->principals || c->n_queues || c->n_principals)
			invariant("a failed parse left arrays behind", err);
		check_error(err, size);
	} else {
		invariant("ctld_config_parse returned neither 0 nor -1", NULL);
	}
	ctld_config_free(c);
	free(c);
	return 0;
}
