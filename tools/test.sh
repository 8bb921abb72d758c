#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The test command: install dependencies, build, run every suite.
#
# Two variants, each a full build with warnings as errors:
#   gcc   -O2 -D_FORTIFY_SOURCE=3      every suite except fuzz (libFuzzer is clang's)
#   asan  clang, ASan+UBSan (fatal)    every suite, fuzzers for SLUICE_FUZZ_SECONDS each
# Ends with the line "N passed, M failed"; exit status 0 only when M is 0.
#
# Environment: SLUICE_TEST_VARIANTS (default "gcc asan"), SLUICE_FUZZ_SECONDS
# (default 60), SLUICE_BUILD_ROOT (default build-test).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tools/deps.sh || { echo "deps failed"; echo "0 passed, 1 failed"; exit 1; }

variants=${SLUICE_TEST_VARIANTS:-gcc asan}
build_root=${SLUICE_BUILD_ROOT:-build-test}
export SLUICE_FUZZ_SECONDS=${SLUICE_FUZZ_SECONDS:-60}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
summary=()

setup() {
	local v=$1 dir=$2 re=
	[ -d "$dir/meson-private" ] && re=--reconfigure
	case $v in
	gcc)
		CC=gcc CXX=g++ meson setup $re "$dir" \
			-Dc_args='-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3' \
			-Dcpp_args='-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3' ;;
	asan)
		CC=clang CXX=clang++ meson setup $re "$dir" \
			-Db_sanitize=address,undefined -Db_lundef=false \
			-Dc_args=-fno-sanitize-recover=all -Dcpp_args=-fno-sanitize-recover=all ;;
	*)
		echo "unknown variant $v"; return 1 ;;
	esac
}

for v in $variants; do
	dir="$build_root/$v"
	echo "=== variant $v: configure and build ($dir)"
	mkdir -p "$build_root"
	if ! setup "$v" "$dir" >"$build_root/$v.setup.log" 2>&1; then
		cat "$build_root/$v.setup.log"
		echo "variant $v: configure FAILED"
		failed=$((failed + 1)); summary+=("$v: configure failed"); continue
	fi
	if ! ninja -C "$dir" >"$build_root/$v.build.log" 2>&1; then
		tail -n 60 "$build_root/$v.build.log"
		echo "variant $v: build FAILED"
		failed=$((failed + 1)); summary+=("$v: build failed"); continue
	fi
	echo "=== variant $v: tests"
	meson test -C "$dir" --print-errorlogs --num-processes 2
	counts=$(/usr/bin/python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line)
    if r.get("result") == "OK":
        ok += 1
    else:  # FAIL, TIMEOUT, SKIP, ERROR, UNEXPECTEDPASS all count as failures
        bad += 1
        print("failed:", r.get("name"), r.get("result"), file=sys.stderr)
print(ok, bad)
PY
	) || counts="0 1"
	read -r ok bad <<<"$counts"
	passed=$((passed + ok)); failed=$((failed + bad))
	summary+=("$v: $ok passed, $bad failed")
done

echo "=== summary"
for s in "${summary[@]}"; do echo "  $s"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
