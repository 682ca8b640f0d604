"""500 reports sent concurrently as signed LINE webhooks; the server (web and worker processes) is
killed with SIGKILL part-way and started again; every acknowledged report is there exactly once.

What is not acknowledged with a 200 is sent again after the restart, as LINE redelivers; the
source key of each 「確定」 event keeps a redelivered or re-processed one from saving twice."""
from __future__ import annotations

import http.client
import json
import os
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from bot.people.access import add_user
from storage.connections import open_db

from .fakes import LineStandIn, line_signature
from .procs import Nimo
from .waiting import wait_until

SECRET = "crash-test-secret"
USERS = 500


def _event(i: int, part: str, text: str) -> bytes:
    ev = {"type": "message", "mode": "active", "timestamp": 1764000000000 + i,
          "source": {"type": "user", "userId": f"U{i:04d}"}, "webhookEventId": f"01CRASH{i:05d}{part}",
          "deliveryContext": {"isRedelivery": False}, "replyToken": f"token-{i:05d}-{part}",
          "message": {"id": f"{i}{part}", "type": "text", "quoteToken": "q", "text": text}}
    return json.dumps({"destination": "Ubot", "events": [ev]}, ensure_ascii=False).encode()


def _post(port: int, body: bytes) -> bool:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/line/webhook", body=body, headers={"X-Line-Signature": line_signature(body, SECRET)})
        return c.getresponse().status == 200
    except OSError:
        return False


def test_sigkill_part_way_loses_none_and_doubles_none(tmp_path):
    db_path = tmp_path / "n.db"
    db = open_db(db_path)
    now = datetime.now(timezone.utc)
    with db.conn:
        for i in range(USERS):
            add_user(db, "line", f"U{i:04d}", "staff", "千葉市", now)
    with LineStandIn() as line:
        env = dict(os.environ, NIMO_DB=str(db_path), LINE_CHANNEL_SECRET=SECRET,
                   LINE_CHANNEL_ACCESS_TOKEN=line.access_token, LINE_API_BASE_URL=line.url, NIMO_WORKERS="4")
        env.pop("SLACK_BOT_TOKEN", None)
        first = Nimo(env).__enter__()
        port = first.port
        # per user: the report, then 「確定」 (the worker answers each person's messages in order)
        sends = {i: [_event(i, "a", f"報告 訪問 K-{i:03d} 状態安定。"), _event(i, "b", "確定")] for i in range(USERS)}
        acked: dict[tuple[int, int], bool] = {}
        count = [0]
        lock = threading.Lock()
        killed = threading.Event()

        def user(i: int, port: int) -> None:
            for k, body in enumerate(sends[i]):
                if acked.get((i, k)):
                    continue
                ok = _post(port, body)
                with lock:
                    acked[(i, k)] = ok
                    count[0] += ok
                if not ok:
                    return  # LINE would send it again later; so do we, after the restart

        def killer() -> None:
            deadline = time.monotonic() + 120  # a guard against a hang, not a measure
            while count[0] < USERS * 2 * 0.4 and time.monotonic() < deadline:
                time.sleep(0.01)
            first.kill()  # SIGKILL to web and worker
            killed.set()

        k = threading.Thread(target=killer)
        k.start()
        try:
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda i: user(i, port), range(USERS)))
        finally:
            k.join()
            first.kill()
        assert killed.is_set()
        before_restart = sum(acked.values())
        assert before_restart < USERS * 2  # the kill did cut the run short

        with Nimo(env) as second:
            port = second.port
            with ThreadPoolExecutor(16) as pool:  # redeliver what was not acknowledged
                list(pool.map(lambda i: user(i, port), range(USERS)))
            assert all(acked.get((i, k)) for i in range(USERS) for k in (0, 1))
            check = sqlite3.connect(db_path)

            def settled() -> tuple[int, int]:  # (reports saved, inbox rows not yet answered)
                return (check.execute("SELECT COUNT(*) FROM reports").fetchone()[0],
                        check.execute("SELECT COUNT(*) FROM inbox WHERE status IN ('new', 'working')").fetchone()[0])

            wait_until(lambda: settled()[0] >= USERS and settled()[1] == 0, timeout=180, step=0.5, seen=settled)
        said = [m.get("text", "") for m in line.messages()]
        acknowledged = {int(x) for t in said for x in re.findall(r"保存しました（R-(\d+)）", t)}
        rows = check.execute("SELECT id, author, case_code FROM reports").fetchall()
        per_author = {}
        for rid, author, code in rows:
            per_author.setdefault(author, []).append(rid)
        assert acknowledged, "no report was acknowledged"
        assert acknowledged <= {r[0] for r in rows}                  # none acknowledged is lost
        assert all(len(v) == 1 for v in per_author.values())         # none is doubled
        assert len(per_author) == USERS                              # and, redelivered, every one arrived
        assert {code for _, _, code in rows} == {f"K-{i:03d}" for i in range(USERS)}
        assert line.errors == []
