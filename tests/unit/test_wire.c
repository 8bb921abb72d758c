/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the schema library without external tools: every message
 * type built by wire_build(), verified by wire_verify(), read back through
 * the accessors field by field; the name/text rules; limits; error names.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wire.h"
#include "wire_build.h"
#include "../check.h"

static uint8_t frame_buf[1 << 20];

static bool
str_eq(struct wire_str got, struct wire_str want)
{
	if (!want.p)
		return got.p == NULL;
	return got.p && got.len == want.len && memcmp(got.p, want.p, want.len) == 0;
}

static bool
bytes_eq(struct wire_bytes got, struct wire_bytes want)
{
	if (!want.p)
		return got.p == NULL;
	return got.p && got.len == want.len && memcmp(got.p, want.p, want.len) == 0;
}

/* Build m, verify it with default limits, return the root (NULL on failure). */
static const struct wire_frame *
build_verified(const struct wire_msg_in *m)
{
	ssize_t n = wire_build(frame_buf, sizeof(frame_buf), m);
	uint32_t at = 0;
	int rc;

	CHECK(n > 0);
	if (n <= 0)
		return NULL;
	rc = wire_verify(frame_buf, (size_t)n, NULL, &at);
	if (rc)
		fprintf(stderr, "verify %s: %s at %u\n", wire_msg_name(m->type),
			wire_error_name(rc), at);
	CHECK(rc == 0);
	if (rc)
		return NULL;
	CHECK(wire_frame_msg_type(wire_frame_root(frame_buf)) == m->type);
	return wire_frame_root(frame_buf);
}

static void
check_job(const struct wire_job *j, const struct wire_job_in *in)
{
	struct wire_jobid id = wire_job_id(j);
	uint32_t i;

	CHECK(str_eq(wire_job_queue(j), in->queue));
	CHECK(str_eq(wire_job_type(j), in->type));
	CHECK(id.hi == in->id.hi && id.lo == in->id.lo);
	CHECK(bytes_eq(wire_job_payload(j), in->payload));
	CHECK(str_eq(wire_job_content_type(j), in->content_type));
	CHECK(wire_job_priority(j) == in->priority);
	CHECK(wire_job_not_before_ms(j) == in->not_before_ms);
	CHECK(wire_job_ttl_ms(j) == in->ttl_ms);
	CHECK(wire_job_max_attempts(j) == in->max_attempts);
	CHECK(wire_job_lease_timeout_ms(j) == in->lease_timeout_ms);
	CHECK(str_eq(wire_job_unique_key(j), in->unique_key));
	CHECK(wire_job_unique_ttl_ms(j) == in->unique_ttl_ms);
	CHECK(wire_job_headers_len(j) == in->n_headers);
	for (i = 0; i < in->n_headers && i < wire_job_headers_len(j); i++) {
		const struct wire_header *h = wire_job_headers_at(j, i);

		CHECK(str_eq(wire_header_key(h), in->headers[i].key));
		CHECK(str_eq(wire_header_value(h), in->headers[i].value));
	}
}

static const uint8_t payload[128] = { 0x80, 0x04, 1, 2, 3 }; /* looks like pickle: opaque here */
static const struct wire_header_in headers[2] = {
	{ { "trace-id", 8 }, { "00-abc-01", 9 } },
	{ { "empty", 5 }, { "", 0 } },
};
static const struct wire_job_in job_full = {
	.queue = { "billing.invoices:eu-1", 21 },
	.type = { "render_pdf", 10 },
	.id = { 0x0123456789abcdefull, 0xfedcba9876543210ull },
	.payload = { payload, sizeof(payload) },
	.content_type = { "application/json", 16 },
	.priority = 15,
	.not_before_ms = UINT64_MAX,
	.ttl_ms = WIRE_DURATION_MS_MAX,
	.max_attempts = WIRE_ATTEMPTS_MAX,
	.lease_timeout_ms = 30000,
	.unique_key = { "invoice-42", 10 },
	.unique_ttl_ms = 1,
	.headers = headers,
	.n_headers = 2,
};
static const struct wire_job_in job_min = {
	.queue = { "q", 1 },
	.type = { "t", 1 },
};

static void
test_enqueue(void)
{
	struct wire_job_in jobs[64];
	struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_BATCH };
	const struct wire_frame *f;
	const struct wire_enqueue_batch *b;
	uint32_t i;

	for (i = 0; i < 64; i++)
		jobs[i] = (i % 2) ? job_full : job_min;
	jobs[63].payload = (struct wire_bytes){ payload, 0 }; /* present but empty */
	m.u.enqueue_batch.seq = 0x8000000000000001ull;
	m.u.enqueue_batch.jobs = jobs;
	m.u.enqueue_batch.n_jobs = 64;
	f = build_verified(&m);
	if (!f)
		return;
	b = wire_frame_enqueue_batch(f);
	CHECK(b != NULL);
	CHECK(wire_frame_hello(f) == NULL);
	CHECK(wire_enqueue_batch_seq(b) == 0x8000000000000001ull);
	CHECK(wire_enqueue_batch_jobs_len(b) == 64);
	for (i = 0; i < 64; i++)
		check_job(wire_enqueue_batch_jobs_at(b, i), &jobs[i]);
}

static void
test_session_messages(void)
{
	struct wire_msg_in m = { .type = WIRE_MSG_HELLO };
	const struct wire_frame *f;
	static const uint8_t token[WIRE_TOKEN_MAX] = { 's', 'l', 'q', '_' };

	m.u.hello.version = WIRE_PROTOCOL_VERSION;
	m.u.hello.role = WIRE_ROLE_BOTH;
	m.u.hello.token = (struct wire_bytes){ token, sizeof(token) };
	m.u.hello.client_name = wire_cstr("unit/1");
	f = build_verified(&m);
	if (f) {
		const struct wire_hello *h = wire_frame_hello(f);

		CHECK(wire_hello_version(h) == 1);
		CHECK(wire_hello_role(h) == WIRE_ROLE_BOTH);
		CHECK(bytes_eq(wire_hello_token(h), m.u.hello.token));
		CHECK(str_eq(wire_hello_client_name(h), m.u.hello.client_name));
	}

	m = (struct wire_msg_in){ .type = WIRE_MSG_WELCOME };
	m.u.welcome.version = 1;
	m.u.welcome.session_id = 99;
	m.u.welcome.max_frame_bytes = WIRE_FRAME_BYTES_DEFAULT;
	m.u.welcome.max_batch_jobs = 256;
	m.u.welcome.heartbeat_ms = 5000;
	m.u.welcome.server_name = wire_cstr("sluiced");
	f = build_verified(&m);
	if (f) {
		const struct wire_welcome *w = wire_frame_welcome(f);

		CHECK(wire_welcome_session_id(w) == 99);
		CHECK(wire_welcome_max_frame_bytes(w) == WIRE_FRAME_BYTES_DEFAULT);
		CHECK(wire_welcome_max_batch_jobs(w) == 256);
		CHECK(wire_welcome_heartbeat_ms(w) == 5000);
		CHECK(str_eq(wire_welcome_server_name(w), m.u.welcome.server_name));
	}

	m = (struct wire_msg_in){ .type = WIRE_MSG_PING };
	m.u.ping.nonce = 7;
	m.u.ping.time_ms = 8;
	f = build_verified(&m);
	CHECK(f && wire_ping_nonce(wire_frame_ping(f)) == 7 &&
	      wire_ping_time_ms(wire_frame_ping(f)) == 8);
	m.type = WIRE_MSG_PONG;
	f = build_verified(&m);
	CHECK(f && wire_pong_nonce(wire_frame_pong(f)) == 7 &&
	      wire_pong_time_ms(wire_frame_pong(f)) == 8);

	m = (struct wire_msg_in){ .type = WIRE_MSG_ERROR };
	m.u.error.code = WIRE_STATUS_TOO_LARGE;
	m.u.error.message = wire_cstr("frame too large");
	m.u.error.ref_seq = 12;
	f = build_verified(&m);
	if (f) {
		CHECK(wire_error_code(wire_frame_error(f)) == WIRE_STATUS_TOO_LARGE);
		CHECK(str_eq(wire_error_message(wire_frame_error(f)), m.u.error.message));
		CHECK(wire_error_ref_seq(wire_frame_error(f)) == 12);
	}
	/* A default-valued code is omitted by the builder and read back as default. */
	m.u.error.code = WIRE_STATUS_INVALID;
	f = build_verified(&m);
	CHECK(f && wire_error_code(wire_frame_error(f)) == WIRE_STATUS_INVALID);

	m = (struct wire_msg_in){ .type = WIRE_MSG_GOODBYE };
	m.u.goodbye.reason = WIRE_STATUS_SHUTTING_DOWN;
	f = build_verified(&m);
	CHECK(f && wire_goodbye_reason(wire_frame_goodbye(f)) == WIRE_STATUS_SHUTTING_DOWN &&
	      wire_goodbye_message(wire_frame_goodbye(f)).p == NULL);
}

static void
test_consumer_messages(void)
{
	static const struct wire_queue_weight_in queues[2] = {
		{ { "emails", 6 }, 3 },
		{ { "sms", 3 }, 1 },
	};
	static const uint64_t leases[3] = { 1, 2, UINT64_MAX };
	static const uint16_t status[3] = { WIRE_STATUS_OK, WIRE_STATUS_DUPLICATE,
					    WIRE_STATUS_EXPIRED };
	static const struct wire_jobid ids[3] = { { 1, 2 }, { 0, 0 }, { UINT64_MAX, 5 } };
	struct wire_msg_in m = { .type = WIRE_MSG_SUBSCRIBE };
	const struct wire_frame *f;
	uint32_t i;

	m.u.subscribe.queues = queues;
	m.u.subscribe.n_queues = 2;
	m.u.subscribe.prefetch = 64;
	f = build_verified(&m);
	if (f) {
		const struct wire_subscribe *s = wire_frame_subscribe(f);

		CHECK(wire_subscribe_prefetch(s) == 64);
		CHECK(wire_subscribe_queues_len(s) == 2);
		for (i = 0; i < 2; i++) {
			CHECK(str_eq(wire_queue_weight_queue(wire_subscribe_queues_at(s, i)),
				     queues[i].queue));
			CHECK(wire_queue_weight_weight(wire_subscribe_queues_at(s, i)) ==
			      queues[i].weight);
		}
	}

	m = (struct wire_msg_in){ .type = WIRE_MSG_CREDIT };
	m.u.credit.credit = WIRE_CREDIT_MAX;
	f = build_verified(&m);
	CHECK(f && wire_credit_credit(wire_frame_credit(f)) == WIRE_CREDIT_MAX);

	m = (struct wire_msg_in){ .type = WIRE_MSG_DELIVER };
	m.u.deliver.lease_id = 77;
	m.u.deliver.attempt = 2;
	m.u.deliver.lease_timeout_ms = 1000;
	m.u.deliver.enqueued_ms = 5;
	m.u.deliver.job = job_full;
	f = build_verified(&m);
	if (f) {
		const struct wire_deliver *d = wire_frame_deliver(f);

		CHECK(wire_deliver_lease_id(d) == 77 && wire_deliver_attempt(d) == 2);
		CHECK(wire_deliver_lease_timeout_ms(d) == 1000 && wire_deliver_enqueued_ms(d) == 5);
		check_job(wire_deliver_job(d), &job_full);
	}

	m = (struct wire_msg_in){ .type = WIRE_MSG_COMPLETE };
	m.u.complete.seq = 3;
	m.u.complete.lease_ids = leases;
	m.u.complete.n = 3;
	f = build_verified(&m);
	if (f) {
		const struct wire_complete *c = wire_frame_complete(f);

		CHECK(wire_complete_seq(c) == 3 && wire_complete_lease_ids_len(c) == 3);
		for (i = 0; i < 3; i++)
			CHECK(wire_complete_lease_ids_at(c, i) == leases[i]);
	}

	m = (struct wire_msg_in){ .type = WIRE_MSG_EXTEND_LEASE };
	m.u.extend_lease.seq = 4;
	m.u.extend_lease.lease_ids = leases;
	m.u.extend_lease.n = 1;
	m.u.extend_lease.extend_ms = 60000;
	f = build_verified(&m);
	if (f) {
		const struct wire_extend_lease *e = wire_frame_extend_lease(f);

		CHECK(wire_extend_lease_lease_ids_len(e) == 1);
		CHECK(wire_extend_lease_lease_ids_at(e, 0) == 1);
		CHECK(wire_extend_lease_extend_ms(e) == 60000);
	}

	m = (struct wire_msg_in){ .type = WIRE_MSG_FAIL };
	m.u.fail.seq = 5;
	m.u.fail.lease_id = 77;
	m.u.fail.reason = wire_cstr("timeout");
	m.u.fail.retry_delay_ms = 10;
	m.u.fail.dead = true;
	f = build_verified(&m);
	if (f) {
		const struct wire_fail *x = wire_frame_fail(f);

		CHECK(wire_fail_lease_id(x) == 77 && wire_fail_dead(x));
		CHECK(wire_fail_retry_delay_ms(x) == 10);
		CHECK(str_eq(wire_fail_reason(x), m.u.fail.reason));
	}

	m = (struct wire_msg_in){ .type = WIRE_MSG_ENQUEUE_ACK };
	m.u.enqueue_ack.seq = 6;
	m.u.enqueue_ack.status = status;
	m.u.enqueue_ack.ids = ids;
	m.u.enqueue_ack.n = 3;
	f = build_verified(&m);
	if (f) {
		const struct wire_enqueue_ack *a = wire_frame_enqueue_ack(f);

		CHECK(wire_enqueue_ack_status_len(a) == 3 && wire_enqueue_ack_ids_len(a) == 3);
		for (i = 0; i < 3; i++) {
			CHECK(wire_enqueue_ack_status_at(a, i) == status[i]);
			CHECK(wire_enqueue_ack_ids_at(a, i).hi == ids[i].hi);
			CHECK(wire_enqueue_ack_ids_at(a, i).lo == ids[i].lo);
		}
	}

	m = (struct wire_msg_in){ .type = WIRE_MSG_LEASE_ACK };
	m.u.lease_ack.seq = 7;
	m.u.lease_ack.status = status;
	m.u.lease_ack.n = 2;
	f = build_verified(&m);
	CHECK(f && wire_lease_ack_status_len(wire_frame_lease_ack(f)) == 2 &&
	      wire_lease_ack_status_at(wire_frame_lease_ack(f), 1) == WIRE_STATUS_DUPLICATE);
}

/* The builder encodes anything; the verifier names what is wrong. */
static void
test_semantic_refusals(void)
{
	struct wire_job_in job = job_min;
	struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_BATCH };
	ssize_t n;
	uint32_t at;

	m.u.enqueue_batch.jobs = &job;
	m.u.enqueue_batch.n_jobs = 1;
	job.queue = wire_cstr("bad queue");
	n = wire_build(frame_buf, sizeof(frame_buf), &m);
	CHECK(n > 0 && wire_verify(frame_buf, (size_t)n, NULL, &at) == -WIRE_E_NAME_BAD_CHAR);

	job = job_min;
	job.priority = WIRE_PRIORITY_MAX + 1;
	n = wire_build(frame_buf, sizeof(frame_buf), &m);
	CHECK(n > 0 &&
	      wire_verify(frame_buf, (size_t)n, NULL, &at) == -WIRE_E_PRIORITY_OUT_OF_RANGE);

	job = job_min;
	job.payload = (struct wire_bytes){ frame_buf + 512 * 1024, WIRE_PAYLOAD_BYTES_DEFAULT + 1 };
	{
		static uint8_t big[WIRE_PAYLOAD_BYTES_DEFAULT + 4096];

		n = wire_build(big, sizeof(big), &m);
		CHECK(n > 0 && wire_verify(big, (size_t)n, NULL, &at) == -WIRE_E_PAYLOAD_TOO_LARGE);
	}

	m.u.enqueue_batch.n_jobs = 0;
	n = wire_build(frame_buf, sizeof(frame_buf), &m);
	CHECK(n > 0 && wire_verify(frame_buf, (size_t)n, NULL, &at) == -WIRE_E_BATCH_EMPTY);
	/* Exactly-sized: one byte more or less than the prefix says is refused. */
	job = job_min;
	m.u.enqueue_batch.n_jobs = 1;
	n = wire_build(frame_buf, sizeof(frame_buf), &m);
	CHECK(n > 0 && wire_verify(frame_buf, (size_t)n, NULL, NULL) == 0);
	CHECK(wire_verify(frame_buf, (size_t)n + 1, NULL, &at) == -WIRE_E_SIZE_PREFIX_MISMATCH);
	CHECK(wire_verify(frame_buf, (size_t)n - 1, NULL, &at) == -WIRE_E_SIZE_PREFIX_MISMATCH);
}

static void
test_names(void)
{
	static const struct {
		const char *s;
		size_t max;
		int want;
	} names[] = {
		{ "emails", 64, 0 },
		{ "A-Z_a.z:0-9", 64, 0 },
		{ "", 64, -WIRE_E_NAME_EMPTY },
		{ "abc", 2, -WIRE_E_NAME_TOO_LONG },
		{ "ab", 2, 0 },
		{ "a b", 64, -WIRE_E_NAME_BAD_CHAR },
		{ "a/b", 64, -WIRE_E_NAME_BAD_CHAR },
		{ "caf\xc3\xa9", 64, -WIRE_E_NAME_BAD_CHAR },
		{ "tab\t", 64, -WIRE_E_NAME_BAD_CHAR },
	};
	static const struct {
		const char *s;
		size_t max;
		int want;
	} texts[] = {
		{ "", 10, 0 },
		{ "hello world ~!", 64, 0 },
		{ "line\n", 64, -WIRE_E_TEXT_BAD_CHAR },
		{ "del\x7f", 64, -WIRE_E_TEXT_BAD_CHAR },
		{ "\xff", 64, -WIRE_E_TEXT_BAD_CHAR },
		{ "abc", 2, -WIRE_E_TEXT_TOO_LONG },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(wire_check_name(names[i].s, strlen(names[i].s), names[i].max) ==
		      names[i].want);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		CHECK(wire_check_text(texts[i].s, strlen(texts[i].s), texts[i].max) ==
		      texts[i].want);
	/* An embedded NUL is not a name or text byte. */
	CHECK(wire_check_name("a\0b", 3, 64) == -WIRE_E_NAME_BAD_CHAR);
	CHECK(wire_check_text("a\0b", 3, 64) == -WIRE_E_TEXT_BAD_CHAR);
}

static bool
ref_name_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == ':' || ch == '-';
}

/*
 * The checks take a scalar path under 16 bytes and overlapping 16-byte
 * vectors from 16 up: every byte value at every position of every length
 * from 1 to 40 must agree with the plain definition.
 */
static void
test_name_text_exhaustive(void)
{
	char s[40];
	unsigned len, pos, v;
	int bad = 0;

	for (len = 1; len <= sizeof(s); len++) {
		for (pos = 0; pos < len; pos++) {
			for (v = 0; v < 256; v++) {
				bool name_ok, text_ok;

				memset(s, 'k', len);
				s[pos] = (char)v;
				name_ok = ref_name_byte((unsigned char)v);
				text_ok = v >= 0x20 && v <= 0x7e;
				if ((wire_check_name(s, len, 64) == 0) != name_ok)
					bad++;
				if ((wire_check_text(s, len, 64) == 0) != text_ok)
					bad++;
			}
		}
	}
	checks++;
	if (bad) {
		failures++;
		fprintf(stderr, "name/text exhaustive: %d disagreements\n", bad);
	}
}

/*
 * The same through whole frames: the verifier checks strings inside a frame
 * with its own vector path (a 16-byte window ending at the string), so every
 * byte value at every position of names and texts of length 1..40 goes
 * through wire_verify, in an exactly-sized heap copy so ASan sees any read
 * outside the frame.
 */
static void
test_name_text_in_frames(void)
{
	struct wire_job_in job = { .queue = { "q", 1 }, .type = { "t", 1 } };
	struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_BATCH };
	char s[40];
	unsigned len, pos, v, which;
	int bad = 0;

	m.u.enqueue_batch.jobs = &job;
	m.u.enqueue_batch.n_jobs = 1;
	for (which = 0; which < 2; which++) {
		for (len = 1; len <= sizeof(s); len++) {
			for (pos = 0; pos < len; pos++) {
				for (v = 0; v < 256; v++) {
					bool ok = which == 0 ? ref_name_byte((unsigned char)v)
							     : v >= 0x20 && v <= 0x7e;
					ssize_t n;
					uint8_t *copy;
					int rc;

					memset(s, 'k', len);
					s[pos] = (char)v;
					job.queue = which == 0 ? (struct wire_str){ s, len }
							       : (struct wire_str){ "q", 1 };
					job.content_type = which == 1
								   ? (struct wire_str){ s, len }
								   : (struct wire_str){ NULL, 0 };
					n = wire_build(frame_buf, sizeof(frame_buf), &m);
					copy = malloc((size_t)n);
					if (n <= 0 || !copy) {
						bad++;
						free(copy);
						continue;
					}
					memcpy(copy, frame_buf, (size_t)n);
					rc = wire_verify(copy, (size_t)n, NULL, NULL);
					free(copy);
					if ((rc == 0) != ok ||
					    (!ok && rc != -(which == 0 ? WIRE_E_NAME_BAD_CHAR
								       : WIRE_E_TEXT_BAD_CHAR)))
						bad++;
				}
			}
		}
	}
	checks++;
	if (bad) {
		failures++;
		fprintf(stderr, "name/text in frames: %d disagreements\n", bad);
	}
}

static void
test_limits_and_names(void)
{
	struct wire_limits lim;
	int e, j;

	CHECK(wire_limits_init(&lim, 0, 0, 0) == 0);
	CHECK(memcmp(&lim, &wire_limits_default, sizeof(lim)) == 0);
	CHECK(wire_limits_init(&lim, WIRE_FRAME_BYTES_CAP + 1, 0, 0) == -1);
	CHECK(wire_limits_init(&lim, 0, WIRE_PAYLOAD_BYTES_CAP + 1, 0) == -1);
	CHECK(wire_limits_init(&lim, 0, 0, WIRE_BATCH_JOBS_CAP + 1) == -1);
	CHECK(wire_limits_init(&lim, 4096, 100, WIRE_BATCH_JOBS_CAP) == 0);
	CHECK(lim.max_tables == WIRE_TABLES_FOR_BATCH(WIRE_BATCH_JOBS_CAP));
	/* Every error has a distinct name; both signs map to it. */
	for (e = 1; e < WIRE_E__COUNT; e++) {
		CHECK(wire_error_name(e) != NULL && strcmp(wire_error_name(e), "unknown_error"));
		CHECK(wire_error_name(-e) == wire_error_name(e));
		for (j = 1; j < e; j++)
			CHECK(strcmp(wire_error_name(e), wire_error_name(j)) != 0);
	}
	CHECK(strcmp(wire_error_name(WIRE_E__COUNT), "unknown_error") == 0);
	CHECK(strcmp(wire_msg_name(WIRE_MSG_ENQUEUE_BATCH), "EnqueueBatch") == 0);
	CHECK(wire_msg_name(WIRE_MSG__COUNT) == NULL);
	CHECK(strcmp(wire_status_name(WIRE_STATUS_QUEUE_FULL), "QueueFull") == 0);
	CHECK(wire_status_name(WIRE_STATUS__COUNT) == NULL);
	CHECK(wire_role_name(0) == NULL && strcmp(wire_role_name(3), "Both") == 0);
}

int
main(void)
{
	test_enqueue();
	test_session_messages();
	test_consumer_messages();
	test_semantic_refusals();
	test_names();
	test_name_text_exhaustive();
	test_name_text_in_frames();
	test_limits_and_names();
	return CHECK_SUMMARY();
}
