#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The appliance's main job on an embedded default.
#
# Installs dependencies, builds into build-demo/, makes throw-away test
# certificates and a token, reserves hugepages (falls back to --no-huge),
# makes a network namespace "sluice-demo" and starts sluiced there on the
# dpdk transport: a net_tap port with sluice's own TCP/IP stack at
# 198.18.0.2:7443 (the kernel's side of the tap is 198.18.0.1). Then, from
# the namespace: a producer and a consumer through the CLI, and sluice-bench
# (8 producers, batches of 64, 256-byte jobs) at a fixed rate and at full
# speed. Prints the figures and stops everything (SIGTERM drain), removing
# the namespace and giving the hugepages back.
#
#   tools/demo.sh            run the demo and stop
#   tools/demo.sh --keep     leave sluiced running afterwards and print how to use it
#   tools/demo.sh --kernel   the kernel transport on 127.0.0.1:7443 instead
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
keep=false
transport=dpdk
for arg in "$@"; do
	case $arg in
	--keep) keep=true ;;
	--kernel) transport=kernel ;;
	-h | --help)
		sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "demo.sh: unknown argument '$arg' (use --keep, --kernel or --help)" >&2
		exit 2
		;;
	esac
done
if [ "$transport" = dpdk ] && [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: the dpdk transport needs root (network namespace, tap, hugepages);" \
		"run as root or use --kernel" >&2
	exit 2
fi

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
cpus=$(nproc)
lcores="0@0,1@$((cpus > 1 ? 1 : 0))"
ns=sluice-demo
iface=sldemo0
in_ns=()
mem=(--no-huge -m 1600)
hp_before=
if [ "$transport" = dpdk ]; then
	if ip netns list | grep -qw "$ns"; then
		echo "demo.sh: namespace $ns exists (a demo still running?); stop it first:" \
			"ip netns pids $ns | xargs -r kill; ip netns del $ns" >&2
		exit 1
	fi
	# 2 MiB hugepages for DPDK's memory when the kernel can find them;
	# --in-memory leaves no hugepage files behind.
	hp=/proc/sys/vm/nr_hugepages
	if [ -w "$hp" ]; then
		hp_before=$(cat "$hp")
		echo $((hp_before + 850)) >"$hp" 2>/dev/null || true
		if [ "$(cat "$hp")" -ge $((hp_before + 850)) ]; then
			mem=(--in-memory -m 1600)
		else
			echo "$hp_before" >"$hp"
			hp_before=
		fi
	fi
	ip netns add "$ns"
	ip netns exec "$ns" ip link set lo up
	in_ns=(ip netns exec "$ns")
	listen=(--transport dpdk --ip 198.18.0.2/24 --listen "0.0.0.0:$port")
	eal=("--vdev=net_tap0,iface=$iface")
	addr=198.18.0.2:$port
else
	if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
		echo "demo.sh: 127.0.0.1:$port is in use (another sluiced?); stop it first" >&2
		exit 1
	fi
	listen=(--listen "127.0.0.1:$port")
	eal=()
	addr=127.0.0.1:$port
fi
"${in_ns[@]}" build-demo/dataplane/sluiced "${mem[@]}" --no-shconf --no-pci --lcores "$lcores" \
	--log-level=error "${eal[@]}" -- \
	--cert "$run/certs/server.pem" --key "$run/certs/server.key" --tokens "$run/tokens" \
	"${listen[@]}" --job-mem-mb 900 --max-jobs 800000 \
	--queue emails,max_jobs=10000,lease_ms=30000 \
	--queue bench,max_jobs=700000,max_bytes=700000000 >"$run/sluiced.log" 2>&1 &
pid=$!
stop() {
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" || true
		tail -n 1 "$run/sluiced.log"
	fi
	if [ "$transport" = dpdk ]; then
		ip netns del "$ns" 2>/dev/null || true
		[ -z "$hp_before" ] || echo "$hp_before" >/proc/sys/vm/nr_hugepages
	fi
}
if ! $keep; then trap stop EXIT; fi
for _ in $(seq 300); do
	grep -q listening "$run/sluiced.log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$run/sluiced.log"; exit 1; }
	sleep 0.1
done
if [ "$transport" = dpdk ]; then
	# the kernel's side of sluiced's tap
	ip netns exec "$ns" ip addr add 198.18.0.1/24 dev "$iface"
	ip netns exec "$ns" ip link set "$iface" up
	ip netns exec "$ns" ping -c 1 -W 5 198.18.0.2 >/dev/null ||
		{ cat "$run/sluiced.log"; echo "demo.sh: sluiced's stack does not answer" >&2; exit 1; }
fi
cat "$run/sluiced.log"

export SLUICE_ADDR=$addr SLUICE_CA=$run/certs/ca.pem SLUICE_SERVER_NAME=sluice.test \
	SLUICE_TOKEN_FILE=$run/token
cli="${in_ns[*]} build-demo/tools/sluice/sluice"
bench="${in_ns[*]} build-demo/tools/bench/sluice-bench --addr $SLUICE_ADDR --ca $SLUICE_CA --server-name sluice.test --token $token"

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

sluiced keeps running (pid $pid, $transport transport). Try:
  export SLUICE_ADDR=$SLUICE_ADDR SLUICE_CA=$SLUICE_CA SLUICE_SERVER_NAME=sluice.test
  export SLUICE_TOKEN_FILE=$run/token
  $cli enqueue -q emails -t hello -p hi
  $cli consume -q emails
Stop it with: kill $pid$([ "$transport" = dpdk ] && echo "; ip netns del $ns")
EOF
fi
