#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end: dataplane/net answers the Linux kernel over net_tap, inside a
# network namespace made here. The kernel pings the stack (198.18.0.2) from
# its side of the tap (198.18.0.1/24); ping must get every reply, and the
# kernel's neighbour table and arping must show the stack's MAC. Traffic
# stays in the namespace; the namespace and everything in it are removed on
# exit. Needs root (ip netns, tap). Usage: ping_e2e.sh PING_RESPONDER
set -euo pipefail

resp=${1:?usage: ping_e2e.sh PING_RESPONDER}
fail() {
	echo "ping-e2e: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] ||
	fail "needs root to create a network namespace and a tap; run the e2e suite as root"
for t in ip ping arping; do
	command -v "$t" >/dev/null ||
		fail "'$t' not found: run tools/deps.sh (iproute2, iputils-ping, iputils-arping)"
done
[ -c /dev/net/tun ] || fail "/dev/net/tun missing: net_tap needs the tun driver (modprobe tun)"

ns=sluice-net-$$
iface=sltap$$
stack_ip=198.18.0.2
kernel_ip=198.18.0.1
tmp=$(mktemp -d)
resp_pid=

cleanup() {
	if [ -n "$resp_pid" ] && kill -0 "$resp_pid" 2>/dev/null; then
		kill -TERM "$resp_pid" 2>/dev/null || true
		wait "$resp_pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up

# First CPU this process may use: the stack's single lcore.
cpu=$(awk '/^Cpus_allowed_list/ { split($2, a, "[-,]"); print a[1] }' /proc/self/status)

# Bounded: the responder exits by itself after 40 s even if this script dies.
ip netns exec "$ns" "$resp" -l "$cpu" --no-huge -m 256 --no-pci --no-shconf --no-telemetry \
	--log-level=lib.eal:error "--vdev=net_tap0,iface=$iface" \
	-- --ip "$stack_ip/24" --seconds 40 --ready "$tmp/mac" >"$tmp/log" 2>&1 &
resp_pid=$!

for _ in $(seq 150); do
	[ -s "$tmp/mac" ] && break
	if ! kill -0 "$resp_pid" 2>/dev/null; then
		cat "$tmp/log" >&2
		fail "ping_responder exited during setup"
	fi
	sleep 0.1
done
[ -s "$tmp/mac" ] || { cat "$tmp/log" >&2; fail "ping_responder not ready after 15 s"; }
mac=$(tr 'A-F' 'a-f' <"$tmp/mac")
echo "ping-e2e: stack $stack_ip at $mac on $iface in $ns"

ip netns exec "$ns" ip addr add "$kernel_ip/24" dev "$iface"
ip netns exec "$ns" ip link set "$iface" up

out=$(ip netns exec "$ns" ping -c 5 -W 1 -i 0.2 "$stack_ip" 2>&1) || {
	echo "$out" >&2
	cat "$tmp/log" >&2
	fail "kernel ping to the stack failed"
}
echo "$out" | grep -q ' 5 received' || { echo "$out" >&2; fail "ping lost replies"; }
echo "ping-e2e: ping: $(echo "$out" | grep received)"

neigh=$(ip netns exec "$ns" ip neigh show "$stack_ip" dev "$iface")
echo "ping-e2e: ip neigh: $neigh"
echo "$neigh" | grep -qi "lladdr $mac" || fail "kernel neighbour entry for $stack_ip is not $mac"

out=$(ip netns exec "$ns" arping -c 2 -w 5 -I "$iface" "$stack_ip" 2>&1) || {
	echo "$out" >&2
	fail "arping got no reply"
}
echo "$out" | grep -qi "reply from $stack_ip \[$mac\]" || {
	echo "$out" >&2
	fail "arping reply not from $mac"
}
echo "ping-e2e: arping: $(echo "$out" | grep -i received || true)"

# Stop the responder and check its own account of what happened.
kill -TERM "$resp_pid"
wait "$resp_pid" || fail "ping_responder exited with status $?"
resp_pid=
cat "$tmp/log"
count() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/log"; }
[ "$(count icmp_echo_replies)" -ge 5 ] || fail "stack counted fewer than 5 echo replies"
[ "$(count arp_replies_sent)" -ge 2 ] || fail "stack counted fewer than 2 ARP replies"
[ "$(count arp_learned)" -ge 1 ] || fail "stack did not learn the kernel's MAC"
[ -z "$(count drop_ip_bad_cksum)" ] || fail "stack saw bad IP checksums from the kernel"
echo "ping-e2e: ok"
