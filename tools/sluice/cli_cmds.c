/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice CLI commands: enqueue, consume, ping. Messages go to stderr, results
 * to stdout. Payload bytes appear only where the user asked for them: the
 * JSON lines of `consume` and the stdin of its command.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_cmds.h"

#define PAYLOAD_MAX (8u << 20) /* the protocol's cap; the appliance may allow less */

static struct sluice_client *_Atomic stop_target;

void
cli_stop_target(struct sluice_client *c)
{
	atomic_store(&stop_target, c);
}

void
cli_on_signal(int sig)
{
	struct sluice_client *c = atomic_load(&stop_target);

	(void)sig;
	if (c)
		sluice_stop(c);
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A whole file (or stdin for "-") of at most PAYLOAD_MAX bytes; NULL and a message. */
static uint8_t *
read_payload(const char *name, size_t *len)
{
	FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
	size_t cap = 4096, n = 0;
	uint8_t *buf, *nb;

	if (!f) {
		fprintf(stderr, "sluice: cannot open %s: %s\n", name, strerror(errno));
		return NULL;
	}
	buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
		if (n > PAYLOAD_MAX) {
			fprintf(stderr,
				"sluice: %s is larger than %u bytes, the most one job may carry\n",
				strcmp(name, "-") ? name : "standard input", PAYLOAD_MAX);
			free(buf);
			buf = NULL;
			break;
		}
		if (n == cap) {
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	if (buf && ferror(f)) {
		fprintf(stderr, "sluice: reading %s: %s\n", name, strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

/* Connect, or say why not. NULL and *code set on failure. */
static struct sluice_client *
open_client(struct cli_conn *conn, struct sluice_config *cfg, int *code)
{
	static char token[300];
	char err[512];
	struct sluice_client *c;
	int rc;

	if (cli_load_token(conn, token, sizeof(token), err, sizeof(err))) {
		fprintf(stderr, "sluice: %s\n", err);
		*code = CLI_EXIT_USAGE;
		return NULL;
	}
	cfg->token = conn->token;
	c = sluice_client_new(cfg, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "sluice: %s\n", err);
		*code = CLI_EXIT_USAGE;
		return NULL;
	}
	rc = sluice_connect(c);
	if (rc) {
		fprintf(stderr, "sluice: %s\n", sluice_last_error(c));
		sluice_client_free(c);
		*code = cli_exit_for(rc);
		return NULL;
	}
	if (conn->verbose) {
		struct sluice_session_info i;

		sluice_session_info(c, &i);
		fprintf(stderr,
			"sluice: connected to %s:%u (%s), session %" PRIu64
			", frames up to %u bytes, batches up to %u jobs\n",
			conn->host, conn->port, i.server_name, i.session_id, i.max_frame_bytes,
			i.max_batch_jobs);
	}
	cli_stop_target(c);
	return c;
}

static int
close_client(struct sluice_client *c, int code)
{
	cli_stop_target(NULL);
	if (sluice_close(c) && code == CLI_EXIT_OK) {
		fprintf(stderr, "sluice: closing: %s\n", sluice_last_error(c));
		code = CLI_EXIT_CONN;
	}
	sluice_client_free(c);
	return code;
}

/* ---- enqueue ---- */

struct enq_state {
	bool quiet;
	uint64_t ok, dup, refused;
	bool out_failed;
};

static void
on_result(void *arg, const struct sluice_result *r)
{
	struct enq_state *s = arg;
	char hex[33];

	sluice_id_format(&r->id, hex);
	if (sluice_status_ok(r->status)) {
		s->ok++;
		s->dup += r->status == SLUICE_STATUS_DUPLICATE;
	} else {
		s->refused++;
		fprintf(stderr, "sluice: job %s refused: %s (%s)\n", hex,
			sluice_status_name(r->status), sluice_status_hint(r->status));
	}
	if (!s->quiet && printf("%s %s\n", hex, sluice_status_name(r->status)) < 0)
		s->out_failed = true;
}

int
cli_cmd_enqueue(struct cli_enqueue *o)
{
	struct enq_state st = { .quiet = o->quiet };
	struct sluice_config cfg;
	struct sluice_client *c;
	uint8_t *data[CLI_MAX_FILES] = { 0 };
	size_t lens[CLI_MAX_FILES] = { 0 };
	unsigned n_payloads = 1, i;
	int code = CLI_EXIT_OK, rc = 0;

	/* Every payload is read before connecting: a missing file costs no session. */
	if (o->payload) {
		data[0] = (uint8_t *)strdup(o->payload);
		lens[0] = strlen(o->payload);
	} else if (o->from_stdin) {
		if (isatty(STDIN_FILENO)) {
			fprintf(stderr, "sluice: no payload: give --payload or --file, or pipe it "
					"on stdin (--payload '' for an empty one)\n");
			return CLI_EXIT_USAGE;
		}
		data[0] = read_payload("-", &lens[0]);
	} else {
		n_payloads = o->n_files;
		for (i = 0; i < o->n_files; i++)
			if (!(data[i] = read_payload(o->files[i], &lens[i])))
				break;
	}
	for (i = 0; i < n_payloads; i++) {
		if (!data[i]) {
			code = CLI_EXIT_USAGE;
			goto out;
		}
	}
	cli_conn_config(&o->conn, SLUICE_PRODUCER, &cfg);
	cfg.linger_ms = o->linger_ms;
	cfg.max_batch_jobs = o->batch;
	cfg.max_unacked_batches = o->window;
	cfg.on_result = on_result;
	cfg.on_result_arg = &st;
	c = open_client(&o->conn, &cfg, &code);
	if (!c)
		goto out;
	for (i = 0; i < n_payloads && rc == 0; i++) {
		for (uint64_t k = 0; k < o->count && rc == 0; k++) {
			struct sluice_job j = cli_enqueue_job(o);

			j.payload = data[i];
			j.payload_len = lens[i];
			j.not_before_ms = o->delay_ms ? wall_ms() + o->delay_ms : 0;

			if (o->has_id)
				j.id = o->id;
			rc = sluice_enqueue(c, &j, NULL, NULL);
		}
	}
	if (rc == 0)
		rc = sluice_drain(c, -1);
	if (rc) {
		fprintf(stderr, "sluice: %s\n", sluice_last_error(c));
		code = cli_exit_for(rc);
		if (rc == -SLUICE_E_STOPPED)
			code = CLI_EXIT_JOB; /* interrupted: some jobs have no known outcome */
	}
	code = close_client(c, code);
	fflush(stdout);
	if (st.out_failed || ferror(stdout)) {
		fprintf(stderr, "sluice: could not write results to stdout\n");
		if (code == CLI_EXIT_OK)
			code = CLI_EXIT_JOB;
	}
	if (o->count * n_payloads > 1 || st.refused)
		fprintf(stderr,
			"sluice: %" PRIu64 " accepted (%" PRIu64 " duplicate), %" PRIu64
			" refused\n",
			st.ok, st.dup, st.refused);
	if (code == CLI_EXIT_OK && st.refused)
		code = CLI_EXIT_JOB;
out:
	for (i = 0; i < CLI_MAX_FILES; i++)
		free(data[i]);
	return code;
}

/* ---- consume ---- */

struct con_state {
	const struct cli_consume *o;
	uint64_t completed, failed, settle_refused;
	bool out_failed;
};

static void
json_str(FILE *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	fputc('"', out);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			fputc('\\', out);
			fputc(ch, out);
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(out, "\\u00%c%c", hex[ch >> 4], hex[ch & 15]);
		} else {
			fputc(ch, out);
		}
	}
	fputc('"', out);
}

static void
json_base64(FILE *out, const uint8_t *p, size_t len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	fputc('"', out);
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		fputc(b64[v >> 18], out);
		fputc(b64[(v >> 12) & 63], out);
		fputc(b64[(v >> 6) & 63], out);
		fputc(b64[v & 63], out);
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		fprintf(out, "%c%c==", b64[v >> 18], b64[(v >> 12) & 63]);
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		fprintf(out, "%c%c%c=", b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63]);
	}
	fputc('"', out);
}

/* Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static bool
utf8_ok(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t b = p[i];
		size_t n;
		uint32_t cp;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			n = 1, cp = b & 0x1f;
		else if (b >= 0xe0 && b <= 0xef)
			n = 2, cp = b & 0x0f;
		else if (b >= 0xf0 && b <= 0xf4)
			n = 3, cp = b & 0x07;
		else
			return false;
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static void
print_job(FILE *out, const struct sluice_delivery *d, bool text)
{
	struct sluice_job_id id = sluice_delivery_id(d);
	const char *ct = sluice_delivery_content_type(d), *uk = sluice_delivery_unique_key(d);
	unsigned i, nh = sluice_delivery_n_headers(d);
	size_t len;
	const uint8_t *p = sluice_delivery_payload(d, &len);
	char hex[33];

	sluice_id_format(&id, hex);
	fprintf(out, "{\"id\":\"%s\",\"queue\":", hex);
	json_str(out, sluice_delivery_queue(d), strlen(sluice_delivery_queue(d)));
	fputs(",\"type\":", out);
	json_str(out, sluice_delivery_type(d), strlen(sluice_delivery_type(d)));
	fprintf(out,
		",\"lease_id\":%" PRIu64 ",\"attempt\":%u,\"priority\":%u,\"enqueued_ms\":%" PRIu64,
		sluice_delivery_lease_id(d), sluice_delivery_attempt(d),
		sluice_delivery_priority(d), sluice_delivery_enqueued_ms(d));
	if (ct) {
		fputs(",\"content_type\":", out);
		json_str(out, ct, strlen(ct));
	}
	if (uk) {
		fputs(",\"unique_key\":", out);
		json_str(out, uk, strlen(uk));
	}
	fputs(",\"headers\":{", out);
	for (i = 0; i < nh; i++) {
		const char *k, *v;

		sluice_delivery_header(d, i, &k, &v);
		if (i)
			fputc(',', out);
		json_str(out, k, strlen(k));
		fputc(':', out);
		json_str(out, v, strlen(v));
	}
	fputc('}', out);
	if (text && utf8_ok(p, len)) {
		fputs(",\"payload\":", out);
		json_str(out, (const char *)p, len);
	} else {
		fputs(",\"payload_base64\":", out);
		json_base64(out, p, len);
	}
	fputs("}\n", out);
}

static void
handle_job(void *arg, struct sluice_client *c, const struct sluice_delivery *d,
	   struct sluice_verdict *v)
{
	static char reason[256];
	struct con_state *s = arg;

	if (!s->o->command) {
		print_job(stdout, d, s->o->text);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			/* Nobody got the job: give it back and stop. */
			s->out_failed = true;
			v->ok = false;
			v->reason = "consumer could not write the job to its output";
			sluice_stop(c);
		}
	} else if (cli_exec_job(c, s->o->command, d, s->o->job_timeout_ms, reason,
				sizeof(reason))) {
		v->ok = false;
		v->reason = reason;
		if (s->o->conn.verbose) {
			struct sluice_job_id id = sluice_delivery_id(d);
			char hex[33];

			sluice_id_format(&id, hex);
			fprintf(stderr, "sluice: job %s failed: %s\n", hex, reason);
		}
	}
	if (!v->ok) {
		v->retry_delay_ms = s->o->retry_delay_ms;
		v->dead = s->o->dead;
		s->failed++;
	} else {
		s->completed++;
	}
}

static void
on_settled(void *arg, const struct sluice_settled *x)
{
	struct con_state *s = arg;

	if (x->status == SLUICE_STATUS_OK || x->op == SLUICE_SETTLE_EXTEND)
		return;
	s->settle_refused++;
	fprintf(stderr, "sluice: lease %" PRIu64 ": %s not recorded: %s (%s)\n", x->lease_id,
		x->op == SLUICE_SETTLE_COMPLETE ? "completion" : "failure",
		sluice_status_name(x->status), sluice_status_hint(x->status));
}

int
cli_cmd_consume(struct cli_consume *o)
{
	struct con_state st = { .o = o };
	struct sluice_config cfg;
	struct sluice_client *c;
	uint64_t handled = 0;
	int code = CLI_EXIT_OK, rc;

	cli_conn_config(&o->conn, SLUICE_CONSUMER, &cfg);
	cfg.on_settled = on_settled;
	cfg.on_settled_arg = &st;
	c = open_client(&o->conn, &cfg, &code);
	if (!c)
		return code;
	rc = sluice_subscribe(c, o->queues, o->n_queues, o->prefetch);
	if (rc == 0)
		rc = sluice_consume(c, handle_job, &st, o->max_jobs,
				    o->idle_ms < 0 ? -1 : (int)o->idle_ms, &handled);
	if (rc && rc != -SLUICE_E_STOPPED) {
		fprintf(stderr, "sluice: %s\n", sluice_last_error(c));
		code = cli_exit_for(rc);
	}
	code = close_client(c, code);
	if (o->conn.verbose)
		fprintf(stderr,
			"sluice: %" PRIu64 " jobs handled: %" PRIu64 " completed, %" PRIu64
			" failed\n",
			handled, st.completed, st.failed);
	if (code == CLI_EXIT_OK && (st.failed || st.settle_refused || st.out_failed))
		code = CLI_EXIT_JOB;
	return code;
}

/* ---- ping ---- */

int
cli_cmd_ping(struct cli_ping *o)
{
	struct sluice_session_info info;
	struct sluice_config cfg;
	struct sluice_client *c;
	int code = CLI_EXIT_OK, rc = 0;
	uint32_t i;

	cli_conn_config(&o->conn, o->role, &cfg);
	c = open_client(&o->conn, &cfg, &code);
	if (!c)
		return code;
	sluice_session_info(c, &info);
	printf("connected to %s:%u: %s, session %" PRIu64 ", frames up to %u bytes, batches up "
	       "to %u jobs, heartbeat %u ms\n",
	       o->conn.host, o->conn.port, info.server_name[0] ? info.server_name : "(unnamed)",
	       info.session_id, info.max_frame_bytes, info.max_batch_jobs, info.heartbeat_ms);
	for (i = 0; i < o->count && rc == 0; i++) {
		uint64_t rtt;

		if (i) {
			struct timespec ts = { 0, 100 * 1000000L };

			nanosleep(&ts, NULL);
		}
		rc = sluice_ping(c, &rtt);
		if (rc == 0)
			printf("pong: seq=%u time=%" PRIu64 ".%03" PRIu64 " ms\n", i + 1,
			       rtt / 1000, rtt % 1000);
		fflush(stdout);
	}
	if (rc && rc != -SLUICE_E_STOPPED) {
		fprintf(stderr, "sluice: %s\n", sluice_last_error(c));
		code = cli_exit_for(rc);
	}
	return close_client(c, code);
}
