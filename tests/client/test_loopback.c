/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libsluice against the protocol-conformance harness (peer.h) over
 * 127.0.0.1: real TCP, real TLS on both ends, frames built and verified by
 * the schema library. Each case starts its own peer thread, drives the
 * client, then checks what both sides saw. Usage: test_loopback CERT_DIR
 *
 * This is a harness for the client's framing, TLS and recovery paths while
 * sluiced does not exist; end-to-end tests against sluiced must follow.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"
#include "sluice.h"
#include "../check.h"

static char dir[512];

/* Like CHECK(call == want), and says what the client reported when it fails. */
#define CHECK_RC(c, call, want)                                                                    \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		checks++;                                                                          \
		if (rc_ != (want)) {                                                               \
			failures++;                                                                \
			fprintf(stderr, "%s:%d: %s returned %d (%s): %s\n", __FILE__, __LINE__,    \
				#call, rc_, sluice_strerror(rc_), sluice_last_error(c));           \
		}                                                                                  \
	} while (0)

static const char *
path(const char *name)
{
	static char buf[4][600];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void
client_cfg(struct sluice_config *c, uint16_t port, enum sluice_role role)
{
	sluice_config_init(c);
	c->host = "127.0.0.1";
	c->port = port;
	c->ca_file = path("ca.pem");
	c->server_name = "sluice.test";
	c->token = "tok-1";
	c->role = role;
	c->connect_timeout_ms = 5000;
	c->io_timeout_ms = 5000;
}

static struct sluice_client *
client_new(const struct sluice_config *cfg)
{
	char err[300];
	struct sluice_client *c = sluice_client_new(cfg, err, sizeof(err));

	if (!c)
		fprintf(stderr, "sluice_client_new: %s\n", err);
	CHECK(c != NULL);
	return c;
}

static void
peer_done(struct peer *p, struct peer_stats *st)
{
	peer_join(p, st);
	if (st->violations)
		fprintf(stderr, "peer: %u violations, first: %s\n", st->violations, st->violation);
	CHECK(st->violations == 0);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Hello/Welcome, ping both ways, clean close. */
static void
test_session(void)
{
	struct peer_cfg pc = { .cert_dir = dir,
			       .token = "tok-1",
			       .max_batch_jobs = 50,
			       .heartbeat_ms = 1000,
			       .ping_client = true };
	struct sluice_session_info info;
	struct sluice_config cfg;
	struct sluice_client *c;
	struct peer_stats st;
	uint64_t rtt = 0;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);

	CHECK(p != NULL);
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	cfg.client_name = "loopback-test";
	c = client_new(&cfg);
	CHECK(sluice_session_info(c, &info) == -SLUICE_E_STATE);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK(sluice_session_info(c, &info) == 0);
	CHECK(info.session_id == 101 && info.max_batch_jobs == 50 && info.heartbeat_ms == 1000);
	CHECK(info.max_frame_bytes == (1u << 20));
	CHECK(strcmp(info.server_name, "conformance-peer") == 0);
	CHECK_RC(c, sluice_ping(c, &rtt), 0);
	CHECK(rtt > 0 && rtt < 5000000);
	CHECK_RC(c, sluice_ping(c, NULL), 0);
	CHECK_RC(c, sluice_close(c), 0);
	CHECK_RC(c, sluice_ping(c, NULL), -SLUICE_E_STATE);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.hellos == 1 && st.last_role == SLUICE_PRODUCER);
	CHECK(strcmp(st.token_seen, "tok-1") == 0);
	CHECK(st.pongs == 1); /* the client answered the peer's Ping */
	CHECK(st.goodbyes == 1 && st.close_notify == 1);
}

/* What a person sees when the session cannot be had. */
static void
test_refusals(void)
{
	struct peer_cfg pc = { .cert_dir = dir, .token = "the-right-token" };
	struct sluice_config cfg;
	struct sluice_client *c;
	struct peer_stats st;
	uint16_t port;
	struct peer *p;
	int fd;

	/* Wrong token: the peer's Error{Unauthenticated} becomes status + message. */
	p = peer_start(&pc, &port);
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), -SLUICE_E_REFUSED);
	CHECK(sluice_last_status(c) == SLUICE_STATUS_UNAUTHENTICATED);
	CHECK(strstr(sluice_last_error(c), "Unauthenticated: token refused") != NULL);
	CHECK(strstr(sluice_last_error(c), "--token") != NULL);
	sluice_client_free(c);
	peer_done(p, &st);

	/* A server certificate from another CA. */
	pc.token = NULL;
	p = peer_start(&pc, &port);
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	cfg.ca_file = path("rogue.pem");
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), -SLUICE_E_TLS);
	CHECK(strstr(sluice_last_error(c), "certificate") != NULL);
	sluice_client_free(c);
	peer_done(p, &st);

	/* The right CA, another name. */
	p = peer_start(&pc, &port);
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	cfg.server_name = "other.test";
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), -SLUICE_E_TLS);
	CHECK(strstr(sluice_last_error(c), "--server-name") != NULL);
	sluice_client_free(c);
	peer_done(p, &st);

	/* Client certificate required: refused without one, accepted with one. */
	pc.client_cert = TLS_CLIENT_CERT_REQUIRED;
	p = peer_start(&pc, &port);
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	c = client_new(&cfg);
	{
		int rc = sluice_connect(c);

		CHECK(rc == -SLUICE_E_TLS || rc == -SLUICE_E_CLOSED);
		CHECK(strstr(sluice_last_error(c), "client certificate") != NULL);
	}
	sluice_client_free(c);
	peer_done(p, &st);
	pc.sessions = 1;
	p = peer_start(&pc, &port);
	cfg.port = port;
	cfg.cert_file = path("client.pem");
	cfg.key_file = path("client.key");
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.hellos == 1);

	/* Nobody listening: a closed port on 127.0.0.1. */
	{
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t al = sizeof(a);

		fd = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
		CHECK(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
		close(fd);
		client_cfg(&cfg, ntohs(a.sin_port), SLUICE_PRODUCER);
		c = client_new(&cfg);
		CHECK_RC(c, sluice_connect(c), -SLUICE_E_CONNECT);
		CHECK(strstr(sluice_last_error(c), "is sluiced running") != NULL);
		sluice_client_free(c);
	}

	/* Configuration errors never reach the network. */
	{
		char err[300];

		client_cfg(&cfg, 1, SLUICE_PRODUCER);
		cfg.ca_file = NULL;
		CHECK(sluice_client_new(&cfg, err, sizeof(err)) == NULL);
		CHECK(strstr(err, "--ca") != NULL);
		cfg.ca_file = path("missing.pem");
		CHECK(sluice_client_new(&cfg, err, sizeof(err)) == NULL);
		CHECK(strstr(err, "missing.pem") != NULL);
		cfg.ca_file = path("ca.pem");
		cfg.cert_file = path("client.pem");
		CHECK(sluice_client_new(&cfg, err, sizeof(err)) == NULL);
		CHECK(strstr(err, "key") != NULL);
	}
}

struct collect {
	unsigned n;
	unsigned ok;
	unsigned seen[4096];
	unsigned status[4096];
	struct sluice_job_id ids[4096];
	int reentrant_rc;
	struct sluice_client *c;
};

static void
on_result(void *arg, const struct sluice_result *r)
{
	struct collect *k = arg;
	size_t i = (size_t)(uintptr_t)r->user;

	k->n++;
	k->ok += sluice_status_ok(r->status);
	if (i < 4096) {
		k->seen[i]++;
		k->status[i] = r->status;
		if (memcmp(&k->ids[i], &r->id, sizeof(r->id)) != 0)
			k->seen[i] += 1000; /* the id that came back is not the one sent */
	}
	if (k->c)
		k->reentrant_rc = sluice_ping(k->c, NULL);
}

/* Many jobs, pipelined and batched, results by callback. */
static void
test_pipelined(void)
{
	struct peer_cfg pc = { .cert_dir = dir, .max_batch_jobs = 50, .ack_hold = 4 };
	static struct collect k;
	struct sluice_config cfg;
	struct sluice_client *c;
	struct sluice_stats s;
	struct peer_stats st;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);
	unsigned i, once = 0;
	const unsigned n = 2000;

	memset(&k, 0, sizeof(k));
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	cfg.max_unacked_batches = 4;
	cfg.linger_ms = 5;
	cfg.on_result = on_result;
	cfg.on_result_arg = &k;
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	for (i = 0; i < n; i++) {
		char payload[32];
		struct sluice_header h = { "seq", payload };
		struct sluice_job j = { .queue = "emails", .type = "send.welcome" };

		snprintf(payload, sizeof(payload), "%u", i);
		j.payload = payload;
		j.payload_len = strlen(payload);
		j.headers = &h;
		j.n_headers = 1;
		if (sluice_enqueue(c, &j, (void *)(uintptr_t)i, &k.ids[i]) != 0) {
			fprintf(stderr, "enqueue %u: %s\n", i, sluice_last_error(c));
			CHECK(0);
			break;
		}
	}
	CHECK_RC(c, sluice_drain(c, 10000), 0);
	for (i = 0; i < n; i++)
		once += k.seen[i] == 1 && k.status[i] == SLUICE_STATUS_OK;
	CHECK(k.n == n && k.ok == n && once == n);
	sluice_get_stats(c, &s);
	CHECK(s.jobs_enqueued == n && s.jobs_ok == n && s.jobs_refused == 0);
	/* Callbacks may not call back into the client. */
	k.c = c;
	{
		struct sluice_job j = {
			.queue = "emails", .type = "t", .payload = "x", .payload_len = 1
		};

		CHECK_RC(c, sluice_enqueue(c, &j, (void *)(uintptr_t)4095, &k.ids[4095]), 0);
		CHECK_RC(c, sluice_drain(c, 5000), 0);
		CHECK(k.reentrant_rc == -SLUICE_E_REENTRANT);
	}
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.jobs == n + 1 && st.distinct_jobs == n + 1 && st.duplicates == 0);
	CHECK(st.max_batch_seen <= 50 && st.max_batch_seen > 1);
	CHECK(st.batches >= n / 50 && st.batches < n);
	CHECK(st.max_unacked_seen <= 4 && st.max_unacked_seen >= 2);
	CHECK(st.rate_limited == 0);
}

/* Synchronous batches: mixed outcomes, duplicates, local refusals, frame limits. */
static void
test_sync(void)
{
	struct peer_cfg pc = { .cert_dir = dir, .max_frame_bytes = 4096 };
	struct sluice_job jobs[4] = {
		{ .queue = "a", .type = "t", .payload = "1", .payload_len = 1 },
		{ .queue = "full", .type = "t", .payload = "2", .payload_len = 1 },
		{ .queue = "a", .type = "t", .payload = "3", .payload_len = 1, .priority = 15 },
		{ .queue = "nope", .type = "t", .payload = "4", .payload_len = 1 },
	};
	static char big[5000], mid[1000];
	struct sluice_result r[20];
	struct sluice_job many[20];
	struct sluice_config cfg;
	struct sluice_client *c;
	struct peer_stats st;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);
	unsigned i;

	client_cfg(&cfg, port, SLUICE_PRODUCER);
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK_RC(c, sluice_enqueue_wait(c, jobs, 4, r), 2);
	CHECK(r[0].status == SLUICE_STATUS_OK && r[1].status == SLUICE_STATUS_QUEUE_FULL);
	CHECK(r[2].status == SLUICE_STATUS_OK && r[3].status == SLUICE_STATUS_UNKNOWN_QUEUE);
	CHECK(sluice_status_class(r[1].status) == SLUICE_CLASS_RETRY);
	CHECK(sluice_status_class(r[3].status) == SLUICE_CLASS_REFUSED);
	/* The same id again: Duplicate, the original id, and it counts as success. */
	jobs[0].id = r[0].id;
	CHECK_RC(c, sluice_enqueue_wait(c, jobs, 1, r), 1);
	CHECK(r[0].status == SLUICE_STATUS_DUPLICATE);
	CHECK(memcmp(&r[0].id, &jobs[0].id, sizeof(r[0].id)) == 0);

	/* Refused here, before anything is sent. */
	jobs[0].queue = "bad queue";
	CHECK_RC(c, sluice_enqueue(c, &jobs[0], NULL, NULL), -SLUICE_E_INVALID);
	CHECK(strstr(sluice_last_error(c), "queue") != NULL);
	jobs[0].queue = "a";
	jobs[0].priority = 16;
	CHECK_RC(c, sluice_enqueue(c, &jobs[0], NULL, NULL), -SLUICE_E_INVALID);
	CHECK(strstr(sluice_last_error(c), "priority") != NULL);
	jobs[0].priority = 0;
	jobs[0].payload = big;
	jobs[0].payload_len = sizeof(big);
	CHECK_RC(c, sluice_enqueue(c, &jobs[0], NULL, NULL), -SLUICE_E_TOO_LARGE);

	/* 20 jobs of 1000 bytes under a 4096-byte frame limit: several batches, none too big. */
	memset(mid, 'm', sizeof(mid));
	for (i = 0; i < 20; i++)
		many[i] = (struct sluice_job){
			.queue = "a", .type = "t", .payload = mid, .payload_len = sizeof(mid)
		};
	CHECK_RC(c, sluice_enqueue_wait(c, many, 20, r), 20);
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.max_frame_seen <= 4096);
	CHECK(st.max_batch_seen <= 3);
	CHECK(st.distinct_jobs == 22 && st.duplicates == 1 && st.refused_jobs == 2);
}

/* The connection drops with batches unacked: reconnect, re-send by id, Duplicate is success. */
static void
test_reconnect(void)
{
	struct peer_cfg pc = { .cert_dir = dir, .sessions = 2, .drop_after = 3, .ack_hold = 8 };
	static struct collect k;
	struct sluice_config cfg;
	struct sluice_client *c;
	struct sluice_stats s;
	struct peer_stats st;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);
	unsigned i, n = 200, once = 0;

	memset(&k, 0, sizeof(k));
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	cfg.max_unacked_batches = 8;
	cfg.max_batch_jobs = 10;
	cfg.linger_ms = 50; /* full batches: the dropped ones hold 30 jobs */
	cfg.reconnect_attempts = 3;
	cfg.reconnect_backoff_ms = 20;
	cfg.on_result = on_result;
	cfg.on_result_arg = &k;
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	for (i = 0; i < n; i++) {
		struct sluice_job j = {
			.queue = "q", .type = "t", .payload = "p", .payload_len = 1
		};

		CHECK_RC(c, sluice_enqueue(c, &j, (void *)(uintptr_t)i, &k.ids[i]), 0);
	}
	CHECK_RC(c, sluice_drain(c, 10000), 0);
	for (i = 0; i < n; i++)
		once += k.seen[i] == 1 && sluice_status_ok(k.status[i]);
	CHECK(k.n == n && k.ok == n && once == n);
	sluice_get_stats(c, &s);
	CHECK(s.reconnects == 1);
	if (s.jobs_resent < 10)
		fprintf(stderr, "reconnect: %llu jobs re-sent\n",
			(unsigned long long)s.jobs_resent);
	CHECK(s.jobs_resent >= 10);
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.sessions == 2);
	if (st.duplicates < 10 || st.duplicates != s.jobs_duplicate)
		fprintf(stderr, "reconnect: peer saw %u duplicates, client %llu; %u batches\n",
			st.duplicates, (unsigned long long)s.jobs_duplicate, st.batches);
	CHECK(st.distinct_jobs == n);
	CHECK(st.duplicates >= 10 && st.duplicates == s.jobs_duplicate);
}

/* Error{RateLimited, seq}: the batch goes out again later, nothing is lost. */
static void
test_rate_limited(void)
{
	struct peer_cfg pc = { .cert_dir = dir, .rate_limit_nth = 2 };
	static struct collect k;
	struct sluice_config cfg;
	struct sluice_client *c;
	struct sluice_stats s;
	struct peer_stats st;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);
	unsigned i, n = 100;

	memset(&k, 0, sizeof(k));
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	cfg.max_batch_jobs = 10;
	cfg.on_result = on_result;
	cfg.on_result_arg = &k;
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	for (i = 0; i < n; i++) {
		struct sluice_job j = { .queue = "q", .type = "t" };

		CHECK_RC(c, sluice_enqueue(c, &j, (void *)(uintptr_t)i, &k.ids[i]), 0);
	}
	CHECK_RC(c, sluice_drain(c, 10000), 0);
	CHECK(k.n == n && k.ok == n);
	sluice_get_stats(c, &s);
	CHECK(s.jobs_resent >= 1 && s.jobs_duplicate == 0);
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.rate_limited == 1 && st.distinct_jobs == n && st.duplicates == 0);
}

/* Goodbye{ShuttingDown}: reported, or recovered from when reconnects are allowed. */
static void
test_goodbye(void)
{
	struct peer_cfg pc = { .cert_dir = dir, .goodbye_first = true };
	struct sluice_config cfg;
	struct sluice_client *c;
	struct sluice_stats s;
	struct peer_stats st;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);

	client_cfg(&cfg, port, SLUICE_PRODUCER);
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK_RC(c, sluice_ping(c, NULL), -SLUICE_E_CLOSED);
	if (sluice_last_status(c) != SLUICE_STATUS_SHUTTING_DOWN)
		fprintf(stderr, "goodbye: %s\n", sluice_last_error(c));
	CHECK(sluice_last_status(c) == SLUICE_STATUS_SHUTTING_DOWN);
	CHECK(strstr(sluice_last_error(c), "draining") != NULL);
	sluice_client_free(c);
	peer_done(p, &st);

	pc.sessions = 2;
	p = peer_start(&pc, &port);
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	cfg.reconnect_attempts = 2;
	cfg.reconnect_backoff_ms = 10;
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK_RC(c, sluice_ping(c, NULL), 0);
	sluice_get_stats(c, &s);
	CHECK(s.reconnects == 1);
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.sessions == 2 && st.hellos == 2);

	/* A frame that fails verification ends the session as a protocol error. */
	pc = (struct peer_cfg){ .cert_dir = dir, .garbage_after_hello = true };
	p = peer_start(&pc, &port);
	client_cfg(&cfg, port, SLUICE_PRODUCER);
	cfg.reconnect_attempts = 2;
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK_RC(c, sluice_ping(c, NULL), -SLUICE_E_PROTOCOL);
	CHECK(strstr(sluice_last_error(c), "invalid frame") != NULL);
	sluice_get_stats(c, &s);
	CHECK(s.reconnects == 0); /* a peer that cannot frame is not retried */
	sluice_client_free(c);
	peer_done(p, &st);
}

struct consume_state {
	unsigned handled;
	unsigned bad;
	unsigned settled[3][SLUICE_STATUS__COUNT];
	unsigned sleep_ms;
	size_t payload_bytes;
	bool heartbeat;
	struct sluice_client *c;
};

static void
handler(void *arg, struct sluice_client *c, const struct sluice_delivery *d,
	struct sluice_verdict *v)
{
	struct consume_state *s = arg;
	unsigned i = (unsigned)(sluice_delivery_lease_id(d) - 5000);
	char want[32], trace[16];
	const char *k, *val;
	size_t len;
	const void *pl = sluice_delivery_payload(d, &len);
	struct sluice_job_id id = sluice_delivery_id(d);

	snprintf(want, sizeof(want), "job-%u", i);
	snprintf(trace, sizeof(trace), "t%u", i);
	if (s->payload_bytes) {
		/* "job-<i>" padded with '.' to payload_bytes */
		s->bad += len != s->payload_bytes || memcmp(pl, want, strlen(want)) != 0;
		s->bad += len && ((const char *)pl)[len - 1] != '.';
	} else {
		s->bad += len != strlen(want) || memcmp(pl, want, len) != 0;
	}
	s->bad += strcmp(sluice_delivery_type(d), "demo.task") != 0;
	s->bad += strcmp(sluice_delivery_content_type(d), "text/plain") != 0;
	s->bad += sluice_delivery_attempt(d) != 1 || sluice_delivery_priority(d) != i % 16;
	s->bad += sluice_delivery_unique_key(d) != NULL;
	s->bad += id.b[15] != (uint8_t)(i + 1) || id.b[6] != 0x0a || id.b[7] != 0xbc;
	s->bad += sluice_delivery_n_headers(d) != 1;
	sluice_delivery_header(d, 0, &k, &val);
	s->bad += strcmp(k, "trace") != 0 || strcmp(val, trace) != 0;
	s->bad += sluice_delivery_enqueued_ms(d) != 1700000000000ull + i;
	/* Only sluice_heartbeat() may be called from here. */
	s->bad += sluice_ping(c, NULL) != -SLUICE_E_REENTRANT;
	for (unsigned t = 0; t < s->sleep_ms; t += 20) {
		sleep_ms(20);
		if (s->heartbeat)
			s->bad += sluice_heartbeat(c) != 0;
	}
	if (i % 2) {
		v->ok = false;
		v->reason = "odd job\x01";
		v->retry_delay_ms = 1000;
	}
	s->handled++;
}

static void
on_settled(void *arg, const struct sluice_settled *x)
{
	struct consume_state *s = arg;

	if (x->status < SLUICE_STATUS__COUNT)
		s->settled[x->op][x->status]++;
}

/* Deliveries, Complete/Fail with LeaseAcks, credit within prefetch. */
static void
test_consume(void)
{
	struct peer_cfg pc = { .cert_dir = dir, .deliver_jobs = 20, .lease_timeout_ms = 10000 };
	struct sluice_queue_weight q[2] = { { "alpha", 3 }, { "beta", 1 } };
	static struct consume_state cs;
	struct sluice_config cfg;
	struct sluice_client *c;
	struct sluice_stats s;
	struct peer_stats st;
	uint64_t handled = 0;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);

	memset(&cs, 0, sizeof(cs));
	client_cfg(&cfg, port, SLUICE_CONSUMER);
	cfg.on_settled = on_settled;
	cfg.on_settled_arg = &cs;
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK_RC(c, sluice_consume(c, handler, &cs, 1, 10, NULL), -SLUICE_E_STATE);
	{
		struct sluice_job j = { .queue = "q", .type = "t" };

		CHECK_RC(c, sluice_enqueue(c, &j, NULL, NULL), -SLUICE_E_STATE); /* consumer role */
	}
	CHECK_RC(c, sluice_subscribe(c, q, 2, 4), 0);
	CHECK_RC(c, sluice_subscribe(c, q, 2, 4), -SLUICE_E_STATE);
	CHECK_RC(c, sluice_consume(c, handler, &cs, 20, 3000, &handled), 0);
	CHECK(handled == 20 && cs.handled == 20 && cs.bad == 0);
	CHECK(cs.settled[SLUICE_SETTLE_COMPLETE][SLUICE_STATUS_OK] == 10);
	CHECK(cs.settled[SLUICE_SETTLE_FAIL][SLUICE_STATUS_OK] == 10);
	sluice_get_stats(c, &s);
	CHECK(s.deliveries == 20 && s.completed == 10 && s.failed == 10 && s.settle_refused == 0);
	/* Nothing more to lease: an idle consume returns after its idle time. */
	CHECK_RC(c, sluice_consume(c, handler, &cs, 0, 50, &handled), 0 && handled == 0);
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.subscribes == 1 && st.prefetch == 4 && st.delivered == 20);
	CHECK(st.completes == 10 && st.fails == 10 && st.late_settles == 0);
	CHECK(st.max_credit_held <= 4 && st.credit_frames >= 1);
	CHECK(strcmp(st.fail_reason, "odd job?") == 0);
}

/* A slow handler keeps its lease (and the buffered one) alive by heartbeat; without, it expires. */
static void
test_heartbeat(void)
{
	struct sluice_queue_weight q = { "slow", 1 };
	static struct consume_state cs;
	struct sluice_config cfg;
	struct sluice_client *c;
	struct sluice_stats s;
	struct peer_stats st;
	uint16_t port;
	int with;

	for (with = 1; with >= 0; with--) {
		struct peer_cfg pc = { .cert_dir = dir,
				       .deliver_jobs = 2,
				       .lease_timeout_ms = 300 };
		struct peer *p = peer_start(&pc, &port);

		memset(&cs, 0, sizeof(cs));
		cs.sleep_ms = 800;
		cs.heartbeat = with;
		client_cfg(&cfg, port, SLUICE_CONSUMER);
		cfg.on_settled = on_settled;
		cfg.on_settled_arg = &cs;
		c = client_new(&cfg);
		CHECK_RC(c, sluice_connect(c), 0);
		CHECK_RC(c, sluice_subscribe(c, &q, 1, 2), 0);
		CHECK_RC(c, sluice_consume(c, handler, &cs, 2, 3000, NULL), 0);
		sluice_get_stats(c, &s);
		CHECK(cs.handled == 2 && cs.bad == 0);
		if (with) {
			CHECK(cs.settled[SLUICE_SETTLE_COMPLETE][SLUICE_STATUS_OK] == 1);
			CHECK(cs.settled[SLUICE_SETTLE_FAIL][SLUICE_STATUS_OK] == 1);
			CHECK(cs.settled[SLUICE_SETTLE_EXTEND][SLUICE_STATUS_OK] >= 4);
			CHECK(s.extends >= 4 && s.settle_refused == 0);
		} else {
			CHECK(cs.settled[SLUICE_SETTLE_COMPLETE][SLUICE_STATUS_LEASE_EXPIRED] == 1);
			CHECK(s.settle_refused >= 1);
		}
		CHECK_RC(c, sluice_close(c), 0);
		sluice_client_free(c);
		peer_done(p, &st);
		if (with)
			CHECK(st.late_settles == 0 && st.extends >= 4);
		else
			CHECK(st.late_settles >= 1);
	}
}

/* Subscribe refusals come back as status + message; the session goes on. */
static void
test_subscribe_refused(void)
{
	struct peer_cfg pc = { .cert_dir = dir, .deliver_jobs = 1, .lease_timeout_ms = 5000 };
	struct sluice_queue_weight nope = { "nope", 1 }, secret = { "secret", 1 }, ok = { "ok", 0 };
	static struct consume_state cs;
	struct sluice_config cfg;
	struct sluice_client *c;
	struct peer_stats st;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);

	memset(&cs, 0, sizeof(cs));
	client_cfg(&cfg, port, SLUICE_BOTH);
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK_RC(c, sluice_subscribe(c, &nope, 1, 1), -SLUICE_E_REFUSED);
	CHECK(sluice_last_status(c) == SLUICE_STATUS_UNKNOWN_QUEUE);
	CHECK(strstr(sluice_last_error(c), "no queue named nope") != NULL);
	CHECK_RC(c, sluice_subscribe(c, &secret, 1, 1), -SLUICE_E_REFUSED);
	CHECK(sluice_last_status(c) == SLUICE_STATUS_FORBIDDEN);
	CHECK_RC(c, sluice_subscribe(c, &ok, 1, 0), -SLUICE_E_INVALID);
	CHECK_RC(c, sluice_subscribe(c, &ok, 1, 1), 0);
	CHECK_RC(c, sluice_consume(c, handler, &cs, 1, 3000, NULL), 0);
	CHECK(cs.handled == 1 && cs.bad == 0);
	{
		/* role Both may also produce on the same session */
		struct sluice_job j = { .queue = "q", .type = "t" };
		struct sluice_result r;

		CHECK_RC(c, sluice_enqueue_wait(c, &j, 1, &r), 1);
	}
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.subscribes == 3 && st.completes == 1 && st.last_role == SLUICE_BOTH);
}

/* Frames near the 1 MiB limit both ways: TLS records in pieces, buffers that grow. */
static void
test_large_frames(void)
{
	struct peer_cfg pc = { .cert_dir = dir,
			       .deliver_jobs = 3,
			       .deliver_bytes = 900000,
			       .lease_timeout_ms = 10000 };
	struct sluice_queue_weight q = { "big", 1 };
	static struct consume_state cs;
	static char big[300000];
	struct sluice_job jobs[7];
	struct sluice_result r[7];
	struct sluice_config cfg;
	struct sluice_client *c;
	struct peer_stats st;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);
	unsigned i;

	memset(&cs, 0, sizeof(cs));
	cs.payload_bytes = 900000;
	memset(big, 'b', sizeof(big));
	for (i = 0; i < 7; i++)
		jobs[i] = (struct sluice_job){
			.queue = "big", .type = "t", .payload = big, .payload_len = sizeof(big)
		};
	client_cfg(&cfg, port, SLUICE_BOTH);
	cfg.linger_ms = 50; /* full batches: three 300 KB jobs per frame */
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK_RC(c, sluice_enqueue_wait(c, jobs, 7, r), 7);
	CHECK_RC(c, sluice_subscribe(c, &q, 1, 3), 0);
	CHECK_RC(c, sluice_consume(c, handler, &cs, 3, 5000, NULL), 0);
	CHECK(cs.handled == 3 && cs.bad == 0);
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.distinct_jobs == 7 && st.max_batch_seen <= 3 && st.batches >= 3);
	CHECK(st.max_frame_seen > 600000 && st.max_frame_seen <= (1u << 20));
	CHECK(st.completes == 2 && st.fails == 1);
}

/* A consumer whose session drops: it reconnects and subscribes again by itself. */
static void
test_consume_reconnect(void)
{
	struct peer_cfg pc = { .cert_dir = dir,
			       .sessions = 2,
			       .deliver_jobs = 10,
			       .drop_deliver = 3,
			       .lease_timeout_ms = 10000 };
	struct sluice_queue_weight q = { "work", 1 };
	static struct consume_state cs;
	struct sluice_config cfg;
	struct sluice_client *c;
	struct sluice_stats s;
	struct peer_stats st;
	uint64_t handled = 0;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);

	memset(&cs, 0, sizeof(cs));
	client_cfg(&cfg, port, SLUICE_CONSUMER);
	cfg.reconnect_attempts = 3;
	cfg.reconnect_backoff_ms = 20;
	cfg.on_settled = on_settled;
	cfg.on_settled_arg = &cs;
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	CHECK_RC(c, sluice_subscribe(c, &q, 1, 2), 0);
	/* The harness does not re-deliver what the lost session held: stop when idle. */
	CHECK_RC(c, sluice_consume(c, handler, &cs, 10, 500, &handled), 0);
	sluice_get_stats(c, &s);
	CHECK(s.reconnects == 1);
	CHECK(handled >= 7 && cs.bad == 0);
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.sessions == 2 && st.subscribes == 2 && st.hellos == 2);
	CHECK(st.delivered == 10);
	{
		unsigned ok = cs.settled[SLUICE_SETTLE_COMPLETE][SLUICE_STATUS_OK] +
			      cs.settled[SLUICE_SETTLE_FAIL][SLUICE_STATUS_OK];
		unsigned lost = cs.settled[SLUICE_SETTLE_COMPLETE][SLUICE_STATUS_LEASE_NOT_FOUND] +
				cs.settled[SLUICE_SETTLE_FAIL][SLUICE_STATUS_LEASE_NOT_FOUND] +
				cs.settled[SLUICE_SETTLE_COMPLETE][SLUICE_STATUS_UNAVAILABLE] +
				cs.settled[SLUICE_SETTLE_FAIL][SLUICE_STATUS_UNAVAILABLE];

		/* Each handled job has exactly one outcome; the peer acked what it got. */
		CHECK(ok + lost == handled);
		CHECK(ok == st.completes + st.fails);
		/* Deliveries of the dropped session that were never handled died with it. */
		CHECK(st.delivered - handled <= 3);
	}
}

/* Server-assigned ids when the producer asks for them. */
static void
test_server_ids(void)
{
	struct peer_cfg pc = { .cert_dir = dir };
	struct sluice_job j = { .queue = "q", .type = "t" };
	struct sluice_config cfg;
	struct sluice_client *c;
	struct sluice_result r[2];
	struct sluice_job two[2];
	struct peer_stats st;
	uint16_t port;
	struct peer *p = peer_start(&pc, &port);

	client_cfg(&cfg, port, SLUICE_PRODUCER);
	cfg.server_assigns_ids = true;
	c = client_new(&cfg);
	CHECK_RC(c, sluice_connect(c), 0);
	two[0] = two[1] = j;
	CHECK_RC(c, sluice_enqueue_wait(c, two, 2, r), 2);
	CHECK(r[0].id.b[6] == 0xfe && r[0].id.b[7] == 0xed && r[0].id.b[15] == 1);
	CHECK(r[1].id.b[15] == 2);
	CHECK_RC(c, sluice_close(c), 0);
	sluice_client_free(c);
	peer_done(p, &st);
	CHECK(st.distinct_jobs == 2);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_loopback CERT_DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	test_session();
	test_refusals();
	test_pipelined();
	test_sync();
	test_reconnect();
	test_rate_limited();
	test_goodbye();
	test_consume();
	test_heartbeat();
	test_subscribe_refused();
	test_server_ids();
	test_large_frames();
	test_consume_reconnect();
	return CHECK_SUMMARY();
}
