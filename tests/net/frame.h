/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte-level frame building and RFC 1071 sums for the scripted stack tests
 * (test_net.c, test_tcp.c): written independently of dataplane/net, so the
 * stack is checked against code that does not share its bugs.
 */
#ifndef SLUICE_TEST_FRAME_H
#define SLUICE_TEST_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A frame under construction: plain bytes, appended field by field. */
struct frame {
	uint8_t b[1600];
	size_t len;
};

static inline void
put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static inline void
put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static inline void
put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(f, b, 2);
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071 one's complement sum of n bytes added to s (not folded). */
static inline uint32_t
sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

/* Fold a sum to 16 bits and complement it: the checksum field's value. */
static inline uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static inline uint16_t
cksum(const uint8_t *p, size_t n)
{
	return fold(sum16(0, p, n));
}

#endif
