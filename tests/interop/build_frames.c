/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * build_frames: random valid frames from sluice's builder, for the interop
 * tests against the official FlatBuffers tools.
 *
 *   usage: build_frames STREAM JSONL [FRAMES [SEED]]
 *
 * Writes FRAMES (default 600) frames built by wire_build() into STREAM, one
 * after the other (size-prefixed), and the intended value of each as one
 * line of JSONL, shaped like `flatc --json --strict-json --defaults-json`.
 * The JSON is written here from the builder's inputs, never from the frame,
 * so every reader of the frame (official or sluice's) can be compared with
 * it. Deterministic for a given SEED.
 *
 * Frames: every message type first at its maximum (every optional field
 * present, lengths and scalars at their upper bounds), then at its minimum
 * with every field present, then bare (optional fields absent), then random
 * frames biased toward the edges. Values stay inside sluice's bounds
 * (schema/wire_limits.h and the .fbs comments) and frames below the default
 * frame limit, so every frame must pass sluice's verifier.
 *
 * Exit: 0 written, 1 a frame did not build, 2 usage or I/O error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire_build.h"

#define BATCH_MAX WIRE_BATCH_JOBS_DEFAULT
#define TEST_PAYLOAD_MAX (64u * 1024)
#define ARENA_BYTES (4u << 20)
#define FRAME_CAP (WIRE_FRAME_BYTES_DEFAULT + 4)
/* Jobs of a batch above this size are kept short: frames stay below 1 MiB. */
#define BATCH_FULL_JOBS 8u

static const char name_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";
/* 0x20-0x7e */
static const char text_chars[] = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
_Static_assert(sizeof(text_chars) == 0x7f - 0x20 + 1, "printable ASCII is 95 characters");

/* The schema's names, written down here rather than taken from wire_names.c. */
static const char *const msg_names[] = {
	NULL,     "Hello",   "Welcome",  "EnqueueBatch", "EnqueueAck",  "Subscribe",
	"Credit", "Deliver", "Complete", "Fail",         "ExtendLease", "LeaseAck",
	"Ping",   "Pong",    "Error",    "Goodbye",
};
static const char *const status_names[] = {
	"Ok",
	"Duplicate",
	"QueueFull",
	"RateLimited",
	"Unauthenticated",
	"Forbidden",
	"UnknownQueue",
	"TooLarge",
	"Invalid",
	"RefusedSerialization",
	"ContentTypeRefused",
	"PriorityTooHigh",
	"ShuttingDown",
	"LeaseNotFound",
	"LeaseExpired",
	"Timeout",
	"Unavailable",
	"Internal",
	"TooManyConnections",
	"Banned",
	"UniqueConflict",
	"Expired",
};
static const char *const role_names[] = { NULL, "Producer", "Consumer", "Both" };

#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))
#define N_MSG (sizeof(msg_names) / sizeof(msg_names[0]) - 1)
_Static_assert(N_STATUS == WIRE_STATUS__COUNT, "status names out of date");
_Static_assert(N_MSG + 1 == WIRE_MSG__COUNT, "message names out of date");

/*
 * MAX: optional fields present, lengths and scalars at the top of their range.
 * LOW: every field present, lengths and scalars at the bottom of their range.
 * MIN: optional fields absent, scalars at their default.
 * RANDOM: a mix biased toward the edges. LIGHT: random but short.
 */
enum mode { MODE_MAX, MODE_LOW, MODE_MIN, MODE_RANDOM, MODE_LIGHT };

/* Inputs of one frame: wire_build() reads these, emit_*() prints them. */
struct store {
	struct wire_job_in jobs[BATCH_MAX];
	struct wire_header_in headers[BATCH_MAX * WIRE_HEADERS_MAX];
	uint32_t n_headers_used;
	uint16_t status[BATCH_MAX];
	struct wire_jobid ids[BATCH_MAX];
	uint64_t lease_ids[BATCH_MAX];
	struct wire_queue_weight_in queues[WIRE_SUBSCRIBE_QUEUES_MAX];
	uint8_t *arena; /* string and byte contents */
	size_t arena_used;
};

struct gen {
	uint64_t rng;
	unsigned rotate; /* start of the next charset walk (MODE_MAX) */
	struct store *st;
};

/* ---- random numbers (splitmix64) ---- */

static uint64_t
rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint64_t
rnd_range(struct gen *g, uint64_t lo, uint64_t hi)
{
	if (hi - lo == UINT64_MAX)
		return rnd(g);
	return lo + rnd(g) % (hi - lo + 1);
}

static bool
rnd_percent(struct gen *g, unsigned p)
{
	return rnd(g) % 100 < p;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---- values ---- */

static void *
arena_alloc(struct gen *g, size_t n)
{
	struct store *st = g->st;
	void *p;

	if (n > ARENA_BYTES - st->arena_used) {
		fprintf(stderr, "build_frames: arena of %u bytes exhausted\n", ARENA_BYTES);
		exit(1);
	}
	p = st->arena + st->arena_used;
	st->arena_used += n;
	return p;
}

static bool
present(struct gen *g, enum mode m)
{
	if (m == MODE_MAX || m == MODE_LOW)
		return true;
	if (m == MODE_MIN)
		return false;
	return rnd_percent(g, 50);
}

/* A length (or count) in [lo, hi]. */
static uint32_t
length(struct gen *g, enum mode m, uint32_t lo, uint32_t hi)
{
	unsigned pick;

	switch (m) {
	case MODE_MAX:
		return hi;
	case MODE_LOW:
	case MODE_MIN:
		return lo;
	case MODE_LIGHT:
		return (uint32_t)rnd_range(g, lo, min_u64(hi, lo + 4));
	default:
		break;
	}
	pick = (unsigned)(rnd(g) % 100);
	if (pick < 15)
		return lo;
	if (pick < 25)
		return hi;
	if (pick < 85)
		return (uint32_t)rnd_range(g, lo, min_u64(hi, lo + 40));
	if (pick < 97)
		return (uint32_t)rnd_range(g, lo, min_u64(hi, 4096));
	return (uint32_t)rnd_range(g, lo, hi);
}

/* n characters of charset: a walk through all of it in MODE_MAX, else random. */
static struct wire_str
chars(struct gen *g, enum mode m, const char *charset, uint32_t n)
{
	size_t k = strlen(charset);
	char *p = arena_alloc(g, n ? n : 1);
	uint32_t i;

	for (i = 0; i < n; i++)
		p[i] = charset[m == MODE_MAX ? (g->rotate + i) % k : rnd(g) % k];
	if (m == MODE_MAX)
		g->rotate += 7;
	return (struct wire_str){ p, n };
}

static struct wire_str
name(struct gen *g, enum mode m, uint32_t max)
{
	return chars(g, m, name_chars, length(g, m, 1, max));
}

/* Printable ASCII 0x20-0x7e, lo..max bytes. */
static struct wire_str
text(struct gen *g, enum mode m, uint32_t lo, uint32_t max)
{
	return chars(g, m, text_chars, length(g, m, lo, max));
}

static struct wire_str
opt_text(struct gen *g, enum mode m, uint32_t lo, uint32_t max)
{
	struct wire_str none = { NULL, 0 };

	return present(g, m) ? text(g, m, lo, max) : none;
}

static struct wire_bytes
opt_bytes(struct gen *g, enum mode m, uint32_t max)
{
	struct wire_bytes b = { NULL, 0 };
	uint8_t *p;
	uint32_t i;

	if (!present(g, m))
		return b;
	b.len = length(g, m, 0, max);
	p = arena_alloc(g, b.len ? b.len : 1);
	for (i = 0; i < b.len; i++)
		p[i] = (uint8_t)rnd(g);
	b.p = p;
	return b;
}

static uint64_t
any_u64(struct gen *g)
{
	unsigned pick = (unsigned)(rnd(g) % 100);

	if (pick < 10)
		return 0;
	if (pick < 25)
		return UINT64_MAX;
	if (pick < 35)
		return rnd_range(g, 1, 255);
	return rnd(g);
}

/* A scalar in [lo, hi]; def is what the schema says when the field is absent. */
static uint64_t
scalar(struct gen *g, enum mode m, uint64_t lo, uint64_t hi, uint64_t def)
{
	bool def_ok = lo <= def && def <= hi;
	unsigned pick;

	if (m == MODE_MAX)
		return hi;
	if (m == MODE_LOW)
		return lo;
	if (m == MODE_MIN)
		return def_ok ? def : lo;
	pick = (unsigned)(rnd(g) % 100);
	if (def_ok && pick < 30)
		return def;
	if (pick < 45)
		return lo;
	if (pick < 60)
		return hi;
	if (lo == 0 && hi == UINT64_MAX)
		return any_u64(g);
	return rnd_range(g, lo, hi);
}

static uint64_t
u64_field(struct gen *g, enum mode m)
{
	return scalar(g, m, 0, UINT64_MAX, 0);
}

static uint32_t
duration(struct gen *g, enum mode m)
{
	return (uint32_t)scalar(g, m, 0, WIRE_DURATION_MS_MAX, 0);
}

static struct wire_jobid
jobid(struct gen *g, bool allow_zero)
{
	unsigned pick = (unsigned)(rnd(g) % 100);
	struct wire_jobid id = { rnd(g), rnd(g) | 1 };

	if (pick < 15)
		id = (struct wire_jobid){ UINT64_MAX, UINT64_MAX };
	else if (pick < 25)
		id = (struct wire_jobid){ 0, 1 };
	else if (pick < 35)
		id = (struct wire_jobid){ 1, 0 };
	else if (allow_zero && pick < 45)
		id = (struct wire_jobid){ 0, 0 };
	return id;
}

static uint16_t
status_value(struct gen *g, enum mode m, uint32_t i)
{
	return (uint16_t)(m == MODE_MAX ? i % N_STATUS : rnd(g) % N_STATUS);
}

/* ---- messages ---- */

static void
gen_job(struct gen *g, enum mode m, struct wire_job_in *j)
{
	struct store *st = g->st;
	uint32_t i;

	memset(j, 0, sizeof(*j));
	j->queue = name(g, m, WIRE_QUEUE_NAME_MAX);
	j->type = name(g, m, WIRE_TYPE_NAME_MAX);
	if (present(g, m))
		j->id = jobid(g, false);
	j->payload = opt_bytes(g, m, TEST_PAYLOAD_MAX);
	j->content_type = opt_text(g, m, 0, WIRE_CONTENT_TYPE_MAX);
	j->priority = (uint8_t)scalar(g, m, 0, WIRE_PRIORITY_MAX, 0);
	j->not_before_ms = u64_field(g, m);
	j->ttl_ms = duration(g, m);
	j->max_attempts = (uint16_t)scalar(g, m, 0, WIRE_ATTEMPTS_MAX, 0);
	j->lease_timeout_ms = duration(g, m);
	j->unique_key = opt_text(g, m, 1, WIRE_UNIQUE_KEY_MAX);
	j->unique_ttl_ms = duration(g, m);
	if (present(g, m)) {
		struct wire_header_in *h = &st->headers[st->n_headers_used];

		j->n_headers = length(g, m, 0, WIRE_HEADERS_MAX);
		st->n_headers_used += j->n_headers;
		for (i = 0; i < j->n_headers; i++) {
			h[i].key = name(g, m, WIRE_HEADER_KEY_MAX);
			h[i].value = text(g, m, 0, WIRE_HEADER_VALUE_MAX);
		}
		j->headers = h;
	}
}

static void
gen_message(struct gen *g, enum mode m, enum wire_msg type, struct wire_msg_in *msg)
{
	struct store *st = g->st;
	uint32_t i, n;

	memset(msg, 0, sizeof(*msg));
	msg->type = type;
	switch (type) {
	case WIRE_MSG_HELLO:
		msg->u.hello.version = WIRE_PROTOCOL_VERSION;
		msg->u.hello.role = (uint8_t)scalar(g, m, WIRE_ROLE_PRODUCER, WIRE_ROLE_BOTH,
						    WIRE_ROLE_PRODUCER);
		msg->u.hello.token = opt_bytes(g, m, WIRE_TOKEN_MAX);
		msg->u.hello.client_name = opt_text(g, m, 0, WIRE_CLIENT_NAME_MAX);
		break;
	case WIRE_MSG_WELCOME:
		msg->u.welcome.version = WIRE_PROTOCOL_VERSION;
		msg->u.welcome.session_id = u64_field(g, m);
		msg->u.welcome.max_frame_bytes = (uint32_t)scalar(g, m, 0, UINT32_MAX, 0);
		msg->u.welcome.max_batch_jobs = (uint32_t)scalar(g, m, 0, UINT32_MAX, 0);
		msg->u.welcome.heartbeat_ms = (uint32_t)scalar(g, m, 0, UINT32_MAX, 0);
		msg->u.welcome.server_name = opt_text(g, m, 0, WIRE_CLIENT_NAME_MAX);
		break;
	case WIRE_MSG_ENQUEUE_BATCH:
		msg->u.enqueue_batch.seq = u64_field(g, m);
		n = length(g, m, 1, BATCH_MAX);
		for (i = 0; i < n; i++)
			gen_job(g, i > 0 && n > BATCH_FULL_JOBS ? MODE_LIGHT : m, &st->jobs[i]);
		msg->u.enqueue_batch.jobs = st->jobs;
		msg->u.enqueue_batch.n_jobs = n;
		break;
	case WIRE_MSG_ENQUEUE_ACK:
		msg->u.enqueue_ack.seq = u64_field(g, m);
		n = length(g, m, 1, BATCH_MAX);
		for (i = 0; i < n; i++) {
			st->status[i] = status_value(g, m, i);
			st->ids[i] = jobid(g, true);
		}
		msg->u.enqueue_ack.status = st->status;
		msg->u.enqueue_ack.ids = st->ids;
		msg->u.enqueue_ack.n = n;
		break;
	case WIRE_MSG_SUBSCRIBE:
		n = length(g, m, 1, WIRE_SUBSCRIBE_QUEUES_MAX);
		for (i = 0; i < n; i++) {
			st->queues[i].queue = name(g, m, WIRE_QUEUE_NAME_MAX);
			st->queues[i].weight = (uint16_t)scalar(g, m, 1, WIRE_WEIGHT_MAX, 1);
		}
		msg->u.subscribe.queues = st->queues;
		msg->u.subscribe.n_queues = n;
		msg->u.subscribe.prefetch = (uint32_t)scalar(g, m, 0, WIRE_CREDIT_MAX, 1);
		break;
	case WIRE_MSG_CREDIT:
		msg->u.credit.credit = (uint32_t)scalar(g, m, 1, WIRE_CREDIT_MAX, 0);
		break;
	case WIRE_MSG_DELIVER:
		msg->u.deliver.lease_id = u64_field(g, m);
		msg->u.deliver.attempt = (uint16_t)scalar(g, m, 0, UINT16_MAX, 0);
		msg->u.deliver.lease_timeout_ms = duration(g, m);
		msg->u.deliver.enqueued_ms = u64_field(g, m);
		gen_job(g, m, &msg->u.deliver.job);
		break;
	case WIRE_MSG_COMPLETE:
	case WIRE_MSG_EXTEND_LEASE:
		n = length(g, m, 1, BATCH_MAX);
		for (i = 0; i < n; i++)
			st->lease_ids[i] = any_u64(g);
		if (type == WIRE_MSG_COMPLETE) {
			msg->u.complete.seq = u64_field(g, m);
			msg->u.complete.lease_ids = st->lease_ids;
			msg->u.complete.n = n;
		} else {
			msg->u.extend_lease.seq = u64_field(g, m);
			msg->u.extend_lease.lease_ids = st->lease_ids;
			msg->u.extend_lease.n = n;
			msg->u.extend_lease.extend_ms = duration(g, m);
		}
		break;
	case WIRE_MSG_FAIL:
		msg->u.fail.seq = u64_field(g, m);
		msg->u.fail.lease_id = u64_field(g, m);
		msg->u.fail.reason = opt_text(g, m, 0, WIRE_TEXT_MAX);
		msg->u.fail.retry_delay_ms = duration(g, m);
		msg->u.fail.dead = scalar(g, m, 0, 1, 0) != 0;
		break;
	case WIRE_MSG_LEASE_ACK:
		msg->u.lease_ack.seq = u64_field(g, m);
		n = length(g, m, 1, BATCH_MAX);
		for (i = 0; i < n; i++)
			st->status[i] = status_value(g, m, i);
		msg->u.lease_ack.status = st->status;
		msg->u.lease_ack.n = n;
		break;
	case WIRE_MSG_PING:
	case WIRE_MSG_PONG:
		/* Ping and Pong share one union member in struct wire_msg_in. */
		msg->u.ping.nonce = u64_field(g, m);
		msg->u.ping.time_ms = u64_field(g, m);
		break;
	case WIRE_MSG_ERROR:
		msg->u.error.code = (uint16_t)scalar(g, m, 0, N_STATUS - 1, WIRE_STATUS_INVALID);
		msg->u.error.message = opt_text(g, m, 0, WIRE_TEXT_MAX);
		msg->u.error.ref_seq = u64_field(g, m);
		break;
	case WIRE_MSG_GOODBYE:
		msg->u.goodbye.reason = (uint16_t)scalar(g, m, 0, N_STATUS - 1, WIRE_STATUS_OK);
		msg->u.goodbye.message = opt_text(g, m, 0, WIRE_TEXT_MAX);
		break;
	default:
		fprintf(stderr, "build_frames: no generator for message type %d\n", type);
		exit(1);
	}
}

/* ---- the intended values as JSON (flatc --defaults-json shape) ---- */

struct json {
	FILE *out;
	bool first; /* no member written yet in the current object */
};

static void
j_key(struct json *j, const char *key)
{
	fprintf(j->out, "%s\"%s\":", j->first ? "" : ",", key);
	j->first = false;
}

static void
j_open(struct json *j)
{
	fputc('{', j->out);
	j->first = true;
}

static void
j_close(struct json *j)
{
	fputc('}', j->out);
	j->first = false;
}

static void
j_u64(struct json *j, const char *key, uint64_t v)
{
	j_key(j, key);
	fprintf(j->out, "%" PRIu64, v);
}

static void
j_bool(struct json *j, const char *key, bool v)
{
	j_key(j, key);
	fputs(v ? "true" : "false", j->out);
}

static void
j_name(struct json *j, const char *key, const char *const *names, size_t n, unsigned v)
{
	j_key(j, key);
	if (v < n && names[v])
		fprintf(j->out, "\"%s\"", names[v]);
	else
		fprintf(j->out, "%u", v);
}

static void
j_status(struct json *j, const char *key, unsigned v)
{
	j_name(j, key, status_names, N_STATUS, v);
}

/* Absent strings are left out, like flatc does. */
static void
j_str(struct json *j, const char *key, struct wire_str s)
{
	uint32_t i;

	if (!s.p)
		return;
	j_key(j, key);
	fputc('"', j->out);
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c == '"' || c == '\\')
			fprintf(j->out, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			fprintf(j->out, "\\u%04x", c);
		else
			fputc(c, j->out);
	}
	fputc('"', j->out);
}

static void
j_bytes(struct json *j, const char *key, struct wire_bytes b)
{
	uint32_t i;

	if (!b.p)
		return;
	j_key(j, key);
	fputc('[', j->out);
	for (i = 0; i < b.len; i++)
		fprintf(j->out, "%s%u", i ? "," : "", b.p[i]);
	fputc(']', j->out);
}

static void
j_id_value(struct json *j, struct wire_jobid id)
{
	fprintf(j->out, "{\"hi\":%" PRIu64 ",\"lo\":%" PRIu64 "}", id.hi, id.lo);
}

static void
j_u64s(struct json *j, const char *key, const uint64_t *v, uint32_t n)
{
	uint32_t i;

	j_key(j, key);
	fputc('[', j->out);
	for (i = 0; i < n; i++)
		fprintf(j->out, "%s%" PRIu64, i ? "," : "", v[i]);
	fputc(']', j->out);
}

static void
j_statuses(struct json *j, const char *key, const uint16_t *v, uint32_t n)
{
	uint32_t i;

	j_key(j, key);
	fputc('[', j->out);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', j->out);
		if (v[i] < N_STATUS)
			fprintf(j->out, "\"%s\"", status_names[v[i]]);
		else
			fprintf(j->out, "%u", v[i]);
	}
	fputc(']', j->out);
}

static void
emit_job(struct json *j, const struct wire_job_in *job)
{
	uint32_t i;

	j_open(j);
	j_str(j, "queue", job->queue);
	j_str(j, "type", job->type);
	/* A zero id is an absent id. */
	if (job->id.hi || job->id.lo) {
		j_key(j, "id");
		j_id_value(j, job->id);
	}
	j_bytes(j, "payload", job->payload);
	j_str(j, "content_type", job->content_type);
	j_u64(j, "priority", job->priority);
	j_u64(j, "not_before_ms", job->not_before_ms);
	j_u64(j, "ttl_ms", job->ttl_ms);
	j_u64(j, "max_attempts", job->max_attempts);
	j_u64(j, "lease_timeout_ms", job->lease_timeout_ms);
	j_str(j, "unique_key", job->unique_key);
	j_u64(j, "unique_ttl_ms", job->unique_ttl_ms);
	if (job->headers) {
		j_key(j, "headers");
		fputc('[', j->out);
		for (i = 0; i < job->n_headers; i++) {
			if (i)
				fputc(',', j->out);
			j_open(j);
			j_str(j, "key", job->headers[i].key);
			j_str(j, "value", job->headers[i].value);
			j_close(j);
		}
		fputc(']', j->out);
	}
	j_close(j);
}

static void
emit_message(struct json *j, const struct wire_msg_in *m)
{
	uint32_t i;

	j_open(j);
	j_key(j, "msg_type");
	fprintf(j->out, "\"%s\"", msg_names[m->type]);
	j_key(j, "msg");
	j_open(j);
	switch (m->type) {
	case WIRE_MSG_HELLO:
		j_u64(j, "version", m->u.hello.version);
		j_name(j, "role", role_names, 4, m->u.hello.role);
		j_bytes(j, "token", m->u.hello.token);
		j_str(j, "client_name", m->u.hello.client_name);
		break;
	case WIRE_MSG_WELCOME:
		j_u64(j, "version", m->u.welcome.version);
		j_u64(j, "session_id", m->u.welcome.session_id);
		j_u64(j, "max_frame_bytes", m->u.welcome.max_frame_bytes);
		j_u64(j, "max_batch_jobs", m->u.welcome.max_batch_jobs);
		j_u64(j, "heartbeat_ms", m->u.welcome.heartbeat_ms);
		j_str(j, "server_name", m->u.welcome.server_name);
		break;
	case WIRE_MSG_ENQUEUE_BATCH:
		j_u64(j, "seq", m->u.enqueue_batch.seq);
		j_key(j, "jobs");
		fputc('[', j->out);
		for (i = 0; i < m->u.enqueue_batch.n_jobs; i++) {
			if (i)
				fputc(',', j->out);
			emit_job(j, &m->u.enqueue_batch.jobs[i]);
		}
		fputc(']', j->out);
		break;
	case WIRE_MSG_ENQUEUE_ACK:
		j_u64(j, "seq", m->u.enqueue_ack.seq);
		j_statuses(j, "status", m->u.enqueue_ack.status, m->u.enqueue_ack.n);
		j_key(j, "ids");
		fputc('[', j->out);
		for (i = 0; i < m->u.enqueue_ack.n; i++) {
			if (i)
				fputc(',', j->out);
			j_id_value(j, m->u.enqueue_ack.ids[i]);
		}
		fputc(']', j->out);
		break;
	case WIRE_MSG_SUBSCRIBE:
		j_key(j, "queues");
		fputc('[', j->out);
		for (i = 0; i < m->u.subscribe.n_queues; i++) {
			if (i)
				fputc(',', j->out);
			j_open(j);
			j_str(j, "queue", m->u.subscribe.queues[i].queue);
			j_u64(j, "weight", m->u.subscribe.queues[i].weight);
			j_close(j);
		}
		fputc(']', j->out);
		j_u64(j, "prefetch", m->u.subscribe.prefetch);
		break;
	case WIRE_MSG_CREDIT:
		j_u64(j, "credit", m->u.credit.credit);
		break;
	case WIRE_MSG_DELIVER:
		j_u64(j, "lease_id", m->u.deliver.lease_id);
		j_u64(j, "attempt", m->u.deliver.attempt);
		j_u64(j, "lease_timeout_ms", m->u.deliver.lease_timeout_ms);
		j_u64(j, "enqueued_ms", m->u.deliver.enqueued_ms);
		j_key(j, "job");
		emit_job(j, &m->u.deliver.job);
		break;
	case WIRE_MSG_COMPLETE:
		j_u64(j, "seq", m->u.complete.seq);
		j_u64s(j, "lease_ids", m->u.complete.lease_ids, m->u.complete.n);
		break;
	case WIRE_MSG_FAIL:
		j_u64(j, "seq", m->u.fail.seq);
		j_u64(j, "lease_id", m->u.fail.lease_id);
		j_str(j, "reason", m->u.fail.reason);
		j_u64(j, "retry_delay_ms", m->u.fail.retry_delay_ms);
		j_bool(j, "dead", m->u.fail.dead);
		break;
	case WIRE_MSG_EXTEND_LEASE:
		j_u64(j, "seq", m->u.extend_lease.seq);
		j_u64s(j, "lease_ids", m->u.extend_lease.lease_ids, m->u.extend_lease.n);
		j_u64(j, "extend_ms", m->u.extend_lease.extend_ms);
		break;
	case WIRE_MSG_LEASE_ACK:
		j_u64(j, "seq", m->u.lease_ack.seq);
		j_statuses(j, "status", m->u.lease_ack.status, m->u.lease_ack.n);
		break;
	case WIRE_MSG_PING:
	case WIRE_MSG_PONG:
		j_u64(j, "nonce", m->u.ping.nonce);
		j_u64(j, "time_ms", m->u.ping.time_ms);
		break;
	case WIRE_MSG_ERROR:
		j_status(j, "code", m->u.error.code);
		j_str(j, "message", m->u.error.message);
		j_u64(j, "ref_seq", m->u.error.ref_seq);
		break;
	case WIRE_MSG_GOODBYE:
		j_status(j, "reason", m->u.goodbye.reason);
		j_str(j, "message", m->u.goodbye.message);
		break;
	default:
		break;
	}
	j_close(j);
	j_close(j);
	fputc('\n', j->out);
}

/* ---- main ---- */

static int
parse_uint(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *s == '\0' || *s == '-' || *end != '\0' ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static const enum mode first_modes[] = { MODE_MAX, MODE_LOW, MODE_MIN };
	unsigned long long n_frames = 600, seed = 0x5111ce;
	struct store *st = calloc(1, sizeof(*st));
	uint8_t *frame = malloc(FRAME_CAP);
	struct gen g = { 0 };
	struct wire_msg_in msg;
	struct json j;
	FILE *stream, *jsonl;
	uint64_t bytes = 0;
	size_t largest = 0;
	unsigned long long i;

	if (argc < 3 || argc > 5 || (argc > 3 && parse_uint(argv[3], &n_frames)) ||
	    (argc > 4 && parse_uint(argv[4], &seed))) {
		fprintf(stderr, "usage: build_frames STREAM JSONL [FRAMES [SEED]]\n");
		return 2;
	}
	if (st)
		st->arena = malloc(ARENA_BYTES);
	if (!st || !frame || !st->arena) {
		fprintf(stderr, "build_frames: out of memory\n");
		return 2;
	}
	stream = fopen(argv[1], "wb");
	jsonl = fopen(argv[2], "w");
	if (!stream || !jsonl) {
		fprintf(stderr, "build_frames: cannot create %s or %s: %s\n", argv[1], argv[2],
			strerror(errno));
		return 2;
	}
	g.rng = seed;
	g.st = st;
	j.out = jsonl;
	for (i = 0; i < n_frames; i++) {
		enum wire_msg type;
		enum mode m;
		ssize_t len;

		if (i < 3 * N_MSG) {
			type = (enum wire_msg)(1 + i % N_MSG);
			m = first_modes[i / N_MSG];
		} else {
			type = (enum wire_msg)rnd_range(&g, 1, N_MSG);
			m = MODE_RANDOM;
		}
		st->arena_used = 0;
		st->n_headers_used = 0;
		gen_message(&g, m, type, &msg);
		len = wire_build(frame, FRAME_CAP, &msg);
		if (len < 0) {
			fprintf(stderr, "build_frames: frame %llu (%s): wire_build: %s\n", i,
				msg_names[type], wire_error_name((int)len));
			return 1;
		}
		if (fwrite(frame, 1, (size_t)len, stream) != (size_t)len) {
			fprintf(stderr, "build_frames: %s: write error\n", argv[1]);
			return 2;
		}
		emit_message(&j, &msg);
		bytes += (uint64_t)len;
		if ((size_t)len > largest)
			largest = (size_t)len;
	}
	if (fclose(stream) != 0 || fclose(jsonl) != 0) {
		fprintf(stderr, "build_frames: write error: %s\n", strerror(errno));
		return 2;
	}
	printf("build_frames: %llu frames, %" PRIu64 " bytes, largest %zu bytes (seed %#llx)\n",
	       n_frames, bytes, largest, seed);
	free(st->arena);
	free(st);
	free(frame);
	return 0;
}
