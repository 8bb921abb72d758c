#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Attacks on sluice's TCP from scapy, inside the namespace tcp_attack.sh made.

  tcp_attack.py PHASE --iface IF --stack-ip A --stack-mac M --kernel-ip K

tcp_peer (sink 5001, echo 5002) runs on the stack's side of the tap IF; the
kernel owns K on IF. Each phase checks what a peer can observe and prints
"key value" lines that tcp_attack.sh compares with tcp_peer's counters:

  flood    a SYN flood (bounded count and rate) from spoofed addresses while
           a kernel echo transfer runs; a kernel connection opened during the
           flood (through a SYN cookie) completes a sink exchange
  inject   blind RSTs and SYNs at in-window sequence numbers that are not
           RCV.NXT, on an idle kernel connection and then during a transfer;
           a SYN at RCV.NXT carrying a far-ahead TSval; the transfer completes.
           The test plays an attacker whose guesses landed in the window: a
           sniffer tells it the window (a real blind attacker sends many)
  window   segments outside the receive window (data, ACK, RST, SYN) on a
           kernel connection; the sink's answer shows none of their bytes
  overlap  scapy's own connection to the echo port (source OVERLAP_IP, a
           neighbour entry taught to the stack by ARP; the kernel owns no
           such address, so it drops the stack's answers without a RST):
           out-of-order, overlapping and duplicate segments whose overlaps
           carry different bytes; the echo must be the bytes the stack
           accepted first, each stream byte once

Exit 0 when every check held, 1 with "tcp-attack: FAIL: ..." otherwise.
Every wait is bounded; floods are bounded in count and time.
"""
import argparse
import fcntl
import ipaddress
import os
import random
import socket
import struct
import sys
import termios
import threading
import time

from scapy.all import ARP, IP, TCP, AsyncSniffer, Ether, Raw, conf, raw

conf.verb = 0

SINK, ECHO = 5001, 5002
FNV_OFFSET, FNV_PRIME, MASK64 = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1
OVERLAP_IP = "198.18.0.77"


class Fail(Exception):
    pass


def log(msg):
    print(f"tcp-attack: {msg}", file=sys.stderr, flush=True)


def report(key, value):
    print(f"{key} {value}", flush=True)


def fnv(data):
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def sink_exchange(host, data, timeout=30.0):
    """Send data to the sink, half-close, check its "bytes N fnv H" answer."""
    s = socket.create_connection((host, SINK), timeout=10)
    s.settimeout(timeout)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            answer += b
    finally:
        s.close()
    want = f"bytes {len(data)} fnv {fnv(data):016x}\n".encode()
    if answer != want:
        raise Fail(f"sink answered {answer!r}, want {want!r}")


def echo_transfer(host, data, timeout=60.0):
    """Send data to the echo port while reading it back; True when identical."""
    s = socket.create_connection((host, ECHO), timeout=10)
    s.settimeout(timeout)
    err = []

    def sender():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got = bytearray()
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got += b
    finally:
        t.join(timeout)
        s.close()
    if err:
        raise Fail(f"echo transfer: send failed: {err[0]}")
    if bytes(got) != data:
        first = next((i for i in range(min(len(got), len(data))) if got[i] != data[i]),
                     min(len(got), len(data)))
        raise Fail(f"echo transfer: {len(got)} of {len(data)} bytes back, first difference "
                   f"at {first}")


def iface_mac(iface):
    with open(f"/sys/class/net/{iface}/address") as f:
        return f.read().strip()


def wait_idle(sock, timeout=10.0):
    """Until the kernel has every byte of sock acknowledged (SIOCOUTQ == 0)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
        if struct.unpack("i", buf)[0] == 0:
            time.sleep(0.3)  # the stack's delayed ACK, the kernel's last segment
            return
        time.sleep(0.05)
    raise Fail("the stack did not acknowledge the kernel's bytes in time")


def ts_of(pkt):
    for k, v in pkt[TCP].options:
        if k == "Timestamp":
            return v
    return None


class ConnView:
    """What an on-path observer learns of one kernel connection from a sniffer:
    the stack's RCV.NXT (its last ACK), its window, the kernel's last TSval."""

    def __init__(self, a, cport):
        self.a, self.cport = a, cport
        self.pkts = []
        flt = f"tcp and host {a.kernel_ip} and host {a.stack_ip} and port {cport}"
        self.sniffer = AsyncSniffer(iface=a.iface, filter=flt, store=False,
                                    prn=self.pkts.append)
        self.sniffer.start()
        time.sleep(0.5)

    def stop(self):
        if self.sniffer.running:
            self.sniffer.stop()

    def state(self):
        """(rcv_nxt, window in bytes, kernel tsval, kernel tsecr) once the
        sniffer has caught up (nothing new for half a second)."""
        n, deadline = -1, time.monotonic() + 10
        while n != len(self.pkts) and time.monotonic() < deadline:
            n = len(self.pkts)
            time.sleep(0.5)
        wscale, rcv_nxt, wnd, tsval, tsecr = 0, None, None, None, None
        for p in list(self.pkts):
            if TCP not in p:
                continue
            t = p[TCP]
            if p[IP].src == self.a.stack_ip:
                if t.flags & 0x02:  # SYN-ACK: the window scale
                    for k, v in t.options:
                        if k == "WScale":
                            wscale = v
                    continue
                if t.flags & 0x10:
                    rcv_nxt, wnd = t.ack, t.window << wscale
            else:
                ts = ts_of(p)
                if ts is not None:
                    tsval, tsecr = ts
        if rcv_nxt is None or tsval is None:
            raise Fail("the sniffer saw no ACK from the stack or no kernel timestamp")
        return rcv_nxt, wnd, tsval, tsecr


def watched_connect(a, port):
    """A kernel connection to the stack, watched from before its SYN (the
    SYN-ACK's window scale is needed to read the stack's window)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((a.kernel_ip, 0))
    view = ConnView(a, s.getsockname()[1])
    try:
        s.settimeout(10)
        s.connect((a.stack_ip, port))
    except OSError:
        view.stop()
        s.close()
        raise
    s.settimeout(a.timeout)
    return s, view


def inject(a, l2, frames):
    for f in frames:
        l2.send(f)


def kernel_frame(a, cport, seq, flags, ack=0, payload=b"", ts=None, window=8192):
    opts = [("Timestamp", ts)] if ts is not None else []
    pkt = (Ether(src=a.kernel_mac, dst=a.stack_mac) /
           IP(src=a.kernel_ip, dst=a.stack_ip) /
           TCP(sport=cport, dport=a.dport, seq=seq & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF,
               flags=flags, window=window, options=opts))
    if payload:
        pkt = pkt / Raw(payload)
    return raw(pkt)


# ---- flood ----

def flood_frames(a, n):
    """n SYNs from spoofed addresses of the flood network, many source ports."""
    net = ipaddress.ip_network(a.flood_net)
    hosts = [str(h) for h in list(net.hosts())[:200]]
    rnd = random.Random(1)
    frames = []
    for i in range(n):
        src = hosts[i % len(hosts)]
        smac = "02:00:00:%02x:%02x:%02x" % (rnd.randrange(256), rnd.randrange(256),
                                            rnd.randrange(256))
        frames.append(raw(
            Ether(src=smac, dst=a.stack_mac) / IP(src=src, dst=a.stack_ip) /
            TCP(sport=1024 + (i * 7919) % 60000, dport=SINK, flags="S",
                seq=rnd.getrandbits(32), window=65535,
                options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (i, 0)),
                         ("WScale", 7)])))
    return frames


def phase_flood(a):
    frames = flood_frames(a, 4000)
    l2 = conf.L2socket(iface=a.iface)
    stop = threading.Event()
    sent = [0]

    def flood():
        # Bounded: at most a.flood_max SYNs, a.flood_rate per second, and
        # never past a.flood_seconds.
        t0 = time.monotonic()
        per_tick = max(1, a.flood_rate // 100)
        while not stop.is_set() and sent[0] < a.flood_max:
            if time.monotonic() - t0 > a.flood_seconds:
                break
            for _ in range(per_tick):
                l2.send(frames[sent[0] % len(frames)])
                sent[0] += 1
            time.sleep(0.01)

    ft = threading.Thread(target=flood, daemon=True)
    ft.start()
    time.sleep(1.0)  # the SYN backlog is full of spoofed half-open connections by now
    if not ft.is_alive():
        raise Fail("the flood stopped before the transfers started")
    before = sent[0]
    data = random.Random(2).randbytes(a.bytes)
    res = {}

    def transfer():
        t0 = time.monotonic()
        try:
            echo_transfer(a.stack_ip, data, timeout=a.timeout)
            res["echo"] = None
        except (Fail, OSError) as e:
            res["echo"] = e
        res["secs"] = time.monotonic() - t0

    tt = threading.Thread(target=transfer, daemon=True)
    tt.start()
    time.sleep(0.5)
    # A connection opened while the backlog is full: its handshake must go
    # through a SYN cookie and finish, then carry a sink exchange.
    t0 = time.monotonic()
    sink_exchange(a.stack_ip, random.Random(3).randbytes(256 * 1024), timeout=a.timeout)
    new_conn_s = time.monotonic() - t0
    if not ft.is_alive():
        raise Fail(f"the flood ended ({sent[0]} SYNs) before the new connection's exchange "
                   "did: raise --flood-max/--flood-seconds")
    tt.join(a.timeout + 10)
    during = sent[0] - before
    overlapped = ft.is_alive()
    stop.set()
    ft.join(5)
    if tt.is_alive():
        raise Fail("the echo transfer did not finish in time")
    if res.get("echo") is not None:
        raise Fail(f"echo transfer under flood: {res['echo']}")
    # The echo started with the flood at full rate; on a slow machine it may
    # outlast the flood's bounds, which is no failure of the stack.
    log(f"flood: {sent[0]} SYNs in all, {during} while {a.bytes} bytes echoed intact "
        f"in {res['secs']:.2f} s{'' if overlapped else ' (the flood ended first)'}; "
        f"a new connection's sink exchange took {new_conn_s:.2f} s")
    report("flood_syns", sent[0])
    report("echo_bytes", a.bytes)


# ---- inject ----

def phase_inject(a):
    a.dport = SINK
    l2 = conf.L2socket(iface=a.iface)
    s, view = watched_connect(a, SINK)
    cport = view.cport
    sent = bytearray()
    try:
        # Whole segments only (the kernel's MSS), so RCV.NXT only ever sits on
        # ISN + 1 + k * MSS and half a segment is never exactly RCV.NXT.
        mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
        first = random.Random(4).randbytes(45 * mss)
        s.sendall(first)
        sent += first
        wait_idle(s)
        rcv_nxt, wnd, tsval, tsecr = view.state()
        if wnd < 40000:
            raise Fail(f"the stack's window is {wnd} bytes: too small for the test")
        log(f"inject: idle, RCV.NXT {rcv_nxt}, window {wnd}, kernel TSval {tsval}")
        frames, n_rst, n_syn = [], 0, 0
        # In-window RSTs that are not RCV.NXT (RFC 5961 3.2: challenge ACK).
        for i in range(20):
            frames.append(kernel_frame(a, cport, rcv_nxt + 1 + i * 1777, "R"))
            n_rst += 1
        for i in range(10):
            frames.append(kernel_frame(a, cport, rcv_nxt + 3001 + i, "RA", ack=0,
                                       ts=(tsval, tsecr)))
            n_rst += 1
        # In-window SYNs (RFC 5961 4.2: challenge ACK whatever the sequence number).
        for i in range(10):
            frames.append(kernel_frame(a, cport, rcv_nxt + 100 + i * 997, "S",
                                       ts=(tsval, 0)))
            n_syn += 1
        # A SYN exactly at RCV.NXT with a TSval far ahead: still only a
        # challenge ACK, and TS.Recent must not take its TSval (else every
        # later kernel segment fails PAWS and the connection stalls).
        frames.append(kernel_frame(a, cport, rcv_nxt, "S", ts=((tsval + (1 << 30)) & 0xFFFFFFFF, 0)))
        n_syn += 1
        inject(a, l2, frames)
        time.sleep(0.3)
        # During a transfer: RSTs and SYNs half a segment past the end of what
        # the kernel sent last (in the window, between segment boundaries).
        # The kernel writes 6 whole segments every 10 ms, slow enough for the
        # sniffer to keep up (a stale sequence number would only be out of
        # the window).
        chunk = 6 * mss
        second = random.Random(5).randbytes(chunk * max(1, a.bytes // chunk))
        err = []

        def sender():
            try:
                for off in range(0, len(second), chunk):
                    s.sendall(second[off:off + chunk])
                    time.sleep(0.01)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        n_flow = 0
        deadline = time.monotonic() + 5
        while t.is_alive() and n_flow < 40 and time.monotonic() < deadline:
            time.sleep(0.03)
            pk = [p for p in list(view.pkts)[-50:]
                  if TCP in p and p[IP].src == a.kernel_ip and len(p[TCP].payload) > 0]
            if not pk:
                time.sleep(0.01)
                continue
            p = pk[-1]
            ln = len(p[TCP].payload)
            if ts_of(p) is None:
                continue
            tsv, tse = ts_of(p)
            seq = p[TCP].seq + ln + mss // 2 + 1
            if n_flow % 2 == 0:
                f = kernel_frame(a, cport, seq, "R")
            else:  # a TSval 1 s ahead: PAWS lets it through, TS.Recent ignores it
                f = kernel_frame(a, cport, seq, "S", ts=((tsv + 1000) & 0xFFFFFFFF, tse))
            inject(a, l2, [f])
            n_flow += 1
        t.join(a.timeout)
        if t.is_alive() or err:
            raise Fail(f"the transfer after the injection did not complete: {err}")
        sent += second
        answer = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            answer += b
    finally:
        view.stop()
        s.close()
    want = f"bytes {len(sent)} fnv {fnv(sent):016x}\n".encode()
    if answer != want:
        raise Fail(f"after blind RST/SYN injection the sink answered {answer!r}, want {want!r}")
    log(f"inject: {n_rst} in-window RSTs and {n_syn} SYNs on the idle connection, "
        f"{n_flow} more during the transfer; the connection survived")
    report("inject_rst_inwindow", n_rst)
    report("inject_syn", n_syn)
    report("inject_flow", n_flow)


# ---- window ----

def phase_window(a):
    a.dport = SINK
    l2 = conf.L2socket(iface=a.iface)
    s, view = watched_connect(a, SINK)
    cport = view.cport
    try:
        mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
        first = random.Random(6).randbytes(45 * mss)
        s.sendall(first)
        wait_idle(s)
        rcv_nxt, wnd, tsval, tsecr = view.state()
        # the stack's SND.NXT: what its segments carry as SEQ (it sent no data)
        snd = [p[TCP].seq for p in list(view.pkts)
               if TCP in p and p[IP].src == a.stack_ip and not p[TCP].flags & 0x02]
        ack = snd[-1] if snd else 0
        evil = b"EVIL" * 256
        ts = (tsval, tsecr)
        frames = []
        for i in range(8):  # data past the right edge
            frames.append(kernel_frame(a, cport, rcv_nxt + wnd + 1 + i * 1024, "PA", ack=ack,
                                       payload=evil, ts=ts))
        for i in range(8):  # data wholly before RCV.NXT, different bytes
            frames.append(kernel_frame(a, cport, rcv_nxt - 200000 + i * 1024, "PA", ack=ack,
                                       payload=evil, ts=ts))
        for i in range(4):  # bare ACKs out of the window
            frames.append(kernel_frame(a, cport, rcv_nxt + wnd + 5000 + i, "A", ack=ack, ts=ts))
        for i in range(4):  # RSTs out of the window: dropped, no reply
            frames.append(kernel_frame(a, cport, rcv_nxt + wnd + 9000 + i, "R"))
        for i in range(4):  # SYNs out of the window
            frames.append(kernel_frame(a, cport, rcv_nxt - 70000 - i, "S", ts=ts))
        inject(a, l2, frames)
        time.sleep(0.3)
        second = random.Random(7).randbytes(256 * 1024)
        s.sendall(second)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            answer += b
    finally:
        view.stop()
        s.close()
    data = first + second
    want = f"bytes {len(data)} fnv {fnv(data):016x}\n".encode()
    if answer != want:
        raise Fail(f"after out-of-window segments the sink answered {answer!r}, want {want!r}")
    log(f"window: {len(frames)} out-of-window segments had no effect")
    report("window_segments", len(frames))


# ---- overlap ----

class RawPeer:
    """A TCP endpoint in scapy at OVERLAP_IP: it sends what the test says and
    collects what the stack sends it."""

    def __init__(self, a, dport):
        self.a, self.dport = a, dport
        self.mac = iface_mac(a.iface)
        self.sport = 40000 + os.getpid() % 20000
        self.l2 = conf.L2socket(iface=a.iface)
        self.got = []
        self.data = {}  # stream offset -> byte, the first copy of each
        self.fin_at = None
        self.irs = None
        self.snd_nxt = 0
        self.cv = threading.Condition()
        flt = f"tcp and src host {a.stack_ip} and dst host {OVERLAP_IP} and port {self.sport}"
        self.sniffer = AsyncSniffer(iface=a.iface, filter=flt, store=False, prn=self._rx)
        self.sniffer.start()
        time.sleep(0.5)

    def _rx(self, p):
        with self.cv:
            self.got.append(p)
            self.cv.notify_all()
            t = p[TCP]
            if self.irs is None or t.flags & 0x02:
                return
            off = (t.seq - self.irs - 1) & 0xFFFFFFFF
            for i, b in enumerate(bytes(t.payload)):
                self.data.setdefault(off + i, b)
            if t.flags & 0x01:
                self.fin_at = off + len(t.payload)
            n = 0
            while n in self.data:
                n += 1
            ack = self.irs + 1 + n + (1 if self.fin_at == n else 0)
        # acknowledge what arrived in order, so the echo keeps coming
        self.send(self.snd_nxt, "A", ack=ack)

    def wait(self, pred, what, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for p in self.got:
                    if pred(p[TCP]):
                        return p[TCP]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = " ".join(f"{p[TCP].flags}@{p[TCP].seq}+{len(p[TCP].payload)}"
                                    for p in self.got[-12:])
                    raise Fail(f"overlap: no {what} from the stack in {timeout} s "
                               f"(its last segments: {seen or 'none'})")
                self.cv.wait(left)

    def send(self, seq, flags, payload=b"", ack=None):
        end = seq + len(payload) + (1 if "S" in flags or "F" in flags else 0)
        if ((end - self.snd_nxt) & 0xFFFFFFFF) < (1 << 31):
            self.snd_nxt = end & 0xFFFFFFFF
        opts = [("MSS", 1460)] if "S" in flags else []
        t = TCP(sport=self.sport, dport=self.dport, seq=seq & 0xFFFFFFFF,
                ack=(self.rcv_nxt if ack is None else ack) & 0xFFFFFFFF, flags=flags,
                window=65535, options=opts)
        pkt = Ether(src=self.mac, dst=self.a.stack_mac) / IP(src=OVERLAP_IP, dst=self.a.stack_ip) / t
        if payload:
            pkt = pkt / Raw(payload)
        self.l2.send(raw(pkt))

    def teach_arp(self):
        # RFC 826: the stack learns <OVERLAP_IP, our MAC> from a request for it.
        self.l2.send(raw(Ether(src=self.mac, dst="ff:ff:ff:ff:ff:ff") /
                         ARP(op=1, hwsrc=self.mac, psrc=OVERLAP_IP, pdst=self.a.stack_ip)))
        time.sleep(0.2)

    def connect(self):
        self.isn = 0x7FFFF000  # the stream crosses 2^31 on the way: sign bugs show
        self.snd_nxt = self.isn
        self.send(self.isn, "S", ack=0)
        sa = self.wait(lambda t: t.flags & 0x12 == 0x12, "SYN-ACK")
        self.rcv_nxt = sa.seq + 1
        with self.cv:
            self.irs = sa.seq
        self.send(self.isn + 1, "A")

    def stop(self):
        if self.sniffer.running:
            self.sniffer.stop()

    def echoed(self):
        """The stack's bytes by sequence number (retransmissions collapse)."""
        with self.cv:
            out = dict(self.data)
        n = 0
        while n in out:
            n += 1
        return bytes(out[i] for i in range(n)), len(out)


def phase_overlap(a):
    # (offset, length, byte) in the order sent, and what the stack must keep:
    # the first copy of every byte it accepted. The in-order segment G meets
    # held out-of-order bytes (C, A): they win; F covers held D and E
    # entirely: they win; H and I repeat bytes already delivered: trimmed.
    plan = [
        (1000, 1000, b"A"),  # ahead of RCV.NXT: out-of-order queue
        (1500, 1000, b"B"),  # its front overlaps A: A keeps [1500, 2000)
        (500, 700, b"C"),    # its back overlaps A: A keeps [1000, 1200)
        (3000, 100, b"D"),
        (3200, 100, b"E"),
        (2900, 500, b"F"),   # covers D and E: they keep their bytes
        (0, 1100, b"G"),     # in order; C and A keep [500, 1100)
        (2400, 200, b"H"),   # [2400, 2500) delivered already (B): trimmed
        (0, 300, b"I"),      # wholly old: dropped
        (2600, 300, b"J"),   # fills the last hole
    ]
    total = 3400
    want = bytearray(total)
    have = [False] * total
    for off, ln, ch in plan:
        for i in range(off, off + ln):
            if not have[i]:
                want[i] = ch[0]
                have[i] = True
    assert all(have)

    peer = RawPeer(a, ECHO)
    try:
        peer.teach_arp()
        peer.connect()
        base = peer.isn + 1
        for off, ln, ch in plan:
            peer.send(base + off, "PA", ch * ln)
            time.sleep(0.05)
        peer.send(base + total, "FA")
        # the echo, then the stack's FIN after it (echo closes after the peer's FIN)
        fin = peer.wait(lambda t: t.flags & 0x01, "FIN", timeout=10)
        peer.rcv_nxt = fin.seq + len(fin.payload) + 1
        got, n_bytes = peer.echoed()
        peer.send(base + total + 1, "A")
    finally:
        peer.stop()
    if got != bytes(want):
        diff = next((i for i in range(min(len(got), total)) if got[i] != want[i]),
                    min(len(got), total))
        raise Fail(f"overlap: echo differs from the first-accepted bytes at offset {diff} "
                   f"(got {got[diff:diff + 8]!r}, want {bytes(want[diff:diff + 8])!r}); "
                   f"{len(got)} contiguous bytes, {n_bytes} in all, want {total}\n"
                   f"  got:  {summarise(got)}\n  want: {summarise(bytes(want))}")
    log(f"overlap: {len(plan)} segments, {total} bytes echoed as first accepted")
    report("overlap_bytes", total)


def summarise(b):
    """Runs of one byte: "G*500 C*500 ..."."""
    out, i = [], 0
    while i < len(b):
        j = i
        while j < len(b) and b[j] == b[i]:
            j += 1
        out.append(f"{chr(b[i]) if 32 < b[i] < 127 else hex(b[i])}*{j - i}")
        i = j
    return " ".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phase", choices=["flood", "inject", "window", "overlap"])
    ap.add_argument("--iface", required=True)
    ap.add_argument("--stack-ip", required=True)
    ap.add_argument("--stack-mac", required=True)
    ap.add_argument("--kernel-ip", required=True)
    ap.add_argument("--flood-net", default="198.18.1.0/24",
                    help="spoofed SYN sources (default: off-link, answered through the "
                         "gateway; 198.18.0.128/25 floods on-link: every answer waits for "
                         "an ARP reply that never comes)")
    ap.add_argument("--flood-rate", type=int, default=4000, help="SYNs per second at most")
    ap.add_argument("--flood-max", type=int, default=240000, help="SYNs in all at most")
    ap.add_argument("--flood-seconds", type=float, default=60.0,
                    help="the flood stops after this long, transfers done or not")
    ap.add_argument("--bytes", type=int, default=32 << 20, help="bulk transfer size")
    ap.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args()
    a.kernel_mac = iface_mac(a.iface)
    a.dport = SINK
    try:
        {"flood": phase_flood, "inject": phase_inject, "window": phase_window,
         "overlap": phase_overlap}[a.phase](a)
    except (Fail, OSError) as e:
        print(f"tcp-attack: FAIL: {a.phase}: {e}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
