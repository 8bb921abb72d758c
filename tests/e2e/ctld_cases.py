# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end cases of sluice-ctld with sluiced (--ctld): authentication,
authorization, limits, bans, revocation, reload, audit and metrics, seen
through real TLS clients and sluicectl. Run through cases.py (CASES includes
CTLD_CASES)."""
import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

from harness import (CTLD_TOKEN_IDS, TOKEN, TOKEN_NARROW, TOKEN_PRODUCER, Client, Ctld, Skip,
                     Sluiced, quiet, sha256_hex)

OK, RATE_LIMITED, UNAUTHENTICATED, FORBIDDEN, UNKNOWN_QUEUE, TOO_LARGE = 0, 3, 4, 5, 6, 7
PRIORITY_TOO_HIGH, UNAVAILABLE, TOO_MANY_CONNECTIONS = 11, 16, 18
PRODUCER, CONSUMER, BOTH = 1, 2, 3
# sluicectl's exit codes (control/ctld/ops_proto.h)
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DENIED, EXIT_UNAVAILABLE, EXIT_CONFIG = range(6)
COMMANDS = ("status", "queues", "conns", "jobs", "principals", "tokens", "bans", "reload",
            "audit", "stats")


# ---- helpers ----

def io_stats(out):
    """The per-I/O-lcore 'sluiced: stats {...}' lines sluiced prints at a clean exit."""
    lines = [json.loads(x[len("sluiced: stats "):]) for x in out.splitlines()
             if x.startswith("sluiced: stats ")]
    assert lines, "no stats lines: " + out
    return lines


def link_stats(out):
    """The 'sluiced: ctld link {...}' line sluiced prints at a clean exit."""
    line = [x for x in out.splitlines() if x.startswith("sluiced: ctld link ")]
    assert line, "no ctld link stats line: " + out
    return json.loads(line[0][len("sluiced: ctld link "):])


def stat_sum(out, key):
    return sum(st[key] for st in io_stats(out))


def refused_hello(s, token, role=BOTH, source=None):
    """A hello that must be refused: its Error code. The connection must then close."""
    c = Client(s, source=source)
    try:
        c.hello(token, role=role, expect_welcome=False)
        name, msg = c.recv()
        assert name == "Error", f"hello answered {name}, not Error"
        code = msg.Code()
        assert c.closed(), "a refused hello's connection stayed open"
        return code
    finally:
        c.close()


def expect_goodbye(c, reason, what):
    """Next frame is Goodbye{reason}; then the server closes the connection."""
    name, msg = c.recv()
    assert name == "Goodbye", f"{what}: got {name}"
    assert msg.Reason() == reason, f"{what}: Goodbye reason {msg.Reason()}, want {reason}"
    assert c.closed(), f"{what}: still open after Goodbye"


def session(s, token, role=BOTH, source=None):
    """A session that must open: (client, I/O lcore index from the session id)."""
    c = Client(s, source=source)
    w = c.hello(token, role=role)
    return c, w.SessionId() >> 56


def enqueue_ok(c, queue, n=1, what="enqueue"):
    c.enqueue([{"queue": queue, "payload": b"x"} for _ in range(n)])
    st = c.ack()[1]
    assert st == [OK] * n, f"{what}: {st}"


def statuses(c, jobs):
    c.enqueue(jobs)
    return c.ack()[1]


def tls_dropped(s, source):
    """True when a connection from source is closed before TLS completes (banned), False
    when a TLS session opens. A silent server (timeout) fails the case."""
    try:
        c = Client(s, source=source, timeout=10)
    except socket.timeout:
        raise AssertionError(f"connection from {source}: no answer, not dropped")
    except (ssl.SSLError, OSError, EOFError):
        return True
    c.close()
    return False


def wait_for(what, fn, seconds=30, every=0.1):
    """Call fn until it returns a true value (returned); a bound, not a timing."""
    deadline = time.time() + seconds
    while True:
        v = fn()
        if v:
            return v
        assert time.time() < deadline, f"{what}: not within {seconds} s"
        time.sleep(every)


def wait_ctl(d, seconds=30):
    """Wait until ctld answers sluicectl (after a restart its socket may not listen yet)."""
    wait_for("ctld answers sluicectl", lambda: d.ctl("status")[0] == EXIT_OK, seconds)


def wait_attached(d, seconds=30):
    wait_for("sluiced attached to ctld",
             lambda: (lambda r: r[0] == 0 and r[1]["sluiced"]["attached"])(
                 d.ctl("status", json_out=True)), seconds)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def token_principal(name, token, **kw):
    """A principal with one provisioned token (id from the token's hash)."""
    p = {"name": name, "role": kw.pop("role", "both"), "queues": kw.pop("queues", ["*"])}
    p.update(kw)
    p["tokens"] = [{"id": sha256_hex(token)[:12], "sha256": sha256_hex(token)}]
    return p


def audit_events(d, event):
    return [x for x in d.audit() if x["event"] == event]


# ---- cases ----

def case_ctld_smoke(env):
    """A pair starts; a provisioned token opens a session and enqueues; a token
    sluicectl creates works at once; sluicectl status sees sluiced attached."""
    d = Ctld(env, ["emails"])
    s = Sluiced(env, [], ctld=d)
    try:
        rc, st, _ = d.ctl("status", json_out=True, check=0)
        assert st["sluiced"]["attached"] is True, st
        c = Client(s)
        c.hello(TOKEN)
        c.enqueue([{"queue": "emails", "payload": b"x"}])
        assert c.ack()[1] == [OK]
        rc, made, _ = d.ctl("tokens", "create", "writer", json_out=True, check=0)
        w = Client(s)
        w.hello(made["token"], role=1)
        w.enqueue([{"queue": "emails", "payload": b"y"}])
        assert w.ack()[1] == [OK]
        rc, qs, _ = d.ctl("queues", json_out=True, check=0)
        assert qs["queues"][0]["name"] == "emails" and qs["queues"][0]["enqueued"] == 2, qs
    finally:
        s.stop()
        d.stop()


def case_ctld_cli(env):
    """Every sluicectl command against a running pair, as text and --json, with its
    exit code: queue actions on real jobs (purge counts them, redrive brings back
    dead letters), tokens made, listed and revoked, bans, reload, audit, stats.
    Help works without a daemon; usage errors exit 2; roles: a viewer reads but
    may not act (3), an operator acts but may not make tokens or reload (3), a
    uid without a role gets 3 every time; ctld down: 4. Every request that
    reached ctld is in the audit log as an "operator" line with uid, command
    and exit, in order. A connection that never sends a request is answered
    and closed after 5 s (it does not hold an operator slot)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        raise Skip("needs root and setpriv to run sluicectl as other uids")
    os.chmod(env.tmp, 0o711)  # other uids reach the operator socket below it
    viewer, operator, nobody = 65534, 65532, 65533
    d = Ctld(env, ["emails", "dl"],
             extra={"operators": [{"uid": viewer, "role": "viewer"},
                                  {"uid": operator, "role": "operator"}]})
    s = Sluiced(env, [], ctld=d)
    expected = []  # (uid, command, exit) of every request that reaches ctld

    def ctl(*args, uid=None, json_out=False, check=None):
        rc, out, err = d.ctl(*args, uid=uid, json_out=json_out, check=check)
        expected.append((uid or 0, " ".join(str(a) for a in args), rc))
        return rc, out, err

    def settle_audit():
        """Wait until ctld has audited every request so far (it writes the line after
        the answer)."""
        wait_for("the audit line of the last request", lambda: len(
            [x for x in d.audit() if x["event"] == "operator"
             and x["command"] != "(no request)"]) == len(expected), 10, 0.02)

    idle = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    idle.connect(d.op_socket)  # sends nothing: answered after 5 s
    t_idle = time.time()
    try:
        # status
        rc, out, _ = ctl("status", check=0)
        assert re.search(rf"sluiced\s+attached: pid {s.proc.pid} since ", out), out
        assert re.search(r"principals\s+3\n", out) and re.search(r"tokens\s+3 live", out), out
        rc, st, _ = ctl("status", json_out=True, check=0)
        assert st["sluiced"] == {"attached": True, "pid": s.proc.pid,
                                 "since": st["sluiced"]["since"]}, st
        assert (st["queues"], st["principals"], st["tokens_live"], st["bans"]) == \
            (2, 3, 3, 0), st
        assert st["ctld_pid"] == d.proc.pid and st["config"] == d.config_path, st
        # queues: list (also the bare word), show, pause, purge, resume
        rc, out, _ = ctl("queues", check=0)
        lines = out.splitlines()
        assert lines[0].split() == ["QUEUE", "STATE", "READY", "DELAYED", "RETRY", "LEASED",
                                    "DEAD", "ENQUEUED", "DELIVERED", "COMPLETED"], out
        assert [x.split()[0] for x in lines[1:]] == ["emails", "dl"], out
        rc, qs, _ = ctl("queues", "list", json_out=True, check=0)
        assert [q["name"] for q in qs["queues"]] == ["emails", "dl"], qs
        assert all(q["ready"] == 0 and q["enqueued"] == 0 and q["paused"] is False
                   for q in qs["queues"]), qs
        rc, out, _ = ctl("queues", "pause", "emails", check=0)
        assert out.startswith("done (0 jobs)\n") and re.search(r"\nemails\s+paused\s", out), out
        cons = Client(s)
        cons.hello(TOKEN)
        cons.subscribe(["emails"], prefetch=10)
        prod = Client(s)
        prod.hello(TOKEN)
        enqueue_ok(prod, "emails", 5)
        quiet(cons, 0.5, "a paused queue delivered")
        rc, qs, _ = ctl("queues", "show", "emails", json_out=True, check=0)
        assert len(qs["queues"]) == 1, qs
        q = qs["queues"][0]
        assert (q["name"], q["paused"], q["ready"], q["enqueued"], q["delivered"]) == \
            ("emails", True, 5, 5, 0), q
        rc, out, _ = ctl("queues", "show", "emails", check=0)
        assert re.search(r"\nemails\s+paused\s+5\s+0\s+0\s+0\s+0\s+5\s+0\s+0\n", out), out
        rc, r, _ = ctl("queues", "purge", "emails", json_out=True, check=0)
        assert r["count"] == 5 and r["queue"]["ready"] == 0 and r["queue"]["purged"] == 5, r
        enqueue_ok(prod, "emails", 2)
        rc, out, _ = ctl("queues", "purge", "emails", check=0)
        assert out.startswith("done (2 jobs)\n"), out
        rc, r, _ = ctl("queues", "resume", "emails", json_out=True, check=0)
        assert r["count"] == 0 and r["queue"]["paused"] is False, r
        enqueue_ok(prod, "emails", 1)
        d1 = cons.deliver()
        assert d1["queue"] == "emails", d1
        assert cons.settle("complete", [d1["lease"]]) == [OK]
        cons.close()
        # redrive: three dead letters (Fail dead=True), back in two steps
        dl = Client(s)
        dl.hello(TOKEN)
        enqueue_ok(prod, "dl", 3)
        dl.subscribe(["dl"], prefetch=3)
        for _ in range(3):
            assert dl.settle("fail", [dl.deliver()["lease"]], dead=True) == [OK]
        dl.close()  # no consumer: redriven jobs stay ready
        rc, qs, _ = ctl("queues", "show", "dl", json_out=True, check=0)
        assert (qs["queues"][0]["dead"], qs["queues"][0]["dead_lettered"]) == (3, 3), qs
        rc, r, _ = ctl("queues", "redrive", "dl", "2", json_out=True, check=0)
        assert r["count"] == 2 and r["queue"]["dead"] == 1 and r["queue"]["ready"] == 2, r
        rc, out, _ = ctl("queues", "redrive", "dl", check=0)
        assert out.startswith("done (1 jobs)\n"), out
        rc, r, _ = ctl("queues", "redrive", "dl", json_out=True, check=0)
        assert r["count"] == 0 and r["queue"]["ready"] == 3 and r["queue"]["redriven"] == 3, r
        # queue command errors
        rc, _, err = ctl("queues", "show", "nowhere", check=EXIT_FAILED)
        assert "UnknownQueue" in err and "nowhere" in err, err
        rc, _, err = ctl("queues", "pause", "nowhere", json_out=True, check=EXIT_FAILED)
        assert json.loads(err)["exit"] == EXIT_FAILED, err
        ctl("queues", "show", "bad/name", check=EXIT_USAGE)
        ctl("queues", "redrive", "dl", "many", check=EXIT_USAGE)
        # principals
        rc, out, _ = ctl("principals", check=0)
        rows = {x.split()[0]: x.split() for x in out.splitlines()[1:]}
        assert out.split("\n")[0].split()[:3] == ["NAME", "ROLE", "QUEUES"], out
        assert rows["narrow"][1:6] == ["both", "billing.*,audit", "email", "1024", "5"], rows
        assert rows["writer"][1] == "producer", rows
        rc, ps, _ = ctl("principals", "list", json_out=True, check=0)
        byname = {p["name"]: p for p in ps["principals"]}
        assert list(byname) == ["demo", "writer", "narrow"], ps
        assert byname["narrow"]["queues"] == ["billing.*", "audit"], ps
        assert byname["narrow"]["job_types"] == ["email"] and \
            byname["narrow"]["max_payload"] == 1024 and byname["narrow"]["max_priority"] == 5
        assert byname["demo"]["tokens_live"] == 1, ps
        # conns: list (from the I/O lcores), kick
        victim = Client(s)
        victim.hello(TOKEN_NARROW, role=PRODUCER)
        rc, cl, _ = ctl("conns", "list", json_out=True, check=0)
        by_addr = {c["address"]: c for c in cl["conns"]}
        me = by_addr[f"127.0.0.1:{prod.sock.getsockname()[1]}"]
        assert (me["state"], me["role"], me["principal"], me["credential"]) == \
            ("session", "both", "demo", CTLD_TOKEN_IDS[TOKEN]), cl
        v = by_addr[f"127.0.0.1:{victim.sock.getsockname()[1]}"]
        assert (v["state"], v["role"], v["principal"], v["credential"]) == \
            ("session", "producer", "narrow", CTLD_TOKEN_IDS[TOKEN_NARROW]), cl
        assert len(cl["conns"]) == 2 and cl["truncated"] is False, cl
        rc, out, _ = ctl("conns", check=0)
        assert out.split("\n")[0].split() == ["ID", "ADDRESS", "STATE", "ROLE", "PRINCIPAL",
                                              "CREDENTIAL", "AGE"], out
        assert re.search(rf"\n{re.escape(v['id'])}\s+{v['address']}\s+session\s+producer\s+"
                         rf"narrow\s+{CTLD_TOKEN_IDS[TOKEN_NARROW]}\s", out), out
        rc, out, _ = ctl("conns", "kick", v["id"], check=0)
        assert out.startswith(f"connection {v['id']} ({v['address']}, narrow) ends"), out
        expect_goodbye(victim, FORBIDDEN, "a kicked connection")
        victim.close()
        ctl("conns", "kick", v["id"], check=EXIT_FAILED)
        ctl("conns", "kick", "first", check=EXIT_USAGE)
        enqueue_ok(prod, "emails", 1, "a connection that was not kicked")
        # tokens: create (text and JSON, with a TTL), list, filter, revoke
        rc, out, _ = ctl("tokens", "create", "writer", check=0)
        m = re.search(r"^token ([0-9a-f]{12}) for writer \(expires -\)\..*\n(slk_\S+)\n$", out,
                      re.S)
        assert m, out
        t1_id, t1 = m.group(1), m.group(2)
        assert t1.startswith(f"slk_{t1_id}_"), out
        rc, t2, _ = ctl("tokens", "create", "writer", "3600", json_out=True, check=0)
        assert t2["principal"] == "writer" and t2["expires"] != "-", t2
        assert t2["token"].startswith("slk_" + t2["id"] + "_"), t2
        w = Client(s)
        w.hello(t1, role=PRODUCER)
        enqueue_ok(w, "emails", 1, "a token made by sluicectl")
        rc, tl, _ = ctl("tokens", "list", json_out=True, check=0)
        ids = {t["id"]: t for t in tl["tokens"]}
        assert set(ids) == set(CTLD_TOKEN_IDS.values()) | {t1_id, t2["id"]}, tl
        assert ids[CTLD_TOKEN_IDS[TOKEN]]["source"] == "config" and \
            ids[t1_id]["source"] == "store", tl
        assert all(t["live"] for t in tl["tokens"]), tl
        assert "token" not in json.dumps(tl).replace('"tokens"', ""), "a token was listed"
        rc, tl, _ = ctl("tokens", "list", "writer", json_out=True, check=0)
        assert sorted(t["id"] for t in tl["tokens"]) == \
            sorted([CTLD_TOKEN_IDS[TOKEN_PRODUCER], t1_id, t2["id"]]), tl
        rc, out, _ = ctl("tokens", check=0)
        assert out.split("\n")[0].split() == ["ID", "PRINCIPAL", "CREATED", "EXPIRES",
                                              "REVOKED", "SOURCE"], out
        assert t1 not in out and t1_id in out, out
        rc, out, _ = ctl("tokens", "revoke", t1_id, check=0)
        assert out == f"token {t1_id} revoked; its sessions end within a second\n", out
        expect_goodbye(w, UNAUTHENTICATED, "the revoked token's session")
        rc, tl, _ = ctl("tokens", "list", "writer", json_out=True, check=0)
        assert [t["live"] for t in tl["tokens"] if t["id"] == t1_id] == [False], tl
        rc, r, _ = ctl("tokens", "revoke", t2["id"], json_out=True, check=0)
        assert r == {"revoked": t2["id"]}, r
        ctl("tokens", "revoke", "0123456789ab", check=EXIT_FAILED)
        ctl("tokens", "create", "nobody", check=EXIT_FAILED)
        ctl("tokens", "create", "writer", "soon", check=EXIT_USAGE)
        # bans
        rc, b, _ = ctl("bans", "list", json_out=True, check=0)
        assert b == {"bans": []}, b
        rc, out, _ = ctl("bans", check=0)
        assert out.split() == ["ADDRESS", "BANNED", "UNTIL", "FAILURES", "IN", "WINDOW"], out
        rc, _, err = ctl("bans", "lift", "127.0.0.9", check=EXIT_FAILED)
        assert "127.0.0.9 is not banned" in err, err
        ctl("bans", "lift", "not-an-address", check=EXIT_USAGE)
        # reload (the same file: nothing changes for the sessions)
        rc, out, _ = ctl("reload", check=0)
        assert out == f"reloaded {d.config_path}: 3 principals, 2 queues\n", out
        rc, r, _ = ctl("reload", json_out=True, check=0)
        assert r == {"reloaded": True, "principals": 3, "queues": 2}, r
        enqueue_ok(prod, "emails", 1, "a session across a reload of the same file")
        # audit
        settle_audit()
        rc, out, _ = ctl("audit", "tail", "3", check=0)
        tail = [json.loads(x) for x in out.splitlines()]
        assert len(tail) == 3 and tail[-1]["event"] == "operator", tail
        settle_audit()
        assert tail == d.audit()[-4:-1], (tail, d.audit()[-4:])
        rc, out, _ = ctl("audit", check=0)
        assert len(out.splitlines()) == 20, out
        rc, t, _ = ctl("audit", "5", json_out=True, check=0)
        assert len(t["lines"]) == 5 and [x["seq"] for x in t["lines"]] == \
            list(range(t["lines"][0]["seq"], t["lines"][0]["seq"] + 5)), t
        settle_audit()
        n_lines = len(d.audit())
        rc, out, _ = ctl("audit", "verify", check=0)
        assert out == f"{d.audit_log}: chain intact, {n_lines} lines\n", (out, n_lines)
        rc, v, _ = ctl("audit", "verify", json_out=True, check=0)
        assert v == {"intact": True, "lines": n_lines + 1}, v
        # stats
        rc, sts, _ = ctl("stats", json_out=True, check=0)
        assert sts["auth"]["ok"] == 5 and sts["auth"]["unknown"] == 0, sts
        assert sts["dataplane_attaches"] == 1 and sts["operator_requests"] == len(expected), \
            (sts, len(expected))
        rc, out, _ = ctl("stats", check=0)
        assert re.search(r"^authentication\n\s+ok\s+5\n", out), out
        # usage errors that ctld answers
        for args in (("queues", "show"), ("status", "now"), ("tokens", "revoke"),
                     ("queues", "frob"), ("bans", "lift", "1.2.3.4", "5.6.7.8")):
            ctl(*args, check=EXIT_USAGE)
        rc, _, err = ctl("queues", "frob", json_out=True, check=EXIT_USAGE)
        assert json.loads(err) == {"error": "unknown command 'queues frob' (sluicectl --help)",
                                   "exit": EXIT_USAGE}, err
        # roles
        no_job = "0" * 32
        for args in (("status",), ("queues",), ("queues", "show", "emails"), ("conns",),
                     ("jobs", "dead", "dl"), ("principals",),
                     ("tokens", "list"), ("bans",), ("audit", "tail", "2"), ("audit", "verify"),
                     ("stats",)):
            ctl(*args, uid=viewer, check=0)
        for args in (("queues", "pause", "emails"), ("queues", "purge", "emails"),
                     ("queues", "redrive", "dl"), ("conns", "kick", "0.0.0"),
                     ("jobs", "retry", "dl", no_job), ("jobs", "delete", "dl", no_job),
                     ("tokens", "create", "writer"),
                     ("tokens", "revoke", CTLD_TOKEN_IDS[TOKEN]), ("bans", "lift", "127.0.0.9"),
                     ("reload",)):
            rc, _, err = ctl(*args, uid=viewer, check=EXIT_DENIED)
            assert f"uid {viewer} has viewer" in err, err
        rc, r, _ = ctl("queues", "pause", "dl", uid=operator, json_out=True, check=0)
        assert r["queue"]["paused"] is True, r
        ctl("queues", "resume", "dl", uid=operator, check=0)
        ctl("bans", "lift", "127.0.0.9", uid=operator, check=EXIT_FAILED)
        ctl("jobs", "delete", "dl", no_job, uid=operator, check=EXIT_FAILED)  # no such job
        for args in (("tokens", "create", "writer"), ("reload",)):
            rc, _, err = ctl(*args, uid=operator, check=EXIT_DENIED)
            assert "needs the admin role" in err, err
        # Every time: a caller without a role hears why (exit 3), never a reset.
        for k in range(20):
            args = ("status",) if k % 2 else ("queues", "list")
            rc, _, err = ctl(*args, uid=nobody, check=EXIT_DENIED)
            assert f"uid {nobody} has no operator role" in err, err
        rc, out, _ = ctl("status", json_out=True, check=0)
        assert out["tokens_live"] == 3, out  # the two made above are revoked
        enqueue_ok(prod, "emails", 1, "the data path after all of the above")
        prod.close()
        # The idle connection: answered with exit 2 once 5 s have passed, then closed.
        idle.settimeout(30)
        answer = idle.recv(65536)
        assert answer[:2] == bytes([0, EXIT_USAGE]) and b"no request within" in answer, answer
        assert idle.recv(65536) == b"", "the idle connection stayed open"
        idle.close()
    finally:
        out = s.stop()
    # sluiced gone: queue commands cannot be answered (4), the rest still can
    rc, _, err = ctl("queues", check=EXIT_UNAVAILABLE)
    assert "sluiced is not connected" in err, err
    rc, st, _ = ctl("status", json_out=True, check=0)
    assert st["sluiced"]["attached"] is False, st
    d.stop()
    # ctld gone: 4, and nothing reached it
    rc, _, err = d.ctl("status", check=EXIT_UNAVAILABLE)
    assert "cannot reach sluice-ctld" in err, err
    # Help from the command table, with no daemon at all; usage errors found by sluicectl.
    none = os.path.join(env.tmp, "no-such.sock")

    def bare(*args):
        return subprocess.run([env.sluicectl, "--socket", none] + list(args),
                              capture_output=True, text=True, timeout=30)
    p = bare("--help")
    assert p.returncode == 0 and all(f"\n  {c}" in p.stdout for c in COMMANDS), p.stdout
    for c in COMMANDS:
        p = bare(c, "--help")
        assert p.returncode == 0, (c, p.returncode, p.stderr)
        heads = [x.split()[0] for x in p.stdout.splitlines()]
        assert heads and set(heads) == {c}, (c, p.stdout)
    p = bare("tokens", "create", "--help")
    assert p.returncode == 0 and "PRINCIPAL [TTL-SECONDS]" in p.stdout, p.stdout
    for args in (("frobnicate",), ("--bogus", "status"), ()):
        p = bare(*args)
        assert p.returncode == EXIT_USAGE, (args, p.returncode, p.stderr)
    p = bare("status", *["x"] * 16)
    assert p.returncode == EXIT_USAGE and "at most 16 arguments" in p.stderr, p.stderr
    # The audit log: every request above, in order, with who asked and how it ended.
    ops = [x for x in d.audit() if x["event"] == "operator"]
    idle_line = [x for x in ops if x["command"] == "(no request)"]
    assert len(idle_line) == 1 and idle_line[0]["exit"] == EXIT_USAGE, idle_line
    closed_at = datetime.datetime.strptime(idle_line[0]["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert 4.9 <= closed_at - t_idle < 15, f"idle connection closed after {closed_at - t_idle} s"
    got = [(x["uid"], x["command"], x["exit"]) for x in ops if x["command"] != "(no request)"]
    assert got == expected, "audit differs from the requests:\n" + "\n".join(
        f"{g} {e}" for g, e in zip(got + [None] * len(expected), expected + [None] * len(got))
        if g != e)
    roles = {x["uid"]: x["role"] for x in ops}
    assert roles == {0: "admin", viewer: "viewer", operator: "operator", nobody: "none"}, roles
    assert all(x["pid"] > 0 for x in ops)
    assert stat_sum(out, "auth_revoked") == 1, out


def case_ctld_reload(env):
    """sluicectl reload applies a changed file while sessions run: the session of
    the principal whose grants changed gets Goodbye{Unauthenticated} and a new
    session has the new grants; other principals' sessions carry on untouched.
    A file with a YAML syntax error, or a semantic error (an unknown role), is
    refused with exit 5 and file:line:col, and the configuration in use stays:
    sessions, provisioned tokens and tokens sluicectl made keep working. SIGHUP
    reloads too (a valid file applies, an invalid one is refused). The audit log
    has config.reload and config.reload_refused lines."""
    d = Ctld(env, ["billing.eu", "emails"])
    s = Sluiced(env, [], ctld=d)
    try:
        rc, made, _ = d.ctl("tokens", "create", "writer", json_out=True, check=0)
        keep = Client(s)
        keep.hello(TOKEN)
        narrow = Client(s)
        narrow.hello(TOKEN_NARROW)
        w1 = Client(s)
        w1.hello(TOKEN_PRODUCER, role=PRODUCER)
        wm = Client(s)
        wm.hello(made["token"], role=PRODUCER)
        assert statuses(w1, [{"queue": "billing.eu"}, {"queue": "emails"}]) == [OK, OK]
        # writer narrowed to emails
        d.cfg["principals"][1]["queues"] = ["emails"]
        d.write_config()
        rc, out, _ = d.ctl("reload", check=0)
        assert out.startswith("reloaded "), out
        expect_goodbye(w1, UNAUTHENTICATED, "writer's session (grants changed)")
        expect_goodbye(wm, UNAUTHENTICATED, "writer's session on a made token")
        quiet(keep, 0.3, "demo's grants did not change")
        quiet(narrow, 0.1, "narrow's grants did not change")
        assert statuses(keep, [{"queue": "billing.eu"}, {"queue": "emails"}]) == [OK, OK]
        assert statuses(narrow, [{"queue": "billing.eu", "type": "email"}]) == [OK]

        def writer_grants(token):
            c = Client(s)
            c.hello(token, role=PRODUCER)
            st = statuses(c, [{"queue": "billing.eu"}, {"queue": "emails"}])
            return c, st
        w2, st = writer_grants(TOKEN_PRODUCER)
        assert st == [FORBIDDEN, OK], f"writer's new grants: {st}"
        w3, st = writer_grants(made["token"])
        assert st == [FORBIDDEN, OK], f"writer's new grants (made token): {st}"
        good = open(d.config_path).read()
        # Refused: a YAML syntax error, then an unknown role. Nothing changes.
        lines = good.split("\n")
        i_role = lines.index('    role: "producer"')
        bad_yaml = "\n".join(lines[:i_role] + ['    role: "producer" : [x'] + lines[i_role + 1:])
        bad_role = good.replace('role: "producer"', 'role: "writer"')
        for text, want in ((bad_yaml, r"YAML syntax"),
                           (bad_role, rf":{i_role + 1}:11: principals\[1\]\.role: 'writer' is not "
                                      r"a role")):
            d.write_config(text=text)
            rc, _, err = d.ctl("reload", check=EXIT_CONFIG)
            m = re.search(rf"^sluicectl: {re.escape(d.config_path)}:(\d+):(\d+): ", err)
            assert m, err
            assert 1 <= int(m.group(1)) <= len(lines) and int(m.group(2)) >= 1, err
            assert re.search(want, err) and "configuration in use is unchanged" in err, err
            rc, _, err = d.ctl("reload", json_out=True, check=EXIT_CONFIG)
            assert json.loads(err)["exit"] == EXIT_CONFIG, err
            quiet(keep, 0.2, "a refused reload touched a session")
            quiet(w2, 0.1, "a refused reload touched a session")
            assert statuses(keep, [{"queue": "billing.eu"}, {"queue": "emails"}]) == [OK, OK]
            assert statuses(w2, [{"queue": "billing.eu"}, {"queue": "emails"}]) == \
                [FORBIDDEN, OK]
            for token in (TOKEN_PRODUCER, made["token"]):
                c, st = writer_grants(token)
                assert st == [FORBIDDEN, OK], f"after a refused reload: {st}"
                c.close()
            c = Client(s)
            c.hello(TOKEN_NARROW)
            c.close()
        rc, st, _ = d.ctl("status", json_out=True, check=0)
        assert (st["reloads"], st["reload_failures"]) == (1, 4), st
        # SIGHUP: writer to billing.* now.
        d.cfg["principals"][1]["queues"] = ["billing.*"]
        d.write_config()
        d.proc.send_signal(signal.SIGHUP)
        wait_for("ctld reloads on SIGHUP", lambda: "SIGHUP: " + d.config_path + " reloaded"
                 in d.output())
        expect_goodbye(w2, UNAUTHENTICATED, "writer's session after SIGHUP")
        expect_goodbye(w3, UNAUTHENTICATED, "writer's made-token session after SIGHUP")
        c, st = writer_grants(made["token"])
        assert st == [OK, FORBIDDEN], f"writer's grants after SIGHUP: {st}"
        d.write_config(text=bad_role)
        d.proc.send_signal(signal.SIGHUP)
        wait_for("ctld refuses an invalid file on SIGHUP", lambda: "not reloaded" in d.output())
        assert re.search(rf"SIGHUP: {re.escape(d.config_path)}:{i_role + 1}:11: ", d.output()), \
            d.output()
        assert statuses(c, [{"queue": "billing.eu"}]) == [OK]
        quiet(keep, 0.2, "a refused SIGHUP touched a session")
        assert statuses(keep, [{"queue": "emails"}]) == [OK]
        assert statuses(narrow, [{"queue": "billing.eu", "type": "email"}]) == [OK]
        rc, st, _ = d.ctl("status", json_out=True, check=0)
        assert (st["reloads"], st["reload_failures"]) == (2, 5), st
        for x in (c, keep, narrow):
            x.close()
    finally:
        out = s.stop()
    d.stop()
    ok = audit_events(d, "config.reload")
    refused = audit_events(d, "config.reload_refused")
    assert len(ok) == 2 and all(x["principals"] == 3 for x in ok), ok
    assert len(refused) == 5 and all(x["file"] == d.config_path for x in refused), refused
    assert all(re.match(rf"{re.escape(d.config_path)}:\d+:\d+: ", x["error"]) for x in refused), \
        refused
    assert stat_sum(out, "auth_changed") == 4 and stat_sum(out, "auth_revoked") == 0, out


# The principals of the ACL matrix: (name, role, queues, types, max_payload, max_priority).
ACL = [
    ("prod", "producer", ["billing.*", "audit"], ["email", "sms"], 1024, 5),
    ("cons", "consumer", ["*"], ["*"], 262144, 15),
    ("both", "both", ["emails", "misc"], ["*"], 4096, 15),
    ("wild", "producer", ["*.eu", "m*"], ["report"], 8192, 0),
]
# queue: its own max_payload (the smaller of the queue's and the principal's applies)
ACL_QUEUES = {"billing.eu": 262144, "billing.us": 262144, "audit": 262144, "emails": 2048,
              "misc": 3000}
ROLE_BITS = {"producer": PRODUCER, "consumer": CONSUMER, "both": BOTH}


def glob_match(glob, name):
    return re.fullmatch(".*".join(re.escape(p) for p in glob.split("*")), name) is not None


def case_ctld_acl_matrix(env):
    """Every combination of principal (producer, consumer, both; queue globs;
    job-type allowlists; payload and priority limits) x queue (allowed, not
    allowed, unknown; one with a smaller max_payload of its own) x job type x
    payload size (under, at, over the smaller limit) x priority (at, over):
    the per-job status in EnqueueAck is exactly Ok, Forbidden, TooLarge,
    PriorityTooHigh or UnknownQueue as the grants say. A hello in a role the
    principal lacks is refused Forbidden; a consumer gets what producers put
    in its queues; a session may not go beyond its hello's role or its globs."""
    tokens = {name: f"slq_e2e_acl_{name}" for name, *_ in ACL}
    principals = []
    for name, role, globs, types, payload, prio in ACL:
        principals.append(token_principal(name, tokens[name], role=role, queues=globs,
                                          job_types=types, max_payload=payload,
                                          max_priority=prio))
    queues = [{"name": q, "max_payload": mp} for q, mp in ACL_QUEUES.items()]
    d = Ctld(env, queues, principals=principals)
    s = Sluiced(env, [], ctld=d)
    forbidden_hellos = 0
    try:
        accepted = {q: 0 for q in ACL_QUEUES}
        checked, seen = 0, set()
        for name, role, globs, types, max_payload, max_prio in ACL:
            # Hellos in every role: refused Forbidden unless the principal has it.
            for hello_role in (PRODUCER, CONSUMER, BOTH):
                if hello_role & ~ROLE_BITS[role]:
                    assert refused_hello(s, tokens[name], role=hello_role) == FORBIDDEN, \
                        (name, hello_role)
                    forbidden_hellos += 1
            if not ROLE_BITS[role] & PRODUCER:
                continue
            c = Client(s)
            c.hello(tokens[name], role=PRODUCER)
            for q in list(ACL_QUEUES) + ["nowhere"]:
                limit = min(max_payload, ACL_QUEUES.get(q, max_payload))
                jobs, want = [], []
                for t in ("email", "sms", "report"):
                    for size in (limit - 1, limit, limit + 1):
                        for prio in sorted({max_prio, min(max_prio + 1, 15)}):
                            jobs.append({"queue": q, "type": t, "payload": b"p" * size,
                                         "priority": prio})
                            if q not in ACL_QUEUES:
                                want.append(UNKNOWN_QUEUE)
                            elif not any(glob_match(g, q) for g in globs) or \
                                    (types != ["*"] and t not in types):
                                want.append(FORBIDDEN)
                            elif size > limit:
                                want.append(TOO_LARGE)
                            elif prio > max_prio:
                                want.append(PRIORITY_TOO_HIGH)
                            else:
                                want.append(OK)
                got = statuses(c, jobs)
                bad = [(j["queue"], j["type"], len(j["payload"]), j["priority"], g, w)
                       for j, g, w in zip(jobs, got, want) if g != w]
                assert not bad, f"{name}: (queue, type, size, priority, got, want): {bad}"
                checked += len(jobs)
                seen.update(got)
                if q in ACL_QUEUES:
                    accepted[q] += want.count(OK)
            c.close()
        assert checked == 270, checked
        assert seen == {OK, FORBIDDEN, TOO_LARGE, PRIORITY_TOO_HIGH, UNKNOWN_QUEUE}, seen
        assert all(accepted[q] > 0 for q in ("billing.eu", "billing.us", "audit", "emails",
                                             "misc")), accepted
        rc, qs, _ = d.ctl("queues", json_out=True, check=0)
        assert {q["name"]: q["enqueued"] for q in qs["queues"]} == accepted, (qs, accepted)
        # The consumer-only principal receives what was accepted into audit.
        c = Client(s)
        c.hello(tokens["cons"], role=CONSUMER)
        c.subscribe(["audit"], prefetch=accepted["audit"])
        got = [c.deliver() for _ in range(accepted["audit"])]
        assert {g["queue"] for g in got} == {"audit"}, got
        quiet(c, 0.3, "more deliveries than accepted jobs")
        c.enqueue([{"queue": "audit", "type": "email"}])
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == FORBIDDEN, "a consumer enqueued"
        c.close()
        # both, in the consumer role only: no enqueue; outside its globs: no subscribe.
        c = Client(s)
        c.hello(tokens["both"], role=CONSUMER)
        c.enqueue([{"queue": "emails"}])
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == FORBIDDEN, "enqueue beyond the hello's role"
        c.subscribe(["billing.eu"])
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == FORBIDDEN, "subscribe outside the globs"
        c.subscribe(["nowhere"])
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == UNKNOWN_QUEUE, "subscribe to no queue"
        c.close()
        # prod (producer only) may not subscribe at all.
        c = Client(s)
        c.hello(tokens["prod"], role=PRODUCER)
        c.subscribe(["audit"])
        name, msg = c.recv()
        assert name == "Error" and msg.Code() == FORBIDDEN, "a producer subscribed"
        c.close()
    finally:
        s.stop()
    d.stop()
    res = [x["result"] for x in audit_events(d, "auth")]
    assert res.count("forbidden") == forbidden_hellos == 6, (res, forbidden_hellos)
    assert set(res) == {"ok", "forbidden"}, res


def flood(clients, queue, payload, batch, seconds, midway=None):
    """Every client enqueues batches as fast as it can (stop and wait) for `seconds`
    from one common start; midway() runs half-way through. Per client: {ok,
    limited, other, first_send, first_ack, last_send, last_ack}."""
    start = threading.Event()
    results = [None] * len(clients)

    def run(i, c):
        r = {"ok": 0, "limited": 0, "other": [], "batches": 0}
        jobs = [{"queue": queue, "payload": payload} for _ in range(batch)]
        start.wait()
        end = time.time() + seconds
        try:
            r["first_send"] = time.time()
            while time.time() < end and r["batches"] < 100000:
                r["last_send"] = time.time()
                c.enqueue(jobs)
                st = c.ack()[1]
                r["last_ack"] = time.time()
                r.setdefault("first_ack", r["last_ack"])
                r["batches"] += 1
                r["ok"] += st.count(OK)
                r["limited"] += st.count(RATE_LIMITED)
                r["other"] += [x for x in st if x not in (OK, RATE_LIMITED)]
        except Exception as e:  # reported by the case
            r["other"].append(repr(e))
        results[i] = r
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    start.set()
    if midway:
        time.sleep(seconds / 2)
        midway()
    for t in threads:
        t.join(seconds + 60)
    assert all(r is not None for r in results), "a producer thread did not finish"
    return results


def limit_window(res):
    """The time over which the producers pressed the limiter, T: the first job was
    taken between the first send and its ack, the last one between the last send
    and its ack; the middle of each (under ASan an ack takes ~100 ms)."""
    start = (min(r["first_send"] for r in res) + min(r["first_ack"] for r in res)) / 2
    end = (max(r["last_send"] for r in res) + max(r["last_ack"] for r in res)) / 2
    return end - start


def spread_sessions(s, token, n_min, n_max=40):
    """Sessions of one principal until at least n_min landed on each of the two I/O
    lcores (the kernel spreads connections by SO_REUSEPORT hash): [(client, lcore)]."""
    got = []
    while len(got) < n_max:
        got.append(session(s, token, role=PRODUCER))
        per = [sum(1 for _, lc in got if lc == k) for k in (0, 1)]
        if min(per) >= n_min and len(got) >= 2 * n_min:
            return got
    raise AssertionError(f"{n_max} connections, lcores {[lc for _, lc in got]}")


def case_ctld_rate_limit(env):
    """A principal's jobs_per_s R and jobs_burst B hold across two I/O lcores:
    producers on both lcores send as fast as they can for T seconds and the jobs
    accepted (Ok) are R*T + B within 5%, every other one RateLimited. Half-way
    sluiced gets a new principal table twice (Grants after tokens create, Bans
    after an address is banned): the limiter's state carries over and no session
    is disturbed. The same for bytes_per_s / bytes_burst on a second principal.
    The per-lcore stats sluiced prints at exit show both lcores served sessions
    and refused jobs."""
    # Bursts of 2 s: allowance unused for longer than the burst is gone (a full
    # bucket holds no more), and on this 2-CPU machine sluiced's lcores were seen
    # held back for 300 ms (ASan, another test at once) with every producer
    # waiting on an ack. 2 s is also far from the default burst (1 s), which the
    # count would show if jobs_burst/bytes_burst were ignored.
    rate, burst, secs = 400, 800, 5.0
    brate, bburst, bsecs, bpay = 20000, 40000, 3.0, 100
    tok_j, tok_b = "slq_e2e_rate_jobs", "slq_e2e_rate_bytes"
    principals = [token_principal("rl", tok_j, role="producer", jobs_per_s=rate,
                                  jobs_burst=burst),
                  token_principal("rb", tok_b, role="producer", bytes_per_s=brate,
                                  bytes_burst=bburst)]
    d = Ctld(env, ["rl", "rb"], principals=principals,
             extra={"auth": {"throttle_failures": 1, "ban_failures": 2}})
    s = Sluiced(env, [], ctld=d, io=2)

    def new_tables():
        d.ctl("tokens", "create", "rl", check=0)  # Grants: the table again
        for i in range(2):  # Bans: the table again, with 127.0.0.9 banned
            refused_hello(s, f"slq_e2e_wrong_{i}", source="127.0.0.9")
        wait_for("the ban", lambda: tls_dropped(s, "127.0.0.9"), 10)
    try:
        clients = spread_sessions(s, tok_j, 2)
        lcores = [lc for _, lc in clients]
        res = flood([c for c, _ in clients], "rl", b"j", 25, secs, new_tables)
        other = [x for r in res for x in r["other"]]
        assert not other, f"statuses other than Ok/RateLimited: {other[:10]}"
        ok = sum(r["ok"] for r in res)
        limited = sum(r["limited"] for r in res)
        span = limit_window(res)
        want = rate * span + burst
        print(f"  jobs: R={rate}/s B={burst} over {span:.3f} s on {len(clients)} sessions "
              f"(lcores {lcores.count(0)}+{lcores.count(1)}): accepted {ok}, expected "
              f"{want:.0f} ({100 * (ok - want) / want:+.2f}%), refused {limited}")
        assert limited > 5 * ok, f"the producers did not press the limit: {ok} ok, {limited}"
        assert abs(ok - want) <= 0.05 * want, f"accepted {ok}, want {want:.0f} +- 5%"
        for c, _ in clients:
            c.close()
        bclients = spread_sessions(s, tok_b, 2)
        res = flood([c for c, _ in bclients], "rb", b"b" * bpay, 20, bsecs)
        other = [x for r in res for x in r["other"]]
        assert not other, f"statuses other than Ok/RateLimited: {other[:10]}"
        bok = sum(r["ok"] for r in res)
        blimited = sum(r["limited"] for r in res)
        span = limit_window(res)
        bwant = (brate * span + bburst) / bpay
        print(f"  bytes: {brate} B/s burst {bburst}, {bpay}-byte jobs over {span:.3f} s: "
              f"accepted {bok} jobs, expected {bwant:.0f} ({100 * (bok - bwant) / bwant:+.2f}%)"
              f", refused {blimited}")
        assert blimited > 5 * bok, f"the producers did not press the limit: {bok}, {blimited}"
        assert abs(bok - bwant) <= 0.05 * bwant, f"accepted {bok} jobs, want {bwant:.0f} +- 5%"
        for c, _ in bclients:
            c.close()
        rc, qs, _ = d.ctl("queues", json_out=True, check=0)
        assert {q["name"]: q["enqueued"] for q in qs["queues"]} == {"rl": ok, "rb": bok}, qs
    finally:
        out = s.stop()
    d.stop()
    st = io_stats(out)
    assert len(st) == 2, st
    for x in st:
        assert x["auth_ok"] >= 2 and x["rate_limited"] > 0, f"lcore {x['io']}: {x}"
    assert sum(x["rate_limited"] for x in st) == limited + blimited, (st, limited, blimited)
    ls = link_stats(out)
    assert ls["tables"] >= 2 and ls["bans"] >= 2, f"no new tables half-way: {ls}"
    assert stat_sum(out, "auth_rebound") >= 2 * len(clients), io_stats(out)


BRUTE_AUTH = {"throttle_failures": 3, "throttle_window_s": 60, "ban_failures": 8,
              "ban_window_s": 60, "ban_s": 600}


def case_ctld_bruteforce(env):
    """Guessing tokens from one address: the first 3 wrong tokens are refused
    Unauthenticated, then every hello from it is refused RateLimited without
    being checked (a valid token too); the 8th failure bans the address and
    its new connections are dropped before TLS. Another address with a valid
    token works before, during and after. The audit log has the auth lines
    (unknown, throttled) and an auth.ban naming the address; sluicectl bans
    lists it; sluiced counted the dropped connections; after bans lift a valid
    token from the address works again."""
    bad, good = "127.0.0.7", "127.0.0.8"
    d = Ctld(env, ["q"], extra={"auth": BRUTE_AUTH})
    s = Sluiced(env, [], ctld=d)

    def good_works(what):
        c = Client(s, source=good)
        c.hello(TOKEN)
        enqueue_ok(c, "q", 1, what)
        c.close()
    try:
        good_works("before")
        codes = [refused_hello(s, f"slq_guess_{i}", source=bad) for i in range(3)]
        assert codes == [UNAUTHENTICATED] * 3, codes
        good_works("while the other address is throttled")
        # throttled: even the right token is not checked
        assert refused_hello(s, TOKEN, source=bad) == RATE_LIMITED
        codes = [refused_hello(s, f"slq_guess_{i}", source=bad) for i in range(3, 6)]
        assert codes == [RATE_LIMITED] * 3, codes
        rc, b, _ = d.ctl("bans", "list", json_out=True, check=0)
        assert b["bans"] == [{"address": bad, "banned": False, "until": "-", "failures": 7}], b
        # the 8th failure bans: from then on, no TLS for the address
        assert audit_events(d, "auth.ban") == []
        assert refused_hello(s, "slq_guess_7", source=bad) == RATE_LIMITED
        for _ in range(3):
            assert tls_dropped(s, bad), "a banned address completed a TLS handshake"
        good_works("while the other address is banned")
        rc, b, _ = d.ctl("bans", "list", json_out=True, check=0)
        assert len(b["bans"]) == 1, b
        ban = b["bans"][0]
        assert (ban["address"], ban["banned"], ban["failures"]) == (bad, True, 8), b
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ban["until"]), b
        rc, out, _ = d.ctl("bans", check=0)
        assert re.search(rf"\n{re.escape(bad)}\s+{ban['until']}\s+8\n", out), out
        rc, st, _ = d.ctl("status", json_out=True, check=0)
        assert st["bans"] == 1, st
        bans = audit_events(d, "auth.ban")
        assert len(bans) == 1 and bans[0]["addr"] == bad and bans[0]["failures"] == 8, bans
        assert bans[0]["until"] - time.time() > 590, bans
        mine = [x["result"] for x in audit_events(d, "auth") if x["addr"] == bad]
        assert mine == ["unknown"] * 3 + ["throttled"] * 5, mine
        assert all(x["result"] == "ok" for x in audit_events(d, "auth") if x["addr"] == good)
        rc, sts, _ = d.ctl("stats", json_out=True, check=0)
        assert (sts["auth"]["unknown"], sts["auth"]["throttled"], sts["auth"]["banned"],
                sts["bans_total"]) == (3, 5, 0, 1), sts
        # lifted: a valid token from the address works again (once sluiced has the new set)
        rc, out, _ = d.ctl("bans", "lift", bad, check=0)
        assert out == f"ban of {bad} lifted\n", out

        def lifted():
            if tls_dropped(s, bad):
                return False
            c = Client(s, source=bad)
            c.hello(TOKEN)
            enqueue_ok(c, "q", 1, "after the ban was lifted")
            c.close()
            return True
        wait_for("a lifted address connects", lifted, 10)
        rc, b, _ = d.ctl("bans", "list", json_out=True, check=0)
        assert b == {"bans": []}, b
        good_works("after")
        assert [x["addr"] for x in audit_events(d, "ban.lift")] == [bad]
    finally:
        out = s.stop()
    d.stop()
    assert stat_sum(out, "banned") >= 3, io_stats(out)


def case_ctld_ban_expiry(env):
    """Bans and failure counts are kept for their windows only: a ban of ban_s
    ends by itself (the address completes TLS and authenticates again, bans
    list forgets it), and an address that failed without being banned is no
    longer listed once its ban_window_s is over; its next failure counts from 1."""
    d = Ctld(env, ["q"], extra={"auth": {"throttle_failures": 2, "throttle_window_s": 2,
                                         "ban_failures": 3, "ban_window_s": 2, "ban_s": 2}})
    s = Sluiced(env, [], ctld=d)
    banned, failed = "127.0.0.11", "127.0.0.12"
    try:
        assert [refused_hello(s, f"slq_e2e_wrong_{i}", source=banned) for i in range(3)] == \
            [UNAUTHENTICATED, UNAUTHENTICATED, RATE_LIMITED]
        assert refused_hello(s, "slq_e2e_wrong", source=failed) == UNAUTHENTICATED
        t_ban = time.time()
        assert tls_dropped(s, banned), "not banned"
        rc, b, _ = d.ctl("bans", "list", json_out=True, check=0)
        assert sorted((x["address"], x["banned"], x["failures"]) for x in b["bans"]) == \
            [(banned, True, 3), (failed, False, 1)], b
        wait_for("the ban to end by itself", lambda: not tls_dropped(s, banned), 15, 0.2)
        ended = time.time() - t_ban
        print(f"  a 2 s ban ended after {ended:.2f} s")
        assert ended >= 0.9, ended
        c = Client(s, source=banned)
        c.hello(TOKEN)
        enqueue_ok(c, "q", 1, "after the ban ended")
        c.close()
        # both windows are over now (2 s)
        wait_for("windows over", lambda: time.time() - t_ban > 2.5, 5)
        rc, b, _ = d.ctl("bans", "list", json_out=True, check=0)
        assert b == {"bans": []}, f"failures of a window that is over are listed: {b}"
        assert refused_hello(s, "slq_e2e_wrong", source=failed) == UNAUTHENTICATED
        rc, b, _ = d.ctl("bans", "list", json_out=True, check=0)
        assert b["bans"] == [{"address": failed, "banned": False, "until": "-",
                              "failures": 1}], b
    finally:
        out = s.stop()
    d.stop()
    assert stat_sum(out, "banned") >= 1, io_stats(out)


def case_ctld_revoke(env):
    """sluicectl tokens revoke ends the sessions of that token, and only those: the
    session gets Goodbye{Unauthenticated} and is closed within a second (bound
    1.5 s on this shared machine; the time is printed); another session of the
    same principal on another token carries on; a new hello with the revoked
    token is refused Unauthenticated. A token made with a 2 s TTL works, its
    session ends when it expires, and a new hello with it is refused."""
    d = Ctld(env, ["q"])
    s = Sluiced(env, [], ctld=d)
    try:
        rc, t1, _ = d.ctl("tokens", "create", "demo", json_out=True, check=0)
        rc, t2, _ = d.ctl("tokens", "create", "demo", json_out=True, check=0)
        c1 = Client(s)
        c1.hello(t1["token"])
        c2 = Client(s)
        c2.hello(t2["token"])
        enqueue_ok(c1, "q", 2)
        enqueue_ok(c2, "q", 2)
        seen = {}

        def watch(c, into):
            c.sock.settimeout(10)
            try:
                name, msg = c.recv()
                into["frame"] = (name, msg.Reason() if name == "Goodbye" else None)
                into["frame_at"] = time.time()
                into["closed"] = c.closed(10)
                into["closed_at"] = time.time()
            except Exception as e:
                into["error"] = repr(e)
        th = threading.Thread(target=watch, args=(c1, seen))
        th.start()
        t0 = time.time()
        d.ctl("tokens", "revoke", t1["id"], check=0)
        answered = time.time() - t0
        th.join(30)
        assert "error" not in seen, seen
        assert seen["frame"] == ("Goodbye", UNAUTHENTICATED), seen
        assert seen["closed"], "the revoked session stayed open"
        goodbye, closed = seen["frame_at"] - t0, seen["closed_at"] - t0
        print(f"  revoke: Goodbye after {1000 * goodbye:.0f} ms, closed after "
              f"{1000 * closed:.0f} ms (from the start of sluicectl tokens revoke, which "
              f"returned after {1000 * answered:.0f} ms)")
        assert closed < 1.5, f"revoked session closed after {closed:.2f} s"
        quiet(c2, 0.2, "the other token's session was disturbed")
        enqueue_ok(c2, "q", 2, "the other token's session")
        assert refused_hello(s, t1["token"]) == UNAUTHENTICATED
        c3 = Client(s)
        c3.hello(t2["token"])
        c3.close()
        # expiry: a 2 s token (expires = now + 2 s in whole seconds)
        made_at = time.time()
        rc, t3, _ = d.ctl("tokens", "create", "demo", "2", json_out=True, check=0)
        assert t3["expires"] != "-", t3
        c4 = Client(s)
        c4.hello(t3["token"])
        enqueue_ok(c4, "q", 1, "a token with a TTL, before it expires")
        c4.sock.settimeout(10)
        expect_goodbye(c4, UNAUTHENTICATED, "the expired token's session")
        ended = time.time() - made_at
        print(f"  expiry: 2 s token's session ended {ended:.2f} s after it was made")
        assert 0.9 <= ended < 5, f"the 2 s token's session ended after {ended:.2f} s"
        assert refused_hello(s, t3["token"]) == UNAUTHENTICATED
        rc, tl, _ = d.ctl("tokens", "list", "demo", json_out=True, check=0)
        live = {t["id"]: t["live"] for t in tl["tokens"]}
        assert live == {CTLD_TOKEN_IDS[TOKEN]: True, t1["id"]: False, t2["id"]: True,
                        t3["id"]: False}, live
        enqueue_ok(c2, "q", 1, "the other token's session, at the end")
        c2.close()
    finally:
        out = s.stop()
    d.stop()
    res = [(x["result"], x["token_id"]) for x in audit_events(d, "auth")]
    assert ("revoked", t1["id"]) in res and ("expired", t3["id"]) in res, res
    assert [x["token_id"] for x in audit_events(d, "token.revoke")] == [t1["id"]]
    assert stat_sum(out, "auth_revoked") == 2, io_stats(out)


def case_ctld_restart(env):
    """sluice-ctld killed (-9) under load: an established producer goes on getting
    Ok acks, never a refusal or a disconnect; while ctld is away a new hello is
    refused Unavailable and sluicectl exits 4; ctld started again: within a
    bound sluiced is back and new sessions open, also with a token sluicectl
    made before the kill (the token store survives); the producer's session is
    carried over to the new grants without a Goodbye."""
    d = Ctld(env, ["q"])
    s = Sluiced(env, [], ctld=d)
    stop = threading.Event()
    r = {"ok": 0, "errors": [], "acks_at": []}

    def produce(c):
        end = time.time() + 120
        try:
            while not stop.is_set() and time.time() < end and r["ok"] < 1000000:
                st = statuses(c, [{"queue": "q", "payload": b"r"} for _ in range(10)])
                if st != [OK] * 10:
                    r["errors"].append(st)
                    return
                r["ok"] += 10
                r["acks_at"].append(time.time())
                time.sleep(0.005)
        except Exception as e:
            r["errors"].append(repr(e))
    try:
        rc, made, _ = d.ctl("tokens", "create", "writer", json_out=True, check=0)
        p = Client(s)
        p.hello(made["token"], role=PRODUCER)
        th = threading.Thread(target=produce, args=(p,))
        th.start()
        wait_for("the producer's first acks", lambda: r["ok"] >= 100 or r["errors"], 30)
        d.stop(signal.SIGKILL)
        killed = time.time()
        assert refused_hello(s, TOKEN) == UNAVAILABLE
        assert refused_hello(s, made["token"], role=PRODUCER) == UNAVAILABLE
        rc, _, err = d.ctl("status", check=EXIT_UNAVAILABLE)
        n = r["ok"]
        wait_for("acks while ctld is away", lambda: (r["ok"] >= n + 100 and
                                                     time.time() - killed >= 2) or r["errors"],
                 30)
        assert not r["errors"], r["errors"]
        assert refused_hello(s, TOKEN) == UNAVAILABLE, "a hello long after ctld went away"
        d.start()
        wait_ctl(d)
        restarted = time.time()
        tries = []

        def back():
            c = Client(s)
            c.hello(TOKEN, expect_welcome=False)
            name, msg = c.recv()
            if name == "Welcome":
                enqueue_ok(c, "q", 1, "a new session after the restart")
                c.close()
                return True
            tries.append((name, msg.Code()))
            c.close()
            return False
        wait_for("new sessions after ctld's restart", back, 30)
        print(f"  ctld down {restarted - killed:.2f} s; new sessions back "
              f"{time.time() - restarted:.2f} s after it answered again "
              f"({len(tries)} refused meanwhile)")
        assert all(t == ("Error", UNAVAILABLE) for t in tries), tries
        c = Client(s)
        c.hello(made["token"], role=PRODUCER)
        enqueue_ok(c, "q", 1, "a token made before the kill")
        c.close()
        n = r["ok"]
        wait_for("acks after the restart", lambda: r["ok"] >= n + 100 or r["errors"], 30)
        stop.set()
        th.join(30)
        assert not th.is_alive()
        assert not r["errors"], f"the producer saw: {r['errors']}"
        gaps = [b - a for a, b in zip(r["acks_at"], r["acks_at"][1:])]
        print(f"  producer: {r['ok']} jobs acked Ok, longest gap between acks "
              f"{max(gaps):.3f} s")
        quiet(p, 0.2, "the producer's session got a frame it did not ask for")
        p.close()
        rc, qs, _ = d.ctl("queues", json_out=True, check=0)
        assert qs["queues"][0]["enqueued"] == r["ok"] + 2, (qs, r["ok"])
    finally:
        stop.set()
        out = s.stop()
    d.stop()
    assert [x["event"] for x in d.audit()].count("ctld.start") == 2
    assert len(audit_events(d, "dataplane.attach")) == 2
    ls = link_stats(out)
    assert ls["connects"] == 2 and ls["disconnects"] == 1 and ls["auth_down"] >= 3, ls
    assert stat_sum(out, "auth_revoked") == 0 and stat_sum(out, "auth_changed") == 0


def case_ctld_conn_limit(env):
    """max_connections 2 holds across two I/O lcores: with the principal's two
    sessions on different lcores, a third is refused TooManyConnections
    (wherever it lands) and closed; that still holds once sluiced has taken new
    principal tables (Grants, Bans), which count the sessions again; once one
    closes, a new one is accepted. Another principal is not limited."""
    cap = "slq_e2e_capped"
    principals = [token_principal("capped", cap, max_connections=2),
                  token_principal("free", "slq_e2e_free")]
    d = Ctld(env, ["q"], principals=principals,
             extra={"auth": {"throttle_failures": 1, "ban_failures": 2}})
    s = Sluiced(env, [], ctld=d, io=2)
    try:
        a, la = session(s, cap)
        b = None
        for _ in range(40):  # a second session on the other lcore
            try:
                c, lc = session(s, cap)
            except AssertionError as e:
                assert f"code {TOO_MANY_CONNECTIONS}" in str(e), e
                time.sleep(0.1)  # the previous one is still being closed
                continue
            if lc != la:
                b = c
                break
            c.close()
        assert b is not None, "no second session on the other I/O lcore"
        refused = 0
        for _ in range(4):
            assert refused_hello(s, cap) == TOO_MANY_CONNECTIONS
            refused += 1
        enqueue_ok(a, "q")
        enqueue_ok(b, "q")
        # New tables: Grants (a token made), then Bans (127.0.0.9 banned).
        d.ctl("tokens", "create", "capped", check=0)
        for i in range(2):
            refused_hello(s, f"slq_e2e_wrong_{i}", source="127.0.0.9")
        wait_for("the ban", lambda: tls_dropped(s, "127.0.0.9"), 10)
        time.sleep(0.3)  # both lcores have moved to the last table (a bound)
        for _ in range(3):
            assert refused_hello(s, cap) == TOO_MANY_CONNECTIONS, "after new tables"
            refused += 1
        quiet(a, 0.1, "a new table disturbed a session")
        quiet(b, 0.1, "a new table disturbed a session")
        enqueue_ok(a, "q", 1, "after new tables")
        enqueue_ok(b, "q", 1, "after new tables")
        others = [session(s, "slq_e2e_free")[0] for _ in range(4)]
        a.close()

        def again():
            try:
                c, _ = session(s, cap)
            except AssertionError as e:
                assert f"code {TOO_MANY_CONNECTIONS}" in str(e), e
                return None
            return c
        c = wait_for("a session once one closed", again, 10)
        enqueue_ok(c, "q", 1, "the session that replaced the closed one")
        assert refused_hello(s, cap) == TOO_MANY_CONNECTIONS
        refused += 1
        for x in [b, c] + others:
            x.close()
    finally:
        out = s.stop()
    d.stop()
    assert stat_sum(out, "too_many_conns") >= refused, io_stats(out)
    ls = link_stats(out)
    assert ls["tables"] >= 2 and ls["bans"] >= 2, f"no new tables: {ls}"


def case_ctld_audit_tamper(env):
    """The audit log's hash chain: after activity, sluicectl audit verify says
    intact (exit 0, --json intact and the line count). One character changed
    in a middle line breaks the chain at the next line (exit 1 naming it);
    put back, the chain is whole again. A line deleted breaks it at that line.
    A torn last line stops ctld from starting (exit 3)."""
    d = Ctld(env, ["q"])
    s = Sluiced(env, [], ctld=d)
    try:
        for i in range(3):
            c = Client(s)
            c.hello(TOKEN)
            enqueue_ok(c, "q")
            c.close()
        refused_hello(s, "slq_e2e_wrong")
        d.ctl("tokens", "create", "writer", check=0)
        for _ in range(4):
            d.ctl("status", check=0)
            d.ctl("queues", check=0)
        n = len(d.audit())
        rc, out, _ = d.ctl("audit", "verify", check=0)
        assert out == f"{d.audit_log}: chain intact, {n} lines\n", (out, n)
        rc, v, _ = d.ctl("audit", "verify", json_out=True, check=0)
        assert v == {"intact": True, "lines": n + 1}, (v, n)

        def restart():
            d.stop()
            d.start()
            wait_ctl(d)

        def verify_broken(line):
            rc, _, err = d.ctl("audit", "verify", check=EXIT_FAILED)
            assert f"audit chain broken at line {line}:" in err, (line, err)
            rc, _, err = d.ctl("audit", "verify", json_out=True, check=EXIT_FAILED)
            e = json.loads(err)
            assert e["exit"] == EXIT_FAILED and f"broken at line {line}:" in e["error"], err
        # one character of a middle line
        d.stop()
        with open(d.audit_log) as f:
            lines = f.read().split("\n")
        assert lines[-1] == "", "the log does not end with a newline"
        mid = len(lines) // 2
        k = next(i for i in range(mid, len(lines)) if '"uid":0,' in lines[i])
        assert k < len(lines) - 4, "no middle line to edit"  # the last line chains nothing
        original = lines[k]
        lines[k] = original.replace('"uid":0,', '"uid":1,', 1)
        assert json.loads(lines[k])["uid"] == 1
        with open(d.audit_log, "w") as f:
            f.write("\n".join(lines))
        d.start()
        wait_ctl(d)
        verify_broken(k + 2)  # 1-based: line k+1 was edited, k+2 no longer chains to it
        rc, out, _ = d.ctl("audit", "tail", "2", check=0)
        assert len(out.splitlines()) == 2
        # put back: intact again, with the lines written since
        d.stop()
        with open(d.audit_log) as f:
            lines = f.read().split("\n")
        lines[k] = original
        with open(d.audit_log, "w") as f:
            f.write("\n".join(lines))
        d.start()
        wait_ctl(d)
        rc, v, _ = d.ctl("audit", "verify", json_out=True, check=0)
        assert v["intact"] is True and v["lines"] > n + 10, v
        # a line deleted
        d.stop()
        with open(d.audit_log) as f:
            lines = f.read().split("\n")
        m = len(lines) // 3
        del lines[m]
        with open(d.audit_log, "w") as f:
            f.write("\n".join(lines))
        d.start()
        wait_ctl(d)
        verify_broken(m + 1)
        # a torn last line: ctld does not start on it
        d.stop()
        with open(d.audit_log) as f:
            whole = f.read()
        with open(d.audit_log, "a") as f:
            f.write('{"seq":99999,"ts":"2026-')
        try:
            d.start()
            raise AssertionError("ctld started on a torn audit log")
        except AssertionError as e:
            assert "sluice-ctld exited 3" in str(e), e
        with open(d.audit_log, "w") as f:
            f.write(whole)
        d.start()
        wait_ctl(d)
        verify_broken(m + 1)
        wait_attached(d)
        c = Client(s)
        c.hello(TOKEN)
        enqueue_ok(c, "q", 1, "after ctld's restarts")
        c.close()
    finally:
        s.stop()
    d.stop()


def http_get(port, path="/metrics", token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        conn.close()


def metric(text, name, labels=None):
    """The value of one sample of the exposition text, None when absent."""
    key = name + ("{" + labels + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return None


def case_ctld_metrics(env):
    """The Prometheus endpoint: 401 with no or a wrong bearer token, 404 elsewhere,
    200 text/plain with the right one; sluice_auth_total counts the sessions
    opened and refused by result; sluice_queue_ready and the other queue
    figures match the queues (ctld asks sluiced every 2 s); a reload with a new
    token hash takes effect at once."""
    port = free_port()
    tok, tok2 = "metrics-scrape-token-1", "metrics-scrape-token-2"
    d = Ctld(env, ["emails", "other"], extra={"metrics": {
        "listen": f"127.0.0.1:{port}",
        "bearer_token_sha256": hashlib.sha256(tok.encode()).hexdigest()}})
    assert f"metrics on port {port}" in d.output(), d.output()
    s = Sluiced(env, [], ctld=d)
    try:
        st, hdr, body = http_get(port)
        assert st == 401 and hdr.get("WWW-Authenticate", "").startswith("Bearer"), (st, hdr)
        assert "sluice_" not in body, body
        st, _, body = http_get(port, token="wrong-token")
        assert st == 401 and "sluice_" not in body, (st, body)
        st, _, _ = http_get(port, path="/other", token=tok)
        assert st == 404, st
        sessions = []
        for _ in range(3):
            c = Client(s)
            c.hello(TOKEN)
            sessions.append(c)
        assert refused_hello(s, "slq_e2e_not_a_token") == UNAUTHENTICATED
        enqueue_ok(sessions[0], "emails", 7)
        enqueue_ok(sessions[1], "other", 2)
        cons = sessions[2]
        cons.subscribe(["other"], prefetch=1)
        leased = cons.deliver()
        t_jobs = time.time()
        st, hdr, body = http_get(port, token=tok)
        assert st == 200 and hdr["Content-Type"].startswith("text/plain; version=0.0.4"), hdr
        assert metric(body, "sluice_auth_total", 'result="ok"') == 3, body
        assert metric(body, "sluice_auth_total", 'result="unknown"') == 1, body
        assert metric(body, "sluice_dataplane_attached") == 1, body
        assert "# TYPE sluice_queue_ready gauge" in body, body
        time.sleep(max(0.0, 2.2 - (time.time() - t_jobs)))

        def figures():
            st, _, body = http_get(port, token=tok)
            assert st == 200
            got = (metric(body, "sluice_queue_ready", 'queue="emails"'),
                   metric(body, "sluice_queue_ready", 'queue="other"'),
                   metric(body, "sluice_queue_in_flight", 'queue="other"'),
                   metric(body, "sluice_queue_enqueued_total", 'queue="emails"'))
            return body if got == (7, 1, 1, 7) else None
        body = wait_for("queue figures in the metrics", figures, 10)
        age = metric(body, "sluice_queue_stats_age_seconds")
        assert 0 <= age <= 4, body  # refreshed every 2 s (whole seconds, a bound)
        rc, qs, _ = d.ctl("queues", "show", "emails", json_out=True, check=0)
        assert qs["queues"][0]["ready"] == 7, qs
        assert cons.settle("complete", [leased["lease"]]) == [OK]
        for c in sessions:
            c.close()
        # a new token hash by reload
        d.cfg["metrics"]["bearer_token_sha256"] = hashlib.sha256(tok2.encode()).hexdigest()
        d.write_config()
        d.ctl("reload", check=0)
        assert http_get(port, token=tok)[0] == 401
        st, _, body = http_get(port, token=tok2)
        assert st == 200 and metric(body, "sluice_config_reloads_total",
                                    'result="ok"') == 1, body
    finally:
        s.stop()
    d.stop()


def case_ctld_check_config(env):
    """sluice-ctld --check-config: a valid file exits 0 and says what it holds;
    invalid files (YAML syntax, unknown key, bad role, number out of range,
    missing required key, duplicate key, duplicate token id, bad hash, bad
    metrics address, uid and gid together) exit 1 with one
    file:line:column: message naming the place. --config refuses to start on
    an invalid file (exit 1, no sockets made)."""
    d = Ctld(env, ["emails", {"name": "billing.eu", "max_jobs": 10}], start=False,
             extra={"operators": [{"uid": 1000, "role": "operator"}]})
    good = open(d.config_path).read()

    def check(text):
        path = os.path.join(d.dir, "check.yaml")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([env.ctld, "--check-config", path], capture_output=True, text=True,
                           timeout=30)
        return p.returncode, p.stdout, p.stderr, path
    rc, out, err, path = check(good)
    assert rc == 0 and out == f"{path}: valid: 2 queues, 3 principals, 1 operators\n", \
        (rc, out, err)
    lines = good.split("\n")

    def at(needle):
        """1-based line of the first line containing needle."""
        return next(i for i, x in enumerate(lines) if needle in x) + 1

    def insert_after(needle, new):
        i = at(needle)
        return "\n".join(lines[:i] + [new] + lines[i:]), i + 1
    h = sha256_hex("x")
    cases = []
    text, n = insert_after('role: "producer"', '    colour: "red"')
    cases.append((text, n, 5, r"principals\[1\]: unknown key 'colour'"))
    cases.append((good.replace('role: "producer"', 'role: "writer"'), at('role: "producer"'), 11,
                  r"principals\[1\]\.role: 'writer' is not a role; valid: producer, consumer, "
                  r"both"))
    cases.append((good.replace("max_jobs: 10", "max_jobs: -5"), at("max_jobs"), 15,
                  r"queues\[1\]\.max_jobs: '-5' has a sign"))
    text, n = insert_after("max_payload: 1024", "    max_priority: 5")
    cases.append((text, n + 1, 5, rf"principals\[2\]\.max_priority: given twice \(first at line "
                  rf"{n}\)"))
    text, n = insert_after('name: "writer"', '    max_priority: 16')
    cases.append((text, n, 19, r"principals\[1\]\.max_priority: '16' is out of range"))
    cases.append(("\n".join(x for x in lines if "audit_log" not in x), at("ctld:") + 1, None,
                  r"ctld\.audit_log: required key missing"))
    text, n = insert_after("operator_socket", lines[at("operator_socket") - 1])
    cases.append((text, n, 3, r"ctld\.operator_socket: given twice \(first at line "
                  rf"{n - 1}\)"))
    cases.append((good.replace(CTLD_TOKEN_IDS[TOKEN_PRODUCER], CTLD_TOKEN_IDS[TOKEN]),
                  at(CTLD_TOKEN_IDS[TOKEN_PRODUCER]), None, r"token id '0000000000a1' is used "
                  r"twice"))
    cases.append((good.replace(sha256_hex(TOKEN_NARROW), h[:40]), at(sha256_hex(TOKEN_NARROW)),
                  None, r"sha256: '[0-9a-f]{40}' is 40 characters long"))
    cases.append((good + f'metrics:\n  listen: "localhost:99999"\n  bearer_token_sha256: "{h}"\n',
                  len(lines) + 1, 11, r"metrics\.listen: 'localhost:99999' is not an IPv4"))
    text, n = insert_after("uid: 1000", "    gid: 1000")
    cases.append((text, n, None, r"operators\[0\]\.gid: both uid and gid given"))
    text, n = insert_after('role: "producer"', '    queues: ["emails"')
    cases.append((text, None, None, r"YAML syntax: "))
    for text, line, col, want in cases:
        rc, out, err, path = check(text)
        assert rc == 1 and out == "", (want, rc, out, err)
        m = re.fullmatch(rf"{re.escape(path)}:(\d+):(\d+): (.*)\n", err)
        assert m, (want, err)
        assert re.search(want, m.group(3)), (want, err)
        if line is not None:
            assert int(m.group(1)) == line, (want, line, err)
        if col is not None:
            assert int(m.group(2)) == col, (want, col, err)
    rc, out, err, path = check("")
    assert rc == 1 and err.startswith(path + ":"), (rc, err)
    p = subprocess.run([env.ctld, "--check-config", os.path.join(d.dir, "none.yaml")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "none.yaml" in p.stderr, (p.returncode, p.stderr)
    p = subprocess.run([env.ctld], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, (p.returncode, p.stderr)
    # --config with an invalid file: exit 1, the message, nothing created
    d.write_config(text=good.replace('role: "producer"', 'role: "writer"'))
    p = subprocess.run([env.ctld, "--config", d.config_path], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1 and re.match(rf"sluice-ctld: {re.escape(d.config_path)}:\d+:11: ",
                                          p.stderr), (p.returncode, p.stderr)
    assert not os.path.exists(d.op_socket) and not os.path.exists(d.dp_socket)
    assert not os.path.exists(d.audit_log)
    # and starts on the valid one
    d.write_config(text=good)
    d.start()
    d.ctl("status", check=0)
    d.stop()


CTLD_CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
