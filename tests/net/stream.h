/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the TCP peers (tcp_peer, ktcp_peer, tcp_fnv) agree on: the byte at
 * offset i of every generated stream, and FNV-1a 64 over what a sink reads.
 */
#ifndef SLUICE_TEST_STREAM_H
#define SLUICE_TEST_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static inline uint8_t
pattern(uint64_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ (i >> 16) ^ 0x5a);
}

static inline uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

#endif
