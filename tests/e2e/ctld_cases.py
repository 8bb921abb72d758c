# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end cases of sluice-ctld with sluiced (--ctld): authentication,
authorization, limits, bans, revocation, reload, audit and metrics, seen
through real TLS clients and sluicectl. Run through cases.py (CASES includes
CTLD_CASES)."""
import os
import time

from harness import TOKEN, TOKEN_NARROW, TOKEN_PRODUCER, Client, Ctld, Sluiced

OK = 0


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


CTLD_CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
