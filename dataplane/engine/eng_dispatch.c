/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Consumers and dispatch: who gets the next lease.
 *
 * Consumers with credit sit on a ring ("hungry"); eng_dispatch() walks it
 * from where it stopped last time, one delivery per consumer per turn, so
 * consumers share a queue round robin. A consumer picks among the queues it
 * subscribes to that can lease right now by smooth weighted round robin
 * (each eligible queue gains its weight, the largest wins and pays the sum),
 * which spreads a 3:1 weighting as A A B A A A B A ... rather than in runs.
 * A queue leases its highest-priority READY job, oldest first.
 *
 * When a pass ends with nothing leasable, the engine remembers it: until
 * an event that can make something leasable (epoch) or the earliest token
 * refill, eng_dispatch() returns at once.
 */
#include <errno.h>
#include <string.h>

#include "eng_pvt.h"

#define MILLI 1000u /* milli-tokens per lease */

/* ---- token bucket ---- */

static void
bucket_refill(struct eng_bucket *b, uint64_t now)
{
	uint64_t dt, room;

	if (now <= b->last_ms)
		return;
	dt = now - b->last_ms;
	b->last_ms = now;
	if (b->tokens >= b->cap)
		return;
	room = b->cap - b->tokens;
	/* dt * rate cannot overflow below this bound */
	if (dt > room / b->rate)
		b->tokens = b->cap;
	else
		b->tokens += dt * b->rate;
}

/* When the bucket holds a whole token again. */
static uint64_t
bucket_next(const struct eng_bucket *b)
{
	uint64_t need = MILLI - b->tokens;

	return b->last_ms + (need + b->rate - 1) / b->rate;
}

/* ---- hungry ring ---- */

static void
hungry_add(struct eng *e, uint32_t c)
{
	struct eng_consumer *con = &e->consumer[c];

	con->hungry = true;
	e->n_hungry++;
	if (e->rr_next == ENG_NIL) {
		con->hprev = con->hnext = c;
		e->rr_next = c;
		return;
	}
	/* Last in the current rotation: just before the one served next. */
	con->hnext = e->rr_next;
	con->hprev = e->consumer[e->rr_next].hprev;
	e->consumer[con->hprev].hnext = c;
	e->consumer[e->rr_next].hprev = c;
}

static void
hungry_del(struct eng *e, uint32_t c)
{
	struct eng_consumer *con = &e->consumer[c];

	con->hungry = false;
	e->n_hungry--;
	if (con->hnext == c) {
		e->rr_next = ENG_NIL;
		return;
	}
	e->consumer[con->hprev].hnext = con->hnext;
	e->consumer[con->hnext].hprev = con->hprev;
	if (e->rr_next == c)
		e->rr_next = con->hnext;
}

/* ---- consumers ---- */

static bool
consumer_ok(const struct eng *e, uint32_t c)
{
	return c < e->cfg.max_consumers && e->consumer[c].used;
}

int
eng_consumer_add(struct eng *e, uint64_t cookie, const struct eng_sub *subs, unsigned n,
		 uint32_t credit)
{
	struct eng_consumer *con;
	unsigned i, k;
	uint32_t c;

	if (!subs || n == 0 || n > WIRE_SUBSCRIBE_QUEUES_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (subs[i].queue >= e->n_queues || subs[i].weight == 0 ||
		    subs[i].weight > WIRE_WEIGHT_MAX)
			return -EINVAL;
		for (k = 0; k < i; k++)
			if (subs[k].queue == subs[i].queue)
				return -EINVAL;
	}
	if (!e->n_cfree)
		return -ENOSPC;
	c = e->cfree[--e->n_cfree];
	con = &e->consumer[c];
	memset(con, 0, sizeof(*con));
	con->used = true;
	con->cookie = cookie;
	con->lease_head = ENG_NIL;
	con->hprev = con->hnext = ENG_NIL;
	con->n_subs = (uint8_t)n;
	for (i = 0; i < n; i++) {
		con->sub[i].queue = subs[i].queue;
		con->sub[i].weight = subs[i].weight;
	}
	con->credit = credit > WIRE_CREDIT_MAX ? WIRE_CREDIT_MAX : credit;
	e->n_consumers++;
	if (con->credit)
		hungry_add(e, c);
	e->epoch++;
	return (int)c;
}

uint64_t
eng_consumer_cookie(const struct eng *e, uint32_t c)
{
	return consumer_ok(e, c) ? e->consumer[c].cookie : 0;
}

void
eng_consumer_credit(struct eng *e, uint32_t c, uint32_t n)
{
	struct eng_consumer *con;
	uint64_t credit;

	if (!consumer_ok(e, c) || !n)
		return;
	con = &e->consumer[c];
	credit = (uint64_t)con->credit + n;
	con->credit = credit > WIRE_CREDIT_MAX ? WIRE_CREDIT_MAX : (uint32_t)credit;
	if (!con->hungry)
		hungry_add(e, c);
	e->epoch++;
}

void
eng_consumer_remove(struct eng *e, uint32_t c, uint64_t now)
{
	struct eng_consumer *con;

	if (!consumer_ok(e, c))
		return;
	/* Leases that ran out before now time out rather than fail. */
	eng_run_timers(e, now);
	con = &e->consumer[c];
	while (con->lease_head != ENG_NIL)
		eng_lease_abandon(e, con->lease_head, now);
	if (con->hungry)
		hungry_del(e, c);
	con->used = false;
	e->cfree[e->n_cfree++] = c;
	e->n_consumers--;
}

uint32_t
eng_consumer_credit_held(const struct eng *e, uint32_t c)
{
	return consumer_ok(e, c) ? e->consumer[c].credit : 0;
}

uint32_t
eng_consumer_credit_take(struct eng *e, uint32_t c)
{
	struct eng_consumer *con;
	uint32_t n;

	if (!consumer_ok(e, c))
		return 0;
	con = &e->consumer[c];
	n = con->credit;
	con->credit = 0;
	/* Less credit never makes anything leasable: the epoch stays. */
	if (con->hungry)
		hungry_del(e, c);
	return n;
}

/* ---- dispatch ---- */

/* queue_can_lease() without side effects: the bucket is refilled only in thought. */
static bool
queue_could_lease(const struct eng_queue *q, uint64_t now)
{
	const struct eng_bucket *b = &q->bucket;

	if (!q->ready_mask || q->paused)
		return false;
	if (q->cfg.max_in_flight && q->n[ENG_JOB_LEASED] >= q->cfg.max_in_flight)
		return false;
	if (b->rate && b->tokens < MILLI) {
		uint64_t need = MILLI - b->tokens;
		uint64_t dt = now > b->last_ms ? now - b->last_ms : 0;

		/* dt * rate >= need, without the product */
		if (dt < (need + b->rate - 1) / b->rate)
			return false;
	}
	return true;
}

uint32_t
eng_consumer_ready_weight(const struct eng *e, uint32_t c, uint64_t now)
{
	const struct eng_consumer *con;
	uint32_t w = 0;
	unsigned i;

	if (!consumer_ok(e, c))
		return 0;
	con = &e->consumer[c];
	for (i = 0; i < con->n_subs; i++)
		if (queue_could_lease(&e->queue[con->sub[i].queue], now))
			w += con->sub[i].weight;
	return w;
}

/* Can q lease one job at now? Notes the next refill of a bucket that says no. */
static bool
queue_can_lease(struct eng *e, struct eng_queue *q, uint64_t now)
{
	if (!q->ready_mask || q->paused)
		return false;
	if (q->cfg.max_in_flight && q->n[ENG_JOB_LEASED] >= q->cfg.max_in_flight)
		return false;
	if (q->bucket.rate) {
		bucket_refill(&q->bucket, now);
		if (q->bucket.tokens < MILLI) {
			uint64_t t = bucket_next(&q->bucket);

			if (t < e->scan_until)
				e->scan_until = t;
			return false;
		}
	}
	return true;
}

/* One delivery to consumer c, if any of its queues can lease. */
static bool
consumer_take(struct eng *e, uint32_t c, uint64_t now, struct eng_delivery *d)
{
	struct eng_consumer *con = &e->consumer[c];
	struct eng_sub_state *best = NULL;
	int32_t total = 0;
	unsigned i;

	for (i = 0; i < con->n_subs; i++) {
		struct eng_sub_state *s = &con->sub[i];

		if (!queue_can_lease(e, &e->queue[s->queue], now))
			continue;
		s->current += s->weight;
		total += s->weight;
		if (!best || s->current > best->current)
			best = s;
	}
	if (!best)
		return false;
	best->current -= total;
	if (e->queue[best->queue].bucket.rate)
		e->queue[best->queue].bucket.tokens -= MILLI;
	eng_lease_job(e, best->queue, c, now, d);
	con->credit--;
	return true;
}

uint32_t
eng_dispatch(struct eng *e, uint64_t now, struct eng_delivery *out, uint32_t max)
{
	uint32_t n = 0, misses = 0, c;

	eng_run_timers(e, now);
	if (!max || !e->n_hungry || !e->n_ready)
		return 0;
	if (e->idle_epoch == e->epoch && now < e->idle_until)
		return 0;
	e->scan_until = ENG_NEVER;
	c = e->rr_next;
	while (n < max && e->n_hungry && e->n_ready) {
		struct eng_consumer *con = &e->consumer[c];
		uint32_t next = con->hnext;

		if (consumer_take(e, c, now, &out[n])) {
			n++;
			misses = 0;
			if (!con->credit)
				hungry_del(e, c);
		} else if (++misses >= e->n_hungry) {
			/* every hungry consumer tried since the last delivery */
			break;
		}
		c = next;
	}
	if (e->n_hungry)
		e->rr_next = e->consumer[c].hungry ? c : e->rr_next;
	if (n < max) {
		/* Nothing more to lease until an event or a refill. */
		e->idle_epoch = e->epoch;
		e->idle_until = e->scan_until;
	}
	return n;
}
