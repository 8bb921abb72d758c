# SPDX-License-Identifier: BSD-3-Clause
"""Table-driven malformed-frame tests (BearSSL alltests style).

  run_cases.py cases    --frame-check FC --cpp-verify CV --cases F --errors DEF
  run_cases.py truncate --frame-check FC --cpp-verify CV --cases F [SEED.bin ...]

cases:    assemble every case of F (see fbasm.py and the top of F), run
          `frame-check --whole OPTS` on it and require exactly the expected
          line and exit status; run the official C++ Verifier on it and require
          the case's `cpp` verdict; fail if sluice accepts a frame the C++
          Verifier rejects (strict must be a subset); fail if an error name of
          DEF (builder and control-message errors aside) has no case. Prints a
          summary table.
truncate: every control case (expect ok) cut to every length 0..len-1, with the
          size prefix left as is and rewritten to match: sluice must reject
          each one with an error inside the frame and without crashing. Extra
          SEED.bin frames (official flatc output, which may end in unreferenced
          padding) get the same cuts; a cut seed sluice accepts must also be
          accepted by the C++ Verifier.

Exit status 0 when every check passed, 1 otherwise (each failure is printed).
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

import fbasm

BATCH = 400  # files per frame-check / verifier run
LINE = re.compile(r'^(?:ok [A-Za-z]+|invalid ([a-z_]+) at byte (\d+))$')


def _opts(opts):
    return ''.join(' ' + o for o in opts)


class Runner:
    def __init__(self, frame_check, cpp_verify, tmp):
        self.fc_path = frame_check
        self.cpp_verify = cpp_verify
        self.tmp = tmp
        self.failures = []
        self.nfiles = 0

    def fail(self, msg):
        self.failures.append(msg)
        print(f'FAIL {msg}')

    def write(self, name, data):
        self.nfiles += 1
        path = os.path.join(self.tmp, f'{self.nfiles:06d}-{name}.bin')
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def _run(self, argv):
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              check=False, timeout=120)

    def frame_check_one(self, path, opts):
        """(line, exit status, stderr) of frame-check --whole on one file."""
        p = self._run([self.fc_path, '--whole'] + opts + [path])
        out = p.stdout.decode(errors='replace').splitlines()
        return (out[0] if len(out) == 1 else repr(out)), p.returncode, \
            p.stderr.decode(errors='replace')

    def frame_check(self, paths, opts):
        """One verdict line per path; a crash or stray output is a failure.

        Several files per run (frame-check labels each line "path: "); when a
        batch misbehaves the files are rerun one by one to name the culprit.
        Returns a list of lines (None where the run failed).
        """
        lines = []
        for i in range(0, len(paths), BATCH):
            chunk = paths[i:i + BATCH]
            if len(chunk) == 1:
                line, rc, err = self.frame_check_one(chunk[0], opts)
                lines.append(self._check_run(chunk[0], opts, line, rc, err))
                continue
            p = self._run([self.fc_path, '--whole'] + opts + chunk)
            out = p.stdout.decode(errors='replace').splitlines()
            ok = p.returncode in (0, 1) and not p.stderr and len(out) == len(chunk)
            got = []
            for path, text in zip(chunk, out):
                label, sep, line = text.partition(': ')
                if label != path or not sep:
                    ok = False
                    break
                got.append(line)
            if ok and (p.returncode == 1) == any(not g.startswith('ok ') for g in got):
                lines += got
                continue
            for path in chunk:
                line, rc, err = self.frame_check_one(path, opts)
                lines.append(self._check_run(path, opts, line, rc, err))
        return lines

    def _check_run(self, path, opts, line, rc, err):
        want_rc = 0 if line.startswith('ok ') else 1
        if rc != want_rc or err or not LINE.match(line):
            self.fail(f'{os.path.basename(path)}: frame-check{_opts(opts)} crashed or '
                      f'misbehaved: exit {rc}, line {line!r}, stderr {err.strip()[:2000]!r}')
            return None
        return line

    def cpp(self, paths):
        """'accept' / 'reject' per path from the official C++ Verifier."""
        verdicts = []
        for i in range(0, len(paths), BATCH):
            chunk = paths[i:i + BATCH]
            p = self._run([self.cpp_verify] + chunk)
            out = p.stdout.decode(errors='replace').splitlines()
            if p.returncode != 0 or p.stderr or len(out) != len(chunk) or \
                    any(v not in ('accept', 'reject') for v in out):
                self.fail(f'C++ verifier failed on a batch starting with '
                          f'{os.path.basename(chunk[0])}: exit {p.returncode}, '
                          f'stderr {p.stderr.decode(errors="replace").strip()[:2000]!r}')
                out = [None] * len(chunk)
            verdicts += out
        return verdicts


def load_cases(r, path):
    try:
        cases = fbasm.parse_cases(path)
    except fbasm.AsmError as e:
        r.fail(f'case file: {e}')
        return []
    built = []
    for c in cases:
        try:
            c.data = fbasm.assemble_case(c)
        except fbasm.AsmError as e:
            r.fail(f'{c.name}: {e}')
            continue
        built.append(c)
    return built


def error_names(path):
    with open(path, encoding='ascii') as f:
        return re.findall(r'^WIRE_ERROR\(\s*\w+\s*,\s*"([a-z_]+)"\s*\)', f.read(), re.M)


def cmd_cases(r, args):
    names = error_names(args.errors)
    # Builder errors, and control-message bounds no wire frame can hit
    # (their cases are in tests/unit/test_ctl.c), need no frame case.
    wanted = [n for n in names if not n.startswith(('build_', 'ctl_'))]
    if len(wanted) < 40:
        r.fail(f'{args.errors}: only {len(names)} error names parsed')
    cases = load_cases(r, args.cases)
    for c in cases:
        if c.expect_error is not None and c.expect_error not in wanted:
            r.fail(f'{c.name}: expects {c.expect_error!r}, not a verifier error of '
                   f'{os.path.basename(args.errors)}')
        c.path = r.write(c.name, c.data)

    groups = collections.defaultdict(list)
    for c in cases:
        groups[tuple(c.opts)].append(c)
    for opts, group in groups.items():
        for c, line in zip(group, r.frame_check([c.path for c in group], list(opts))):
            c.got = line
    for c, verdict in zip(cases, r.cpp([c.path for c in cases])):
        c.cpp_got = verdict

    print(f'{"case":44} {"bytes":>5}  {"sluice (frame-check --whole)":52} C++')
    for c in cases:
        status = 'ok  '
        if c.got != c.expect:
            status = 'FAIL'
            r.fail(f'{c.name} ({c.where}): frame-check{_opts(c.opts)} printed '
                   f'{c.got!r}, expected {c.expect!r}')
        if c.cpp_got is not None and c.cpp_got != c.cpp:
            status = 'FAIL'
            r.fail(f'{c.name} ({c.where}): C++ Verifier says {c.cpp_got}, case says {c.cpp}')
        if c.got is not None and c.got.startswith('ok ') and c.cpp_got == 'reject':
            status = 'FAIL'
            r.fail(f'{c.name} ({c.where}): STRICTNESS VIOLATION: sluice accepts a frame '
                   f'the C++ Verifier rejects')
        print(f'{status} {c.name:39} {len(c.data):5}  {str(c.got):52} {c.cpp_got}')

    covered = {c.expect_error for c in cases}
    for n in wanted:
        if n not in covered:
            r.fail(f'error {n!r} of {os.path.basename(args.errors)} has no case')

    # Summary: by expected result, how sluice and C++ judged the cases.
    rows = collections.OrderedDict()
    for n in ['ok'] + wanted:
        rows[n] = collections.Counter()
    for c in cases:
        row = rows[c.expect_error or 'ok']
        row['cases'] += 1
        row['pass'] += c.got == c.expect
        sl_ok = c.got is not None and c.got.startswith('ok ')
        if c.cpp_got is None or c.got is None:
            row['unknown'] += 1
        elif sl_ok == (c.cpp_got == 'accept'):
            row['agree'] += 1
        elif not sl_ok:
            row['strict'] += 1
        else:
            row['violation'] += 1
    print()
    print(f'{"expected":26} {"cases":>5} {"pass":>5} {"agree":>6} {"strict":>7} '
          f'{"viol.":>6}')
    print('  (agree: C++ gives the same verdict; strict: sluice rejects, C++ accepts;')
    print('   viol.: sluice accepts, C++ rejects -- must be 0)')
    tot = collections.Counter()
    for n, row in rows.items():
        tot.update(row)
        print(f'{n:26} {row["cases"]:5} {row["pass"]:5} {row["agree"]:6} {row["strict"]:7} '
              f'{row["violation"]:6}')
    print(f'{"total":26} {tot["cases"]:5} {tot["pass"]:5} {tot["agree"]:6} {tot["strict"]:7} '
          f'{tot["violation"]:6}')
    print(f'error names covered: {len(covered & set(wanted))}/{len(wanted)} '
          f'(build_* are builder-only, ctl_* control-message-only)')


def truncations(data):
    """(label, bytes, expected line or None) for every cut of a frame."""
    out = []
    for n in range(len(data)):
        as_is = data[:n]
        if n < 12:
            want = 'invalid frame_too_short at byte 0'
        else:
            want = 'invalid size_prefix_mismatch at byte 0'
        out.append((f'{n}-asis', as_is, want))
        if n >= 4:
            fixed = (n - 4).to_bytes(4, 'little') + data[4:n]
            out.append((f'{n}-fixed', fixed, want if n < 12 else None))
    return out


def cmd_truncate(r, args):
    cases = [c for c in load_cases(r, args.cases) if c.is_control]
    if not cases:
        r.fail(f'{args.cases}: no control cases')
    subjects = [(c.name, c.data, c.opts, True) for c in cases]
    for seed in args.seeds:
        with open(seed, 'rb') as f:
            name = 'seed_' + os.path.splitext(os.path.basename(seed))[0]
            subjects.append((name, f.read(), [], False))
    total = rejected = seed_ok = 0
    for name, data, opts, must_reject in subjects:
        cuts = truncations(data)
        paths = [r.write(f'{name}-{label}', blob) for label, blob, _ in cuts]
        lines = r.frame_check(paths, opts)
        accepted = []
        for (label, blob, want), path, line in zip(cuts, paths, lines):
            total += 1
            if line is None:
                continue
            m = LINE.match(line)
            if want is not None and line != want:
                r.fail(f'{name} cut {label}: printed {line!r}, expected {want!r}')
            elif m.group(1) is None:
                if must_reject:
                    r.fail(f'{name} cut {label}: accepted ({line!r}); a control case must '
                           f'have no trailing slack, so every cut must be rejected')
                else:
                    accepted.append((label, path))
            elif int(m.group(2)) >= max(len(blob), 1):
                r.fail(f'{name} cut {label}: error byte {m.group(2)} outside the '
                       f'{len(blob)}-byte frame ({line!r})')
            else:
                rejected += 1
        for (label, path), v in zip(accepted, r.cpp([p for _, p in accepted])):
            seed_ok += 1
            if v != 'accept':
                r.fail(f'{name} cut {label}: STRICTNESS VIOLATION: sluice accepts a '
                       f'truncated frame the C++ Verifier rejects ({v})')
        print(f'{name:40} {len(data):5} bytes  {len(cuts):5} cuts checked')
    print(f'\n{len(subjects)} frames ({len(cases)} control cases, {len(args.seeds)} seeds), '
          f'{total} truncations: {rejected} rejected with an in-frame error byte, '
          f'{seed_ok} cut seeds accepted (all also accepted by C++ unless reported)')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mode', choices=('cases', 'truncate'))
    ap.add_argument('--frame-check', required=True)
    ap.add_argument('--cpp-verify', required=True)
    ap.add_argument('--cases', required=True)
    ap.add_argument('--errors')
    ap.add_argument('seeds', nargs='*')
    args = ap.parse_intermixed_args()
    if args.mode == 'cases' and not args.errors:
        ap.error('cases needs --errors')
    with tempfile.TemporaryDirectory(prefix='sluice-malformed-') as tmp:
        r = Runner(args.frame_check, args.cpp_verify, tmp)
        if args.mode == 'cases':
            cmd_cases(r, args)
        else:
            cmd_truncate(r, args)
    if r.failures:
        print(f'\n{len(r.failures)} failure(s):')
        for f in r.failures:
            print(f'  {f}')
        return 1
    print('\nall checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
