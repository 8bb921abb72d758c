#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run one libFuzzer target as a test: replay, then fuzz for a bounded time.

  run-fuzz.py --fuzzer BIN --artifacts DIR [--regressions DIR] [--dict FILE]
              [--max-seconds N] SEED...

1. Replay every file of --regressions and every seed, once each.
2. Copy the seeds into a fresh temporary corpus directory and fuzz for
   SLUICE_FUZZ_SECONDS seconds (default 60; 0 = replay only; never more
   than --max-seconds when given, which keeps CI time small) with
   -timeout=10 -rss_limit_mb=2048 -print_final_stats=1.
3. Remove the temporary corpus.

Fails (exit 1) on a non-zero exit of the target, a crash, a sanitizer
report, a timeout or an out-of-memory; the failing input is kept in
--artifacts (inside the build directory) and the command that replays it
is printed. Exit 2 on a usage error.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

# Any of these in the target's output is a failure, whatever the exit code.
REPORT_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "ERROR: UndefinedBehaviorSanitizer",
    "runtime error:",
    "ERROR: libFuzzer",
    "==ERROR:",
    "DIVERGENCE",
    "MISMATCH",
    "REJECTED",
)
LIBFUZZER_LIMITS = ["-timeout=10", "-rss_limit_mb=2048"]
# Extra wall-clock time allowed beyond -max_total_time before the run is killed.
GRACE_SECONDS = 120


def fuzz_seconds():
    raw = os.environ.get("SLUICE_FUZZ_SECONDS", "60")
    try:
        secs = int(raw)
    except ValueError:
        secs = -1
    if secs < 0:
        sys.exit(f"run-fuzz: SLUICE_FUZZ_SECONDS={raw!r}: want a whole number of seconds >= 0")
    return secs


def run(cmd, timeout):
    """Run cmd in its own process group, echo its output, return (rc, output)."""
    print("+ " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, text=True, errors="replace")
    try:
        output, _ = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        output += f"\nrun-fuzz: killed after {timeout} s (libFuzzer did not stop by itself)\n"
        rc = -1
    sys.stdout.write(output)
    sys.stdout.flush()
    return rc, output


def findings(rc, output):
    bad = [m for m in REPORT_MARKERS if m in output]
    if rc != 0:
        bad.insert(0, f"exit status {rc}")
    return bad


def regression_inputs(directory):
    if not directory or not os.path.isdir(directory):
        return []
    names = sorted(os.listdir(directory))
    return [os.path.join(directory, n) for n in names
            if not n.startswith(".") and not n.startswith("README")
            and os.path.isfile(os.path.join(directory, n))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fuzzer", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--regressions")
    ap.add_argument("--dict")
    ap.add_argument("--max-seconds", type=int, default=None,
                    help="fuzz at most this long, whatever SLUICE_FUZZ_SECONDS says")
    ap.add_argument("seeds", nargs="*")
    args = ap.parse_args()

    name = os.path.basename(args.fuzzer)
    secs = fuzz_seconds()
    if args.max_seconds is not None:
        if args.max_seconds < 0:
            ap.error("--max-seconds: want a whole number of seconds >= 0")
        secs = min(secs, args.max_seconds)
    os.makedirs(args.artifacts, exist_ok=True)
    prefix = os.path.join(os.path.abspath(args.artifacts), name + "-")
    common = LIBFUZZER_LIMITS + ["-artifact_prefix=" + prefix]
    if args.dict:
        common.append("-dict=" + args.dict)

    # 1. Replay: file arguments make libFuzzer run each one once and exit.
    replay = regression_inputs(args.regressions) + args.seeds
    if replay:
        rc, out = run([args.fuzzer] + common + replay, timeout=GRACE_SECONDS + 10 * len(replay))
        bad = findings(rc, out)
        if bad:
            print(f"{name}: FAILED replaying seeds/regressions: {', '.join(bad)}")
            return 1
        print(f"{name}: replayed {len(replay)} seed/regression input(s)")
    if secs == 0:
        print(f"{name}: SLUICE_FUZZ_SECONDS=0, no fuzzing")
        return 0

    # 2. Fuzz from a fresh corpus of the seeds.
    corpus = tempfile.mkdtemp(prefix=f"sluice-{name}-")
    try:
        for i, seed in enumerate(args.seeds):
            shutil.copyfile(seed, os.path.join(corpus, f"seed{i:03d}-{os.path.basename(seed)}"))
        cmd = [args.fuzzer, f"-max_total_time={secs}", "-print_final_stats=1"] + common + [corpus]
        rc, out = run(cmd, timeout=secs + GRACE_SECONDS)
        corpus_size = len(os.listdir(corpus))
    finally:
        shutil.rmtree(corpus, ignore_errors=True)

    execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    bad = findings(rc, out)
    if bad:
        crash = re.findall(r"Test unit written to (\S+)", out)
        print(f"{name}: FAILED after fuzzing: {', '.join(bad)}")
        for c in crash:
            print(f"  reproduce: {args.fuzzer} {c}")
            print(f"  keep it:   cp {c} tests/fuzz/regressions/{name}-<what-it-shows>.bin")
        return 1
    n = int(execs.group(1)) if execs else 0
    print(f"{name}: OK, {n} executions in {secs} s ({n // max(secs, 1)}/s), "
          f"corpus grew from {len(args.seeds)} to {corpus_size} inputs, no finding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
