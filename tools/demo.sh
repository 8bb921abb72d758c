#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The appliance's main job on an embedded default.
#
# Installs dependencies, builds into build-demo/, makes throw-away test
# certificates, starts sluice-ctld (as user nobody when run as root) with a
# configuration holding two queues and a principal with a fresh token,
# reserves hugepages (falls back to --no-huge), makes a network namespace
# "sluice-demo" and starts sluiced there on the dpdk transport (--ctld: ctld
# authenticates every session): a net_tap port with sluice's own TCP/IP
# stack at 198.18.0.2:7443 (the kernel's side of the tap is 198.18.0.1).
# Then, from the namespace: a producer and a consumer through the CLI, and
# sluice-bench (8 producers, batches of 64, 256-byte jobs) at a fixed rate
# and at full speed; sluicectl shows the queues and the audit log. Prints
# the figures and stops everything (SIGTERM drain), removing the namespace
# and giving the hugepages back.
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
		sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'
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
ninja -C build-demo dataplane/sluiced tools/sluice/sluice tools/bench/sluice-bench \
	control/ctld/sluice-ctld tools/sluicectl/sluicectl >/dev/null

run=$root/build-demo/demo
mkdir -p "$run"
tools/gen-test-certs.sh "$run/certs" >/dev/null 2>&1
# sluice-ctld: its configuration, state and sockets under $run/ctld; the
# token it will know only by hash (sluicectl tokens create makes more).
token_id=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
token="slk_${token_id}_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
printf '%s\n' "$token" >"$run/token"
chmod 600 "$run/token"
ctld_dir=$run/ctld
rm -rf "$ctld_dir"
mkdir -p "$ctld_dir/state"
cat >"$ctld_dir/ctld.yaml" <<YAML
ctld:
  dataplane_socket: $ctld_dir/dp.sock
  dataplane_uids: [0]
  operator_socket: $ctld_dir/ctl.sock
  state_dir: $ctld_dir/state
  audit_log: $ctld_dir/state/audit.jsonl
queues:
  - {name: emails, max_jobs: 10000, lease_ms: 30000}
  - {name: bench, max_jobs: 700000, max_bytes: 700000000}
principals:
  - name: demo
    role: both
    queues: ["*"]
    tokens:
      - id: $token_id
        sha256: $(printf %s "$token" | sha256sum | cut -d' ' -f1)
YAML
[ "$(id -u)" -eq 0 ] || sed -i "s/dataplane_uids: \[0\]/dataplane_uids: [0, $(id -u)]/" \
	"$ctld_dir/ctld.yaml"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
	# ctld needs no privilege: run it as nobody, owning only its directory
	chown -R 65534:65534 "$ctld_dir"
	chmod 755 "$run"
	as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
build-demo/control/ctld/sluice-ctld --check-config "$ctld_dir/ctld.yaml"
"${as_user[@]}" build-demo/control/ctld/sluice-ctld --config "$ctld_dir/ctld.yaml" \
	>"$run/ctld.log" 2>&1 &
ctld_pid=$!
if ! $keep; then trap 'kill -TERM $ctld_pid 2>/dev/null || true' EXIT; fi
for _ in $(seq 100); do
	grep -q serving "$run/ctld.log" && break
	kill -0 "$ctld_pid" 2>/dev/null || { cat "$run/ctld.log"; exit 1; }
	sleep 0.1
done
sluicectl="build-demo/tools/sluicectl/sluicectl --socket $ctld_dir/ctl.sock"

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
	--cert "$run/certs/server.pem" --key "$run/certs/server.key" --ctld "$ctld_dir/dp.sock" \
	"${listen[@]}" --job-mem-mb 900 --max-jobs 800000 >"$run/sluiced.log" 2>&1 &
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
	if kill -0 "$ctld_pid" 2>/dev/null; then
		kill -TERM "$ctld_pid"
		wait "$ctld_pid" || true
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

echo
echo "\$ sluicectl queues                            # through sluice-ctld, audited"
$sluicectl queues
echo "\$ sluicectl stats"
$sluicectl stats
echo "\$ sluicectl audit tail 3 && sluicectl audit verify"
$sluicectl audit tail 3
$sluicectl audit verify

if $keep; then
	cat <<EOF

sluiced keeps running (pid $pid, $transport transport), sluice-ctld too (pid $ctld_pid). Try:
  $sluicectl status
  $sluicectl tokens create demo 3600
  export SLUICE_ADDR=$SLUICE_ADDR SLUICE_CA=$SLUICE_CA SLUICE_SERVER_NAME=sluice.test
  export SLUICE_TOKEN_FILE=$run/token
  $cli enqueue -q emails -t hello -p hi
  $cli consume -q emails
Stop them with: kill $pid $ctld_pid$([ "$transport" = dpdk ] && echo "; ip netns del $ns")
EOF
fi
