/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of libsluice's and the sluice CLI's pure parts: the producer
 * ledger (batching, acks, re-send sets), lease and credit bookkeeping, the
 * frame-size bound against the real builder, status mapping, job ids, job
 * checks, and the CLI's option parsing and exit codes. No network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opts.h"
#include "sl_leases.h"
#include "sl_ledger.h"
#include "sl_pvt.h"
#include "sluice.h"
#include "wire.h"
#include "wire_build.h"
#include "../check.h"

/* ---- ledger ---- */

static struct sl_pjob *
pjob(uint32_t bound)
{
	struct sl_pjob *j = calloc(1, sizeof(*j));

	j->wire_bound = bound;
	return j;
}

static uint32_t
list_len(const struct sl_pjob *j)
{
	uint32_t n = 0;

	for (; j; j = j->next)
		n++;
	return n;
}

static bool
list_sorted(const struct sl_pjob *j)
{
	for (; j && j->next; j = j->next)
		if (j->order >= j->next->order)
			return false;
	return true;
}

static void
free_list(struct sl_pjob *j)
{
	while (j) {
		struct sl_pjob *n = j->next;

		free(j);
		j = n;
	}
}

static void
test_ledger_batching(void)
{
	struct sl_ledger l;
	const struct sl_batch *b;
	struct sl_batch got;
	unsigned i;

	CHECK(sl_ledger_init(&l, 0, 0) == -1);
	CHECK(sl_ledger_init(&l, SL_UNACKED_MAX + 1, 0) == -1);
	CHECK(sl_ledger_init(&l, 2, 10) == 0);
	sl_ledger_set_limits(&l, 4, 100000);
	CHECK(sl_ledger_due_in(&l, 1000, false) == -1); /* nothing pending */
	sl_ledger_push(&l, pjob(200), 1000);
	/* One job, linger 10 ms: due in 10, or now when flushed. */
	CHECK(sl_ledger_due_in(&l, 1000, false) == 10);
	CHECK(sl_ledger_due_in(&l, 1004, false) == 6);
	CHECK(sl_ledger_due_in(&l, 1004, true) == 0);
	CHECK(sl_ledger_due_in(&l, 1010, false) == 0);
	/* A full batch is due at once, whatever the linger. */
	for (i = 0; i < 9; i++)
		sl_ledger_push(&l, pjob(200), 1001);
	CHECK(l.n_pending == 10 && sl_ledger_held(&l) == 10);
	CHECK(sl_ledger_due_in(&l, 1001, false) == 0);
	b = sl_ledger_take(&l, 1001);
	CHECK(b && b->seq == 1 && b->n == 4 && list_len(b->head) == 4 && b->head->sent);
	b = sl_ledger_take(&l, 1001);
	CHECK(b && b->seq == 2 && b->n == 4);
	/* Window of 2 batches is full. */
	CHECK(sl_ledger_due_in(&l, 1001, true) == -1);
	CHECK(sl_ledger_take(&l, 1001) == NULL);
	CHECK(l.n_inflight == 2 && l.n_inflight_jobs == 8 && l.n_pending == 2);
	/* Acks: unknown seq is refused, a known one frees the window. */
	CHECK(!sl_ledger_ack(&l, 7, &got));
	CHECK(sl_ledger_ack(&l, 2, &got) && got.seq == 2 && got.n == 4);
	CHECK(!sl_ledger_ack(&l, 2, &got)); /* acked twice */
	free_list(got.head);
	CHECK(l.n_inflight == 1 && sl_ledger_held(&l) == 6);
	b = sl_ledger_take(&l, 1002);
	CHECK(b && b->seq == 3 && b->n == 2); /* the rest: a partial batch */
	CHECK(sl_ledger_ack(&l, 1, &got));
	free_list(got.head);
	CHECK(sl_ledger_ack(&l, 3, &got));
	free_list(got.head);
	CHECK(sl_ledger_held(&l) == 0);
	sl_ledger_free(&l);
}

static void
test_ledger_bytes(void)
{
	struct sl_ledger l;
	const struct sl_batch *b;
	struct sl_batch got;
	struct sl_pjob *big;

	CHECK(sl_ledger_init(&l, 4, 0) == 0);
	sl_ledger_set_limits(&l, 100, SL_BATCH_OVERHEAD + 1000);
	CHECK(sl_ledger_job_budget(&l) == 1000);
	sl_ledger_push(&l, pjob(400), 0);
	sl_ledger_push(&l, pjob(400), 0);
	sl_ledger_push(&l, pjob(400), 0);
	sl_ledger_push(&l, pjob(1001), 0);
	/* 1200 bytes pending > budget: due now; a batch holds what fits. */
	CHECK(sl_ledger_due_in(&l, 0, false) == 0);
	b = sl_ledger_take(&l, 0);
	CHECK(b && b->n == 2);
	b = sl_ledger_take(&l, 0);
	CHECK(b && b->n == 1);
	/* A job above the budget cannot go: popped for a local TooLarge. */
	CHECK(sl_ledger_take(&l, 0) == NULL);
	big = sl_ledger_pop_oversize(&l);
	CHECK(big && big->wire_bound == 1001 && l.n_pending == 0);
	free(big);
	CHECK(sl_ledger_pop_oversize(&l) == NULL);
	CHECK(sl_ledger_ack(&l, 1, &got));
	free_list(got.head);
	CHECK(sl_ledger_ack(&l, 2, &got));
	free_list(got.head);
	sl_ledger_free(&l);
}

/* RateLimited on one batch, then a lost session: the re-send set, in order. */
static void
test_ledger_resend(void)
{
	struct sl_ledger l;
	const struct sl_batch *b;
	struct sl_batch got;
	struct sl_pjob *all;
	unsigned i;

	CHECK(sl_ledger_init(&l, 3, 0) == 0);
	sl_ledger_set_limits(&l, 2, 100000);
	for (i = 0; i < 8; i++)
		sl_ledger_push(&l, pjob(100), 0);
	CHECK(sl_ledger_take(&l, 0)->seq == 1); /* orders 0 1 */
	CHECK(sl_ledger_take(&l, 0)->seq == 2); /* 2 3 */
	CHECK(sl_ledger_take(&l, 0)->seq == 3); /* 4 5 */
	/* Batch 2 refused: back in front of 6 7, window shrinks to 2, backoff 20 ms. */
	CHECK(sl_ledger_requeue(&l, 9, 100) == 0);
	CHECK(sl_ledger_requeue(&l, 2, 100) == 2);
	CHECK(l.window == 2 && l.n_pending == 4 && l.pend_head->order == 2);
	CHECK(list_sorted(l.pend_head) && l.pend_tail->order == 7);
	CHECK(sl_ledger_due_in(&l, 100, true) == -1); /* window: 2 in flight */
	CHECK(sl_ledger_ack(&l, 1, &got));
	free_list(got.head);
	CHECK(sl_ledger_due_in(&l, 105, true) == 15); /* backoff holds it */
	CHECK(sl_ledger_take(&l, 105) == NULL);
	b = sl_ledger_take(&l, 120);
	CHECK(b && b->seq == 4 && b->head->order == 2 && b->head->next->order == 3);
	/* Session lost: in-flight 4 5 (seq 3) and 2 3 (seq 4) go back before 6 7. */
	CHECK(sl_ledger_requeue_all(&l) == 4);
	CHECK(l.n_inflight == 0 && l.n_inflight_jobs == 0 && l.n_pending == 6);
	CHECK(l.pend_head->order == 2 && list_sorted(l.pend_head) && l.pend_tail->order == 7);
	CHECK(l.pend_bytes == 600);
	/* A new session resets window and backoff; the re-send goes out first. */
	sl_ledger_set_limits(&l, 10, 100000);
	CHECK(l.window == 3 && sl_ledger_due_in(&l, 0, false) == 0);
	b = sl_ledger_take(&l, 0);
	CHECK(b && b->n == 6 && b->head->order == 2);
	sl_ledger_push(&l, pjob(100), 0);
	all = sl_ledger_steal_all(&l);
	CHECK(list_len(all) == 7 && list_sorted(all) && sl_ledger_held(&l) == 0);
	free_list(all);
	sl_ledger_free(&l);
}

/* The size bound must hold for what wire_build() really writes. */
static void
test_wire_bound(void)
{
	static uint8_t buf[4 + (2u << 20)];
	static char strs[8][300], payload[70000];
	struct wire_header_in hdr[16];
	struct wire_job_in jobs[64];
	uint64_t sum = 0;
	unsigned i, k, seed = 12345;

	/* queue <= 64, type and content type <= 128, the rest <= 256 */
	static const uint32_t cap[8] = { 64, 128, 128, 128, 64, 256, 256, 256 };

	memset(payload, 'x', sizeof(payload));
	for (k = 0; k < 8; k++)
		memset(strs[k], 'a' + (char)k, cap[k]);
	for (i = 0; i < 64; i++) {
		struct wire_job_in *j = &jobs[i];
		struct wire_str str[8];

		seed = seed * 1103515245u + 12345u;
		for (k = 0; k < 8; k++) {
			uint32_t l = (seed >> (k * 3)) % 64 + 1 + (i % 3) * 60;

			str[k] = (struct wire_str){ strs[k], l > cap[k] ? cap[k] : l };
		}
		*j = (struct wire_job_in){
			.queue = str[0],
			.type = str[1],
			.id = { i + 1, seed },
			.payload = { (const uint8_t *)payload, (seed >> 7) % 3000 + i % 7 },
			.content_type = i % 2 ? str[2] : (struct wire_str){ NULL, 0 },
			.priority = (uint8_t)(i % 16),
			.not_before_ms = i % 3 ? 1700000000000ull : 0,
			.ttl_ms = i,
			.max_attempts = (uint16_t)i,
			.lease_timeout_ms = i * 3,
			.unique_key = i % 4 ? str[3] : (struct wire_str){ NULL, 0 },
			.unique_ttl_ms = i,
			.headers = hdr,
			.n_headers = i % 17,
		};
	}
	for (k = 0; k < 16; k++) {
		hdr[k].key = (struct wire_str){ strs[4], k + 1 };
		hdr[k].value = (struct wire_str){ strs[5], k * 13 % 256 };
	}
	/* Every prefix of the job list, as one batch. */
	sum = 0;
	for (i = 0; i < 64; i++) {
		struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_BATCH };
		ssize_t n;

		sum += sl_job_wire_bound(&jobs[i]);
		m.u.enqueue_batch.seq = i + 1;
		m.u.enqueue_batch.jobs = jobs;
		m.u.enqueue_batch.n_jobs = i + 1;
		n = wire_build(buf, sizeof(buf), &m);
		CHECK(n > 0);
		if (n > 0 && (uint64_t)n - 4 > SL_BATCH_OVERHEAD + sum)
			fprintf(stderr, "bound: %u jobs built %zd bytes > bound %llu\n", i + 1, n,
				(unsigned long long)(SL_BATCH_OVERHEAD + sum));
		CHECK(n > 0 && (uint64_t)n - 4 <= SL_BATCH_OVERHEAD + sum);
		if (n > 0 && wire_verify(buf, (size_t)n, NULL, NULL) != 0)
			fprintf(stderr, "bound: batch of %u does not verify: %s\n", i + 1,
				wire_error_name(wire_verify(buf, (size_t)n, NULL, NULL)));
		CHECK(n > 0 && wire_verify(buf, (size_t)n, NULL, NULL) == 0);
	}
	/* A lone job with everything at its maximum. */
	{
		struct wire_job_in j = jobs[16];
		struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_BATCH };
		ssize_t n;

		j.n_headers = 16;
		j.payload.len = sizeof(payload);
		m.u.enqueue_batch.jobs = &j;
		m.u.enqueue_batch.n_jobs = 1;
		n = wire_build(buf, sizeof(buf), &m);
		CHECK(n > 0 && (uint64_t)n - 4 <= SL_BATCH_OVERHEAD + sl_job_wire_bound(&j));
	}
}

/* ---- consumer bookkeeping ---- */

static void
test_leases(void)
{
	struct sl_leases s = { 0 };
	struct sl_ops o = { .next_seq = SL_OPS_SEQ_BASE };
	struct sl_op op;
	uint64_t ids[8], seq, seq2;

	CHECK(sl_leases_due_in(&s, 0) == -1);
	CHECK(sl_leases_add(&s, 11, 1000, 0) == 0);
	CHECK(sl_leases_add(&s, 12, 400, 100) == 0);
	CHECK(sl_leases_add(&s, 13, 0, 0) == 0); /* no timeout: never extended */
	CHECK(sl_leases_due_in(&s, 0) == 300);   /* 12: 100 + 400 / 2 */
	CHECK(sl_leases_take_due(&s, 299, ids, 8) == 0);
	CHECK(sl_leases_take_due(&s, 300, ids, 8) == 1 && ids[0] == 12);
	CHECK(sl_leases_due_in(&s, 300) == 200); /* 11 at 500; 12 again at 500 */
	CHECK(sl_leases_take_due(&s, 500, ids, 1) == 1);
	CHECK(sl_leases_take_due(&s, 500, ids, 8) == 1);
	CHECK(sl_leases_remove(&s, 12) && !sl_leases_remove(&s, 12));
	CHECK(sl_leases_due_in(&s, 500) == 500); /* 11 at 1000 */
	CHECK(sl_leases_remove(&s, 11) && sl_leases_due_in(&s, 500) == -1);
	sl_leases_free(&s);

	ids[0] = 1;
	ids[1] = 2;
	CHECK(sl_ops_add(&o, SL_OP_COMPLETE, ids, 2, &seq) == 0 && seq > SL_OPS_SEQ_BASE);
	CHECK(sl_ops_add(&o, SL_OP_EXTEND, ids, 1, &seq2) == 0 && seq2 == seq + 1);
	CHECK(!sl_ops_take(&o, 5, &op));
	CHECK(sl_ops_take(&o, seq, &op) && op.kind == SL_OP_COMPLETE && op.n == 2 &&
	      op.ids[1] == 2);
	free(op.ids);
	CHECK(!sl_ops_take(&o, seq, &op));
	sl_ops_free(&o);
}

static void
test_credit(void)
{
	/* prefetch, want_left, server_credit, local -> credit to send */
	static const struct {
		uint32_t prefetch;
		uint64_t want;
		uint32_t server, local, expect;
	} rows[] = {
		{ 16, UINT64_MAX, 16, 0, 0 }, /* full window */
		{ 16, UINT64_MAX, 10, 0, 0 }, /* shortfall 6 < half */
		{ 16, UINT64_MAX, 8, 0, 8 },  /* shortfall 8 = half: top up */
		{ 16, UINT64_MAX, 4, 10, 0 }, /* jobs still here count */
		{ 16, UINT64_MAX, 0, 15, 1 }, /* appliance holds none: do not stall */
		{ 16, UINT64_MAX, 0, 16, 0 }, /* all here, nothing to add */
		{ 16, 3, 0, 0, 3 },           /* only 3 more wanted */
		{ 16, 3, 2, 1, 0 },           /* enough on the way */
		{ 16, 0, 0, 0, 0 },           /* consume over */
		{ 1, UINT64_MAX, 0, 0, 1 },
		{ 65536, UINT64_MAX, 0, 0, 65536 },
		{ 65536, UINT64_MAX, 65536, 0, 0 }, /* never past 65536 held */
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t got = sl_credit_topup(rows[i].prefetch, rows[i].want, rows[i].server,
					       rows[i].local);

		if (got != rows[i].expect)
			fprintf(stderr, "credit row %zu: got %u want %u\n", i, got, rows[i].expect);
		CHECK(got == rows[i].expect);
	}
}

/* ---- statuses, errors, ids ---- */

static void
test_status_and_ids(void)
{
	struct sluice_job_id id, back;
	struct wire_jobid w;
	char hex[33];
	unsigned s, i;

	CHECK(strcmp(sluice_strerror(-SLUICE_E_TLS), "tls_failed") == 0);
	CHECK(strcmp(sluice_strerror(SLUICE_E_REFUSED), "refused") == 0);
	CHECK(strcmp(sluice_strerror(-999), "unknown_error") == 0);
	CHECK(strcmp(sluice_status_name(SLUICE_STATUS_QUEUE_FULL), "QueueFull") == 0);
	CHECK(strcmp(sluice_status_name(999), "unknown") == 0);
	CHECK(sluice_status_ok(SLUICE_STATUS_OK) && sluice_status_ok(SLUICE_STATUS_DUPLICATE));
	CHECK(!sluice_status_ok(SLUICE_STATUS_QUEUE_FULL));
	CHECK(sluice_status_class(SLUICE_STATUS_RATE_LIMITED) == SLUICE_CLASS_RETRY);
	CHECK(sluice_status_class(SLUICE_STATUS_UNAVAILABLE) == SLUICE_CLASS_RETRY);
	CHECK(sluice_status_class(SLUICE_STATUS_UNAUTHENTICATED) == SLUICE_CLASS_AUTH);
	CHECK(sluice_status_class(SLUICE_STATUS_BANNED) == SLUICE_CLASS_AUTH);
	CHECK(sluice_status_class(SLUICE_STATUS_REFUSED_SERIALIZATION) == SLUICE_CLASS_REFUSED);
	CHECK(sluice_status_class(SLUICE_STATUS_EXPIRED) == SLUICE_CLASS_REFUSED);
	for (s = 0; s < SLUICE_STATUS__COUNT; s++)
		CHECK(strcmp(sluice_status_hint(s), "unknown status") != 0);
	CHECK(strcmp(sluice_status_hint(SLUICE_STATUS__COUNT), "unknown status") == 0);

	for (i = 0; i < 16; i++)
		id.b[i] = (uint8_t)(0xf0 + i);
	sluice_id_format(&id, hex);
	CHECK(strcmp(hex, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff") == 0);
	CHECK(sluice_id_parse(hex, &back) == 0 && memcmp(&id, &back, 16) == 0);
	CHECK(sluice_id_parse("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF", &back) == 0);
	CHECK(sluice_id_parse("f0f1", &back) == -SLUICE_E_INVALID);
	CHECK(sluice_id_parse("g0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", &back) == -SLUICE_E_INVALID);
	CHECK(sluice_id_parse("00000000000000000000000000000000", &back) == -SLUICE_E_INVALID);
	/* On the wire: hi = bytes 0..7, lo = bytes 8..15, each big-endian. */
	w = sl_id_to_wire(&id);
	CHECK(w.hi == 0xf0f1f2f3f4f5f6f7ull && w.lo == 0xf8f9fafbfcfdfeffull);
	back = sl_id_from_wire(w);
	CHECK(memcmp(&id, &back, 16) == 0);
	{
		struct sluice_job_id a, b;
		static const struct sluice_job_id zero;

		CHECK(sluice_id_random(&a) == 0 && sluice_id_random(&b) == 0);
		CHECK(memcmp(&a, &b, 16) != 0 && memcmp(&a, &zero, 16) != 0);
	}
}

static void
test_job_check(void)
{
	static const struct sluice_header hdr_ok = { "trace-id", "abc 123" };
	static const struct sluice_header hdr_bad_key = { "bad key", "v" };
	static const struct sluice_header hdr_bad_val = { "k", "tab\there" };
	static const struct sluice_header many[17] = { { "k", "v" } };
	static char long_type[130];
	static const struct {
		struct sluice_job j;
		const char *word; /* in the message; NULL = accepted */
	} rows[] = {
		{ { .queue = "q", .type = "t" }, NULL },
		{ { .queue = "q",
		    .type = "t",
		    .headers = &hdr_ok,
		    .n_headers = 1,
		    .content_type = "application/json",
		    .priority = 15,
		    .ttl_ms = 604800000,
		    .max_attempts = 1000,
		    .unique_key = "order-17" },
		  NULL },
		{ { .type = "t" }, "queue is required" },
		{ { .queue = "q" }, "type is required" },
		{ { .queue = "", .type = "t" }, "queue must not be empty" },
		{ { .queue = "a b", .type = "t" }, "queue may hold only" },
		{ { .queue = "q", .type = long_type }, "longer than 128" },
		{ { .queue = "q", .type = "t", .content_type = "x\n" }, "content type" },
		{ { .queue = "q", .type = "t", .priority = 16 }, "priority 16" },
		{ { .queue = "q", .type = "t", .ttl_ms = 604800001 }, "ttl" },
		{ { .queue = "q", .type = "t", .max_attempts = 1001 }, "max attempts" },
		{ { .queue = "q", .type = "t", .lease_timeout_ms = 604800001 }, "lease timeout" },
		{ { .queue = "q", .type = "t", .unique_key = "" }, "unique key must not be empty" },
		{ { .queue = "q", .type = "t", .payload_len = 3 }, "payload is NULL" },
		{ { .queue = "q", .type = "t", .payload = "x", .payload_len = (8u << 20) + 1 },
		  "payload size" },
		{ { .queue = "q", .type = "t", .headers = many, .n_headers = 17 }, "header count" },
		{ { .queue = "q", .type = "t", .headers = &hdr_bad_key, .n_headers = 1 },
		  "header key" },
		{ { .queue = "q", .type = "t", .headers = &hdr_bad_val, .n_headers = 1 },
		  "header value" },
	};
	char err[256];
	size_t i;

	memset(long_type, 't', 129);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc;

		err[0] = '\0';
		rc = sluice_job_check(&rows[i].j, err, sizeof(err));
		if (!rows[i].word) {
			CHECK(rc == 0);
			continue;
		}
		if (rc != -SLUICE_E_INVALID || !strstr(err, rows[i].word))
			fprintf(stderr, "job check row %zu: rc %d, '%s'\n", i, rc, err);
		CHECK(rc == -SLUICE_E_INVALID && strstr(err, rows[i].word));
	}
}

/* ---- CLI options ---- */

static const char *env_vals[16][2];

static const char *
fake_env(const char *name)
{
	unsigned i;

	for (i = 0; i < 16 && env_vals[i][0]; i++)
		if (strcmp(env_vals[i][0], name) == 0)
			return env_vals[i][1];
	return NULL;
}

static void
env_set(unsigned i, const char *name, const char *value)
{
	env_vals[i][0] = name;
	env_vals[i][1] = value;
	env_vals[i + 1][0] = NULL;
}

static void
test_cli_pieces(void)
{
	char host[64], name[65], buf[400];
	const char *k, *v;
	uint16_t port, w;
	uint64_t ms;

	CHECK(cli_parse_duration("250ms", 1000, &ms) == 0 && ms == 250);
	CHECK(cli_parse_duration("10s", 100000, &ms) == 0 && ms == 10000);
	CHECK(cli_parse_duration("5m", CLI_MAX_DURATION_MS, &ms) == 0 && ms == 300000);
	CHECK(cli_parse_duration("2h", CLI_MAX_DURATION_MS, &ms) == 0 && ms == 7200000);
	CHECK(cli_parse_duration("7d", CLI_MAX_DURATION_MS, &ms) == 0 && ms == 604800000);
	CHECK(cli_parse_duration("8d", CLI_MAX_DURATION_MS, &ms) == -1);
	CHECK(cli_parse_duration("1500", 10000, &ms) == 0 && ms == 1500);
	CHECK(cli_parse_duration("-1s", 10000, &ms) == -1);
	CHECK(cli_parse_duration("1x", 10000, &ms) == -1);
	CHECK(cli_parse_duration("s", 10000, &ms) == -1);
	CHECK(cli_parse_duration("99999999999999999999d", UINT64_MAX, &ms) == -1);
	CHECK(cli_parse_uint("15", 0, 15, &ms) == 0 && ms == 15);
	CHECK(cli_parse_uint("16", 0, 15, &ms) == -1);
	CHECK(cli_parse_uint("+1", 0, 15, &ms) == -1);
	CHECK(cli_parse_uint("1 ", 0, 15, &ms) == -1);

	CHECK(cli_parse_addr("127.0.0.1", host, sizeof(host), &port) == 0);
	CHECK(strcmp(host, "127.0.0.1") == 0 && port == 7443);
	CHECK(cli_parse_addr("localhost:9000", host, sizeof(host), &port) == 0);
	CHECK(strcmp(host, "localhost") == 0 && port == 9000);
	CHECK(cli_parse_addr("[::1]:17", host, sizeof(host), &port) == 0);
	CHECK(strcmp(host, "::1") == 0 && port == 17);
	CHECK(cli_parse_addr("[::1]", host, sizeof(host), &port) == 0 && port == 7443);
	CHECK(cli_parse_addr("::1", host, sizeof(host), &port) == -1);
	CHECK(cli_parse_addr("h:0", host, sizeof(host), &port) == -1);
	CHECK(cli_parse_addr("h:65536", host, sizeof(host), &port) == -1);
	CHECK(cli_parse_addr(":80", host, sizeof(host), &port) == -1);
	CHECK(cli_parse_addr("[]:80", host, sizeof(host), &port) == -1);
	CHECK(cli_parse_addr("", host, sizeof(host), &port) == -1);

	CHECK(cli_parse_queue_weight("orders", name, sizeof(name), &w) == 0);
	CHECK(strcmp(name, "orders") == 0 && w == 1);
	CHECK(cli_parse_queue_weight("orders:5", name, sizeof(name), &w) == 0);
	CHECK(strcmp(name, "orders") == 0 && w == 5);
	CHECK(cli_parse_queue_weight("eu:orders", name, sizeof(name), &w) == 0);
	CHECK(strcmp(name, "eu:orders") == 0 && w == 1);
	CHECK(cli_parse_queue_weight("eu:orders:7", name, sizeof(name), &w) == 0);
	CHECK(strcmp(name, "eu:orders") == 0 && w == 7);
	CHECK(cli_parse_queue_weight("q:0", name, sizeof(name), &w) == -1);
	CHECK(cli_parse_queue_weight("q:1001", name, sizeof(name), &w) == -1);
	CHECK(cli_parse_queue_weight(":3", name, sizeof(name), &w) == -1);
	CHECK(cli_parse_queue_weight("a b", name, sizeof(name), &w) == -1);

	CHECK(cli_parse_header("k=v=w", buf, sizeof(buf), &k, &v) == 0);
	CHECK(strcmp(k, "k") == 0 && strcmp(v, "v=w") == 0);
	CHECK(cli_parse_header("k=", buf, sizeof(buf), &k, &v) == 0 && *v == '\0');
	CHECK(cli_parse_header("=v", buf, sizeof(buf), &k, &v) == -1);
	CHECK(cli_parse_header("kv", buf, sizeof(buf), &k, &v) == -1);

	CHECK(cli_exit_for(0) == CLI_EXIT_OK);
	CHECK(cli_exit_for(-SLUICE_E_STOPPED) == CLI_EXIT_OK);
	CHECK(cli_exit_for(-SLUICE_E_TLS) == CLI_EXIT_CONN);
	CHECK(cli_exit_for(-SLUICE_E_REFUSED) == CLI_EXIT_CONN);
	CHECK(cli_exit_for(-SLUICE_E_CONNECT) == CLI_EXIT_CONN);
	CHECK(cli_exit_for(-SLUICE_E_TIMEOUT) == CLI_EXIT_CONN);
	CHECK(cli_exit_for(-SLUICE_E_TOO_LARGE) == CLI_EXIT_JOB);
}

/* argc and argv of a literal argument list. */
#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGS(...) argc_of(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__)

static int
argc_of(char **a)
{
	int n = 0;

	while (a[n])
		n++;
	return n;
}

static FILE *devnull;

static int
parse_enq(int argc, char **argv, struct cli_enqueue *o, char *err)
{
	return cli_parse_enqueue(argc, argv, fake_env, o, devnull, err, 300);
}

static void
test_cli_enqueue(void)
{
	static struct cli_enqueue o;
	char err[300];

	env_set(0, "SLUICE_CA", "/env/ca.pem");
	env_set(1, "SLUICE_ADDR", "10.0.0.1:9");
	env_set(2, "SLUICE_TOKEN", "env-token");
	CHECK(parse_enq(ARGS("enqueue", "-q", "emails", "-t", "send", "-p", "hi", "-H", "a=1",
			     "--header", "b=2", "--priority", "7", "--ttl", "1h", "--delay", "30s",
			     "--max-attempts", "5", "--content-type", "text/plain"),
			&o, err) == 0);
	CHECK(strcmp(o.queue, "emails") == 0 && strcmp(o.type, "send") == 0);
	CHECK(strcmp(o.payload, "hi") == 0 && !o.from_stdin && o.count == 1);
	CHECK(o.n_headers == 2 && strcmp(o.headers[1].key, "b") == 0);
	CHECK(strcmp(o.headers[1].value, "2") == 0);
	CHECK(o.priority == 7 && o.ttl_ms == 3600000 && o.delay_ms == 30000);
	CHECK(o.max_attempts == 5 && strcmp(o.content_type, "text/plain") == 0);
	/* from the environment */
	CHECK(strcmp(o.conn.host, "10.0.0.1") == 0 && o.conn.port == 9);
	CHECK(strcmp(o.conn.ca_file, "/env/ca.pem") == 0);
	CHECK(strcmp(o.conn.token, "env-token") == 0);

	/* Flags override the environment; --token-file replaces a token from it. */
	{
		char **a = ARGV("enqueue", "-q", "q", "-t", "t", "--addr", "127.0.0.1:7000", "--ca",
				"/flag/ca.pem", "--token-file", "/run/tok", "-n", "100", "--batch",
				"64", "--linger", "20ms", "--window", "4", "--quiet");

		CHECK(parse_enq(argc_of(a), a, &o, err) == 0);
	}
	CHECK(strcmp(o.conn.host, "127.0.0.1") == 0 && o.conn.port == 7000);
	CHECK(strcmp(o.conn.ca_file, "/flag/ca.pem") == 0);
	CHECK(o.conn.token == NULL && strcmp(o.conn.token_file, "/run/tok") == 0);
	CHECK(o.from_stdin && o.count == 100 && o.batch == 64 && o.linger_ms == 20);
	CHECK(o.window == 4 && o.quiet);

	/* Several files: one job each. */
	{
		char **a = ARGV("enqueue", "-q", "q", "-t", "t", "-f", "a.json", "--file", "-");

		CHECK(parse_enq(argc_of(a), a, &o, err) == 0);
		CHECK(o.n_files == 2 && strcmp(o.files[1], "-") == 0 && !o.from_stdin);
	}
	/* Explicit id. */
	{
		char **a = ARGV("enqueue", "-q", "q", "-t", "t", "-p", "", "--id",
				"000102030405060708090a0b0c0d0e0f");

		CHECK(parse_enq(argc_of(a), a, &o, err) == 0 && o.has_id && o.id.b[15] == 15);
	}

	/* Usage errors name the problem. */
	static const struct {
		const char *args[12];
		const char *word;
	} bad[] = {
		{ { "enqueue", "-t", "t", "-p", "x" }, "--queue and --type are required" },
		{ { "enqueue", "-q", "q", "-t", "t", "-p", "x", "-f", "y" }, "not both" },
		{ { "enqueue", "-q", "q", "-t", "t", "--priority", "16" }, "--priority" },
		{ { "enqueue", "-q", "q", "-t", "t", "--ttl", "8d" }, "--ttl" },
		{ { "enqueue", "-q", "q", "-t", "t", "-H", "novalue" }, "KEY=VALUE" },
		{ { "enqueue", "-q", "q", "-t", "t", "--id", "xyz" }, "32 hex digits" },
		{ { "enqueue", "-q", "q", "-t", "t", "--unique-key", "u", "-n", "2" },
		  "cannot go with" },
		{ { "enqueue", "-q", "a b", "-t", "t" }, "queue may hold only" },
		{ { "enqueue", "-q", "q", "-t", "t", "--frob" }, "unknown option --frob" },
		{ { "enqueue", "-q", "q", "-t" }, "needs a value" },
		{ { "enqueue", "-q", "q", "-t", "t", "stray" }, "unexpected argument 'stray'" },
		{ { "enqueue", "-q", "q", "-t", "t", "--addr", "h:99999" }, "--addr" },
		{ { "enqueue", "-q", "q", "-t", "t", "--cert", "c.pem" }, "--cert and --key" },
		{ { "enqueue", "-q", "q", "-t", "t", "--timeout", "0" }, "--timeout" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *a[13] = { NULL };
		int n = 0;

		while (n < 12 && bad[i].args[n]) {
			a[n] = (char *)bad[i].args[n];
			n++;
		}
		err[0] = '\0';
		if (parse_enq(n, a, &o, err) != -1 || !strstr(err, bad[i].word))
			fprintf(stderr, "enqueue usage row %zu: '%s'\n", i, err);
		CHECK(parse_enq(n, a, &o, err) == -1 && strstr(err, bad[i].word));
	}
	/* No CA anywhere. */
	env_set(0, "SLUICE_ADDR", "127.0.0.1");
	{
		char **a = ARGV("enqueue", "-q", "q", "-t", "t", "-p", "x");

		CHECK(parse_enq(argc_of(a), a, &o, err) == -1 && strstr(err, "SLUICE_CA"));
	}
	env_set(0, "SLUICE_ADDR", "nope:x");
	{
		char **a = ARGV("enqueue", "--help");

		CHECK(parse_enq(argc_of(a), a, &o, err) == -1 && strstr(err, "SLUICE_ADDR"));
	}
	env_set(0, "SLUICE_CA", "ca.pem");
	{
		char **a = ARGV("enqueue", "--help");

		CHECK(parse_enq(argc_of(a), a, &o, err) == 1);
	}
}

static void
test_cli_consume_ping(void)
{
	static struct cli_consume c;
	static struct cli_ping p;
	char err[300];

	env_set(0, "SLUICE_CA", "ca.pem");
	env_set(1, "SLUICE_TIMEOUT", "5s");
	{
		char **a = ARGV("consume", "-q", "a:3", "--queue", "eu:b", "--max", "5",
				"--prefetch", "100", "--idle", "2s", "--retry-delay", "1m",
				"--dead", "--job-timeout", "30s", "--", "./work.sh", "--flag");

		CHECK(cli_parse_consume(argc_of(a), a, fake_env, &c, devnull, err, sizeof(err)) ==
		      0);
	}
	CHECK(c.n_queues == 2 && strcmp(c.queues[0].queue, "a") == 0 && c.queues[0].weight == 3);
	CHECK(strcmp(c.queues[1].queue, "eu:b") == 0 && c.queues[1].weight == 1);
	CHECK(c.max_jobs == 5 && c.prefetch == 5); /* never lease more than --max */
	CHECK(c.idle_ms == 2000 && c.retry_delay_ms == 60000 && c.dead);
	CHECK(c.job_timeout_ms == 30000 && c.conn.timeout_ms == 5000);
	CHECK(c.command && strcmp(c.command[0], "./work.sh") == 0);
	CHECK(strcmp(c.command[1], "--flag") == 0 && c.command[2] == NULL);
	{
		char **a = ARGV("consume", "-q", "a");

		CHECK(cli_parse_consume(argc_of(a), a, fake_env, &c, devnull, err, sizeof(err)) ==
		      0);
		CHECK(!c.command && c.idle_ms == -1 && c.max_jobs == 0 && c.prefetch == 16);
	}
	{
		char **a = ARGV("consume", "-q", "a", "cat");

		CHECK(cli_parse_consume(argc_of(a), a, fake_env, &c, devnull, err, sizeof(err)) ==
		      -1);
		CHECK(strstr(err, "after --") != NULL);
	}
	{
		char **a = ARGV("consume", "-q", "a", "--");

		CHECK(cli_parse_consume(argc_of(a), a, fake_env, &c, devnull, err, sizeof(err)) ==
		      -1);
		CHECK(strstr(err, "no command") != NULL);
	}
	{
		char **a = ARGV("consume", "--max", "3");

		CHECK(cli_parse_consume(argc_of(a), a, fake_env, &c, devnull, err, sizeof(err)) ==
		      -1);
		CHECK(strstr(err, "--queue") != NULL);
	}
	{
		char **a = ARGV("consume", "-q", "a", "--job-timeout", "5s");

		CHECK(cli_parse_consume(argc_of(a), a, fake_env, &c, devnull, err, sizeof(err)) ==
		      -1);
		CHECK(strstr(err, "needs a command") != NULL);
	}
	{
		char **a = ARGV("consume", "-q", "a:0");

		CHECK(cli_parse_consume(argc_of(a), a, fake_env, &c, devnull, err, sizeof(err)) ==
		      -1);
		CHECK(strstr(err, "weight 1..1000") != NULL);
	}
	env_set(1, "SLUICE_TIMEOUT", "soon");
	{
		char **a = ARGV("ping");

		CHECK(cli_parse_ping(argc_of(a), a, fake_env, &p, devnull, err, sizeof(err)) == -1);
		CHECK(strstr(err, "SLUICE_TIMEOUT") != NULL);
	}
	env_set(1, "SLUICE_SERVER_NAME", "sluice.test");
	{
		char **a = ARGV("ping", "-n", "3", "--role", "both", "--reconnect", "0");

		CHECK(cli_parse_ping(argc_of(a), a, fake_env, &p, devnull, err, sizeof(err)) == 0);
		CHECK(p.count == 3 && p.role == SLUICE_BOTH && p.conn.reconnect == 0);
		CHECK(strcmp(p.conn.server_name, "sluice.test") == 0);
		{
			struct sluice_config cfg;

			cli_conn_config(&p.conn, SLUICE_CONSUMER, &cfg);
			CHECK(cfg.role == SLUICE_CONSUMER && cfg.port == 7443);
			CHECK(strcmp(cfg.ca_file, "ca.pem") == 0 && cfg.reconnect_attempts == 0);
		}
	}
	{
		char **a = ARGV("ping", "--role", "admin");

		CHECK(cli_parse_ping(argc_of(a), a, fake_env, &p, devnull, err, sizeof(err)) == -1);
		CHECK(strstr(err, "producer, consumer or both") != NULL);
	}
}

int
main(void)
{
	devnull = fopen("/dev/null", "w");
	test_ledger_batching();
	test_ledger_bytes();
	test_ledger_resend();
	test_wire_bound();
	test_leases();
	test_credit();
	test_status_and_ids();
	test_job_check();
	test_cli_pieces();
	test_cli_enqueue();
	test_cli_consume_ping();
	fclose(devnull);
	return CHECK_SUMMARY();
}
