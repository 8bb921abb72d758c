#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sluice's TCP vs the Linux kernel's, same run, same cores (a program, not a
# test). Stack: two tcp_peer processes joined by net_memif (client on CPU A,
# server on CPU B, each busy-polling its core). Kernel: ktcp_peer client and
# server over loopback, pinned to the same two CPUs. Workloads:
#   msg256  C connections each writing N bytes in 256-byte messages
#   bulk    the same in 16 KiB writes
#   conns   short connections (connect, half-close, answer, close), 32 at a time
# Each round runs every workload on both sides, alternating; the figures are
# medians over the rounds, and the ratio is stack / kernel per workload; the
# segs/s column is the TCP segments (in + out) of the stack client's one lcore.
# A failed run (a client that exits non-zero) counts in no median; the table
# says how many runs each median is over.
# Usage: tests/bench/tcp-bench.sh [--rounds R] [--build DIR] [--logs DIR] [--json]
#   --logs DIR keeps every stack run's client and server output (counters,
#   "# conn" lines of connections still open at exit) for diagnosis.
set -euo pipefail

rounds=5
build=build-bench
json=0
logs=
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--logs) logs=$2; shift 2 ;;
	--json) json=1; shift ;;
	*) echo "usage: $0 [--rounds R] [--build DIR] [--logs DIR] [--json]" >&2; exit 2 ;;
	esac
done
[ -z "$logs" ] || { mkdir -p "$logs" && logs=$(cd "$logs" && pwd); }
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [ ! -d "$build/meson-private" ]; then
	CC=gcc CXX=g++ meson setup "$build" --buildtype=release >/dev/null
fi
ninja -C "$build" tests/net/tcp_peer tests/bench/ktcp_peer >/dev/null
peer=$build/tests/net/tcp_peer
kpeer=$build/tests/bench/ktcp_peer
cpus=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)
cpu_a=$(echo "$cpus" | awk -F'[-,]' '{ print $1 }')
cpu_b=$(echo "$cpus" | awk -F'[-,]' '{ print ($2 == "" ? $1 : $2) }')
tmp=$(mktemp -d)
# run_stack and run_kernel run in $(...) subshells: the server they have
# running, if any, is in $tmp/server.pid for cleanup
cleanup() {
	[ ! -s "$tmp/server.pid" ] || kill -TERM "$(cat "$tmp/server.pid")" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
	# the EAL's runtime directories (--file-prefix) outlive the processes
	for d in /var/run/dpdk "${XDG_RUNTIME_DIR:-/tmp}/dpdk"; do
		rm -rf "$d/slb-s$$" "$d/slb-c$$"
	done
}
trap cleanup EXIT

# workload name -> client arguments
declare -A args=(
	[msg256]="--conns 8 --bytes 33554432 --msg 256"
	[bulk]="--conns 8 --bytes 67108864 --msg 16384"
	[conns]="--conns 32 --total 20000 --bytes 0 --msg 256"
)
metric() { case $1 in conns) echo conns_s ;; bulk) echo mbit_s ;; *) echo msgs_s ;; esac; }
eal="--no-huge -m 1024 --no-pci --no-telemetry --log-level=lib.eal:error --log-level=pmd.net.memif:error"

run_stack() { # workload -> JSON line, nothing when the run failed
	local sock=$tmp/memif.sock ok=0
	rm -f "$tmp/ready"
	# The server's memif listener exists from its EAL init, but a client
	# that connects before the server's rte_eth_dev_start is turned away for
	# good (DPDK 22.11 memif clients never reconnect): start the client only
	# once the server wrote --ready, which it does after starting the port.
	taskset -c "$cpu_b" "$peer" -l "$cpu_b" $eal --file-prefix slb-s$$ \
		"--vdev=net_memif0,role=server,socket=$sock" -- --ip 198.18.0.1/24 --seconds 120 \
		--ready "$tmp/ready" --max-conns 16384 >"$tmp/server.log" 2>&1 &
	local spid=$!
	echo "$spid" >"$tmp/server.pid"
	for _ in $(seq 1200); do
		[ -s "$tmp/ready" ] && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -s "$tmp/ready" ]; then
		echo "tcp-bench: stack server not ready ($1):" >&2
		tail -20 "$tmp/server.log" >&2
		kill -TERM "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
		: >"$tmp/server.pid"
		return 0
	fi
	if taskset -c "$cpu_a" "$peer" -l "$cpu_a" $eal --file-prefix slb-c$$ \
		"--vdev=net_memif0,role=client,socket=$sock" -- --ip 198.18.0.2/24 --seconds 120 \
		--connect 198.18.0.1:5001 --max-conns 16384 --quiet ${args[$1]} >"$tmp/client.log" 2>&1; then
		ok=1
	else
		echo "tcp-bench: stack client failed ($1):" >&2
		grep -v '^tcp_\|^port_\|^[rt]x_frames' "$tmp/client.log" | tail -20 >&2
	fi
	kill -TERM "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	: >"$tmp/server.pid"
	[ -n "$logs" ] && cp "$tmp/client.log" "$logs/stack-$1-r$r-client.log" &&
		cp "$tmp/server.log" "$logs/stack-$1-r$r-server.log"
	[ "$ok" = 1 ] && grep '^{' "$tmp/client.log" | tail -1
	return 0
}

run_kernel() { # workload -> JSON line
	# Below the ephemeral range (32768-60999 by default): the conns workload
	# leaves thousands of client ports in TIME_WAIT there, and a listener
	# drawn onto one of them failed with EADDRINUSE.
	local port=$((20000 + RANDOM % 12000))
	taskset -c "$cpu_b" "$kpeer" --listen "127.0.0.1:$port" --seconds 120 >"$tmp/kserver.log" 2>&1 &
	local spid=$!
	echo "$spid" >"$tmp/server.pid"
	for _ in $(seq 600); do
		grep -q listening "$tmp/kserver.log" && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	taskset -c "$cpu_a" "$kpeer" --connect "127.0.0.1:$port" ${args[$1]} >"$tmp/kclient.out" 2>"$tmp/kclient.err" ||
		{ echo "tcp-bench: kernel client failed ($1):" >&2; cat "$tmp/kserver.log" "$tmp/kclient.err" >&2; : >"$tmp/kclient.out"; }
	kill -TERM "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	: >"$tmp/server.pid"
	grep '^{' "$tmp/kclient.out" | tail -1
	return 0
}

results=$tmp/results
: >"$results"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$rounds"); do
	for w in msg256 bulk conns; do
		m=$(metric "$w")
		sj=$(run_stack "$w")
		s=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['$m'])" "$sj" 2>/dev/null || echo -)
		g=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['segs_s'])" "$sj" 2>/dev/null || echo -)
		k=$(run_kernel "$w" | python3 -c "import json,sys; print(json.load(sys.stdin)['$m'])" 2>/dev/null || echo -)
		echo "$w $s $k $g" >>"$results"
		[ "$json" = 1 ] || echo "round $r $w: stack $s kernel $k ($m)" >&2
	done
done
# other work on these CPUs skews both sides: the load average goes with the figures
python3 - "$results" "$json" "$cpu_a" "$cpu_b" "$rounds" "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
out = {"cpus": [int(sys.argv[3]), int(sys.argv[4])], "rounds": int(sys.argv[5]),
       "loadavg_start": sys.argv[6], "loadavg_end": sys.argv[7], "workloads": {}}
units = {"msg256": "256B-msgs/s", "bulk": "Mbit/s", "conns": "connections/s"}
for w in ("msg256", "bulk", "conns"):
    s = [float(r[1]) for r in rows if r[0] == w and r[1] != "-"]
    k = [float(r[2]) for r in rows if r[0] == w and r[2] != "-"]
    g = [float(r[3]) for r in rows if r[0] == w and r[3] != "-"]
    ms = statistics.median(s) if s else None
    mk = statistics.median(k) if k else None
    out["workloads"][w] = {"stack_median": ms, "kernel_median": mk,
                           "stack_client_segs_s_median": statistics.median(g) if g else None,
                           "ratio": ms / mk if ms is not None and mk else None,
                           "stack_runs": len(s), "kernel_runs": len(k),
                           "stack": s, "kernel": k, "unit": units[w]}
if sys.argv[2] == "1":
    print(json.dumps(out))
else:
    fmt = lambda v: "failed" if v is None else f"{v:.0f}"
    print(f"{'workload':8} {'stack':>10} {'kernel':>10} {'ratio':>6} {'segs/s':>10}  unit"
          f"  (medians of {out['rounds']} rounds, CPUs {out['cpus']}; segs/s: TCP segments"
          f" in + out of the stack's client lcore, one core)")
    for w, v in out["workloads"].items():
        ratio = f"{v['ratio']:.2f}" if v["ratio"] is not None else "n/a"
        runs = ""
        if v["stack_runs"] != out["rounds"] or v["kernel_runs"] != out["rounds"]:
            runs = f"  (ok runs: stack {v['stack_runs']}, kernel {v['kernel_runs']})"
        print(f"{w:8} {fmt(v['stack_median']):>10} {fmt(v['kernel_median']):>10} {ratio:>6}"
              f" {fmt(v['stack_client_segs_s_median']):>10}  {v['unit']}{runs}")
    print(f"load average {out['loadavg_start']} at start, {out['loadavg_end']} at end")
PY
