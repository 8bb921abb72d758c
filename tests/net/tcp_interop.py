# SPDX-License-Identifier: BSD-3-Clause
"""Kernel-socket peers for tcp_interop.sh: they talk to tcp_peer's listeners
(sink 5001, echo 5002, source 5003) or listen for its active opens, check
every byte, and print one JSON line of figures per case. Exit 0 when every
check held, 1 otherwise (the reason on stderr), 2 on bad usage.

The data is tcp_peer's pattern(): byte i of every stream is
(i ^ i >> 8 ^ i >> 16 ^ 0x5a) & 0xff. It repeats every 16 MiB, so one
doubled period in memory gives any chunk to send or compare with memcmp
speed; the sink's FNV-1a answer for n bytes comes from tcp_fnv (C).

  sink    C connections each send N bytes to the sink, half-close, and
          check the answer "bytes N fnv HEX".
  source  C connections each ask the source for N bytes and check every
          byte and the count.
  echo    C connections each send N bytes to echo while reading them
          back; every byte and the count are checked.
  many    C connections opened together and all established before any
          sends; then N bytes each to the sink; every answer checked.
  kill    victims killed mid-transfer (SIGKILL, SO_LINGER 0 close) while
          control transfers run; the control transfers must be exact.
  listen  a kernel listener speaking the sink protocol for tcp_peer
          --connect; exits after T connections (all exact) or on timeout.
"""
import argparse
import json
import os
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

PERIOD = 1 << 24
CHUNK = 1 << 20
SINK, ECHO, SOURCE = 5001, 5002, 5003


def build_pattern():
    """Two periods of pattern(), so any slice of up to PERIOD bytes is contiguous."""
    rows = [bytes((lo ^ 0x5A ^ c) for lo in range(256)) for c in range(256)]
    period = b"".join(rows[(hi ^ (hi >> 8)) & 0xFF] for hi in range(PERIOD >> 8))
    return memoryview(period + period)


PAT = None


def pat(off, n):
    """pattern() bytes [off, off + n), n <= PERIOD."""
    o = off % PERIOD
    return PAT[o:o + n]


class Fnv:
    """The sink's answer line for n pattern bytes, from tcp_fnv, cached."""

    def __init__(self, tool):
        self.tool = tool
        self.cache = {}
        self.lock = threading.Lock()

    def line(self, n):
        with self.lock:
            if n not in self.cache:
                out = subprocess.run([self.tool, str(n)], check=True, capture_output=True,
                                     text=True).stdout.split()
                self.cache[n] = f"bytes {n} fnv {out[1]}\n".encode()
            return self.cache[n]


class Failed(Exception):
    pass


def send_pattern(s, n):
    off = 0
    while off < n:
        k = min(CHUNK, n - off)
        s.sendall(pat(off, k))
        off += k


def recv_all(s, limit=4096):
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            return data
        data += d
        if len(data) > limit:
            raise Failed(f"answer longer than {limit} bytes")


def recv_check(s, n, what):
    """Read to EOF; every byte must be pattern(i); exactly n of them."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    got = 0
    while True:
        k = s.recv_into(view)
        if k == 0:
            break
        if got + k > n:
            raise Failed(f"{what}: more than {n} bytes")
        if view[:k] != pat(got, k):
            for i in range(k):
                if view[i] != pat(got + i, 1)[0]:
                    raise Failed(f"{what}: byte {got + i} is {view[i]:#x}, "
                                 f"want {pat(got + i, 1)[0]:#x}")
        got += k
    if got != n:
        raise Failed(f"{what}: {got} bytes, want {n}")


def connect(a, port):
    s = socket.create_connection((a.host, port), timeout=a.io_timeout)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    return s


def one_sink(a, fnv, n):
    with connect(a, SINK) as s:
        send_pattern(s, n)
        s.shutdown(socket.SHUT_WR)
        ans = recv_all(s)
    if ans != fnv.line(n):
        raise Failed(f"sink answered {ans!r}, want {fnv.line(n)!r}")


def one_source(a, _fnv, n):
    with connect(a, SOURCE) as s:
        s.sendall(f"{n}\n".encode())
        recv_check(s, n, "source")


def one_echo(a, _fnv, n):
    with connect(a, ECHO) as s:
        err = []

        def writer():
            try:
                send_pattern(s, n)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=writer)
        t.start()
        try:
            recv_check(s, n, "echo")
        finally:
            t.join()
        if err:
            raise Failed(f"echo writer: {err[0]}")


def parallel(fn, a, fnv, n, conns):
    """conns threads running fn; the first failure, or None."""
    errs = []

    def run():
        try:
            fn(a, fnv, n)
        except (OSError, Failed) as e:
            errs.append(f"{type(e).__name__}: {e}")

    ts = [threading.Thread(target=run) for _ in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errs


def report(case, nbytes, secs, **extra):
    r = {"case": case, "bytes": nbytes, "seconds": round(secs, 3),
         "mb_s": round(nbytes / secs / 1e6, 1) if secs > 0 else 0.0}
    r.update(extra)
    print(json.dumps(r), flush=True)


def cmd_stream(a, fnv):
    fn = {"sink": one_sink, "source": one_source, "echo": one_echo}[a.cmd]
    t0 = time.monotonic()
    errs = parallel(fn, a, fnv, a.bytes, a.conns)
    secs = time.monotonic() - t0
    if errs:
        raise Failed(f"{len(errs)} of {a.conns} connections failed; first: {errs[0]}")
    report(f"{a.label}{a.cmd}", a.bytes * a.conns, secs, conns=a.conns)


def cmd_many(a, fnv):
    """All conns established at once, then every one sends and is checked."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.conns + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    want_ans = fnv.line(a.bytes)
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    deadline = t0 + a.io_timeout
    socks = []
    for _ in range(a.conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((a.host, SINK))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, None)
    pending = len(socks)
    while pending > 0:
        if time.monotonic() > deadline:
            raise Failed(f"{pending} of {a.conns} connections not established in time")
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                raise Failed(f"connect: {os.strerror(err)}")
            sel.unregister(s)
            pending -= 1
    t_est = time.monotonic() - t0
    # every connection is established at once; now the data
    state = {}
    for s in socks:
        state[s.fileno()] = [s, 0, bytearray()]  # socket, bytes sent, answer
        sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, None)
    left = len(socks)
    bad = []
    while left > 0:
        if time.monotonic() > deadline:
            raise Failed(f"{left} of {a.conns} connections unfinished in time")
        for key, ev in sel.select(timeout=1.0):
            st = state[key.fileobj.fileno()]
            s = st[0]
            if ev & selectors.EVENT_WRITE and st[1] < a.bytes:
                try:
                    st[1] += s.send(pat(st[1], min(65536, a.bytes - st[1])))
                except BlockingIOError:
                    pass
                if st[1] == a.bytes:
                    s.shutdown(socket.SHUT_WR)
                    sel.modify(s, selectors.EVENT_READ, None)
            if ev & selectors.EVENT_READ:
                try:
                    d = s.recv(4096)
                except BlockingIOError:
                    continue
                if d:
                    st[2] += d
                    continue
                if st[1] != a.bytes or bytes(st[2]) != want_ans:
                    bad.append(bytes(st[2]))
                sel.unregister(s)
                s.close()
                left -= 1
    secs = time.monotonic() - t0
    if bad:
        raise Failed(f"{len(bad)} of {a.conns} answers wrong; first {bad[0]!r}, "
                     f"want {want_ans!r}")
    report("many", a.bytes * a.conns, secs, conns=a.conns, established_s=round(t_est, 3))


def victim(a):
    """One connection killed mid-transfer: a child process of cmd_kill. It
    prints 'going' once it is in the middle of its transfer and waits to be
    killed (kind *-kill) or resets the connection itself (kind *-rst)."""
    kind = a.kind
    port = {"sink": SINK, "source": SOURCE, "echo": ECHO}[kind.split("-")[0]]
    s = connect(a, port)
    if port == SOURCE:
        s.sendall(f"{1 << 40}\n".encode())
        recv_n = 0
        buf = bytearray(CHUNK)
        while recv_n < a.bytes:
            k = s.recv_into(buf)
            if k == 0:
                raise Failed("source ended early")
            recv_n += k
    else:
        send_pattern(s, a.bytes)
        if port == ECHO:
            s.recv(4096)
    print("going", flush=True)
    if kind.endswith("-rst"):
        # SO_LINGER {on, 0}: close() sends RST and drops the queues
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        return
    # -kill: keep the transfer going (source: unread bytes pile up, so the
    # kernel resets at the kill) until SIGKILL
    if port == SOURCE:
        time.sleep(a.io_timeout)
    else:
        off = a.bytes
        while True:
            s.sendall(pat(off, 65536))
            off += 65536


def cmd_kill(a, fnv):
    """Control transfers (sink and source) run while victims are killed."""
    kinds = ["sink-kill", "sink-rst", "source-kill", "echo-rst"]
    results = {}

    def control(name, fn):
        t0 = time.monotonic()
        errs = parallel(fn, a, fnv, a.bytes, 1)
        results[name] = (errs, time.monotonic() - t0)

    ctl = [threading.Thread(target=control, args=("sink", one_sink), daemon=True),
           threading.Thread(target=control, args=("source", one_source), daemon=True)]
    for t in ctl:
        t.start()
    victims = []
    try:
        return kill_victims(a, fnv, ctl, results, kinds, victims)
    finally:
        for _, p in victims:
            if p.poll() is None:
                p.kill()
                p.wait()


def kill_victims(a, fnv, ctl, results, kinds, victims):
    for kind in kinds:
        for _ in range(a.victims):
            p = subprocess.Popen([sys.executable, __file__, "victim", "--kind", kind,
                                  "--host", a.host, "--bytes", str(a.victim_bytes),
                                  "--io-timeout", str(a.io_timeout), "--fnv", a.fnv],
                                 stdout=subprocess.PIPE, text=True)
            victims.append((kind, p))
    for kind, p in victims:
        line = p.stdout.readline()
        if line.strip() != "going":
            raise Failed(f"victim {kind} did not get going")
    killed = 0
    for kind, p in victims:
        if kind.endswith("-kill"):
            p.send_signal(signal.SIGKILL)
            killed += 1
    for kind, p in victims:
        rc = p.wait(timeout=a.io_timeout)
        if kind.endswith("-rst") and rc != 0:
            raise Failed(f"victim {kind} exited {rc}")
    overlap = all(t.is_alive() for t in ctl)
    for t in ctl:
        t.join()
    for name, (errs, _) in results.items():
        if errs:
            raise Failed(f"control {name} transfer failed: {errs[0]}")
    # and the stack still serves new connections
    errs = parallel(one_sink, a, fnv, 1 << 20, 4) + parallel(one_echo, a, fnv, 1 << 20, 4)
    if errs:
        raise Failed(f"after the kills: {errs[0]}")
    report("kill", 2 * a.bytes, max(r[1] for r in results.values()),
           victims=len(victims), killed=killed,
           reset=len(victims) - killed, control_overlapped_kills=overlap)
    if not overlap:
        raise Failed("the control transfers ended before the kills: grow --bytes")


def cmd_listen(a, fnv):
    """Kernel listener speaking the sink protocol, for tcp_peer --connect."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(1024)
    ls.settimeout(a.io_timeout)
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("listening\n")
        os.rename(a.ready + ".tmp", a.ready)
    errs, total = [], [0]
    lock = threading.Lock()

    def serve(s):
        got = 0
        ok = True
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        try:
            s.settimeout(a.io_timeout)
            while True:
                k = s.recv_into(view)
                if k == 0:
                    break
                if ok and view[:k] != pat(got, k):
                    ok = False
                got += k
            # a stream that is not the pattern gets an answer no client accepts
            ans = fnv.line(got) if ok else f"bytes {got} fnv mismatch\n".encode()
            s.sendall(ans)
            s.close()
            with lock:
                total[0] += got
                if not ok:
                    errs.append(f"a {got}-byte stream differs from the pattern")
        except OSError as e:
            with lock:
                errs.append(f"{type(e).__name__}: {e}")

    t0 = time.monotonic()
    ts = []
    for _ in range(a.conns):
        try:
            s, _ = ls.accept()
        except socket.timeout:
            raise Failed(f"accepted {len(ts)} of {a.conns} connections")
        t = threading.Thread(target=serve, args=(s,))
        t.start()
        ts.append(t)
    for t in ts:
        t.join()
    secs = time.monotonic() - t0
    if errs:
        raise Failed(f"{len(errs)} connections failed; first: {errs[0]}")
    report("active-listener", total[0], secs, conns=a.conns)


def main():
    global PAT
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["sink", "source", "echo", "many", "kill", "listen",
                                   "victim"])
    p.add_argument("--host", default="198.18.0.2")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--victims", type=int, default=4, help="kill: victims of each kind")
    p.add_argument("--victim-bytes", type=int, default=4 << 20)
    p.add_argument("--kind", default="")
    p.add_argument("--label", default="")
    p.add_argument("--io-timeout", type=float, default=60.0)
    p.add_argument("--fnv", required=True, help="path of tcp_fnv")
    p.add_argument("--ready", default="")
    a = p.parse_args()
    PAT = build_pattern()
    fnv = Fnv(a.fnv)
    try:
        if a.cmd == "victim":
            victim(a)
        elif a.cmd in ("sink", "source", "echo"):
            cmd_stream(a, fnv)
        elif a.cmd == "many":
            cmd_many(a, fnv)
        elif a.cmd == "kill":
            cmd_kill(a, fnv)
        else:
            cmd_listen(a, fnv)
    except (Failed, OSError, subprocess.SubprocessError) as e:
        print(f"tcp-interop: {a.cmd}: FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
