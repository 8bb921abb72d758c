/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: sluice's strict verifier against the official C++
 * Verifier on arbitrary bytes.
 *
 * The input is copied into an exactly-sized heap block (ASan then sees any
 * read past its end) and verified by:
 *   - wire_verify() with three limit sets: tight (smaller than the
 *     defaults), the defaults, and the hard caps of wire_limits.h;
 *   - VerifySizePrefixedFrameBuffer() (size-prefixed root, identifier
 *     SLQ1, default options).
 * abort() unless:
 *   tight accepts => default accepts => caps accept => C++ accepts,
 *   every rejection is a known error with an offset inside the input,
 *   and on acceptance every field read through wire.h stays in the frame,
 *   equals what the generated C++ accessors read (wire_walk.h), and
 *   wire_frame_json() renders the frame.
 *
 * Run without arguments to fuzz, or with file arguments to replay them.
 */
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "wire_walk.h"

extern "C" {
#include "wire_json.h"
}

namespace
{

struct limit_sets {
	struct wire_limits tight, caps;
	FILE *devnull;

	limit_sets()
	{
		/* Tight: a 256-byte frame, 16-byte payloads, 2 jobs, 3 levels, 8 tables. */
		if (wire_limits_init(&tight, 256, 16, 2) != 0 ||
		    wire_limits_init(&caps, WIRE_FRAME_BYTES_CAP, WIRE_PAYLOAD_BYTES_CAP,
				     WIRE_BATCH_JOBS_CAP) != 0) {
			fprintf(stderr, "fuzz_wire_diff: wire_limits_init refused valid bounds\n");
			abort();
		}
		tight.max_depth = 3;
		tight.max_tables = 8;
		devnull = fopen("/dev/null", "w");
		if (!devnull) {
			perror("fuzz_wire_diff: /dev/null");
			abort();
		}
	}
};

const limit_sets &
limits()
{
	static const limit_sets l;

	return l;
}

[[noreturn]] void
divergence(const char *what, size_t size, int rc, uint32_t at)
{
	fprintf(stderr,
		"fuzz_wire_diff: DIVERGENCE: %s (input %zu bytes; sluice: %s at %" PRIu32 ")\n",
		what, size, wire_error_name(rc), at);
	abort();
}

void
check_rejection(int rc, uint32_t at, size_t size)
{
	if (rc > 0 || -rc >= WIRE_E__COUNT)
		divergence("wire_verify returned a value that is not 0 or -WIRE_E_*", size, rc, at);
	if (rc < 0 && at >= size && !(size == 0 && at == 0))
		divergence("rejection reported at an offset outside the input", size, rc, at);
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const limit_sets &l = limits();
	/* Exactly size bytes: no slack for an over-read to land in. */
	uint8_t *buf = static_cast<uint8_t *>(malloc(size));
	uint32_t at = UINT32_MAX, at_tight = UINT32_MAX, at_caps = UINT32_MAX;

	if (!buf && size)
		abort();
	if (size)
		memcpy(buf, data, size);

	int rc_tight = wire_verify(buf, size, &l.tight, &at_tight);
	int rc = wire_verify(buf, size, nullptr, &at);
	int rc_caps = wire_verify(buf, size, &l.caps, &at_caps);
	bool cpp = walk::cpp_verify(buf, size);

	check_rejection(rc_tight, at_tight, size);
	check_rejection(rc, at, size);
	check_rejection(rc_caps, at_caps, size);
	if (rc_tight == 0 && rc != 0)
		divergence("accepted with tight limits, rejected with the defaults", size, rc, at);
	if (rc == 0 && rc_caps != 0)
		divergence("accepted with the defaults, rejected with the caps", size, rc_caps,
			   at_caps);
	if (rc_caps == 0 && !cpp)
		divergence("sluice accepts, the C++ Verifier rejects", size, rc_caps, at_caps);

	if (rc_caps == 0) {
		walk::digest ds = walk::sluice_frame(buf, size);

		if (ds.oob)
			divergence("a wire.h accessor left the frame", size, 0, 0);
		walk::digest dc = walk::cpp_frame(buf, size);
		if (dc.oob || dc.h != ds.h || dc.items != ds.items)
			divergence("wire.h and the C++ accessors read different values", size, 0,
				   0);
		if (wire_frame_json(buf, l.devnull) != 0)
			divergence("wire_frame_json failed on an accepted frame", size, 0, 0);
	}
	free(buf);
	return 0;
}
