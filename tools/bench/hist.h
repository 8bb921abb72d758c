/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Latency histogram: log-linear buckets, 1/64 relative resolution (about
 * 1.6%) from 1 us to about 70 minutes. Fixed size, no allocation; one per
 * thread, merged at the end.
 */
#ifndef SLUICE_BENCH_HIST_H
#define SLUICE_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB 64 /* buckets per power of two */
#define HIST_POW 32

struct hist {
	uint64_t n;
	uint64_t max_us;
	uint64_t b[HIST_POW * HIST_SUB];
};

void hist_add(struct hist *h, uint64_t us);
void hist_merge(struct hist *dst, const struct hist *src);
/* Value at quantile q (0..1), the upper edge of its bucket; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
