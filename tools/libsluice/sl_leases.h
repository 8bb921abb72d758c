/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Consumer bookkeeping: leases held (for ExtendLease at half their timeout),
 * Complete/Fail/ExtendLease frames waiting for their LeaseAck, and credit.
 * No I/O; callers pass now_ms.
 *
 *   lease life:  Deliver ──► held (due = t + timeout/2) ──extend──► due = now + timeout/2
 *                                  │
 *                                  └─ Complete / Fail ──► op[seq] ──LeaseAck{seq}──► settled
 */
#ifndef SLUICE_SL_LEASES_H
#define SLUICE_SL_LEASES_H

#include <stdbool.h>
#include <stdint.h>

struct sl_lease {
	uint64_t lease_id;
	uint32_t timeout_ms;
	uint64_t due_ms; /* next extension; UINT64_MAX when it has no timeout */
};

struct sl_leases {
	struct sl_lease *v;
	uint32_t n;
	uint32_t cap;
};

/* Track a delivered lease. 0, or -1 when out of memory. */
int sl_leases_add(struct sl_leases *s, uint64_t lease_id, uint32_t timeout_ms, uint64_t now_ms);
/* Forget a lease (settled or dropped); false when it was not held. */
bool sl_leases_remove(struct sl_leases *s, uint64_t lease_id);
/* ms until the next extension is due: 0 now, -1 none held. */
int64_t sl_leases_due_in(const struct sl_leases *s, uint64_t now_ms);
/*
 * Write up to max ids whose extension is due to ids[] and schedule their
 * next one half a timeout from now (ExtendLease with extend_ms 0 restarts
 * each at its own timeout). Returns how many.
 */
uint32_t sl_leases_take_due(struct sl_leases *s, uint64_t now_ms, uint64_t *ids, uint32_t max);
void sl_leases_free(struct sl_leases *s);

enum sl_op_kind {
	SL_OP_COMPLETE,
	SL_OP_FAIL,
	SL_OP_EXTEND,
};

struct sl_op {
	uint64_t seq;
	uint8_t kind;
	uint32_t n;
	uint64_t *ids;
};

struct sl_ops {
	struct sl_op *v;
	uint32_t n;
	uint32_t cap;
	uint64_t next_seq;
};

/* Record a frame about n lease ids; its seq in *seq. 0, or -1 when out of memory. */
int sl_ops_add(struct sl_ops *o, enum sl_op_kind kind, const uint64_t *ids, uint32_t n,
	       uint64_t *seq);
/* Remove op seq into *out (caller frees out->ids); false when unknown. */
bool sl_ops_take(struct sl_ops *o, uint64_t seq, struct sl_op *out);
/* Forget every op (session lost); their acks will never come. */
void sl_ops_clear(struct sl_ops *o);
void sl_ops_free(struct sl_ops *o);

/*
 * Credit to send now. The appliance may still push server_credit deliveries;
 * local have arrived and are not settled yet. The target is what may wait
 * here: prefetch, or fewer when only want_left more jobs are wanted. Credit
 * is sent once the shortfall is half the prefetch or the appliance holds
 * none (so a slow consumer does not send a frame per job), and never takes
 * the held credit past 65536. Returns 0 when nothing should be sent.
 */
uint32_t sl_credit_topup(uint32_t prefetch, uint64_t want_left, uint32_t server_credit,
			 uint32_t local);

#endif
