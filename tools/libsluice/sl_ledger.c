/* SPDX-License-Identifier: BSD-3-Clause */
/* Producer ledger: pending jobs, in-flight batches, re-send sets (sl_ledger.h). */
#include <stdlib.h>

#include "sl_ledger.h"

/*
 * FlatBuffers layout of one Job in a batch, at most:
 *   vector slot 4 + vtable (4 + 2 * 13 fields, padded) 32 + table: soffset 4,
 *   JobId 16 (+ 8 alignment), not_before 8, nine 4-byte fields 36, u16 + u8,
 *   padding to 8: about 120; rounded up to JOB_FIXED.
 * Strings: length 4 + bytes + NUL + padding to 4 (+ 4 when the builder aligns
 * the next item): len + STR_EXTRA. Payload vector the same. A header: slot 4,
 * vtable 8, table 12, two strings.
 */
#define JOB_FIXED 160u
#define STR_EXTRA 16u
#define HEADER_FIXED 40u
#define HEADERS_VEC 16u

static uint64_t
str_bound(struct wire_str s)
{
	return s.p ? (uint64_t)s.len + STR_EXTRA : 0;
}

uint32_t
sl_job_wire_bound(const struct wire_job_in *j)
{
	uint64_t b = JOB_FIXED;
	uint32_t i;

	b += str_bound(j->queue) + str_bound(j->type) + str_bound(j->content_type) +
	     str_bound(j->unique_key);
	if (j->payload.p)
		b += (uint64_t)j->payload.len + STR_EXTRA;
	if (j->n_headers)
		b += HEADERS_VEC + 4ull * j->n_headers;
	for (i = 0; i < j->n_headers; i++)
		b += HEADER_FIXED + str_bound(j->headers[i].key) + str_bound(j->headers[i].value);
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

int
sl_ledger_init(struct sl_ledger *l, uint32_t max_unacked, uint32_t linger_ms)
{
	*l = (struct sl_ledger){ 0 };
	if (max_unacked == 0 || max_unacked > SL_UNACKED_MAX)
		return -1;
	l->inflight = calloc(max_unacked, sizeof(*l->inflight));
	if (!l->inflight)
		return -1;
	l->max_unacked = l->window = max_unacked;
	l->linger_ms = linger_ms;
	l->next_seq = 1;
	l->max_batch_jobs = WIRE_BATCH_JOBS_DEFAULT;
	l->max_frame_bytes = WIRE_FRAME_BYTES_DEFAULT;
	return 0;
}

void
sl_ledger_free(struct sl_ledger *l)
{
	free(l->inflight);
	l->inflight = NULL;
}

void
sl_ledger_set_limits(struct sl_ledger *l, uint32_t max_batch_jobs, uint32_t max_frame_bytes)
{
	l->max_batch_jobs = max_batch_jobs ? max_batch_jobs : 1;
	l->max_frame_bytes = max_frame_bytes;
	l->window = l->max_unacked;
	l->backoff_ms = 0;
	l->resume_ms = 0;
}

uint32_t
sl_ledger_job_budget(const struct sl_ledger *l)
{
	return l->max_frame_bytes > SL_BATCH_OVERHEAD ? l->max_frame_bytes - SL_BATCH_OVERHEAD : 0;
}

void
sl_ledger_push(struct sl_ledger *l, struct sl_pjob *j, uint64_t now_ms)
{
	j->next = NULL;
	j->order = l->next_order++;
	j->enq_ms = now_ms;
	if (l->pend_tail)
		l->pend_tail->next = j;
	else
		l->pend_head = j;
	l->pend_tail = j;
	l->n_pending++;
	l->pend_bytes += j->wire_bound;
}

int64_t
sl_ledger_due_in(const struct sl_ledger *l, uint64_t now_ms, bool flush)
{
	uint64_t age;

	if (!l->pend_head || l->n_inflight >= l->window)
		return -1;
	if (now_ms < l->resume_ms)
		return (int64_t)(l->resume_ms - now_ms);
	if (flush || l->n_pending >= l->max_batch_jobs || l->pend_bytes >= sl_ledger_job_budget(l))
		return 0;
	age = now_ms >= l->pend_head->enq_ms ? now_ms - l->pend_head->enq_ms : 0;
	return age >= l->linger_ms ? 0 : (int64_t)(l->linger_ms - age);
}

static struct sl_pjob *
pend_pop(struct sl_ledger *l)
{
	struct sl_pjob *j = l->pend_head;

	l->pend_head = j->next;
	if (!l->pend_head)
		l->pend_tail = NULL;
	l->n_pending--;
	l->pend_bytes -= j->wire_bound;
	j->next = NULL;
	return j;
}

struct sl_pjob *
sl_ledger_pop_oversize(struct sl_ledger *l)
{
	if (!l->pend_head || l->pend_head->wire_bound <= sl_ledger_job_budget(l))
		return NULL;
	return pend_pop(l);
}

const struct sl_batch *
sl_ledger_take(struct sl_ledger *l, uint64_t now_ms)
{
	struct sl_batch *b;
	struct sl_pjob **tail;
	uint64_t bytes = 0;
	uint32_t budget = sl_ledger_job_budget(l);

	if (!l->pend_head || l->n_inflight >= l->window || l->pend_head->wire_bound > budget ||
	    now_ms < l->resume_ms)
		return NULL;
	b = &l->inflight[l->n_inflight++];
	*b = (struct sl_batch){ .seq = l->next_seq++, .sent_ms = now_ms };
	tail = &b->head;
	while (l->pend_head && b->n < l->max_batch_jobs &&
	       bytes + l->pend_head->wire_bound <= budget) {
		struct sl_pjob *j = pend_pop(l);

		bytes += j->wire_bound;
		j->sent = true;
		*tail = j;
		tail = &j->next;
		b->n++;
	}
	l->n_inflight_jobs += b->n;
	return b;
}

static bool
inflight_remove(struct sl_ledger *l, uint64_t seq, struct sl_batch *out)
{
	uint32_t i;

	for (i = 0; i < l->n_inflight; i++) {
		if (l->inflight[i].seq != seq)
			continue;
		*out = l->inflight[i];
		/* Order of the table does not matter: re-sends sort by job order. */
		l->inflight[i] = l->inflight[--l->n_inflight];
		l->n_inflight_jobs -= out->n;
		return true;
	}
	return false;
}

bool
sl_ledger_ack(struct sl_ledger *l, uint64_t seq, struct sl_batch *out)
{
	if (!inflight_remove(l, seq, out))
		return false;
	l->backoff_ms = 0;
	return true;
}

/* Merge the sorted list b into the sorted pending list. */
static void
pend_merge(struct sl_ledger *l, struct sl_pjob *b)
{
	struct sl_pjob *a = l->pend_head, *head = NULL, **tail = &head, *last = NULL;

	while (b) {
		if (a && a->order < b->order) {
			*tail = a;
			a = a->next;
		} else {
			struct sl_pjob *next = b->next;

			l->n_pending++;
			l->pend_bytes += b->wire_bound;
			*tail = b;
			b = next;
		}
		last = *tail;
		tail = &(*tail)->next;
	}
	*tail = a;
	if (!a)
		l->pend_tail = last;
	l->pend_head = head;
}

uint32_t
sl_ledger_requeue(struct sl_ledger *l, uint64_t seq, uint64_t now_ms)
{
	struct sl_batch b;

	if (!inflight_remove(l, seq, &b))
		return 0;
	l->window = l->n_inflight ? l->n_inflight : 1;
	l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : 20;
	if (l->backoff_ms > 1000)
		l->backoff_ms = 1000;
	l->resume_ms = now_ms + l->backoff_ms;
	pend_merge(l, b.head);
	return b.n;
}

uint32_t
sl_ledger_requeue_all(struct sl_ledger *l)
{
	uint32_t n = l->n_inflight_jobs;

	while (l->n_inflight) {
		struct sl_batch b = l->inflight[--l->n_inflight];

		pend_merge(l, b.head);
	}
	l->n_inflight_jobs = 0;
	return n;
}

struct sl_pjob *
sl_ledger_steal_all(struct sl_ledger *l)
{
	struct sl_pjob *all;

	sl_ledger_requeue_all(l);
	all = l->pend_head;
	l->pend_head = l->pend_tail = NULL;
	l->n_pending = 0;
	l->pend_bytes = 0;
	return all;
}
