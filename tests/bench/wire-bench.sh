#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build an optimized release configuration with gcc and run wire_bench:
# ns per verify + read of EnqueueBatch frames, sluice vs the official C++
# Verifier (see tests/bench/wire_bench.cc for the method).
#
# Usage: tests/bench/wire-bench.sh [wire_bench options: --rounds N --ms MS --cpu N]
# Environment: SLUICE_BENCH_BUILD  build directory (default: build-bench in
#              the source tree); reused when it exists, switched to release.
# Exit status: that of the configure, build or benchmark step that failed, else 0.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${SLUICE_BENCH_BUILD:-$src/build-bench}

if [ -d "$dir/meson-private" ]; then
	meson configure "$dir" --buildtype=release >/dev/null
else
	CC=gcc CXX=g++ meson setup "$dir" "$src" --buildtype=release >/dev/null
fi
ninja -C "$dir" tests/bench/wire_bench >/dev/null
echo "wire-bench: $(gcc --version | head -n 1), buildtype=release, build dir $dir"
exec "$dir/tests/bench/wire_bench" "$@"
