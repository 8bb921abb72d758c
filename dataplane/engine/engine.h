/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue engine: the state of every queue one worker lcore owns.
 *
 * A protocol engine in the BearSSL sense: no I/O, no clock, no locks, no
 * allocation after eng_create(). Time comes in as `now` (ms, monotonic);
 * jobs come in as caller-allocated struct eng_job objects; deliveries go out
 * as struct eng_delivery records. Exactly one thread calls an engine.
 * Every call that takes `now` first runs the timers due by then, so results
 * never depend on how often the caller ran eng_advance().
 *
 * Job states (DESIGN.md "Queue engine"):
 *
 *              not_before > now          lease         complete
 *   enqueue ─► SCHEDULED ──► READY ───────────► LEASED ─────────► (freed)
 *                 ▲            ▲  ▲                │ fail / lease timeout /
 *                 │            │  └── RETRY_WAIT ◄─┤ consumer gone
 *                 │            │     (backoff)     │ attempts exhausted or dead=true
 *                 │            └──── redrive ◄── DEAD ◄─┘   (also: TTL expired)
 *
 * Every job counts against its queue's bounds (jobs and bytes) in every
 * state, DEAD included, until it is freed: a full dead-letter set is
 * backpressure, never silent loss.
 */
#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define ENG_PRIORITIES (WIRE_PRIORITY_MAX + 1)

enum eng_job_state {
	ENG_JOB_SCHEDULED,
	ENG_JOB_READY,
	ENG_JOB_LEASED,
	ENG_JOB_RETRY_WAIT,
	ENG_JOB_DEAD,
};

/*
 * A job. Allocated by the caller with eng_job_size() bytes (from a mempool
 * on the dataplane, malloc in tests) and filled by eng_job_fill(). Owned by
 * the engine from an accepted eng_enqueue() until the engine passes it to
 * cfg.free_job. Fields below `engine private` are the engine's.
 *
 * data[] holds, back to back: queue name, type name, content type, unique
 * key, headers (each: u8 key length, u16 value length, key, value), payload.
 *
 * dead_reason of a DEAD job: EXPIRED (TTL ran out while not leased),
 * LEASE_EXPIRED (the last attempt timed out), UNAVAILABLE (the last
 * attempt's consumer went away), INVALID (the consumer failed it: dead=true
 * or its last attempt).
 */
struct eng_job {
	struct wire_jobid id;
	uint64_t not_before_ms; /* absolute, engine clock; 0 = ready now */
	uint64_t enqueued_ms;   /* set by eng_enqueue */
	uint32_t ttl_ms;        /* 0 = queue default */
	uint32_t lease_timeout_ms;
	uint32_t unique_ttl_ms;
	uint16_t max_attempts; /* 0 = queue default */
	uint16_t attempts;     /* leases so far */
	uint8_t priority;      /* 0..15, higher first */
	uint8_t n_headers;
	uint8_t queue_len;
	uint8_t type_len;
	uint8_t ctype_len;
	uint8_t ukey_len;     /* 0 = no unique key */
	uint16_t headers_len; /* bytes of the header block */
	uint32_t payload_len;
	uint32_t data_len;

	/* engine private */
	uint8_t state;
	uint8_t dead_reason; /* enum wire_status: why it is DEAD (see above) */
	uint16_t queue;
	uint32_t lease;                /* lease table slot while LEASED */
	uint64_t deadline_ms;          /* timer: next time this job needs attention */
	uint64_t expires_ms;           /* TTL deadline, 0 = none */
	struct eng_job *prev, *next;   /* queue list (ready by priority, dead, ...) */
	struct eng_job *tprev, *tnext; /* timer wheel slot */
	uint32_t ukey_rec;             /* unique-key record while the job holds one */
	uint16_t wheel_slot;           /* timer wheel level * 64 + slot, 0xffff = none */
	uint16_t rsvd;
	uint8_t data[];
};

/* Bytes to allocate for the job `j` of a verified frame. */
size_t eng_job_size(const struct wire_job *j);

/*
 * Copy the verified wire job into job (eng_job_size(j) bytes). Absolute
 * not_before is converted with wall_to_engine_ms = engine clock - wall clock
 * (ms). Engine-private fields are zeroed.
 */
void eng_job_fill(struct eng_job *job, const struct wire_job *j, int64_t wall_to_engine_ms);

/* Views into job->data. Content type, unique key and payload: p NULL when empty. */
struct wire_str eng_job_queue(const struct eng_job *job);
struct wire_str eng_job_type(const struct eng_job *job);
struct wire_str eng_job_content_type(const struct eng_job *job);
struct wire_str eng_job_unique_key(const struct eng_job *job);
struct wire_bytes eng_job_payload(const struct eng_job *job);
/* Header i (< n_headers): key and value. */
void eng_job_header(const struct eng_job *job, unsigned i, struct wire_str *key,
		    struct wire_str *value);

struct eng_queue_cfg {
	const char *name;          /* copied; a valid queue name (wire_check_name) */
	uint32_t max_jobs;         /* > 0: jobs in any state */
	uint64_t max_bytes;        /* > 0: sum of job data bytes */
	uint32_t max_in_flight;    /* leased at once; 0 = no limit */
	uint32_t dispatch_rate;    /* leases per second; 0 = no limit */
	uint32_t dispatch_burst;   /* token bucket depth; 0 = rate (1 s) */
	uint16_t max_attempts;     /* default for jobs that say 0; >= 1 */
	uint32_t lease_timeout_ms; /* default for jobs that say 0; > 0 */
	uint32_t ttl_ms;           /* default for jobs that say 0; 0 = none */
	uint32_t backoff_base_ms;  /* retry n waits base * 2^(n-1), +-25% jitter */
	uint32_t backoff_max_ms;   /* cap of that; 0 = WIRE_DURATION_MS_MAX */
	uint32_t dedup_window_ms;  /* job ids remembered this long after enqueue */
};

struct eng_cfg {
	uint16_t worker_id; /* in the top bits of every lease id */
	uint32_t max_queues;
	uint32_t max_jobs; /* jobs held at once across queues (sizes the tables) */
	uint32_t max_consumers;
	/* job ids remembered at once (oldest evicted first); unique keys: this + max_jobs */
	uint32_t dedup_entries;
	uint64_t seed; /* jitter and assigned job ids */
	void (*free_job)(struct eng_job *job, void *arg);
	void *free_arg;
};

/* One subscription of a consumer. */
struct eng_sub {
	uint16_t queue;  /* eng_queue_find() index */
	uint16_t weight; /* 1..WIRE_WEIGHT_MAX */
};

/* A lease handed to a consumer; the job stays valid until the next engine call. */
struct eng_delivery {
	uint32_t consumer;
	uint64_t lease_id;
	uint16_t attempt;          /* 1 on the first delivery */
	uint32_t lease_timeout_ms; /* in force for this attempt */
	const struct eng_job *job;
};

struct eng_queue_stats {
	uint32_t scheduled, ready, leased, retry_wait, dead;
	uint64_t bytes;
	bool paused;
	/*
	 * Counters since creation. delivered = completed + failed +
	 * lease_timeouts + leased. failed: attempts ended by eng_fail or by
	 * consumer removal. retried: ended attempts sent back (RETRY_WAIT or
	 * READY). dead_lettered: every move into DEAD; expired: those by TTL.
	 */
	uint64_t enqueued, duplicates, refused_full, delivered, completed, failed, retried,
		dead_lettered, expired, lease_timeouts, redriven, purged;
};

/*
 * Engine-wide figures. Evictions: dedup records dropped inside their window,
 * unique keys dropped before their unique_ttl (a job's own hold never is),
 * because the table was full.
 */
struct eng_stats {
	uint32_t jobs, leases, consumers;
	uint32_t dedup_records, unique_records; /* in use */
	uint64_t dedup_evictions, unique_evictions;
	uint64_t ids_assigned;
};

/* NULL with errno set (EINVAL, ENOMEM). */
struct eng *eng_create(const struct eng_cfg *cfg);
/* Frees every job still held (through cfg.free_job) and the engine. */
void eng_free(struct eng *e);

/* Add a queue: its index, or -EINVAL (bad config), -EEXIST, -ENOSPC. */
int eng_queue_add(struct eng *e, const struct eng_queue_cfg *qc);
/* Index of a queue by name, or -1. */
int eng_queue_find(const struct eng *e, const char *name, size_t len);
/*
 * Replace bounds and policy (jobs above new bounds stay; new enqueues see them).
 * qc->name is NULL or the queue's own name. 0, or -EINVAL.
 */
int eng_queue_update(struct eng *e, uint16_t q, const struct eng_queue_cfg *qc);
/* Paused queues accept jobs but lease none. */
void eng_queue_pause(struct eng *e, uint16_t q, bool paused);
/* Free every SCHEDULED, READY and RETRY_WAIT job of q; returns how many. */
uint32_t eng_queue_purge(struct eng *e, uint16_t q);
void eng_queue_stats(const struct eng *e, uint16_t q, struct eng_queue_stats *out);
void eng_stats(const struct eng *e, struct eng_stats *out);

/*
 * Offer a job to queue q at time now. On WIRE_STATUS_OK the engine owns it
 * and *id is its id (assigned when the job had none). Otherwise the caller
 * still owns it: WIRE_STATUS_DUPLICATE (*id = the original's id, the job id
 * was seen within the dedup window), UNIQUE_CONFLICT (a live job holds the
 * unique key), QUEUE_FULL (jobs or bytes bound), EXPIRED (TTL already
 * passed: not_before is at or after now + TTL, so it could never be leased),
 * INVALID (bad q or priority). Checked in that order after INVALID:
 * duplicate, expired, unique, full.
 */
enum wire_status eng_enqueue(struct eng *e, uint16_t q, struct eng_job *job, uint64_t now,
			     struct wire_jobid *id);

/*
 * A consumer: its index, or -ENOSPC / -EINVAL (no subs, more than
 * WIRE_SUBSCRIBE_QUEUES_MAX, bad or repeated queue, weight 0 or above
 * WIRE_WEIGHT_MAX). Initial credit saturates at WIRE_CREDIT_MAX.
 */
int eng_consumer_add(struct eng *e, uint64_t cookie, const struct eng_sub *subs, unsigned n,
		     uint32_t credit);
uint64_t eng_consumer_cookie(const struct eng *e, uint32_t c);
/* Add credit (saturating at WIRE_CREDIT_MAX). */
void eng_consumer_credit(struct eng *e, uint32_t c, uint32_t n);
/* The consumer is gone: its leases fail now (attempt counted, backoff applies). */
void eng_consumer_remove(struct eng *e, uint32_t c, uint64_t now);
/* Credit consumer c holds now (0 for an unknown consumer). */
uint32_t eng_consumer_credit_held(const struct eng *e, uint32_t c);
/*
 * Take back every credit consumer c holds (a worker returning credit to the
 * lcore that hands it out); returns how many.
 */
uint32_t eng_consumer_credit_take(struct eng *e, uint32_t c);
/*
 * Would consumer c be leased a job at now if it had credit? The sum of the
 * weights of its subscriptions whose queue could lease now (READY jobs, not
 * paused, below max_in_flight, a dispatch token), 0 if none. Changes
 * nothing; timers due by now are assumed run (eng_advance or eng_dispatch).
 */
uint32_t eng_consumer_ready_weight(const struct eng *e, uint32_t c, uint64_t now);

/*
 * Lease up to max jobs to consumers with credit: strict priority within a
 * queue, smooth weighted round robin across a consumer's subscriptions,
 * round robin across consumers; honours pause, max_in_flight and
 * dispatch_rate. Returns the number written to out.
 */
uint32_t eng_dispatch(struct eng *e, uint64_t now, struct eng_delivery *out, uint32_t max);

/*
 * Settle a lease held by consumer c: OK, or LEASE_NOT_FOUND (unknown, not
 * this consumer's, or already settled), LEASE_EXPIRED (it timed out and the
 * job went back).
 */
enum wire_status eng_complete(struct eng *e, uint32_t c, uint64_t lease_id, uint64_t now);
/* retry_delay_ms 0 = the queue's backoff; dead = no more attempts. */
enum wire_status eng_fail(struct eng *e, uint32_t c, uint64_t lease_id, uint32_t retry_delay_ms,
			  bool dead, uint64_t now);
/* New deadline = now + extend_ms (extend_ms 0 = the lease's own timeout). */
enum wire_status eng_extend(struct eng *e, uint32_t c, uint64_t lease_id, uint32_t extend_ms,
			    uint64_t now);

/*
 * Move DEAD jobs of q back to READY, oldest first, at most max; returns how
 * many. Attempts reset and the TTL restarts from now (else a job that died
 * of its TTL would die again at once).
 */
uint32_t eng_redrive(struct eng *e, uint16_t q, uint32_t max, uint64_t now);

/*
 * Operator views and actions on single jobs (sluicectl jobs). A job is
 * named by its queue and id; finding it scans the queue's lists, O(jobs in
 * q): for people, not for the data path.
 *
 * find: the job, or NULL. dead_list: up to max DEAD jobs of q, oldest first,
 * after skipping `skip`; returns how many were written to out. retry: one
 * DEAD job back to READY like eng_redrive. delete: free a job that is not
 * LEASED (its consumer may still settle it). retry and delete return 0,
 * -ENOENT (no such job in q) or -EBUSY (retry: not DEAD; delete: LEASED).
 */
const struct eng_job *eng_job_find(struct eng *e, uint16_t q, struct wire_jobid id, uint64_t now);
uint32_t eng_dead_list(const struct eng *e, uint16_t q, uint32_t skip, const struct eng_job **out,
		       uint32_t max);
int eng_job_retry(struct eng *e, uint16_t q, struct wire_jobid id, uint64_t now);
int eng_job_delete(struct eng *e, uint16_t q, struct wire_jobid id, uint64_t now);

/* Run timers due at or before now. */
void eng_advance(struct eng *e, uint64_t now);
/*
 * Earliest time eng_advance has work, UINT64_MAX if none. Work includes
 * re-filing far timers onto finer wheel levels, so this may come before the
 * earliest job deadline, never after it.
 */
uint64_t eng_next_deadline(const struct eng *e);

/* Worker of a lease id (top 16 bits), for routing completions. */
static inline uint16_t
eng_lease_worker(uint64_t lease_id)
{
	return (uint16_t)(lease_id >> 48);
}

#endif
