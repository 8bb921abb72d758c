// SPDX-License-Identifier: BSD-3-Clause
//
// cpp_verify: run the official FlatBuffers C++ Verifier (the flatc-generated
// VerifySizePrefixedFrameBuffer, identifier "SLQ1") on every frame of one or
// more streams of size-prefixed frames.
//
//   usage: cpp_verify STREAM...
//
// Each frame is copied into a heap block of exactly 4 + L bytes, so the
// verifier sees exactly one frame (never the next one) and sanitizers see any
// over-read. Exit: 0 every frame verified, 1 a frame failed (named by index
// and byte offset) or a stream was empty or truncated, 2 usage or I/O error.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "sluice_generated.h"

namespace
{

bool
read_file(const char *path, std::vector<uint8_t> &out)
{
	std::ifstream in(path, std::ios::binary);

	if (!in)
		return false;
	out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
	return !in.bad();
}

// 0 all frames verified, 1 a frame failed.
int
verify_stream(const char *path, const std::vector<uint8_t> &data)
{
	std::map<std::string, unsigned> types;
	size_t pos = 0, index = 0;

	while (pos < data.size()) {
		uint32_t size;

		if (data.size() - pos < 4) {
			std::fprintf(stderr, "cpp_verify: %s: %zu trailing bytes at offset %zu\n",
				     path, data.size() - pos, pos);
			return 1;
		}
		std::memcpy(&size, &data[pos], 4);
		size = flatbuffers::EndianScalar(size);
		if (data.size() - pos - 4 < size) {
			std::fprintf(
				stderr,
				"cpp_verify: %s: frame %zu at offset %zu claims %u bytes, only "
				"%zu left\n",
				path, index, pos, size, data.size() - pos - 4);
			return 1;
		}
		size_t len = 4 + static_cast<size_t>(size);
		std::unique_ptr<uint8_t[]> frame(new uint8_t[len]);
		std::memcpy(frame.get(), &data[pos], len);

		flatbuffers::Verifier verifier(frame.get(), len);
		if (!sluice::wire::VerifySizePrefixedFrameBuffer(verifier)) {
			std::fprintf(
				stderr,
				"cpp_verify: %s: frame %zu at offset %zu (%zu bytes) rejected by "
				"flatbuffers::Verifier\n",
				path, index, pos, len);
			return 1;
		}
		auto root = sluice::wire::GetSizePrefixedFrame(frame.get());
		types[sluice::wire::EnumNameMessage(root->msg_type())]++;
		pos += len;
		index++;
	}
	if (index == 0) {
		std::fprintf(stderr, "cpp_verify: %s: no frames\n", path);
		return 1;
	}
	std::printf("cpp_verify: %s: %zu frames verified by flatbuffers::Verifier, %zu types:",
		    path, index, types.size());
	for (const auto &t : types)
		std::printf(" %s=%u", t.first.c_str(), t.second);
	std::printf("\n");
	return 0;
}

} // namespace

int
main(int argc, char **argv)
{
	int worst = 0;

	if (argc < 2) {
		std::fprintf(stderr, "usage: cpp_verify STREAM...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		std::vector<uint8_t> data;

		if (!read_file(argv[i], data)) {
			std::fprintf(stderr, "cpp_verify: %s: cannot read: %s\n", argv[i],
				     std::strerror(errno));
			return 2;
		}
		if (verify_stream(argv[i], data) != 0)
			worst = 1;
	}
	return worst;
}
