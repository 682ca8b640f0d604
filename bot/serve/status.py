"""How the service is doing, for ``/readyz`` and ``nimo status``: cheap reads, no personal data.

``/healthz`` only says the web process answers; this says whether answers will follow: the
database takes writes, a worker's heartbeat is fresh, a live process holds the scheduler lease
(without one no reminder goes, so Nimo is not ready), how many events wait in the inbox, and the
last failed delivery (its platform and time, never its target).  ``problems`` says in Japanese
why it is not ready (``problem_keys``: the same as stable keys).
"""
from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from typing import Callable

from bot import messages
from storage.connections import file_of
from storage.failures import storage_failure
from bot.serve.inbox import ALIVE

STALE_HEARTBEAT_S = ALIVE.total_seconds()
PROBE_TIMEOUT_MS = 2000        # /readyz waits at most this for another process's write lock
MIN_FREE_BYTES = 64 * 1024 * 1024  # below this the next burst of reports and photos may not fit
OWN_ROWS = ("database", "readyz_probe")  # rows of health that are not a platform's


def database_problem(db, now: datetime) -> str | None:
    """Whether the database takes a write now: a real write of a probe row, committed, waiting at
    most ``PROBE_TIMEOUT_MS`` for a lock; then free space, and damage a worker met while answering.
    None when it does, else the reason in a word ('locked', 'disk full', 'low disk', 'damaged')."""
    old = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.execute(f"PRAGMA busy_timeout = {PROBE_TIMEOUT_MS}")
    try:
        db.execute("INSERT INTO health (name, ok, detail, checked_at) VALUES ('readyz_probe', 1, NULL, ?) "
                   "ON CONFLICT (name) DO UPDATE SET checked_at = excluded.checked_at",
                   [now.astimezone(timezone.utc).isoformat()])
        damaged = db.execute("SELECT 1 FROM health WHERE name = 'database' AND ok = 0").fetchone()
    except sqlite3.Error as e:
        return storage_failure(e)
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(old)}")
    if damaged:
        return "damaged"
    path = file_of(db)
    if path:
        fs = os.statvfs(os.path.dirname(path))
        if fs.f_bavail * fs.f_frsize < MIN_FREE_BYTES:
            return "low disk"
    return None


def _age(now: datetime, iso: str | None) -> float | None:
    if not iso:
        return None
    t = datetime.fromisoformat(iso)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return round((now - t).total_seconds(), 1)


def readiness(db, clock: Callable[[], datetime]) -> dict:
    now = clock()
    out: dict = {"ready": False}
    problem = database_problem(db, now)
    out["database_writable"] = problem is None
    if problem is not None:
        out["database_error"] = problem
        out["problem_keys"] = ["database"]
        out["problems"] = [messages.status_database(problem)]
        return out
    # A heartbeat row holds the time it runs out; the beat was ALIVE before that.
    beat = db.execute("SELECT MAX(expires_at) FROM leases WHERE name LIKE 'worker:%'").fetchone()[0]
    age = _age(now, beat)
    out["worker_heartbeat_age_s"] = None if age is None else round(age + STALE_HEARTBEAT_S, 1)
    lease = db.execute("SELECT holder, expires_at FROM leases WHERE name = 'scheduler'").fetchone()
    out["scheduler"] = ({"holder": lease[0][:8], "expires_in_s": -_age(now, lease[1])} if lease else None)
    # The lease is renewed every few seconds by the process that runs the reminders; a row that
    # ran out was left by a process that died (or stopped) and nobody has taken it over yet.
    out["scheduler_running"] = bool(out["scheduler"] and out["scheduler"]["expires_in_s"] > 0)
    out["inbox_backlog"] = db.execute("SELECT COUNT(*) FROM inbox WHERE status IN ('new', 'working')").fetchone()[0]
    out["inbox_failed"] = db.execute("SELECT COUNT(*) FROM inbox WHERE status = 'failed'").fetchone()[0]
    failed = db.execute("SELECT platform, created_at FROM deliveries WHERE status = 'failed' "
                        "ORDER BY created_at DESC LIMIT 1").fetchone()
    out["last_delivery_failure"] = {"platform": failed[0], "at": failed[1]} if failed else None
    from bot.serve.delivery import last_failure  # what a platform's API answered: platform, path, status, attempt
    api_failure = last_failure(db)
    if api_failure is not None and (failed is None or api_failure["at"] >= failed[1]):
        out["last_delivery_failure"] = api_failure
    out["platforms"] = {name: {"ok": bool(ok), "detail": detail, "checked_at": at}
                        for name, ok, detail, at in db.execute("SELECT name, ok, detail, checked_at FROM health")
                        if name not in OWN_ROWS}
    worker_alive = out["worker_heartbeat_age_s"] is not None and out["worker_heartbeat_age_s"] <= STALE_HEARTBEAT_S
    # why not ready: a stable key for scripts, and the words for the operator
    why = [(key, text) for key, text, ok in (("no_worker", messages.STATUS_NO_WORKER, worker_alive),
                                             ("no_scheduler", messages.STATUS_NO_SCHEDULER, out["scheduler_running"]))
           if not ok]
    out["problem_keys"] = [k for k, _ in why]
    out["problems"] = [t for _, t in why]
    out["ready"] = not why
    return out


def record(db, name: str, ok: bool, detail: str | None, now: datetime) -> None:
    """What a worker last heard from a platform's API (``detail`` is a kind of error, not text)."""
    db.execute("INSERT INTO health (name, ok, detail, checked_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) "
               "DO UPDATE SET ok = excluded.ok, detail = excluded.detail, checked_at = excluded.checked_at",
               [name, int(ok), detail, now.astimezone(timezone.utc).isoformat()])
