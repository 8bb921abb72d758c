/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * malformed-cpp-verify: the official FlatBuffers C++ Verifier (2.0.8, default
 * options: depth 64, 1,000,000 tables, alignment checked) as a reference for
 * the malformed-frame tests.
 *
 * Usage: malformed-cpp-verify FILE...
 * Each FILE holds exactly one size-prefixed frame. Prints one line per FILE,
 * in order: "accept" when VerifySizePrefixedFrameBuffer() (identifier SLQ1)
 * returns true, else "reject". Each frame is verified from an exactly-sized
 * heap copy so sanitizers see any over-read.
 * Exit: 0 every file was read (whatever the verdicts), 2 usage or I/O error.
 */
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "sluice_generated.h"

/* Whole file into *out; false and a message on error. */
static bool
read_file(const char *name, std::vector<uint8_t> *out)
{
	FILE *in = std::fopen(name, "rb");
	uint8_t chunk[4096];
	size_t got;

	if (!in) {
		std::fprintf(stderr, "malformed-cpp-verify: %s: %s\n", name, std::strerror(errno));
		return false;
	}
	out->clear();
	while ((got = std::fread(chunk, 1, sizeof(chunk), in)) > 0)
		out->insert(out->end(), chunk, chunk + got);
	bool ok = !std::ferror(in);
	std::fclose(in);
	if (!ok)
		std::fprintf(stderr, "malformed-cpp-verify: %s: read error\n", name);
	return ok;
}

/* The official verdict on exactly these bytes. */
static bool
cpp_accepts(const std::vector<uint8_t> &frame)
{
	size_t len = frame.size();
	/* new[] of exactly len bytes (1 for an empty frame, never read). */
	std::unique_ptr<uint8_t[]> copy(new uint8_t[len ? len : 1]);

	if (len)
		std::memcpy(copy.get(), frame.data(), len);
	flatbuffers::Verifier verifier(copy.get(), len);
	return sluice::wire::VerifySizePrefixedFrameBuffer(verifier);
}

int
main(int argc, char **argv)
{
	std::vector<uint8_t> frame;

	if (argc < 2) {
		std::fprintf(stderr, "usage: malformed-cpp-verify FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (!read_file(argv[i], &frame))
			return 2;
		std::puts(cpp_accepts(frame) ? "accept" : "reject");
	}
	return std::fflush(stdout) == 0 ? 0 : 2;
}
