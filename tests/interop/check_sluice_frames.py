# SPDX-License-Identifier: BSD-3-Clause
"""sluice builder -> official tools.

Runs build_frames (random frames from sluice's wire_build(), seeded) into a
temp dir: a stream of size-prefixed frames and a JSONL file with the value
each frame is meant to carry, written by build_frames from its own inputs.
The JSONL must cover every message type and field (present/absent, min/max,
every Status, Role and character class). Then, by MODE:

  cpp          the official C++ Verifier (cpp_verify) accepts every frame;
  python       the official generated Python reader (flatc --python, made
               at test time) reads every field of every frame as intended,
               and flatc --json decodes every frame as intended;
  frame-check  sluice's frame-check says ok for every frame, and its --json
               output is the intended value.

usage: check_sluice_frames.py MODE BUILD_FRAMES FRAME_CHECK FLATC CPP_VERIFY
                              SCHEMA WIRE_LIMITS_H [FRAMES [SEED]]
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import flatbuffers

import interop_common as ic


def read_table(gen, schema, table, obj):
    """One table through the generated accessors, as a --defaults-json dict."""
    out = {}
    for field, opts in schema[table].items():
        kind = opts["kind"]
        name = ic.camel(field)
        get = getattr(obj, name)
        if kind in ic.SCALAR_KINDS:
            v = get()
            if kind == "status":
                v = gen.status_names.get(v, v)
            elif kind == "role":
                v = gen.role_names.get(v, v)
            out[field] = v
        elif kind == "string":
            s = get()
            if s is not None:
                out[field] = s.decode("latin-1")
        elif kind == "jobid":
            x = get()
            if x is not None:
                out[field] = {"hi": x.Hi(), "lo": x.Lo()}
        elif kind == "table":
            x = get()
            if x is not None:
                out[field] = read_table(gen, schema, opts["child"], x)
        else:
            if getattr(obj, name + "IsNone")():
                continue
            items = [get(j) for j in range(getattr(obj, name + "Length")())]
            if kind == "statuses":
                items = [gen.status_names.get(s, s) for s in items]
            elif kind == "jobids":
                items = [{"hi": x.Hi(), "lo": x.Lo()} for x in items]
            elif kind == "tables":
                items = [read_table(gen, schema, opts["child"], x) for x in items]
            out[field] = items
    return out


def read_frame(gen, schema, index, frame):
    """A size-prefixed frame through the generated Python reader."""
    size = flatbuffers.util.GetSizePrefix(frame, 0)
    if size != len(frame) - 4:
        ic.fail(f"frame {index}: size prefix {size}, frame holds {len(frame) - 4} bytes")
    Frame = gen.module("Frame").Frame
    if not Frame.FrameBufferHasIdentifier(frame, 0, size_prefixed=True):
        ic.fail(f"frame {index}: identifier is not SLQ1")
    buf, offset = flatbuffers.util.RemoveSizePrefix(frame, 0)
    root = Frame.GetRootAs(buf, offset)
    msg_type = gen.message_names.get(root.MsgType())
    if msg_type is None:
        ic.fail(f"frame {index}: msg_type {root.MsgType()} is not a message")
    union = root.Msg()
    if union is None:
        ic.fail(f"frame {index} ({msg_type}): msg is absent")
    msg = getattr(gen.module(msg_type), msg_type)()
    msg.Init(union.Bytes, union.Pos)
    return {"msg_type": msg_type, "msg": read_table(gen, schema, msg_type, msg)}


def check_cpp(cpp_verify, stream, n):
    p = subprocess.run([cpp_verify, stream], capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        ic.fail(f"official C++ Verifier: {p.stderr.strip() or p.stdout.strip()}")
    m = re.search(r": (\d+) frames verified", p.stdout)
    if not m or int(m.group(1)) != n:
        ic.fail(f"cpp_verify verified {m.group(1) if m else 'no'} frames, the stream holds {n}")


def main():
    if len(sys.argv) < 8 or sys.argv[1] not in ("cpp", "python", "frame-check"):
        ic.fail(__doc__.strip())
    mode, build_frames, frame_check, flatc, cpp_verify, schema_path, limits_path = sys.argv[1:8]
    extra = sys.argv[8:10]
    lim = ic.read_limits(limits_path)

    with tempfile.TemporaryDirectory(prefix="sluice-cbuild-") as workdir:
        stream = os.path.join(workdir, "sluice-frames.bin")
        jsonl = os.path.join(workdir, "sluice-frames.jsonl")
        p = ic.run([build_frames, stream, jsonl] + extra, "build_frames")
        sys.stdout.write(p.stdout)
        with open(jsonl, encoding="ascii") as f:
            want = [json.loads(line) for line in f]
        with open(stream, "rb") as f:
            frames = ic.split_stream(f.read())
        if len(frames) != len(want):
            ic.fail(f"build_frames wrote {len(frames)} frames but {len(want)} JSON lines")

        gen = ic.Generated(flatc, schema_path, workdir)
        schema = ic.make_schema(lim, gen)
        coverage = ic.Coverage(schema, gen.status_names, gen.role_names)
        for w in want:
            coverage.add_frame(w)
        coverage.report("sluice builder")

        if mode == "cpp":
            check_cpp(cpp_verify, stream, len(frames))
        elif mode == "python":
            got = []
            for i, frame in enumerate(frames):
                try:
                    got.append(read_frame(gen, schema, i, frame))
                except Exception as e:  # the reader does not verify: a bad frame raises
                    ic.fail(f"official Python reader: frame {i}: {type(e).__name__}: {e}")
            ic.compare_frames("official Python reader vs intended", want, got)
            print(f"official Python reader: {len(got)} frames, every field as intended")
            ic.compare_frames("flatc --json vs intended", want,
                              ic.flatc_json(flatc, schema_path, frames, workdir))
            print(f"flatc --json: {len(frames)} frames as intended")
        else:
            rc, entries = ic.frame_check_json(frame_check, stream)
            ic.compare_frames("frame-check --json vs intended", want, entries)
            if rc != 0:
                ic.fail(f"frame-check exited {rc} although every frame printed ok")
            print(f"frame-check: {len(entries)} frames ok, --json output as intended")


if __name__ == "__main__":
    main()
