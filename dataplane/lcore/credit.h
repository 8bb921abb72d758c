/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Credit hand-off: the credit of one consumer whose subscription spans
 * queues on several worker lcores (schema/PROTOCOL.md "Consuming": each
 * Deliver uses one credit, Credit{n} adds n).
 *
 * The I/O lcore holding the session keeps the consumer's credit in a bank
 * and lends it to workers; a worker spends it on leases or gives it back.
 *
 *   client ─Credit{n}─► bank ──GRANT g─────► worker w: engine consumer credit
 *                        ▲   ◄─WANT weight──  w holds none, could lease
 *                        ├───◄─RETURN r─────  w holds r, can lease nothing
 *                        └───◄─Deliver──────  one credit spent at w
 *
 * A worker asks (WANT) when it holds no credit for the consumer and one of
 * its queues could lease to it; it then counts as active, with the weight
 * it asked with (the subscription weights of those queues). A worker that
 * can lease the consumer nothing returns all the credit it holds at once
 * (RETURN; empty when it holds none but was active) and is no longer
 * active. The bank lends only to active workers: whenever it holds credit,
 * it picks an active worker below its cap by smooth weighted round robin
 * and grants it up to the cap, and at most its weight's part of the bank
 * among the workers it could pick (rounded up).
 *
 * Safety. out[w] is what w was granted less the deliveries and returns from
 * w that the bank has seen. A worker spends only credit granted to it and
 * returns only credit it holds, so out[w] is what it holds plus its
 * deliveries and returns still on the way (never below 0), and
 * bank + sum(out) = credit given - deliveries seen. Every delivery the
 * client sees was counted first (the same I/O lcore encodes it), so it never
 * receives more deliveries than the credit it gave. bank + sum(out) stays at
 * or below max_held (WIRE_CREDIT_MAX), like one engine consumer's credit.
 *
 * Progress. Credit a worker holds is credit it can spend: if it could lease
 * nothing it gives the credit back on its next poll. A worker with a job for
 * the consumer and no credit is active (it asked) and below its cap (it
 * holds nothing; out[w] is only deliveries on the way, and caps are at least
 * 1). So whenever the bank holds credit, some active worker below its cap
 * exists and gets a grant; smooth weighted round robin reaches every such
 * worker within a bounded number of grants. Credit never idles at one worker
 * while a job waits at another. The bank's owner calls credit_bank_next()
 * after each event and on a timer, so a grant that found its ring full is
 * retried.
 *
 * Weights (an approximation, also in lcore.h). Each grant of credit the
 * client hands back goes to an active worker by weighted round robin, so
 * with every subscribed queue backlogged each worker's share of deliveries
 * follows the weight it asked with; inside a worker the engine's own
 * weighted round robin splits its share among its queues. A worker holds at
 * most cap = ceil(window * weight / active weight) (at least 1): window is
 * the largest credit the client gave at once (Subscribe.prefetch or one
 * Credit{n}), active weight the sum over active workers. A worker alone gets
 * the whole window; when others become active the caps shrink and the first
 * worker's surplus drains by its own deliveries. Weights are what workers
 * last asked with, so a share lags a queue running empty by one grant.
 *
 * Pure bookkeeping: no rings, no clock, one thread (the session's I/O lcore).
 */
#ifndef SLUICE_CREDIT_H
#define SLUICE_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

#define CREDIT_WORKERS_MAX 16

struct credit_bank {
	uint32_t bank;     /* held here, lent to no worker */
	uint32_t window;   /* largest credit given at once: sizes caps */
	uint32_t max_held; /* bank + sum(out) stays at or below this */
	uint16_t workers;  /* bit w: the subscription has queues on worker w */
	uint16_t active;   /* bit w: w asked, and returned nothing since */
	uint32_t out[CREDIT_WORKERS_MAX];
	uint32_t weight[CREDIT_WORKERS_MAX]; /* what w last asked with */
	int32_t current[CREDIT_WORKERS_MAX]; /* smooth weighted round robin */
};

/*
 * A bank for a consumer with queues on the workers of mask `workers`, and
 * `initial` credit (Subscribe.prefetch); it holds at most max_held.
 */
void credit_bank_init(struct credit_bank *b, uint16_t workers, uint32_t initial, uint32_t max_held);

/* The client added n credit (saturating at max_held, counting what workers hold). */
void credit_bank_add(struct credit_bank *b, uint32_t n);
/* Worker w asks: it holds no credit and its queues of weight `weight` could lease. */
void credit_bank_want(struct credit_bank *b, unsigned w, uint32_t weight);
/* A delivery from worker w reached the session: one of w's credits spent. */
void credit_bank_delivered(struct credit_bank *b, unsigned w);
/* Worker w gave back n it could not spend. */
void credit_bank_returned(struct credit_bank *b, unsigned w, uint32_t n);

/*
 * The next grant to send, if any: true with n credit for worker w. Changes
 * nothing: once the grant is on its way call credit_bank_granted(); if it
 * could not be sent, call this again later.
 */
bool credit_bank_next(const struct credit_bank *b, unsigned *w, uint32_t *n);
/* The grant credit_bank_next() proposed was sent. */
void credit_bank_granted(struct credit_bank *b, unsigned w, uint32_t n);

/* Credit in the bank plus what it lent and has not seen spent or returned. */
uint32_t credit_bank_held(const struct credit_bank *b);

#endif
