/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session life of a libsluice client: configuration, connect (TLS, Hello,
 * Welcome), the event loop that every blocking call turns, frame dispatch,
 * recovery after a lost session, ping, close.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_pvt.h"

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int
sl_fail(struct sluice_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->last_err = err;
	return -err;
}

int
sl_enter(struct sluice_client *c, const char *what)
{
	if (c->depth)
		return sl_fail(c, SLUICE_E_REENTRANT,
			       "%s called from a callback of the same client", what);
	if (!c->connected)
		return sl_fail(c, SLUICE_E_STATE, "%s: not connected (%s)", what,
			       c->generation ? "the session was closed or lost"
					     : "call sluice_connect first");
	if (c->deferred) {
		/* A refusal that arrived after the call that caused it had returned. */
		int rc = c->deferred;

		c->deferred = 0;
		return rc;
	}
	return 0;
}

struct wire_jobid
sl_id_to_wire(const struct sluice_job_id *id)
{
	struct wire_jobid w = { 0, 0 };
	unsigned i;

	for (i = 0; i < 8; i++) {
		w.hi = w.hi << 8 | id->b[i];
		w.lo = w.lo << 8 | id->b[8 + i];
	}
	return w;
}

struct sluice_job_id
sl_id_from_wire(struct wire_jobid w)
{
	struct sluice_job_id id;
	unsigned i;

	for (i = 0; i < 8; i++) {
		id.b[7 - i] = (uint8_t)(w.hi >> (8 * i));
		id.b[15 - i] = (uint8_t)(w.lo >> (8 * i));
	}
	return id;
}

void
sluice_config_init(struct sluice_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = SLUICE_PRODUCER;
}

/* Copy the config's strings into one block owned by the client. */
static int
copy_strings(struct sluice_client *c, const struct sluice_config *in)
{
	const char **fields[] = { &c->cfg.host,       &c->cfg.ca_file,  &c->cfg.server_name,
				  &c->cfg.cert_file,  &c->cfg.key_file, &c->cfg.token,
				  &c->cfg.client_name };
	size_t total = 0, i;
	char *p;

	c->cfg = *in;
	if (!c->cfg.server_name)
		c->cfg.server_name = c->cfg.host;
	if (!c->cfg.client_name)
		c->cfg.client_name = "libsluice";
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (*fields[i])
			total += strlen(*fields[i]) + 1;
	c->strs = p = malloc(total ? total : 1);
	if (!p)
		return -1;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (*fields[i]) {
			size_t l = strlen(*fields[i]) + 1;

			memcpy(p, *fields[i], l);
			*fields[i] = p;
			p += l;
		}
	}
	return 0;
}

static int
config_check(const struct sluice_config *cfg, char *err, size_t errlen)
{
	if (!cfg->host || !*cfg->host) {
		snprintf(err, errlen, "no appliance address (set host; the CLI takes --addr)");
		return -1;
	}
	if (!cfg->ca_file || !*cfg->ca_file) {
		snprintf(err, errlen,
			 "no CA file: the appliance's certificate must be checked (--ca FILE)");
		return -1;
	}
	if (cfg->role < SLUICE_PRODUCER || cfg->role > SLUICE_BOTH) {
		snprintf(err, errlen, "role %d is not producer (1), consumer (2) or both (3)",
			 (int)cfg->role);
		return -1;
	}
	if (cfg->token && strlen(cfg->token) > WIRE_TOKEN_MAX) {
		snprintf(err, errlen, "token is %zu bytes; the most is %u", strlen(cfg->token),
			 WIRE_TOKEN_MAX);
		return -1;
	}
	if (cfg->client_name &&
	    wire_check_text(cfg->client_name, strlen(cfg->client_name), WIRE_CLIENT_NAME_MAX)) {
		snprintf(err, errlen, "client name must be printable ASCII, at most %u bytes",
			 WIRE_CLIENT_NAME_MAX);
		return -1;
	}
	if (cfg->max_batch_jobs > WIRE_BATCH_JOBS_CAP) {
		snprintf(err, errlen, "max_batch_jobs %u is above the protocol's cap of %u",
			 cfg->max_batch_jobs, WIRE_BATCH_JOBS_CAP);
		return -1;
	}
	if (cfg->max_unacked_batches > SL_UNACKED_MAX) {
		snprintf(err, errlen, "max_unacked_batches %u is above %u",
			 cfg->max_unacked_batches, SL_UNACKED_MAX);
		return -1;
	}
	if (!cfg->cert_file != !cfg->key_file) {
		snprintf(err, errlen,
			 "a client certificate needs both the certificate and its key");
		return -1;
	}
	return 0;
}

struct sluice_client *
sluice_client_new(const struct sluice_config *cfg, char *err, size_t errlen)
{
	struct sluice_client *c;
	struct tls_params tp;

	if (config_check(cfg, err, errlen))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c || copy_strings(c, cfg)) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sl_conn_init(&c->conn);
	atomic_init(&c->stop, false);
	if (!c->cfg.port)
		c->cfg.port = SLUICE_DEFAULT_PORT;
	if (!c->cfg.connect_timeout_ms)
		c->cfg.connect_timeout_ms = SL_CONNECT_TIMEOUT_DEFAULT;
	if (!c->cfg.io_timeout_ms)
		c->cfg.io_timeout_ms = SL_IO_TIMEOUT_DEFAULT;
	if (!c->cfg.max_unacked_batches)
		c->cfg.max_unacked_batches = SL_UNACKED_DEFAULT;
	if (!c->cfg.reconnect_backoff_ms)
		c->cfg.reconnect_backoff_ms = 100;
	c->ops.next_seq = SL_OPS_SEQ_BASE;
	c->msg[0] = '\0';
	if (sl_ledger_init(&c->ledger, c->cfg.max_unacked_batches, c->cfg.linger_ms)) {
		snprintf(err, errlen, "out of memory");
		sluice_client_free(c);
		return NULL;
	}
	tp = (struct tls_params){
		.server = false,
		.cert_file = c->cfg.cert_file,
		.key_file = c->cfg.key_file,
		.ca_file = c->cfg.ca_file,
		.server_name = c->cfg.server_name,
	};
	if (tls_ctx_init(&c->tls, &tp, err, errlen)) {
		tls_ctx_free(&c->tls);
		sluice_client_free(c);
		return NULL;
	}
	c->tls_ready = true;
	return c;
}

void
sluice_client_free(struct sluice_client *c)
{
	if (!c)
		return;
	/* Nobody is listening any more: no callbacks from inside free. */
	c->cfg.on_result = NULL;
	c->cfg.on_settled = NULL;
	if (c->connected || c->conn.fd >= 0)
		sl_conn_close(&c->conn, false, 0);
	c->connected = false;
	sl_consume_session_lost(c);
	sl_produce_abandon(c);
	sl_consume_free(c);
	sl_ledger_free(&c->ledger);
	if (c->tls_ready)
		tls_ctx_free(&c->tls);
	free(c->build);
	free(c->batch_in);
	free(c->strs);
	free(c);
}

int
sl_send_msg(struct sluice_client *c, const struct wire_msg_in *m)
{
	ssize_t n = wire_build(c->build, 4 + (size_t)c->out_max_frame, m);

	if (n == -WIRE_E_BUILD_NO_SPACE)
		return sl_fail(c, SLUICE_E_TOO_LARGE,
			       "%s frame does not fit the session's frame limit of %u bytes",
			       wire_msg_name(m->type), c->out_max_frame);
	if (n < 0)
		return sl_fail(c, SLUICE_E_INVALID, "cannot build %s frame: %s",
			       wire_msg_name(m->type), wire_error_name((int)n));
	if (sl_conn_send(&c->conn, c->build, (size_t)n))
		return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
	c->last_send_ms = sl_now_ms();
	return 0;
}

/* Limits of a new session, from its Welcome. */
static int
apply_welcome(struct sluice_client *c, const struct wire_welcome *w)
{
	struct wire_str name = wire_welcome_server_name(w);
	uint32_t frame = wire_welcome_max_frame_bytes(w), batch = wire_welcome_max_batch_jobs(w);
	uint8_t *nb;
	struct wire_job_in *ni;

	if (!frame)
		frame = WIRE_FRAME_BYTES_DEFAULT;
	if (frame > WIRE_FRAME_BYTES_CAP)
		frame = WIRE_FRAME_BYTES_CAP;
	if (!batch)
		batch = WIRE_BATCH_JOBS_DEFAULT;
	if (batch > WIRE_BATCH_JOBS_CAP)
		batch = WIRE_BATCH_JOBS_CAP;
	if (c->cfg.max_batch_jobs && c->cfg.max_batch_jobs < batch)
		batch = c->cfg.max_batch_jobs;
	nb = realloc(c->build, 4 + (size_t)frame);
	if (!nb)
		return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
	c->build = nb;
	ni = realloc(c->batch_in, (size_t)batch * sizeof(*ni));
	if (!ni)
		return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
	c->batch_in = ni;
	c->batch_in_cap = batch;
	c->out_max_frame = frame;
	c->info.session_id = wire_welcome_session_id(w);
	c->info.max_frame_bytes = frame;
	c->info.max_batch_jobs = batch;
	c->info.heartbeat_ms = wire_welcome_heartbeat_ms(w);
	snprintf(c->info.server_name, sizeof(c->info.server_name), "%.*s", (int)name.len,
		 name.p ? name.p : "");
	/* Accept what the appliance may send: its frame limit or the default, whichever is larger. */
	wire_limits_init(&c->conn.lim_in, frame > WIRE_FRAME_BYTES_DEFAULT ? frame : 0,
			 WIRE_PAYLOAD_BYTES_CAP, WIRE_BATCH_JOBS_CAP);
	sl_ledger_set_limits(&c->ledger, batch, frame);
	return 0;
}

static int
refused_by(struct sluice_client *c, const struct wire_error *e, const char *when)
{
	unsigned code = wire_error_code(e);
	struct wire_str m = wire_error_message(e);

	c->last_status = code;
	return sl_fail(c, SLUICE_E_REFUSED, "%s refused %s: %s%s%.*s (%s)", c->conn.peer, when,
		       sluice_status_name(code), m.len ? ": " : "", (int)m.len, m.p ? m.p : "",
		       sluice_status_hint(code));
}

static int
goodbye_from(struct sluice_client *c, const struct wire_goodbye *g)
{
	unsigned reason = wire_goodbye_reason(g);
	struct wire_str m = wire_goodbye_message(g);

	c->last_status = reason;
	return sl_fail(c, SLUICE_E_CLOSED, "%s closed the session: Goodbye %s%s%.*s", c->conn.peer,
		       sluice_status_name(reason), m.len ? ": " : "", (int)m.len, m.p ? m.p : "");
}

/* TCP, TLS, Hello, Welcome. */
static int
open_session(struct sluice_client *c)
{
	uint64_t deadline = sl_now_ms() + c->cfg.connect_timeout_ms;
	struct wire_msg_in m = { .type = WIRE_MSG_HELLO };
	char err[400];
	uint8_t hello[4 + 512];
	ssize_t n;
	int rc;

	c->last_status = SLUICE_STATUS_OK;
	rc = sl_conn_open(&c->conn, &c->tls, c->cfg.host, c->cfg.port, deadline, err, sizeof(err));
	if (rc)
		return sl_fail(c, -rc, "%s", err);
	m.u.hello.version = WIRE_PROTOCOL_VERSION;
	m.u.hello.role = (uint8_t)c->cfg.role;
	if (c->cfg.token)
		m.u.hello.token = (struct wire_bytes){ (const uint8_t *)c->cfg.token,
						       (uint32_t)strlen(c->cfg.token) };
	m.u.hello.client_name = wire_cstr(c->cfg.client_name);
	/* The session's frame limit is not known yet; a Hello is small by its bounds. */
	n = wire_build(hello, sizeof(hello), &m);
	if (n < 0 || sl_conn_send(&c->conn, hello, (size_t)n)) {
		sl_conn_close(&c->conn, false, 0);
		return sl_fail(c, SLUICE_E_NOMEM, "cannot build Hello");
	}
	for (;;) {
		const uint8_t *f;
		uint32_t len;
		int left = (int)(deadline > sl_now_ms() ? deadline - sl_now_ms() : 0);

		rc = sl_conn_io(&c->conn, left, err, sizeof(err));
		if (rc)
			break;
		rc = sl_conn_next(&c->conn, &f, &len, err, sizeof(err));
		if (rc < 0)
			break;
		if (rc == 1) {
			const struct wire_frame *root = wire_frame_root(f);

			if (wire_frame_welcome(root)) {
				rc = apply_welcome(c, wire_frame_welcome(root));
				if (rc)
					goto out;
				c->connected = true;
				c->generation++;
				c->last_send_ms = sl_now_ms();
				return 0;
			}
			if (wire_frame_error(root))
				rc = refused_by(c, wire_frame_error(root), "the session");
			else if (wire_frame_goodbye(root))
				rc = goodbye_from(c, wire_frame_goodbye(root));
			else
				rc = sl_fail(c, SLUICE_E_PROTOCOL,
					     "%s answered Hello with %s instead of Welcome",
					     c->conn.peer,
					     wire_msg_name(wire_frame_msg_type(root)));
			goto out;
		}
		if (c->conn.peer_closed) {
			rc = sl_fail(c, SLUICE_E_CLOSED,
				     "%s closed the connection after Hello without a Welcome",
				     c->conn.peer);
			goto out;
		}
		if (sl_now_ms() >= deadline) {
			rc = sl_fail(c, SLUICE_E_TIMEOUT, "no Welcome from %s within %u ms",
				     c->conn.peer, c->cfg.connect_timeout_ms);
			goto out;
		}
	}
	rc = sl_fail(c, -rc, "%s", err);
out:
	sl_conn_close(&c->conn, false, 0);
	return rc;
}

int
sluice_connect(struct sluice_client *c)
{
	if (c->depth)
		return sl_fail(c, SLUICE_E_REENTRANT, "sluice_connect called from a callback");
	if (c->connected)
		return sl_fail(c, SLUICE_E_STATE, "already connected");
	atomic_store(&c->stop, false);
	return open_session(c);
}

static bool
stopped(struct sluice_client *c)
{
	return atomic_load(&c->stop);
}

/*
 * The session is gone. Everything tied to it is dropped or put back, then,
 * if allowed, a new session is opened and the re-send set goes out on it.
 */
static int
session_lost(struct sluice_client *c, int err, bool may_reconnect)
{
	char why[sizeof(c->msg)];
	uint32_t backoff = c->cfg.reconnect_backoff_ms, i;
	int rc = err;

	snprintf(why, sizeof(why), "%s", c->msg);
	sl_conn_close(&c->conn, false, 0);
	c->connected = false;
	sl_consume_session_lost(c);
	sl_produce_session_lost(c);
	if (!may_reconnect || !c->cfg.reconnect_attempts || stopped(c)) {
		sl_produce_abandon(c);
		return err;
	}
	for (i = 0; i < c->cfg.reconnect_attempts && !stopped(c); i++) {
		struct timespec ts = { backoff / 1000, (long)(backoff % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stopped(c))
			;
		rc = open_session(c);
		if (rc == 0) {
			c->stats.reconnects++;
			c->info.reconnects++;
			rc = sl_consume_resubscribe(c);
			if (rc == 0)
				return 0;
			return session_lost(c, rc, false);
		}
		if (rc == -SLUICE_E_REFUSED &&
		    sluice_status_class(c->last_status) == SLUICE_CLASS_AUTH)
			break;
		backoff = backoff * 2 > SL_RECONNECT_BACKOFF_MAX ? SL_RECONNECT_BACKOFF_MAX
								 : backoff * 2;
	}
	{
		char last[sizeof(c->msg)];

		snprintf(last, sizeof(last), "%s", c->msg);
		sl_fail(c, -rc, "%s; reconnecting failed after %u attempt%s: %.200s", why, i,
			i == 1 ? "" : "s", last);
	}
	sl_produce_abandon(c);
	return rc;
}

static int
send_pong(struct sluice_client *c, uint64_t nonce)
{
	struct wire_msg_in m = { .type = WIRE_MSG_PONG };

	m.u.pong.nonce = nonce;
	m.u.pong.time_ms = wall_ms();
	return sl_send_msg(c, &m);
}

static int
send_ping(struct sluice_client *c, uint64_t nonce)
{
	struct wire_msg_in m = { .type = WIRE_MSG_PING };

	m.u.ping.nonce = nonce;
	m.u.ping.time_ms = wall_ms();
	return sl_send_msg(c, &m);
}

/* One verified frame from the appliance. */
static int
dispatch(struct sluice_client *c, const uint8_t *f, uint32_t len)
{
	const struct wire_frame *root = wire_frame_root(f);
	unsigned type = wire_frame_msg_type(root);
	const struct wire_error *e;

	switch (type) {
	case WIRE_MSG_ENQUEUE_ACK:
		return sl_produce_on_ack(c, wire_frame_enqueue_ack(root));
	case WIRE_MSG_DELIVER:
		return sl_consume_on_deliver(c, f, len, wire_frame_deliver(root));
	case WIRE_MSG_LEASE_ACK:
		return sl_consume_on_lease_ack(c, wire_frame_lease_ack(root));
	case WIRE_MSG_PING:
		return send_pong(c, wire_ping_nonce(wire_frame_ping(root)));
	case WIRE_MSG_PONG:
		if (c->ping_nonce && wire_pong_nonce(wire_frame_pong(root)) == c->ping_nonce)
			c->pong_seen = true;
		return 0;
	case WIRE_MSG_ERROR:
		e = wire_frame_error(root);
		if (wire_error_ref_seq(e) &&
		    (sl_produce_on_error(c, wire_error_ref_seq(e), wire_error_code(e)) ||
		     sl_consume_on_error(c, wire_error_ref_seq(e), wire_error_code(e))))
			return 0;
		return refused_by(c, e, "a request");
	case WIRE_MSG_GOODBYE:
		return goodbye_from(c, wire_frame_goodbye(root));
	default:
		return sl_fail(c, SLUICE_E_PROTOCOL, "%s sent an unexpected %s frame", c->conn.peer,
			       wire_msg_name(type));
	}
}

/*
 * Keepalive: a Ping when nothing was sent for the session's heartbeat_ms
 * (Welcome), so an idle consumer is not closed for silence.
 */
static int
keepalive_due(struct sluice_client *c, uint64_t now, int64_t *next)
{
	uint64_t keepalive = c->info.heartbeat_ms ? c->info.heartbeat_ms : SL_KEEPALIVE_DEFAULT;
	int64_t ka;
	int rc;

	if (now >= c->last_send_ms + keepalive) {
		rc = send_ping(c, ++c->ping_seq);
		if (rc)
			return rc;
	}
	ka = (int64_t)(c->last_send_ms + keepalive) - (int64_t)now;
	if (ka < 0)
		ka = 0;
	if (*next < 0 || ka < *next)
		*next = ka;
	return 0;
}

/* Everything with a timer: batches, credit, extensions, Completes, keepalive. */
static int
send_due(struct sluice_client *c, uint64_t now, int64_t *next)
{
	int rc;

	*next = -1;
	rc = sl_produce_send_due(c, now, false, next);
	if (rc == 0)
		rc = sl_consume_send_due(c, now, false, next);
	if (rc == 0)
		rc = keepalive_due(c, now, next);
	return rc;
}

int
sluice_heartbeat(struct sluice_client *c)
{
	char err[400];
	int64_t next = -1;
	uint64_t now = sl_now_ms();
	int rc;

	/* Allowed inside a handler: it only sends, so no callback can run from here. */
	if (!c->connected)
		return sl_fail(c, SLUICE_E_STATE, "sluice_heartbeat: not connected");
	rc = sl_consume_send_due(c, now, false, &next);
	if (rc == 0)
		rc = keepalive_due(c, now, &next);
	if (rc)
		return rc;
	rc = sl_conn_push(&c->conn, err, sizeof(err));
	return rc ? sl_fail(c, -rc, "%s", err) : 0;
}

int
sl_pump(struct sluice_client *c, int timeout_ms)
{
	char err[400], io_err[400];
	const uint8_t *f;
	uint32_t len;
	int64_t next;
	int rc, io, wait = timeout_ms;

	if (!c->connected)
		return sl_fail(c, SLUICE_E_CLOSED, "the session is closed");
	rc = send_due(c, sl_now_ms(), &next);
	if (rc)
		return rc;
	if (next >= 0 && (wait < 0 || next < wait))
		wait = (int)next;
	io = sl_conn_io(&c->conn, wait, io_err, sizeof(io_err));
	/* Frames that arrived before a failure still count (a Goodbye says why). */
	while ((rc = sl_conn_next(&c->conn, &f, &len, err, sizeof(err))) == 1) {
		rc = dispatch(c, f, len);
		if (rc == -SLUICE_E_REFUSED)
			return rc; /* the session goes on; the caller decides */
		if (rc == -SLUICE_E_CLOSED)
			return session_lost(
				c, rc, sluice_status_class(c->last_status) == SLUICE_CLASS_RETRY);
		if (rc)
			return session_lost(c, rc, false);
	}
	if (rc < 0) {
		sl_fail(c, -rc, "%s", err);
		return session_lost(c, rc, false);
	}
	if (io) {
		sl_fail(c, -io, "%s", io_err);
		return session_lost(c, io, true);
	}
	if (c->conn.peer_closed) {
		sl_fail(c, SLUICE_E_CLOSED, "%s closed the connection", c->conn.peer);
		return session_lost(c, -SLUICE_E_CLOSED, true);
	}
	return 0;
}

int
sluice_close(struct sluice_client *c)
{
	struct wire_msg_in m = { .type = WIRE_MSG_GOODBYE };
	int64_t next;
	int rc = 0;

	if (c->depth)
		return sl_fail(c, SLUICE_E_REENTRANT, "sluice_close called from a callback");
	if (c->connected) {
		/* Settled leases first: a Complete left behind would make the job run twice. */
		rc = sl_consume_send_due(c, sl_now_ms(), true, &next);
		m.u.goodbye.reason = SLUICE_STATUS_OK;
		if (rc == 0)
			rc = sl_send_msg(c, &m);
		sl_conn_close(&c->conn, true,
			      sl_now_ms() +
				      (c->cfg.io_timeout_ms < 2000 ? c->cfg.io_timeout_ms : 2000));
		c->connected = false;
	}
	sl_consume_session_lost(c);
	c->subscribed = false;
	sl_produce_session_lost(c);
	sl_produce_abandon(c);
	return rc;
}

int
sluice_ping(struct sluice_client *c, uint64_t *rtt_us)
{
	uint64_t deadline, t0 = 0;
	uint32_t gen = 0;
	int rc = sl_enter(c, "sluice_ping");

	if (rc)
		return rc;
	deadline = sl_now_ms() + c->cfg.io_timeout_ms;
	c->pong_seen = false;
	for (;;) {
		uint64_t now = sl_now_ms();

		if (gen != c->generation) {
			/* First round, or the session was re-established: ask (again). */
			gen = c->generation;
			c->ping_nonce = ++c->ping_seq;
			t0 = sl_now_us();
			rc = send_ping(c, c->ping_nonce);
			if (rc)
				break;
		}
		if (c->pong_seen)
			break;
		if (stopped(c)) {
			rc = sl_fail(c, SLUICE_E_STOPPED, "stopped");
			break;
		}
		if (now >= deadline) {
			rc = sl_fail(c, SLUICE_E_TIMEOUT, "no Pong from %s within %u ms",
				     c->conn.peer, c->cfg.io_timeout_ms);
			break;
		}
		rc = sl_pump(c, (int)(deadline - now));
		if (rc)
			break;
	}
	c->ping_nonce = 0;
	if (rc == 0 && rtt_us)
		*rtt_us = sl_now_us() - t0;
	return rc;
}

void
sluice_stop(struct sluice_client *c)
{
	atomic_store(&c->stop, true);
}

int
sluice_session_info(const struct sluice_client *c, struct sluice_session_info *info)
{
	if (!c->generation)
		return -SLUICE_E_STATE;
	*info = c->info;
	return 0;
}

const char *
sluice_last_error(const struct sluice_client *c)
{
	return c->msg;
}

unsigned
sluice_last_status(const struct sluice_client *c)
{
	return c->last_status;
}

void
sluice_get_stats(const struct sluice_client *c, struct sluice_stats *s)
{
	*s = c->stats;
}
