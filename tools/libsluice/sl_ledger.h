/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Producer ledger: which jobs wait to be sent, which batches are in flight,
 * and what goes back out after a reconnect. No I/O, no clock of its own
 * (callers pass now_ms), no allocation except the in-flight table at init.
 *
 *   sl_ledger_push ──► pending (FIFO by order) ──sl_ledger_take──► in flight[seq]
 *                          ▲                                            │
 *                          └── sl_ledger_requeue(seq) / requeue_all ────┤
 *                                                  sl_ledger_ack(seq) ◄─┘ (caller reports, frees)
 *
 * Invariant: the pending list is sorted by job order, so re-sent jobs go out
 * before newer ones and in the order they were enqueued.
 */
#ifndef SLUICE_SL_LEDGER_H
#define SLUICE_SL_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "wire_build.h"

/* Bytes of a batch frame besides its jobs: prefix, root, Frame, EnqueueBatch, vector. */
#define SL_BATCH_OVERHEAD 160u
#define SL_UNACKED_DEFAULT 16u
#define SL_UNACKED_MAX 1024u

/* One job held until its result. The caller allocates it with its strings. */
struct sl_pjob {
	struct sl_pjob *next;
	uint64_t order;  /* enqueue order; re-sends keep it */
	uint64_t enq_ms; /* when it was queued (linger counts from the oldest) */
	void *user;
	void *sync_out;      /* caller's slot for synchronous waits, or NULL */
	uint32_t wire_bound; /* sl_job_wire_bound(&in) */
	bool sent;           /* has been in a batch: its outcome may be known to the appliance */
	bool detached;       /* nobody waits for its result any more */
	struct wire_job_in in;
};

struct sl_batch {
	uint64_t seq;
	uint64_t sent_ms;
	uint32_t n;
	struct sl_pjob *head; /* jobs in frame order */
};

struct sl_ledger {
	struct sl_pjob *pend_head;
	struct sl_pjob *pend_tail;
	uint32_t n_pending;
	uint64_t pend_bytes; /* sum of wire bounds of pending jobs */
	struct sl_batch *inflight;
	uint32_t n_inflight;
	uint32_t n_inflight_jobs;
	uint64_t next_seq;
	uint64_t next_order;
	uint32_t max_unacked; /* configured window */
	uint32_t window;      /* in force: shrinks after RateLimited, reset per session */
	uint32_t backoff_ms;  /* after RateLimited: grows 20 ms .. 1 s, reset by an ack */
	uint64_t resume_ms;   /* no batch before this (backoff) */
	uint32_t linger_ms;
	uint32_t max_batch_jobs;
	uint32_t max_frame_bytes;
};

/*
 * Upper bound of the bytes job j adds to an EnqueueBatch frame (its table,
 * vtable, strings, payload, headers, padding and vector slot). wire_build()
 * never exceeds SL_BATCH_OVERHEAD + the sum of these (tests check it).
 */
uint32_t sl_job_wire_bound(const struct wire_job_in *j);

/* 0, or -1 when max_unacked is 0 or above SL_UNACKED_MAX or memory is short. */
int sl_ledger_init(struct sl_ledger *l, uint32_t max_unacked, uint32_t linger_ms);
/* Free the table; jobs still held must have been taken with sl_ledger_steal_all(). */
void sl_ledger_free(struct sl_ledger *l);

/* Limits of a new session; resets the window to max_unacked and the backoff. */
void sl_ledger_set_limits(struct sl_ledger *l, uint32_t max_batch_jobs, uint32_t max_frame_bytes);

/* Largest wire bound one job may have to fit a batch of this session. */
uint32_t sl_ledger_job_budget(const struct sl_ledger *l);

/* Queue j (wire_bound set) at the tail; gives it the next order number. */
void sl_ledger_push(struct sl_ledger *l, struct sl_pjob *j, uint64_t now_ms);

/*
 * When the next batch should go: 0 now, > 0 in that many ms (linger or
 * backoff), -1 never without new events (nothing pending, or the window is
 * full). flush: ignore linger (not the backoff).
 */
int64_t sl_ledger_due_in(const struct sl_ledger *l, uint64_t now_ms, bool flush);

/* Pop the head job if it alone exceeds the session's budget (NULL if not). */
struct sl_pjob *sl_ledger_pop_oversize(struct sl_ledger *l);

/*
 * Move up to max_batch_jobs jobs that fit one frame from pending into a new
 * in-flight batch with the next seq. NULL when nothing is pending, the
 * window is full, or the head is oversize (pop it first).
 */
const struct sl_batch *sl_ledger_take(struct sl_ledger *l, uint64_t now_ms);

/* Remove the in-flight batch seq into *out (ends any backoff); false when there is none. */
bool sl_ledger_ack(struct sl_ledger *l, uint64_t seq, struct sl_batch *out);

/*
 * The appliance dropped batch seq (Error{RateLimited, seq}): put its jobs back
 * in order, shrink the window to what was in flight without it (>= 1), and
 * hold the next batch for a backoff. Returns the number of jobs requeued, 0
 * when seq is not in flight.
 */
uint32_t sl_ledger_requeue(struct sl_ledger *l, uint64_t seq, uint64_t now_ms);

/* Session lost: every in-flight job back to pending, in order. Returns how many. */
uint32_t sl_ledger_requeue_all(struct sl_ledger *l);

/* Take every job, in flight or pending, as one list sorted by order. */
struct sl_pjob *sl_ledger_steal_all(struct sl_ledger *l);

static inline uint32_t
sl_ledger_held(const struct sl_ledger *l)
{
	return l->n_pending + l->n_inflight_jobs;
}

#endif
