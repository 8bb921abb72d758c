# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end cases of sluiced's control socket (--control-socket): operator
actions on queues seen through real TLS producers and consumers. Run through
cases.py (CASES includes CTL_CASES); the control client builds requests and
reads answers with flatc's Python code for schema/control.fbs."""
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time

from harness import Client, Control, ControlError, Skip, Sluiced, quiet

OK = 0
CTL_INVALID, CTL_UNKNOWN_QUEUE, CTL_FORBIDDEN = 1, 2, 3


def ctl_path(env, name="ctl.sock"):
    d = tempfile.mkdtemp(prefix="ctl-", dir=env.tmp)
    return os.path.join(d, name)


def control_stats(out):
    """The 'sluiced: control {...}' line sluiced prints at a clean exit."""
    line = [x for x in out.splitlines() if x.startswith("sluiced: control ")]
    assert line, "no control stats line: " + out
    return json.loads(line[0][len("sluiced: control "):])


def expect_info(info, **want):
    got = {k: info[k] for k in want}
    assert got == want, f"{info['name']}: got {got}, want {want}"


def case_ctl_pause_resume(env):
    """Pause stops deliveries to a subscribed consumer while enqueues are still
    accepted; resume delivers them all. Two workers: ListQueues gathers both."""
    path = ctl_path(env)
    s = Sluiced(env, ["pr", "other"], ["--control-socket", path], workers=2)
    try:
        ctl = Control(path)
        qs = ctl.queues()
        assert list(qs) == ["pr", "other"], list(qs)
        expect_info(qs["pr"], paused=False, ready=0, leased=0, enqueued=0)
        cons = Client(s)
        cons.hello()
        cons.subscribe(["pr"], prefetch=50)
        count, info = ctl.act("PauseQueue", "pr")
        assert count == 0 and info["paused"] is True, info
        count, info = ctl.act("PauseQueue", "pr")  # pausing twice is still paused
        assert info["paused"] is True
        prod = Client(s)
        prod.hello()
        prod.enqueue([{"queue": "pr", "payload": b"%d" % i} for i in range(10)] +
                     [{"queue": "other", "payload": b"o"} for _ in range(3)])
        assert prod.ack()[1] == [OK] * 13, "enqueues are accepted while paused"
        quiet(cons, 0.8)
        qs = ctl.queues()
        expect_info(qs["pr"], paused=True, ready=10, leased=0, enqueued=10, delivered=0)
        expect_info(qs["other"], paused=False, ready=3, enqueued=3)
        assert qs["pr"]["bytes"] > 0
        assert ctl.queues("other") == {"other": qs["other"]}
        count, info = ctl.act("ResumeQueue", "pr")
        assert count == 0 and info["paused"] is False, info
        got = [cons.deliver() for _ in range(10)]
        assert sorted(int(d["payload"]) for d in got) == list(range(10))
        assert {d["queue"] for d in got} == {"pr"}
        expect_info(ctl.queues("pr")["pr"], ready=0, leased=10, delivered=10)
        assert cons.settle("complete", [d["lease"] for d in got]) == [OK] * 10
        expect_info(ctl.queues("pr")["pr"], paused=False, ready=0, leased=0, completed=10,
                    bytes=0)
        ctl.close()
        cons.close()
        prod.close()
    finally:
        out = s.stop()
    assert not os.path.exists(path), "control socket left behind"
    st = control_stats(out)
    assert st["requests"] == 8 and st["answered"] == 8 and st["invalid"] == {}, st


def case_ctl_purge(env):
    """Purge drops every waiting job (ready and delayed) and keeps the leased one;
    consumers get nothing afterwards; the counters say what happened."""
    path = ctl_path(env)
    s = Sluiced(env, ["pg"], ["--control-socket", path])
    try:
        ctl = Control(path)
        cons = Client(s)
        cons.hello()
        cons.subscribe(["pg"], prefetch=1)
        prod = Client(s)
        prod.hello()
        prod.enqueue([{"queue": "pg", "payload": b"held"}])
        assert prod.ack()[1] == [OK]
        held = cons.deliver()
        later = int(time.time() * 1000) + 60000
        prod.enqueue([{"queue": "pg", "payload": b"x" * 10} for _ in range(20)] +
                     [{"queue": "pg", "not_before_ms": later} for _ in range(2)])
        assert prod.ack()[1] == [OK] * 22
        expect_info(ctl.queues()["pg"], ready=20, delayed=2, leased=1, enqueued=23)
        count, info = ctl.act("PurgeQueue", "pg")
        assert count == 22, count
        expect_info(info, ready=0, delayed=0, retry_wait=0, leased=1, dead=0, purged=22)
        assert info["bytes"] > 0, "the leased job is still held"
        assert cons.settle("complete", [held["lease"]]) == [OK]
        cons.credit(5)
        other = Client(s)
        other.hello()
        other.subscribe(["pg"], prefetch=5)
        quiet(cons, 0.6)
        quiet(other, 0.2)
        expect_info(ctl.queues()["pg"], ready=0, delayed=0, leased=0, bytes=0, enqueued=23,
                    delivered=1, completed=1, purged=22)
        count, _ = ctl.act("PurgeQueue", "pg")
        assert count == 0
        # The queue still works after a purge (one consumer left, so it gets the job).
        other.close()
        time.sleep(0.3)
        prod.enqueue([{"queue": "pg", "payload": b"after"}])
        assert prod.ack()[1] == [OK]
        assert cons.deliver()["payload"] == b"after"
        for c in (ctl, cons, prod):
            c.close()
    finally:
        s.stop()


def case_ctl_redrive(env):
    """Jobs failing until max_attempts land in dead; redrive (with and without
    --max) moves them back and they are delivered again, attempts from 1."""
    path = ctl_path(env)
    s = Sluiced(env, ["rd,max_attempts=2,backoff_ms=20,backoff_max_ms=40"],
                ["--control-socket", path])
    try:
        ctl = Control(path)
        c = Client(s)
        c.hello()
        ids = [(7, i) for i in (1, 2, 3)]
        c.enqueue([{"queue": "rd", "id": i} for i in ids])
        assert c.ack()[1] == [OK] * 3
        c.subscribe(["rd"], prefetch=10)
        attempts = {}
        for _ in range(6):
            d = c.deliver()
            attempts.setdefault(d["id"], []).append(d["attempt"])
            assert c.settle("fail", [d["lease"]]) == [OK]
        assert attempts == {i: [1, 2] for i in ids}, attempts
        quiet(c, 0.5)
        expect_info(ctl.queues()["rd"], ready=0, retry_wait=0, leased=0, dead=3, delivered=6,
                    failed=6, dead_lettered=3, redriven=0)
        count, info = ctl.act("RedriveQueue", "rd", max_=2)
        assert count == 2, count
        expect_info(info, dead=1, ready=2, redriven=2)
        again = [c.deliver() for _ in range(2)]
        assert all(d["attempt"] == 1 for d in again), again
        assert {d["id"] for d in again} < set(ids)
        assert c.settle("complete", [d["lease"] for d in again]) == [OK, OK]
        count, info = ctl.act("RedriveQueue", "rd")
        assert count == 1 and info["dead"] == 0, (count, info)
        last = c.deliver()
        assert last["attempt"] == 1 and last["id"] not in {d["id"] for d in again}
        assert c.settle("complete", [last["lease"]]) == [OK]
        count, _ = ctl.act("RedriveQueue", "rd")
        assert count == 0
        expect_info(ctl.queues()["rd"], ready=0, leased=0, dead=0, bytes=0, enqueued=3,
                    delivered=9, completed=3, failed=6, dead_lettered=3, redriven=3)
        ctl.close()
        c.close()
    finally:
        s.stop()


def case_ctl_malformed(env):
    """Malformed control datagrams get Error{Invalid, "<check> at byte <n>"}, are
    counted by check, and neither the control connection nor the data path suffers."""
    path = ctl_path(env)
    s = Sluiced(env, ["m"], ["--control-socket", path])
    try:
        ctl = Control(path)
        good = Control.request_bytes("PauseQueue", "mmmm", seq=5)
        cases = [
            (b"\x10\x00\x00\x00" + b"\x08\x00\x00\x00XXXX" + b"\x00" * 8,
             b"identifier_mismatch at byte 8"),
            (b"\x01\x02", b"frame_too_short at byte 0"),
            (bytes([good[0] + 1]) + good[1:], b"size_prefix_mismatch at byte 0"),
            (b"\x00" * (140 * 1024), b"frame_too_large at byte 0"),
        ]
        flip = bytearray(good)
        flip[flip.find(b"mmmm") + 1] = ord("/")
        cases.append((bytes(flip), b"name_bad_char at byte"))
        for data, want in cases:
            ctl.send_raw(data)
            name, seq, msg = ctl.recv()
            assert name == "Error" and msg.Code() == CTL_INVALID, (name, msg.Code())
            assert want in msg.Message(), (want, msg.Message())
        # A response sent as a request.
        from sluice.control import Message, QueueList

        def build(b):
            QueueList.StartQueuesVector(b, 0)
            v = b.EndVector()
            QueueList.Start(b)
            QueueList.AddQueues(b, v)
            return QueueList.End(b)
        ctl.send_raw(Control.message(Message.Message.QueueList, build, 9))
        name, seq, msg = ctl.recv()
        assert name == "Error" and msg.Code() == CTL_INVALID and seq == 9
        assert msg.Message().startswith(b"QueueList is not a request"), msg.Message()
        try:
            ctl.act("PurgeQueue", "nowhere")
            raise AssertionError("purge of an unknown queue succeeded")
        except ControlError as e:
            assert e.code == CTL_UNKNOWN_QUEUE and e.message == "no queue 'nowhere'", e
        # The same connection still serves, and so does the data path.
        assert list(ctl.queues()) == ["m"]
        p = Client(s)
        p.hello()
        p.enqueue([{"queue": "m", "payload": b"still fine"}])
        assert p.ack()[1] == [OK]
        p.subscribe(["m"])
        assert p.deliver()["payload"] == b"still fine"
        expect_info(ctl.queues()["m"], enqueued=1, delivered=1, leased=1)
        ctl.close()
        p.close()
    finally:
        out = s.stop()
    st = control_stats(out)
    assert st["invalid"] == {"identifier_mismatch": 1, "frame_too_short": 1,
                             "size_prefix_mismatch": 1, "frame_too_large": 1,
                             "name_bad_char": 1}, st["invalid"]
    assert st["not_request"] == 1 and st["unknown_queue"] == 1, st


PEER_SCRIPT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
except PermissionError:
    sys.exit(13)
try:
    s.send(bytes.fromhex(sys.argv[2]))
except OSError:
    pass
answer = s.recv(1 << 17)
try:
    rest = s.recv(1 << 17)
except ConnectionResetError:  # closed with our request unread
    rest = b""
print(answer.hex())
print("closed" if rest == b"" else "open")
"""


def run_as_nobody(args, caps):
    """Run /usr/bin/python3 args as uid/gid 65534 (with CAP_DAC_OVERRIDE when caps)."""
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if caps:
        cmd += ["--inh-caps=+dac_override", "--ambient-caps=+dac_override"]
    return subprocess.run(cmd + ["/usr/bin/python3"] + args, capture_output=True, text=True,
                          timeout=30, cwd="/")


def case_ctl_peer(env):
    """The socket is mode 0600, and a peer whose SO_PEERCRED uid is neither 0 nor
    sluiced's is refused with Error{Forbidden} even when it can open the file."""
    if os.geteuid() != 0:
        raise Skip("needs root to run a client as another uid")
    if not shutil.which("setpriv"):
        raise Skip("needs setpriv (util-linux)")
    # A directory everyone may enter: only the socket's own mode keeps others out.
    d = tempfile.mkdtemp(prefix="sluice-ctl-")
    os.chmod(d, 0o755)
    path = os.path.join(d, "ctl.sock")
    s = Sluiced(env, ["q"], ["--control-socket", path])
    try:
        st = os.lstat(path)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        req = Control.request_bytes("ListQueues", seq=3).hex()
        p = run_as_nobody(["-c", PEER_SCRIPT, path, req], caps=False)
        assert p.returncode == 13, ("uid 65534 opened a 0600 socket", p.returncode, p.stderr)
        p = run_as_nobody(["-c", PEER_SCRIPT, path, req], caps=True)
        assert p.returncode == 0, (p.returncode, p.stderr)
        answer, state = p.stdout.split()
        name, _, msg = Control.parse(bytes.fromhex(answer))
        assert name == "Error" and msg.Code() == CTL_FORBIDDEN, (name, msg.Code())
        assert b"uid 65534 may not use the control socket" in msg.Message(), msg.Message()
        assert state == "closed", "a refused peer's connection stays open"
        # root (sluiced's own uid here) is served.
        ctl = Control(path)
        assert list(ctl.queues()) == ["q"]
        ctl.close()
    finally:
        try:
            out = s.stop()
        finally:
            shutil.rmtree(d, ignore_errors=True)
    st = control_stats(out)
    assert st["refused_peer"] == 1 and st["accepted"] == 1, st


def case_ctl_socket_file(env):
    """A live socket is never taken over; a stale one (nobody listening) is replaced;
    a path that is not a socket is refused; the file goes away at exit."""
    path = ctl_path(env)
    s = Sluiced(env, ["q"], ["--control-socket", path])
    try:
        try:
            Sluiced(env, ["q"], ["--control-socket", path])
            raise AssertionError("a second sluiced took over a live control socket")
        except AssertionError as e:
            assert "another process is serving it" in str(e), e
        assert list(Control(path).queues()) == ["q"]
    finally:
        s.stop()
    assert not os.path.exists(path)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    stale.bind(path)  # bound, never listening, closed: what a crash leaves behind
    stale.close()
    s = Sluiced(env, ["q"], ["--control-socket", path])
    try:
        assert list(Control(path).queues()) == ["q"]
    finally:
        s.stop()
    with open(path, "w") as f:
        f.write("not a socket")
    try:
        Sluiced(env, ["q"], ["--control-socket", path])
        raise AssertionError("sluiced replaced a regular file")
    except AssertionError as e:
        assert "exists and is not a socket" in str(e) and "exited 2" in str(e), e
    with open(path) as f:
        assert f.read() == "not a socket"


def admin(env, path, *args):
    """sluice admin ... --control-socket path: (exit status, stdout, stderr)."""
    p = subprocess.run([env.cli, "admin"] + list(args) + ["--control-socket", path],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def case_ctl_cli(env):
    """sluice admin queues|pause|resume|purge|redrive against sluiced: output,
    --json, exit codes."""
    if not env.cli:
        raise AssertionError("no sluice CLI given")
    path = ctl_path(env)
    s = Sluiced(env, ["emails", "dl,max_attempts=1"], ["--control-socket", path])
    try:
        rc, out, err = admin(env, path, "queues")
        lines = out.splitlines()
        assert rc == 0 and lines[0].split() == ["QUEUE", "STATE", "READY", "DELAYED", "RETRY",
                                                "LEASED", "DEAD", "BYTES"], (rc, out, err)
        assert lines[1].split() == ["emails", "active", "0", "0", "0", "0", "0", "0"], lines
        rc, out, _ = admin(env, path, "pause", "emails")
        assert rc == 0 and out.startswith("paused emails"), out
        p = Client(s)
        p.hello()
        p.enqueue([{"queue": "emails"} for _ in range(5)] + [{"queue": "dl"}])
        assert p.ack()[1] == [OK] * 6
        rc, out, _ = admin(env, path, "queues", "--json")
        rows = [json.loads(x) for x in out.splitlines()]
        assert rc == 0 and [r["queue"] for r in rows] == ["emails", "dl"], out
        assert rows[0]["paused"] is True and rows[0]["ready"] == 5 and rows[1]["ready"] == 1
        rc, out, _ = admin(env, path, "resume", "emails", "--json")
        r = json.loads(out)
        assert rc == 0 and r["action"] == "resume" and r["queue"]["paused"] is False, out
        rc, out, _ = admin(env, path, "--json", "purge", "emails")
        r = json.loads(out)
        assert rc == 0 and r["count"] == 5 and r["queue"]["ready"] == 0, out
        assert r["queue"]["purged"] == 5
        # One dead letter, redriven by the CLI.
        p.subscribe(["dl"])
        d = p.deliver()
        assert p.settle("fail", [d["lease"]]) == [OK]
        p.credit(1)
        quiet(p, 0.3)
        rc, out, _ = admin(env, path, "queues", "dl", "--json")
        assert rc == 0 and json.loads(out)["dead"] == 1, out
        rc, out, _ = admin(env, path, "redrive", "dl", "--max", "5")
        assert rc == 0 and out.startswith("redrove 1 dead job(s) of dl"), out
        d = p.deliver()
        assert d["attempt"] == 1
        assert p.settle("complete", [d["lease"]]) == [OK]
        # Exit codes: refused 1, usage 2, unreachable 3.
        rc, out, err = admin(env, path, "pause", "nowhere")
        assert rc == 1 and "UnknownQueue: no queue 'nowhere'" in err, (rc, err)
        rc, _, err = admin(env, path, "redrive")
        assert rc == 2 and "which queue" in err, (rc, err)
        rc, _, err = admin(env, path, "purge", "emails", "--max", "3")
        assert rc == 2, (rc, err)
        rc, _, err = admin(env, path + ".none", "queues")
        assert rc == 3 and "No such file" in err, (rc, err)
        rc, out, _ = admin(env, path, "--help")
        assert rc == 0 and "usage: sluice admin" in out
        if os.geteuid() == 0 and shutil.which("setpriv"):
            # As another uid that can open the file: refused by SO_PEERCRED, exit 3.
            p2 = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                 "--inh-caps=+dac_override", "--ambient-caps=+dac_override",
                                 env.cli, "admin", "queues", "--control-socket", path],
                                capture_output=True, text=True, timeout=30, cwd="/")
            assert p2.returncode == 3 and "Forbidden: uid 65534" in p2.stderr, \
                (p2.returncode, p2.stderr)
        p.close()
    finally:
        s.stop()


CTL_CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_ctl")}
