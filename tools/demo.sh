#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The appliance's main job on an embedded default.
#
# Installs dependencies, builds into build-demo/, makes throw-away test
# certificates and a token, starts sluiced on 127.0.0.1:7443 with two queues,
# then: a producer and a consumer through the CLI, and sluice-bench (8
# producers, batches of 64, 256-byte jobs) at a fixed rate and at full speed.
# Prints the figures and stops everything (SIGTERM drain).
#
#   tools/demo.sh            run the demo and stop
#   tools/demo.sh --keep     leave sluiced running afterwards and print how to use it
#
# sluiced runs on the kernel transport: the dpdk transport (sluice's own
# TCP/IP stack on DPDK ports) is not built yet.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
keep=false
case "${1:-}" in
--keep) keep=true ;;
"") ;;
-h | --help)
	sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "demo.sh: unknown argument '$1' (use --keep or --help)" >&2
	exit 2
	;;
esac

tools/deps.sh
if [ -d build-demo/meson-private ]; then
	meson setup --reconfigure build-demo >/dev/null
else
	meson setup build-demo >/dev/null
fi
ninja -C build-demo dataplane/sluiced tools/sluice/sluice tools/bench/sluice-bench >/dev/null

run=$root/build-demo/demo
mkdir -p "$run"
tools/gen-test-certs.sh "$run/certs" >/dev/null 2>&1
token="slq_demo_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$token" >"$run/token"
chmod 600 "$run/token"
# principal, role, SHA-256 of the token, queue globs, job types, max payload, max priority
printf 'demo both %s * * 262144 15\n' "$(build-demo/dataplane/sluiced --hash-token "$token")" \
	>"$run/tokens"

port=7443
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
	echo "demo.sh: 127.0.0.1:$port is in use (another sluiced?); stop it first" >&2
	exit 1
fi
cpus=$(nproc)
lcores="0@0,1@$((cpus > 1 ? 1 : 0))"
build-demo/dataplane/sluiced --no-huge --no-shconf -m 1600 --no-pci --lcores "$lcores" \
	--log-level=error -- \
	--cert "$run/certs/server.pem" --key "$run/certs/server.key" --tokens "$run/tokens" \
	--listen 127.0.0.1:$port --job-mem-mb 900 --max-jobs 800000 \
	--queue emails,max_jobs=10000,lease_ms=30000 \
	--queue bench,max_jobs=700000,max_bytes=700000000 >"$run/sluiced.log" 2>&1 &
pid=$!
stop() {
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" || true
		tail -n 1 "$run/sluiced.log"
	fi
}
if ! $keep; then trap stop EXIT; fi
for _ in $(seq 100); do
	grep -q listening "$run/sluiced.log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$run/sluiced.log"; exit 1; }
	sleep 0.1
done
cat "$run/sluiced.log"

export SLUICE_ADDR=127.0.0.1:$port SLUICE_CA=$run/certs/ca.pem SLUICE_SERVER_NAME=sluice.test \
	SLUICE_TOKEN_FILE=$run/token
cli=build-demo/tools/sluice/sluice
bench="build-demo/tools/bench/sluice-bench --addr $SLUICE_ADDR --ca $SLUICE_CA --server-name sluice.test --token $token"

echo
echo "\$ sluice enqueue -q emails -t send_welcome -p '{\"to\":\"ada@example.org\"}'"
$cli enqueue -q emails -t send_welcome --content-type application/json \
	-p '{"to":"ada@example.org"}'
echo "\$ printf '\\x80\\x04...' | sluice enqueue -q emails -t evil    # a pickle"
printf '\x80\x04\x95\x10\x00' | $cli enqueue -q emails -t evil || true
echo "\$ sluice consume -q emails --max 1 --text"
$cli consume -q emails --max 1 --text

echo
echo "\$ sluice-bench --mode e2e --rate 10000      # open loop, latency at a fixed rate"
$bench --mode e2e --connections 8 --consumers 2 --rate 10000 --duration 4 --warmup 1 \
	--queue bench --prefetch 1024
echo
echo "\$ sluice-bench --mode produce               # closed loop, as fast as acks come"
$bench --mode produce --connections 8 --duration 2 --warmup 0.5 --queue bench

if $keep; then
	cat <<EOF

sluiced keeps running (pid $pid). Try:
  export SLUICE_ADDR=$SLUICE_ADDR SLUICE_CA=$SLUICE_CA SLUICE_SERVER_NAME=sluice.test
  export SLUICE_TOKEN_FILE=$run/token
  $cli enqueue -q emails -t hello -p hi
  $cli consume -q emails
Stop it with: kill $pid
EOF
fi
