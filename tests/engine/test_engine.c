/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the queue engine (dataplane/engine) with a fake clock: time
 * is a number the test passes in, so every run is the same. Jobs are built
 * the way the dataplane builds them: a wire frame from wire_build(), checked
 * by wire_verify(), copied by eng_job_fill(). Every job allocation is
 * counted; cfg.free_job must see each engine-owned job exactly once.
 *
 * The last tests push 100k jobs through with exact accounting, and run a
 * randomized model: a small reference implementation of the contract that
 * predicts every status and every counter, step by step.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "eng_pvt.h"
#include "wire_build.h"
#include "../check.h"

/* Equality of two integers, both printed when it fails. */
#define CHECK_EQ(got, want)                                                                        \
	do {                                                                                       \
		unsigned long long got_ = (unsigned long long)(got);                               \
		unsigned long long want_ = (unsigned long long)(want);                             \
		checks++;                                                                          \
		if (got_ != want_) {                                                               \
			failures++;                                                                \
			fprintf(stderr, "%s:%d: %s = %llu, want %s = %llu\n", __FILE__, __LINE__,  \
				#got, got_, #want, want_);                                         \
		}                                                                                  \
	} while (0)

/* ---- test PRNG (xorshift64*), independent of the engine's ---- */

static uint64_t
trand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(0x2545f4914f6cdd1d);
}

static uint32_t
trand_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(trand(s) % n);
}

/* ---- job memory: counted, and freed jobs are quarantined, not reused ---- */

#define MAGIC_LIVE UINT64_C(0x4c4956454a4f4221)
#define MAGIC_FREED UINT64_C(0x4652454544444421)

struct tjob_hdr {
	uint64_t magic;
	struct tjob_hdr *next;
};

static struct tjob_hdr *graveyard;
static uint64_t n_alloc, n_freed_engine, n_freed_caller, n_bad_free;

static struct eng_job *
tjob_alloc(size_t size)
{
	struct tjob_hdr *h = malloc(sizeof(*h) + size);

	if (!h) {
		perror("malloc");
		exit(2);
	}
	h->magic = MAGIC_LIVE;
	h->next = NULL;
	n_alloc++;
	return (struct eng_job *)(h + 1);
}

/*
 * Mark freed and poison, but keep the memory until the test ends, so a
 * second free is seen as such instead of being undefined behaviour.
 */
static bool
tjob_bury(struct eng_job *j)
{
	struct tjob_hdr *h = (struct tjob_hdr *)j - 1;

	if (h->magic != MAGIC_LIVE) {
		n_bad_free++;
		return false;
	}
	h->magic = MAGIC_FREED;
	memset(j, 0x5a, sizeof(*j) + j->data_len);
	h->next = graveyard;
	graveyard = h;
	return true;
}

static void
tjob_free_engine(struct eng_job *j, void *arg)
{
	(void)arg;
	if (tjob_bury(j))
		n_freed_engine++;
}

/* The caller still owns a refused job. */
static void
tjob_release(struct eng_job *j)
{
	if (tjob_bury(j))
		n_freed_caller++;
}

/* End of a test: every job freed once, by the engine or by its refuser. */
static void
accounting_check(void)
{
	CHECK_EQ(n_alloc, n_freed_engine + n_freed_caller);
	CHECK_EQ(n_bad_free, 0);
	while (graveyard) {
		struct tjob_hdr *h = graveyard;

		graveyard = h->next;
		free(h);
	}
	n_alloc = n_freed_engine = n_freed_caller = n_bad_free = 0;
}

/* ---- building jobs through the wire path ---- */

struct jspec {
	uint32_t tag; /* first 4 payload bytes: which job this is */
	uint8_t priority;
	uint64_t not_before;
	uint32_t ttl;
	uint32_t lease_timeout;
	uint16_t max_attempts;
	const char *ukey;
	uint32_t unique_ttl;
	struct wire_jobid id;
	uint32_t extra; /* payload bytes after the tag */
};

static uint8_t frame_buf[1 << 16];

static struct eng_job *
mkjob_in(const struct wire_job_in *in)
{
	struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_BATCH };
	const struct wire_job *wj;
	struct eng_job *job;
	ssize_t n;

	m.u.enqueue_batch.jobs = in;
	m.u.enqueue_batch.n_jobs = 1;
	n = wire_build(frame_buf, sizeof(frame_buf), &m);
	if (n <= 0 || wire_verify(frame_buf, (size_t)n, NULL, NULL) != 0) {
		fprintf(stderr, "test bug: job frame does not build or verify\n");
		exit(2);
	}
	wj = wire_enqueue_batch_jobs_at(wire_frame_enqueue_batch(wire_frame_root(frame_buf)), 0);
	job = tjob_alloc(eng_job_size(wj));
	eng_job_fill(job, wj, 0);
	return job;
}

static struct eng_job *
mkjob(const struct jspec *s)
{
	static uint8_t payload[4 + 4096];
	struct wire_job_in in = { .queue = wire_cstr("q"), .type = wire_cstr("t") };

	memcpy(payload, &s->tag, 4);
	memset(payload + 4, 0xab, s->extra);
	in.payload = (struct wire_bytes){ payload, 4 + s->extra };
	in.priority = s->priority;
	in.not_before_ms = s->not_before;
	in.ttl_ms = s->ttl;
	in.lease_timeout_ms = s->lease_timeout;
	in.max_attempts = s->max_attempts;
	in.unique_key = s->ukey ? wire_cstr(s->ukey) : (struct wire_str){ NULL, 0 };
	in.unique_ttl_ms = s->unique_ttl;
	in.id = s->id;
	return mkjob_in(&in);
}

static uint32_t
job_tag(const struct eng_job *j)
{
	struct wire_bytes p = eng_job_payload(j);
	uint32_t tag;

	memcpy(&tag, p.p, 4);
	return tag;
}

/* Build and enqueue; a refused job goes back to the test's allocator. */
static enum wire_status
put(struct eng *e, uint16_t q, const struct jspec *s, uint64_t now, struct wire_jobid *id)
{
	struct wire_jobid tmp;
	struct eng_job *j = mkjob(s);
	enum wire_status st = eng_enqueue(e, q, j, now, id ? id : &tmp);

	if (st != WIRE_STATUS_OK)
		tjob_release(j);
	return st;
}

static enum wire_status
put_tag(struct eng *e, uint16_t q, uint32_t tag, uint64_t now)
{
	struct jspec s = { .tag = tag };

	return put(e, q, &s, now, NULL);
}

/* ---- engines, queues, consumers ---- */

static struct eng *
mkeng(uint32_t max_jobs, uint32_t dedup_entries)
{
	struct eng_cfg cfg = {
		.worker_id = 7,
		.max_queues = 8,
		.max_jobs = max_jobs,
		.max_consumers = 16,
		.dedup_entries = dedup_entries,
		.seed = 0x5eed,
		.free_job = tjob_free_engine,
	};
	struct eng *e = eng_create(&cfg);

	if (!e) {
		perror("eng_create");
		exit(2);
	}
	return e;
}

static struct eng_queue_cfg
qcfg(const char *name)
{
	struct eng_queue_cfg qc = {
		.name = name,
		.max_jobs = 1000000,
		.max_bytes = UINT64_C(1) << 40,
		.max_attempts = 3,
		.lease_timeout_ms = 1000,
	};

	return qc;
}

static uint16_t
addq(struct eng *e, const struct eng_queue_cfg *qc)
{
	int q = eng_queue_add(e, qc);

	if (q < 0) {
		fprintf(stderr, "test bug: eng_queue_add(%s) = %d\n", qc->name, q);
		exit(2);
	}
	return (uint16_t)q;
}

static uint32_t
addc(struct eng *e, uint16_t q, uint32_t credit)
{
	struct eng_sub sub = { q, 1 };
	int c = eng_consumer_add(e, 0, &sub, 1, credit);

	if (c < 0) {
		fprintf(stderr, "test bug: eng_consumer_add = %d\n", c);
		exit(2);
	}
	return (uint32_t)c;
}

static struct eng_queue_stats
qs(const struct eng *e, uint16_t q)
{
	struct eng_queue_stats st;

	eng_queue_stats(e, q, &st);
	return st;
}

/* Lease exactly one job now (credit added as needed). */
static bool
lease1(struct eng *e, uint32_t c, uint64_t now, struct eng_delivery *d)
{
	eng_consumer_credit(e, c, 1);
	return eng_dispatch(e, now, d, 1) == 1;
}

/* ---- building blocks ---- */

static void
test_siphash(void)
{
	/* Reference vectors of SipHash-2-4: key 00..0f, message 00 01 .. (n-1). */
	struct eng_hkey k = { UINT64_C(0x0706050403020100), UINT64_C(0x0f0e0d0c0b0a0908) };
	uint8_t msg[16];
	unsigned i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	CHECK_EQ(eng_siphash(&k, 0, msg, 0), UINT64_C(0x726fdb47dd0e0e31));
	CHECK_EQ(eng_siphash(&k, 0, msg, 1), UINT64_C(0x74f839c593dc67fd));
	CHECK_EQ(eng_siphash(&k, 0, msg, 15), UINT64_C(0xa129ca6149be45e5));
	/* The tweak is part of the key. */
	CHECK(eng_siphash(&k, 1, msg, 15) != eng_siphash(&k, 0, msg, 15));
}

static void
test_job_fill(void)
{
	static const uint8_t payload[300] = { 1, 2, 3 };
	static const struct wire_header_in hdrs[3] = {
		{ { "trace-id", 8 }, { "00-abc-01", 9 } },
		{ { "empty", 5 }, { "", 0 } },
		{ { "k", 1 }, { "a longer value with spaces ~", 28 } },
	};
	struct wire_job_in in = {
		.queue = wire_cstr("billing.eu-1"),
		.type = wire_cstr("render_pdf"),
		.id = { 1, 2 },
		.payload = { payload, sizeof(payload) },
		.content_type = wire_cstr("application/json"),
		.priority = 9,
		.not_before_ms = 5000,
		.ttl_ms = 60000,
		.max_attempts = 5,
		.lease_timeout_ms = 30000,
		.unique_key = wire_cstr("invoice 42"),
		.unique_ttl_ms = 777,
		.headers = hdrs,
		.n_headers = 3,
	};
	struct wire_job_in min = { .queue = wire_cstr("q"), .type = wire_cstr("t") };
	struct wire_str k, v, s;
	struct eng_job *j;
	size_t want_data;
	unsigned i;

	j = mkjob_in(&in);
	want_data = 12 + 10 + 16 + 10 + (3 + 8 + 9) + (3 + 5 + 0) + (3 + 1 + 28) + 300;
	CHECK_EQ(j->data_len, want_data);
	CHECK_EQ(j->headers_len, (3 + 8 + 9) + (3 + 5 + 0) + (3 + 1 + 28));
	CHECK(j->id.hi == 1 && j->id.lo == 2);
	CHECK_EQ(j->not_before_ms, 5000);
	CHECK_EQ(j->ttl_ms, 60000);
	CHECK_EQ(j->max_attempts, 5);
	CHECK_EQ(j->lease_timeout_ms, 30000);
	CHECK_EQ(j->unique_ttl_ms, 777);
	CHECK_EQ(j->priority, 9);
	CHECK_EQ(j->n_headers, 3);
	CHECK_EQ(j->attempts, 0);
	CHECK_EQ(j->state, 0);
	CHECK(j->prev == NULL && j->next == NULL && j->tprev == NULL && j->tnext == NULL);
	CHECK_EQ(j->deadline_ms, 0);
	s = eng_job_queue(j);
	CHECK(s.len == 12 && memcmp(s.p, "billing.eu-1", 12) == 0);
	s = eng_job_type(j);
	CHECK(s.len == 10 && memcmp(s.p, "render_pdf", 10) == 0);
	s = eng_job_content_type(j);
	CHECK(s.len == 16 && memcmp(s.p, "application/json", 16) == 0);
	s = eng_job_unique_key(j);
	CHECK(s.len == 10 && memcmp(s.p, "invoice 42", 10) == 0);
	CHECK(eng_job_payload(j).len == 300 && memcmp(eng_job_payload(j).p, payload, 300) == 0);
	for (i = 0; i < 3; i++) {
		eng_job_header(j, i, &k, &v);
		CHECK(k.len == hdrs[i].key.len && memcmp(k.p, hdrs[i].key.p, k.len) == 0);
		CHECK(v.len == hdrs[i].value.len && memcmp(v.p, hdrs[i].value.p, v.len) == 0);
	}
	tjob_release(j);

	/* Absent optional fields read back as absent; only queue and type take bytes. */
	j = mkjob_in(&min);
	CHECK_EQ(j->data_len, 2);
	CHECK(eng_job_content_type(j).p == NULL && eng_job_unique_key(j).p == NULL);
	CHECK(eng_job_payload(j).p == NULL && j->n_headers == 0 && j->not_before_ms == 0);
	tjob_release(j);

	/* not_before: wall clock to engine clock, 0 stays "now", results saturate. */
	{
		static const struct {
			uint64_t wall;
			int64_t off;
			uint64_t want;
		} nb[] = {
			{ 0, 1000, 0 },
			{ 0, -1000, 0 },
			{ 5000, -1000, 4000 },
			{ 5000, 1000, 6000 },
			{ 1000, -1000, 0 }, /* exactly the engine epoch: due */
			{ 500, -1000, 0 },
			{ 1, INT64_MIN, 0 },
			{ UINT64_MAX, 5, UINT64_MAX },
			{ UINT64_MAX - 5, 5, UINT64_MAX },
			{ UINT64_MAX, INT64_MIN, UINT64_MAX - (UINT64_C(1) << 63) },
			{ UINT64_C(1700000000000), -INT64_C(1699999990000), 10000 },
		};
		struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_BATCH };
		const struct wire_job *wj;
		struct eng_job *x;
		ssize_t n;

		for (i = 0; i < sizeof(nb) / sizeof(nb[0]); i++) {
			min.not_before_ms = nb[i].wall;
			m.u.enqueue_batch.jobs = &min;
			m.u.enqueue_batch.n_jobs = 1;
			n = wire_build(frame_buf, sizeof(frame_buf), &m);
			CHECK(n > 0 && wire_verify(frame_buf, (size_t)n, NULL, NULL) == 0);
			wj = wire_enqueue_batch_jobs_at(
				wire_frame_enqueue_batch(wire_frame_root(frame_buf)), 0);
			x = tjob_alloc(eng_job_size(wj));
			eng_job_fill(x, wj, nb[i].off);
			CHECK_EQ(x->not_before_ms, nb[i].want);
			tjob_release(x);
		}
	}
	accounting_check();
}

/*
 * The wheel on its own: after every pop(now), exactly the timers with
 * deadline <= now that were filed and not cancelled have come out, each
 * once; next() never promises later than the earliest deadline.
 */
static void
test_wheel(void)
{
	enum { N = 4000 };
	struct eng_wheel *w = malloc(sizeof(*w));
	struct eng_job *jobs = calloc(N, sizeof(*jobs));
	bool *filed = calloc(N, sizeof(bool)), *popped = calloc(N, sizeof(bool));
	uint64_t *due = calloc(N, sizeof(uint64_t));
	uint64_t rng = 42, now = 0, prev_deadline, last_pop = 0;
	unsigned i, step;

	if (!w || !jobs || !filed || !popped || !due)
		exit(2);
	eng_wheel_init(w);
	for (i = 0; i < N; i++)
		jobs[i].wheel_slot = ENG_WHEEL_NONE;
	CHECK_EQ(eng_wheel_next(w), ENG_NEVER);
	CHECK(eng_wheel_pop(w, UINT64_MAX) == NULL);
	eng_wheel_init(w);
	/* Phase 1: all filed at time 0, a tenth cancelled, popped in time order. */
	for (i = 0; i < N; i++) {
		uint64_t r = trand(&rng);

		switch (i % 5) {
		case 0:
			jobs[i].deadline_ms = r % 200;
			break;
		case 1:
			jobs[i].deadline_ms = r % 100000;
			break;
		case 2:
			jobs[i].deadline_ms = r % (UINT64_C(1) << 36);
			break;
		case 3:
			jobs[i].deadline_ms = r % 4097 + 4000;
			break;
		default:
			jobs[i].deadline_ms = r >> (r % 64); /* anything up to 2^64 - 1 */
			if (jobs[i].deadline_ms == UINT64_MAX)
				jobs[i].deadline_ms--;
			break;
		}
		eng_wheel_add(w, &jobs[i]);
		filed[i] = true;
	}
	for (i = 0; i < N; i += 10) {
		eng_wheel_del(w, &jobs[i]);
		filed[i] = false;
	}
	CHECK_EQ(w->count, N - N / 10);
	for (step = 0; now < UINT64_MAX - 1; step++) {
		uint64_t jump = step < 300 ? 1 + trand(&rng) % 97 : trand(&rng) >> (step % 64);
		uint64_t earliest = ENG_NEVER;
		struct eng_job *j;
		bool ok = true;

		for (i = 0; i < N; i++)
			if (filed[i] && !popped[i] && jobs[i].deadline_ms < earliest)
				earliest = jobs[i].deadline_ms;
		CHECK(eng_wheel_next(w) <= earliest);
		CHECK((eng_wheel_next(w) == ENG_NEVER) == (earliest == ENG_NEVER));
		now = now > UINT64_MAX - 1 - jump ? UINT64_MAX - 1 : now + jump;
		prev_deadline = 0;
		while ((j = eng_wheel_pop(w, now)) != NULL) {
			i = (unsigned)(j - jobs);
			CHECK(filed[i] && !popped[i] && j->deadline_ms <= now);
			CHECK(j->deadline_ms >= prev_deadline);
			CHECK(j->wheel_slot == ENG_WHEEL_NONE);
			prev_deadline = j->deadline_ms;
			popped[i] = true;
		}
		for (i = 0; i < N; i++)
			if (filed[i] && popped[i] != (jobs[i].deadline_ms <= now))
				ok = false;
		CHECK(ok);
		if (!ok)
			break;
	}
	CHECK_EQ(w->count, 0);
	CHECK_EQ(eng_wheel_next(w), ENG_NEVER);

	/*
	 * Phase 2: filing while time moves. A deadline already behind the wheel
	 * (at or before the last pop's now) is due at the next pop after it.
	 */
	eng_wheel_init(w);
	memset(filed, 0, N * sizeof(bool));
	memset(popped, 0, N * sizeof(bool));
	now = 1000;
	for (step = 0; step < 2000; step++) {
		struct eng_job *j;
		bool ok = true;

		for (i = 0; i < 2; i++) {
			unsigned k = step * 2 + i;
			uint64_t r = trand(&rng);

			if (k >= N)
				break;
			jobs[k].wheel_slot = ENG_WHEEL_NONE;
			jobs[k].deadline_ms = now - 50 + r % (r & 1 ? 300 : 300000);
			due[k] =
				jobs[k].deadline_ms > last_pop ? jobs[k].deadline_ms : last_pop + 1;
			eng_wheel_add(w, &jobs[k]);
			filed[k] = true;
		}
		if (step % 7 == 0) {
			unsigned k = trand_below(&rng, step * 2 + 1);

			if (k < N && filed[k] && !popped[k]) {
				eng_wheel_del(w, &jobs[k]);
				filed[k] = false;
			}
		}
		{
			uint64_t earliest = ENG_NEVER;

			for (i = 0; i < N; i++)
				if (filed[i] && !popped[i] && due[i] < earliest)
					earliest = due[i];
			CHECK(eng_wheel_next(w) <= earliest);
			CHECK((eng_wheel_next(w) == ENG_NEVER) == (earliest == ENG_NEVER));
		}
		now += trand(&rng) % 200;
		while ((j = eng_wheel_pop(w, now)) != NULL) {
			i = (unsigned)(j - jobs);
			CHECK(filed[i] && !popped[i] && due[i] <= now);
			popped[i] = true;
		}
		last_pop = now;
		for (i = 0; i < N; i++)
			if (filed[i] && popped[i] != (due[i] <= now))
				ok = false;
		CHECK(ok);
		if (!ok)
			break;
	}
	free(w);
	free(jobs);
	free(filed);
	free(popped);
	free(due);
}

static void
test_config_errors(void)
{
	struct eng_cfg cfg = {
		.max_queues = 2, .max_jobs = 10, .max_consumers = 2, .free_job = tjob_free_engine
	};
	struct eng_queue_cfg qc = qcfg("alpha");
	struct eng_sub subs[WIRE_SUBSCRIBE_QUEUES_MAX + 1];
	struct wire_jobid id;
	struct eng_job *j;
	struct eng *e;
	unsigned i;

	errno = 0;
	CHECK(eng_create(NULL) == NULL && errno == EINVAL);
	cfg.free_job = NULL;
	errno = 0;
	CHECK(eng_create(&cfg) == NULL && errno == EINVAL);
	cfg.free_job = tjob_free_engine;
	cfg.max_jobs = 0;
	CHECK(eng_create(&cfg) == NULL && errno == EINVAL);
	cfg.max_jobs = 10;
	cfg.max_queues = 0;
	CHECK(eng_create(&cfg) == NULL && errno == EINVAL);
	cfg.max_queues = 2;
	e = eng_create(&cfg);
	CHECK(e != NULL);
	if (!e)
		return;

	qc.name = "bad name";
	CHECK_EQ(eng_queue_add(e, &qc), -EINVAL);
	qc.name = "";
	CHECK_EQ(eng_queue_add(e, &qc), -EINVAL);
	qc.name = NULL;
	CHECK_EQ(eng_queue_add(e, &qc), -EINVAL);
	qc = qcfg("alpha");
	qc.max_jobs = 0;
	CHECK_EQ(eng_queue_add(e, &qc), -EINVAL);
	qc = qcfg("alpha");
	qc.max_bytes = 0;
	CHECK_EQ(eng_queue_add(e, &qc), -EINVAL);
	qc = qcfg("alpha");
	qc.max_attempts = 0;
	CHECK_EQ(eng_queue_add(e, &qc), -EINVAL);
	qc = qcfg("alpha");
	qc.lease_timeout_ms = 0;
	CHECK_EQ(eng_queue_add(e, &qc), -EINVAL);
	qc = qcfg("alpha");
	CHECK_EQ(eng_queue_add(e, &qc), 0);
	CHECK_EQ(eng_queue_add(e, &qc), -EEXIST);
	qc.name = "beta";
	CHECK_EQ(eng_queue_add(e, &qc), 1);
	qc.name = "gamma";
	CHECK_EQ(eng_queue_add(e, &qc), -ENOSPC);
	CHECK_EQ(eng_queue_find(e, "alpha", 5), 0);
	CHECK_EQ(eng_queue_find(e, "beta", 4), 1);
	CHECK_EQ(eng_queue_find(e, "betax", 4), 1); /* length, not NUL, ends the name */
	CHECK_EQ(eng_queue_find(e, "gamma", 5), -1);
	CHECK_EQ(eng_queue_find(e, "alph", 4), -1);
	CHECK_EQ(eng_queue_find(e, "", 0), -1);
	qc.name = "alpha";
	CHECK_EQ(eng_queue_update(e, 1, &qc), -EINVAL); /* queue 1 is beta */
	CHECK_EQ(eng_queue_update(e, 2, &qc), -EINVAL);
	qc.name = NULL;
	CHECK_EQ(eng_queue_update(e, 1, &qc), 0);
	qc.max_attempts = 0;
	CHECK_EQ(eng_queue_update(e, 1, &qc), -EINVAL);

	for (i = 0; i < WIRE_SUBSCRIBE_QUEUES_MAX + 1; i++)
		subs[i] = (struct eng_sub){ (uint16_t)(i % 2), 1 };
	CHECK_EQ(eng_consumer_add(e, 1, subs, 0, 1), -EINVAL);
	CHECK_EQ(eng_consumer_add(e, 1, NULL, 1, 1), -EINVAL);
	CHECK_EQ(eng_consumer_add(e, 1, subs, 2, 1), 0);
	CHECK_EQ(eng_consumer_add(e, 1, subs, 3, 1), -EINVAL); /* queue 0 twice */
	subs[0].queue = 2;
	CHECK_EQ(eng_consumer_add(e, 1, subs, 1, 1), -EINVAL);
	subs[0] = (struct eng_sub){ 0, 0 };
	CHECK_EQ(eng_consumer_add(e, 1, subs, 1, 1), -EINVAL);
	subs[0].weight = WIRE_WEIGHT_MAX + 1;
	CHECK_EQ(eng_consumer_add(e, 1, subs, 1, 1), -EINVAL);
	subs[0].weight = WIRE_WEIGHT_MAX;
	CHECK_EQ(eng_consumer_add(e, 0xc00c1e, subs, 1, 1), 1);
	CHECK_EQ(eng_consumer_add(e, 1, subs, 1, 1), -ENOSPC);
	CHECK_EQ(eng_consumer_cookie(e, 1), 0xc00c1e);
	CHECK_EQ(eng_consumer_cookie(e, 5), 0);
	eng_consumer_remove(e, 1, 0);
	CHECK_EQ(eng_consumer_cookie(e, 1), 0);
	CHECK_EQ(eng_consumer_add(e, 2, subs, 1, 1), 1); /* index reused */

	j = mkjob(&(struct jspec){ .tag = 1 });
	CHECK_EQ(eng_enqueue(e, 2, j, 0, &id), WIRE_STATUS_INVALID);
	j->priority = WIRE_PRIORITY_MAX + 1;
	CHECK_EQ(eng_enqueue(e, 0, j, 0, &id), WIRE_STATUS_INVALID);
	tjob_release(j);
	/* Calls on bad indices are refused or ignored, never crash. */
	eng_queue_pause(e, 9, true);
	CHECK_EQ(eng_queue_purge(e, 9), 0);
	CHECK_EQ(eng_redrive(e, 9, 10, 0), 0);
	CHECK_EQ(qs(e, 9).enqueued, 0);
	eng_consumer_credit(e, 99, 5);
	eng_consumer_remove(e, 99, 0);
	CHECK_EQ(eng_complete(e, 99, 1, 0), WIRE_STATUS_LEASE_NOT_FOUND);
	eng_free(e);
	eng_free(NULL);
	accounting_check();
}

/* ---- the state machine, one transition at a time ---- */

static void
test_state_machine(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("jobs");
	struct eng_delivery d[4];
	struct eng_queue_stats st;
	const struct eng_job *b;
	uint64_t t, rt;
	uint16_t q;
	uint32_t c;

	qc.backoff_base_ms = 100;
	qc.backoff_max_ms = 1000;
	qc.max_attempts = 2;
	q = addq(e, &qc);

	/* enqueue -> READY, enqueue with not_before -> SCHEDULED -> READY */
	CHECK_EQ(put_tag(e, q, 1, 1000), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2, .not_before = 1100 }, 1000, NULL),
		 WIRE_STATUS_OK);
	st = qs(e, q);
	CHECK(st.ready == 1 && st.scheduled == 1 && st.enqueued == 2);
	eng_advance(e, 1099);
	CHECK(qs(e, q).scheduled == 1);
	eng_advance(e, 1100);
	st = qs(e, q);
	CHECK(st.ready == 2 && st.scheduled == 0);

	/* READY -> LEASED -> completed (freed) */
	c = addc(e, q, 1);
	CHECK_EQ(eng_dispatch(e, 1100, d, 4), 1);
	CHECK_EQ(job_tag(d[0].job), 1); /* same priority: the older first */
	CHECK(d[0].consumer == c && d[0].attempt == 1 && d[0].lease_timeout_ms == 1000);
	CHECK_EQ(d[0].job->state, ENG_JOB_LEASED);
	st = qs(e, q);
	CHECK(st.leased == 1 && st.ready == 1 && st.delivered == 1);
	CHECK_EQ(eng_dispatch(e, 1100, d, 4), 0); /* no credit left */
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 1110), WIRE_STATUS_OK);
	st = qs(e, q);
	CHECK(st.leased == 0 && st.completed == 1);
	CHECK_EQ(n_freed_engine, 1);

	/* LEASED -> fail -> RETRY_WAIT (backoff 100 +-25%) -> READY */
	CHECK(lease1(e, c, 1110, d));
	b = d[0].job;
	CHECK_EQ(job_tag(b), 2);
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 1120), WIRE_STATUS_OK);
	st = qs(e, q);
	CHECK(st.retry_wait == 1 && st.failed == 1 && st.retried == 1 && st.leased == 0);
	CHECK_EQ(b->state, ENG_JOB_RETRY_WAIT);
	for (rt = 1120 + 75; rt <= 1120 + 125 && qs(e, q).ready == 0; rt++)
		eng_advance(e, rt);
	rt--;
	CHECK(rt >= 1120 + 75 && rt <= 1120 + 125 && qs(e, q).ready == 1);

	/* attempts used up -> DEAD (reason: consumer failure) */
	CHECK(lease1(e, c, rt, d));
	CHECK(d[0].job == b && d[0].attempt == 2);
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, rt), WIRE_STATUS_OK);
	st = qs(e, q);
	CHECK(st.dead == 1 && st.dead_lettered == 1 && st.retried == 1 && st.failed == 2);
	CHECK(b->state == ENG_JOB_DEAD && b->dead_reason == WIRE_STATUS_INVALID);

	/* DEAD -> redrive -> READY with attempts reset */
	CHECK_EQ(eng_redrive(e, q, 10, rt), 1);
	st = qs(e, q);
	CHECK(st.dead == 0 && st.ready == 1 && st.redriven == 1);
	CHECK(lease1(e, c, rt, d));
	CHECK(d[0].job == b && d[0].attempt == 1);

	/* fail(dead=true) -> DEAD at once, whatever attempts are left */
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, true, rt), WIRE_STATUS_OK);
	CHECK(b->state == ENG_JOB_DEAD && qs(e, q).dead == 1 && qs(e, q).retried == 1);

	/* lease timeout -> RETRY_WAIT; second timeout -> DEAD LEASE_EXPIRED */
	CHECK_EQ(eng_redrive(e, q, 1, rt), 1);
	t = rt;
	CHECK(lease1(e, c, t, d));
	eng_advance(e, t + 999);
	CHECK_EQ(qs(e, q).leased, 1);
	eng_advance(e, t + 1000);
	st = qs(e, q);
	CHECK(st.leased == 0 && st.retry_wait == 1 && st.lease_timeouts == 1);
	eng_advance(e, t + 1000 + 125);
	CHECK(lease1(e, c, t + 1125, d));
	CHECK_EQ(d[0].attempt, 2);
	eng_advance(e, t + 1125 + 1000);
	CHECK(b->state == ENG_JOB_DEAD && b->dead_reason == WIRE_STATUS_LEASE_EXPIRED);
	st = qs(e, q);
	CHECK(st.dead == 1 && st.lease_timeouts == 2);
	/* delivered = completed + failed + lease_timeouts + leased */
	CHECK_EQ(st.delivered, st.completed + st.failed + st.lease_timeouts + st.leased);

	eng_free(e);
	CHECK_EQ(n_freed_engine, 2);
	accounting_check();
}

static void
test_priority(void)
{
	static const uint8_t prio[] = { 3, 15, 0, 15, 7, 3, 0, 15 };
	/* tags in expected lease order: priority down, FIFO within a priority */
	static const uint32_t want[] = { 1, 3, 7, 4, 0, 5, 2, 6 };
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("prio");
	struct eng_delivery d[16];
	uint16_t q = addq(e, &qc);
	uint32_t i, n;

	for (i = 0; i < 8; i++)
		CHECK_EQ(put(e, q, &(struct jspec){ .tag = i, .priority = prio[i] }, 10 + i, NULL),
			 WIRE_STATUS_OK);
	addc(e, q, 16);
	n = eng_dispatch(e, 100, d, 16);
	CHECK_EQ(n, 8);
	for (i = 0; i < n && i < 8; i++)
		CHECK_EQ(job_tag(d[i].job), want[i]);
	/* A higher priority arriving later still goes first. */
	for (i = 0; i < n; i++)
		CHECK_EQ(eng_fail(e, d[i].consumer, d[i].lease_id, 1, false, 100), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 99, .priority = 14 }, 100, NULL),
		 WIRE_STATUS_OK);
	n = eng_dispatch(e, 101, d, 16);
	CHECK_EQ(n, 8);
	CHECK(n >= 4 && job_tag(d[0].job) == 1 && job_tag(d[1].job) == 3 &&
	      job_tag(d[2].job) == 7 && job_tag(d[3].job) == 99);
	eng_free(e);
	accounting_check();
}

/* Weights 3:1 give 3:1, spread out (smooth WRR), over 400 deliveries. */
static void
test_weighted(void)
{
	struct eng *e = mkeng(1000, 0);
	struct eng_queue_cfg qa = qcfg("heavy"), qb = qcfg("light");
	struct eng_delivery d[400];
	struct eng_sub subs[2];
	uint16_t a = addq(e, &qa), b = addq(e, &qb);
	uint32_t i, n, na = 0, run = 0, max_run = 0;
	int c;

	for (i = 0; i < 400; i++) {
		CHECK_EQ(put_tag(e, a, i, 0), WIRE_STATUS_OK);
		CHECK_EQ(put_tag(e, b, 1000 + i, 0), WIRE_STATUS_OK);
	}
	subs[0] = (struct eng_sub){ a, 3 };
	subs[1] = (struct eng_sub){ b, 1 };
	c = eng_consumer_add(e, 1, subs, 2, 400);
	CHECK(c >= 0);
	n = eng_dispatch(e, 1, d, 400);
	CHECK_EQ(n, 400);
	for (i = 0; i < n; i++) {
		bool from_a = job_tag(d[i].job) < 1000;

		na += from_a;
		run = from_a ? run + 1 : 0;
		if (run > max_run)
			max_run = run;
	}
	CHECK(na >= 299 && na <= 301);
	CHECK(max_run <= 3);
	CHECK_EQ(qs(e, a).delivered + qs(e, b).delivered, 400);

	/* A queue with nothing ready does not hold the other back. */
	eng_queue_purge(e, b);
	eng_consumer_credit(e, (uint32_t)c, 10);
	CHECK_EQ(eng_dispatch(e, 2, d, 400), 10);
	for (i = 0; i < 10; i++)
		CHECK(job_tag(d[i].job) < 1000);
	eng_free(e);
	accounting_check();
}

/*
 * What a worker needs to hand credit back and forth: the credit held, taking
 * it all back, and whether the consumer could be leased anything (and with
 * which weight) if it had credit.
 */
static void
test_credit_handback(void)
{
	struct eng *e = mkeng(1000, 0);
	struct eng_queue_cfg qa = qcfg("hb.a"), qb = qcfg("hb.b"), qr = qcfg("hb.rate");
	struct eng_delivery d[16];
	struct eng_sub subs[3];
	uint16_t a, b, r;
	uint32_t c;
	int rc;

	qb.max_in_flight = 1;
	qr.dispatch_rate = 10; /* one token per 100 ms */
	qr.dispatch_burst = 1;
	a = addq(e, &qa);
	b = addq(e, &qb);
	r = addq(e, &qr);
	subs[0] = (struct eng_sub){ a, 5 };
	subs[1] = (struct eng_sub){ b, 2 };
	subs[2] = (struct eng_sub){ r, 7 };
	rc = eng_consumer_add(e, 9, subs, 3, 0);
	CHECK(rc >= 0);
	c = (uint32_t)rc;
	CHECK_EQ(eng_consumer_credit_held(e, c), 0);
	CHECK_EQ(eng_consumer_ready_weight(e, c, 0), 0); /* nothing ready */
	CHECK_EQ(put_tag(e, a, 1, 0), WIRE_STATUS_OK);
	CHECK_EQ(eng_consumer_ready_weight(e, c, 0), 5);
	CHECK_EQ(put_tag(e, b, 2, 0), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, b, 3, 0), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, r, 4, 0), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, r, 5, 0), WIRE_STATUS_OK);
	CHECK_EQ(eng_consumer_ready_weight(e, c, 0), 14);
	/* no credit: nothing leased, and asking changed nothing */
	CHECK_EQ(eng_dispatch(e, 0, d, 16), 0);
	eng_consumer_credit(e, c, 3);
	CHECK_EQ(eng_consumer_credit_held(e, c), 3);
	CHECK_EQ(eng_dispatch(e, 0, d, 16), 3); /* one of each queue by weight */
	CHECK_EQ(eng_consumer_credit_held(e, c), 0);
	/* hb.a is empty, hb.b at max_in_flight, hb.rate out of tokens */
	CHECK_EQ(eng_consumer_ready_weight(e, c, 0), 0);
	CHECK_EQ(eng_consumer_ready_weight(e, c, 99), 0);
	CHECK_EQ(eng_consumer_ready_weight(e, c, 100), 7); /* a token again */
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 100), WIRE_STATUS_OK);
	CHECK_EQ(eng_complete(e, c, d[1].lease_id, 100), WIRE_STATUS_OK);
	CHECK_EQ(eng_complete(e, c, d[2].lease_id, 100), WIRE_STATUS_OK);
	CHECK_EQ(eng_consumer_ready_weight(e, c, 100), 9); /* hb.b has room again */
	/* credit taken back is not spent, and is gone */
	eng_consumer_credit(e, c, 4);
	CHECK_EQ(eng_consumer_credit_take(e, c), 4);
	CHECK_EQ(eng_consumer_credit_held(e, c), 0);
	CHECK_EQ(eng_dispatch(e, 100, d, 16), 0);
	CHECK_EQ(eng_consumer_credit_take(e, c), 0);
	/* and given again, it is */
	eng_consumer_credit(e, c, 1);
	CHECK_EQ(eng_dispatch(e, 100, d, 16), 1);
	/* an unknown consumer holds nothing and wants nothing */
	CHECK_EQ(eng_consumer_credit_held(e, 15), 0);
	CHECK_EQ(eng_consumer_credit_take(e, 15), 0);
	CHECK_EQ(eng_consumer_ready_weight(e, 15, 100), 0);
	eng_free(e);
	accounting_check();
}

/* Consumers of one queue are served in turn, one delivery each. */
static void
test_consumer_round_robin(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("rr");
	struct eng_delivery d[64];
	uint16_t q = addq(e, &qc);
	uint32_t c[3], got[3] = { 0, 0, 0 }, i, n;

	for (i = 0; i < 40; i++)
		CHECK_EQ(put_tag(e, q, i, 0), WIRE_STATUS_OK);
	for (i = 0; i < 3; i++)
		c[i] = addc(e, q, 10);
	n = eng_dispatch(e, 1, d, 64);
	CHECK_EQ(n, 30);
	for (i = 0; i < n; i++) {
		CHECK_EQ(d[i].consumer, c[i % 3]);
		CHECK_EQ(job_tag(d[i].job), i); /* FIFO */
		got[d[i].consumer]++;
	}
	CHECK(got[0] == 10 && got[1] == 10 && got[2] == 10);
	/* Credit is what a consumer may hold: none left, nothing more. */
	CHECK_EQ(eng_dispatch(e, 2, d, 64), 0);
	/* One at a time, the turn carries over between calls. */
	for (i = 0; i < 3; i++)
		eng_consumer_credit(e, c[i], 1);
	CHECK(eng_dispatch(e, 3, d, 1) == 1 && d[0].consumer == c[0]);
	CHECK(eng_dispatch(e, 3, d, 1) == 1 && d[0].consumer == c[1]);
	CHECK(eng_dispatch(e, 3, d, 1) == 1 && d[0].consumer == c[2]);
	CHECK_EQ(eng_dispatch(e, 3, d, 1), 0);
	/* Credit arriving pushes at once (the next dispatch), to that consumer. */
	eng_consumer_credit(e, c[1], 2);
	n = eng_dispatch(e, 4, d, 64);
	CHECK(n == 2 && d[0].consumer == c[1] && d[1].consumer == c[1]);
	CHECK_EQ(eng_dispatch(e, 4, d, 0), 0);
	eng_free(e);
	accounting_check();
}

/* ---- delayed jobs ---- */

/* Never leased before not_before; leased at not_before, across wheel levels. */
static void
test_delayed(void)
{
	static const uint64_t delays[] = {
		1,        2,
		63,       64,
		65,       4095,
		4096,     4097,
		262143,   262144,
		3600000,  WIRE_DURATION_MS_MAX,
		1u << 31, UINT64_C(1) << 40,
	};
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("later");
	struct eng_delivery d[4];
	uint16_t q = addq(e, &qc);
	uint64_t base = 12345, now = base;
	uint32_t c = addc(e, q, 0);
	unsigned i, steps;

	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		uint64_t nb = now + delays[i], t;

		CHECK_EQ(put(e, q, &(struct jspec){ .tag = i, .not_before = nb }, now, NULL),
			 WIRE_STATUS_OK);
		eng_consumer_credit(e, c, 1);
		CHECK_EQ(eng_dispatch(e, now, d, 4), 0);
		/* next_deadline may stop short (re-filing), never past; following it gets there. */
		for (steps = 0, t = eng_next_deadline(e); t < nb && steps < 20; steps++) {
			CHECK_EQ(eng_dispatch(e, t, d, 4), 0);
			t = eng_next_deadline(e);
		}
		CHECK_EQ(t, nb);
		CHECK(steps <= ENG_WHEEL_LEVELS);
		CHECK_EQ(eng_dispatch(e, nb - 1, d, 4), 0);
		CHECK_EQ(qs(e, q).scheduled, 1);
		CHECK_EQ(eng_dispatch(e, nb, d, 4), 1);
		CHECK_EQ(job_tag(d[0].job), i);
		CHECK_EQ(eng_complete(e, c, d[0].lease_id, nb), WIRE_STATUS_OK);
		CHECK_EQ(eng_next_deadline(e), ENG_NEVER);
		now = nb;
	}
	/* A past not_before is ready now; the far future waits (purge frees it). */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 50, .not_before = now - 10 }, now, NULL),
		 WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 51, .not_before = UINT64_MAX }, now, NULL),
		 WIRE_STATUS_OK);
	CHECK(qs(e, q).ready == 1 && qs(e, q).scheduled == 1);
	eng_advance(e, UINT64_MAX);
	CHECK_EQ(qs(e, q).scheduled, 1);
	CHECK_EQ(eng_queue_purge(e, q), 2);
	eng_free(e);

	/*
	 * Many jobs, random delays, random clock steps (small and large): each is
	 * leased at the first dispatch at or after its not_before, never before.
	 */
	{
		enum { N = 3000 };
		struct eng_delivery dd[256];
		static uint64_t nbs[N];
		uint64_t rng = 7, prev = 0;
		uint32_t n, k, total = 0;
		bool early = false, late = false;

		e = mkeng(N, 0);
		q = addq(e, &qc);
		c = addc(e, q, WIRE_CREDIT_MAX);
		now = 1000;
		for (i = 0; i < N; i++) {
			uint64_t r = trand(&rng);

			nbs[i] = now + 1 +
				 (r % 3 == 0   ? r % 100
				  : r % 3 == 1 ? r % 20000
					       : r % 5000000);
			CHECK_EQ(put(e, q, &(struct jspec){ .tag = i, .not_before = nbs[i] }, now,
				     NULL),
				 WIRE_STATUS_OK);
		}
		for (steps = 0; total < N && steps < 100000; steps++) {
			uint64_t r = trand(&rng);

			prev = now;
			now += r % 10 == 0 ? r % 100000 : r % 50;
			do {
				n = eng_dispatch(e, now, dd, 256);
				for (k = 0; k < n; k++) {
					uint32_t tag = job_tag(dd[k].job);

					if (nbs[tag] > now)
						early = true;
					if (nbs[tag] <= prev)
						late = true;
					eng_complete(e, c, dd[k].lease_id, now);
					total++;
				}
				eng_consumer_credit(e, c, n);
			} while (n == 256);
		}
		CHECK_EQ(total, N);
		CHECK(!early);
		CHECK(!late);
		CHECK_EQ(qs(e, q).completed, N);
		eng_free(e);
	}
	accounting_check();
}

/* ---- leases ---- */

static void
test_lease_expiry(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("lease");
	struct eng_delivery d[4];
	uint16_t q = addq(e, &qc);
	uint32_t c = addc(e, q, 0), other = addc(e, q, 0);
	uint64_t first;

	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 1 }, 0, NULL), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 100, d));
	first = d[0].lease_id;
	CHECK(d[0].attempt == 1 && d[0].lease_timeout_ms == 1000);
	eng_advance(e, 1099);
	CHECK_EQ(qs(e, q).leased, 1);
	eng_advance(e, 1100);
	/* backoff 0: straight back to READY, attempt counted */
	CHECK(qs(e, q).leased == 0 && qs(e, q).ready == 1 && qs(e, q).lease_timeouts == 1);
	CHECK(lease1(e, other, 1100, d));
	CHECK(d[0].attempt == 2 && d[0].lease_id != first && job_tag(d[0].job) == 1);
	/* The old holder learns its lease ran out; anyone else hears "no such lease". */
	CHECK_EQ(eng_complete(e, c, first, 1101), WIRE_STATUS_LEASE_EXPIRED);
	CHECK_EQ(eng_fail(e, c, first, 0, false, 1101), WIRE_STATUS_LEASE_EXPIRED);
	CHECK_EQ(eng_extend(e, c, first, 0, 1101), WIRE_STATUS_LEASE_EXPIRED);
	CHECK_EQ(eng_complete(e, other, first, 1101), WIRE_STATUS_LEASE_NOT_FOUND);
	CHECK_EQ(qs(e, q).leased, 1);
	CHECK_EQ(eng_complete(e, other, d[0].lease_id, 1102), WIRE_STATUS_OK);
	CHECK_EQ(eng_complete(e, other, d[0].lease_id, 1102), WIRE_STATUS_LEASE_NOT_FOUND);

	/* Job's own lease timeout wins over the queue's. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2, .lease_timeout = 50 }, 2000, NULL),
		 WIRE_STATUS_OK);
	CHECK(lease1(e, c, 2000, d));
	CHECK_EQ(d[0].lease_timeout_ms, 50);
	/* No eng_advance: the settle itself sees that the deadline passed. */
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 2050), WIRE_STATUS_LEASE_EXPIRED);
	CHECK(qs(e, q).ready == 1 && qs(e, q).lease_timeouts == 2);
	eng_free(e);
	accounting_check();
}

static void
test_extend(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("extend");
	struct eng_delivery d[4];
	uint16_t q = addq(e, &qc);
	uint32_t c = addc(e, q, 0), other = addc(e, q, 0);

	CHECK_EQ(put_tag(e, q, 1, 0), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d));
	/* extend_ms 0: the lease's own timeout from now */
	CHECK_EQ(eng_extend(e, c, d[0].lease_id, 0, 900), WIRE_STATUS_OK);
	eng_advance(e, 1899);
	CHECK_EQ(qs(e, q).leased, 1);
	CHECK_EQ(eng_extend(e, c, d[0].lease_id, 5000, 1800), WIRE_STATUS_OK);
	CHECK_EQ(eng_extend(e, other, d[0].lease_id, 100000, 1800), WIRE_STATUS_LEASE_NOT_FOUND);
	eng_advance(e, 6799);
	CHECK(qs(e, q).leased == 1 && qs(e, q).lease_timeouts == 0);
	/* heartbeats keep a long job leased indefinitely */
	for (uint64_t t = 6799; t < 60000; t += 500)
		CHECK_EQ(eng_extend(e, c, d[0].lease_id, 1000, t), WIRE_STATUS_OK);
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 60400), WIRE_STATUS_OK);
	CHECK(qs(e, q).completed == 1 && qs(e, q).lease_timeouts == 0);

	/* Extending may also shorten; a lapsed lease cannot be extended. */
	CHECK_EQ(put_tag(e, q, 2, 70000), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 70000, d));
	CHECK_EQ(eng_extend(e, c, d[0].lease_id, 10, 70000), WIRE_STATUS_OK);
	CHECK_EQ(eng_extend(e, c, d[0].lease_id, 1000, 70010), WIRE_STATUS_LEASE_EXPIRED);
	CHECK_EQ(qs(e, q).lease_timeouts, 1);
	eng_free(e);
	accounting_check();
}

/* Lease ids carry the worker; forged, stale and foreign ids find nothing. */
static void
test_lease_ids(void)
{
	/* max_jobs 64: the second round of leases reuses exactly the same slots */
	struct eng_cfg cfg = { .worker_id = 0xbeef,
			       .max_queues = 1,
			       .max_jobs = 64,
			       .max_consumers = 4,
			       .free_job = tjob_free_engine,
			       .seed = 1 };
	struct eng *e = eng_create(&cfg);
	struct eng_queue_cfg qc = qcfg("ids");
	struct eng_delivery d[64];
	uint64_t ids[64], rng = 99;
	uint16_t q;
	uint32_t c, other, n, i, k;

	if (!e)
		exit(2);
	q = addq(e, &qc);
	c = addc(e, q, 64);
	other = addc(e, q, 0);
	for (i = 0; i < 64; i++)
		CHECK_EQ(put_tag(e, q, i, 0), WIRE_STATUS_OK);
	n = eng_dispatch(e, 0, d, 64);
	CHECK_EQ(n, 64);
	for (i = 0; i < n; i++) {
		ids[i] = d[i].lease_id;
		CHECK_EQ(eng_lease_worker(ids[i]), 0xbeef);
		CHECK(ids[i] != 0);
		for (k = 0; k < i; k++)
			CHECK(ids[k] != ids[i]);
	}
	CHECK_EQ(eng_complete(e, c, 0, 1), WIRE_STATUS_LEASE_NOT_FOUND);
	CHECK_EQ(eng_complete(e, c, ids[0] ^ (UINT64_C(1) << 48), 1), WIRE_STATUS_LEASE_NOT_FOUND);
	CHECK_EQ(eng_complete(e, c, ids[0] & ((UINT64_C(1) << 48) - 1), 1),
		 WIRE_STATUS_LEASE_NOT_FOUND);
	CHECK_EQ(eng_complete(e, other, ids[0], 1), WIRE_STATUS_LEASE_NOT_FOUND);
	CHECK_EQ(eng_fail(e, other, ids[0], 0, true, 1), WIRE_STATUS_LEASE_NOT_FOUND);
	CHECK_EQ(eng_complete(e, 12345, ids[0], 1), WIRE_STATUS_LEASE_NOT_FOUND);
	for (i = 0; i < 2000; i++) {
		uint64_t forged = (UINT64_C(0xbeef) << 48) | (trand(&rng) >> 16);
		bool real = false;

		for (k = 0; k < n; k++)
			real |= forged == ids[k];
		if (!real)
			CHECK_EQ(eng_complete(e, c, forged, 1), WIRE_STATUS_LEASE_NOT_FOUND);
	}
	CHECK_EQ(qs(e, q).leased, 64);
	for (i = 0; i < n; i++)
		CHECK_EQ(eng_complete(e, c, ids[i], 2), WIRE_STATUS_OK);
	/* Settled ids stay dead, even when their slots are reused. */
	for (i = 0; i < 64; i++)
		CHECK_EQ(put_tag(e, q, 100 + i, 3), WIRE_STATUS_OK);
	eng_consumer_credit(e, c, 64);
	CHECK_EQ(eng_dispatch(e, 3, d, 64), 64);
	for (i = 0; i < n; i++) {
		CHECK_EQ(eng_complete(e, c, ids[i], 4), WIRE_STATUS_LEASE_NOT_FOUND);
		CHECK(d[i].lease_id != ids[i]);
	}
	CHECK_EQ(qs(e, q).leased, 64);
	eng_free(e);
	accounting_check();
}

/* ---- retries, dead letters, redrive ---- */

/* Ready time of the one RETRY_WAIT job of q, found by stepping the clock. */
static uint64_t
retry_ready_at(struct eng *e, uint16_t q, uint64_t from, uint64_t to)
{
	uint64_t t;

	for (t = from; t <= to; t++) {
		eng_advance(e, t);
		if (qs(e, q).ready)
			return t;
	}
	return UINT64_MAX;
}

static void
test_retry_backoff(void)
{
	struct eng *e = mkeng(1000, 0);
	struct eng_queue_cfg qc = qcfg("retry");
	struct eng_delivery d[4];
	struct eng_queue_stats st;
	const struct eng_job *job;
	uint16_t q;
	uint32_t c, n;
	uint64_t now = 1000, at, dmin = UINT64_MAX, dmax = 0;
	unsigned i;

	qc.backoff_base_ms = 100;
	qc.backoff_max_ms = 1000;
	qc.max_attempts = 6;
	q = addq(e, &qc);
	c = addc(e, q, 0);
	CHECK_EQ(put_tag(e, q, 1, now), WIRE_STATUS_OK);
	for (n = 1; n <= 6; n++) {
		uint64_t base = 100u << (n - 1) < 1000 ? 100u << (n - 1) : 1000;

		CHECK(lease1(e, c, now, d));
		CHECK_EQ(d[0].attempt, n);
		job = d[0].job;
		CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, now), WIRE_STATUS_OK);
		if (n == 6)
			break;
		/* never before base - 25%, never after base + 25% */
		at = retry_ready_at(e, q, now, now + base + base / 4);
		CHECK(at >= now + base - base / 4 && at <= now + base + base / 4);
		now = at;
	}
	st = qs(e, q);
	CHECK(st.dead == 1 && st.failed == 6 && st.retried == 5 && st.dead_lettered == 1);
	CHECK(job->state == ENG_JOB_DEAD && job->dead_reason == WIRE_STATUS_INVALID);
	CHECK_EQ(job->attempts, 6);

	/* The consumer's delay replaces the backoff, exactly (no jitter). */
	CHECK_EQ(eng_redrive(e, q, 1, now), 1);
	CHECK(lease1(e, c, now, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 777, false, now), WIRE_STATUS_OK);
	eng_advance(e, now + 776);
	CHECK_EQ(qs(e, q).retry_wait, 1);
	eng_advance(e, now + 777);
	CHECK_EQ(qs(e, q).ready, 1);
	now += 777;

	/* The jitter is real: 200 first retries of base 1000 spread over [750, 1250]. */
	qc.backoff_base_ms = 1000;
	qc.backoff_max_ms = 60000;
	qc.name = NULL;
	CHECK_EQ(eng_queue_update(e, q, &qc), 0);
	CHECK_EQ(eng_queue_purge(e, q), 1);
	for (i = 0; i < 200; i++)
		CHECK_EQ(put_tag(e, q, i, now), WIRE_STATUS_OK);
	eng_consumer_credit(e, c, 200);
	n = eng_dispatch(e, now, d, 1);
	for (i = 0; n == 1; i++) {
		CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, now), WIRE_STATUS_OK);
		n = eng_dispatch(e, now, d, 1);
	}
	CHECK_EQ(i, 200);
	CHECK_EQ(qs(e, q).retry_wait, 200);
	for (at = now; qs(e, q).retry_wait; at++) {
		uint32_t before = qs(e, q).retry_wait;

		eng_advance(e, at);
		if (qs(e, q).retry_wait != before) {
			if (at - now < dmin)
				dmin = at - now;
			if (at - now > dmax)
				dmax = at - now;
		}
		if (at > now + 2000)
			break;
	}
	CHECK(dmin >= 750 && dmax <= 1250);
	CHECK(dmin < 850 && dmax > 1150); /* spread, not a constant */
	CHECK_EQ(qs(e, q).ready, 200);

	/* Cap: the 20th retry of base 1000, cap 60000, waits 60000 +- 25%. */
	CHECK_EQ(eng_queue_purge(e, q), 200);
	qc.max_attempts = 30;
	CHECK_EQ(eng_queue_update(e, q, &qc), 0);
	now = at + 1;
	CHECK_EQ(put_tag(e, q, 1, now), WIRE_STATUS_OK);
	for (n = 1; n < 20; n++) {
		eng_consumer_credit(e, c, 1);
		CHECK_EQ(eng_dispatch(e, now, d, 1), 1);
		CHECK_EQ(eng_fail(e, c, d[0].lease_id, 1, false, now), WIRE_STATUS_OK);
		now += 1;
	}
	CHECK(lease1(e, c, now, d));
	CHECK_EQ(d[0].attempt, 20);
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, now), WIRE_STATUS_OK);
	eng_advance(e, now + 45000 - 1);
	CHECK_EQ(qs(e, q).retry_wait, 1);
	eng_advance(e, now + 75000);
	CHECK_EQ(qs(e, q).ready, 1);
	eng_free(e);
	accounting_check();
}

static void
test_redrive(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("dlq");
	struct eng_delivery d[8];
	uint16_t q, other;
	uint32_t c, i;

	qc.max_attempts = 1;
	q = addq(e, &qc);
	qc.name = "other";
	other = addq(e, &qc);
	c = addc(e, q, 0);
	for (i = 0; i < 3; i++)
		CHECK_EQ(put_tag(e, q, i, 0), WIRE_STATUS_OK);
	for (i = 0; i < 3; i++) {
		CHECK(lease1(e, c, 10 + i, d));
		CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 10 + i), WIRE_STATUS_OK);
	}
	CHECK(qs(e, q).dead == 3 && qs(e, q).dead_lettered == 3);
	CHECK_EQ(eng_redrive(e, other, 10, 20), 0);
	CHECK_EQ(eng_redrive(e, q, 0, 20), 0);
	/* oldest first, at most max */
	CHECK_EQ(eng_redrive(e, q, 2, 20), 2);
	CHECK(qs(e, q).dead == 1 && qs(e, q).ready == 2 && qs(e, q).redriven == 2);
	eng_consumer_credit(e, c, 8);
	CHECK_EQ(eng_dispatch(e, 21, d, 8), 2);
	CHECK(job_tag(d[0].job) == 0 && job_tag(d[1].job) == 1);
	CHECK(d[0].attempt == 1 && d[1].attempt == 1); /* attempts reset */
	CHECK_EQ(eng_redrive(e, q, 10, 22), 1);
	CHECK_EQ(eng_dispatch(e, 22, d + 2, 6), 1);
	CHECK_EQ(job_tag(d[2].job), 2);
	for (i = 0; i < 3; i++)
		CHECK_EQ(eng_complete(e, c, d[i].lease_id, 23), WIRE_STATUS_OK);
	CHECK(qs(e, q).completed == 3 && qs(e, q).dead == 0 && qs(e, q).redriven == 3);
	eng_free(e);
	accounting_check();
}

/* ---- dedup and ids ---- */

static void
test_dedup(void)
{
	struct eng *e = mkeng(100, 4);
	struct eng_queue_cfg qc = qcfg("dedup");
	struct wire_jobid x = { 0x1111, 0x2222 }, got;
	struct eng_delivery d[4];
	struct eng_stats es;
	uint16_t q, plain;
	uint32_t c, i;

	qc.dedup_window_ms = 1000;
	q = addq(e, &qc);
	qc.name = "plain";
	qc.dedup_window_ms = 0;
	plain = addq(e, &qc);
	c = addc(e, q, 0);

	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 1, .id = x }, 0, &got), WIRE_STATUS_OK);
	CHECK(got.hi == x.hi && got.lo == x.lo);
	got = (struct wire_jobid){ 0, 0 };
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2, .id = x }, 500, &got), WIRE_STATUS_DUPLICATE);
	CHECK(got.hi == x.hi && got.lo == x.lo);
	/* Completing the original does not end the window. */
	CHECK(lease1(e, c, 600, d));
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 600), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 3, .id = x }, 999, NULL), WIRE_STATUS_DUPLICATE);
	CHECK_EQ(qs(e, q).duplicates, 2);
	/* The window is per queue; a queue without one never refuses. */
	CHECK_EQ(put(e, plain, &(struct jspec){ .tag = 4, .id = x }, 999, NULL), WIRE_STATUS_OK);
	CHECK_EQ(put(e, plain, &(struct jspec){ .tag = 5, .id = x }, 999, NULL), WIRE_STATUS_OK);
	/* After the window: accepted, and remembered anew. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 6, .id = x }, 1000, NULL), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 7, .id = x }, 1499, NULL),
		 WIRE_STATUS_DUPLICATE);
	eng_stats(e, &es);
	CHECK_EQ(es.dedup_evictions, 0);

	/* Table of 4 (x inside): a fifth id evicts the oldest (counted), x. */
	for (i = 0; i < 4; i++) {
		struct wire_jobid id = { 0xa, i + 1 };

		CHECK_EQ(put(e, q, &(struct jspec){ .tag = 10 + i, .id = id }, 1500, NULL),
			 WIRE_STATUS_OK);
	}
	eng_stats(e, &es);
	CHECK(es.dedup_evictions == 1 && es.dedup_records == 4); /* x went */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 20, .id = x }, 1501, NULL), WIRE_STATUS_OK);
	eng_stats(e, &es);
	CHECK_EQ(es.dedup_evictions, 2); /* {0xa, 1} went */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 21, .id = { 0xa, 1 } }, 1501, NULL),
		 WIRE_STATUS_OK); /* and {0xa, 2} went */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 22, .id = { 0xa, 3 } }, 1501, NULL),
		 WIRE_STATUS_DUPLICATE);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 23, .id = { 0xa, 2 } }, 1501, NULL),
		 WIRE_STATUS_OK); /* and {0xa, 3} went */
	eng_stats(e, &es);
	CHECK(es.dedup_evictions == 4 && es.dedup_records == 4);
	/* Expired records make room without counting as evictions. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 24, .id = { 0xb, 1 } }, 5000, NULL),
		 WIRE_STATUS_OK);
	eng_stats(e, &es);
	CHECK(es.dedup_evictions == 4 && es.dedup_records == 1);
	eng_free(e);
	accounting_check();
}

/* Assigned ids: non-zero, all different, reported to the producer. */
static void
test_assigned_ids(void)
{
	enum { N = 5000 };
	struct eng *e = mkeng(N, 0), *e2;
	struct eng_queue_cfg qc = qcfg("ids");
	static struct wire_jobid ids[N];
	struct eng_stats es;
	struct eng_cfg cfg2 = { .worker_id = 8,
				.max_queues = 1,
				.max_jobs = 10,
				.max_consumers = 1,
				.seed = 0x5eed,
				.free_job = tjob_free_engine };
	uint16_t q = addq(e, &qc);
	struct wire_jobid other;
	bool zero = false, dup = false;
	uint32_t i, k;

	for (i = 0; i < N; i++) {
		struct eng_job *j = mkjob(&(struct jspec){ .tag = i });

		CHECK_EQ(eng_enqueue(e, q, j, i, &ids[i]), WIRE_STATUS_OK);
		CHECK(j->id.hi == ids[i].hi && j->id.lo == ids[i].lo);
		zero |= !ids[i].hi && !ids[i].lo;
	}
	/* sort-free duplicate check: hash into a table */
	{
		enum { B = 16384 };
		static int32_t slot[B];

		for (k = 0; k < B; k++)
			slot[k] = -1;
		for (i = 0; i < N; i++) {
			uint32_t h = (uint32_t)((ids[i].lo ^ ids[i].hi * 31) % B);

			while (slot[h] >= 0) {
				struct wire_jobid *o = &ids[slot[h]];

				dup |= o->hi == ids[i].hi && o->lo == ids[i].lo;
				h = (h + 1) % B;
			}
			slot[h] = (int32_t)i;
		}
	}
	CHECK(!zero);
	CHECK(!dup);
	eng_stats(e, &es);
	CHECK_EQ(es.ids_assigned, N);
	/* Another worker with the same seed never makes the same id. */
	e2 = eng_create(&cfg2);
	if (!e2)
		exit(2);
	q = addq(e2, &qc);
	{
		struct eng_job *j = mkjob(&(struct jspec){ .tag = 1 });

		CHECK_EQ(eng_enqueue(e2, q, j, 0, &other), WIRE_STATUS_OK);
	}
	CHECK(other.hi != ids[0].hi);
	eng_free(e2);
	eng_free(e);
	accounting_check();
}

/* ---- unique keys ---- */

static void
test_unique(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("uniq");
	struct eng_delivery d[4];
	struct eng_stats es;
	uint16_t q, q2;
	uint32_t c;

	q = addq(e, &qc);
	qc.name = "uniq2";
	q2 = addq(e, &qc);
	c = addc(e, q, 0);

	/* Held while the job lives, in any state; per queue; exact key bytes. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 1, .ukey = "k1" }, 0, NULL), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2, .ukey = "k1" }, 1, NULL),
		 WIRE_STATUS_UNIQUE_CONFLICT);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 3, .ukey = "k1 " }, 1, NULL), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q2, &(struct jspec){ .tag = 4, .ukey = "k1" }, 1, NULL), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 2, d));
	CHECK_EQ(job_tag(d[0].job), 1);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 5, .ukey = "k1" }, 3, NULL),
		 WIRE_STATUS_UNIQUE_CONFLICT);
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, true, 4), WIRE_STATUS_OK); /* DEAD holds too */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 6, .ukey = "k1" }, 5, NULL),
		 WIRE_STATUS_UNIQUE_CONFLICT);
	/* Freed: the key is free again (no unique_ttl). */
	CHECK_EQ(eng_redrive(e, q, 1, 6), 1);
	CHECK(lease1(e, c, 6, d));
	CHECK_EQ(job_tag(d[0].job), 3); /* redriven job 1 queued behind 3 */
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 6), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 6, d));
	CHECK_EQ(job_tag(d[0].job), 1);
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 7), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 7, .ukey = "k1" }, 7, NULL), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 8, .ukey = "k1 " }, 7, NULL), WIRE_STATUS_OK);
	CHECK_EQ(eng_queue_purge(e, q), 2); /* purge frees keys as well */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 9, .ukey = "k1" }, 8, NULL), WIRE_STATUS_OK);
	CHECK_EQ(eng_queue_purge(e, q), 1);

	/* unique_ttl longer than the job: the key stays held until enqueue + ttl. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 10, .ukey = "k2", .unique_ttl = 5000 }, 1000,
		     NULL),
		 WIRE_STATUS_OK);
	CHECK(lease1(e, c, 1000, d));
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 1010), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 11, .ukey = "k2" }, 5999, NULL),
		 WIRE_STATUS_UNIQUE_CONFLICT);
	CHECK_EQ(put(e, q2, &(struct jspec){ .tag = 12, .ukey = "k2" }, 5999, NULL),
		 WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 13, .ukey = "k2" }, 6000, NULL), WIRE_STATUS_OK);
	CHECK_EQ(eng_queue_purge(e, q), 1);

	/* Job outlives unique_ttl: held while live, free once freed. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 14, .ukey = "k3", .unique_ttl = 100 }, 10000,
		     NULL),
		 WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 15, .ukey = "k3" }, 10500, NULL),
		 WIRE_STATUS_UNIQUE_CONFLICT);
	CHECK(lease1(e, c, 10500, d));
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 11000), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 16, .ukey = "k3" }, 11000, NULL),
		 WIRE_STATUS_OK);
	CHECK_EQ(eng_queue_purge(e, q), 1);
	eng_free(e);

	/*
	 * Records for held-past-the-job keys are bounded (max_jobs +
	 * dedup_entries): when they run out the oldest goes, and is counted.
	 */
	e = mkeng(2, 1);
	q = addq(e, &qc);
	c = addc(e, q, 0);
	{
		static const char *keys[] = { "a", "b", "c", "d" };
		unsigned i;

		for (i = 0; i < 4; i++) {
			CHECK_EQ(put(e, q,
				     &(struct jspec){
					     .tag = i, .ukey = keys[i], .unique_ttl = 100000 },
				     i, NULL),
				 WIRE_STATUS_OK);
			CHECK(lease1(e, c, i, d));
			CHECK_EQ(eng_complete(e, c, d[0].lease_id, i), WIRE_STATUS_OK);
		}
		eng_stats(e, &es);
		CHECK(es.unique_evictions == 1 && es.unique_records == 3);
		/* "a" was dropped early; "b".."d" still hold. */
		CHECK_EQ(put(e, q, &(struct jspec){ .tag = 10, .ukey = "b" }, 10, NULL),
			 WIRE_STATUS_UNIQUE_CONFLICT);
		CHECK_EQ(put(e, q, &(struct jspec){ .tag = 11, .ukey = "d" }, 10, NULL),
			 WIRE_STATUS_UNIQUE_CONFLICT);
		CHECK_EQ(put(e, q, &(struct jspec){ .tag = 12, .ukey = "a" }, 10, NULL),
			 WIRE_STATUS_OK);
		eng_stats(e, &es);
		CHECK(es.unique_evictions == 2 && es.unique_records == 3);
		/* after their ttl, keys are reclaimed quietly */
		CHECK_EQ(put(e, q, &(struct jspec){ .tag = 13, .ukey = "c" }, 200000, NULL),
			 WIRE_STATUS_OK);
		eng_stats(e, &es);
		CHECK(es.unique_evictions == 2 && es.unique_records == 2);
	}
	eng_free(e);
	accounting_check();
}

/* ---- bounds and limits ---- */

static void
test_bounds(void)
{
	struct eng *e = mkeng(5, 0);
	struct eng_queue_cfg qc = qcfg("small");
	struct eng_delivery d[8];
	struct eng_job *probe;
	uint16_t q, q2;
	uint32_t c, jb;

	qc.max_jobs = 3;
	qc.max_attempts = 1;
	q = addq(e, &qc);
	c = addc(e, q, 0);
	CHECK_EQ(put_tag(e, q, 1, 0), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2, .not_before = 50 }, 0, NULL), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, q, 3, 0), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, q, 4, 0), WIRE_STATUS_QUEUE_FULL);
	CHECK_EQ(qs(e, q).refused_full, 1);
	/* DEAD jobs count: a full dead-letter set is backpressure. */
	CHECK(lease1(e, c, 1, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 1), WIRE_STATUS_OK);
	CHECK_EQ(qs(e, q).dead, 1);
	CHECK_EQ(put_tag(e, q, 5, 2), WIRE_STATUS_QUEUE_FULL);
	/* Recovery when a job leaves. */
	CHECK(lease1(e, c, 3, d));
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 3), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, q, 6, 4), WIRE_STATUS_OK);
	CHECK_EQ(qs(e, q).refused_full, 2);
	/* Raising the bound lets more in; the engine-wide max_jobs (5) still holds. */
	qc.max_jobs = 100;
	qc.name = NULL;
	CHECK_EQ(eng_queue_update(e, q, &qc), 0);
	CHECK_EQ(put_tag(e, q, 7, 5), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, q, 8, 5), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, q, 9, 5), WIRE_STATUS_QUEUE_FULL);
	/* Lowering it keeps what is held and refuses new ones. */
	qc.max_jobs = 2;
	CHECK_EQ(eng_queue_update(e, q, &qc), 0);
	CHECK_EQ(qs(e, q).ready + qs(e, q).scheduled + qs(e, q).dead, 5);
	eng_free(e);

	/* Bytes: data_len counts (payload, names, headers...). */
	e = mkeng(100, 0);
	probe = mkjob(&(struct jspec){ .tag = 0, .extra = 100 });
	jb = probe->data_len;
	tjob_release(probe);
	qc = qcfg("bytes");
	qc.max_bytes = 2 * jb + jb / 2;
	q = addq(e, &qc);
	qc = qcfg("other");
	q2 = addq(e, &qc);
	c = addc(e, q, 0);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 1, .extra = 100 }, 0, NULL), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2, .extra = 100 }, 0, NULL), WIRE_STATUS_OK);
	CHECK_EQ(qs(e, q).bytes, 2 * jb);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 3, .extra = 100 }, 0, NULL),
		 WIRE_STATUS_QUEUE_FULL);
	/* a smaller job still fits in what is left */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 4, .extra = 0 }, 0, NULL), WIRE_STATUS_OK);
	CHECK_EQ(qs(e, q).bytes, 2 * jb + jb - 100);
	CHECK_EQ(put(e, q2, &(struct jspec){ .tag = 5, .extra = 100 }, 0, NULL), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 1, d));
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 1), WIRE_STATUS_OK);
	CHECK_EQ(qs(e, q).bytes, jb + jb - 100);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 6, .extra = 100 }, 2, NULL), WIRE_STATUS_OK);
	CHECK_EQ(qs(e, q).refused_full, 1);
	eng_free(e);
	accounting_check();
}

static void
test_max_in_flight(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("mif");
	struct eng_delivery d[16];
	uint16_t q;
	uint32_t c1, c2, n, i;

	qc.max_in_flight = 2;
	q = addq(e, &qc);
	for (i = 0; i < 6; i++)
		CHECK_EQ(put_tag(e, q, i, 0), WIRE_STATUS_OK);
	c1 = addc(e, q, 10);
	c2 = addc(e, q, 10);
	n = eng_dispatch(e, 1, d, 16);
	CHECK_EQ(n, 2);
	CHECK(d[0].consumer != d[1].consumer); /* the limit is the queue's, shared */
	CHECK_EQ(eng_dispatch(e, 2, d + 2, 14), 0);
	CHECK_EQ(eng_complete(e, d[0].consumer, d[0].lease_id, 3), WIRE_STATUS_OK);
	CHECK_EQ(eng_dispatch(e, 3, d + 2, 14), 1);
	CHECK_EQ(eng_fail(e, d[1].consumer, d[1].lease_id, 0, false, 4), WIRE_STATUS_OK);
	CHECK_EQ(eng_dispatch(e, 4, d + 3, 13), 1);
	CHECK_EQ(qs(e, q).leased, 2);
	/* a timeout frees the room as well */
	eng_advance(e, 2000);
	CHECK_EQ(qs(e, q).leased, 0);
	CHECK_EQ(eng_dispatch(e, 2000, d, 16), 2);
	/* raising the limit takes effect at once */
	qc.max_in_flight = 0;
	qc.name = NULL;
	CHECK_EQ(eng_queue_update(e, q, &qc), 0);
	CHECK_EQ(eng_dispatch(e, 2000, d, 16), 3);
	CHECK_EQ(qs(e, q).leased, 5);
	(void)c1;
	(void)c2;
	eng_free(e);
	accounting_check();
}

/* Token bucket: burst at once, then `rate` per second, over fake time. */
static void
test_dispatch_rate(void)
{
	struct eng *e = mkeng(1000, 0);
	struct eng_queue_cfg qc = qcfg("rate");
	struct eng_delivery d[64];
	uint16_t q;
	uint32_t c, i, total;
	uint64_t t;

	qc.dispatch_rate = 10;
	qc.dispatch_burst = 5;
	q = addq(e, &qc);
	for (i = 0; i < 500; i++)
		CHECK_EQ(put_tag(e, q, i, 0), WIRE_STATUS_OK);
	c = addc(e, q, WIRE_CREDIT_MAX);
	CHECK_EQ(eng_dispatch(e, 0, d, 64), 5);
	CHECK_EQ(eng_dispatch(e, 99, d, 64), 0);
	CHECK_EQ(eng_dispatch(e, 100, d, 64), 1);
	CHECK_EQ(eng_dispatch(e, 150, d, 64), 0);
	CHECK_EQ(eng_dispatch(e, 199, d, 64), 0);
	CHECK_EQ(eng_dispatch(e, 200, d, 64), 1);
	/* idle for a long time: the bucket holds the burst, no more */
	CHECK_EQ(eng_dispatch(e, 10000, d, 64), 5);
	CHECK_EQ(eng_dispatch(e, 10000, d, 64), 0);
	/* steady state: 10 per second, stepping 1 ms */
	total = 0;
	for (t = 10001; t <= 20000; t++)
		total += eng_dispatch(e, t, d, 64);
	CHECK_EQ(total, 100);
	/* other events (new credit, settles) do not mint tokens */
	eng_consumer_credit(e, c, 5);
	CHECK_EQ(eng_dispatch(e, 20001, d, 64), 0);
	/* burst 0 means one second's worth */
	qc.dispatch_burst = 0;
	qc.dispatch_rate = 20;
	qc.name = NULL;
	CHECK_EQ(eng_queue_update(e, q, &qc), 0);
	CHECK_EQ(eng_dispatch(e, 30000, d, 64), 20);
	/* no limit */
	qc.dispatch_rate = 0;
	CHECK_EQ(eng_queue_update(e, q, &qc), 0);
	CHECK_EQ(eng_dispatch(e, 30000, d, 64), 64);
	eng_free(e);
	accounting_check();
}

static void
test_pause(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("pause");
	struct eng_delivery d[8];
	uint16_t q = addq(e, &qc);
	uint32_t c = addc(e, q, 8);

	eng_queue_pause(e, q, true);
	CHECK(qs(e, q).paused);
	CHECK_EQ(put_tag(e, q, 1, 0), WIRE_STATUS_OK); /* paused queues accept */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2, .not_before = 10 }, 0, NULL), WIRE_STATUS_OK);
	CHECK_EQ(eng_dispatch(e, 20, d, 8), 0);
	CHECK(qs(e, q).ready == 2 && qs(e, q).delivered == 0);
	eng_queue_pause(e, q, false);
	CHECK(!qs(e, q).paused);
	CHECK_EQ(eng_dispatch(e, 20, d, 8), 2);
	/* Pausing does not touch leases already out. */
	eng_queue_pause(e, q, true);
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 21), WIRE_STATUS_OK);
	CHECK_EQ(qs(e, q).leased, 1);
	eng_free(e);
	accounting_check();
}

static void
test_purge(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("purge");
	struct eng_delivery d[8];
	uint16_t q;
	uint32_t c;
	uint64_t freed;

	qc.max_attempts = 1;
	qc.backoff_base_ms = 1000;
	qc.backoff_max_ms = 1000;
	q = addq(e, &qc);
	c = addc(e, q, 0);
	/* one DEAD, one LEASED, one RETRY_WAIT, two READY, two SCHEDULED */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 1 }, 0, NULL), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 0), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2 }, 0, NULL), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d));
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 3, .max_attempts = 5 }, 0, NULL),
		 WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d + 1));
	CHECK_EQ(eng_fail(e, c, d[1].lease_id, 0, false, 0), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, q, 4, 0), WIRE_STATUS_OK);
	CHECK_EQ(put_tag(e, q, 5, 0), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 6, .not_before = 500 }, 0, NULL),
		 WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 7, .not_before = 9000, .ttl = 10000 }, 0, NULL),
		 WIRE_STATUS_OK);
	CHECK(qs(e, q).dead == 1 && qs(e, q).leased == 1 && qs(e, q).retry_wait == 1 &&
	      qs(e, q).ready == 2 && qs(e, q).scheduled == 2);
	freed = n_freed_engine;
	CHECK_EQ(eng_queue_purge(e, q), 5);
	CHECK_EQ(n_freed_engine - freed, 5);
	CHECK(qs(e, q).dead == 1 && qs(e, q).leased == 1 && qs(e, q).purged == 5);
	CHECK_EQ(qs(e, q).ready + qs(e, q).scheduled + qs(e, q).retry_wait, 0);
	/* their timers went with them: only the lease is left on the wheel */
	CHECK(eng_next_deadline(e) <= 1000);
	eng_advance(e, 20000);
	/* the lease ran out on its only attempt: DEAD; nothing else happened */
	CHECK(qs(e, q).ready == 0 && qs(e, q).dead == 2 && qs(e, q).retry_wait == 0);
	CHECK_EQ(qs(e, q).dead_lettered, 2);
	CHECK_EQ(eng_next_deadline(e), ENG_NEVER);
	CHECK_EQ(eng_queue_purge(e, q), 0);
	eng_free(e);
	accounting_check();
}

static void
test_ttl(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("ttl");
	struct eng_delivery d[8];
	struct eng_job *j;
	struct wire_jobid id;
	uint16_t q;
	uint32_t c;

	qc.ttl_ms = 1000;
	qc.max_attempts = 5;
	q = addq(e, &qc);
	c = addc(e, q, 0);

	/* READY, never leased: DEAD with reason EXPIRED at enqueue + ttl */
	j = mkjob(&(struct jspec){ .tag = 1 });
	CHECK_EQ(eng_enqueue(e, q, j, 0, &id), WIRE_STATUS_OK);
	eng_advance(e, 999);
	CHECK_EQ(qs(e, q).ready, 1);
	eng_advance(e, 1000);
	CHECK(qs(e, q).dead == 1 && qs(e, q).expired == 1 && qs(e, q).dead_lettered == 1);
	CHECK(j->state == ENG_JOB_DEAD && j->dead_reason == WIRE_STATUS_EXPIRED);
	CHECK(!lease1(e, c, 1000, d));

	/* SCHEDULED past its ttl; the job's own ttl wins over the queue's */
	j = mkjob(&(struct jspec){ .tag = 2, .not_before = 2500, .ttl = 3000 });
	CHECK_EQ(eng_enqueue(e, q, j, 2000, &id), WIRE_STATUS_OK);
	eng_advance(e, 2500);
	CHECK_EQ(j->state, ENG_JOB_READY);
	eng_advance(e, 4999);
	CHECK_EQ(j->state, ENG_JOB_READY);
	eng_advance(e, 5000);
	CHECK(j->state == ENG_JOB_DEAD && j->dead_reason == WIRE_STATUS_EXPIRED);
	/* not_before at or after the ttl deadline: could never run, refused */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 3, .not_before = 7000 }, 6000, NULL),
		 WIRE_STATUS_EXPIRED);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 3, .not_before = 6999 }, 6000, NULL),
		 WIRE_STATUS_OK);
	CHECK_EQ(eng_queue_purge(e, q), 1);

	/* LEASED is not interrupted by the ttl ... */
	j = mkjob(&(struct jspec){ .tag = 4, .lease_timeout = 5000 });
	CHECK_EQ(eng_enqueue(e, q, j, 10000, &id), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 10900, d));
	eng_advance(e, 12000);
	CHECK_EQ(j->state, ENG_JOB_LEASED);
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 12000), WIRE_STATUS_OK);
	/* ... but a failed attempt after the ttl does not come back */
	j = mkjob(&(struct jspec){ .tag = 5, .lease_timeout = 5000 });
	CHECK_EQ(eng_enqueue(e, q, j, 20000, &id), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 20500, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 21500), WIRE_STATUS_OK);
	CHECK(j->state == ENG_JOB_DEAD && j->dead_reason == WIRE_STATUS_EXPIRED);
	/* RETRY_WAIT reaching its ttl dies then, not at the retry time */
	j = mkjob(&(struct jspec){ .tag = 6 });
	CHECK_EQ(eng_enqueue(e, q, j, 30000, &id), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 30100, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 5000, false, 30200), WIRE_STATUS_OK);
	CHECK_EQ(j->state, ENG_JOB_RETRY_WAIT);
	eng_advance(e, 30999);
	CHECK_EQ(j->state, ENG_JOB_RETRY_WAIT);
	eng_advance(e, 31000);
	CHECK(j->state == ENG_JOB_DEAD && j->dead_reason == WIRE_STATUS_EXPIRED);
	CHECK_EQ(qs(e, q).expired, 4);
	/* redrive restarts the ttl (job 2 has its own, 3000) */
	CHECK_EQ(eng_redrive(e, q, 100, 40000), 4);
	eng_advance(e, 40999);
	CHECK_EQ(qs(e, q).ready, 4);
	eng_advance(e, 41000);
	CHECK(qs(e, q).dead == 3 && qs(e, q).ready == 1);
	eng_advance(e, 43000);
	CHECK(qs(e, q).dead == 4 && qs(e, q).expired == 8);
	eng_free(e);
	accounting_check();
}

/* ---- consumers going away ---- */

static void
test_consumer_remove(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("gone");
	struct eng_delivery d[8], d2[8];
	struct eng_queue_stats st;
	uint16_t q;
	uint32_t c, c2, c3, i;

	qc.backoff_base_ms = 100;
	qc.backoff_max_ms = 100;
	qc.max_attempts = 2;
	q = addq(e, &qc);
	for (i = 0; i < 3; i++)
		CHECK_EQ(put_tag(e, q, i, 0), WIRE_STATUS_OK);
	c = addc(e, q, 3);
	CHECK_EQ(eng_dispatch(e, 10, d, 8), 3);
	eng_consumer_remove(e, c, 20);
	st = qs(e, q);
	/* the attempt counts, the backoff applies */
	CHECK(st.leased == 0 && st.retry_wait == 3 && st.failed == 3 && st.retried == 3);
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 21), WIRE_STATUS_LEASE_NOT_FOUND);
	c2 = addc(e, q, 8);
	CHECK_EQ(c2, c); /* index reused; old lease ids still find nothing */
	CHECK_EQ(eng_complete(e, c2, d[0].lease_id, 21), WIRE_STATUS_LEASE_NOT_FOUND);
	CHECK_EQ(eng_dispatch(e, 20 + 74, d2, 8), 0);
	CHECK_EQ(eng_dispatch(e, 20 + 125, d2, 8), 3);
	for (i = 0; i < 3; i++)
		CHECK_EQ(d2[i].attempt, 2);
	/* last attempt gone with its consumer: DEAD, reason UNAVAILABLE */
	eng_consumer_remove(e, c2, 200);
	st = qs(e, q);
	CHECK(st.dead == 3 && st.failed == 6 && st.dead_lettered == 3);
	for (i = 0; i < 3; i++)
		CHECK_EQ(d2[i].job->dead_reason, WIRE_STATUS_UNAVAILABLE);
	/* Removing a consumer whose lease already ran out counts a timeout, not a failure. */
	CHECK_EQ(eng_redrive(e, q, 1, 300), 1);
	c3 = addc(e, q, 1);
	CHECK_EQ(eng_dispatch(e, 300, d, 8), 1);
	eng_consumer_remove(e, c3, 1300);
	st = qs(e, q);
	CHECK(st.lease_timeouts == 1 && st.failed == 6 && st.retry_wait == 1);
	/* others' leases are untouched */
	c = addc(e, q, 1);
	c2 = addc(e, q, 0);
	eng_advance(e, 1500);
	CHECK_EQ(eng_dispatch(e, 1500, d, 8), 1);
	eng_consumer_remove(e, c2, 1501);
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 1502), WIRE_STATUS_OK);
	eng_free(e);
	accounting_check();
}

/* ---- operator actions on single jobs (sluicectl jobs) ---- */

static const struct wire_jobid no_such_id = { UINT64_C(0x1234), UINT64_C(0x5678) };

static bool
id_eq(struct wire_jobid a, struct wire_jobid b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

static uint32_t
state_count(const struct eng_queue_stats *st, uint8_t state)
{
	switch (state) {
	case ENG_JOB_SCHEDULED:
		return st->scheduled;
	case ENG_JOB_READY:
		return st->ready;
	case ENG_JOB_LEASED:
		return st->leased;
	case ENG_JOB_RETRY_WAIT:
		return st->retry_wait;
	default:
		return st->dead;
	}
}

static void
test_job_find(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("find");
	struct eng_delivery d[4];
	struct eng_queue_stats st;
	struct wire_jobid id_sched, id_ready, id_leased, id_retry, id_dead, id_other, id_ttl, gone;
	const struct eng_job *f;
	uint16_t q, other;
	uint32_t c;

	q = addq(e, &qc);
	qc.name = "find2";
	qc.ttl_ms = 100;
	other = addq(e, &qc);
	c = addc(e, q, 0);

	/* One job in each state. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 1 }, 0, &id_dead), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, true, 0), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2 }, 0, &id_retry), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 5000, false, 0), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 3 }, 0, &id_leased), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d));
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 4 }, 0, &id_ready), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 5, .not_before = 3000 }, 0, &id_sched),
		 WIRE_STATUS_OK);
	CHECK_EQ(put(e, other, &(struct jspec){ .tag = 6, .ttl = 100000 }, 0, &id_other),
		 WIRE_STATUS_OK);

	f = eng_job_find(e, q, id_sched, 10);
	CHECK(f && job_tag(f) == 5 && f->state == ENG_JOB_SCHEDULED && id_eq(f->id, id_sched));
	f = eng_job_find(e, q, id_ready, 10);
	CHECK(f && job_tag(f) == 4 && f->state == ENG_JOB_READY && id_eq(f->id, id_ready));
	f = eng_job_find(e, q, id_leased, 10);
	CHECK(f && job_tag(f) == 3 && f->state == ENG_JOB_LEASED && f == d[0].job);
	f = eng_job_find(e, q, id_retry, 10);
	CHECK(f && job_tag(f) == 2 && f->state == ENG_JOB_RETRY_WAIT && f->attempts == 1);
	f = eng_job_find(e, q, id_dead, 10);
	CHECK(f && job_tag(f) == 1 && f->state == ENG_JOB_DEAD &&
	      f->dead_reason == WIRE_STATUS_INVALID);
	f = eng_job_find(e, other, id_other, 10);
	CHECK(f && job_tag(f) == 6 && f->queue == other && f->state == ENG_JOB_READY);

	/* Unknown id, another queue's job, a queue index that is not a queue: NULL. */
	CHECK(eng_job_find(e, q, no_such_id, 10) == NULL);
	CHECK(eng_job_find(e, q, id_other, 10) == NULL);
	CHECK(eng_job_find(e, other, id_ready, 10) == NULL);
	CHECK(eng_job_find(e, other, id_dead, 10) == NULL);
	CHECK(eng_job_find(e, 7, id_ready, 10) == NULL);
	CHECK(eng_job_find(e, UINT16_MAX, id_ready, 10) == NULL);
	/* Looking changes nothing. */
	st = qs(e, q);
	CHECK(st.scheduled == 1 && st.ready == 1 && st.leased == 1 && st.retry_wait == 1 &&
	      st.dead == 1);

	/* find runs the timers due by now: states as of now, no eng_advance needed. */
	f = eng_job_find(e, q, id_leased, 999);
	CHECK(f && f->state == ENG_JOB_LEASED);
	f = eng_job_find(e, q, id_leased, 1000); /* lease ran out, backoff 0: READY again */
	CHECK(f && f->state == ENG_JOB_READY && f->attempts == 1);
	CHECK_EQ(qs(e, q).lease_timeouts, 1);
	f = eng_job_find(e, q, id_sched, 2999);
	CHECK(f && f->state == ENG_JOB_SCHEDULED);
	f = eng_job_find(e, q, id_sched, 3000);
	CHECK(f && f->state == ENG_JOB_READY);
	f = eng_job_find(e, q, id_retry, 4999);
	CHECK(f && f->state == ENG_JOB_RETRY_WAIT);
	f = eng_job_find(e, q, id_retry, 5000);
	CHECK(f && f->state == ENG_JOB_READY);
	/* ... the TTL too: READY past its TTL is found DEAD (EXPIRED) */
	CHECK_EQ(put(e, other, &(struct jspec){ .tag = 7 }, 6000, &id_ttl), WIRE_STATUS_OK);
	f = eng_job_find(e, other, id_ttl, 6099);
	CHECK(f && f->state == ENG_JOB_READY);
	f = eng_job_find(e, other, id_ttl, 6100);
	CHECK(f && f->state == ENG_JOB_DEAD && f->dead_reason == WIRE_STATUS_EXPIRED);
	st = qs(e, q);
	CHECK(st.ready == 4 && st.dead == 1 && st.scheduled + st.leased + st.retry_wait == 0);

	/* A completed job is not found any more. */
	CHECK(lease1(e, c, 6200, d));
	gone = d[0].job->id;
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 6200), WIRE_STATUS_OK);
	CHECK(eng_job_find(e, q, gone, 6200) == NULL);
	eng_free(e);
	accounting_check();
}

static void
test_dead_list(void)
{
	static const uint32_t order[5] = { 3, 1, 4, 0, 2 };
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("dl");
	struct eng_delivery d[8];
	const struct eng_job *out[8];
	struct wire_jobid ids[5];
	uint16_t q, other;
	uint32_t c, c2, i, n;
	bool ok;

	qc.max_attempts = 1;
	q = addq(e, &qc);
	qc.name = "dl2";
	other = addq(e, &qc);
	c = addc(e, q, 0);
	c2 = addc(e, other, 0);

	CHECK_EQ(eng_dead_list(e, q, 0, out, 8), 0); /* empty queue */
	for (i = 0; i < 5; i++)
		CHECK_EQ(put(e, q, &(struct jspec){ .tag = i }, 0, &ids[i]), WIRE_STATUS_OK);
	eng_consumer_credit(e, c, 5);
	CHECK_EQ(eng_dispatch(e, 1, d, 8), 5);
	for (i = 0; i < 5; i++)
		CHECK_EQ(job_tag(d[i].job), i);
	/* They die in another order than they came: 3 1 4 0 2. */
	for (i = 0; i < 5; i++)
		CHECK_EQ(eng_fail(e, c, d[order[i]].lease_id, 0, false, 10 + i), WIRE_STATUS_OK);
	/* Not DEAD, or DEAD in another queue: not listed. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 10 }, 20, NULL), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 11, .not_before = 100000 }, 20, NULL),
		 WIRE_STATUS_OK);
	CHECK_EQ(put(e, other, &(struct jspec){ .tag = 12 }, 20, NULL), WIRE_STATUS_OK);
	CHECK(lease1(e, c2, 20, d));
	CHECK_EQ(eng_fail(e, c2, d[0].lease_id, 0, true, 21), WIRE_STATUS_OK);
	CHECK(qs(e, q).dead == 5 && qs(e, other).dead == 1);

	/* All of them, oldest (first dead) first. */
	n = eng_dead_list(e, q, 0, out, 8);
	CHECK_EQ(n, 5);
	ok = n == 5;
	for (i = 0; ok && i < n; i++)
		ok = job_tag(out[i]) == order[i] && out[i]->state == ENG_JOB_DEAD &&
		     out[i]->queue == q;
	CHECK(ok);
	/* Pages of 2 through skip and max. */
	CHECK_EQ(eng_dead_list(e, q, 0, out, 2), 2);
	CHECK(job_tag(out[0]) == 3 && job_tag(out[1]) == 1);
	CHECK_EQ(eng_dead_list(e, q, 2, out, 2), 2);
	CHECK(job_tag(out[0]) == 4 && job_tag(out[1]) == 0);
	out[1] = NULL;
	CHECK_EQ(eng_dead_list(e, q, 4, out, 2), 1);
	CHECK(job_tag(out[0]) == 2 && out[1] == NULL); /* writes only what it returns */
	CHECK_EQ(eng_dead_list(e, q, 5, out, 2), 0);
	CHECK_EQ(eng_dead_list(e, q, UINT32_MAX, out, 8), 0);
	CHECK_EQ(eng_dead_list(e, q, 0, out, 0), 0);
	CHECK_EQ(eng_dead_list(e, q, 1, out, 3), 3); /* a window in the middle */
	CHECK(job_tag(out[0]) == 1 && job_tag(out[1]) == 4 && job_tag(out[2]) == 0);
	/* Another queue's list; queue indices that are not queues: 0. */
	CHECK_EQ(eng_dead_list(e, other, 0, out, 8), 1);
	CHECK(job_tag(out[0]) == 12 && out[0]->queue == other);
	CHECK_EQ(eng_dead_list(e, 7, 0, out, 8), 0);
	CHECK_EQ(eng_dead_list(e, UINT16_MAX, 0, out, 8), 0);

	/* A retried job leaves the list; dying again puts it last. */
	CHECK_EQ(eng_job_retry(e, q, ids[4], 30), 0);
	n = eng_dead_list(e, q, 0, out, 8);
	CHECK(n == 4 && job_tag(out[0]) == 3 && job_tag(out[1]) == 1 && job_tag(out[2]) == 0 &&
	      job_tag(out[3]) == 2);
	eng_consumer_credit(e, c, 2);
	CHECK_EQ(eng_dispatch(e, 31, d, 2), 2);
	CHECK(job_tag(d[0].job) == 10 && job_tag(d[1].job) == 4);
	CHECK_EQ(eng_fail(e, c, d[1].lease_id, 0, false, 32), WIRE_STATUS_OK);
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 33), WIRE_STATUS_OK);
	n = eng_dead_list(e, q, 0, out, 8);
	CHECK(n == 6 && job_tag(out[0]) == 3 && job_tag(out[3]) == 2 && job_tag(out[4]) == 4 &&
	      job_tag(out[5]) == 10);
	CHECK_EQ(eng_dead_list(e, q, 4, out, 8), 2);
	eng_free(e);
	accounting_check();
}

static void
test_job_retry(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("retry");
	struct eng_delivery d[4], dl;
	struct eng_queue_stats st0, st;
	struct eng_stats es0, es;
	const struct eng_job *f;
	struct wire_jobid id1, id2, id3, id4, id5, id6;
	uint16_t q, tq;
	uint32_t c, tc;

	qc.max_attempts = 2;
	q = addq(e, &qc);
	qc.name = "retry-ttl";
	qc.ttl_ms = 1000;
	tq = addq(e, &qc);
	c = addc(e, q, 0);
	tc = addc(e, tq, 0);

	/* Attempts used up: DEAD. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 1, .extra = 50 }, 0, &id1), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 1), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 2, d));
	CHECK_EQ(d[0].attempt, 2);
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 3), WIRE_STATUS_OK);
	f = eng_job_find(e, q, id1, 3);
	CHECK(f && f->state == ENG_JOB_DEAD && f->attempts == 2);

	/* retry: READY, attempts reset, redriven +1, dead -1, nothing else moves. */
	st0 = qs(e, q);
	eng_stats(e, &es0);
	CHECK_EQ(eng_job_retry(e, q, id1, 10), 0);
	st = qs(e, q);
	eng_stats(e, &es);
	CHECK_EQ(st.dead, st0.dead - 1);
	CHECK_EQ(st.ready, st0.ready + 1);
	CHECK_EQ(st.redriven, st0.redriven + 1);
	CHECK_EQ(st.dead_lettered, st0.dead_lettered);
	CHECK_EQ(st.enqueued, st0.enqueued);
	CHECK_EQ(st.purged, st0.purged);
	CHECK_EQ(st.bytes, st0.bytes);
	CHECK_EQ(es.jobs, es0.jobs);
	f = eng_job_find(e, q, id1, 10);
	CHECK(f && f->state == ENG_JOB_READY && f->attempts == 0 && f->dead_reason == 0);
	CHECK_EQ(eng_job_retry(e, q, id1, 10), -EBUSY); /* READY now */
	CHECK_EQ(qs(e, q).redriven, st0.redriven + 1);
	/* Leasable again, with all its attempts. */
	CHECK(lease1(e, c, 11, d));
	CHECK(d[0].job == f && d[0].attempt == 1);
	CHECK_EQ(eng_job_retry(e, q, id1, 11), -EBUSY); /* LEASED */
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 12), WIRE_STATUS_OK);
	CHECK(f->state == ENG_JOB_READY);
	CHECK(lease1(e, c, 12, d));
	CHECK(d[0].job == f && d[0].attempt == 2);
	CHECK_EQ(eng_complete(e, c, d[0].lease_id, 13), WIRE_STATUS_OK);
	CHECK_EQ(eng_job_retry(e, q, id1, 13), -ENOENT); /* completed: gone */

	/* Not DEAD: -EBUSY. Not there: -ENOENT. Either way nothing moves. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2 }, 20, &id2), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 3, .not_before = 5000 }, 20, &id3),
		 WIRE_STATUS_OK);
	CHECK_EQ(eng_job_retry(e, q, id2, 20), -EBUSY);
	CHECK_EQ(eng_job_retry(e, q, id3, 20), -EBUSY);
	CHECK_EQ(eng_job_retry(e, q, no_such_id, 20), -ENOENT);
	CHECK_EQ(eng_job_retry(e, tq, id2, 20), -ENOENT);
	CHECK_EQ(eng_job_retry(e, 7, id2, 20), -ENOENT);
	CHECK_EQ(eng_job_retry(e, UINT16_MAX, id2, 20), -ENOENT);
	f = eng_job_find(e, q, id2, 20);
	CHECK(f && f->state == ENG_JOB_READY);
	f = eng_job_find(e, q, id3, 20);
	CHECK(f && f->state == ENG_JOB_SCHEDULED);
	CHECK_EQ(qs(e, q).redriven, st0.redriven + 1);

	/* A last lease that ran out by now is DEAD by now: no eng_advance needed. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 4, .priority = 5, .max_attempts = 1 }, 30, &id4),
		 WIRE_STATUS_OK);
	CHECK(lease1(e, c, 30, &dl));
	CHECK_EQ(job_tag(dl.job), 4);
	CHECK_EQ(eng_job_retry(e, q, id4, 1029), -EBUSY);
	f = eng_job_find(e, q, id4, 1030);
	CHECK(f && f->state == ENG_JOB_DEAD && f->dead_reason == WIRE_STATUS_LEASE_EXPIRED);
	CHECK_EQ(eng_job_retry(e, tq, id4, 1030), -ENOENT); /* not in that queue */
	CHECK(f && f->state == ENG_JOB_DEAD);
	CHECK_EQ(eng_job_retry(e, q, id4, 1030), 0);
	CHECK(f && f->state == ENG_JOB_READY && f->attempts == 0);
	CHECK_EQ(eng_complete(e, c, dl.lease_id, 1030), WIRE_STATUS_LEASE_EXPIRED);
	CHECK_EQ(qs(e, q).redriven, st0.redriven + 2);

	/* Died of its TTL: the TTL restarts at the retry, so it is not expired at once. */
	CHECK_EQ(put(e, tq, &(struct jspec){ .tag = 5 }, 2000, &id5), WIRE_STATUS_OK);
	CHECK_EQ(put(e, tq, &(struct jspec){ .tag = 6 }, 2000, &id6), WIRE_STATUS_OK);
	eng_advance(e, 3000);
	f = eng_job_find(e, tq, id5, 3000);
	CHECK(f && f->state == ENG_JOB_DEAD && f->dead_reason == WIRE_STATUS_EXPIRED);
	CHECK_EQ(qs(e, tq).expired, 2);
	CHECK_EQ(eng_job_retry(e, tq, id5, 10000), 0);
	CHECK_EQ(eng_job_retry(e, tq, id6, 10000), 0);
	f = eng_job_find(e, tq, id5, 10000);
	CHECK(f && f->state == ENG_JOB_READY);
	eng_advance(e, 10999);
	st = qs(e, tq);
	CHECK(st.ready == 2 && st.dead == 0 && st.expired == 2 && st.redriven == 2);
	CHECK(lease1(e, tc, 10999, d));
	CHECK(job_tag(d[0].job) == 5 && d[0].attempt == 1);
	/* the other one, never leased, dies again one TTL after its retry */
	f = eng_job_find(e, tq, id6, 11000);
	CHECK(f && f->state == ENG_JOB_DEAD && f->dead_reason == WIRE_STATUS_EXPIRED);
	CHECK_EQ(qs(e, tq).expired, 3);
	CHECK_EQ(eng_complete(e, tc, d[0].lease_id, 11500), WIRE_STATUS_OK);
	eng_free(e);
	accounting_check();
}

/*
 * Delete job id of q at now: freed through cfg.free_job exactly once, the
 * counters of its state, jobs and bytes drop, purged +1, and it is gone.
 * True when every check held (the caller's CHECK names the case).
 */
static bool
delete_ok(struct eng *e, uint16_t q, struct wire_jobid id, uint64_t now)
{
	const struct eng_job *f = eng_job_find(e, q, id, now);
	struct eng_queue_stats st0, st;
	struct eng_stats es0, es;
	uint64_t freed = n_freed_engine;
	int failed = failures;
	uint32_t len;
	uint8_t state;

	CHECK(f != NULL);
	if (!f)
		return false;
	len = f->data_len;
	state = f->state;
	st0 = qs(e, q);
	eng_stats(e, &es0);
	CHECK_EQ(eng_job_delete(e, q, id, now), 0);
	st = qs(e, q);
	eng_stats(e, &es);
	CHECK_EQ(n_freed_engine, freed + 1);
	CHECK_EQ(n_bad_free, 0);
	CHECK_EQ(state_count(&st, state), state_count(&st0, state) - 1);
	CHECK_EQ(st.bytes, st0.bytes - len);
	CHECK_EQ(es.jobs, es0.jobs - 1);
	CHECK_EQ(st.purged, st0.purged + 1);
	CHECK(st.completed == st0.completed && st.dead_lettered == st0.dead_lettered &&
	      st.redriven == st0.redriven);
	CHECK(eng_job_find(e, q, id, now) == NULL);
	CHECK_EQ(eng_job_delete(e, q, id, now), -ENOENT);
	CHECK_EQ(n_freed_engine, freed + 1);
	return failures == failed;
}

static void
test_job_delete(void)
{
	struct eng *e = mkeng(100, 0);
	struct eng_queue_cfg qc = qcfg("del");
	struct eng_delivery d[4], dl, dx;
	struct eng_queue_stats st;
	struct wire_jobid id_ready, id_dead, id_sched, id_retry, id_leased, id_x, id_hi, ids[3];
	const struct eng_job *f;
	uint64_t freed;
	uint16_t q, other;
	uint32_t c, i;

	qc.max_attempts = 1;
	q = addq(e, &qc);
	qc.name = "del2";
	other = addq(e, &qc);
	c = addc(e, q, 0);

	/* DEAD with a unique key, RETRY_WAIT, LEASED (long lease), READY with a key, SCHEDULED. */
	CHECK_EQ(
		put(e, q, &(struct jspec){ .tag = 1, .ukey = "u-dead", .extra = 100 }, 0, &id_dead),
		WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 0, false, 0), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 2, .max_attempts = 3, .extra = 200 }, 0,
		     &id_retry),
		 WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, d));
	CHECK_EQ(eng_fail(e, c, d[0].lease_id, 3000, false, 0), WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 3, .lease_timeout = 100000 }, 0, &id_leased),
		 WIRE_STATUS_OK);
	CHECK(lease1(e, c, 0, &dl));
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 4, .ukey = "u-ready", .extra = 300 }, 0,
		     &id_ready),
		 WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 5, .not_before = 5000, .extra = 400 }, 0,
		     &id_sched),
		 WIRE_STATUS_OK);
	st = qs(e, q);
	CHECK(st.dead == 1 && st.retry_wait == 1 && st.leased == 1 && st.ready == 1 &&
	      st.scheduled == 1);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 90, .ukey = "u-ready" }, 1, NULL),
		 WIRE_STATUS_UNIQUE_CONFLICT);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 91, .ukey = "u-dead" }, 1, NULL),
		 WIRE_STATUS_UNIQUE_CONFLICT);

	/* Not there: -ENOENT, nothing freed. */
	freed = n_freed_engine;
	CHECK_EQ(eng_job_delete(e, q, no_such_id, 1), -ENOENT);
	CHECK_EQ(eng_job_delete(e, other, id_ready, 1), -ENOENT);
	CHECK_EQ(eng_job_delete(e, 7, id_ready, 1), -ENOENT);
	CHECK_EQ(eng_job_delete(e, UINT16_MAX, id_ready, 1), -ENOENT);
	CHECK_EQ(n_freed_engine, freed);
	CHECK(eng_job_find(e, q, id_ready, 1) != NULL);

	/* LEASED: -EBUSY; it stays leased and its consumer can still settle it. */
	CHECK_EQ(eng_job_delete(e, q, id_leased, 1), -EBUSY);
	f = eng_job_find(e, q, id_leased, 1);
	CHECK(f && f == dl.job && f->state == ENG_JOB_LEASED);
	CHECK(n_freed_engine == freed && qs(e, q).leased == 1 && qs(e, q).purged == 0);

	CHECK(delete_ok(e, q, id_ready, 2));
	CHECK(delete_ok(e, q, id_dead, 3));
	CHECK(delete_ok(e, q, id_sched, 4));
	CHECK(delete_ok(e, q, id_retry, 5));
	CHECK_EQ(qs(e, q).purged, 4);
	/* Their unique keys are free again. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 6, .ukey = "u-ready" }, 6, NULL),
		 WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 7, .ukey = "u-dead" }, 6, NULL), WIRE_STATUS_OK);
	/* Their timers went with them: past not_before and the retry time nothing moves. */
	eng_advance(e, 10000);
	st = qs(e, q);
	CHECK(st.ready == 2 && st.leased == 1 && st.dead == 0 && st.scheduled == 0 &&
	      st.retry_wait == 0 && st.dead_lettered == 1);
	CHECK_EQ(eng_complete(e, c, dl.lease_id, 10000), WIRE_STATUS_OK);
	CHECK_EQ(qs(e, q).completed, 1);

	/* From the middle of a ready list, and the only job of its priority. */
	for (i = 0; i < 3; i++)
		CHECK_EQ(put(e, q, &(struct jspec){ .tag = 20 + i }, 10000, &ids[i]),
			 WIRE_STATUS_OK);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 30, .priority = 9 }, 10000, &id_hi),
		 WIRE_STATUS_OK);
	CHECK(delete_ok(e, q, ids[1], 10001));
	CHECK(delete_ok(e, q, id_hi, 10001));
	eng_consumer_credit(e, c, 4);
	CHECK_EQ(eng_dispatch(e, 10002, d, 4), 4);
	CHECK(job_tag(d[0].job) == 6 && job_tag(d[1].job) == 7 && job_tag(d[2].job) == 20 &&
	      job_tag(d[3].job) == 22);
	for (i = 0; i < 4; i++)
		CHECK_EQ(eng_complete(e, c, d[i].lease_id, 10003), WIRE_STATUS_OK);

	/* A lease that ran out by now no longer holds the job (here: DEAD). */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 40 }, 20000, &id_x), WIRE_STATUS_OK);
	CHECK(lease1(e, c, 20000, &dx));
	CHECK_EQ(job_tag(dx.job), 40);
	CHECK_EQ(eng_job_delete(e, q, id_x, 20999), -EBUSY);
	CHECK(delete_ok(e, q, id_x, 21000));
	CHECK_EQ(eng_complete(e, c, dx.lease_id, 21000), WIRE_STATUS_LEASE_EXPIRED);

	/* A unique_ttl past the job keeps the key until enqueue + unique_ttl, as complete does. */
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 50, .ukey = "u-ttl", .unique_ttl = 1000 }, 30000,
		     &id_x),
		 WIRE_STATUS_OK);
	CHECK(delete_ok(e, q, id_x, 30001));
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 51, .ukey = "u-ttl" }, 30999, NULL),
		 WIRE_STATUS_UNIQUE_CONFLICT);
	CHECK_EQ(put(e, q, &(struct jspec){ .tag = 52, .ukey = "u-ttl" }, 31000, &id_x),
		 WIRE_STATUS_OK);
	CHECK(delete_ok(e, q, id_x, 31000));

	/* Another queue: its own counters. */
	CHECK_EQ(put(e, other, &(struct jspec){ .tag = 60 }, 32000, &id_x), WIRE_STATUS_OK);
	CHECK(delete_ok(e, other, id_x, 32000));
	CHECK(qs(e, other).purged == 1 && qs(e, q).purged == 9);
	CHECK(qs(e, q).bytes == 0 && qs(e, other).bytes == 0);
	eng_free(e);
	accounting_check();
}

/* ---- volume: 100k jobs, each delivered and completed exactly once ---- */

static void
test_bulk_100k(void)
{
	enum { N = 100000, NQ = 4, NC = 8, BURST = 1024 };
	static uint8_t seen[N];
	static struct eng_delivery d[BURST];
	struct eng *e = mkeng(N, 0);
	struct eng_queue_stats st, sum = { 0 };
	struct eng_stats es;
	uint16_t q[NQ];
	uint32_t c[NC], i, n, total = 0, dupes = 0, first_round = 0;
	uint64_t rng = 12345, now = 1;
	char name[16];

	for (i = 0; i < NQ; i++) {
		struct eng_queue_cfg qc;

		snprintf(name, sizeof(name), "bulk%u", i);
		qc = qcfg(name);
		q[i] = addq(e, &qc);
	}
	for (i = 0; i < N; i++) {
		struct jspec s = { .tag = i, .priority = (uint8_t)trand_below(&rng, 16) };

		CHECK_EQ(put(e, q[i % NQ], &s, now, NULL), WIRE_STATUS_OK);
	}
	/* the engine-wide bound (max_jobs) refuses the next one */
	CHECK_EQ(put_tag(e, q[0], N, now), WIRE_STATUS_QUEUE_FULL);

	/* One consumer, credit saturating at WIRE_CREDIT_MAX: exactly that many. */
	{
		struct eng_sub sub[NQ];

		for (i = 0; i < NQ; i++)
			sub[i] = (struct eng_sub){ q[i], (uint16_t)(1 + i) };
		c[0] = (uint32_t)eng_consumer_add(e, 0, sub, NQ, 0);
		eng_consumer_credit(e, c[0], UINT32_MAX);
		eng_consumer_credit(e, c[0], 100);
	}
	for (;;) {
		n = eng_dispatch(e, now, d, BURST);
		if (!n)
			break;
		for (i = 0; i < n; i++) {
			uint32_t tag = job_tag(d[i].job);

			dupes += tag >= N || seen[tag];
			if (tag < N)
				seen[tag] = 1;
			CHECK_EQ(eng_complete(e, d[i].consumer, d[i].lease_id, now) ==
					 WIRE_STATUS_OK,
				 1);
		}
		first_round += n;
		now++;
	}
	CHECK_EQ(first_round, WIRE_CREDIT_MAX);
	total = first_round;

	/* More consumers, two queues each, and the rest. */
	for (i = 1; i < NC; i++) {
		struct eng_sub sub[2] = { { q[i % NQ], (uint16_t)(1 + i % 3) },
					  { q[(i + 1) % NQ], 2 } };
		int r = eng_consumer_add(e, i, sub, 2, 512);

		CHECK(r >= 0);
		c[i] = (uint32_t)r;
	}
	eng_consumer_credit(e, c[0], 512);
	while (total < N) {
		n = eng_dispatch(e, now, d, BURST);
		if (!n)
			break;
		for (i = 0; i < n; i++) {
			uint32_t tag = job_tag(d[i].job);

			dupes += tag >= N || seen[tag];
			if (tag < N)
				seen[tag] = 1;
			CHECK_EQ(eng_complete(e, d[i].consumer, d[i].lease_id, now) ==
					 WIRE_STATUS_OK,
				 1);
			eng_consumer_credit(e, d[i].consumer, 1);
		}
		total += n;
		now++;
	}
	CHECK_EQ(total, N);
	CHECK_EQ(dupes, 0);
	for (i = 0, n = 0; i < N; i++)
		n += seen[i];
	CHECK_EQ(n, N);
	for (i = 0; i < NQ; i++) {
		st = qs(e, q[i]);
		sum.enqueued += st.enqueued;
		sum.delivered += st.delivered;
		sum.completed += st.completed;
		sum.refused_full += st.refused_full;
		CHECK_EQ(st.scheduled + st.ready + st.leased + st.retry_wait + st.dead, 0);
		CHECK_EQ(st.bytes, 0);
	}
	CHECK(sum.enqueued == N && sum.delivered == N && sum.completed == N);
	CHECK_EQ(sum.refused_full, 1);
	CHECK_EQ(n_freed_engine, N);
	eng_stats(e, &es);
	CHECK(es.jobs == 0 && es.leases == 0 && es.consumers == NC);
	CHECK_EQ(eng_next_deadline(e), ENG_NEVER);
	eng_free(e);
	accounting_check();
}

/*
 * ---- randomized model ----
 *
 * A reference model of the contract, written for clarity, not speed: every
 * job's state, attempts, deadlines; consumers' credit; dedup and unique
 * holds. Random operations with a seeded PRNG go to both; after each step
 * every status, every counter of every queue, every job's state and the
 * engine totals must agree. Where the contract leaves the engine a choice
 * (which consumer and queue get a delivery), the model checks the choice is
 * legal: a READY job of the best priority, oldest first, to a subscribed
 * consumer with credit, within max_in_flight, and that dispatch stops only
 * when nothing more can be leased. Backoffs here stay under 4 ms, where
 * +-25% jitter rounds to nothing, so the model can predict them exactly.
 */
#define M_QUEUES 3
#define M_SLOTS 128
#define M_MAXJOBS 100
#define M_CONS 4
#define M_KEYS 12
#define M_IDS 16
#define M_ENDED 64
#define M_DEDUP 4096
#define M_WORKER 7

struct m_job {
	bool used;
	struct eng_job *ej;
	uint16_t q;
	uint8_t prio, state, reason;
	uint16_t attempts, max_attempts;
	uint32_t lease_timeout, ttl, data_len, consumer;
	int ukey;
	uint64_t nb, expires, ready_at, retry_at, lease_deadline, lease_id;
};

struct m_cons {
	bool used;
	uint32_t credit;
	unsigned n_subs;
	uint16_t subq[3];
};

struct m_ended {
	uint64_t id;
	uint32_t consumer;
	bool timeout;
};

struct model {
	struct eng *e;
	struct eng_queue_cfg qc[M_QUEUES];
	struct eng_queue_stats st[M_QUEUES];
	uint32_t qjobs[M_QUEUES];
	struct m_job job[M_SLOTS];
	struct m_cons cons[M_CONS];
	struct {
		int holder;
		uint64_t until;
	} uniq[M_QUEUES][M_KEYS];
	struct {
		uint16_t q;
		uint32_t id;
		uint64_t until;
	} dedup[M_DEDUP];
	uint32_t n_dedup;
	struct m_ended ended[M_ENDED];
	uint32_t n_ended;
	uint32_t jobs;
	uint64_t freed, now, rng;
	const char *op;
	uint64_t enq_status[WIRE_STATUS__COUNT], settle_status[WIRE_STATUS__COUNT];
};

static uint32_t
m_rnd(struct model *m, uint32_t n)
{
	return trand_below(&m->rng, n);
}

static uint32_t *
m_count(struct eng_queue_stats *st, uint8_t state)
{
	switch (state) {
	case ENG_JOB_SCHEDULED:
		return &st->scheduled;
	case ENG_JOB_READY:
		return &st->ready;
	case ENG_JOB_LEASED:
		return &st->leased;
	case ENG_JOB_RETRY_WAIT:
		return &st->retry_wait;
	default:
		return &st->dead;
	}
}

static void
m_set(struct model *m, struct m_job *j, uint8_t state)
{
	(*m_count(&m->st[j->q], j->state))--;
	(*m_count(&m->st[j->q], state))++;
	j->state = state;
}

static uint64_t
m_ttl(const struct m_job *j)
{
	return j->expires ? j->expires : UINT64_MAX;
}

static uint64_t
m_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* When the job next changes by itself. */
static uint64_t
m_event(const struct m_job *j)
{
	switch (j->state) {
	case ENG_JOB_SCHEDULED:
		return m_min(j->nb, m_ttl(j));
	case ENG_JOB_RETRY_WAIT:
		return m_min(j->retry_at, m_ttl(j));
	case ENG_JOB_READY:
		return m_ttl(j);
	case ENG_JOB_LEASED:
		return j->lease_deadline;
	default:
		return UINT64_MAX;
	}
}

static void
m_ready(struct model *m, struct m_job *j, uint64_t t)
{
	m_set(m, j, ENG_JOB_READY);
	j->ready_at = t;
}

static void
m_dead(struct model *m, struct m_job *j, uint8_t reason)
{
	m_set(m, j, ENG_JOB_DEAD);
	j->reason = reason;
	m->st[j->q].dead_lettered++;
	if (reason == WIRE_STATUS_EXPIRED)
		m->st[j->q].expired++;
}

static uint64_t
m_backoff(const struct model *m, uint16_t q, unsigned n)
{
	uint64_t base = m->qc[q].backoff_base_ms, cap = m->qc[q].backoff_max_ms, d;

	if (!base)
		return 0;
	d = n - 1 >= 32 ? cap : base << (n - 1);
	if (d > cap)
		d = cap;
	if (d / 4) {
		fprintf(stderr, "model bug: backoff %llu has jitter\n", (unsigned long long)d);
		exit(2);
	}
	return d;
}

static void
m_retry_or_dead(struct model *m, struct m_job *j, uint64_t t, uint32_t delay, uint8_t reason)
{
	uint64_t d;

	if (j->attempts >= j->max_attempts) {
		m_dead(m, j, reason);
		return;
	}
	if (j->expires && t >= j->expires) {
		m_dead(m, j, WIRE_STATUS_EXPIRED);
		return;
	}
	m->st[j->q].retried++;
	d = delay ? delay : m_backoff(m, j->q, j->attempts);
	if (!d) {
		m_ready(m, j, t);
	} else {
		m_set(m, j, ENG_JOB_RETRY_WAIT);
		j->retry_at = t + d;
	}
}

static void
m_end_lease(struct model *m, struct m_job *j, bool timeout)
{
	struct m_ended *x = &m->ended[m->n_ended++ % M_ENDED];

	x->id = j->lease_id;
	x->consumer = j->consumer;
	x->timeout = timeout;
}

static void
m_free(struct model *m, struct m_job *j)
{
	(*m_count(&m->st[j->q], j->state))--;
	m->st[j->q].bytes -= j->data_len;
	m->qjobs[j->q]--;
	m->jobs--;
	if (j->ukey >= 0 && m->uniq[j->q][j->ukey].holder == (int)(j - m->job))
		m->uniq[j->q][j->ukey].holder = -1;
	j->used = false;
	m->freed++;
}

static void
m_fire(struct model *m, struct m_job *j, uint64_t t)
{
	switch (j->state) {
	case ENG_JOB_SCHEDULED:
	case ENG_JOB_RETRY_WAIT:
		if (j->expires && t >= j->expires)
			m_dead(m, j, WIRE_STATUS_EXPIRED);
		else
			m_ready(m, j, t);
		break;
	case ENG_JOB_READY:
		m_dead(m, j, WIRE_STATUS_EXPIRED);
		break;
	case ENG_JOB_LEASED:
		m->st[j->q].lease_timeouts++;
		m_end_lease(m, j, true);
		m_retry_or_dead(m, j, t, 0, WIRE_STATUS_LEASE_EXPIRED);
		break;
	}
}

static void
m_advance(struct model *m, uint64_t now)
{
	unsigned i;

	for (i = 0; i < M_SLOTS; i++) {
		struct m_job *j = &m->job[i];
		uint64_t t;

		while (j->used && (t = m_event(j)) <= now)
			m_fire(m, j, t);
	}
}

static bool
m_dedup_seen(struct model *m, uint16_t q, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < m->n_dedup; i++)
		if (m->dedup[i].q == q && m->dedup[i].id == id && m->now < m->dedup[i].until)
			return true;
	return false;
}

static void
m_dedup_add(struct model *m, uint16_t q, uint32_t id, uint64_t until)
{
	uint32_t i, k = 0;

	for (i = 0; i < m->n_dedup; i++)
		if (m->dedup[i].until > m->now)
			m->dedup[k++] = m->dedup[i];
	m->n_dedup = k;
	if (k < M_DEDUP) {
		m->dedup[k].q = q;
		m->dedup[k].id = id;
		m->dedup[k].until = until;
		m->n_dedup++;
	}
}

static bool
m_queue_can_lease(const struct model *m, uint16_t q)
{
	return !m->st[q].paused && m->st[q].ready > 0 &&
	       (!m->qc[q].max_in_flight || m->st[q].leased < m->qc[q].max_in_flight);
}

static void
m_op_enqueue(struct model *m)
{
	struct jspec s = { 0 };
	uint16_t q = m_rnd(m, 20) == 0 ? M_QUEUES : (uint16_t)m_rnd(m, M_QUEUES);
	bool bad_prio = m_rnd(m, 50) == 0;
	int ukey = m_rnd(m, 4) == 0 ? (int)m_rnd(m, M_KEYS) : -1;
	uint32_t client_id = m_rnd(m, 3) == 0 ? 1 + m_rnd(m, M_IDS) : 0;
	enum wire_status want, got;
	struct wire_jobid id = { 0, 0 };
	struct eng_job *ej;
	struct m_job *j = NULL;
	uint32_t slot, ttl = 0;
	uint64_t exp = 0;
	char key[8];

	for (slot = 0; slot < M_SLOTS && m->job[slot].used; slot++)
		;
	s.tag = slot;
	s.priority = (uint8_t)m_rnd(m, 16);
	switch (m_rnd(m, 4)) {
	case 0:
		s.not_before = m->now + m_rnd(m, 300);
		break;
	case 1:
		s.not_before = m->now > 50 ? m->now - m_rnd(m, 50) : 0;
		break;
	default:
		s.not_before = 0;
		break;
	}
	s.ttl = m_rnd(m, 4) == 0 ? 1 + m_rnd(m, 500) : 0;
	s.max_attempts = m_rnd(m, 3) == 0 ? (uint16_t)(1 + m_rnd(m, 4)) : 0;
	s.lease_timeout = m_rnd(m, 3) == 0 ? 10 + m_rnd(m, 100) : 0;
	if (ukey >= 0) {
		snprintf(key, sizeof(key), "key%d", ukey);
		s.ukey = key;
		s.unique_ttl = m_rnd(m, 2) ? m_rnd(m, 300) : 0;
	}
	if (client_id)
		s.id = (struct wire_jobid){ 0x77, client_id };
	s.extra = m_rnd(m, 65);
	ej = mkjob(&s);
	if (bad_prio)
		ej->priority = WIRE_PRIORITY_MAX + 1;

	if (q >= M_QUEUES || bad_prio) {
		want = WIRE_STATUS_INVALID;
	} else {
		ttl = s.ttl ? s.ttl : m->qc[q].ttl_ms;
		exp = ttl ? m->now + ttl : 0;
		if (client_id && m->qc[q].dedup_window_ms && m_dedup_seen(m, q, client_id))
			want = WIRE_STATUS_DUPLICATE;
		else if (exp && s.not_before >= exp)
			want = WIRE_STATUS_EXPIRED;
		else if (ukey >= 0 &&
			 (m->uniq[q][ukey].holder >= 0 || m->now < m->uniq[q][ukey].until))
			want = WIRE_STATUS_UNIQUE_CONFLICT;
		else if (m->jobs >= M_MAXJOBS || m->qjobs[q] >= m->qc[q].max_jobs ||
			 m->st[q].bytes + ej->data_len > m->qc[q].max_bytes)
			want = WIRE_STATUS_QUEUE_FULL;
		else
			want = WIRE_STATUS_OK;
	}
	got = eng_enqueue(m->e, q, ej, m->now, &id);
	CHECK_EQ(got, want);
	m->enq_status[got < WIRE_STATUS__COUNT ? got : WIRE_STATUS_INTERNAL]++;
	if (want == WIRE_STATUS_DUPLICATE) {
		m->st[q].duplicates++;
		CHECK(id.hi == 0x77 && id.lo == client_id);
	}
	if (want == WIRE_STATUS_QUEUE_FULL)
		m->st[q].refused_full++;
	if (got != WIRE_STATUS_OK) {
		tjob_release(ej);
		return;
	}
	if (want != WIRE_STATUS_OK || slot >= M_SLOTS)
		return; /* already reported; the engine owns a job the model does not know */
	j = &m->job[slot];
	memset(j, 0, sizeof(*j));
	j->used = true;
	j->ej = ej;
	j->q = q;
	j->prio = s.priority;
	j->nb = s.not_before;
	j->expires = exp;
	j->ttl = ttl;
	j->max_attempts = s.max_attempts ? s.max_attempts : m->qc[q].max_attempts;
	j->lease_timeout = s.lease_timeout ? s.lease_timeout : m->qc[q].lease_timeout_ms;
	j->ukey = ukey;
	j->data_len = ej->data_len;
	j->state = ENG_JOB_DEAD; /* m_set moves it out of a count: start from one */
	m->st[q].dead++;
	if (s.not_before > m->now)
		m_set(m, j, ENG_JOB_SCHEDULED);
	else
		m_ready(m, j, m->now);
	m->st[q].enqueued++;
	m->st[q].bytes += j->data_len;
	m->qjobs[q]++;
	m->jobs++;
	if (client_id && m->qc[q].dedup_window_ms)
		m_dedup_add(m, q, client_id, m->now + m->qc[q].dedup_window_ms);
	if (ukey >= 0) {
		m->uniq[q][ukey].holder = (int)slot;
		m->uniq[q][ukey].until = s.unique_ttl ? m->now + s.unique_ttl : 0;
	}
	CHECK(!(id.hi == 0 && id.lo == 0));
	if (client_id)
		CHECK(id.hi == 0x77 && id.lo == client_id);
}

static bool
m_subscribed(const struct m_cons *c, uint16_t q)
{
	unsigned i;

	for (i = 0; i < c->n_subs; i++)
		if (c->subq[i] == q)
			return true;
	return false;
}

static void
m_op_dispatch(struct model *m)
{
	struct eng_delivery d[64];
	uint32_t max = m_rnd(m, 3) ? 1 + m_rnd(m, 4) : 64;
	uint32_t n = eng_dispatch(m->e, m->now, d, max), i, k, c;

	CHECK(n <= max);
	for (i = 0; i < n; i++) {
		uint32_t slot = job_tag(d[i].job);
		struct m_job *j = slot < M_SLOTS ? &m->job[slot] : NULL;
		struct m_cons *mc = d[i].consumer < M_CONS ? &m->cons[d[i].consumer] : NULL;
		bool best = true;

		CHECK(j && j->used && j->ej == d[i].job);
		CHECK(mc && mc->used && mc->credit > 0);
		if (!j || !j->used || j->ej != d[i].job || !mc || !mc->used)
			return;
		CHECK_EQ(j->state, ENG_JOB_READY);
		CHECK(m_subscribed(mc, j->q));
		CHECK(m_queue_can_lease(m, j->q));
		for (k = 0; k < M_SLOTS; k++) {
			const struct m_job *o = &m->job[k];

			if (!o->used || o->q != j->q || o->state != ENG_JOB_READY)
				continue;
			if (o->prio > j->prio || (o->prio == j->prio && o->ready_at < j->ready_at))
				best = false;
		}
		CHECK(best);
		CHECK_EQ(d[i].attempt, j->attempts + 1);
		CHECK_EQ(d[i].lease_timeout_ms, j->lease_timeout);
		CHECK_EQ(eng_lease_worker(d[i].lease_id), M_WORKER);
		mc->credit--;
		j->attempts++;
		m_set(m, j, ENG_JOB_LEASED);
		j->lease_deadline = m->now + j->lease_timeout;
		j->lease_id = d[i].lease_id;
		j->consumer = d[i].consumer;
		m->st[j->q].delivered++;
	}
	if (n == max)
		return;
	/* Stopped short: then no consumer with credit has a queue that could lease. */
	for (c = 0; c < M_CONS; c++) {
		if (!m->cons[c].used || !m->cons[c].credit)
			continue;
		for (k = 0; k < m->cons[c].n_subs; k++)
			CHECK(!m_queue_can_lease(m, m->cons[c].subq[k]));
	}
}

/* A random lease: one held now, or a settled one, or a forged id. */
enum m_pick { PICK_VALID, PICK_WRONG_CONSUMER, PICK_STALE, PICK_FORGED };

static enum m_pick
m_pick_lease(struct model *m, struct m_job **jp, uint32_t *c, uint64_t *id, bool *may_expire)
{
	uint32_t leased[M_SLOTS], n = 0, i, r = m_rnd(m, 100);

	*jp = NULL;
	*may_expire = false;
	for (i = 0; i < M_SLOTS; i++)
		if (m->job[i].used && m->job[i].state == ENG_JOB_LEASED)
			leased[n++] = i;
	if (n && r < 75) {
		*jp = &m->job[leased[m_rnd(m, n)]];
		*id = (*jp)->lease_id;
		*c = (*jp)->consumer;
		if (r < 65)
			return PICK_VALID;
		*c = m_rnd(m, M_CONS + 2);
		if (*c != (*jp)->consumer)
			return PICK_WRONG_CONSUMER;
		*c = M_CONS + 5;
		return PICK_WRONG_CONSUMER;
	}
	if (m->n_ended && r < 95) {
		const struct m_ended *x =
			&m->ended[m_rnd(m, m->n_ended < M_ENDED ? m->n_ended : M_ENDED)];

		*id = x->id;
		*c = x->consumer;
		*may_expire = x->timeout && m->cons[x->consumer].used;
		return PICK_STALE;
	}
	*c = m_rnd(m, M_CONS);
	*id = m_rnd(m, 2) ? 0 : (uint64_t)(M_WORKER + 1) << 48 | (trand(&m->rng) >> 16);
	return PICK_FORGED;
}

static void
m_check_refusal(enum wire_status got, bool may_expire)
{
	if (may_expire)
		CHECK(got == WIRE_STATUS_LEASE_NOT_FOUND || got == WIRE_STATUS_LEASE_EXPIRED);
	else
		CHECK_EQ(got, WIRE_STATUS_LEASE_NOT_FOUND);
}

static void
m_op_settle(struct model *m, unsigned kind)
{
	struct m_job *j;
	uint32_t c, delay = m_rnd(m, 3) ? 1 + m_rnd(m, 50) : 0;
	uint32_t ext = m_rnd(m, 3) ? 1 + m_rnd(m, 200) : 0;
	bool dead = m_rnd(m, 10) == 0, may_expire;
	uint64_t id;
	enum m_pick pick = m_pick_lease(m, &j, &c, &id, &may_expire);
	enum wire_status got;

	if (kind == 0)
		got = eng_complete(m->e, c, id, m->now);
	else if (kind == 1)
		got = eng_fail(m->e, c, id, delay, dead, m->now);
	else
		got = eng_extend(m->e, c, id, ext, m->now);
	m->settle_status[got < WIRE_STATUS__COUNT ? got : WIRE_STATUS_INTERNAL]++;
	if (pick != PICK_VALID) {
		m_check_refusal(got, may_expire);
		return;
	}
	CHECK_EQ(got, WIRE_STATUS_OK);
	if (kind == 0) {
		m->st[j->q].completed++;
		m_end_lease(m, j, false);
		m_free(m, j);
	} else if (kind == 1) {
		m->st[j->q].failed++;
		m_end_lease(m, j, false);
		if (dead)
			m_dead(m, j, WIRE_STATUS_INVALID);
		else
			m_retry_or_dead(m, j, m->now, delay, WIRE_STATUS_INVALID);
	} else {
		j->lease_deadline = m->now + (ext ? ext : j->lease_timeout);
	}
}

static void
m_op_consumer_add(struct model *m)
{
	struct eng_sub subs[3];
	unsigned n = 1 + m_rnd(m, 3), i, used = 0;
	uint32_t credit = m_rnd(m, 7);
	uint16_t first = (uint16_t)m_rnd(m, M_QUEUES);
	int c;

	for (i = 0; i < n; i++)
		subs[i] = (struct eng_sub){ (uint16_t)((first + i) % M_QUEUES),
					    (uint16_t)(1 + m_rnd(m, 5)) };
	for (i = 0; i < M_CONS; i++)
		used += m->cons[i].used;
	c = eng_consumer_add(m->e, 1000 + (uint64_t)m->now, subs, n, credit);
	if (used == M_CONS) {
		CHECK_EQ(c, -ENOSPC);
		return;
	}
	CHECK(c >= 0 && c < M_CONS && !m->cons[c].used);
	if (c < 0 || c >= M_CONS)
		return;
	m->cons[c].used = true;
	m->cons[c].credit = credit;
	m->cons[c].n_subs = n;
	for (i = 0; i < n; i++)
		m->cons[c].subq[i] = subs[i].queue;
}

static void
m_op_consumer_remove(struct model *m)
{
	uint32_t c = m_rnd(m, M_CONS + 1), i;

	eng_consumer_remove(m->e, c, m->now);
	if (c >= M_CONS || !m->cons[c].used)
		return;
	for (i = 0; i < M_SLOTS; i++) {
		struct m_job *j = &m->job[i];

		if (j->used && j->state == ENG_JOB_LEASED && j->consumer == c) {
			m->st[j->q].failed++;
			m_end_lease(m, j, false);
			m_retry_or_dead(m, j, m->now, 0, WIRE_STATUS_UNAVAILABLE);
		}
	}
	m->cons[c].used = false;
}

static void
m_op_queue(struct model *m, unsigned kind)
{
	uint16_t q = (uint16_t)m_rnd(m, M_QUEUES);
	uint32_t i, want = 0, max;

	switch (kind) {
	case 0:
		m->st[q].paused = !m->st[q].paused;
		eng_queue_pause(m->e, q, m->st[q].paused);
		break;
	case 1:
		for (i = 0; i < M_SLOTS; i++) {
			struct m_job *j = &m->job[i];

			if (j->used && j->q == q &&
			    (j->state == ENG_JOB_SCHEDULED || j->state == ENG_JOB_READY ||
			     j->state == ENG_JOB_RETRY_WAIT)) {
				m_free(m, j);
				want++;
			}
		}
		m->st[q].purged += want;
		CHECK_EQ(eng_queue_purge(m->e, q), want);
		break;
	default:
		/* all or nothing: which dead jobs die "first" within a ms is the engine's */
		max = m_rnd(m, 4) == 0 ? 0 : m->st[q].dead + m_rnd(m, 3);
		for (i = 0; max && i < M_SLOTS; i++) {
			struct m_job *j = &m->job[i];

			if (j->used && j->q == q && j->state == ENG_JOB_DEAD) {
				j->attempts = 0;
				j->reason = 0;
				j->expires = j->ttl ? m->now + j->ttl : 0;
				m_ready(m, j, m->now);
				m->st[q].redriven++;
				want++;
			}
		}
		CHECK_EQ(eng_redrive(m->e, q, max, m->now), want);
		break;
	}
}

/* Everything observable must agree. */
static bool
m_compare(struct model *m, unsigned step)
{
	int before = failures;
	uint64_t earliest = UINT64_MAX, next;
	uint32_t q, i, leases = 0, consumers = 0;
	struct eng_stats es;

	for (q = 0; q < M_QUEUES; q++) {
		struct eng_queue_stats g = qs(m->e, (uint16_t)q), *w = &m->st[q];

		CHECK_EQ(g.scheduled, w->scheduled);
		CHECK_EQ(g.ready, w->ready);
		CHECK_EQ(g.leased, w->leased);
		CHECK_EQ(g.retry_wait, w->retry_wait);
		CHECK_EQ(g.dead, w->dead);
		CHECK_EQ(g.bytes, w->bytes);
		CHECK_EQ(g.paused, w->paused);
		CHECK_EQ(g.enqueued, w->enqueued);
		CHECK_EQ(g.duplicates, w->duplicates);
		CHECK_EQ(g.refused_full, w->refused_full);
		CHECK_EQ(g.delivered, w->delivered);
		CHECK_EQ(g.completed, w->completed);
		CHECK_EQ(g.failed, w->failed);
		CHECK_EQ(g.retried, w->retried);
		CHECK_EQ(g.dead_lettered, w->dead_lettered);
		CHECK_EQ(g.expired, w->expired);
		CHECK_EQ(g.lease_timeouts, w->lease_timeouts);
		CHECK_EQ(g.redriven, w->redriven);
		CHECK_EQ(g.purged, w->purged);
	}
	for (i = 0; i < M_SLOTS; i++) {
		const struct m_job *j = &m->job[i];

		if (!j->used)
			continue;
		CHECK_EQ(j->ej->state, j->state);
		CHECK_EQ(j->ej->attempts, j->attempts);
		if (j->state == ENG_JOB_DEAD)
			CHECK_EQ(j->ej->dead_reason, j->reason);
		leases += j->state == ENG_JOB_LEASED;
		if (m_event(j) < earliest)
			earliest = m_event(j);
	}
	for (i = 0; i < M_CONS; i++)
		consumers += m->cons[i].used;
	eng_stats(m->e, &es);
	CHECK_EQ(es.jobs, m->jobs);
	CHECK_EQ(es.leases, leases);
	CHECK_EQ(es.consumers, consumers);
	CHECK_EQ(n_freed_engine, m->freed);
	next = eng_next_deadline(m->e);
	CHECK(next <= earliest);
	CHECK((next == UINT64_MAX) == (earliest == UINT64_MAX));
	if (failures != before) {
		fprintf(stderr, "model: diverged at step %u (op %s, now %llu)\n", step, m->op,
			(unsigned long long)m->now);
		return false;
	}
	return true;
}

static void
run_model(uint64_t seed, unsigned steps)
{
	static struct model mm;
	struct model *m = &mm;
	struct eng_cfg cfg = { .worker_id = M_WORKER,
			       .max_queues = M_QUEUES,
			       .max_jobs = M_MAXJOBS,
			       .max_consumers = M_CONS,
			       .dedup_entries = 100000,
			       .seed = seed,
			       .free_job = tjob_free_engine };
	static const char *names[M_QUEUES] = { "m0", "m1", "m2" };
	unsigned step, q, k;

	memset(m, 0, sizeof(*m));
	m->rng = seed | 1;
	m->now = 1;
	m->e = eng_create(&cfg);
	if (!m->e)
		exit(2);
	for (q = 0; q < M_QUEUES; q++) {
		m->qc[q] = qcfg(names[q]);
		for (k = 0; k < M_KEYS; k++)
			m->uniq[q][k].holder = -1;
	}
	m->qc[0].max_jobs = 40;
	m->qc[0].lease_timeout_ms = 50;
	m->qc[0].backoff_base_ms = 1;
	m->qc[0].backoff_max_ms = 3;
	m->qc[0].dedup_window_ms = 200;
	m->qc[1].max_jobs = 30;
	m->qc[1].max_bytes = 1200;
	m->qc[1].max_in_flight = 3;
	m->qc[1].max_attempts = 2;
	m->qc[1].lease_timeout_ms = 30;
	m->qc[1].ttl_ms = 400;
	m->qc[2].max_jobs = 50;
	m->qc[2].max_attempts = 4;
	m->qc[2].lease_timeout_ms = 80;
	m->qc[2].backoff_base_ms = 2;
	m->qc[2].backoff_max_ms = 3;
	m->qc[2].dedup_window_ms = 100;
	for (q = 0; q < M_QUEUES; q++)
		CHECK_EQ(eng_queue_add(m->e, &m->qc[q]), q);

	for (step = 0; step < steps; step++) {
		uint32_t r = m_rnd(m, 1000), dt = m_rnd(m, 10);

		m->now += dt < 4 ? 0 : dt < 9 ? 1 + m_rnd(m, 10) : m_rnd(m, 120);
		eng_advance(m->e, m->now);
		m_advance(m, m->now);
		if (r < 280) {
			m->op = "enqueue";
			m_op_enqueue(m);
		} else if (r < 480) {
			m->op = "dispatch";
			m_op_dispatch(m);
		} else if (r < 680) {
			unsigned i, n = 1 + m_rnd(m, 4);

			m->op = "complete";
			for (i = 0; i < n; i++)
				m_op_settle(m, 0);
		} else if (r < 750) {
			m->op = "fail";
			m_op_settle(m, 1);
		} else if (r < 800) {
			m->op = "extend";
			m_op_settle(m, 2);
		} else if (r < 830) {
			m->op = "consumer_add";
			m_op_consumer_add(m);
		} else if (r < 845) {
			m->op = "consumer_remove";
			m_op_consumer_remove(m);
		} else if (r < 925) {
			uint32_t c = m_rnd(m, M_CONS), n = 1 + m_rnd(m, 16);

			m->op = "credit";
			eng_consumer_credit(m->e, c, n);
			if (m->cons[c].used)
				m->cons[c].credit = m->cons[c].credit + n > WIRE_CREDIT_MAX
							    ? WIRE_CREDIT_MAX
							    : m->cons[c].credit + n;
		} else if (r < 940) {
			m->op = "pause";
			m_op_queue(m, 0);
		} else if (r < 947) {
			m->op = "purge";
			m_op_queue(m, 1);
		} else if (r < 955) {
			m->op = "redrive";
			m_op_queue(m, 2);
		} else {
			m->op = "advance";
		}
		if (!m_compare(m, step))
			break;
	}
	/* The walk reached every outcome (else the model proves little). */
	{
		static const enum wire_status enq[] = {
			WIRE_STATUS_OK,         WIRE_STATUS_DUPLICATE,
			WIRE_STATUS_QUEUE_FULL, WIRE_STATUS_UNIQUE_CONFLICT,
			WIRE_STATUS_EXPIRED,    WIRE_STATUS_INVALID,
		};
		struct eng_queue_stats sum = { 0 };

		for (k = 0; k < sizeof(enq) / sizeof(enq[0]); k++)
			CHECK(m->enq_status[enq[k]] > 0);
		CHECK(m->settle_status[WIRE_STATUS_OK] > 0);
		CHECK(m->settle_status[WIRE_STATUS_LEASE_NOT_FOUND] > 0);
		CHECK(m->settle_status[WIRE_STATUS_LEASE_EXPIRED] > 0);
		for (q = 0; q < M_QUEUES; q++) {
			sum.delivered += m->st[q].delivered;
			sum.completed += m->st[q].completed;
			sum.failed += m->st[q].failed;
			sum.retried += m->st[q].retried;
			sum.dead_lettered += m->st[q].dead_lettered;
			sum.expired += m->st[q].expired;
			sum.lease_timeouts += m->st[q].lease_timeouts;
			sum.redriven += m->st[q].redriven;
			sum.purged += m->st[q].purged;
		}
		CHECK(sum.delivered && sum.completed && sum.failed && sum.retried);
		CHECK(sum.dead_lettered && sum.expired && sum.lease_timeouts);
		CHECK(sum.redriven && sum.purged);
		if (getenv("ENG_MODEL_VERBOSE"))
			printf("model %llx: %u steps, enqueue ok %llu dup %llu full %llu uniq %llu "
			       "expired %llu; delivered %llu completed %llu failed %llu timeouts "
			       "%llu "
			       "dead %llu ttl %llu redriven %llu purged %llu; settle expired "
			       "%llu\n",
			       (unsigned long long)seed, step,
			       (unsigned long long)m->enq_status[WIRE_STATUS_OK],
			       (unsigned long long)m->enq_status[WIRE_STATUS_DUPLICATE],
			       (unsigned long long)m->enq_status[WIRE_STATUS_QUEUE_FULL],
			       (unsigned long long)m->enq_status[WIRE_STATUS_UNIQUE_CONFLICT],
			       (unsigned long long)m->enq_status[WIRE_STATUS_EXPIRED],
			       (unsigned long long)sum.delivered, (unsigned long long)sum.completed,
			       (unsigned long long)sum.failed,
			       (unsigned long long)sum.lease_timeouts,
			       (unsigned long long)sum.dead_lettered,
			       (unsigned long long)sum.expired, (unsigned long long)sum.redriven,
			       (unsigned long long)sum.purged,
			       (unsigned long long)m->settle_status[WIRE_STATUS_LEASE_EXPIRED]);
	}
	eng_free(m->e);
	accounting_check();
}

static void
test_model(void)
{
	run_model(1, 100000);
	run_model(0xfeedface, 100000);
	run_model(20240601, 100000);
}

int
main(void)
{
	test_siphash();
	test_job_fill();
	test_wheel();
	test_config_errors();
	test_state_machine();
	test_priority();
	test_weighted();
	test_credit_handback();
	test_consumer_round_robin();
	test_delayed();
	test_lease_expiry();
	test_extend();
	test_lease_ids();
	test_retry_backoff();
	test_redrive();
	test_dedup();
	test_assigned_ids();
	test_unique();
	test_bounds();
	test_max_in_flight();
	test_dispatch_rate();
	test_pause();
	test_purge();
	test_ttl();
	test_consumer_remove();
	test_job_find();
	test_dead_list();
	test_job_retry();
	test_job_delete();
	test_bulk_100k();
	test_model();
	return CHECK_SUMMARY();
}
