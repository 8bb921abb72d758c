# SPDX-License-Identifier: BSD-3-Clause
"""Official frames -> sluice: each seed frame (built by flatc from
tests/seeds/*.json) must pass frame-check, and `frame-check --json` must
equal flatc's own decoding of the same bytes.

usage: check_seeds.py FRAME_CHECK FLATC SCHEMA SEED.bin...
"""

import os
import subprocess
import sys
import tempfile

import interop_common as ic


def check_seed(frame_check, flatc, schema, path, workdir):
    name = os.path.basename(path)
    with open(path, "rb") as f:
        data = f.read()
    frames = ic.split_stream(data)
    if len(frames) != 1:
        ic.fail(f"{name}: expected one frame, the file holds {len(frames)}")

    official = ic.flatc_json(flatc, schema, frames, workdir)[0]
    want_line = f"ok {official['msg_type']}"

    p = subprocess.run([frame_check, path], capture_output=True, text=True)
    if p.returncode != 0 or p.stdout.strip() != want_line:
        ic.fail(f"{name}: frame-check exited {p.returncode} saying {p.stdout.strip()!r} "
                f"{p.stderr.strip()!r}, expected {want_line!r}")

    rc, entries = ic.frame_check_json(frame_check, path)
    if rc != 0 or len(entries) != 1:
        ic.fail(f"{name}: frame-check --json exited {rc} with {len(entries)} entries: {entries}")
    ic.compare_frames(f"{name}: frame-check --json vs flatc --json", [official], entries)
    print(f"{name}: ok {official['msg_type']}, frame-check --json == flatc --json "
          f"({len(frames[0])} bytes)")


def main():
    if len(sys.argv) < 5:
        ic.fail(__doc__.strip())
    frame_check, flatc, schema = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="sluice-seeds-") as workdir:
        for i, path in enumerate(sys.argv[4:]):
            check_seed(frame_check, flatc, schema, path, os.path.join(workdir, str(i)))


if __name__ == "__main__":
    main()
