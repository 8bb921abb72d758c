/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session engine and ingress policy tests: frames from the real builder go
 * into a session, the frames it writes are verified and read back; the
 * environment records what the session asked of the lcore.
 */
#include <stdio.h>
#include <stdlib.h>

#include "policy.h"
#include "sess.h"
#include "../check.h"

/* ---- a recording environment ---- */

struct rec {
	int auth_calls;
	uint8_t role;
	char token[64];
	int enqueues;
	int pending_next; /* enqueue/settle answer: SESS_PENDING or a status */
	uint32_t last_slot;
	int subscribes;
	enum wire_status subscribe_answer;
	uint32_t credit;
	int settles;
	enum sess_op last_op;
	uint64_t last_lease;
};

static struct rec rec;

static void
env_auth(void *arg, struct sess *s, const uint8_t *token, uint32_t len, uint8_t role)
{
	(void)arg;
	(void)s;
	rec.auth_calls++;
	rec.role = role;
	snprintf(rec.token, sizeof(rec.token), "%.*s", (int)len, (const char *)token);
}

static int
env_enqueue(void *arg, struct sess *s, uint32_t slot, uint32_t idx, const struct wire_job *job)
{
	(void)arg;
	(void)s;
	(void)idx;
	(void)job;
	rec.enqueues++;
	rec.last_slot = slot;
	return rec.pending_next;
}

static enum wire_status
env_subscribe(void *arg, struct sess *s, const struct wire_subscribe *sub)
{
	(void)arg;
	(void)s;
	(void)sub;
	rec.subscribes++;
	return rec.subscribe_answer;
}

static void
env_credit(void *arg, struct sess *s, uint32_t n)
{
	(void)arg;
	(void)s;
	rec.credit += n;
}

static int
env_settle(void *arg, struct sess *s, uint32_t slot, uint32_t idx, enum sess_op op,
	   uint64_t lease_id, uint32_t ms, bool dead)
{
	(void)arg;
	(void)s;
	(void)idx;
	(void)ms;
	(void)dead;
	rec.settles++;
	rec.last_slot = slot;
	rec.last_op = op;
	rec.last_lease = lease_id;
	return rec.pending_next;
}

static uint64_t
env_wall(void *arg)
{
	(void)arg;
	return 1234;
}

static const struct sess_env env = {
	.auth = env_auth,
	.enqueue = env_enqueue,
	.subscribe = env_subscribe,
	.credit = env_credit,
	.settle = env_settle,
	.wall_ms = env_wall,
};

static struct sess_cfg cfg;
static struct sess_stats stats;
static struct sess s;
static void *mem;
static struct pol_principal principal = { .name = "p", .max_priority = 15 };

static void
start(uint64_t now)
{
	memset(&rec, 0, sizeof(rec));
	rec.pending_next = SESS_PENDING;
	sess_init(&s, &cfg, &env, &stats, mem, 42, now);
}

/* Feed one message as a frame. */
static enum sess_state
feed(const struct wire_msg_in *m, uint64_t now)
{
	uint8_t *p;
	uint32_t room = sess_in_space(&s, &p);
	ssize_t n = wire_build(p, room, m);

	CHECK(n > 0);
	return sess_in_commit(&s, n > 0 ? (uint32_t)n : 0, now);
}

static enum sess_state
feed_bytes(const void *b, uint32_t n, uint64_t now)
{
	uint8_t *p;

	CHECK(sess_in_space(&s, &p) >= n);
	memcpy(p, b, n);
	return sess_in_commit(&s, n, now);
}

/* Take the next frame the session wrote; NULL if none. Verified first. */
static const struct wire_frame *
next_out(void)
{
	static uint8_t frame[1 << 20];
	const uint8_t *p;
	uint32_t n = sess_out_pending(&s, &p), l;

	if (n < 4)
		return NULL;
	l = wire_ld32(p);
	CHECK(n >= 4 + l);
	memcpy(frame, p, 4 + l);
	sess_out_consume(&s, 4 + l);
	CHECK(wire_verify(frame, 4 + l, NULL, NULL) == 0);
	return wire_frame_root(frame);
}

static void
open_session(uint8_t role)
{
	struct wire_msg_in m = { .type = WIRE_MSG_HELLO };
	const struct wire_frame *f;

	start(1000);
	m.u.hello.version = 1;
	m.u.hello.role = role;
	m.u.hello.token = (struct wire_bytes){ (const uint8_t *)"slq_secret", 10 };
	CHECK(feed(&m, 1000) == SESS_AUTH);
	CHECK(rec.auth_calls == 1 && rec.role == role && strcmp(rec.token, "slq_secret") == 0);
	CHECK(next_out() == NULL); /* nothing until the authenticator answers */
	sess_auth_done(&s, WIRE_STATUS_OK, &principal);
	CHECK(s.state == SESS_OPEN);
	f = next_out();
	CHECK(f && wire_frame_welcome(f));
	if (f && wire_frame_welcome(f)) {
		CHECK(wire_welcome_session_id(wire_frame_welcome(f)) == 42);
		CHECK(wire_welcome_max_batch_jobs(wire_frame_welcome(f)) == cfg.lim.max_batch_jobs);
	}
}

static void
expect_error(enum wire_status code, const char *msg_part)
{
	const struct wire_frame *f = next_out();
	const struct wire_error *e = f ? wire_frame_error(f) : NULL;

	CHECK(e != NULL);
	if (!e)
		return;
	CHECK(wire_error_code(e) == code);
	if (msg_part) {
		struct wire_str m = wire_error_message(e);
		char text[300];

		snprintf(text, sizeof(text), "%.*s", (int)m.len, m.p);
		if (!strstr(text, msg_part))
			fprintf(stderr, "error message '%s' lacks '%s'\n", text, msg_part);
		CHECK(strstr(text, msg_part) != NULL);
	}
}

static void
test_hello(void)
{
	struct wire_msg_in ping = { .type = WIRE_MSG_PING };
	struct wire_msg_in hello = { .type = WIRE_MSG_HELLO };

	/* A frame before Hello: Error{Invalid} and close. */
	start(0);
	CHECK(feed(&ping, 0) == SESS_CLOSING);
	expect_error(WIRE_STATUS_INVALID, "first frame must be Hello");

	/* Refused token: Error{Unauthenticated}, close, no Welcome. */
	start(0);
	hello.u.hello.version = 1;
	hello.u.hello.role = WIRE_ROLE_PRODUCER;
	feed(&hello, 0);
	sess_auth_done(&s, WIRE_STATUS_UNAUTHENTICATED, NULL);
	CHECK(s.state == SESS_CLOSING);
	expect_error(WIRE_STATUS_UNAUTHENTICATED, "token refused");

	/* Frames while authentication is pending are a violation. */
	start(0);
	feed(&hello, 0);
	CHECK(feed(&ping, 0) == SESS_CLOSING);
	expect_error(WIRE_STATUS_INVALID, "before Welcome");

	/* Hello twice. */
	open_session(WIRE_ROLE_PRODUCER);
	CHECK(feed(&hello, 2000) == SESS_CLOSING);
	expect_error(WIRE_STATUS_INVALID, "twice");

	/* Hello deadline (slowloris): nothing sent within hello_timeout. */
	start(0);
	CHECK(sess_tick(&s, cfg.hello_timeout_ms - 1) == SESS_HELLO);
	CHECK(sess_tick(&s, cfg.hello_timeout_ms) == SESS_CLOSING);
	expect_error(WIRE_STATUS_TIMEOUT, NULL);

	/* Ping answered with the same nonce. */
	open_session(WIRE_ROLE_BOTH);
	ping.u.ping.nonce = 777;
	feed(&ping, 2000);
	{
		const struct wire_frame *f = next_out();

		CHECK(f && wire_frame_pong(f) && wire_pong_nonce(wire_frame_pong(f)) == 777 &&
		      wire_pong_time_ms(wire_frame_pong(f)) == 1234);
	}
	/* Idle: a Goodbye{Timeout} after idle_timeout of silence. */
	CHECK(sess_tick(&s, 2000 + cfg.idle_timeout_ms - 1) == SESS_OPEN);
	CHECK(sess_tick(&s, 2000 + cfg.idle_timeout_ms) == SESS_CLOSING);
	{
		const struct wire_frame *f = next_out();

		CHECK(f && wire_frame_goodbye(f) &&
		      wire_goodbye_reason(wire_frame_goodbye(f)) == WIRE_STATUS_TIMEOUT);
	}
}

static void
batch_of(struct wire_msg_in *m, struct wire_job_in *jobs, uint32_t n, uint64_t seq)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		jobs[i] = (struct wire_job_in){ .queue = wire_cstr("q"), .type = wire_cstr("t") };
	*m = (struct wire_msg_in){ .type = WIRE_MSG_ENQUEUE_BATCH };
	m->u.enqueue_batch.seq = seq;
	m->u.enqueue_batch.jobs = jobs;
	m->u.enqueue_batch.n_jobs = n;
}

static void
test_enqueue(void)
{
	struct wire_job_in jobs[4];
	struct wire_msg_in m;
	const struct wire_frame *f;
	struct wire_jobid id7 = { 7, 7 };
	uint32_t slot, i;

	/* Mixed: two immediate refusals, two pending; the ack waits for all. */
	open_session(WIRE_ROLE_PRODUCER);
	batch_of(&m, jobs, 4, 99);
	rec.pending_next = SESS_PENDING;
	feed(&m, 2000);
	CHECK(rec.enqueues == 4);
	slot = rec.last_slot;
	CHECK(next_out() == NULL);
	sess_job_done(&s, slot, 2, WIRE_STATUS_QUEUE_FULL, (struct wire_jobid){ 0, 0 });
	sess_job_done(&s, slot, 0, WIRE_STATUS_OK, id7);
	sess_job_done(&s, slot, 3, WIRE_STATUS_DUPLICATE, id7);
	CHECK(next_out() == NULL);
	sess_job_done(&s, slot, 1, WIRE_STATUS_OK, (struct wire_jobid){ 8, 8 });
	f = next_out();
	CHECK(f && wire_frame_enqueue_ack(f));
	if (f && wire_frame_enqueue_ack(f)) {
		const struct wire_enqueue_ack *a = wire_frame_enqueue_ack(f);
		static const uint16_t want[4] = { WIRE_STATUS_OK, WIRE_STATUS_OK,
						  WIRE_STATUS_QUEUE_FULL, WIRE_STATUS_DUPLICATE };

		CHECK(wire_enqueue_ack_seq(a) == 99 && wire_enqueue_ack_status_len(a) == 4);
		for (i = 0; i < 4; i++)
			CHECK(wire_enqueue_ack_status_at(a, i) == want[i]);
		CHECK(wire_enqueue_ack_ids_at(a, 0).hi == 7 &&
		      wire_enqueue_ack_ids_at(a, 1).lo == 8);
	}
	/* A late or repeated result for a finished batch changes nothing. */
	sess_job_done(&s, slot, 1, WIRE_STATUS_OK, id7);
	CHECK(next_out() == NULL);

	/* Immediate results only: acked at once. */
	rec.pending_next = WIRE_STATUS_FORBIDDEN;
	batch_of(&m, jobs, 2, 100);
	feed(&m, 2000);
	f = next_out();
	CHECK(f && wire_frame_enqueue_ack(f) &&
	      wire_enqueue_ack_status_at(wire_frame_enqueue_ack(f), 1) == WIRE_STATUS_FORBIDDEN);

	/* max_unacked_batches: one more gets Error{RateLimited, ref_seq}. */
	rec.pending_next = SESS_PENDING;
	for (i = 0; i < cfg.max_unacked_batches; i++) {
		batch_of(&m, jobs, 1, 200 + i);
		feed(&m, 2000);
	}
	CHECK(next_out() == NULL);
	batch_of(&m, jobs, 1, 999);
	CHECK(feed(&m, 2000) == SESS_OPEN);
	{
		const struct wire_frame *e = next_out();

		CHECK(e && wire_frame_error(e) &&
		      wire_error_code(wire_frame_error(e)) == WIRE_STATUS_RATE_LIMITED &&
		      wire_error_ref_seq(wire_frame_error(e)) == 999);
	}
	/* A consumer-only session may not enqueue. */
	open_session(WIRE_ROLE_CONSUMER);
	batch_of(&m, jobs, 1, 5);
	CHECK(feed(&m, 2000) == SESS_OPEN);
	expect_error(WIRE_STATUS_FORBIDDEN, "may not enqueue");
	CHECK(rec.enqueues == 0);
}

static void
test_malformed(void)
{
	struct wire_job_in jobs[1];
	struct wire_msg_in m;
	uint8_t frame[256];
	ssize_t n;
	uint8_t big[8] = { 0 };

	/* A frame that fails verification: Error names the check, then close. */
	open_session(WIRE_ROLE_PRODUCER);
	batch_of(&m, jobs, 1, 1);
	jobs[0].queue = wire_cstr("bad queue");
	n = wire_build(frame, sizeof(frame), &m);
	CHECK(feed_bytes(frame, (uint32_t)n, 2000) == SESS_CLOSING);
	expect_error(WIRE_STATUS_INVALID, "name_bad_char at byte");
	CHECK(rec.enqueues == 0);
	CHECK(stats.invalid[WIRE_E_NAME_BAD_CHAR] >= 1);

	/* A size prefix above max_frame_bytes: TooLarge before buffering it. */
	open_session(WIRE_ROLE_PRODUCER);
	big[0] = 0xff;
	big[1] = 0xff;
	big[2] = 0xff;
	big[3] = 0x7f;
	CHECK(feed_bytes(big, 4, 2000) == SESS_CLOSING);
	expect_error(WIRE_STATUS_TOO_LARGE, "exceeds max_frame_bytes");

	/* Split delivery: a frame arriving a byte at a time is handled once, whole. */
	open_session(WIRE_ROLE_PRODUCER);
	batch_of(&m, jobs, 1, 3);
	n = wire_build(frame, sizeof(frame), &m);
	{
		ssize_t i;

		for (i = 0; i < n; i++)
			feed_bytes(frame + i, 1, 2000);
	}
	CHECK(rec.enqueues == 1);

	/* Two frames in one read: both handled. */
	{
		uint8_t two[512];

		memcpy(two, frame, (size_t)n);
		memcpy(two + n, frame, (size_t)n);
		feed_bytes(two, (uint32_t)(2 * n), 2000);
		CHECK(rec.enqueues == 3);
	}

	/* Server-only messages from a client: violation. */
	{
		struct wire_msg_in w = { .type = WIRE_MSG_WELCOME };

		w.u.welcome.version = 1;
		CHECK(feed(&w, 2000) == SESS_CLOSING);
	}
}

static void
test_consume(void)
{
	struct wire_msg_in m = { .type = WIRE_MSG_SUBSCRIBE };
	struct wire_queue_weight_in q = { wire_cstr("q"), 1 };
	static const uint64_t leases[3] = { 11, 12, 13 };
	const struct wire_frame *f;
	struct wire_job_in job = { .queue = wire_cstr("q"), .type = wire_cstr("t") };
	uint32_t slot;

	open_session(WIRE_ROLE_CONSUMER);
	/* Credit and Complete before Subscribe are refused. */
	{
		struct wire_msg_in c = { .type = WIRE_MSG_CREDIT };

		c.u.credit.credit = 5;
		feed(&c, 2000);
		expect_error(WIRE_STATUS_INVALID, "Credit before Subscribe");
		CHECK(rec.credit == 0);
	}
	rec.subscribe_answer = WIRE_STATUS_FORBIDDEN;
	m.u.subscribe.queues = &q;
	m.u.subscribe.n_queues = 1;
	m.u.subscribe.prefetch = 4;
	CHECK(feed(&m, 2000) == SESS_OPEN);
	expect_error(WIRE_STATUS_FORBIDDEN, NULL);
	rec.subscribe_answer = WIRE_STATUS_OK;
	feed(&m, 2000);
	CHECK(rec.subscribes == 2 && s.subscribed);
	feed(&m, 2000);
	expect_error(WIRE_STATUS_INVALID, "already subscribed");

	/* Complete of three leases: one LeaseAck with three statuses. */
	{
		struct wire_msg_in c = { .type = WIRE_MSG_COMPLETE };

		c.u.complete.seq = 8;
		c.u.complete.lease_ids = leases;
		c.u.complete.n = 3;
		rec.pending_next = SESS_PENDING;
		feed(&c, 2000);
		CHECK(rec.settles == 3 && rec.last_op == SESS_OP_COMPLETE && rec.last_lease == 13);
		slot = rec.last_slot;
		sess_job_done(&s, slot, 0, WIRE_STATUS_OK, (struct wire_jobid){ 0, 0 });
		sess_job_done(&s, slot, 1, WIRE_STATUS_LEASE_EXPIRED, (struct wire_jobid){ 0, 0 });
		sess_job_done(&s, slot, 2, WIRE_STATUS_LEASE_NOT_FOUND,
			      (struct wire_jobid){ 0, 0 });
		f = next_out();
		CHECK(f && wire_frame_lease_ack(f) &&
		      wire_lease_ack_seq(wire_frame_lease_ack(f)) == 8 &&
		      wire_lease_ack_status_at(wire_frame_lease_ack(f), 1) ==
			      WIRE_STATUS_LEASE_EXPIRED);
	}
	/* Fail: one lease, answered immediately here. */
	{
		struct wire_msg_in x = { .type = WIRE_MSG_FAIL };

		x.u.fail.seq = 9;
		x.u.fail.lease_id = 44;
		x.u.fail.dead = true;
		rec.pending_next = WIRE_STATUS_OK;
		feed(&x, 2000);
		CHECK(rec.last_op == SESS_OP_FAIL && rec.last_lease == 44);
		f = next_out();
		CHECK(f && wire_frame_lease_ack(f) &&
		      wire_lease_ack_status_len(wire_frame_lease_ack(f)) == 1);
	}
	/* Deliveries: encoded until out reaches its reserve, never into it. */
	{
		static uint8_t payload[200 << 10];
		int i, ok = 0;

		job.payload = (struct wire_bytes){ payload, sizeof(payload) };
		for (i = 0; i < 64; i++)
			if (sess_deliver(&s, 100 + (uint64_t)i, 1, 30000, 5, &job) == 0)
				ok++;
		CHECK(ok > 0 && ok < 64);
		CHECK(s.out_cap - s.out_len >= SESS_OUT_RESERVE);
		f = next_out();
		CHECK(f && wire_frame_deliver(f) &&
		      wire_deliver_lease_id(wire_frame_deliver(f)) == 100);
		/* Reading makes room again. */
		CHECK(sess_deliver(&s, 500, 1, 30000, 5, &job) == 0);
	}
}

/* Build m (one job) and run the policy on its job; -1 if it does not build. */
static int
status_of(const struct pol_principal *p, const struct pol_queue *q, const struct wire_msg_in *m,
	  uint8_t *frame)
{
	if (wire_build(frame, 4096, m) <= 0)
		return -1;
	return (int)pol_check_job(
		p, q,
		wire_enqueue_batch_jobs_at(wire_frame_enqueue_batch(wire_frame_root(frame)), 0));
}

static void
test_policy(void)
{
	struct pol_principal p = {
		.name = "billing", .n_globs = 2, .max_priority = 5, .max_payload_bytes = 100
	};
	struct pol_queue q = { .name = "billing.eu", .max_payload_bytes = 1000 };
	struct wire_job_in in = { .queue = wire_cstr("billing.eu"), .type = wire_cstr("render") };
	struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_BATCH };
	static uint8_t frame[4096];
	static const uint8_t pickle[] = { 0x80, 0x04, 0x95, 0x10 };
	static const uint8_t pickle0[] = { '(', 'd', 'p', '0' };
	static const uint8_t java[] = { 0xac, 0xed, 0x00, 0x05, 0x73 };
	static const uint8_t marshal[] = { 0x04, 0x08, 0x5b };
	static const uint8_t dotnet[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
					  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c };
	static const uint8_t json[] = "{\"a\":1}";

	strcpy(p.globs[0], "billing.*");
	strcpy(p.globs[1], "audit");
	m.u.enqueue_batch.jobs = &in;
	m.u.enqueue_batch.n_jobs = 1;

	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_OK);
	CHECK(pol_check_job(&p, NULL,
			    wire_enqueue_batch_jobs_at(
				    wire_frame_enqueue_batch(wire_frame_root(frame)), 0)) ==
	      WIRE_STATUS_UNKNOWN_QUEUE);
	in.priority = 6;
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_PRIORITY_TOO_HIGH);
	in.priority = 5;
	in.payload = (struct wire_bytes){ frame + 2048, 101 };
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_TOO_LARGE);
	in.payload = (struct wire_bytes){ pickle, sizeof(pickle) };
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_REFUSED_SERIALIZATION);
	in.payload = (struct wire_bytes){ java, sizeof(java) };
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_REFUSED_SERIALIZATION);
	in.payload = (struct wire_bytes){ marshal, sizeof(marshal) };
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_REFUSED_SERIALIZATION);
	in.payload = (struct wire_bytes){ dotnet, sizeof(dotnet) };
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_REFUSED_SERIALIZATION);
	q.allow_code_serialization = true;
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_OK);
	q.allow_code_serialization = false;
	in.payload = (struct wire_bytes){ pickle0, sizeof(pickle0) };
	CHECK(status_of(&p, &q, &m, frame) ==
	      WIRE_STATUS_OK); /* protocol 0 text pickles are out of scope */
	in.payload = (struct wire_bytes){ json, sizeof(json) - 1 };
	q.n_ctypes = 1;
	strcpy(q.ctypes[0], "application/json");
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_CONTENT_TYPE_REFUSED);
	in.content_type = wire_cstr("application/json");
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_OK);
	p.n_types = 1;
	strcpy(p.types[0], "email");
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_FORBIDDEN);
	p.n_types = 0;
	in.queue = wire_cstr("billingX");
	strcpy(q.name, "billingX");
	CHECK(status_of(&p, &q, &m, frame) == WIRE_STATUS_FORBIDDEN);

	CHECK(pol_glob_match("*", "", 0));
	CHECK(pol_glob_match("a*b*c", "axxbyyc", 7));
	CHECK(!pol_glob_match("a*b*c", "axxbyy", 6));
	CHECK(pol_glob_match("emails", "emails", 6));
	CHECK(!pol_glob_match("emails", "emails2", 7));
	CHECK(!pol_glob_match("emails", "email", 5));
	CHECK(pol_glob_match("*.eu", "billing.eu", 10));
	CHECK(!pol_glob_match("", "x", 1));
	CHECK(pol_sniff_serialization(pickle, 1) == POL_SER_NONE);
	CHECK(pol_sniff_serialization(NULL, 0) == POL_SER_NONE);
	CHECK(pol_sniff_serialization(dotnet, 17) == POL_SER_DOTNET_BINARY);
	CHECK(pol_sniff_serialization(dotnet, 16) == POL_SER_NONE);
}

int
main(void)
{
	if (wire_limits_init(&cfg.lim, 1u << 20, 256u << 10, 64) != 0)
		return 1;
	cfg.max_unacked_batches = 4;
	cfg.hello_timeout_ms = 5000;
	cfg.idle_timeout_ms = 60000;
	cfg.heartbeat_ms = 10000;
	cfg.server_name = "sluiced-test";
	mem = aligned_alloc(8, sess_mem_size(&cfg));
	if (!mem)
		return 1;
	test_hello();
	test_enqueue();
	test_malformed();
	test_consume();
	test_policy();
	free(mem);
	return CHECK_SUMMARY();
}
