"""Reminder engine: restore 10,000 reminders at start, then fire 1,000 due at the same instant at the
LINE stand-in.  Prints restore time (beside a plain read of the same rows), and p50 / p95 lateness
(beside the same 1,000 pushes sent straight from a thread pool, no scheduler, no database), with
duplicates and losses counted at the stand-in.  Never run as a test.

    python benchmarks/bench_reminders.py [--due 1000] [--later 10000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.adapters.line import LineMessenger, LinePusher  # noqa: E402
from bot.core import Choice, Text  # noqa: E402
from bot.db import open_db  # noqa: E402
from scheduler import store  # noqa: E402
from scheduler.service import ReminderService  # noqa: E402
from tests.fakes import LineStandIn  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class Timed(LinePusher):
    """Records when each push was accepted, to measure lateness against the due time."""

    def __init__(self, messenger):
        super().__init__(messenger)
        self.done: dict[str, float] = {}

    def push(self, target, replies, key):
        ok = super().push(target, replies, key)
        self.done[key] = time.time()
        return ok


def now():
    return datetime.now(timezone.utc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--due", type=int, default=1000)
    ap.add_argument("--later", type=int, default=10000)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    db = open_db(tmp / "bench.db")
    t0 = now()
    with db.conn:
        for i in range(a.later):  # spread over the next 30 days
            store.add_reminder(db, kind="reminder", platform="line", owner=f"U{i % 300}", target=f"U{i % 300}",
                               is_group=False, title=f"予定 {i}", due=t0 + timedelta(days=1, minutes=i * 4),
                               recurrence=None, asked=True, now=t0)
    due_at = (t0 + timedelta(seconds=20)).replace(microsecond=0)
    for i in range(a.due):
        store.add_reminder(db, kind="reminder", platform="line", owner=f"V{i}", target=f"V{i}", is_group=False,
                           title=f"同じ時刻 {i}", due=due_at, recurrence=None, asked=True, now=t0)
    with LineStandIn() as line:
        # Baseline: the same pushes straight from a pool of the engine's size.
        direct = Timed(LineMessenger(access_token=line.access_token, base_url=line.url))
        msgs = [Text(f"⏰ リマインド\n同じ時刻 {i}", (Choice("完了", f"完了 #{i}"),)) for i in range(a.due)]
        start = time.time()
        with ThreadPoolExecutor(20) as pool:
            list(pool.map(lambda i: direct.push(f"B{i}", [msgs[i]], f"base:{i}"), range(a.due)))
        base_lat = [t - start for t in direct.done.values()]
        line.reset()

        t = time.perf_counter()
        rows = db.execute("SELECT * FROM reminders WHERE status = 'active'").fetchall()
        read_s = time.perf_counter() - t
        pusher = Timed(LineMessenger(access_token=line.access_token, base_url=line.url))
        svc = ReminderService(open_db(tmp / "bench.db"), {"line": pusher}, clock=now)
        t = time.perf_counter()
        svc.start()
        restore_s = time.perf_counter() - t
        jobs = len(svc.sched.get_jobs())
        deadline = time.time() + 120
        while len(pusher.done) < a.due and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(2)
        svc.stop()
        due_ts = due_at.timestamp()
        lat = [t - due_ts for t in pusher.done.values()]
        keys = [r["headers"].get("X-Line-Retry-Key") for r in line.requests if r["path"].endswith("/push")]
        delivered = [d for d in line.delivered if d["kind"] == "push"]
        targets = [d["to"] for d in delivered]
    dup = len(targets) - len(set(targets))
    lost = a.due - len(set(targets))
    print(f"Reminder engine: {a.later:,} later reminders + {a.due:,} due at the same instant, LINE stand-in\n")
    print("| restore at start | rows | jobs | seconds | plain read of the rows, s | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| ReminderService.start() | {len(rows):,} | {jobs:,} | {restore_s:.2f} | {read_s:.2f} | {restore_s / read_s:.1f} |\n")
    print("| sending 1,000 | p50 s | p95 s | max s |")
    print("|---|---:|---:|---:|")
    print(f"| by the engine, lateness after the due time | {pct(lat, 50):.2f} | {pct(lat, 95):.2f} | {max(lat):.2f} |")
    print(f"| straight from a 20-thread pool (baseline) | {pct(base_lat, 50):.2f} | {pct(base_lat, 95):.2f} | {max(base_lat):.2f} |")
    print(f"\nratio of p95 to baseline: {pct(lat, 95) / pct(base_lat, 95):.2f}; "
          f"delivered {len(set(targets))}, duplicated {dup}, lost {lost}; push requests {len(keys)}")


if __name__ == "__main__":
    main()
