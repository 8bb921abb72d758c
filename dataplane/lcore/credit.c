/* SPDX-License-Identifier: BSD-3-Clause */
/* Credit hand-off bookkeeping of one consumer (credit.h). */
#include <string.h>

#include "credit.h"

/* Smooth weighted round robin values are reset before they can overflow. */
#define CURRENT_LIMIT (INT32_C(1) << 30)

void
credit_bank_init(struct credit_bank *b, uint16_t workers, uint32_t initial, uint32_t max_held)
{
	memset(b, 0, sizeof(*b));
	b->workers = workers;
	b->max_held = max_held;
	b->bank = initial < max_held ? initial : max_held;
	b->window = b->bank;
}

uint32_t
credit_bank_held(const struct credit_bank *b)
{
	uint64_t held = b->bank;
	unsigned w;

	for (w = 0; w < CREDIT_WORKERS_MAX; w++)
		held += b->out[w];
	return held > UINT32_MAX ? UINT32_MAX : (uint32_t)held;
}

void
credit_bank_add(struct credit_bank *b, uint32_t n)
{
	uint32_t held = credit_bank_held(b);
	uint32_t room = held < b->max_held ? b->max_held - held : 0;

	if (n > b->window)
		b->window = n < b->max_held ? n : b->max_held;
	b->bank += n < room ? n : room;
}

void
credit_bank_want(struct credit_bank *b, unsigned w, uint32_t weight)
{
	if (w >= CREDIT_WORKERS_MAX || !(b->workers & (1u << w)))
		return;
	b->active |= (uint16_t)(1u << w);
	b->weight[w] = weight ? weight : 1;
}

void
credit_bank_delivered(struct credit_bank *b, unsigned w)
{
	if (w < CREDIT_WORKERS_MAX && b->out[w] > 0)
		b->out[w]--;
}

void
credit_bank_returned(struct credit_bank *b, unsigned w, uint32_t n)
{
	if (w >= CREDIT_WORKERS_MAX)
		return;
	/* A worker returns at most what it was lent and did not spend. */
	if (n > b->out[w])
		n = b->out[w];
	b->out[w] -= n;
	b->bank += n;
	b->active &= (uint16_t) ~(1u << w);
}

/* Active workers below their cap; caps[w] filled for them. */
static uint16_t
eligible(const struct credit_bank *b, uint32_t caps[CREDIT_WORKERS_MAX])
{
	uint64_t total = 0;
	uint16_t set = 0;
	unsigned w;

	for (w = 0; w < CREDIT_WORKERS_MAX; w++)
		if (b->active & (1u << w))
			total += b->weight[w];
	for (w = 0; w < CREDIT_WORKERS_MAX; w++) {
		uint64_t cap;

		if (!(b->active & (1u << w)))
			continue;
		/* ceil(window * weight / total), at least 1, at most window */
		cap = ((uint64_t)b->window * b->weight[w] + total - 1) / total;
		if (cap > b->window)
			cap = b->window;
		if (cap < 1)
			cap = 1;
		caps[w] = (uint32_t)cap;
		if (b->out[w] < caps[w])
			set |= (uint16_t)(1u << w);
	}
	return set;
}

bool
credit_bank_next(const struct credit_bank *b, unsigned *w, uint32_t *n)
{
	uint32_t caps[CREDIT_WORKERS_MAX];
	unsigned v, best = CREDIT_WORKERS_MAX;
	uint64_t total = 0, share;
	uint16_t set;

	if (!b->bank || !b->active)
		return false;
	set = eligible(b, caps);
	/* The pick smooth weighted round robin makes; credit_bank_granted() commits it. */
	for (v = 0; v < CREDIT_WORKERS_MAX; v++) {
		if (!(set & (1u << v)))
			continue;
		total += b->weight[v];
		if (best == CREDIT_WORKERS_MAX ||
		    (int64_t)b->current[v] + b->weight[v] >
			    (int64_t)b->current[best] + b->weight[best])
			best = v;
	}
	if (best == CREDIT_WORKERS_MAX)
		return false;
	/*
	 * Up to the cap, and of what the bank holds the winner's weight's part
	 * among those eligible (rounded up): credit handed back in a batch is
	 * split by weight, not all to the winner.
	 */
	share = ((uint64_t)b->bank * b->weight[best] + total - 1) / total;
	*w = best;
	*n = caps[best] - b->out[best];
	if (*n > share)
		*n = (uint32_t)share;
	return true;
}

void
credit_bank_granted(struct credit_bank *b, unsigned w, uint32_t n)
{
	uint32_t caps[CREDIT_WORKERS_MAX];
	uint16_t set;
	int64_t total = 0;
	unsigned v;

	if (w >= CREDIT_WORKERS_MAX)
		return;
	set = eligible(b, caps);
	for (v = 0; v < CREDIT_WORKERS_MAX; v++) {
		if (!(set & (1u << v)))
			continue;
		b->current[v] += (int32_t)b->weight[v];
		total += b->weight[v];
	}
	b->current[w] -= (int32_t)total;
	for (v = 0; v < CREDIT_WORKERS_MAX; v++) {
		if (b->current[v] > CURRENT_LIMIT || b->current[v] < -CURRENT_LIMIT) {
			memset(b->current, 0, sizeof(b->current));
			break;
		}
	}
	if (n > b->bank)
		n = b->bank;
	b->bank -= n;
	b->out[w] += n;
}
