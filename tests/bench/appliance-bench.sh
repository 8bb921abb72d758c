#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sluiced on its two transports, same machine, same run: the kernel-bypass
# ratio and latency at half load. A benchmark you run on purpose, not a test.
#
# For each round and each transport (the order alternates between rounds):
#   produce  sluice-bench --mode produce: 8 connections, batches of 64,
#            256-byte jobs, closed loop (as fast as acks come): jobs/s
#   consume  --mode consume, 2 consumers (prefetch 1024) draining what
#            produce left in the queue: jobs/s
#   half     a fresh sluiced; --mode e2e, the same 8 producers and 2
#            consumers, open loop at half of 1 / (1/produce + 1/consume):
#            one lcore does both, so end to end it sustains at most the
#            rate at which their costs add up to the whole lcore. Reports
#            p50/p99 enqueue->ack and enqueue->deliver, and whether the
#            deliveries kept up (delivered vs offered)
# sluiced runs one I/O+worker lcore pinned to the last CPU, its main lcore
# and the bench client on the first.
#   kernel   --listen 127.0.0.1 (epoll, kernel TCP on loopback)
#   dpdk     a net_tap port in a namespace made here, sluice's TCP/IP stack at
#            198.18.0.2, the client in the namespace on the kernel's side of
#            the tap (198.18.0.1). net_tap is itself a kernel device: every
#            frame crosses a tap read/write, so this is not the NIC a real
#            appliance polls; it measures the stack and the path without a
#            socket layer on the appliance's side.
# Prints every measurement and then medians with the dpdk/kernel ratio.
# Removes the namespace, and frees the hugepages it reserved, on exit.
#
# Usage: tests/bench/appliance-bench.sh [--build DIR] [--rounds N] [--seconds S]
#   --build DIR   a configured build (default: build; built here if needed)
#   --rounds N    rounds (default 3)
#   --seconds S   measured seconds per run (default 4, plus 1 s warm-up)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build
rounds=3
secs=4
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	-h | --help) sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "appliance-bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "appliance-bench.sh: needs root (namespace, tap)" >&2; exit 2; }
ninja -C "$build" dataplane/sluiced tools/bench/sluice-bench >/dev/null
sluiced=$build/dataplane/sluiced
bench=$build/tools/bench/sluice-bench

tmp=$(mktemp -d /tmp/sluice-abench-XXXXXX)
ns=sluice-abench-$$
iface=slab$$
pid=
cleanup() {
	[ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
tools/gen-test-certs.sh "$tmp/certs" >/dev/null 2>&1
token=slq_bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'bench both %s * * 262144 15\n' "$("$sluiced" --hash-token "$token")" >"$tmp/tokens"
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up

last=$(($(nproc) - 1))
port=7443

# start TRANSPORT: a fresh sluiced, ready for connections
start() {
	local t=$1 pre=() eal=() listen
	if [ "$t" = dpdk ]; then
		pre=(ip netns exec "$ns")
		eal=("--vdev=net_tap0,iface=$iface")
		listen=(--transport dpdk --ip 198.18.0.2/24 --listen "0.0.0.0:$port")
	else
		listen=(--listen "127.0.0.1:$port")
	fi
	"${pre[@]}" "$sluiced" --no-huge -m 2000 --no-shconf --no-pci --lcores "0@0,1@$last" \
		--log-level=error "${eal[@]}" -- \
		--cert "$tmp/certs/server.pem" --key "$tmp/certs/server.key" --tokens "$tmp/tokens" \
		"${listen[@]}" --job-mem-mb 1400 --max-jobs 2000000 \
		--queue bench,max_jobs=2000000,max_bytes=1400000000 >"$tmp/sluiced.log" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		grep -q listening "$tmp/sluiced.log" && break
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/sluiced.log"; exit 1; }
		sleep 0.1
	done
	if [ "$t" = dpdk ]; then
		ip netns exec "$ns" ip addr replace 198.18.0.1/24 dev "$iface"
		ip netns exec "$ns" ip link set "$iface" up
		ip netns exec "$ns" ping -c 1 -W 5 198.18.0.2 >/dev/null ||
			{ cat "$tmp/sluiced.log"; echo "appliance-bench.sh: no answer on the tap" >&2; exit 1; }
	fi
}

stop() {
	kill -TERM "$pid"
	wait "$pid" || { cat "$tmp/sluiced.log"; echo "appliance-bench.sh: sluiced failed" >&2; exit 1; }
	pid=
}

# run TRANSPORT LABEL ARGS...: one sluice-bench run against the running sluiced
run() {
	local t=$1 label=$2 pre=() addr=127.0.0.1:$port
	shift 2
	if [ "$t" = dpdk ]; then
		pre=(ip netns exec "$ns")
		addr=198.18.0.2:$port
	fi
	"${pre[@]}" taskset -c 0 "$bench" --addr "$addr" --ca "$tmp/certs/ca.pem" \
		--server-name sluice.test --token "$token" --queue bench --connections 8 --batch 64 \
		--payload 256 --duration "$secs" --warmup 1 --json "$@" >"$tmp/$label.json"
	printf '%s %s %s\n' "$t" "$label" "$(cat "$tmp/$label.json")" | tee -a "$tmp/all"
}

for r in $(seq "$rounds"); do
	order="kernel dpdk"
	[ $((r % 2)) -eq 0 ] && order="dpdk kernel"
	for t in $order; do
		start "$t"
		run "$t" produce --mode produce
		run "$t" consume --mode consume --consumers 2 --prefetch 1024
		stop
		half=$(python3 -c 'import json,sys
p = json.load(open(sys.argv[1]))["jobs_per_s"]
c = json.load(open(sys.argv[2]))["delivered"] / float(sys.argv[3])
print(int(0.5 / (1 / p + 1 / c)))' "$tmp/produce.json" "$tmp/consume.json" "$secs")
		start "$t"
		run "$t" half --mode e2e --consumers 2 --prefetch 1024 --rate "$half"
		stop
	done
done

python3 - "$tmp/all" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    t, label, js = line.split(" ", 2)
    rows.setdefault((t, label), []).append(json.loads(js))
med = lambda xs: statistics.median(xs)
print("\nmedians over %d round(s)" % len(rows[("kernel", "produce")]))
print("%-34s %12s %12s %8s" % ("", "kernel", "dpdk", "dpdk/k"))
def line(name, f, label):
    k = med([f(x) for x in rows[("kernel", label)]])
    d = med([f(x) for x in rows[("dpdk", label)]])
    print("%-34s %12.0f %12.0f %8.2f" % (name, k, d, d / k if k else 0))
line("produce, jobs/s (closed loop)", lambda x: x["jobs_per_s"], "produce")
line("consume, jobs/s (prefetch 1024)", lambda x: x["delivered"] / x["seconds"], "consume")
line("half load: offered jobs/s", lambda x: x["rate"], "half")
line("half load: delivered jobs/s", lambda x: x["delivered"] / x["seconds"], "half")
line("half load: enqueue->ack p50 us", lambda x: x["ack_us"]["p50"], "half")
line("half load: enqueue->ack p99 us", lambda x: x["ack_us"]["p99"], "half")
line("half load: enqueue->deliver p50 us", lambda x: x["deliver_us"]["p50"], "half")
line("half load: enqueue->deliver p99 us", lambda x: x["deliver_us"]["p99"], "half")
PY
