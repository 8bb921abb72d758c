/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue engine: creation, queues, enqueue, the job state machine, settling
 * leases, redrive, purge and stats. Consumers and eng_dispatch() live in
 * eng_dispatch.c; the tables in eng_timer.c, eng_lease.c and eng_hash.c.
 *
 * Every job is on exactly one list of its queue, chosen by its state:
 *
 *   SCHEDULED, RETRY_WAIT -> waiting    READY -> ready[priority]
 *   LEASED                -> leased     DEAD  -> dead
 *
 * and on the timer wheel at most once, at job->deadline_ms, the next moment
 * it needs attention: not_before or retry time (capped by the TTL), the TTL
 * while READY, the lease deadline while LEASED, never while DEAD.
 *
 * Every call that takes `now` first runs the timers due by then, so what a
 * call sees never depends on how often the caller ran eng_advance().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eng_pvt.h"

#define ENG_JOB_NONE 0xff /* state of a job not yet on a list */
#define MILLI 1000u       /* milli-tokens per lease */

static inline uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- job lists and states ---- */

static struct eng_list *
job_list(struct eng_queue *q, const struct eng_job *j)
{
	switch (j->state) {
	case ENG_JOB_READY:
		return &q->ready[j->priority];
	case ENG_JOB_LEASED:
		return &q->leased;
	case ENG_JOB_DEAD:
		return &q->dead;
	default:
		return &q->waiting;
	}
}

static void
job_unlink(struct eng *e, struct eng_queue *q, struct eng_job *j)
{
	if (j->state == ENG_JOB_NONE)
		return;
	eng_list_remove(job_list(q, j), j);
	q->n[j->state]--;
	if (j->state == ENG_JOB_READY) {
		if (!q->ready[j->priority].head)
			q->ready_mask &= (uint16_t) ~(1u << j->priority);
		e->n_ready--;
	}
	j->state = ENG_JOB_NONE;
}

static void
job_move(struct eng *e, struct eng_queue *q, struct eng_job *j, uint8_t state)
{
	job_unlink(e, q, j);
	j->state = state;
	eng_list_push_tail(job_list(q, j), j);
	q->n[state]++;
	if (state == ENG_JOB_READY) {
		q->ready_mask |= (uint16_t)(1u << j->priority);
		e->n_ready++;
		e->epoch++; /* something may be leasable now */
	}
}

/* Put j on the wheel at `when` (ENG_NEVER: off it). */
static void
job_timer_set(struct eng *e, struct eng_job *j, uint64_t when)
{
	eng_wheel_del(e->wheel, j);
	j->deadline_ms = when;
	if (when != ENG_NEVER)
		eng_wheel_add(e->wheel, j);
}

static uint64_t
job_ttl_deadline(const struct eng_job *j)
{
	return j->expires_ms ? j->expires_ms : ENG_NEVER;
}

/* The caller made sure j's TTL has not run out. */
static void
job_to_ready(struct eng *e, struct eng_queue *q, struct eng_job *j)
{
	job_move(e, q, j, ENG_JOB_READY);
	job_timer_set(e, j, job_ttl_deadline(j));
}

static void
job_to_waiting(struct eng *e, struct eng_queue *q, struct eng_job *j, uint8_t state, uint64_t at)
{
	uint64_t ttl = job_ttl_deadline(j);

	job_move(e, q, j, state);
	job_timer_set(e, j, at < ttl ? at : ttl);
}

static void
job_to_dead(struct eng *e, struct eng_queue *q, struct eng_job *j, enum wire_status reason)
{
	job_move(e, q, j, ENG_JOB_DEAD);
	job_timer_set(e, j, ENG_NEVER);
	j->dead_reason = (uint8_t)reason;
	q->st.dead_lettered++;
	if (reason == WIRE_STATUS_EXPIRED)
		q->st.expired++;
}

/* The one way out: every held job reaches cfg.free_job through here or eng_free. */
static void
job_free(struct eng *e, struct eng_queue *q, struct eng_job *j, uint64_t now)
{
	job_unlink(e, q, j);
	job_timer_set(e, j, ENG_NEVER);
	eng_unique_release(&e->unique, j, now);
	q->jobs--;
	q->bytes -= j->data_len;
	e->jobs--;
	e->cfg.free_job(j, e->cfg.free_arg);
}

/* Retry n (n >= 1) waits base * 2^(n-1), capped, then +-25% jitter. */
static uint64_t
backoff_ms(struct eng *e, const struct eng_queue *q, unsigned n)
{
	uint64_t base = q->cfg.backoff_base_ms;
	uint64_t cap = q->cfg.backoff_max_ms ? q->cfg.backoff_max_ms : WIRE_DURATION_MS_MAX;
	uint64_t d, j;

	if (!base)
		return 0;
	/* base < 2^32, so a shift below 32 cannot overflow 64 bits. */
	d = n - 1 >= 32 ? cap : base << (n - 1);
	if (d > cap)
		d = cap;
	j = d / 4;
	if (j)
		d = d - j + eng_splitmix64(&e->rng) % (2 * j + 1);
	return d;
}

/*
 * An attempt of j ended at t without success (the lease is already gone):
 * DEAD with `reason` when attempts are used up, DEAD EXPIRED when the TTL
 * ran out meanwhile, otherwise back after delay_ms (0: the queue's backoff).
 */
static void
job_retry_or_dead(struct eng *e, struct eng_queue *q, struct eng_job *j, uint64_t t,
		  uint32_t delay_ms, enum wire_status reason)
{
	unsigned max = j->max_attempts ? j->max_attempts : q->cfg.max_attempts;
	uint64_t d;

	if (j->attempts >= max) {
		job_to_dead(e, q, j, reason);
		return;
	}
	if (j->expires_ms && t >= j->expires_ms) {
		job_to_dead(e, q, j, WIRE_STATUS_EXPIRED);
		return;
	}
	q->st.retried++;
	d = delay_ms ? delay_ms : backoff_ms(e, q, j->attempts);
	if (!d)
		job_to_ready(e, q, j);
	else
		job_to_waiting(e, q, j, ENG_JOB_RETRY_WAIT, sat_add(t, d));
}

/* ---- leases ---- */

/* Detach lease slot s from its consumer and free it. */
static void
lease_end(struct eng *e, uint32_t s, bool expired)
{
	struct eng_lease *l = &e->leases.slot[s];
	struct eng_consumer *con = &e->consumer[l->consumer];

	if (l->cprev != ENG_NIL)
		e->leases.slot[l->cprev].cnext = l->cnext;
	else
		con->lease_head = l->cnext;
	if (l->cnext != ENG_NIL)
		e->leases.slot[l->cnext].cprev = l->cprev;
	con->n_leases--;
	l->job->lease = ENG_NIL;
	eng_lease_release(&e->leases, s, expired);
	e->epoch++; /* in-flight room */
}

void
eng_lease_job(struct eng *e, uint16_t qi, uint32_t c, uint64_t now, struct eng_delivery *d)
{
	struct eng_queue *q = &e->queue[qi];
	struct eng_job *j = q->ready[31 - __builtin_clz(q->ready_mask)].head;
	struct eng_consumer *con = &e->consumer[c];
	uint32_t s = eng_lease_alloc(&e->leases);
	struct eng_lease *l = &e->leases.slot[s];
	uint32_t timeout = j->lease_timeout_ms ? j->lease_timeout_ms : q->cfg.lease_timeout_ms;

	l->job = j;
	l->consumer = c;
	l->timeout_ms = timeout;
	l->cprev = ENG_NIL;
	l->cnext = con->lease_head;
	if (con->lease_head != ENG_NIL)
		e->leases.slot[con->lease_head].cprev = s;
	con->lease_head = s;
	con->n_leases++;

	j->lease = s;
	j->attempts++;
	job_move(e, q, j, ENG_JOB_LEASED);
	/* The lease deadline replaces the TTL timer: a leased job is not interrupted. */
	job_timer_set(e, j, sat_add(now, timeout));
	q->st.delivered++;

	d->consumer = c;
	d->lease_id = eng_lease_id(&e->leases, s);
	d->attempt = j->attempts;
	d->lease_timeout_ms = timeout;
	d->job = j;
}

void
eng_lease_abandon(struct eng *e, uint32_t s, uint64_t now)
{
	struct eng_job *j = e->leases.slot[s].job;
	struct eng_queue *q = &e->queue[j->queue];

	q->st.failed++;
	lease_end(e, s, false);
	job_retry_or_dead(e, q, j, now, 0, WIRE_STATUS_UNAVAILABLE);
}

/* ---- timers ---- */

/* j's deadline t came: it is off the wheel already. */
static void
job_timer_fired(struct eng *e, struct eng_job *j)
{
	struct eng_queue *q = &e->queue[j->queue];
	uint64_t t = j->deadline_ms;

	j->deadline_ms = ENG_NEVER;
	switch (j->state) {
	case ENG_JOB_SCHEDULED:
	case ENG_JOB_RETRY_WAIT:
		if (j->expires_ms && t >= j->expires_ms)
			job_to_dead(e, q, j, WIRE_STATUS_EXPIRED);
		else
			job_to_ready(e, q, j);
		break;
	case ENG_JOB_READY:
		job_to_dead(e, q, j, WIRE_STATUS_EXPIRED);
		break;
	case ENG_JOB_LEASED:
		q->st.lease_timeouts++;
		lease_end(e, j->lease, true);
		job_retry_or_dead(e, q, j, t, 0, WIRE_STATUS_LEASE_EXPIRED);
		break;
	default:
		break;
	}
}

void
eng_run_timers(struct eng *e, uint64_t now)
{
	struct eng_job *j;

	if (now > e->now)
		e->now = now;
	while ((j = eng_wheel_pop(e->wheel, now)) != NULL)
		job_timer_fired(e, j);
}

void
eng_advance(struct eng *e, uint64_t now)
{
	eng_run_timers(e, now);
}

uint64_t
eng_next_deadline(const struct eng *e)
{
	return eng_wheel_next(e->wheel);
}

/* ---- create and free ---- */

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static void
eng_tables_free(struct eng *e)
{
	free(e->wheel);
	free(e->queue);
	free(e->consumer);
	free(e->cfree);
	free(e->qindex);
	eng_leases_fini(&e->leases);
	eng_dedup_fini(&e->dedup);
	eng_unique_fini(&e->unique);
	free(e);
}

static bool
eng_cfg_ok(const struct eng_cfg *cfg)
{
	return cfg && cfg->free_job && cfg->max_queues >= 1 && cfg->max_queues < UINT16_MAX &&
	       cfg->max_jobs >= 1 && cfg->max_jobs < (UINT32_C(1) << 31) &&
	       cfg->max_consumers >= 1 && cfg->max_consumers < (UINT32_C(1) << 31) &&
	       cfg->dedup_entries < (UINT32_C(1) << 31);
}

struct eng *
eng_create(const struct eng_cfg *cfg)
{
	size_t size = (sizeof(struct eng) + ENG_CACHE_LINE - 1) & ~(size_t)(ENG_CACHE_LINE - 1);
	struct eng *e;
	uint32_t i;

	if (!eng_cfg_ok(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	e = aligned_alloc(ENG_CACHE_LINE, size);
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	memset(e, 0, size);
	e->cfg = *cfg;
	e->rng = cfg->seed;
	e->hkey.k0 = eng_splitmix64(&e->rng);
	e->hkey.k1 = eng_splitmix64(&e->rng);
	/* Assigned ids: a per-run prefix naming the worker, and a keyed bijection of a counter. */
	e->id_prefix = UINT64_C(1) << 63 | (eng_splitmix64(&e->rng) >> 17) << 16 | cfg->worker_id;
	e->id_key = eng_splitmix64(&e->rng);
	e->rr_next = ENG_NIL;
	e->idle_epoch = UINT64_MAX;

	e->wheel = malloc(sizeof(*e->wheel));
	e->queue = calloc(cfg->max_queues, sizeof(*e->queue));
	e->consumer = calloc(cfg->max_consumers, sizeof(*e->consumer));
	e->cfree = malloc((size_t)cfg->max_consumers * sizeof(*e->cfree));
	e->qindex_mask = pow2_at_least(2 * cfg->max_queues) - 1;
	e->qindex = malloc(((size_t)e->qindex_mask + 1) * sizeof(*e->qindex));
	if (!e->wheel || !e->queue || !e->consumer || !e->cfree || !e->qindex ||
	    eng_leases_init(&e->leases, cfg->max_jobs, cfg->worker_id) ||
	    eng_dedup_init(&e->dedup, cfg->dedup_entries) ||
	    eng_unique_init(&e->unique, cfg->max_jobs + cfg->dedup_entries)) {
		eng_tables_free(e);
		errno = ENOMEM;
		return NULL;
	}
	eng_wheel_init(e->wheel);
	for (i = 0; i <= e->qindex_mask; i++)
		e->qindex[i] = UINT16_MAX;
	/* Hand out low indices first. */
	for (i = 0; i < cfg->max_consumers; i++)
		e->cfree[i] = cfg->max_consumers - 1 - i;
	e->n_cfree = cfg->max_consumers;
	return e;
}

void
eng_free(struct eng *e)
{
	uint32_t qi;
	unsigned p;

	if (!e)
		return;
	for (qi = 0; qi < e->n_queues; qi++) {
		struct eng_queue *q = &e->queue[qi];
		struct eng_list *lists[ENG_PRIORITIES + 3];
		unsigned k, n = 0;

		for (p = 0; p < ENG_PRIORITIES; p++)
			lists[n++] = &q->ready[p];
		lists[n++] = &q->waiting;
		lists[n++] = &q->leased;
		lists[n++] = &q->dead;
		for (k = 0; k < n; k++) {
			struct eng_job *j = lists[k]->head;

			while (j) {
				struct eng_job *next = j->next;

				e->cfg.free_job(j, e->cfg.free_arg);
				j = next;
			}
		}
	}
	eng_tables_free(e);
}

/* ---- queues ---- */

static uint32_t
queue_name_hash(const struct eng *e, const char *name, size_t len)
{
	return (uint32_t)eng_siphash(&e->hkey, UINT64_C(0x20000), name, len);
}

int
eng_queue_find(const struct eng *e, const char *name, size_t len)
{
	uint32_t i;

	if (!name || !len || len > WIRE_QUEUE_NAME_MAX)
		return -1;
	/* Linear probing; the table is at most half full, so an empty slot ends it. */
	for (i = queue_name_hash(e, name, len) & e->qindex_mask;; i = (i + 1) & e->qindex_mask) {
		uint16_t qi = e->qindex[i];

		if (qi == UINT16_MAX)
			return -1;
		if (e->queue[qi].name_len == len && memcmp(e->queue[qi].name, name, len) == 0)
			return qi;
	}
}

static bool
queue_cfg_ok(const struct eng_queue_cfg *qc)
{
	return qc && qc->max_jobs > 0 && qc->max_bytes > 0 && qc->max_attempts >= 1 &&
	       qc->max_attempts <= WIRE_ATTEMPTS_MAX && qc->lease_timeout_ms > 0 &&
	       qc->lease_timeout_ms <= WIRE_DURATION_MS_MAX && qc->ttl_ms <= WIRE_DURATION_MS_MAX;
}

static void
bucket_config(struct eng_bucket *b, uint32_t rate, uint32_t burst)
{
	uint64_t cap = (uint64_t)(burst ? burst : rate) * MILLI;

	if (rate && !b->rate)
		b->tokens = cap; /* a new limit starts with a full bucket */
	else if (b->tokens > cap)
		b->tokens = cap;
	b->rate = rate;
	b->cap = cap;
}

int
eng_queue_add(struct eng *e, const struct eng_queue_cfg *qc)
{
	struct eng_queue *q;
	size_t len;
	uint32_t i;

	if (!queue_cfg_ok(qc) || !qc->name)
		return -EINVAL;
	len = strnlen(qc->name, WIRE_QUEUE_NAME_MAX + 1);
	if (wire_check_name(qc->name, len, WIRE_QUEUE_NAME_MAX))
		return -EINVAL;
	if (eng_queue_find(e, qc->name, len) >= 0)
		return -EEXIST;
	if (e->n_queues >= e->cfg.max_queues)
		return -ENOSPC;
	q = &e->queue[e->n_queues];
	memset(q, 0, sizeof(*q));
	memcpy(q->name, qc->name, len);
	q->name_len = (uint8_t)len;
	q->cfg = *qc;
	q->cfg.name = q->name;
	bucket_config(&q->bucket, qc->dispatch_rate, qc->dispatch_burst);
	for (i = queue_name_hash(e, qc->name, len) & e->qindex_mask; e->qindex[i] != UINT16_MAX;
	     i = (i + 1) & e->qindex_mask)
		;
	e->qindex[i] = (uint16_t)e->n_queues;
	return (int)e->n_queues++;
}

int
eng_queue_update(struct eng *e, uint16_t qi, const struct eng_queue_cfg *qc)
{
	struct eng_queue *q;

	if (qi >= e->n_queues || !queue_cfg_ok(qc))
		return -EINVAL;
	q = &e->queue[qi];
	if (qc->name && (strnlen(qc->name, WIRE_QUEUE_NAME_MAX + 1) != q->name_len ||
			 memcmp(qc->name, q->name, q->name_len) != 0))
		return -EINVAL;
	q->cfg = *qc;
	q->cfg.name = q->name;
	bucket_config(&q->bucket, qc->dispatch_rate, qc->dispatch_burst);
	e->epoch++; /* a limit may have been raised */
	return 0;
}

void
eng_queue_pause(struct eng *e, uint16_t qi, bool paused)
{
	if (qi >= e->n_queues)
		return;
	e->queue[qi].paused = paused;
	if (!paused)
		e->epoch++;
}

static uint32_t
purge_list(struct eng *e, struct eng_queue *q, struct eng_list *l)
{
	uint32_t n = 0;

	while (l->head) {
		job_free(e, q, l->head, e->now);
		n++;
	}
	return n;
}

uint32_t
eng_queue_purge(struct eng *e, uint16_t qi)
{
	struct eng_queue *q;
	uint32_t n;
	unsigned p;

	if (qi >= e->n_queues)
		return 0;
	q = &e->queue[qi];
	n = purge_list(e, q, &q->waiting);
	for (p = 0; p < ENG_PRIORITIES; p++)
		n += purge_list(e, q, &q->ready[p]);
	q->st.purged += n;
	return n;
}

void
eng_queue_stats(const struct eng *e, uint16_t qi, struct eng_queue_stats *out)
{
	const struct eng_queue *q;

	memset(out, 0, sizeof(*out));
	if (qi >= e->n_queues)
		return;
	q = &e->queue[qi];
	*out = q->st;
	out->scheduled = q->n[ENG_JOB_SCHEDULED];
	out->ready = q->n[ENG_JOB_READY];
	out->leased = q->n[ENG_JOB_LEASED];
	out->retry_wait = q->n[ENG_JOB_RETRY_WAIT];
	out->dead = q->n[ENG_JOB_DEAD];
	out->bytes = q->bytes;
	out->paused = q->paused;
}

void
eng_stats(const struct eng *e, struct eng_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->jobs = e->jobs;
	out->leases = e->leases.cap - e->leases.n_free;
	out->consumers = e->n_consumers;
	out->dedup_records = e->dedup.used;
	out->unique_records = e->unique.used;
	out->dedup_evictions = e->dedup.evictions;
	out->unique_evictions = e->unique.evictions;
	out->ids_assigned = e->id_counter;
}

/* ---- enqueue ---- */

static struct wire_jobid
assign_id(struct eng *e)
{
	struct wire_jobid id;

	/* Unique within a run: the counter never repeats and eng_mix64 is a bijection. */
	id.hi = e->id_prefix;
	id.lo = eng_mix64(e->id_counter++ + e->id_key);
	return id;
}

static bool
queue_has_room(const struct eng *e, const struct eng_queue *q, const struct eng_job *j)
{
	/* An update may have lowered the bounds below what is held. */
	return e->jobs < e->cfg.max_jobs && q->jobs < q->cfg.max_jobs &&
	       q->bytes < q->cfg.max_bytes && j->data_len <= q->cfg.max_bytes - q->bytes;
}

enum wire_status
eng_enqueue(struct eng *e, uint16_t qi, struct eng_job *j, uint64_t now, struct wire_jobid *id)
{
	struct eng_queue *q;
	bool has_id;
	uint32_t ttl;
	uint64_t expires;

	if (qi >= e->n_queues || !j || j->priority > WIRE_PRIORITY_MAX)
		return WIRE_STATUS_INVALID;
	eng_run_timers(e, now);
	q = &e->queue[qi];
	has_id = j->id.hi || j->id.lo;
	if (has_id && q->cfg.dedup_window_ms &&
	    eng_dedup_seen(&e->dedup, &e->hkey, qi, j->id, now)) {
		*id = j->id;
		q->st.duplicates++;
		return WIRE_STATUS_DUPLICATE;
	}
	ttl = j->ttl_ms ? j->ttl_ms : q->cfg.ttl_ms;
	expires = ttl ? sat_add(now, ttl) : 0;
	if (expires && j->not_before_ms >= expires)
		return WIRE_STATUS_EXPIRED;
	if (j->ukey_len && eng_unique_held(&e->unique, &e->hkey, qi, j, now))
		return WIRE_STATUS_UNIQUE_CONFLICT;
	if (!queue_has_room(e, q, j)) {
		q->st.refused_full++;
		return WIRE_STATUS_QUEUE_FULL;
	}

	if (!has_id)
		j->id = assign_id(e);
	j->enqueued_ms = now;
	j->attempts = 0;
	j->state = ENG_JOB_NONE;
	j->dead_reason = 0;
	j->queue = qi;
	j->lease = ENG_NIL;
	j->deadline_ms = ENG_NEVER;
	j->expires_ms = expires;
	j->prev = j->next = j->tprev = j->tnext = NULL;
	j->ukey_rec = ENG_NIL;
	j->wheel_slot = ENG_WHEEL_NONE;
	if (q->cfg.dedup_window_ms)
		eng_dedup_insert(&e->dedup, &e->hkey, qi, j->id,
				 sat_add(now, q->cfg.dedup_window_ms), now);
	if (j->ukey_len)
		eng_unique_acquire(&e->unique, &e->hkey, qi, j, now);
	q->jobs++;
	q->bytes += j->data_len;
	e->jobs++;
	q->st.enqueued++;
	if (j->not_before_ms > now)
		job_to_waiting(e, q, j, ENG_JOB_SCHEDULED, j->not_before_ms);
	else
		job_to_ready(e, q, j);
	*id = j->id;
	return WIRE_STATUS_OK;
}

/* ---- settling ---- */

/*
 * The job of lease_id if consumer c holds it, else NULL with *st saying
 * why. Timers have run up to now, so a lease past its deadline is gone.
 */
static struct eng_job *
lease_lookup(struct eng *e, uint32_t c, uint64_t lease_id, enum wire_status *st)
{
	const struct eng_lease *l;
	uint32_t s, gen;

	*st = WIRE_STATUS_LEASE_NOT_FOUND;
	if (c >= e->cfg.max_consumers || !e->consumer[c].used)
		return NULL;
	s = eng_lease_decode(&e->leases, lease_id, &gen);
	if (s == ENG_NIL)
		return NULL;
	l = &e->leases.slot[s];
	if (l->job && l->gen == gen)
		return l->consumer == c ? l->job : NULL;
	if (l->expired_gen == gen && l->expired_consumer == c)
		*st = WIRE_STATUS_LEASE_EXPIRED;
	return NULL;
}

enum wire_status
eng_complete(struct eng *e, uint32_t c, uint64_t lease_id, uint64_t now)
{
	enum wire_status st;
	struct eng_job *j;
	struct eng_queue *q;

	eng_run_timers(e, now);
	j = lease_lookup(e, c, lease_id, &st);
	if (!j)
		return st;
	q = &e->queue[j->queue];
	lease_end(e, j->lease, false);
	q->st.completed++;
	job_free(e, q, j, now);
	return WIRE_STATUS_OK;
}

enum wire_status
eng_fail(struct eng *e, uint32_t c, uint64_t lease_id, uint32_t retry_delay_ms, bool dead,
	 uint64_t now)
{
	enum wire_status st;
	struct eng_job *j;
	struct eng_queue *q;

	eng_run_timers(e, now);
	j = lease_lookup(e, c, lease_id, &st);
	if (!j)
		return st;
	q = &e->queue[j->queue];
	q->st.failed++;
	lease_end(e, j->lease, false);
	if (dead)
		job_to_dead(e, q, j, WIRE_STATUS_INVALID);
	else
		job_retry_or_dead(e, q, j, now, retry_delay_ms, WIRE_STATUS_INVALID);
	return WIRE_STATUS_OK;
}

enum wire_status
eng_extend(struct eng *e, uint32_t c, uint64_t lease_id, uint32_t extend_ms, uint64_t now)
{
	enum wire_status st;
	struct eng_job *j;

	eng_run_timers(e, now);
	j = lease_lookup(e, c, lease_id, &st);
	if (!j)
		return st;
	if (!extend_ms)
		extend_ms = e->leases.slot[j->lease].timeout_ms;
	job_timer_set(e, j, sat_add(now, extend_ms));
	return WIRE_STATUS_OK;
}

static struct eng_job *
find_in(struct eng_list *l, struct wire_jobid id)
{
	struct eng_job *j;

	for (j = l->head; j; j = j->next)
		if (j->id.hi == id.hi && j->id.lo == id.lo)
			return j;
	return NULL;
}

static struct eng_job *
job_find(struct eng *e, uint16_t qi, struct wire_jobid id, uint64_t now)
{
	struct eng_queue *q;
	struct eng_job *j;
	unsigned p;

	if (qi >= e->n_queues)
		return NULL;
	eng_run_timers(e, now); /* states as of now: a due job is not shown waiting */
	q = &e->queue[qi];
	if ((j = find_in(&q->dead, id)) || (j = find_in(&q->waiting, id)) ||
	    (j = find_in(&q->leased, id)))
		return j;
	for (p = 0; p < ENG_PRIORITIES; p++)
		if ((j = find_in(&q->ready[p], id)))
			return j;
	return NULL;
}

const struct eng_job *
eng_job_find(struct eng *e, uint16_t qi, struct wire_jobid id, uint64_t now)
{
	return job_find(e, qi, id, now);
}

uint32_t
eng_dead_list(const struct eng *e, uint16_t qi, uint32_t skip, const struct eng_job **out,
	      uint32_t max)
{
	const struct eng_job *j;
	uint32_t n = 0;

	if (qi >= e->n_queues)
		return 0;
	for (j = e->queue[qi].dead.head; j && n < max; j = j->next) {
		if (skip) {
			skip--;
			continue;
		}
		out[n++] = j;
	}
	return n;
}

/* j (DEAD) back to READY: attempts start again, the TTL restarts from now. */
static void
job_redrive(struct eng *e, struct eng_queue *q, struct eng_job *j, uint64_t now)
{
	uint32_t ttl = j->ttl_ms ? j->ttl_ms : q->cfg.ttl_ms;

	j->attempts = 0;
	j->dead_reason = 0;
	j->expires_ms = ttl ? sat_add(now, ttl) : 0;
	job_to_ready(e, q, j);
	q->st.redriven++;
}

int
eng_job_retry(struct eng *e, uint16_t qi, struct wire_jobid id, uint64_t now)
{
	struct eng_job *j = job_find(e, qi, id, now);

	if (!j)
		return -ENOENT;
	if (j->state != ENG_JOB_DEAD)
		return -EBUSY;
	job_redrive(e, &e->queue[qi], j, now);
	return 0;
}

int
eng_job_delete(struct eng *e, uint16_t qi, struct wire_jobid id, uint64_t now)
{
	struct eng_job *j = job_find(e, qi, id, now);

	if (!j)
		return -ENOENT;
	if (j->state == ENG_JOB_LEASED)
		return -EBUSY;
	job_free(e, &e->queue[qi], j, now);
	e->queue[qi].st.purged++;
	return 0;
}

uint32_t
eng_redrive(struct eng *e, uint16_t qi, uint32_t max, uint64_t now)
{
	struct eng_queue *q;
	uint32_t n = 0;

	if (qi >= e->n_queues)
		return 0;
	eng_run_timers(e, now);
	q = &e->queue[qi];
	while (n < max && q->dead.head) {
		job_redrive(e, q, q->dead.head, now);
		n++;
	}
	return n;
}
