#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The `sluice` CLI binary against the protocol-conformance harness
# (conformance-peer, not sluiced) on 127.0.0.1: output, exit codes, JSON
# lines, command-per-job, and that payload bytes stay out of the logs.
# Usage: cli-test.sh GEN_CERTS_SCRIPT SLUICE_BINARY CONFORMANCE_PEER_BINARY
set -uo pipefail
gen=$1
sluice=$2
peer=$3
d=$(mktemp -d)
peer_pid=
cleanup() {
	[ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
"$gen" "$d/certs" || exit 1

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect() { # description, condition...
	local what=$1
	shift
	if "$@"; then ok; else bad "$what"; fi
}

start_peer() {
	"$peer" "$d/certs" "$@" >"$d/peer.out" &
	peer_pid=$!
	for _ in $(seq 1 100); do
		grep -q '^port ' "$d/peer.out" 2>/dev/null && break
		sleep 0.05
	done
	export SLUICE_ADDR="127.0.0.1:$(awk '/^port /{print $2}' "$d/peer.out")"
}
stop_peer() { # the peer ends by itself once its sessions are served
	wait "$peer_pid"
	peer_pid=
	if ! grep -q '^violations=0$' "$d/peer.out"; then bad "peer saw violations:"; cat "$d/peer.out"; fi
}
stat() { sed -n "s/^$1=//p" "$d/peer.out"; }

export SLUICE_CA="$d/certs/ca.pem" SLUICE_SERVER_NAME=sluice.test SLUICE_TOKEN=tok-cli
unset SLUICE_TOKEN_FILE SLUICE_CERT SLUICE_KEY SLUICE_TIMEOUT SLUICE_CONNECT_TIMEOUT

# ---- usage: no network needed ----
"$sluice" >/dev/null 2>&1
expect "no command is a usage error" [ $? -eq 2 ]
"$sluice" --help >"$d/o" 2>&1
expect "--help exits 0" [ $? -eq 0 ]
expect "--help lists the commands" grep -q 'consume' "$d/o"
for cmd in enqueue consume ping; do
	"$sluice" "$cmd" --help >"$d/o" 2>&1
	expect "$cmd --help exits 0" [ $? -eq 0 ]
	expect "$cmd --help documents exit codes" grep -q '^exit status: 0 ok; 1' "$d/o"
	"$sluice" help "$cmd" >"$d/o2" 2>&1
	expect "help $cmd is $cmd --help" cmp -s "$d/o" "$d/o2"
done
"$sluice" enqueue -q q -t t --frob 2>"$d/e"
expect "unknown option: exit 2" [ $? -eq 2 ]
expect "unknown option named" grep -q 'unknown option --frob' "$d/e"
SLUICE_CA= "$sluice" ping 2>"$d/e"
expect "no CA: exit 2" [ $? -eq 2 ]
expect "no CA: says SLUICE_CA" grep -q 'SLUICE_CA' "$d/e"
"$sluice" enqueue -q 'bad queue' -t t -p x 2>"$d/e"
expect "bad queue name: exit 2" [ $? -eq 2 ]
"$sluice" ping --token-file "$d/missing" 2>"$d/e"
expect "missing token file: exit 2" [ $? -eq 2 ]

# ---- producer and ping: six sessions ----
start_peer sessions=6 token=tok-cli
"$sluice" ping -n 2 >"$d/o" 2>"$d/e"
expect "ping: exit 0" [ $? -eq 0 ]
expect "ping: names the appliance" grep -q 'conformance-peer, session 101' "$d/o"
expect "ping: two pongs" [ "$(grep -c '^pong: seq=' "$d/o")" -eq 2 ]

printf 'top-secret-payload' | "$sluice" enqueue -v -q emails -t send.welcome \
	--content-type text/plain -H trace=1 --priority 3 >"$d/o" 2>"$d/e"
expect "enqueue from stdin: exit 0" [ $? -eq 0 ]
expect "enqueue prints id and status" grep -Eq '^[0-9a-f]{32} Ok$' "$d/o"
expect "payload never in the log" bash -c "! grep -q top-secret '$d/e' '$d/o'"

"$sluice" enqueue -q emails -t bulk -p x -n 50 --batch 8 --quiet >"$d/o" 2>"$d/e"
expect "bulk: exit 0" [ $? -eq 0 ]
expect "bulk: quiet stdout" [ ! -s "$d/o" ]
expect "bulk: summary" grep -q '50 accepted (0 duplicate), 0 refused' "$d/e"

printf 'a' >"$d/f1"
printf 'b' >"$d/f2"
"$sluice" enqueue -q emails -t files -f "$d/f1" -f "$d/f2" >"$d/o" 2>"$d/e"
expect "two files: exit 0" [ $? -eq 0 ]
expect "two files: two jobs" [ "$(grep -c ' Ok$' "$d/o")" -eq 2 ]

"$sluice" enqueue -q full -t t -p x >"$d/o" 2>"$d/e"
expect "refused job: exit 1" [ $? -eq 1 ]
expect "refused job: status on stdout" grep -q ' QueueFull$' "$d/o"
expect "refused job: advice on stderr" grep -q 'back off and retry' "$d/e"

id=000102030405060708090a0b0c0d0e0f
"$sluice" enqueue -q emails -t t -p x --id $id >"$d/o" 2>"$d/e"
expect "explicit id: duplicate of nothing yet is Ok" grep -q "^$id Ok$" "$d/o"
stop_peer
expect "peer: 54 distinct jobs" [ "$(stat distinct_jobs)" = 54 ]
expect "peer: bulk went in batches of <= 8" [ "$(stat batches)" -ge 7 ]
expect "peer: token from SLUICE_TOKEN" [ "$(stat token_seen)" = tok-cli ]

# ---- refusals ----
start_peer sessions=1 token=other
SLUICE_TOKEN=wrong "$sluice" ping 2>"$d/e"
expect "bad token: exit 3" [ $? -eq 3 ]
expect "bad token: says so" grep -q 'Unauthenticated: token refused' "$d/e"
stop_peer
"$sluice" ping --addr "$SLUICE_ADDR" --connect-timeout 2s 2>"$d/e"
expect "nobody listening: exit 3" [ $? -eq 3 ]

# ---- consumer: JSON lines, then a command per job ----
start_peer sessions=3 deliver_jobs=9 lease_timeout_ms=400
"$sluice" consume -q work:2 -q other --max 3 --text >"$d/o" 2>"$d/e"
expect "consume json: exit 0" [ $? -eq 0 ]
expect "consume json: three lines" [ "$(wc -l <"$d/o")" -eq 3 ]
/usr/bin/python3 - "$d/o" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
jobs = [json.loads(l) for l in lines]
assert [j["payload"] for j in jobs] == ["job-0", "job-1", "job-2"], jobs
assert all(j["queue"] == "work" and j["type"] == "demo.task" for j in jobs)
assert jobs[1]["headers"] == {"trace": "t1"} and jobs[1]["attempt"] == 1
assert len(jobs[0]["id"]) == 32 and jobs[0]["content_type"] == "text/plain"
PY
expect "consume json: valid JSON with the job's fields" [ $? -eq 0 ]

"$sluice" consume -q work --max 3 -- sh -c \
	'p=$(cat); echo "$SLUICE_JOB_QUEUE $p" >>"$0"; sleep 0.5; [ "$p" != job-4 ]' "$d/ran" \
	>"$d/o" 2>"$d/e"
expect "consume exec: a failed job makes exit 1" [ $? -eq 1 ]
expect "consume exec: payload on stdin, env set" grep -q '^work job-3$' "$d/ran"
expect "consume exec: three runs" [ "$(wc -l <"$d/ran")" -eq 3 ]

"$sluice" consume -q work --max 1 --job-timeout 300ms -- sleep 5 2>"$d/e"
expect "consume exec timeout: exit 1" [ $? -eq 1 ]
stop_peer
expect "peer: 2 + 1 completed" [ "$(stat completes)" = 5 ]
expect "peer: one failed by exit status, one by timeout" [ "$(stat fails)" = 2 ]
expect "peer: timed-out command named" [ "$(stat fail_reason)" = "command timed out after 300 ms" ]
expect "peer: leases outlived 500 ms commands (extended)" [ "$(stat late_settles)" = 0 ]
expect "peer: extensions sent" [ "$(stat extends)" -ge 2 ]
expect "peer: credit never above prefetch" [ "$(stat max_credit_held)" -le 3 ]

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
