#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The appliance's main job on an embedded default.
#
# The appliance (sluiced) is not built yet: this script says so, and shows
# the part of it that exists -- every frame a producer or consumer can send
# is verified before any field is read. It installs dependencies, builds into
# build-demo/, streams the embedded seed frames (tests/seeds/*.json, built by
# the official flatc) through tools/frame-check, then the same stream with one
# byte flipped.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
if [ -d build-demo/meson-private ]; then
	meson setup --reconfigure build-demo >/dev/null
else
	meson setup build-demo >/dev/null
fi
ninja -C build-demo >/dev/null

cat <<'MSG'

sluice demo
-----------
The appliance (sluiced: DPDK ports, TCP/IP stack, TLS, queue engine) is not
built yet, so there is no job traffic to show. What exists is the wire
protocol and its strict verifier; here it checks the embedded seed frames.

MSG

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat build-demo/tests/seeds/*.bin >"$tmp/stream.bin"
echo "\$ frame-check stream.bin    # $(ls build-demo/tests/seeds/*.bin | wc -l) frames, $(stat -c %s "$tmp/stream.bin") bytes"
build-demo/tools/frame-check "$tmp/stream.bin"

echo
echo "\$ frame-check --json enqueue_one.bin"
build-demo/tools/frame-check --json build-demo/tests/seeds/enqueue_one.bin

# Flip one byte inside the first job's queue name of enqueue_one.bin.
cp build-demo/tests/seeds/enqueue_one.bin "$tmp/bad.bin"
off=$(grep -abo emails "$tmp/bad.bin" | head -n1 | cut -d: -f1)
printf ' ' | dd of="$tmp/bad.bin" bs=1 seek="$off" conv=notrunc status=none
echo
echo "\$ frame-check bad.bin        # queue name 'emails' -> ' mails'"
build-demo/tools/frame-check "$tmp/bad.bin" || echo "(exit status $?: refused, nothing read)"
