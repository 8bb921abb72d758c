/* SPDX-License-Identifier: BSD-3-Clause */
#include "hist.h"

/* Bucket of v: the power of two it falls in, then 64 linear steps inside it. */
static unsigned
bucket(uint64_t v)
{
	unsigned p;

	if (v < HIST_SUB)
		return (unsigned)v;
	p = 63u - (unsigned)__builtin_clzll(v); /* v in [2^p, 2^(p+1)) */
	if (p - 6 + 1 >= HIST_POW)
		return HIST_POW * HIST_SUB - 1;
	return (p - 6 + 1) * HIST_SUB + (unsigned)((v >> (p - 6)) - HIST_SUB);
}

static uint64_t
bucket_top(unsigned i)
{
	unsigned p = i / HIST_SUB, s = i % HIST_SUB;

	if (p == 0)
		return s;
	return ((uint64_t)(HIST_SUB + s + 1) << (p - 1)) - 1;
}

void
hist_add(struct hist *h, uint64_t us)
{
	h->b[bucket(us)]++;
	h->n++;
	if (us > h->max_us)
		h->max_us = us;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;

	for (i = 0; i < HIST_POW * HIST_SUB; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	if (src->max_us > dst->max_us)
		dst->max_us = src->max_us;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned i;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (i = 0; i < HIST_POW * HIST_SUB; i++) {
		seen += h->b[i];
		if (seen > want) {
			uint64_t top = bucket_top(i);

			return top < h->max_us ? top : h->max_us;
		}
	}
	return h->max_us;
}
