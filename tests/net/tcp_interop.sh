#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end: sluice's TCP (tcp_peer on net_tap) against Linux kernel sockets
# (tcp_interop.py) inside a network namespace made here: stack 198.18.0.2,
# kernel 198.18.0.1/24 on the tap. Every transfer checks every byte (the
# sink's FNV answer, the source's and echo's pattern and count) and its time
# bound; every tcp_peer run is checked at exit by its own counters: no
# connection, half-open connection or mbuf left in TCP (TIME_WAIT lasts 1 s
# here, --msl-ms 500). The namespace and everything in it are removed on
# exit. Needs root (ip netns, tap). Figures go to stdout, one line each.
#
# Usage: tcp_interop.sh TCP_PEER TCP_FNV PYTHON TCP_INTEROP_PY CASE...
# Each CASE below; sizes are sink (kernel->stack) / source (stack->kernel) /
# echo (4 connections at once, both ways); [bound] is per transfer; the
# figures are MB/s on this 2-CPU machine shared with other jobs, gcc and
# ASan builds alike.
#   clean    256 MiB / 256 MiB / 4 x 8 MiB                              [60 s]
#            sink 29-73, source 18-48, echo 12-49
#   loss     5 % loss, twice. On the kernel's frames only, as tc netem on
#            the tap does: 256 / 256 / 4 x 8 MiB                        [60 s]
#            sink 19-42, source 8-22, echo 15-37
#            loss-both, on the stack's frames too: 256 / 24 / 4 x 2 MiB [120 s]
#            sink 12-30, source 0.4-0.5 (about 52 s), echo 1.5-2.1
#   reorder  delay 5 ms reorder 25 % (a quarter of the frames overtake the
#            rest by 5 ms), kernel's frames: 256 / 256 / 4 x 8 MiB      [90 s]
#            sink 6-13, source 20-37, echo 11-24
#            reorder-both: 256 / 64 / 4 x 8 MiB                         [90 s]
#            sink 9-14, source 1.8-2.3 (30-37 s), echo 7-17
#   dup      1 % duplicated, then both ways: 256 / 256 / 4 x 8 MiB      [60 s]
#            27-74 every way
#   delay    20 ms (RTT +20 ms), then both ways (RTT +40 ms), 4 MiB
#            windows: 256 / 256 / 4 x 8 MiB                             [90 s]
#            sink 31-57, source 22-30, echo 6-24
#   many     1,000 kernel connections all established at once (SYN cookies
#            past the backlog), then 64 KiB each into the sink; 1,000 right
#            answers, all 1,000 accepted and freed                      [60 s]
#            established in 0.07-1 s, all answered in 2-8 s
#   kill     16 clients killed mid-transfer -- 4 each: sink SIGKILL, sink
#            SO_LINGER 0, source SIGKILL with unread bytes, echo SO_LINGER
#            0 -- while a 256 MiB sink and source transfer run: those stay
#            exact, new connections still work, the stack counts >= 12
#            resets and frees everything                               [120 s]
#            control transfers 12-29 s
#   active   tcp_peer --connect to a kernel listener speaking the sink
#            protocol: 64 connections, 16 at a time, 4 MiB each, every
#            answer checked by tcp_peer, every stream by the listener; exit 0
#            and no mbuf held                                           [60 s]
#            5-8 s
#
# Smaller sizes, on purpose: with 5 % loss on both directions the stack's
# sender (NewReno, RFC 6582; no SACK scoreboard, no tail loss probe) runs at
# 0.4-0.5 MB/s here -- in its small windows many losses end in a 200 ms RTO
# -- so 256 MiB would take some 10 minutes: loss-both sends 24 MiB (and 2
# MiB per echo connection) from the stack, what fits its bound with margin.
# With reordering on both directions it runs at about 2 MB/s (fast
# retransmits that prove spurious are undone, RFC 3522/4015, but cost their
# round trip): reorder-both sends 64 MiB. Every other transfer is 256 MiB.
#
# Impairment: when this kernel has sch_netem, the kernel's frames go through
# tc netem on its side of the tap. This one has none (no modules,
# CONFIG_NET_SCH_NETEM unset), so tcp_peer applies the same impairment to
# the frames it receives (--netem-rx), with netem's semantics, and to the
# frames it sends for the -both runs (--netem-tx). Random draws are seeded.
set -euo pipefail

peer=${1:?usage: tcp_interop.sh TCP_PEER TCP_FNV PYTHON TCP_INTEROP_PY CASE...}
fnv=${2:?}
py=${3:?}
pyfile=${4:?}
shift 4
[ $# -gt 0 ] || set -- clean loss reorder dup delay many kill active

MiB=$((1 << 20))

fail() {
	echo "tcp-interop: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] ||
	fail "needs root to create a network namespace and a tap; run the e2e suite as root"
for t in ip tc timeout; do
	command -v "$t" >/dev/null || fail "'$t' not found: run tools/deps.sh (iproute2, coreutils)"
done
[ -c /dev/net/tun ] || fail "/dev/net/tun missing: net_tap needs the tun driver (modprobe tun)"

ns=sluice-tcp-$$
iface=sltcp$$
stack_ip=198.18.0.2
kernel_ip=198.18.0.1
tmp=$(mktemp -d)
peer_pid=
peer_name=
bg_pid=

cleanup() {
	for p in $peer_pid $bg_pid; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
touch "$tmp/figures"

# Does this kernel have sch_netem? (Tried on a scratch tap in the namespace.)
kernel_netem=no
if ip netns exec "$ns" ip tuntap add dev slprobe mode tap 2>/dev/null; then
	if ip netns exec "$ns" tc qdisc add dev slprobe root netem delay 1ms 2>/dev/null; then
		kernel_netem=yes
	fi
	ip netns exec "$ns" ip link del slprobe 2>/dev/null || true
fi

# Last CPU this process may use: the stack's single lcore (others tend to take the first).
cpu=$(awk '/^Cpus_allowed_list/ { n = split($2, a, "[-,]"); print a[n] }' /proc/self/status)
eal=(-l "$cpu" --no-huge -m 512 --no-pci --no-shconf --no-telemetry
	--log-level=lib.eal:error --log-level=pmd.net.tap:error "--vdev=net_tap0,iface=$iface")

# tap_up: give the kernel its side of the (new) tap.
tap_up() {
	ip netns exec "$ns" ip addr add "$kernel_ip/24" dev "$iface"
	ip netns exec "$ns" ip link set "$iface" up
}

# start_peer NAME SECONDS ARGS...: tcp_peer's servers, stopped by stop_peer
# (and by themselves after SECONDS, even if this script dies).
start_peer() {
	local name=$1 secs=$2
	shift 2
	peer_name=$name
	rm -f "$tmp/mac"
	ip netns exec "$ns" "$peer" "${eal[@]}" -- --ip "$stack_ip/24" --seconds "$secs" \
		--ready "$tmp/mac" "$@" >"$tmp/$name.log" 2>&1 &
	peer_pid=$!
	for _ in $(seq 600); do
		[ -s "$tmp/mac" ] && break
		kill -0 "$peer_pid" 2>/dev/null || { cat "$tmp/$name.log" >&2; fail "$name: tcp_peer exited during setup"; }
		sleep 0.1
	done
	[ -s "$tmp/mac" ] || { cat "$tmp/$name.log" >&2; fail "$name: tcp_peer not ready after 60 s"; }
	tap_up
}

# stop_peer NAME: SIGTERM, exit status 0, counters in $tmp/NAME.log.
stop_peer() {
	local name=$1 rc=0
	kill -TERM "$peer_pid"
	wait "$peer_pid" || rc=$?
	peer_pid=
	[ $rc -eq 0 ] || { cat "$tmp/$name.log" >&2; fail "$name: tcp_peer exited with status $rc"; }
}

# peer_dump: after a failed transfer, stop tcp_peer and show what it holds.
peer_dump() {
	[ -n "$peer_pid" ] || return 0
	kill -TERM "$peer_pid" 2>/dev/null || true
	wait "$peer_pid" 2>/dev/null || true
	peer_pid=
	grep -E '^(open_conn|tcp_|drop_|netem_|poll_)' "$tmp/$peer_name.log" >&2 || true
}

count() { awk -v k="$2" '$1 == k { print $2 }' "$tmp/$1.log"; }

# show NAME KEY...: one line of the stack's counters for the closing note.
show() {
	local name=$1 line="" k v
	shift
	for k in "$@"; do
		v=$(count "$name" "$k")
		[ -z "$v" ] || line+=" $k=$v" # counters this run has
	done
	echo "tcp-interop: $name: stack:$line"
}

# all_freed NAME: nothing held after every connection ended (TIME_WAIT is
# 1 s here: --msl-ms 500, and stop_peer comes later than that).
all_freed() {
	local name=$1
	[ "$(count "$name" tcp_conns_in_use)" = 0 ] ||
		{ cat "$tmp/$name.log" >&2; fail "$name: $(count "$name" tcp_conns_in_use) connections left in the stack"; }
	[ "$(count "$name" tcp_half_open)" = 0 ] || fail "$name: half-open connections left"
	[ "$(count "$name" tcp_mbufs_held)" = 0 ] ||
		{ cat "$tmp/$name.log" >&2; fail "$name: $(count "$name" tcp_mbufs_held) mbufs still held by TCP"; }
	[ -z "$(count "$name" drop_tcp_bad_cksum)" ] || fail "$name: the stack saw bad TCP checksums"
}

# client BOUND ARGS...: one tcp_interop.py run in the namespace; fails past
# BOUND seconds. Its JSON line goes to stdout and $tmp/last.json.
client() {
	local bound=$1 rc=0 secs
	shift
	timeout -k 5 "$bound" ip netns exec "$ns" "$py" "$pyfile" --fnv "$fnv" \
		--io-timeout "$bound" "$@" >"$tmp/last.json" || rc=$?
	[ $rc -ne 124 ] || { peer_dump; fail "$* took longer than its bound of $bound s"; }
	[ $rc -eq 0 ] || { peer_dump; fail "$* failed (status $rc)"; }
	cat "$tmp/last.json"
	cat "$tmp/last.json" >>"$tmp/figures"
	secs=$(sed -n 's/.*"seconds": \([0-9.]*\).*/\1/p' "$tmp/last.json")
	awk -v s="$secs" -v b="$bound" 'BEGIN { exit !(s != "" && s <= b) }' ||
		fail "$* took $secs s, bound $bound s"
}

# streams NAME SINK SOURCE ECHO BOUND: the three listeners, one after another;
# echo is 4 connections of ECHO bytes at once.
streams() {
	local name=$1 sink=$2 source=$3 echo=$4 bound=$5
	client "$bound" sink --bytes "$sink" --label "$name-"
	client "$bound" source --bytes "$source" --label "$name-"
	client "$bound" echo --bytes "$echo" --conns 4 --label "$name-"
}

# netem_args SPEC: tcp_peer's impairment spec as tc netem arguments.
netem_args() {
	local a=() kv
	for kv in ${1//,/ }; do
		case ${kv%%=*} in
		loss) a+=(loss "${kv#*=}%") ;;
		dup) a+=(duplicate "${kv#*=}%") ;;
		delay) a+=(delay "${kv#*=}ms") ;;
		reorder) a+=(reorder "${kv#*=}%") ;;
		esac
	done
	echo "limit 100000 ${a[*]}"
}

# impaired NAME SPEC BOTH SINK SOURCE ECHO BOUND [tcp_peer args]: one tcp_peer
# run with SPEC on the kernel's frames, as tc netem on its side of the tap
# does (the real one when the kernel has sch_netem, else tcp_peer's
# --netem-rx), and with BOTH=both on the stack's frames too (--netem-tx).
impaired() {
	local name=$1 spec=$2 both=$3 sink=$4 source=$5 echo=$6 bound=$7 args=() rx tx=none
	shift 7
	[ "$both" = both ] && args+=(--netem-tx "$spec") && tx="tcp_peer --netem-tx $spec"
	if [ $kernel_netem = yes ]; then
		start_peer "$name" 900 --msl-ms 500 --seed 1 "${args[@]}" "$@"
		# shellcheck disable=SC2046
		ip netns exec "$ns" tc qdisc add dev "$iface" root netem $(netem_args "$spec") ||
			fail "$name: tc qdisc add dev $iface root netem $(netem_args "$spec")"
		rx="tc netem $(netem_args "$spec")"
	else
		start_peer "$name" 900 --msl-ms 500 --seed 1 --netem-rx "$spec" "${args[@]}" "$@"
		rx="tcp_peer --netem-rx $spec (this kernel has no sch_netem)"
	fi
	echo "tcp-interop: $name: kernel->stack: $rx; stack->kernel: $tx"
	streams "$name" "$sink" "$source" "$echo" "$bound"
	sleep 1.5
	stop_peer "$name"
	show "$name" tcp_retransmits tcp_rto_fired tcp_fast_retransmits tcp_spurious_rexmits \
		tcp_ooo_queued netem_rx_lost netem_tx_lost netem_rx_duplicated netem_tx_duplicated \
		netem_rx_reordered netem_tx_reordered netem_rx_overflow netem_tx_overflow
	all_freed "$name"
}

for c in "$@"; do
	t0=$(date +%s)
	case $c in
	clean)
		start_peer clean 300 --msl-ms 500
		streams clean $((256 * MiB)) $((256 * MiB)) $((8 * MiB)) 60
		sleep 1.5
		stop_peer clean
		show clean tcp_segs_in tcp_segs_out tcp_retransmits tcp_delayed_acks
		all_freed clean
		;;
	loss)
		impaired loss loss=5 kernel $((256 * MiB)) $((256 * MiB)) $((8 * MiB)) 60
		impaired loss-both loss=5 both $((256 * MiB)) $((24 * MiB)) $((2 * MiB)) 120
		;;
	reorder)
		impaired reorder delay=5,reorder=25 kernel $((256 * MiB)) $((256 * MiB)) $((8 * MiB)) 90
		impaired reorder-both delay=5,reorder=25 both $((256 * MiB)) $((64 * MiB)) $((8 * MiB)) 90
		;;
	dup)
		impaired dup dup=1 kernel $((256 * MiB)) $((256 * MiB)) $((8 * MiB)) 60
		impaired dup-both dup=1 both $((256 * MiB)) $((256 * MiB)) $((8 * MiB)) 60
		;;
	delay)
		impaired delay delay=20 kernel $((256 * MiB)) $((256 * MiB)) $((8 * MiB)) 90 \
			--rcv-buf $((4 * MiB)) --snd-buf $((4 * MiB))
		impaired delay-both delay=20 both $((256 * MiB)) $((256 * MiB)) $((8 * MiB)) 90 \
			--rcv-buf $((4 * MiB)) --snd-buf $((4 * MiB))
		;;
	many)
		start_peer many 300 --msl-ms 500
		client 60 many --conns 1000 --bytes 65536
		sleep 1.5
		stop_peer many
		show many tcp_accepts tcp_syn_cookies_sent tcp_syn_cookies_accepted tcp_resets_sent
		[ "$(count many tcp_accepts)" -ge 1000 ] || fail "many: the stack accepted fewer than 1000"
		all_freed many
		;;
	kill)
		start_peer kill 300 --msl-ms 500
		client 120 kill --bytes $((256 * MiB)) --victims 4
		sleep 1.5
		stop_peer kill
		show kill tcp_accepts tcp_resets_received tcp_resets_sent tcp_challenge_acks
		# 12 reset on purpose (sink-rst, echo-rst, source-kill); the 4
		# SIGKILLed sinks close with a FIN and reset at the sink's answer
		[ "$(count kill tcp_resets_received)" -ge 12 ] ||
			fail "kill: the stack counted $(count kill tcp_resets_received) resets, want >= 12"
		all_freed kill
		;;
	active)
		rm -f "$tmp/listening"
		# the tap exists once tcp_peer runs: listen on any address
		timeout -k 5 90 ip netns exec "$ns" "$py" "$pyfile" --fnv "$fnv" listen \
			--host 0.0.0.0 --port 7001 --conns 64 --io-timeout 60 \
			--ready "$tmp/listening" >"$tmp/listener.json" &
		bg_pid=$!
		for _ in $(seq 100); do
			[ -s "$tmp/listening" ] && break
			sleep 0.1
		done
		[ -s "$tmp/listening" ] || fail "active: the kernel listener did not start"
		rm -f "$tmp/mac"
		rc=0
		ip netns exec "$ns" "$peer" "${eal[@]}" -- --ip "$stack_ip/24" --seconds 60 \
			--ready "$tmp/mac" --connect "$kernel_ip:7001" --conns 16 --total 64 \
			--bytes $((4 * MiB)) --msg 16384 >"$tmp/active.log" 2>&1 &
		peer_pid=$!
		for _ in $(seq 150); do
			[ -s "$tmp/mac" ] && break
			kill -0 "$peer_pid" 2>/dev/null || break
			sleep 0.1
		done
		[ -s "$tmp/mac" ] && tap_up
		wait "$peer_pid" || rc=$?
		peer_pid=
		[ $rc -eq 0 ] || { cat "$tmp/active.log" >&2; fail "active: tcp_peer --connect exited with status $rc"; }
		rc=0
		wait "$bg_pid" || rc=$?
		bg_pid=
		[ $rc -eq 0 ] || fail "active: the kernel listener failed (status $rc)"
		grep '^{' "$tmp/active.log" | sed 's/^{/{"case": "active-tcp_peer", /' | tee -a "$tmp/figures"
		tee -a "$tmp/figures" <"$tmp/listener.json"
		show active tcp_connects tcp_retransmits tcp_conns_in_use tcp_mbufs_held
		[ "$(count active tcp_mbufs_held)" = 0 ] || fail "active: mbufs still held at exit"
		;;
	*)
		fail "unknown case '$c'"
		;;
	esac
	echo "tcp-interop: $c: ok in $(($(date +%s) - t0)) s"
done
echo "tcp-interop: figures (MB/s is payload one way; echo counts the bytes sent):"
sed 's/[{}"]//g' "$tmp/figures"
echo "tcp-interop: ok"
