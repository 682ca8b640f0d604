"""The scheduler after a worker dies, as an operator runs Nimo: real ``nimo serve`` and ``nimo
worker`` processes, the LINE stand-in, real signals and the real clock (the processes read it;
the reminder's due time is set relative to it).

Timeouts are guards against a hang on a shared machine, not measurements.
"""
from __future__ import annotations

import os
import signal
from datetime import datetime, timedelta, timezone

from bot import messages
from storage.connections import open_db
from scheduler import store

from .fakes import LineStandIn
from .procs import Nimo, get, wait_for
from .test_process import _end, _env, _no_worker, _register, _worker


def _holder(db) -> str | None:
    row = db.execute("SELECT holder FROM leases WHERE name = 'scheduler'").fetchone()
    return row[0] if row else None


def test_a_worker_killed_holding_the_lease_is_replaced_and_its_reminder_pushed_once(tmp_path):
    _register(tmp_path, "line", "Ukill")
    db = open_db(tmp_path / "n.db")
    with LineStandIn() as line, Nimo(_env(tmp_path, line)) as nimo:
        assert wait_for(lambda: nimo.worker() is not None and nimo.ready()["ready"], timeout=60)
        first, dead = nimo.worker(), _holder(db)
        assert dead is not None and nimo.ready()["scheduler_running"]
        now = datetime.now(timezone.utc)
        rid = store.add_reminder(db, kind="reminder", platform="line", owner="Ukill", target="Ukill", is_group=False,
                                 title="ケース会議の資料", due=now + timedelta(seconds=10), recurrence=None,
                                 asked=True, now=now)
        os.kill(first, signal.SIGKILL)  # its lease row stays behind, unexpired
        assert wait_for(lambda: nimo.worker() not in (None, first), timeout=30)
        assert line.wait_for(lambda l: any(d["kind"] == "push" for d in l.delivered), timeout=120)
        assert wait_for(lambda: store.get(db, rid).status == "done", timeout=30)
        assert _holder(db) not in (None, dead)  # the new worker runs the scheduler
        assert wait_for(lambda: nimo.ready()["ready"], timeout=30)
    pushes = [d for d in line.delivered if d["kind"] == "push"]
    assert len(pushes) == 1 and pushes[0]["to"] == "Ukill"
    assert "ケース会議の資料" in pushes[0]["messages"][0]["text"]
    assert db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall() == [("sent", 1)]
    assert line.errors == []


def test_readyz_is_503_with_the_reason_while_nobody_runs_the_scheduler_and_200_once_held(tmp_path):
    with LineStandIn() as line, _no_worker(_env(tmp_path, line)) as web:
        status, _ = get(web.port, "/readyz")
        report = web.ready()
        assert status == 503 and report["scheduler_running"] is False
        assert "no_scheduler" in report["problem_keys"] and messages.STATUS_NO_SCHEDULER in report["problems"]
        worker = _worker(web.env)
        try:
            assert wait_for(lambda: get(web.port, "/readyz")[0] == 200, timeout=60)
            report = web.ready()
            assert report["scheduler_running"] is True and report["problems"] == []
            worker.send_signal(signal.SIGTERM)  # a clean stop hands the lease back
            assert worker.wait(15) == 0
        finally:
            _end(worker)
        status, _ = get(web.port, "/readyz")
        report = web.ready()
        assert status == 503 and report["scheduler_running"] is False
        assert messages.STATUS_NO_SCHEDULER in report["problems"]
