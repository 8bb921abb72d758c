/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lease table of the queue engine: slots, generations and lease ids (layout
 * in eng_pvt.h). Knows nothing of jobs or consumers beyond the slot fields.
 */
#include <stdlib.h>
#include <string.h>

#include "eng_pvt.h"

#define LEASE_LOW_BITS 48

int
eng_leases_init(struct eng_leases *t, uint32_t cap, uint16_t worker)
{
	uint32_t i, bits = 1, gen_bits;

	memset(t, 0, sizeof(*t));
	while (bits < 32 && (UINT64_C(1) << bits) < cap)
		bits++;
	/* Generations up to 32 bits: they wrap only after 4e9 leases of one slot. */
	gen_bits = LEASE_LOW_BITS - bits > 32 ? 32 : LEASE_LOW_BITS - bits;
	t->slot_bits = bits;
	t->gen_mask = (uint32_t)((UINT64_C(1) << gen_bits) - 1);
	t->worker = worker;
	t->cap = cap;
	t->slot = calloc(cap, sizeof(*t->slot));
	t->ring = malloc((size_t)cap * sizeof(*t->ring));
	if (!t->slot || !t->ring)
		return -1;
	for (i = 0; i < cap; i++) {
		t->ring[i] = i;
		t->slot[i].consumer = t->slot[i].expired_consumer = ENG_NIL;
		t->slot[i].cprev = t->slot[i].cnext = ENG_NIL;
	}
	t->n_free = cap;
	return 0;
}

void
eng_leases_fini(struct eng_leases *t)
{
	free(t->slot);
	free(t->ring);
	memset(t, 0, sizeof(*t));
}

uint32_t
eng_lease_alloc(struct eng_leases *t)
{
	uint32_t s = t->ring[t->ring_head];
	struct eng_lease *l = &t->slot[s];

	t->ring_head = t->ring_head + 1 == t->cap ? 0 : t->ring_head + 1;
	t->n_free--;
	/* Generation 0 is never handed out, so a zeroed id never matches. */
	l->gen = (l->gen + 1) & t->gen_mask;
	if (!l->gen)
		l->gen = 1;
	return s;
}

void
eng_lease_release(struct eng_leases *t, uint32_t s, bool expired)
{
	struct eng_lease *l = &t->slot[s];
	uint32_t tail = t->ring_head + t->n_free;

	if (expired) {
		l->expired_gen = l->gen;
		l->expired_consumer = l->consumer;
	}
	l->job = NULL;
	l->consumer = ENG_NIL;
	l->cprev = l->cnext = ENG_NIL;
	if (tail >= t->cap)
		tail -= t->cap;
	t->ring[tail] = s;
	t->n_free++;
}

uint64_t
eng_lease_id(const struct eng_leases *t, uint32_t s)
{
	return t->worker << LEASE_LOW_BITS | (uint64_t)t->slot[s].gen << t->slot_bits | s;
}

uint32_t
eng_lease_decode(const struct eng_leases *t, uint64_t lease_id, uint32_t *gen)
{
	uint64_t low = lease_id & ((UINT64_C(1) << LEASE_LOW_BITS) - 1);
	uint64_t s = low & ((UINT64_C(1) << t->slot_bits) - 1);
	uint64_t g = low >> t->slot_bits;

	if (lease_id >> LEASE_LOW_BITS != t->worker)
		return ENG_NIL;
	if (g == 0 || g > t->gen_mask || s >= t->cap)
		return ENG_NIL;
	*gen = (uint32_t)g;
	return (uint32_t)s;
}
