/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue engine internals: the tables behind engine.h, shared by engine.c
 * (queues, job state machine), eng_dispatch.c (consumers, leasing),
 * eng_lease.c (lease table), eng_timer.c (timer wheel), eng_hash.c (keyed
 * hash, dedup and unique-key tables) and eng_job.c (job layout).
 *
 * Every table is sized in eng_create() from struct eng_cfg and never grows.
 * Indices are uint32_t with ENG_NIL as "none", so tables hold no pointers
 * into each other and a stale index is caught by a range check.
 */
#ifndef SLUICE_ENG_PVT_H
#define SLUICE_ENG_PVT_H

#include "engine.h"

#define ENG_NIL UINT32_MAX
#define ENG_CACHE_LINE 64

/* ---- keyed hash (eng_hash.c) ---- */

struct eng_hkey {
	uint64_t k0, k1;
};

/* SipHash-2-4 of p[0, n) under key k, with `tweak` folded into the key. */
uint64_t eng_siphash(const struct eng_hkey *k, uint64_t tweak, const void *p, size_t n);

/* splitmix64: the engine's one PRNG (jitter, keys, id prefix). */
uint64_t eng_splitmix64(uint64_t *state);
/* A bijection of 64-bit values (splitmix64's finaliser). */
uint64_t eng_mix64(uint64_t x);

/* ---- intrusive job lists (queue lists: prev/next) ---- */

struct eng_list {
	struct eng_job *head, *tail;
};

static inline void
eng_list_push_tail(struct eng_list *l, struct eng_job *j)
{
	j->next = NULL;
	j->prev = l->tail;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static inline void
eng_list_remove(struct eng_list *l, struct eng_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->prev = j->next = NULL;
}

/* ---- timer wheel (eng_timer.c) ---- */

/*
 * Hierarchical timing wheel, 1 ms resolution, 11 levels of 64 slots: level l
 * slot s holds timers whose expiry agrees with `cur` above bit group l and
 * has s in group l (a group is 6 bits). 11 * 6 >= 64 bits, so any expiry
 * has a place and nothing overflows. A timer moves down at most 10 times.
 *
 *   level 0: 1 ms slots     [cur .. end of cur's 64 ms block)
 *   level 1: 64 ms slots    rest of cur's 4096 ms block
 *   level l: 64^l ms slots  ...
 *
 * bm[l] has bit s set when slot s of level l is non-empty; `levels` has bit
 * l set when bm[l] != 0. Finding the next expiry is a ctz or two, so time
 * may jump any distance in one step.
 */
#define ENG_WHEEL_LEVELS 11
#define ENG_WHEEL_BITS 6
#define ENG_WHEEL_SLOTS (1u << ENG_WHEEL_BITS)
#define ENG_WHEEL_NONE 0xffff
#define ENG_NEVER UINT64_MAX

struct eng_wheel {
	uint64_t cur; /* every timer before cur has been popped */
	uint32_t levels;
	uint32_t count;
	uint64_t bm[ENG_WHEEL_LEVELS];
	struct eng_job *slot[ENG_WHEEL_LEVELS][ENG_WHEEL_SLOTS];
};

void eng_wheel_init(struct eng_wheel *w);
/* File j at j->deadline_ms (clamped to cur). O(1). */
void eng_wheel_add(struct eng_wheel *w, struct eng_job *j);
/* Take j off the wheel if it is on it. O(1). */
void eng_wheel_del(struct eng_wheel *w, struct eng_job *j);
/* Next due job with deadline <= now, off the wheel, or NULL. */
struct eng_job *eng_wheel_pop(struct eng_wheel *w, uint64_t now);
/* Earliest time a pop has work (a due job or a re-file), ENG_NEVER if empty. */
uint64_t eng_wheel_next(const struct eng_wheel *w);

/* ---- dedup table (eng_hash.c) ---- */

/*
 * Job ids seen, per queue, until their window ends. A ring of records in
 * insertion order (the FIFO) plus hash chains through them:
 *
 *   rec[]:  | head (oldest) ... | ... tail (newest) | free ... |
 *
 * Inserting into a full ring evicts the head; windows differ per queue, so
 * an expired record behind a live head waits its turn (lookups skip it).
 */
struct eng_dedup_rec {
	struct wire_jobid id;
	uint64_t until_ms;
	uint32_t chain;
	uint16_t queue;
};

struct eng_dedup {
	struct eng_dedup_rec *rec;
	uint32_t *bucket;
	uint32_t cap, mask; /* records, buckets - 1 */
	uint32_t head, used;
	uint64_t evictions;
};

int eng_dedup_init(struct eng_dedup *d, uint32_t entries);
void eng_dedup_fini(struct eng_dedup *d);
/* Is (queue, id) remembered at now? */
bool eng_dedup_seen(const struct eng_dedup *d, const struct eng_hkey *k, uint16_t queue,
		    struct wire_jobid id, uint64_t now);
void eng_dedup_insert(struct eng_dedup *d, const struct eng_hkey *k, uint16_t queue,
		      struct wire_jobid id, uint64_t until_ms, uint64_t now);

/* ---- unique-key table (eng_hash.c) ---- */

/*
 * A record per held unique key, keyed by a SipHash of (queue, key). While
 * its job lives the record points at it and matches compare the key bytes;
 * after the job is freed and before unique_ttl ends it is a tombstone that
 * matches by hash alone (a false conflict needs a 64-bit keyed collision).
 * Tombstones sit in a FIFO; when the pool runs dry the oldest is dropped.
 * The pool holds max_jobs + dedup_entries records, so a live job always
 * finds one.
 */
enum { ENG_UREC_FREE, ENG_UREC_LIVE, ENG_UREC_TOMB };

struct eng_urec {
	uint64_t hash;
	uint64_t until_ms;
	struct eng_job *job; /* LIVE only */
	uint32_t chain;
	uint32_t fprev, fnext; /* tombstone FIFO, or free list (fnext) */
	uint16_t queue;
	uint8_t state;
};

struct eng_unique {
	struct eng_urec *rec;
	uint32_t *bucket;
	uint32_t cap, mask;
	uint32_t free_head;
	uint32_t tomb_head, tomb_tail;
	uint32_t used;
	uint64_t evictions;
};

int eng_unique_init(struct eng_unique *u, uint32_t entries);
void eng_unique_fini(struct eng_unique *u);
/* Does a live job or an unexpired tombstone hold (queue, job's key)? */
bool eng_unique_held(struct eng_unique *u, const struct eng_hkey *k, uint16_t queue,
		     const struct eng_job *job, uint64_t now);
/* Make job the holder of its key (caller checked eng_unique_held). */
void eng_unique_acquire(struct eng_unique *u, const struct eng_hkey *k, uint16_t queue,
			struct eng_job *job, uint64_t now);
/* job is being freed at now: drop its hold or keep a tombstone until its unique_ttl. */
void eng_unique_release(struct eng_unique *u, struct eng_job *job, uint64_t now);

/* ---- lease table (eng_lease.c) ---- */

/*
 * One slot per possible lease (max_jobs). A lease id is
 *
 *   63      48 47                   slot_bits  slot_bits-1     0
 *   +---------+------------------------------+----------------+
 *   | worker  |  generation (1.., never 0)   |      slot      |
 *   +---------+------------------------------+----------------+
 *
 * A slot's generation moves on at every lease, so an id outlives its lease
 * only as a mismatch. The slot also remembers the generation (and holder)
 * of its last lease that timed out, for LEASE_EXPIRED. Free slots are
 * reused in FIFO order so a slot's generations stay far apart.
 */
struct eng_lease {
	struct eng_job *job; /* NULL when free */
	uint32_t gen;
	uint32_t expired_gen;
	uint32_t consumer;
	uint32_t expired_consumer;
	uint32_t cprev, cnext; /* the consumer's lease list */
	uint32_t timeout_ms;   /* in force for this attempt */
};

struct eng_leases {
	struct eng_lease *slot;
	uint32_t *ring; /* free slots, FIFO */
	uint32_t cap, ring_head, n_free;
	uint32_t slot_bits;
	uint32_t gen_mask;
	uint64_t worker;
};

int eng_leases_init(struct eng_leases *t, uint32_t cap, uint16_t worker);
void eng_leases_fini(struct eng_leases *t);
/* A free slot (one exists whenever fewer than cap jobs are leased). */
uint32_t eng_lease_alloc(struct eng_leases *t);
/* Return slot s; expired = remember its generation for LEASE_EXPIRED. */
void eng_lease_release(struct eng_leases *t, uint32_t s, bool expired);
uint64_t eng_lease_id(const struct eng_leases *t, uint32_t s);
/*
 * Slot of a lease id: the slot index with *gen set, or ENG_NIL when the id
 * cannot be one of this table's (other worker, bad bits, generation 0).
 */
uint32_t eng_lease_decode(const struct eng_leases *t, uint64_t lease_id, uint32_t *gen);

/* ---- queues and consumers ---- */

/* Token bucket in milli-tokens: a lease costs 1000, each ms adds `rate`. */
struct eng_bucket {
	uint64_t tokens;
	uint64_t cap;
	uint64_t last_ms;
	uint32_t rate;
};

struct eng_queue {
	/* hot: dispatch and enqueue */
	uint16_t ready_mask; /* bit p: ready[p] non-empty */
	bool paused;
	uint32_t n[ENG_JOB_DEAD + 1]; /* jobs per state */
	uint32_t jobs;
	uint64_t bytes;
	struct eng_list ready[ENG_PRIORITIES];
	struct eng_list waiting; /* SCHEDULED and RETRY_WAIT */
	struct eng_list leased;
	struct eng_list dead;
	struct eng_bucket bucket;
	struct eng_queue_cfg cfg;
	char name[WIRE_QUEUE_NAME_MAX + 1];
	uint8_t name_len;
	/* counters, on their own cache line */
	struct eng_queue_stats st __attribute__((aligned(ENG_CACHE_LINE)));
};

struct eng_sub_state {
	uint16_t queue;
	uint16_t weight;
	int32_t current; /* smooth weighted round robin */
};

struct eng_consumer {
	uint64_t cookie;
	uint32_t credit;
	uint32_t lease_head;   /* ENG_NIL = none */
	uint32_t hprev, hnext; /* ring of consumers with credit */
	uint32_t n_leases;     /* on the lease_head list */
	bool used;
	bool hungry;
	uint8_t n_subs;
	struct eng_sub_state sub[WIRE_SUBSCRIBE_QUEUES_MAX];
};

struct eng {
	/* hot: every call */
	struct eng_wheel *wheel;
	struct eng_queue *queue;
	struct eng_consumer *consumer;
	struct eng_leases leases;
	uint32_t n_queues;
	uint32_t jobs;     /* held, all queues */
	uint32_t n_ready;  /* READY jobs, all queues */
	uint32_t n_hungry; /* consumers with credit */
	uint32_t rr_next;  /* hungry consumer to serve first */
	uint64_t now;      /* latest time any call brought */
	/*
	 * dispatch short cut: when a pass found nothing to lease, nothing can
	 * change until `epoch` moves (a job became ready, credit came, a lease
	 * ended, ...) or a token bucket refills at idle_until.
	 */
	uint64_t epoch;
	uint64_t idle_epoch;
	uint64_t idle_until;
	uint64_t scan_until;
	uint64_t rng;

	/* cold */
	struct eng_hkey hkey;
	struct eng_dedup dedup;
	struct eng_unique unique;
	uint16_t *qindex; /* open addressing, queue index or UINT16_MAX */
	uint32_t qindex_mask;
	uint32_t *cfree; /* free consumer indices (stack) */
	uint32_t n_cfree;
	uint32_t n_consumers;
	uint64_t id_prefix, id_key, id_counter;
	struct eng_cfg cfg;
} __attribute__((aligned(ENG_CACHE_LINE)));

/* ---- engine.c internals used by eng_dispatch.c ---- */

/* Lease the best READY job of q to consumer c at now; fills *d. */
void eng_lease_job(struct eng *e, uint16_t q, uint32_t c, uint64_t now, struct eng_delivery *d);
/* A lease of consumer c ends in failure at now (consumer gone). */
void eng_lease_abandon(struct eng *e, uint32_t slot, uint64_t now);
/* Run every timer due at or before now. */
void eng_run_timers(struct eng *e, uint64_t now);

#endif
