# SPDX-License-Identifier: BSD-3-Clause
"""sluiced end-to-end cases (kernel transport). Usage:
  cases.py SLUICED GEN_CERTS FLATC SCHEMA CASE [CASE...]   ('all' runs every case)
Environment: SLUICE_CLI, the sluice CLI for the cases that use it.
Each case starts its own sluiced, drives it with real TLS clients and stops it
with SIGTERM, checking a clean exit with every job object returned."""
import json
import random
import shutil
import os
import signal
import socket
import subprocess
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Client, Env, Sluiced, TOKEN, TOKEN_NARROW,  # noqa: E402
                     TOKEN_PRODUCER)
from harness import Skip, quiet  # noqa: E402
from ctl_cases import CTL_CASES  # noqa: E402
from ctld_cases import CTLD_CASES  # noqa: E402

OK, DUPLICATE, QUEUE_FULL, RATE_LIMITED, UNAUTHENTICATED, FORBIDDEN, UNKNOWN_QUEUE, \
    TOO_LARGE, INVALID, REFUSED_SERIALIZATION, CONTENT_TYPE_REFUSED, PRIORITY_TOO_HIGH, \
    SHUTTING_DOWN, LEASE_NOT_FOUND, LEASE_EXPIRED, TIMEOUT = range(16)
UNIQUE_CONFLICT = 20


def now_ms():
    return int(time.time() * 1000)


def case_accounting(env):
    """5,000 jobs in batches of 100 over two producers; every one delivered once."""
    s = Sluiced(env, ["work,max_jobs=10000"])
    try:
        sent = set()
        for p in range(2):
            c = Client(s)
            c.hello()
            for b in range(25):
                jobs = []
                for i in range(100):
                    jid = (p + 1, b * 1000 + i + 1)
                    jobs.append({"queue": "work", "payload": b"%d" % i, "id": jid})
                    sent.add(jid)
                c.enqueue(jobs)
                _, st, ids = c.ack()
                assert st == [OK] * 100, st
                assert set(ids) <= sent
            c.close()
        cons = Client(s)
        cons.hello()
        cons.subscribe(["work"], prefetch=256)
        got, leases = [], []
        while len(got) < len(sent):
            d = cons.deliver()
            got.append(d["id"])
            leases.append(d["lease"])
            if len(leases) == 128:
                assert cons.settle("complete", leases) == [OK] * 128
                cons.credit(128)
                leases = []
        if leases:
            assert cons.settle("complete", leases) == [OK] * len(leases)
        assert len(got) == len(set(got)) == len(sent), "duplicate or missing deliveries"
        assert set(got) == sent
        assert not cons.stash, f"unexpected extra frames {[n for n, _ in cons.stash]}"
        quiet(cons, 0.5, "unexpected extra frame")
        cons.close()
    finally:
        s.stop()


def case_priority(env):
    """Strict priority within a queue, FIFO within a level."""
    s = Sluiced(env, ["p"])
    try:
        c = Client(s)
        c.hello()
        order = [3, 15, 0, 7, 15, 3, 0, 9]
        c.enqueue([{"queue": "p", "priority": pr, "payload": b"%d" % i}
                   for i, pr in enumerate(order)])
        assert c.ack()[1] == [OK] * len(order)
        c.subscribe(["p"], prefetch=len(order))
        got = [c.deliver() for _ in order]
        want = sorted(range(len(order)), key=lambda i: (-order[i], i))
        assert [int(d["payload"]) for d in got] == want, [d["payload"] for d in got]
        c.close()
    finally:
        s.stop()


def case_delayed(env):
    """A delayed job is never leased before not_before; an immediate one is at once."""
    s = Sluiced(env, ["d"])
    try:
        c = Client(s)
        c.hello()
        due = now_ms() + 1200
        c.enqueue([{"queue": "d", "payload": b"later", "not_before_ms": due},
                   {"queue": "d", "payload": b"now"}])
        assert c.ack()[1] == [OK, OK]
        c.subscribe(["d"], prefetch=2)
        first = c.deliver()
        assert first["payload"] == b"now"
        second = c.deliver()
        arrived = now_ms()
        assert second["payload"] == b"later"
        assert arrived >= due, f"delivered {due - arrived} ms early"
        c.close()
    finally:
        s.stop()


def case_lease_expiry(env):
    """An unsettled lease expires and the job is redelivered with attempt + 1."""
    s = Sluiced(env, ["l,lease_ms=300"])
    try:
        c = Client(s)
        c.hello()
        c.enqueue([{"queue": "l", "payload": b"x"}])
        c.ack()
        c.subscribe(["l"], prefetch=2)
        a = c.deliver()
        assert a["attempt"] == 1 and a["lease_timeout_ms"] == 300
        t0 = time.time()
        b = c.deliver()
        waited = time.time() - t0
        assert b["attempt"] == 2 and b["id"] == a["id"]
        assert waited >= 0.25, f"redelivered after {waited:.3f} s"
        assert c.settle("complete", [a["lease"]]) == [LEASE_EXPIRED]
        assert c.settle("complete", [b["lease"]]) == [OK]
        assert c.settle("complete", [b["lease"]]) == [LEASE_NOT_FOUND]
        c.close()
    finally:
        s.stop()


def case_extend(env):
    """Extending a lease keeps it alive past its timeout."""
    # 6 x 0.3 s of extensions outlive the 1 s lease; 0.7 s of margin per
    # extension round trip (ASan builds on a loaded CI machine need it).
    s = Sluiced(env, ["x,lease_ms=1000"])
    try:
        c = Client(s)
        c.hello()
        c.enqueue([{"queue": "x"}])
        c.ack()
        c.subscribe(["x"], prefetch=2)
        d = c.deliver()
        for _ in range(6):
            time.sleep(0.3)
            assert c.settle("extend", [d["lease"]], ms=1000) == [OK]
        assert c.settle("complete", [d["lease"]]) == [OK]
        quiet(c, 1.3, "redelivered after extension")  # past the lease: a redelivery would show
        c.close()
    finally:
        s.stop()


def case_retry_dead(env):
    """Fail retries with backoff until max_attempts, then the job stays dead."""
    s = Sluiced(env, ["r,max_attempts=3,backoff_ms=20,backoff_max_ms=40"])
    try:
        c = Client(s)
        c.hello()
        c.enqueue([{"queue": "r"}])
        c.ack()
        c.subscribe(["r"], prefetch=10)
        attempts = []
        for _ in range(3):
            d = c.deliver()
            attempts.append(d["attempt"])
            assert c.settle("fail", [d["lease"]]) == [OK]
        assert attempts == [1, 2, 3]
        quiet(c, 0.5, "dead job delivered again")
        # dead=true sends a fresh job straight to the dead set
        c.sock.settimeout(10)
        c.enqueue([{"queue": "r", "payload": b"poison"}])
        c.ack()
        d = c.deliver()
        assert c.settle("fail", [d["lease"]], dead=True) == [OK]
        c.close()
    finally:
        s.stop()


def case_dedup_unique(env):
    """A re-sent job id is a Duplicate with the original id; unique keys conflict."""
    s = Sluiced(env, ["u"])
    try:
        c = Client(s)
        c.hello()
        c.enqueue([{"queue": "u", "id": (5, 6)}])
        assert c.ack()[1:] == ([OK], [(5, 6)])
        c.enqueue([{"queue": "u", "id": (5, 6)}])
        assert c.ack()[1:] == ([DUPLICATE], [(5, 6)])
        c.enqueue([{"queue": "u"}, {"queue": "u"}])
        _, st, ids = c.ack()
        assert st == [OK, OK] and ids[0] != ids[1] and (0, 0) not in ids, ids
        c.enqueue([{"queue": "u", "unique_key": "invoice-42"},
                   {"queue": "u", "unique_key": "invoice-42"},
                   {"queue": "u", "unique_key": "invoice-43"}])
        assert c.ack()[1] == [OK, UNIQUE_CONFLICT, OK]
        c.close()
    finally:
        s.stop()


def case_backpressure(env):
    """A bounded queue answers QueueFull, and accepts again once jobs leave."""
    s = Sluiced(env, ["b,max_jobs=5"])
    try:
        c = Client(s)
        c.hello()
        c.enqueue([{"queue": "b"} for _ in range(8)])
        assert c.ack()[1] == [OK] * 5 + [QUEUE_FULL] * 3
        c.subscribe(["b"], prefetch=2)
        leases = [c.deliver()["lease"] for _ in range(2)]
        c.enqueue([{"queue": "b"}])
        assert c.ack()[1] == [QUEUE_FULL], "leased jobs still count"
        assert c.settle("complete", leases) == [OK, OK]
        c.enqueue([{"queue": "b"} for _ in range(3)])
        assert c.ack()[1] == [OK, OK, QUEUE_FULL]
        c.close()
    finally:
        s.stop()


def case_auth(env):
    """Bad token: Error{Unauthenticated} and close. Role beyond the principal: Forbidden."""
    s = Sluiced(env, ["a"])
    try:
        c = Client(s)
        c.hello(token="slq_wrong", expect_welcome=False)
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == UNAUTHENTICATED, (name, msg.Code())
        assert c.closed()
        c = Client(s)
        c.hello(token=TOKEN_PRODUCER, role=2, expect_welcome=False)
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == FORBIDDEN
        assert c.closed()
        c = Client(s)
        c.hello(token=TOKEN_PRODUCER, role=1)
        c.subscribe(["a"])
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == FORBIDDEN, "producer-only may not consume"
        c.close()
        # Before Hello nothing is allowed.
        c = Client(s)
        c.enqueue([{"queue": "a"}])
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == INVALID
        assert c.closed()
    finally:
        s.stop()


def case_acl(env):
    """Per-job refusals by the principal's ACL and the queue's policy."""
    s = Sluiced(env, ["billing.eu", "emails", "json,content_types=application/json",
                      "legacy,allow_code_serialization"])
    try:
        c = Client(s)
        c.hello(token=TOKEN_NARROW)
        c.enqueue([
            {"queue": "billing.eu", "type": "email"},
            {"queue": "emails", "type": "email"},
            {"queue": "billing.eu", "type": "sms"},
            {"queue": "billing.eu", "type": "email", "payload": b"x" * 1025},
            {"queue": "billing.eu", "type": "email", "priority": 6},
            {"queue": "nowhere", "type": "email"},
        ])
        assert c.ack()[1] == [OK, FORBIDDEN, FORBIDDEN, TOO_LARGE, PRIORITY_TOO_HIGH,
                              UNKNOWN_QUEUE]
        c.subscribe(["emails"])
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == FORBIDDEN
        c.close()
        c = Client(s)
        c.hello()
        pickle = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94."
        java = b"\xac\xed\x00\x05sr\x00\x04Evil"
        marshal = b"\x04\x08o:\x08Evil\x00"
        c.enqueue([{"queue": "emails", "payload": pickle},
                   {"queue": "emails", "payload": java},
                   {"queue": "emails", "payload": marshal},
                   {"queue": "legacy", "payload": pickle},
                   {"queue": "json", "payload": b"{}"},
                   {"queue": "json", "payload": b"{}", "content_type": "application/json"}])
        assert c.ack()[1] == [REFUSED_SERIALIZATION] * 3 + [OK, CONTENT_TYPE_REFUSED, OK]
        c.close()
    finally:
        s.stop()


def case_malformed(env):
    """Invalid, oversized and truncated frames close only their own connection."""
    s = Sluiced(env, ["m"])
    try:
        good = Client(s)
        good.hello()
        bad = Client(s)
        bad.hello()
        bad.send(b"\x10\x00\x00\x00" + b"\x08\x00\x00\x00XXXX" + b"\x00" * 8)
        name, msg = bad.recv()
        assert name == "Error" and msg.Code() == INVALID
        assert b"identifier_mismatch at byte 8" in msg.Message(), msg.Message()
        assert bad.closed()
        big = Client(s)
        big.hello()
        big.send(b"\x00\x00\x00\x7f")
        name, msg = big.recv()
        assert name == "Error" and msg.Code() == TOO_LARGE, (name, msg.Code())
        assert big.closed()
        # A frame cut short, then the client goes away: nothing else notices.
        cut = Client(s)
        cut.hello()
        cut.send(b"\x40\x00\x00\x00\x0c\x00\x00\x00SLQ1")
        cut.close()
        # One byte of a valid EnqueueBatch changed: the queue name gets a space.
        flip = Client(s)
        flip.hello()
        capture = []
        flip.send = capture.append
        flip.enqueue([{"queue": "mmmm"}])
        frame = bytearray(capture[0])
        pos = frame.find(b"mmmm")
        frame[pos + 1] = ord(" ")
        Client.send(flip, bytes(frame))
        name, msg = flip.recv()
        assert name == "Error" and msg.Code() == INVALID
        assert b"name_bad_char at byte" in msg.Message(), msg.Message()
        assert flip.closed()
        good.enqueue([{"queue": "m", "payload": b"still fine"}])
        assert good.ack()[1] == [OK]
        good.close()
    finally:
        out = s.stop()
    # Every refusal is counted by its reason.
    line = [x for x in out.splitlines() if x.startswith("sluiced: stats ")]
    assert line, "no stats line: " + out
    stats = json.loads(line[0][len("sluiced: stats "):])
    assert stats["invalid"] == {"identifier_mismatch": 1, "name_bad_char": 1}, stats["invalid"]
    assert stats["too_large"] == 1 and stats["auth_ok"] == 5, stats


def case_deadlines(env):
    """Slowloris: no TLS handshake, or no Hello, within the deadline closes the connection."""
    s = Sluiced(env, ["s"], ["--handshake-timeout-ms", "800", "--hello-timeout-ms", "800"])
    try:
        raw = socket.create_connection((s.host, s.port), timeout=5)
        t0 = time.time()
        raw.settimeout(5)
        try:
            data = raw.recv(1)
        except ConnectionResetError:
            data = b""
        assert data == b"" and 0.6 < time.time() - t0 < 4, "handshake deadline"
        raw.close()
        c = Client(s)
        t0 = time.time()
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == TIMEOUT, (name, msg.Code())
        assert 0.6 < time.time() - t0 < 4
        assert c.closed()
    finally:
        s.stop()


def case_alpn(env):
    """Without ALPN sluice/1 the TLS session is refused."""
    s = Sluiced(env, ["a"])
    try:
        for alpn in (None, ("h2",)):
            try:
                c = Client(s, alpn=alpn)
                c.hello(expect_welcome=False)
                assert c.closed(), f"ALPN {alpn} accepted"
            except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
                pass
    finally:
        s.stop()


def case_concurrent(env):
    """200 concurrent TLS sessions, each enqueueing and getting its ack."""
    s = Sluiced(env, ["c,max_jobs=1000"])
    try:
        clients = []
        for _ in range(200):
            c = Client(s, timeout=30)
            c.hello()
            clients.append(c)
        for i, c in enumerate(clients):
            c.enqueue([{"queue": "c", "payload": b"%d" % i}])
        for c in clients:
            assert c.ack()[1] == [OK]
        cons = Client(s)
        cons.hello()
        cons.subscribe(["c"], prefetch=200)
        got = {cons.deliver()["payload"] for _ in range(200)}
        assert got == {b"%d" % i for i in range(200)}
        for c in clients:
            c.close()
        cons.close()
    finally:
        s.stop()


def case_telemetry(env):
    """DPDK telemetry: /sluice/io,0 gives the I/O lcore's counters while sluiced
    runs (the JSON it prints at exit), and they count the session just made."""
    prefix = f"sltel{os.getpid()}_{random.randint(0, 1 << 30)}"
    s = Sluiced(env, ["tq"], eal_extra=["--file-prefix", prefix])
    path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    try:
        c = Client(s)
        c.hello(TOKEN)
        c.enqueue([{"queue": "tq", "payload": b"t"}] * 3)
        assert c.ack()[1] == [OK] * 3
        if not os.path.exists(path):
            raise Skip(f"no telemetry socket at {path} (EAL telemetry off here)")
        t = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        t.settimeout(10)
        t.connect(path)
        hello = json.loads(t.recv(4096))
        assert "version" in hello, hello
        t.send(b"/sluice/io,0")
        io = json.loads(json.loads(t.recv(65536))["/sluice/io"])
        assert io["io"] == 0 and io["accepted"] >= 1 and io["auth_ok"] >= 1, io
        assert io["jobs_in"] == 3, io
        t.send(b"/sluice/io,5")  # no such lcore: an error answer, not a crash
        assert json.loads(t.recv(65536)) == {"/sluice/io": None}
        t.close()
    finally:
        s.stop()
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)


def case_ctld_client_cert(env):
    """Client certificates name principals through sluice-ctld: a Hello without a
    token from a client whose verified certificate matches a mapping by subject
    opens a session with that principal's grants (its role only); a reload that
    maps the certificate by fingerprint to another principal ends the session and
    the next Hello gets the new principal; no token and no certificate, or a
    certificate nobody maps, is refused."""
    import hashlib
    from harness import Ctld
    certs = os.path.join(env.tmp, "certs")
    with open(os.path.join(certs, "client.pem")) as f:
        fp = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()
    d = Ctld(env, ["cq"], principals=[
        {"name": "bysubject", "role": "producer", "queues": ["*"],
         "certificates": [{"subject": "CN=producer-1"}]}])
    s = Sluiced(env, [], ctld=d, extra=["--client-ca", os.path.join(certs, "ca.pem"),
                                        "--client-cert", "optional"])
    try:
        p = Client(s, cert="client")
        p.hello("", role=1)
        p.enqueue([{"queue": "cq", "payload": b"c"}])
        assert p.ack()[1] == [OK]
        c = Client(s, cert="client")
        c.hello("", role=2, expect_welcome=False)
        err = c.expect("Error")
        assert err.Code() == FORBIDDEN, err.Code()
        anon = Client(s)
        anon.hello("", role=1, expect_welcome=False)
        assert anon.expect("Error").Code() == UNAUTHENTICATED
        audit = [x for x in d.audit() if x["event"] == "auth"]
        assert any(x["result"] == "ok" and x["principal"] == "bysubject" and
                   x["cert_subject"] == "CN=producer-1" for x in audit), audit
        # the same certificate, now by fingerprint, for a principal with both roles
        d.cfg["principals"] = [{"name": "byprint", "role": "both", "queues": ["*"],
                                "certificates": [{"sha256": fp}]}]
        d.write_config()
        d.ctl("reload", check=0)
        g = p.expect("Goodbye")
        assert g.Reason() == UNAUTHENTICATED, g.Reason()
        b = Client(s, cert="client")
        b.hello("", role=3)
        b.subscribe(["cq"], prefetch=1)
        name, _ = b.recv()
        assert name == "Deliver", name
        rc, conns, _ = d.ctl("conns", json_out=True, check=0)
        assert any(x["principal"] == "byprint" for x in conns["conns"]), conns
    finally:
        s.stop()
        d.stop()


def case_ctld_jobs_conns(env):
    """sluicectl jobs and conns through sluice-ctld: a job is shown in each state
    (never its payload), a dead job is listed with why it died and retried back
    to ready, a waiting job is deleted, a leased one is not; conns lists the
    sessions with their principal, and kick ends one with Goodbye{Forbidden}
    while the other goes on."""
    from harness import Ctld
    d = Ctld(env, [{"name": "jq", "max_attempts": 1, "backoff_ms": 0}])
    s = Sluiced(env, [], ctld=d)

    def hexid(i):
        return "%016x%016x" % i
    try:
        p = Client(s)
        p.hello(TOKEN_PRODUCER, role=1)
        p.enqueue([{"queue": "jq", "type": "t%d" % k, "payload": b"secret-%d" % k}
                   for k in range(3)])
        _, st, ids = p.ack()
        assert st == [OK] * 3
        rc, shown, _ = d.ctl("jobs", "show", "jq", hexid(ids[0]), json_out=True, check=0)
        j = shown["jobs"][0]
        assert j["state"] == "ready" and j["type"] == "t0" and j["payload_bytes"] == 8, j
        rc, text, _ = d.ctl("jobs", "show", "jq", hexid(ids[0]), check=0)
        assert "secret" not in text and hexid(ids[0]) in text, text
        c = Client(s)
        c.hello(TOKEN, role=2)
        c.subscribe(["jq"], prefetch=1)
        first = c.deliver()  # t0: fail it for good (max_attempts 1)
        assert c.settle("fail", [first["lease"]], dead=True) == [OK]
        c.credit(1)
        second = c.deliver()  # t1: leased now
        rc, dead, _ = d.ctl("jobs", "dead", "jq", json_out=True, check=0)
        assert dead["dead_total"] == 1 and dead["jobs"][0]["id"] == hexid(ids[0]), dead
        d.ctl("jobs", "delete", "jq", hexid(ids[1]), check=1)  # leased: refused
        d.ctl("jobs", "delete", "jq", hexid(ids[2]), check=0)
        d.ctl("jobs", "show", "jq", hexid(ids[2]), check=1)    # gone
        d.ctl("jobs", "retry", "jq", hexid(ids[2]), check=1)   # unknown
        rc, r, _ = d.ctl("jobs", "retry", "jq", hexid(ids[0]), json_out=True, check=0)
        assert r["retried"]["state"] == "ready", r
        assert c.settle("complete", [second["lease"]]) == [OK]
        c.credit(1)
        again = c.deliver()  # the retried job, attempts starting again
        assert again["type"] == "t0" and again["attempt"] == 1, again
        assert c.settle("complete", [again["lease"]]) == [OK]
        rc, q, _ = d.ctl("queues", "show", "jq", json_out=True, check=0)
        qi = q["queues"][0]
        assert qi["redriven"] == 1 and qi["purged"] == 1 and qi["dead"] == 0, qi
        d.ctl("jobs", "dead", "jq", "65", check=2)
        d.ctl("jobs", "show", "jq", "nothex", check=2)
        # conns: both sessions, by principal; kick the producer
        rc, conns, _ = d.ctl("conns", json_out=True, check=0)
        by = {x["principal"]: x for x in conns["conns"]}
        assert set(by) == {"writer", "demo"}, conns
        assert by["writer"]["role"] == "producer" and by["writer"]["state"] == "session"
        assert by["writer"]["credential"] == "0000000000a2", by["writer"]
        d.ctl("conns", "kick", by["writer"]["id"], check=0)
        g = p.expect("Goodbye")
        assert g.Reason() == FORBIDDEN, g.Reason()
        assert p.closed(), "kicked: the connection closes"
        d.ctl("conns", "kick", by["writer"]["id"], check=1)  # it is gone
        rc, conns, _ = d.ctl("conns", json_out=True, check=0)
        assert [x["principal"] for x in conns["conns"]] == ["demo"], conns
        audit = [x for x in d.audit() if x["event"] == "operator"]
        assert any(x["command"].startswith("conns kick") and x["exit"] == 0 for x in audit)
    finally:
        s.stop()
        d.stop()


def case_ctld_tickets(env):
    """Session-ticket keys come from sluice-ctld: a session resumes with the
    ticket sluiced issued, still does after one rotation (the previous key
    opens it), and no longer after the key fell off; each rotation is audited."""
    from harness import Ctld
    d = Ctld(env, ["tk"], extra={"tickets": {"rotate_s": 2, "lifetime_s": 60}})
    s = Sluiced(env, [], ctld=d)

    def rotations():
        return sum(x["event"] == "tickets.rotate" for x in d.audit())

    def wait_rotations(n, what):
        deadline = time.time() + 30
        while rotations() < n:
            assert time.time() < deadline, f"ctld did not rotate its ticket key ({what})"
            time.sleep(0.05)
        time.sleep(0.3)  # sluiced takes the new keys on its next pass
    try:
        # a ticket sealed with a known key: no rotation while it was made
        for _ in range(10):
            made = rotations()
            first = Client(s)
            first.hello(TOKEN)
            ticket = first.sock.session
            first.close()
            if rotations() == made:
                break
        again = Client(s, resume=first, session=ticket)
        assert again.sock.session_reused, "a fresh ticket resumes"
        again.hello(TOKEN)
        again.close()
        wait_rotations(made + 1, "once")  # its key is the previous one now: still valid
        once = Client(s, resume=first, session=ticket)
        assert once.sock.session_reused, "the previous key still opens tickets"
        once.close()
        wait_rotations(made + 2, "twice")  # two keys later it is gone from sluiced
        late = Client(s, resume=first, session=ticket)
        assert not late.sock.session_reused, "a ticket of a retired key must not resume"
        late.hello(TOKEN)  # a full handshake, and the session works
        late.close()
    finally:
        s.stop()
        d.stop()


def case_ctld_listener(env):
    """ctld's listener section tells sluiced its address, certificate, key and
    client-certificate policy: sluiced started with none of those flags listens
    there and verifies client certificates against the configured CA; the same
    settings also given on sluiced's command line are refused (exit 2)."""
    from harness import Ctld
    certs = os.path.join(env.tmp, "certs")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    d = Ctld(env, ["lq"], principals=[
        {"name": "bycert", "role": "producer", "queues": ["*"],
         "certificates": [{"subject": "CN=producer-1"}]}], extra={"listener": {
             "address": f"127.0.0.1:{port}", "cert": os.path.join(certs, "server.pem"),
             "key": os.path.join(certs, "server.key"),
             "client_ca": os.path.join(certs, "ca.pem"), "client_cert": "optional"}})
    s = Sluiced(env, [], ctld=d, listener=True)
    try:
        assert f"listening on 127.0.0.1:{port}" in s.output(), s.output()
        c = Client(s, cert="client")
        c.hello("", role=1)
        c.enqueue([{"queue": "lq", "payload": b"l"}])
        assert c.ack()[1] == [OK]
        # "optional" means may be absent, not may be forged: closed after the handshake
        try:
            r = Client(s, cert="rogue")
            r.hello("", role=1, expect_welcome=False)
            assert r.closed(), "a certificate the CA did not sign was accepted"
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            pass
        s.stop()
        # both places: refused before anything starts
        p = subprocess.run([env.sluiced, "--no-huge", "--no-shconf", "-m", "256", "--no-pci",
                            "--lcores", "0,1", "--log-level=error", "--file-prefix",
                            f"slconf{port}", "--", "--ctld", d.dp_socket,
                            "--cert", os.path.join(certs, "server.pem"),
                            "--key", os.path.join(certs, "server.key")],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 2 and "listener section" in p.stderr, (p.returncode, p.stderr)
    finally:
        if s.proc.poll() is None:
            s.stop()
        d.stop()
        # the refused sluiced's EAL runtime directory
        shutil.rmtree(f"/var/run/dpdk/slconf{port}", ignore_errors=True)


def case_sigterm(env):
    """SIGTERM: in-flight batches are acknowledged, then Goodbye{ShuttingDown}."""
    s = Sluiced(env, ["t"])
    try:
        c = Client(s)
        c.hello()
        c.enqueue([{"queue": "t"} for _ in range(50)])
        assert c.ack()[1] == [OK] * 50
        s.proc.send_signal(15)
        name, msg = c.recv()
        assert name == "Goodbye" and msg.Reason() == SHUTTING_DOWN, name
        assert c.closed()
        s.proc.wait(timeout=15)
        # New connections are refused while and after draining.
        try:
            socket.create_connection((s.host, s.port), timeout=2).close()
        except OSError:
            pass
    finally:
        out = s.stop()
        assert "draining" in out


def cli(env, s, *args, stdin=None, timeout=120):
    """Run the sluice CLI against s; returns (exit status, stdout, stderr)."""
    e = dict(os.environ, SLUICE_ADDR=f"{s.host}:{s.port}",
             SLUICE_CA=os.path.join(env.tmp, "certs", "ca.pem"),
             SLUICE_SERVER_NAME="sluice.test", SLUICE_TOKEN=TOKEN)
    p = subprocess.run([env.cli] + list(args), input=stdin, capture_output=True,
                       timeout=timeout, env=e)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def case_cli_accounting(env):
    """libsluice and the sluice CLI against sluiced: 100,000 jobs, each consumed once."""
    if not env.cli:
        raise AssertionError("no sluice CLI given")
    # 100k waiting jobs of ~300 bytes: 512-byte objects get 40% of the job memory.
    s = Sluiced(env, ["bulk,max_jobs=200000,max_bytes=1000000000"], ["--max-jobs", "200000"],
                mem_mb=768, job_mem_mb=200)
    try:
        rc, out, err = cli(env, s, "ping")
        assert rc == 0, (rc, err)
        rc, out, err = cli(env, s, "enqueue", "-q", "bulk", "-t", "bench", "-p", "job",
                           "-n", "100000", "--quiet")
        assert rc == 0, (rc, err[-2000:])
        rc, out, err = cli(env, s, "consume", "-q", "bulk", "--prefetch", "512",
                           "--max", "100000")
        assert rc == 0, (rc, err[-2000:])
        ids = [json.loads(line)["id"] for line in out.splitlines()]
        assert len(ids) == 100000, len(ids)
        assert len(set(ids)) == 100000, "duplicate deliveries"
        # Nothing left: a further consume finds no job within a short idle time.
        rc, out, err = cli(env, s, "consume", "-q", "bulk", "--max", "1", "--idle", "500ms")
        assert out.strip() == "", "jobs left over: " + out[:200]
        # Refusals come back per job with exit status 1.
        rc, out, err = cli(env, s, "enqueue", "-q", "nowhere", "-t", "x", "-p", "y")
        assert rc == 1 and "UnknownQueue" in out + err, (rc, out, err)
        rc, out, err = cli(env, s, "ping", "--token", "slq_wrong")
        assert rc == 3, (rc, err)
    finally:
        s.stop()


# ---- several worker lcores (--workers N): queue i belongs to worker i mod N ----


def lease_worker(lease):
    """The worker that issued a lease: the top 16 bits of its id."""
    return lease >> 48


class CreditedConsumer:
    """A consumer that holds the server to its credit: it gives back one credit per
    completed lease and nothing more, and checks every Deliver frame as it comes
    off the wire (before any later Credit is sent) against the credit given so far.
    It completes lazily, the oldest `batch` once `prefetch` are unsettled, so the
    server always has the chance to exceed the credit; Completes are pipelined
    (their LeaseAcks collected later), as a real client would."""

    def __init__(self, s, queues, prefetch, batch):
        self.c = Client(s, timeout=30)
        self.c.hello()
        self.prefetch, self.batch = prefetch, batch
        self.given = prefetch
        self.received = 0
        self.got, self.open, self.max_unsettled = [], [], 0
        self.acks = {}  # seq -> leases completed, LeaseAck not yet read
        wire_recv = self.c.recv

        def recv():
            name, msg = wire_recv()
            if name == "Deliver":
                self.received += 1
                assert self.received <= self.given, \
                    f"delivery {self.received} for {self.given} credit"
                unsettled = self.received - (self.given - self.prefetch)
                self.max_unsettled = max(self.max_unsettled, unsettled)
            return name, msg
        self.c.recv = recv
        self.c.subscribe(queues, prefetch=prefetch)

    def take(self):
        d = self.c.deliver()
        self.got.append(d)
        self.open.append(d["lease"])
        if len(self.open) >= self.prefetch:
            self.settle(self.batch)
        return d

    def collect(self, keep=0):
        """Read LeaseAcks until at most keep are outstanding; each all OK."""
        while len(self.acks) > keep:
            la = self.c.expect("LeaseAck")
            n = self.acks.pop(la.Seq())
            assert [la.Status(i) for i in range(la.StatusLength())] == [OK] * n

    def settle(self, n=None):
        done, self.open = self.open[:n], self.open[len(self.open[:n]):]
        if not done:
            return
        self.collect(keep=6)  # the session allows 16 unanswered requests
        self.acks[self.c.settle("complete", done, wait=False)] = len(done)
        self.c.credit(len(done))
        self.given += len(done)

    def quiet(self, seconds):
        """Nothing more arrives within seconds."""
        self.c.sock.settimeout(seconds)
        try:
            name, _ = self.c.recv()
            raise AssertionError(f"unexpected frame {name}")
        except (socket.timeout, ssl.SSLError):
            pass
        self.c.sock.settimeout(30)


def produce(s, jobs, batch=100, errors=None):
    """Enqueue jobs (dicts) in batches on one connection; every status must be OK."""
    try:
        p = Client(s, timeout=30)
        p.hello()
        for i in range(0, len(jobs), batch):
            p.enqueue(jobs[i:i + batch])
            _, st, _ = p.ack()
            assert st == [OK] * len(jobs[i:i + batch]), st
        p.close()
    except Exception as e:  # reported by the caller's thread join
        if errors is None:
            raise
        errors.append(e)


def case_workers_accounting(env):
    """2 workers on 1 CPU, 4 queues: 20,000 jobs produced while one consumer with
    credit 8 takes them from every queue; each delivered once, never more than 8
    unsettled, and each queue served by the worker it belongs to."""
    queues = [f"w{i}" for i in range(4)]
    s = Sluiced(env, [q + ",max_jobs=20000" for q in queues], workers=2)
    try:
        assert "2 worker(s) on lcore(s) 1,2" in s.output(), s.output()
        jobs = [{"queue": queues[i % 4], "id": (7, i + 1), "payload": b"%d" % i}
                for i in range(20000)]
        errors = []
        prod = threading.Thread(target=produce, args=(s, jobs, 100, errors))
        prod.start()
        cons = CreditedConsumer(s, queues, prefetch=8, batch=4)
        while len(cons.got) < len(jobs):
            cons.take()
        cons.settle()
        cons.collect()
        prod.join()
        assert not errors, errors
        ids = [d["id"] for d in cons.got]
        assert len(set(ids)) == len(ids) == len(jobs), "duplicate deliveries"
        assert set(ids) == {j["id"] for j in jobs}, "lost jobs"
        for d in cons.got:
            i = d["id"][1] - 1
            assert d["queue"] == queues[i % 4] and d["payload"] == b"%d" % i
            assert lease_worker(d["lease"]) == (i % 4) % 2, (d["queue"], hex(d["lease"]))
            assert d["attempt"] == 1
        assert cons.max_unsettled == 8, cons.max_unsettled
        cons.quiet(0.5)
        cons.c.close()
    finally:
        s.stop()


def case_workers3_accounting(env):
    """3 workers and 2 I/O lcores on 1 CPU, 6 queues: two producers and two consumers
    (credit 16 and 6) spanning every queue; 6,000 jobs, each delivered exactly once."""
    queues = [f"t{i}" for i in range(6)]
    s = Sluiced(env, queues, workers=3, io=2)
    try:
        jobs = [{"queue": queues[i % 6], "id": (3, i + 1)} for i in range(6000)]
        errors = []
        prods = [threading.Thread(target=produce, args=(s, jobs[k::2], 50, errors))
                 for k in range(2)]
        for t in prods:
            t.start()
        conss = [CreditedConsumer(s, queues, prefetch=16, batch=8),
                 CreditedConsumer(s, [(q, 1 + i % 3) for i, q in enumerate(queues)],
                                  prefetch=6, batch=3)]
        done = threading.Event()
        total = [0]
        lock = threading.Lock()

        def consume(cons):
            try:
                while not done.is_set():
                    cons.take()
                    with lock:
                        total[0] += 1
                        if total[0] == len(jobs):
                            done.set()
            except (socket.timeout, OSError, EOFError) as e:
                if not done.is_set():
                    errors.append(e)
            except Exception as e:
                errors.append(e)
                done.set()

        threads = [threading.Thread(target=consume, args=(c,)) for c in conss]
        for t in threads:
            t.start()
        for t in prods:
            t.join()
        assert done.wait(100), f"only {total[0]} of {len(jobs)} delivered"
        for c in conss:  # wake a consumer waiting for more
            try:
                c.c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in threads:
            t.join()
        assert not errors, errors
        got = [d["id"] for c in conss for d in c.got]
        assert len(got) == len(set(got)) == len(jobs), "duplicate deliveries"
        assert set(got) == {j["id"] for j in jobs}
        for c in conss:
            assert c.got, "a consumer got nothing"
            workers = {lease_worker(d["lease"]) for d in c.got}
            assert workers <= {0, 1, 2}, workers
        assert {lease_worker(d["lease"]) for c in conss for d in c.got} == {0, 1, 2}
        for c in conss:
            c.c.close()
    finally:
        s.stop()


def case_workers_credit(env):
    """Credit follows the jobs across workers: what one worker cannot spend moves to
    the other, and the consumer's credit is never exceeded in total."""
    s = Sluiced(env, ["a", "b"], workers=2)  # a: worker 0, b: worker 1
    try:
        p = Client(s)
        p.hello()
        c = Client(s)
        c.hello()
        c.subscribe(["a", "b"], prefetch=4)
        p.enqueue([{"queue": "a", "payload": b"a%d" % i} for i in range(2)])
        assert p.ack()[1] == [OK, OK]
        first = [c.deliver() for _ in range(2)]
        assert {d["queue"] for d in first} == {"a"}
        # Worker 0 had all of the credit; the rest must reach worker 1.
        t0 = time.time()
        p.enqueue([{"queue": "b", "payload": b"b%d" % i} for i in range(3)])
        assert p.ack()[1] == [OK] * 3
        second = [c.deliver() for _ in range(2)]
        assert {d["queue"] for d in second} == {"b"}
        assert time.time() - t0 < 2, "credit idled at the other worker"
        # 4 unsettled, credit 4: the third job of b waits; so does a new one on a.
        p.enqueue([{"queue": "a", "payload": b"a2"}])
        assert p.ack()[1] == [OK]
        quiet(c, 0.7, "beyond the consumer's credit")
        assert c.settle("complete", [first[0]["lease"], second[0]["lease"]]) == [OK, OK]
        c.credit(1)
        third = c.deliver()
        quiet(c, 0.7, "beyond the consumer's credit")
        c.credit(1)
        fourth = c.deliver()
        assert sorted([third["payload"], fourth["payload"]]) == [b"a2", b"b2"]
        # Leave leases open on both workers and jobs queued: SIGTERM must still
        # return every job object.
        p.enqueue([{"queue": q} for q in ("a", "b") for _ in range(5)])
        assert p.ack()[1] == [OK] * 10
        p.close()
        c.close()
    finally:
        s.stop()


def case_workers_leases(env):
    """Settlements reach the worker that issued the lease: a Complete mixing leases of
    both workers, Fail and ExtendLease on each, foreign lease ids refused; a closed
    consumer's leases on both workers go back and are redelivered."""
    s = Sluiced(env, ["x,lease_ms=5000", "y,lease_ms=5000"], workers=2)
    try:
        c = Client(s)
        c.hello()
        c.enqueue([{"queue": "x", "payload": b"x1"}, {"queue": "y", "payload": b"y1"},
                   {"queue": "x", "payload": b"x2"}, {"queue": "y", "payload": b"y2"}])
        assert c.ack()[1] == [OK] * 4
        c.subscribe(["x", "y"], prefetch=4)
        ds = {}
        for _ in range(4):
            d = c.deliver()
            ds[d["payload"]] = d
        assert lease_worker(ds[b"x1"]["lease"]) == 0 and lease_worker(ds[b"y1"]["lease"]) == 1
        x1, y1, x2, y2 = (ds[k]["lease"] for k in (b"x1", b"y1", b"x2", b"y2"))
        assert c.settle("extend", [x1, y1], ms=6000) == [OK, OK]
        # Lease ids naming workers that do not exist.
        ghost = 2 << 48 | (x1 & ((1 << 48) - 1))
        st = c.settle("complete", [ghost, 5 << 48 | 1, x1, y1])
        assert st == [LEASE_NOT_FOUND, LEASE_NOT_FOUND, OK, OK], st
        assert c.settle("complete", [x1, y1]) == [LEASE_NOT_FOUND] * 2
        assert c.settle("fail", [y2], ms=1) == [OK]
        c.credit(1)
        again = c.deliver()
        assert again["payload"] == b"y2" and again["attempt"] == 2
        c.close()  # x2 and the retried y2 are still leased, on both workers
        d = Client(s)
        d.hello()
        d.subscribe(["y", "x"], prefetch=2)
        back = sorted((e["payload"], e["attempt"]) for e in (d.deliver(), d.deliver()))
        assert back == [(b"x2", 2), (b"y2", 3)], back
        d.close()
    finally:
        s.stop()


def case_workers_order(env):
    """Several workers keep each queue's strict priority (FIFO within a level) and
    split deliveries across workers by subscription weight."""
    s = Sluiced(env, ["p0", "p1", "p2", "p3"], workers=2)
    try:
        c = Client(s)
        c.hello()
        order = [3, 15, 0, 7, 15, 3, 0, 9]
        jobs = [{"queue": f"p{q}", "priority": pr, "payload": b"%d" % i}
                for q in range(4) for i, pr in enumerate(order)]
        c.enqueue(jobs)
        assert c.ack()[1] == [OK] * len(jobs)
        c.subscribe(["p0", "p1", "p2", "p3"], prefetch=len(jobs))
        got = [c.deliver() for _ in jobs]
        want = sorted(range(len(order)), key=lambda i: (-order[i], i))
        for q in range(4):
            seen = [int(d["payload"]) for d in got if d["queue"] == f"p{q}"]
            assert seen == want, (q, seen)
        c.close()
    finally:
        s.stop()
    # Weights: heavy (worker 0) 3, light (worker 1) 1, both backlogged, credit 8
    # handed back one at a time as deliveries are completed.
    s = Sluiced(env, ["heavy", "light"], workers=2)
    try:
        p = Client(s)
        p.hello()
        for q in ("heavy", "light"):
            for _ in range(4):
                p.enqueue([{"queue": q} for _ in range(100)])
                assert p.ack()[1] == [OK] * 100
        cons = CreditedConsumer(s, [("heavy", 3), ("light", 1)], prefetch=8, batch=1)
        for _ in range(240):
            cons.take()
        heavy = sum(1 for d in cons.got if d["queue"] == "heavy")
        share = heavy / len(cons.got)
        print(f"     weighted 3:1 across workers: heavy share {share:.3f}")
        assert 0.62 <= share <= 0.88, f"heavy share {share:.2f}, weight share 0.75"
        cons.c.close()
        p.close()
    finally:
        s.stop()


def case_workers_sigterm(env):
    """SIGTERM with 2 workers: in-flight batches on both are acknowledged, sessions get
    Goodbye{ShuttingDown}, and every job object (queued, leased) is returned."""
    s = Sluiced(env, ["s0", "s1", "s2"], workers=2)
    try:
        c = Client(s)
        c.hello()
        c.enqueue([{"queue": f"s{i % 3}"} for i in range(60)])
        assert c.ack()[1] == [OK] * 60
        c.subscribe(["s0", "s1", "s2"], prefetch=10)
        got = [c.deliver() for _ in range(10)]
        assert c.settle("complete", [d["lease"] for d in got]) == [OK] * 10
        c.credit(10)
        got = [c.deliver() for _ in range(10)]
        assert {lease_worker(d["lease"]) for d in got} == {0, 1}, got
        s.proc.send_signal(15)
        name, msg = c.recv()
        while name == "Deliver":
            name, msg = c.recv()
        assert name == "Goodbye" and msg.Reason() == SHUTTING_DOWN, (name, msg.Reason())
        assert c.closed()
        s.proc.wait(timeout=15)
    finally:
        out = s.stop()
        assert "draining" in out


def wait_output(s, text, seconds=30):
    """Wait until sluiced has printed text (a bound for loaded machines)."""
    deadline = time.time() + seconds
    while text not in s.output():
        assert time.time() < deadline, f"sluiced never printed {text!r}: " + s.output()
        time.sleep(0.05)


def case_tokens_reload(env):
    """SIGHUP reloads --tokens while sessions run. A new token works at once; a
    session whose token was removed, or whose principal's grants changed, is
    told Goodbye{Unauthenticated}; an unchanged principal's session carries on;
    a file that does not load changes nothing and says why."""
    path = os.path.join(env.tmp, "tokens-reload")
    fresh = "slq_e2e_token_added_by_reload"
    demo = f"demo both {env.hash(TOKEN)} * * 262144 15\n"
    with open(path, "w") as f:
        f.write(demo)
        f.write(f"narrow both {env.hash(TOKEN_NARROW)} billing.*,audit email 1024 5\n")
        f.write(f"writer producer {env.hash(TOKEN_PRODUCER)} * * 262144 15\n")
    s = Sluiced(env, ["billing.eu", "emails"], tokens=path)
    try:
        keep = Client(s)
        keep.hello(token=TOKEN)
        gone = Client(s)
        gone.hello(token=TOKEN_NARROW)
        changed = Client(s)
        changed.hello(token=TOKEN_PRODUCER, role=1)
        c = Client(s)
        c.hello(token=fresh, expect_welcome=False)
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == UNAUTHENTICATED, "unknown token accepted"
        # narrow removed, writer narrowed to emails, a producer added.
        with open(path + ".new", "w") as f:
            f.write(demo)
            f.write(f"writer producer {env.hash(TOKEN_PRODUCER)} emails * 262144 15\n")
            f.write(f"fresh producer {env.hash(fresh)} billing.* * 1024 3\n")
        os.replace(path + ".new", path)
        s.proc.send_signal(signal.SIGHUP)
        wait_output(s, "reloaded: 3 principal(s)")
        for who, client in (("removed", gone), ("changed", changed)):
            name, msg = client.recv()
            assert name == "Goodbye" and msg.Reason() == UNAUTHENTICATED, (who, name)
            assert client.closed(), who
        keep.enqueue([{"queue": "emails"}, {"queue": "billing.eu"}])
        assert keep.ack()[1] == [OK, OK], "an unchanged principal lost its grants"
        c = Client(s)
        c.hello(token=fresh, role=1)
        c.enqueue([{"queue": "billing.eu"}, {"queue": "emails"}])
        assert c.ack()[1] == [OK, FORBIDDEN], "the added principal's grants"
        c.close()
        c = Client(s)
        c.hello(token=TOKEN_PRODUCER, role=1)
        c.enqueue([{"queue": "emails"}, {"queue": "billing.eu"}])
        assert c.ack()[1] == [OK, FORBIDDEN], "the changed principal's new grants"
        c.close()
        c = Client(s)
        c.hello(token=TOKEN_NARROW, expect_welcome=False)
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == UNAUTHENTICATED, "a removed token still works"
        # A broken file: refused with file:line, everything stays as it was.
        with open(path, "w") as f:
            f.write(demo + "writer producer not-a-hash * * 1 1\n")
        s.proc.send_signal(signal.SIGHUP)
        wait_output(s, "not reloaded")
        assert f"{path}:2:" in s.output(), s.output()
        # Two principals with one token: refused too (a token names one principal).
        with open(path, "w") as f:
            f.write(demo + f"copy both {env.hash(TOKEN)} * * 1 1\n")
        s.proc.send_signal(signal.SIGHUP)
        wait_output(s, "principal copy has the same token hash as demo")
        keep.enqueue([{"queue": "emails"}])
        assert keep.ack()[1] == [OK], "a refused reload touched a live session"
        c = Client(s)
        c.hello(token=fresh, role=1)
        c.enqueue([{"queue": "billing.eu"}])
        assert c.ack()[1] == [OK], "a refused reload dropped a principal"
        c.close()
        keep.close()
    finally:
        out = s.stop()
    assert "principals: 1 reload(s), 2 refused" in out, out
    stats = json.loads([x for x in out.splitlines() if x.startswith("sluiced: stats ")][0][15:])
    assert (stats["auth_revoked"], stats["auth_changed"]) == (1, 1), stats


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
CASES.update(CTL_CASES)  # operator actions over the control socket: ctl_cases.py
CASES.update(CTLD_CASES)  # sluice-ctld with sluiced --ctld: ctld_cases.py


def main():
    if len(sys.argv) < 6:
        print(__doc__)
        return 2
    env = Env(*sys.argv[1:5])
    names = list(CASES) if sys.argv[5:] == ["all"] else sys.argv[5:]
    failed = skipped = 0
    try:
        for name in names:
            t0 = time.time()
            try:
                CASES[name](env)
                print(f"ok   {name} ({time.time() - t0:.1f} s)")
            except Skip as e:
                skipped += 1
                print(f"skip {name}: {e}")
            except Exception as e:  # report every failing case, then fail
                failed += 1
                print(f"FAIL {name}: {type(e).__name__}: {e}")
    finally:
        env.cleanup()
    if failed:
        return 1
    return 77 if skipped == len(names) else 0  # 77: meson's "skipped"


if __name__ == "__main__":
    sys.exit(main())
