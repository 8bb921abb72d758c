/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_fnv: the sink's answer for a stream of tcp_peer's pattern, so that a
 * kernel-socket client can check "bytes <n> fnv <hex>" without hashing
 * hundreds of MiB in Python. pattern() and FNV-1a 64 from stream.h.
 *
 * Usage: tcp_fnv N [N...]   prints "N HEX" per argument; exits 2 on bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "stream.h"

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: tcp_fnv N [N...]\n");
		return 2;
	}
	for (int a = 1; a < argc; a++) {
		char *end;
		uint64_t n = strtoull(argv[a], &end, 10), h = FNV_OFFSET;

		if (*end != '\0' || end == argv[a]) {
			fprintf(stderr, "tcp_fnv: '%s' is not a byte count\n", argv[a]);
			return 2;
		}
		for (uint64_t i = 0; i < n; i++) {
			h ^= pattern(i);
			h *= FNV_PRIME;
		}
		printf("%" PRIu64 " %016" PRIx64 "\n", n, h);
	}
	return 0;
}
