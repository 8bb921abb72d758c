#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Run a command inside a network namespace made for it, with the dpdk
# transport selected for the e2e harness (SLUICE_E2E_TRANSPORT=dpdk): sluiced
# gets a net_tap port there, the clients use the kernel side of the tap. The
# namespace (and every tap in it) is removed on exit. Needs root.
# Usage: in_netns.sh COMMAND [ARGS...]
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "in_netns: needs root (ip netns, tap)" >&2; exit 1; }
[ -c /dev/net/tun ] || { echo "in_netns: /dev/net/tun missing (modprobe tun)" >&2; exit 1; }
ns=sluice-e2e-$$-$RANDOM
cleanup() {
	# nothing the test started may outlive it (a poll-mode sluiced would spin on)
	local pids
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
rc=0
ip netns exec "$ns" env SLUICE_E2E_TRANSPORT=dpdk "$@" || rc=$?
exit $rc
