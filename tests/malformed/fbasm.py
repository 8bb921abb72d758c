# SPDX-License-Identifier: BSD-3-Clause
"""fbasm: a tiny two-pass assembler for hand-spelled FlatBuffers frames.

The frame language and the case-file format are documented at the top of
tests/malformed/cases.txt. This module parses that file into Case objects and
assembles each frame into bytes. It checks what it can (undefined or duplicate
labels, values out of range for their width, negative offsets) and raises
AsmError with file:line on any mistake, so a typo in a case fails the test
instead of producing a silently different frame.

Run as a script to dump one case as hex:  fbasm.py cases.txt CASE_NAME
"""

import re
import sys

# A quoted string (with an optional *N repeat suffix), a comment, or a word.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"(?:\*\d+)?|#.*|\S+')
_LABEL_DEF = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*):$')
_REPEAT = re.compile(r'^(.*)\*(\d+)$')
_SIZE = re.compile(r'^size([+-]\d+)?$')
_TERM = re.compile(r'\s*([+-]?)\s*(0x[0-9A-Fa-f]+|\d+|[A-Za-z_][A-Za-z0-9_]*)')

# Scalar directives: width in bytes, signed.
_SCALARS = {
    'u8': (1, False),
    'u16': (2, False),
    'u32': (4, False),
    'u64': (8, False),
    'i32': (4, True),
}

DIRECTIVES = ('case', 'expect', 'cpp', 'opts')


class AsmError(Exception):
    pass


class Case:
    def __init__(self, name, where):
        self.name = name
        self.where = where          # "file:line" of the 'case' line
        self.expect = None          # "ok Type" or "invalid name at byte n"
        self.expect_label = None    # optional @label the error byte must equal
        self.expect_error = None    # error name, or None for ok
        self.expect_type = None     # message type for ok cases
        self.expect_at = None
        self.cpp = None             # 'accept' or 'reject'
        self.opts = []
        self.tokens = []            # (token, "file:line")

    @property
    def is_control(self):
        return self.expect_error is None


def _unescape(body, where):
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != '\\':
            if ord(ch) > 0x7e or ord(ch) < 0x20:
                raise AsmError(f'{where}: use \\xNN for byte {ord(ch):#x}')
            out.append(ord(ch))
            i += 1
            continue
        nxt = body[i + 1:i + 2]
        if nxt in ('\\', '"'):
            out.append(ord(nxt))
            i += 2
        elif nxt == 'x' and re.fullmatch(r'[0-9A-Fa-f]{2}', body[i + 2:i + 4]):
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        else:
            raise AsmError(f'{where}: bad escape in string')
    return bytes(out)


def _split_repeat(tok):
    """'off:job*16' -> ('off:job', 16); quoted strings keep their quotes."""
    m = _REPEAT.match(tok)
    if m and (m.group(1).endswith('"') or not m.group(1).startswith('"')):
        return m.group(1), int(m.group(2))
    return tok, 1


class _Item:
    """One emitted item: fixed size, value computed in pass two."""

    def __init__(self, kind, size, arg, where):
        self.kind = kind
        self.size = size
        self.arg = arg
        self.where = where
        self.pos = 0


def _eval(expr, labels, where):
    pos = 0
    total = 0
    first = True
    expr = expr.strip()
    if not expr:
        raise AsmError(f'{where}: empty expression')
    while pos < len(expr):
        m = _TERM.match(expr, pos)
        if not m or (not first and not m.group(1)):
            raise AsmError(f'{where}: cannot parse expression {expr!r}')
        sign = -1 if m.group(1) == '-' else 1
        term = m.group(2)
        if term[0].isdigit():
            val = int(term, 0)
        elif term in labels:
            val = labels[term]
        else:
            raise AsmError(f'{where}: undefined label {term!r}')
        total += sign * val
        pos = m.end()
        first = False
    return total


def _pack(value, width, signed, where, what):
    lo = -(1 << (8 * width - 1)) if signed else 0
    hi = (1 << (8 * width - 1)) - 1 if signed else (1 << (8 * width)) - 1
    if not lo <= value <= hi:
        raise AsmError(f'{where}: {what} value {value} does not fit')
    return value.to_bytes(width, 'little', signed=signed)


def assemble(tokens):
    """Assemble (token, where) pairs; return (bytes, labels)."""
    items = []
    labels = {}
    pos = 0
    # Pass one: sizes and label positions (every item has a fixed size, align
    # depends only on the position, so one forward pass is enough).
    for tok, where in tokens:
        m = _LABEL_DEF.match(tok)
        if m:
            if m.group(1) in labels:
                raise AsmError(f'{where}: label {m.group(1)!r} defined twice')
            labels[m.group(1)] = pos
            continue
        body, count = _split_repeat(tok)
        for _ in range(count):
            item = _parse_item(body, pos, where)
            item.pos = pos
            pos += item.size
            items.append(item)
    # Pass two: values.
    out = bytearray()
    for it in items:
        if it.kind == 'raw':
            out += it.arg
        elif it.kind == 'size':
            out += _pack(pos - 4 + it.arg, 4, False, it.where, 'size')
        elif it.kind == 'off':
            out += _pack(_eval(it.arg, labels, it.where) - it.pos, 4, False, it.where,
                         'uoffset (label - here)')
        elif it.kind == 'soff':
            out += _pack(it.pos - _eval(it.arg, labels, it.where), 4, True, it.where,
                         'soffset (here - label)')
        else:
            width, signed = _SCALARS[it.kind]
            out += _pack(_eval(it.arg, labels, it.where), width, signed, it.where, it.kind)
    assert len(out) == pos
    return bytes(out), labels


def _parse_item(tok, pos, where):
    if tok.startswith('"'):
        if len(tok) < 2 or not tok.endswith('"'):
            raise AsmError(f'{where}: unterminated string {tok!r}')
        data = _unescape(tok[1:-1], where)
        return _Item('raw', len(data), data, where)
    m = _SIZE.match(tok)
    if m:
        return _Item('size', 4, int(m.group(1) or 0), where)
    kind, sep, arg = tok.partition(':')
    if not sep:
        raise AsmError(f'{where}: unknown token {tok!r}')
    if kind in _SCALARS:
        return _Item(kind, _SCALARS[kind][0], arg, where)
    if kind in ('off', 'soff'):
        return _Item(kind, 4, arg, where)
    if kind == 'hex':
        if not re.fullmatch(r'(?:[0-9A-Fa-f]{2})+', arg):
            raise AsmError(f'{where}: hex needs pairs of hex digits: {tok!r}')
        return _Item('raw', len(arg) // 2, bytes.fromhex(arg), where)
    if kind == 'zero':
        n = int(arg, 0)
        return _Item('raw', n, bytes(n), where)
    if kind == 'align':
        n = int(arg, 0)
        if n <= 0 or n & (n - 1):
            raise AsmError(f'{where}: align needs a power of two: {tok!r}')
        pad = -pos % n
        return _Item('raw', pad, bytes(pad), where)
    raise AsmError(f'{where}: unknown token {tok!r}')


_EXPECT_OK = re.compile(r'^ok ([A-Za-z]+)$')
_EXPECT_BAD = re.compile(r'^invalid ([a-z_]+) at byte (\d+)(?: @([A-Za-z_][A-Za-z0-9_]*))?$')


def parse_cases(path):
    """Parse a case file into a list of Case objects (frames not yet assembled)."""
    cases = []
    cur = None
    with open(path, encoding='ascii') as f:
        for lineno, line in enumerate(f, 1):
            where = f'{path}:{lineno}'
            toks = [t for t in _TOKEN.findall(line)]
            cut = next((i for i, t in enumerate(toks) if t.startswith('#')), len(toks))
            toks = toks[:cut]
            if not toks:
                continue
            word = toks[0]
            if word == 'case':
                if len(toks) != 2 or not re.fullmatch(r'[a-z0-9_]+', toks[1]):
                    raise AsmError(f'{where}: expected "case lower_snake_name"')
                if any(c.name == toks[1] for c in cases):
                    raise AsmError(f'{where}: case {toks[1]!r} defined twice')
                cur = Case(toks[1], where)
                cases.append(cur)
                continue
            if cur is None:
                raise AsmError(f'{where}: text before the first case')
            if word == 'expect':
                if cur.expect is not None:
                    raise AsmError(f'{where}: second expect line')
                text = ' '.join(toks[1:])
                m_ok = _EXPECT_OK.match(text)
                m_bad = _EXPECT_BAD.match(text)
                if m_ok:
                    cur.expect = text
                    cur.expect_type = m_ok.group(1)
                elif m_bad:
                    cur.expect = f'invalid {m_bad.group(1)} at byte {m_bad.group(2)}'
                    cur.expect_error = m_bad.group(1)
                    cur.expect_at = int(m_bad.group(2))
                    cur.expect_label = m_bad.group(3)
                else:
                    raise AsmError(f'{where}: expect "ok Type" or '
                                   f'"invalid name at byte N [@label]"')
            elif word == 'cpp':
                if len(toks) != 2 or toks[1] not in ('accept', 'reject') or cur.cpp:
                    raise AsmError(f'{where}: expected one "cpp accept|reject" line')
                cur.cpp = toks[1]
            elif word == 'opts':
                if cur.opts or not all(t.startswith('--') or t.isdigit() for t in toks[1:]):
                    raise AsmError(f'{where}: expected one "opts --option N ..." line')
                cur.opts = toks[1:]
            else:
                cur.tokens += [(t, where) for t in toks]
    for c in cases:
        if c.expect is None or c.cpp is None:
            raise AsmError(f'{c.where}: case {c.name} needs an expect and a cpp line')
    return cases


def assemble_case(case):
    """Bytes of a case's frame; checks the optional @label of the expectation."""
    data, labels = assemble(case.tokens)
    if case.expect_label is not None:
        if case.expect_label not in labels:
            raise AsmError(f'{case.where}: expect names undefined label '
                           f'{case.expect_label!r}')
        if labels[case.expect_label] != case.expect_at:
            raise AsmError(f'{case.where}: expected byte {case.expect_at} but label '
                           f'{case.expect_label} is at {labels[case.expect_label]}')
    return data


def main(argv):
    if len(argv) != 3:
        print('usage: fbasm.py CASES_FILE CASE_NAME', file=sys.stderr)
        return 2
    for c in parse_cases(argv[1]):
        if c.name == argv[2]:
            data = assemble_case(c)
            for off in range(0, len(data), 16):
                chunk = data[off:off + 16]
                print(f'{off:6d}  ' + ' '.join(f'{b:02x}' for b in chunk))
            return 0
    print(f'fbasm.py: no case {argv[2]!r}', file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
