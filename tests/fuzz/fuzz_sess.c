/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the session engine (dataplane/sess) on a script of
 * plaintext chunks and lcore answers.
 *
 * Input layout (fuzz_seedgen writes seeds in it):
 *
 *   [flags] [op ...] ........................ [answer bytes, read backwards]
 *      │      └─ read from the front            └─ read from the back by the
 *      │                                           env callbacks; exhausted = 0
 *      └─ bit 0: the harness sends its own Hello first and answers auth OK,
 *                so post-auth handlers are reached without a fuzzed Hello;
 *         bits 1-2: that Hello's role (0 = both)
 *
 *   op % 7: 0 CHUNK  len16, then len bytes (fewer at the end) committed to
 *                    the in window in as many pieces as the window needs
 *           1 DONE   i8, st8: sess_job_done for the i-th recorded pending job
 *           2 RAW    slot8, idx16, st8: sess_job_done with any slot and idx
 *           3 READ   n16: the peer reads n bytes of out
 *           4 TICK   ms16: time goes on by ms * 16, sess_tick
 *           5 AUTH   st8: sess_auth_done (OK when st8 % 4 == 0)
 *           6 DELIVER len16: sess_deliver of a job with a len-byte payload
 *
 * Answers (enqueue, settle): byte < 0x80 = SESS_PENDING (recorded for DONE),
 * else a status. Subscribe: byte < 0x80 = OK, else a status.
 *
 * In, out and the batch stores are re-pointed at exactly-sized heap blocks
 * (made once, reused) after sess_init, so ASan sees a read or write past any
 * one of them.
 *
 * abort() unless: every byte the session writes to out parses as frames that
 * wire_verify() accepts; unacked <= max_unacked_batches and equals the batches
 * in use; a batch in use still waits for a result (else it is never acked);
 * the windows stay inside their buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAME (16u << 10)
#define MAX_PAYLOAD (4u << 10)
#define MAX_JOBS 16u
#define MAX_UNACKED 4u
#define PENDING_MAX (SESS_BATCHES_MAX * MAX_JOBS)

struct pending_job {
	uint32_t slot, idx;
};

struct harness {
	const uint8_t *p;
	size_t head, tail; /* script is [head, tail); answers are read from tail down */
	struct sess s;
	struct sess_stats stats;
	uint64_t now;
	struct pending_job pending[PENDING_MAX];
	uint32_t n_pending;
	/* what the peer has read of out and not yet parsed as frames */
	uint8_t *rd;
	uint32_t rd_len, rd_cap;
	uint32_t frames_seen;
};

static struct sess_cfg cfg;
static struct wire_limits caps;
static struct pol_principal principal;
static struct pol_queue queue;
static uint8_t payload[1u << 16];

static void __attribute__((noreturn)) invariant(const char *what)
{
	fprintf(stderr, "fuzz_sess: INVARIANT VIOLATED (MISMATCH): %s\n", what);
	abort();
}

static uint8_t
answer_byte(struct harness *h)
{
	if (h->tail <= h->head)
		return 0;
	return h->p[--h->tail];
}

static bool
script_left(const struct harness *h, size_t n)
{
	return h->tail - h->head >= n;
}

static uint8_t
take8(struct harness *h)
{
	return script_left(h, 1) ? h->p[h->head++] : 0;
}

static uint16_t
take16(struct harness *h)
{
	uint16_t lo = take8(h);

	return (uint16_t)(lo | take8(h) << 8);
}

static void
record_pending(struct harness *h, uint32_t slot, uint32_t idx)
{
	if (h->n_pending < PENDING_MAX)
		h->pending[h->n_pending++] = (struct pending_job){ slot, idx };
}

static int
answer_job(struct harness *h, uint32_t slot, uint32_t idx)
{
	uint8_t b = answer_byte(h);

	if (b < 0x80) {
		record_pending(h, slot, idx);
		return SESS_PENDING;
	}
	return (b & 0x7f) % WIRE_STATUS__COUNT;
}

static void
env_auth(void *arg, struct sess *s, const uint8_t *token, uint32_t len, uint8_t role)
{
	volatile uint8_t sink = 0;
	uint32_t i;

	(void)arg;
	(void)s;
	(void)role;
	/* Touch the token: it must lie inside the verified frame. */
	for (i = 0; i < len; i++)
		sink ^= token[i];
	(void)sink;
}

static int
env_enqueue(void *arg, struct sess *s, uint32_t slot, uint32_t idx, const struct wire_job *job)
{
	struct harness *h = arg;

	(void)s;
	/* The lcore's policy check reads every field the client sent. */
	(void)pol_check_job(&principal, &queue, job);
	return answer_job(h, slot, idx);
}

static enum wire_status
env_subscribe(void *arg, struct sess *s, const struct wire_subscribe *sub)
{
	uint8_t b = answer_byte(arg);

	(void)s;
	(void)sub;
	return b < 0x80 ? WIRE_STATUS_OK : (enum wire_status)((b & 0x7f) % WIRE_STATUS__COUNT);
}

static void
env_credit(void *arg, struct sess *s, uint32_t n)
{
	(void)arg;
	(void)s;
	(void)n;
}

static int
env_settle(void *arg, struct sess *s, uint32_t slot, uint32_t idx, enum sess_op op,
	   uint64_t lease_id, uint32_t ms, bool dead)
{
	(void)s;
	(void)op;
	(void)lease_id;
	(void)ms;
	(void)dead;
	return answer_job(arg, slot, idx);
}

static uint64_t
env_wall(void *arg)
{
	return ((struct harness *)arg)->now + 1700000000000ull;
}

static void
setup_once(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	if (wire_limits_init(&cfg.lim, MAX_FRAME, MAX_PAYLOAD, MAX_JOBS) != 0 ||
	    wire_limits_init(&caps, WIRE_FRAME_BYTES_CAP, WIRE_PAYLOAD_BYTES_CAP,
			     WIRE_BATCH_JOBS_CAP) != 0)
		invariant("wire_limits_init refused valid bounds");
	cfg.max_unacked_batches = MAX_UNACKED;
	cfg.hello_timeout_ms = 5000;
	cfg.idle_timeout_ms = 30000;
	cfg.heartbeat_ms = 10000;
	cfg.server_name = "fuzz";
	snprintf(principal.name, sizeof(principal.name), "fuzz");
	principal.roles = WIRE_ROLE_BOTH;
	principal.n_globs = 1;
	snprintf(principal.globs[0], sizeof(principal.globs[0]), "*");
	principal.max_priority = WIRE_PRIORITY_MAX;
	principal.max_payload_bytes = MAX_PAYLOAD;
	snprintf(queue.name, sizeof(queue.name), "q");
	queue.max_payload_bytes = MAX_PAYLOAD;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31 + 7);
}

/* Session invariants after every call into it. */
static void
check_sess(const struct sess *s)
{
	uint32_t in_use = 0, i;

	if (s->unacked > cfg.max_unacked_batches)
		invariant("unacked exceeds max_unacked_batches");
	for (i = 0; i < SESS_BATCHES_MAX; i++)
		if (s->batch[i].in_use) {
			in_use++;
			if (s->batch[i].n > MAX_JOBS)
				invariant("batch larger than max_batch_jobs");
			/* done == n acks and frees the slot: one left in use is never acked. */
			if (s->batch[i].done >= s->batch[i].n)
				invariant("a batch in use has every result in");
		}
	if (in_use != s->unacked)
		invariant("unacked differs from the batches in use");
	if (s->in_len > s->in_cap || s->out_off > s->out_len || s->out_len > s->out_cap)
		invariant("a window left its buffer");
	if (s->state > SESS_CLOSED)
		invariant("unknown state");
}

/* The peer reads up to n bytes of out; every complete frame must verify. */
static void
peer_read(struct harness *h, uint32_t n)
{
	const uint8_t *p;
	uint32_t have = sess_out_pending(&h->s, &p), pos = 0;

	if (n > have)
		n = have;
	if (h->rd_len + n > h->rd_cap)
		invariant("out produced more than a frame's worth of partial bytes");
	memcpy(h->rd + h->rd_len, p, n);
	h->rd_len += n;
	sess_out_consume(&h->s, n);
	while (h->rd_len - pos >= 4) {
		uint32_t l = wire_ld32(h->rd + pos), at = 0;
		int rc;

		if (l > caps.max_frame_bytes)
			invariant("out holds a size prefix above the frame cap");
		if (h->rd_len - pos - 4 < l)
			break;
		rc = wire_verify(h->rd + pos, 4 + l, &caps, &at);
		if (rc != 0) {
			fprintf(stderr, "fuzz_sess: frame %u from the session: %s at %u\n",
				h->frames_seen, wire_error_name(rc), at);
			invariant("the session wrote a frame wire_verify refuses");
		}
		h->frames_seen++;
		pos += 4 + l;
	}
	memmove(h->rd, h->rd + pos, h->rd_len - pos);
	h->rd_len -= pos;
	check_sess(&h->s);
}

static void
commit_bytes(struct harness *h, const uint8_t *b, size_t n)
{
	while (n && h->s.state < SESS_CLOSING) {
		uint8_t *dst;
		uint32_t room = sess_in_space(&h->s, &dst);

		if (room == 0)
			invariant("in window full with no complete frame in it");
		if (room > n)
			room = (uint32_t)n;
		memcpy(dst, b, room);
		b += room;
		n -= room;
		sess_in_commit(&h->s, room, h->now);
		check_sess(&h->s);
	}
}

static void
harness_hello(struct harness *h, uint8_t role)
{
	static const uint8_t token[] = "fuzz-token";
	struct wire_msg_in m = { .type = WIRE_MSG_HELLO };
	uint8_t frame[256];
	ssize_t n;

	m.u.hello.version = WIRE_PROTOCOL_VERSION;
	m.u.hello.role = role ? role : WIRE_ROLE_BOTH;
	m.u.hello.token = (struct wire_bytes){ token, sizeof(token) - 1 };
	m.u.hello.client_name = wire_cstr("fuzz");
	n = wire_build(frame, sizeof(frame), &m);
	if (n <= 0)
		invariant("wire_build failed on the harness's Hello");
	commit_bytes(h, frame, (size_t)n);
	if (h->s.state != SESS_AUTH)
		invariant("a valid Hello did not start authentication");
	sess_auth_done(&h->s, WIRE_STATUS_OK, &principal);
	if (h->s.state != SESS_OPEN)
		invariant("auth OK did not open the session");
	check_sess(&h->s);
}

static void
run_op(struct harness *h, uint8_t op)
{
	switch (op % 7) {
	case 0: {
		size_t len = take16(h);

		if (len > h->tail - h->head)
			len = h->tail - h->head;
		commit_bytes(h, h->p + h->head, len);
		h->head += len;
		break;
	}
	case 1: {
		uint8_t i = take8(h), st = take8(h);

		if (h->n_pending) {
			struct pending_job j = h->pending[i % h->n_pending];

			h->pending[i % h->n_pending] = h->pending[--h->n_pending];
			sess_job_done(&h->s, j.slot, j.idx, st % WIRE_STATUS__COUNT,
				      (struct wire_jobid){ st, j.idx + 1u });
		}
		break;
	}
	case 2: {
		uint8_t slot = take8(h);
		uint16_t idx = take16(h);
		uint8_t st = take8(h);

		sess_job_done(&h->s, slot, idx, st % WIRE_STATUS__COUNT,
			      (struct wire_jobid){ 1, idx });
		break;
	}
	case 3:
		peer_read(h, take16(h));
		break;
	case 4:
		h->now += (uint64_t)take16(h) * 16;
		sess_tick(&h->s, h->now);
		break;
	case 5: {
		uint8_t st = take8(h);

		sess_auth_done(&h->s, st % 4 == 0 ? WIRE_STATUS_OK : st % WIRE_STATUS__COUNT,
			       &principal);
		break;
	}
	default: {
		struct wire_job_in job = { 0 };
		uint16_t len = take16(h);

		job.queue = wire_cstr("q");
		job.type = wire_cstr("t");
		job.id = (struct wire_jobid){ 7, len };
		job.payload = (struct wire_bytes){ payload, len };
		(void)sess_deliver(&h->s, 1000u + len, 1, 30000, h->now, &job);
		break;
	}
	}
	check_sess(&h->s);
}

/* Buffers made once (exactly sized, so ASan's redzones border each) and reused. */
struct blocks {
	void *mem;
	uint8_t *in, *out, *rd;
	uint16_t *status[SESS_BATCHES_MAX];
	struct wire_jobid *ids[SESS_BATCHES_MAX];
	struct harness *h;
};

static const struct blocks *
blocks(void)
{
	static struct blocks b;
	uint32_t i;

	if (b.h)
		return &b;
	setup_once();
	b.h = malloc(sizeof(*b.h));
	b.mem = malloc(sess_mem_size(&cfg));
	/* sess_init puts in and out at the front of mem: their sizes are these. */
	{
		struct sess probe;
		struct sess_stats st;

		sess_init(&probe, &cfg, NULL, &st, b.mem, 0, 0);
		b.in = malloc(probe.in_cap);
		b.out = malloc(probe.out_cap);
		b.rd = malloc(2 * (size_t)probe.out_cap);
	}
	for (i = 0; i < SESS_BATCHES_MAX; i++) {
		b.status[i] = malloc(MAX_JOBS * sizeof(uint16_t));
		b.ids[i] = malloc(MAX_JOBS * sizeof(struct wire_jobid));
		if (!b.status[i] || !b.ids[i])
			abort();
	}
	if (!b.h || !b.mem || !b.in || !b.out || !b.rd)
		abort();
	return &b;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct blocks *b = blocks();
	struct harness *h = b->h;
	uint8_t flags;
	uint32_t i;

	if (size == 0)
		return 0;
	memset(h, 0, sizeof(*h));
	h->p = data;
	h->head = 1;
	h->tail = size;
	h->now = 1000;
	flags = data[0];

	const struct sess_env env = {
		.arg = h,
		.auth = env_auth,
		.enqueue = env_enqueue,
		.subscribe = env_subscribe,
		.credit = env_credit,
		.settle = env_settle,
		.wall_ms = env_wall,
	};
	sess_init(&h->s, &cfg, &env, &h->stats, b->mem, 42, h->now);
	/* Separate blocks: an overrun of one window is not a write into the next. */
	h->s.in = b->in;
	h->s.out = b->out;
	for (i = 0; i < SESS_BATCHES_MAX; i++) {
		memset(b->status[i], 0, MAX_JOBS * sizeof(uint16_t));
		memset(b->ids[i], 0, MAX_JOBS * sizeof(struct wire_jobid));
		h->s.batch[i].status = b->status[i];
		h->s.batch[i].ids = b->ids[i];
	}
	h->rd = b->rd;
	h->rd_cap = 2 * h->s.out_cap;

	if (flags & 1)
		harness_hello(h, (uint8_t)(flags >> 1 & 3));
	while (h->head < h->tail)
		run_op(h, take8(h));
	/* The peer reads everything that is left: all of it must be frames. */
	peer_read(h, UINT32_MAX);
	if (h->rd_len != 0)
		invariant("out ended inside a frame");
	return 0;
}
