# SPDX-License-Identifier: BSD-3-Clause
"""Official Python builder -> sluice.

Generates Python code with `flatc --python` (at test time, into a temp dir),
builds random valid frames with it (seeded, deterministic), writes them as one
stream of size-prefixed frames (FinishSizePrefixed, identifier SLQ1), and
checks that `frame-check --json` on the stream says ok for every frame and
prints exactly the intended values. The official C++ Verifier and flatc's
JSON decoding check the frames and the intended values themselves. Fails
when any message type, field edge, Status, Role or character class was not
exercised.

--dedup stock builds with the library as installed; --dedup sized shares a
vtable only between tables of one inline size, as the C++ builder does (see
SizedVtableBuilder).

usage: py_build_frames.py FRAME_CHECK FLATC CPP_VERIFY SCHEMA WIRE_LIMITS_H
                          [--dedup stock|sized] [--frames N] [--seed S]
"""

import argparse
import os
import random
import sys
import tempfile

import flatbuffers

import interop_common as ic

ABSENT = object()


class Values:
    """Random field values inside sluice's bounds, biased toward the edges.

    mode "max": every optional field present, lengths and scalars at their
    maximum; "low": every field present, lengths and scalars at their
    minimum; "min": optional fields absent, scalars at their default;
    "random": a mix; "light": random but short, for jobs of a big batch.
    """

    def __init__(self, seed, status_values):
        self.r = random.Random(seed)
        self.status_values = sorted(status_values)
        self.rotate = 0

    def chance(self, p):
        return self.r.random() < p

    def present(self, mode, required):
        if required or mode in ("max", "low"):
            return True
        if mode == "min":
            return False
        return self.chance(0.5)

    def length(self, mode, lo, hi):
        if mode == "max":
            return hi
        if mode in ("min", "low"):
            return lo
        if mode == "light":
            return self.r.randint(lo, min(hi, lo + 4))
        pick = self.r.random()
        if pick < 0.15:
            return lo
        if pick < 0.25:
            return hi
        if pick < 0.85:
            return self.r.randint(lo, min(hi, lo + 40))
        if pick < 0.97:
            return self.r.randint(lo, min(hi, 4096))
        return self.r.randint(lo, hi)

    def chars(self, mode, charset, n):
        if mode == "max":
            # Walk the charset from a moving start: long fields use every character.
            start = self.rotate
            self.rotate += 7
            return "".join(charset[(start + i) % len(charset)] for i in range(n))
        return "".join(self.r.choice(charset) for _ in range(n))

    def u64(self):
        pick = self.r.random()
        if pick < 0.1:
            return 0
        if pick < 0.25:
            return ic.U64_MAX
        if pick < 0.35:
            return self.r.randint(1, 255)
        return self.r.getrandbits(64)

    def jobid(self, allow_zero):
        pick = self.r.random()
        if pick < 0.15:
            return (ic.U64_MAX, ic.U64_MAX)
        if pick < 0.25:
            return (0, 1)
        if pick < 0.35:
            return (1, 0)
        if allow_zero and pick < 0.45:
            return (0, 0)
        return (self.r.getrandbits(64), self.r.getrandbits(64) | 1)

    def scalar(self, mode, opts):
        """A value for a scalar field, or ABSENT (not added: the default)."""
        lo, hi, default = opts["lo"], opts["hi"], opts["default"]
        default_valid = lo <= default <= hi
        if mode == "max":
            return hi
        if mode == "low":
            return lo
        if mode == "min":
            return ABSENT if default_valid else lo
        pick = self.r.random()
        if default_valid and pick < 0.25:
            return ABSENT
        if default_valid and pick < 0.35:
            return default  # written only when the builder forces defaults
        if pick < 0.5:
            return lo
        if pick < 0.65:
            return hi
        if opts["kind"] == "status":
            return self.r.choice(self.status_values)
        if opts["kind"] == "u64":
            return self.u64()
        if opts["kind"] == "bool":
            return self.chance(0.5)
        return self.r.randint(lo, hi)


def gen_table(v, schema, table, mode):
    """Spec of one table: {field: value} for the fields to add."""
    spec = {}
    for field, opts in schema[table].items():
        kind = opts["kind"]
        if kind in ic.SCALAR_KINDS:
            x = v.scalar(mode, opts)
            if x is not ABSENT:
                spec[field] = x
            continue
        if not v.present(mode, opts.get("required", False)):
            continue
        if kind == "jobid":
            spec[field] = v.jobid(allow_zero=False)
            continue
        if kind == "table":
            spec[field] = gen_table(v, schema, opts["child"], mode)
            continue
        n = v.length(mode, opts["min"], opts["max"])
        if kind == "string":
            charset = ic.NAME_CHARS if opts["charset"] == "name" else ic.TEXT_CHARS
            spec[field] = v.chars(mode, charset, n)
        elif kind == "bytes":
            spec[field] = bytes(v.r.getrandbits(8) for _ in range(n))
        elif kind == "u64s":
            spec[field] = [v.u64() for _ in range(n)]
        elif kind == "statuses":
            if mode == "max":
                spec[field] = [v.status_values[i % len(v.status_values)] for i in range(n)]
            else:
                spec[field] = [v.r.choice(v.status_values) for _ in range(n)]
        elif kind == "jobids":
            # EnqueueAck: ids[i] belongs to status[i], so both have one length.
            n = len(spec["status"]) if table == "EnqueueAck" else n
            spec[field] = [v.jobid(allow_zero=True) for _ in range(n)]
        elif kind == "tables":
            child = opts["child"]
            if child == "Job" and n > 8:
                # A big batch: one job as asked, the rest short, to stay below 1 MiB.
                jobs = [gen_table(v, schema, child, mode)]
                jobs += [gen_table(v, schema, child, "light") for _ in range(n - 1)]
                spec[field] = jobs
            else:
                spec[field] = [gen_table(v, schema, child, mode) for _ in range(n)]
    return spec


def expected(gen, schema, table, spec):
    """The spec as flatc --defaults-json prints it."""
    out = {}
    for field, opts in schema[table].items():
        kind = opts["kind"]
        if kind in ic.SCALAR_KINDS:
            x = spec.get(field, opts["default"])
            if kind == "status":
                x = gen.status_names[x]
            elif kind == "role":
                x = gen.role_names[x]
            elif kind == "bool":
                x = bool(x)
            out[field] = x
            continue
        if field not in spec:
            continue
        x = spec[field]
        if kind == "string":
            out[field] = x
        elif kind in ("bytes", "u64s"):
            out[field] = list(x)
        elif kind == "jobid":
            out[field] = {"hi": x[0], "lo": x[1]}
        elif kind == "jobids":
            out[field] = [{"hi": hi, "lo": lo} for hi, lo in x]
        elif kind == "statuses":
            out[field] = [gen.status_names[s] for s in x]
        elif kind == "table":
            out[field] = expected(gen, schema, opts["child"], x)
        elif kind == "tables":
            out[field] = [expected(gen, schema, opts["child"], c) for c in x]
    return out


def build_table(b, gen, schema, table, spec, rng):
    """Build one table with the generated code; children first, fields in random order."""
    mod = gen.module(table)
    order = [f for f in schema[table] if f in spec]
    rng.shuffle(order)
    offsets = {}
    for field in order:
        opts, x = schema[table][field], spec[field]
        kind = opts["kind"]
        start_vector = getattr(mod, f"{table}Start{ic.camel(field)}Vector", None)
        if kind == "string":
            offsets[field] = b.CreateString(x)
        elif kind == "bytes":
            offsets[field] = b.CreateByteVector(x)
        elif kind == "table":
            offsets[field] = build_table(b, gen, schema, opts["child"], x, rng)
        elif kind == "tables":
            kids = [build_table(b, gen, schema, opts["child"], c, rng) for c in x]
            start_vector(b, len(kids))
            for o in reversed(kids):
                b.PrependUOffsetTRelative(o)
            offsets[field] = b.EndVector()
        elif kind == "u64s":
            start_vector(b, len(x))
            for e in reversed(x):
                b.PrependUint64(e)
            offsets[field] = b.EndVector()
        elif kind == "statuses":
            start_vector(b, len(x))
            for e in reversed(x):
                b.PrependUint16(e)
            offsets[field] = b.EndVector()
        elif kind == "jobids":
            start_vector(b, len(x))
            for hi, lo in reversed(x):
                gen.module("JobId").CreateJobId(b, hi, lo)
            offsets[field] = b.EndVector()
    rng.shuffle(order)
    getattr(mod, f"{table}Start")(b)
    for field in order:
        add = getattr(mod, f"{table}Add{ic.camel(field)}")
        if schema[table][field]["kind"] == "jobid":
            add(b, gen.module("JobId").CreateJobId(b, *spec[field]))
        elif field in offsets:
            add(b, offsets[field])
        else:
            add(b, spec[field])
    return getattr(mod, f"{table}End")(b)


class SizedVtableBuilder(flatbuffers.Builder):
    """The official Builder, sharing a vtable only between tables of one inline size.

    python3-flatbuffers 2.0.8 deduplicates vtables by their field offsets
    alone (google/flatbuffers#8653), so a table can get a vtable whose
    "table size" entry is smaller than the table. This subclass keeps one
    vtable cache per table size, which is what the C++ builder does (it
    compares whole vtables, size included).
    """

    def __init__(self, size):
        super().__init__(size)
        self.vtables_by_size = {}

    def EndObject(self):
        # WriteVtable() first 4-aligns and prepends the soffset; the table
        # size it records is then (offset + padding + 4) - objectEnd.
        offset = self.Offset()
        size = offset + (-offset & 3) + 4 - self.objectEnd
        self.vtables = self.vtables_by_size.setdefault(size, {})
        return super().EndObject()


def build_frame(gen, schema, msg_type, spec, rng, dedup):
    b = flatbuffers.Builder(256) if dedup == "stock" else SizedVtableBuilder(256)
    # Sometimes write default-valued scalars explicitly: sluice must read both forms.
    b.ForceDefaults(rng.random() < 0.25)
    msg = build_table(b, gen, schema, msg_type, spec, rng)
    Frame = gen.module("Frame")
    Frame.FrameStart(b)
    Frame.FrameAddMsgType(b, getattr(gen.Message, msg_type))
    Frame.FrameAddMsg(b, msg)
    b.FinishSizePrefixed(Frame.FrameEnd(b), b"SLQ1")
    return bytes(b.Output())


def write_stream(path, frames):
    with open(path, "wb") as f:
        for frame in frames:
            f.write(frame)


def explain_rejections(args, gen, schema, specs, entries, workdir):
    """Frames frame-check refused: rebuild them with size-aware vtable sharing and retry."""
    rejected = [i for i, e in enumerate(entries) if isinstance(e, str)]
    lines = [f"frame {i} ({specs[i][0]}): {entries[i]}" for i in rejected[:10]]
    rebuilt = [build_frame(gen, schema, specs[i][0], specs[i][1], frame_rng(args.seed, i),
                           "sized") for i in rejected]
    retry = os.path.join(workdir, "rebuilt.bin")
    write_stream(retry, rebuilt)
    _, again = ic.frame_check_json(args.frame_check, retry)
    still = [i for i, e in zip(rejected, again) if isinstance(e, str)]
    summary = (f"frame-check rejected {len(rejected)} of {len(entries)} frames built by the "
               f"official Python builder ({args.dedup} vtable sharing), all of which the "
               f"official C++ Verifier accepted:\n  " + "\n  ".join(lines))
    if not still:
        summary += ("\nEach of them passes frame-check when rebuilt with vtables shared only "
                    "between tables of one inline size: the official Python builder (2.0.8, "
                    "google/flatbuffers#8653) gave these tables a shared vtable whose table-size "
                    "entry is smaller than the table, and sluice's strict verifier refuses a "
                    "field that lies beyond that size.")
    else:
        summary += f"\n{len(still)} of them are rejected even when rebuilt: {still[:10]}"
    return summary


def frame_rng(seed, index):
    """Layout choices of one frame (field order, forced defaults), reproducible alone."""
    return random.Random(f"{seed}/{index}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("frame_check")
    ap.add_argument("flatc")
    ap.add_argument("cpp_verify")
    ap.add_argument("schema")
    ap.add_argument("wire_limits_h")
    ap.add_argument("--dedup", choices=("stock", "sized"), default="stock",
                    help="vtable sharing: the library's own (stock) or per table size (sized)")
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--seed", type=int, default=20261122)
    args = ap.parse_args()
    lim = ic.read_limits(args.wire_limits_h)
    what = f"python builder ({args.dedup} vtable sharing)"

    with tempfile.TemporaryDirectory(prefix="sluice-pybuild-") as workdir:
        gen = ic.Generated(args.flatc, args.schema, workdir)
        schema = ic.make_schema(lim, gen)
        v = Values(args.seed, gen.status_names)

        # Every type at its maximum, its minimum and bare first, then random frames.
        plan = [(t, m) for m in ("max", "low", "min") for t in ic.MESSAGES]
        while len(plan) < args.frames:
            plan.append((v.r.choice(ic.MESSAGES), "random"))

        specs, frames, want = [], [], []
        coverage = ic.Coverage(schema, gen.status_names, gen.role_names)
        for i, (msg_type, mode) in enumerate(plan):
            spec = gen_table(v, schema, msg_type, mode)
            specs.append((msg_type, spec))
            frames.append(build_frame(gen, schema, msg_type, spec, frame_rng(args.seed, i),
                                      args.dedup))
            want.append({"msg_type": msg_type, "msg": expected(gen, schema, msg_type, spec)})
            coverage.add_frame(want[-1])
        coverage.report(what)

        stream = os.path.join(workdir, "python-frames.bin")
        write_stream(stream, frames)
        print(f"{what}: {len(frames)} frames, {os.path.getsize(stream)} bytes, "
              f"largest {max(len(x) for x in frames)} bytes")

        # The frames are valid for the official tools, and carry the intended values.
        p = ic.run([args.cpp_verify, stream], "official C++ Verifier")
        sys.stdout.write(p.stdout)
        ic.compare_frames("flatc --json vs intended", want,
                          ic.flatc_json(args.flatc, args.schema, frames, workdir))
        print(f"flatc --json: {len(frames)} frames equal the intended values")

        rc, entries = ic.frame_check_json(args.frame_check, stream)
        if len(entries) != len(frames):
            ic.fail(f"frame-check printed {len(entries)} results for {len(frames)} frames")
        if any(isinstance(e, str) for e in entries):
            ic.fail(explain_rejections(args, gen, schema, specs, entries, workdir))
        ic.compare_frames("frame-check --json vs intended", want, entries)
        if rc != 0:
            ic.fail(f"frame-check --json exited {rc} although every frame printed ok")
        print(f"frame-check --json: {len(entries)} frames ok and equal the intended values")


if __name__ == "__main__":
    main()
