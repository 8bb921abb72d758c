#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end: attacks on dataplane/net's TCP, sent with scapy from inside a
# network namespace made here. tcp_peer runs the stack (198.18.0.2/24,
# gateway 198.18.0.1) on net_tap; the kernel owns 198.18.0.1/24 on the tap.
# One tcp_peer per phase, so each phase's counters are its own:
#
#   flood    SYN flood from spoofed 198.18.1.0/24 sources (off-link: the
#            stack answers through the gateway, the kernel drops the answers;
#            bounded: 4000 SYN/s, 60 s) with --syn-backlog 8,
#            while the kernel echoes 32 MiB and opens a new connection that
#            must finish its handshake through a SYN cookie and a sink
#            exchange. Counters: SYN cookies sent and accepted, half-open
#            connections within the backlog.
#   flood-onlink  the same from spoofed 198.18.0.128/25 (on-link: nobody
#            answers the stack's ARP requests; its answers wait in the bounded
#            ARP queue and are dropped there).
#   inject   blind in-window RSTs and SYNs (not at RCV.NXT) on an idle kernel
#            connection and during its transfer; the transfer completes intact.
#            Counters: RSTs and SYNs challenged, challenge ACKs, no reset.
#   window   data, ACK, RST and SYN segments outside the receive window: the
#            sink's answer is the kernel's bytes only; all counted out of window.
#   overlap  scapy's own connection (198.18.0.77, taught to the stack by ARP;
#            the kernel owns no such address and silently drops the stack's
#            segments to it, so it sends no RST) sends overlapping and
#            duplicate segments with different bytes in the overlaps; the echo
#            must be the bytes the stack accepted first.
#
# Everything stays in the namespace (198.18.0.0/15 only), which is removed on
# exit with everything in it; every wait is bounded. Needs root and
# python3-scapy (tools/deps.sh). Usage: tcp_attack.sh TCP_PEER [PHASE...]
set -euo pipefail

peer=${1:?usage: tcp_attack.sh TCP_PEER [PHASE...]}
shift
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(flood flood-onlink inject window overlap)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3 # Debian's, where python3-scapy lives

fail() {
	echo "tcp-attack: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] ||
	fail "needs root to create a network namespace and a tap; run the e2e suite as root"
command -v ip >/dev/null || fail "'ip' not found: run tools/deps.sh (iproute2)"
"$py" -c 'import scapy.all' 2>/dev/null ||
	fail "python3-scapy not found for $py: run tools/deps.sh"
command -v tcpdump >/dev/null || fail "'tcpdump' not found (scapy compiles its filters with it): run tools/deps.sh"
[ -c /dev/net/tun ] || fail "/dev/net/tun missing: net_tap needs the tun driver (modprobe tun)"

ns=sluice-atk-$$
iface=slatk$$
stack_ip=198.18.0.2
kernel_ip=198.18.0.1
tmp=$(mktemp -d)
peer_pid=
log=

cleanup() {
	if [ -n "$peer_pid" ] && kill -0 "$peer_pid" 2>/dev/null; then
		kill -TERM "$peer_pid" 2>/dev/null || true
		wait "$peer_pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# A host, not a router: segments the stack sends to addresses the kernel does
# not own (spoofed flood sources, scapy's 198.18.0.77) are dropped silently.
ip netns exec "$ns" sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward'

cpu=$(awk '/^Cpus_allowed_list/ { split($2, a, "[-,]"); print a[1] }' /proc/self/status)

# start_peer PHASE [tcp_peer options]: the stack on a fresh tap, kernel side up.
start_peer() {
	local phase=$1
	shift
	log=$tmp/$phase.log
	rm -f "$tmp/mac"
	# Bounded: tcp_peer exits by itself after 240 s even if this script dies.
	ip netns exec "$ns" "$peer" -l "$cpu" --no-huge -m 512 --no-pci --no-shconf \
		--no-telemetry --log-level=lib.eal:error "--vdev=net_tap0,iface=$iface" \
		-- --ip "$stack_ip/24" --gateway "$kernel_ip" --seconds 240 --ready "$tmp/mac" \
		--quiet "$@" >"$log" 2>&1 &
	peer_pid=$!
	# EAL start and the tap take a second or two, much more on a loaded machine
	for _ in $(seq 900); do
		[ -s "$tmp/mac" ] && break
		if ! kill -0 "$peer_pid" 2>/dev/null; then
			cat "$log" >&2
			fail "$phase: tcp_peer exited during setup"
		fi
		sleep 0.1
	done
	[ -s "$tmp/mac" ] || { cat "$log" >&2; fail "$phase: tcp_peer not ready after 90 s"; }
	mac=$(tr 'A-F' 'a-f' <"$tmp/mac")
	ip netns exec "$ns" ip addr add "$kernel_ip/24" dev "$iface"
	ip netns exec "$ns" ip link set "$iface" up
	# the kernel learns the stack's MAC before the clock of any test starts
	ip netns exec "$ns" ping -c 1 -W 2 "$stack_ip" >/dev/null 2>&1 || true
}

stop_peer() {
	kill -TERM "$peer_pid"
	wait "$peer_pid" || fail "tcp_peer exited with status $? (log: $(tail -5 "$log"))"
	peer_pid=
}

# run_attack PHASE [tcp_attack.py options]: the attack; its "key value" lines go to $tmp/out
run_attack() {
	local phase=$1
	shift
	timeout 200 ip netns exec "$ns" "$py" "$here/tcp_attack.py" "$phase" --iface "$iface" \
		--stack-ip "$stack_ip" --stack-mac "$mac" --kernel-ip "$kernel_ip" "$@" \
		>"$tmp/out" || {
		stop_peer || true
		cat "$log" >&2
		fail "$phase: the attack's checks failed (above)"
	}
}

count() { awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$log"; }
said() { awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$tmp/out"; }
# expect NAME OP VALUE: a counter of this phase's tcp_peer (OP: -ge, -le, -eq)
expect() {
	local v ok=0
	v=$(count "$1")
	case $2 in
	-ge) ok=$((v >= $3)) ;;
	-le) ok=$((v <= $3)) ;;
	-eq) ok=$((v == $3)) ;;
	esac
	[ "$ok" -eq 1 ] || {
		grep -E '^(tcp_|drop_)' "$log" >&2
		fail "$phase: $1 is $v, want $2 $3"
	}
}

for phase in "${phases[@]}"; do
	echo "tcp-attack: == $phase"
	case $phase in
	flood | flood-onlink)
		start_peer "$phase" --syn-backlog 8
		if [ "$phase" = flood ]; then
			run_attack flood
		else
			run_attack flood --flood-net 198.18.0.128/25
		fi
		stop_peer
		syns=$(said flood_syns)
		expect tcp_syn_cookies_sent -ge 100
		# the kernel's connection opened during the flood went through a cookie
		expect tcp_syn_cookies_accepted -ge 1
		expect tcp_accepts -ge 2
		expect tcp_half_open -le 8
		# on-link: every answer to a spoofed source waits for ARP, in the
		# bounded pending queue, and is dropped there
		[ "$phase" = flood ] || expect drop_arp_pending_full -ge 1
		echo "tcp-attack: $phase: $syns SYNs, $(count tcp_syn_cookies_sent) cookies sent," \
			"$(count tcp_syn_cookies_accepted) accepted, $(count tcp_half_open) half-open at exit"
		;;
	inject)
		start_peer inject
		run_attack inject --bytes $((2 << 20))
		stop_peer
		expect drop_tcp_rst_challenged -ge "$(said inject_rst_inwindow)"
		expect drop_tcp_syn_challenged -ge "$(said inject_syn)"
		expect tcp_challenge_acks -ge $(($(said inject_rst_inwindow) + $(said inject_syn)))
		expect tcp_resets_received -eq 0
		echo "tcp-attack: inject: $(count drop_tcp_rst_challenged) RSTs and" \
			"$(count drop_tcp_syn_challenged) SYNs challenged," \
			"$(count tcp_challenge_acks) challenge ACKs, no reset"
		;;
	window)
		start_peer window
		run_attack window
		stop_peer
		expect drop_tcp_out_of_window -ge "$(said window_segments)"
		expect tcp_resets_received -eq 0
		echo "tcp-attack: window: $(count drop_tcp_out_of_window) segments out of window"
		;;
	overlap)
		start_peer overlap
		run_attack overlap
		stop_peer
		expect tcp_ooo_queued -ge 5
		expect drop_tcp_out_of_window -ge 1
		echo "tcp-attack: overlap: $(count tcp_ooo_queued) segments queued out of order"
		;;
	*)
		fail "unknown phase '$phase' (flood, flood-onlink, inject, window, overlap)"
		;;
	esac
	cat "$tmp/out"
done
echo "tcp-attack: ok"
