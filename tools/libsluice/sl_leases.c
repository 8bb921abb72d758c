/* SPDX-License-Identifier: BSD-3-Clause */
/* Consumer bookkeeping: held leases, ops awaiting LeaseAck, credit (sl_leases.h). */
#include <stdlib.h>
#include <string.h>

#include "sl_leases.h"
#include "wire_limits.h"

static uint64_t
half_later(uint64_t now_ms, uint32_t timeout_ms)
{
	return timeout_ms ? now_ms + timeout_ms / 2 : UINT64_MAX;
}

int
sl_leases_add(struct sl_leases *s, uint64_t lease_id, uint32_t timeout_ms, uint64_t now_ms)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 16;
		struct sl_lease *v = realloc(s->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct sl_lease){ lease_id, timeout_ms, half_later(now_ms, timeout_ms) };
	return 0;
}

bool
sl_leases_remove(struct sl_leases *s, uint64_t lease_id)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].lease_id == lease_id) {
			s->v[i] = s->v[--s->n];
			return true;
		}
	}
	return false;
}

int64_t
sl_leases_due_in(const struct sl_leases *s, uint64_t now_ms)
{
	uint64_t first = UINT64_MAX;
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].due_ms < first)
			first = s->v[i].due_ms;
	if (first == UINT64_MAX)
		return -1;
	return first <= now_ms ? 0 : (int64_t)(first - now_ms);
}

uint32_t
sl_leases_take_due(struct sl_leases *s, uint64_t now_ms, uint64_t *ids, uint32_t max)
{
	uint32_t i, k = 0;

	for (i = 0; i < s->n && k < max; i++) {
		if (s->v[i].due_ms > now_ms)
			continue;
		ids[k++] = s->v[i].lease_id;
		s->v[i].due_ms = half_later(now_ms, s->v[i].timeout_ms);
	}
	return k;
}

void
sl_leases_free(struct sl_leases *s)
{
	free(s->v);
	*s = (struct sl_leases){ 0 };
}

int
sl_ops_add(struct sl_ops *o, enum sl_op_kind kind, const uint64_t *ids, uint32_t n, uint64_t *seq)
{
	uint64_t *copy;

	if (o->n == o->cap) {
		uint32_t cap = o->cap ? o->cap * 2 : 16;
		struct sl_op *v = realloc(o->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -1;
		o->v = v;
		o->cap = cap;
	}
	copy = malloc((size_t)(n ? n : 1) * sizeof(*copy));
	if (!copy)
		return -1;
	memcpy(copy, ids, (size_t)n * sizeof(*copy));
	*seq = ++o->next_seq;
	o->v[o->n++] = (struct sl_op){ *seq, (uint8_t)kind, n, copy };
	return 0;
}

bool
sl_ops_take(struct sl_ops *o, uint64_t seq, struct sl_op *out)
{
	uint32_t i;

	for (i = 0; i < o->n; i++) {
		if (o->v[i].seq == seq) {
			*out = o->v[i];
			o->v[i] = o->v[--o->n];
			return true;
		}
	}
	return false;
}

void
sl_ops_clear(struct sl_ops *o)
{
	uint32_t i;

	for (i = 0; i < o->n; i++)
		free(o->v[i].ids);
	o->n = 0;
}

void
sl_ops_free(struct sl_ops *o)
{
	sl_ops_clear(o);
	free(o->v);
	*o = (struct sl_ops){ 0 };
}

uint32_t
sl_credit_topup(uint32_t prefetch, uint64_t want_left, uint32_t server_credit, uint32_t local)
{
	uint64_t target = want_left < prefetch ? want_left : prefetch;
	uint64_t have = (uint64_t)server_credit + local, gap, half;

	if (have >= target)
		return 0;
	gap = target - have;
	half = prefetch / 2 ? prefetch / 2 : 1;
	/* A frame per finished job would double the consumer's traffic; wait for half. */
	if (gap < half && server_credit > 0)
		return 0;
	if (server_credit >= WIRE_CREDIT_MAX)
		return 0;
	if (gap > WIRE_CREDIT_MAX - server_credit)
		gap = WIRE_CREDIT_MAX - server_credit;
	return (uint32_t)gap;
}
