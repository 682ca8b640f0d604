"""Reminder engine: restore at start with 10,000 later reminders in the table, then fire 1,000 due at
the same instant at the LINE stand-in.  Prints restore time (beside a plain read of the same rows),
and p50 / p95 lateness after the due time beside a baseline measured in the same run: the same 1,000
pushes sent straight from a 20-thread pool (no scheduler, no database), once before and once after
the engine's burst, with the very messages the engine sends (their mean p95 is the baseline, so a
load change on the machine during the run weighs on both sides).  Duplicates and losses are counted
at the stand-in and in the database.  Never run as a test.

    python benchmarks/bench_reminders.py [--due 1000] [--later 10000] [--json]

``--json`` prints one JSON object instead of the tables.  Every thread has its own SQLite
connection: the engine opens its own from the file's path; this script's connection is used by the
main thread only.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.adapters.line import LineMessenger, LinePusher  # noqa: E402
from bot.db import open_db  # noqa: E402
from scheduler import store  # noqa: E402
from scheduler.replies import reminder_replies  # noqa: E402
from scheduler.service import ReminderService  # noqa: E402
from tests.fakes import LineStandIn  # noqa: E402

THREADS = 20
LEAD = timedelta(seconds=8)  # the burst falls due this long after the engine is asked to start


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


def same_messages(db, n, due_at):
    """What the engine sends for the burst's reminders (text, buttons, date picker), built ahead."""
    rs = [store.Reminder(i + 1, "reminder", "line", f"B{i}", f"B{i}", False, f"同じ時刻 {i}", due_at, None, True,
                         "active", None, None) for i in range(n)]
    return [reminder_replies(db, r, late=False) for r in rs]


def baseline(line, msgs):
    """Lateness of the same pushes sent straight from a pool of the engine's size, from the start."""
    n = len(msgs)
    direct = Timed(LineMessenger(access_token=line.access_token, base_url=line.url))
    start = time.time()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda i: direct.push(f"B{i}", msgs[i], f"base:{i}"), range(n)))
    lat = [t - start for t in direct.done.values()]
    line.reset()
    return lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--due", type=int, default=1000)
    ap.add_argument("--later", type=int, default=10000)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    db = open_db(tmp / "bench.db")
    t0 = now()
    with db.conn:
        for i in range(a.later):  # spread over the next 30 days
            store.add_reminder(db, kind="reminder", platform="line", owner=f"U{i % 300}", target=f"U{i % 300}",
                               is_group=False, title=f"予定 {i}", due=t0 + timedelta(days=1, minutes=i * 4),
                               recurrence=None, asked=True, now=t0)
    with LineStandIn() as line:
        msgs = same_messages(db, a.due, t0)
        base_before = baseline(line, msgs)

        due_at = (now() + LEAD).replace(microsecond=0)
        with db.conn:
            for i in range(a.due):
                store.add_reminder(db, kind="reminder", platform="line", owner=f"V{i}", target=f"V{i}",
                                   is_group=False, title=f"同じ時刻 {i}", due=due_at, recurrence=None, asked=True,
                                   now=now())
        t = time.perf_counter()
        rows = db.execute("SELECT * FROM reminders WHERE status = 'active'").fetchall()
        read_s = time.perf_counter() - t
        pusher = Timed(LineMessenger(access_token=line.access_token, base_url=line.url))
        svc = ReminderService(tmp / "bench.db", {"line": pusher}, clock=now, threads=THREADS)
        t = time.perf_counter()
        svc.start()
        restore_s = time.perf_counter() - t
        started_before_due = now() < due_at
        jobs = len(svc.sched.get_jobs())
        try:
            deadline = time.time() + 120
            while len(pusher.done) < a.due and time.time() < deadline:
                time.sleep(0.1)
            time.sleep(2)
        finally:
            svc.stop()
        due_ts = due_at.timestamp()
        lat = [t - due_ts for t in pusher.done.values()]
        keys = [r["headers"].get("X-Line-Retry-Key") for r in line.requests if r["path"].endswith("/push")]
        targets = [d["to"] for d in line.delivered if d["kind"] == "push"]

        base_after = baseline(line, msgs)
    dup = len(targets) - len(set(targets))
    lost = a.due - len(set(targets))
    db_sent = db.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'").fetchone()[0]
    db_left = db.execute("SELECT COUNT(*) FROM reminders WHERE status = 'active' AND due_at <= ?",
                         [store.utc(due_at)]).fetchone()[0]
    p95 = pct(lat, 95) if lat else float("nan")
    base_p95 = (pct(base_before, 95) + pct(base_after, 95)) / 2
    figures = {
        "due": a.due, "later": a.later, "threads": THREADS,
        "restore_s": round(restore_s, 3), "plain_read_s": round(read_s, 3), "jobs_after_start": jobs,
        "started_before_due": started_before_due,
        "p50_s": round(pct(lat, 50), 3) if lat else None, "p95_s": round(p95, 3),
        "max_s": round(max(lat), 3) if lat else None,
        "baseline_p50_s": round((pct(base_before, 50) + pct(base_after, 50)) / 2, 3),
        "baseline_p95_s": round(base_p95, 3),
        "baseline_p95_before_s": round(pct(base_before, 95), 3),
        "baseline_p95_after_s": round(pct(base_after, 95), 3),
        "ratio": round(p95 / base_p95, 3),
        "delivered": len(set(targets)), "duplicated": dup, "lost": lost, "push_requests": len(keys),
        "db_sent": db_sent, "db_still_due": db_left,
    }
    if a.json:
        print(json.dumps(figures))
        return
    f = figures
    print(f"Reminder engine: {a.later:,} later reminders + {a.due:,} due at the same instant, LINE stand-in\n")
    print("| restore at start | rows | jobs | seconds | plain read of the rows, s | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| ReminderService.start() | {len(rows):,} | {jobs:,} | {restore_s:.2f} | {read_s:.2f} | "
          f"{restore_s / read_s:.1f} |\n")
    print(f"| sending {a.due:,} | p50 s | p95 s | max s |")
    print("|---|---:|---:|---:|")
    print(f"| by the engine, lateness after the due time | {f['p50_s']:.2f} | {f['p95_s']:.2f} | {f['max_s']:.2f} |")
    print(f"| straight from a {THREADS}-thread pool, before the engine | {pct(base_before, 50):.2f} | "
          f"{pct(base_before, 95):.2f} | {max(base_before):.2f} |")
    print(f"| straight from a {THREADS}-thread pool, after the engine | {pct(base_after, 50):.2f} | "
          f"{pct(base_after, 95):.2f} | {max(base_after):.2f} |")
    print(f"\nratio of p95 to the baseline (mean of both): {f['ratio']:.2f}; delivered {f['delivered']}, "
          f"duplicated {dup}, lost {lost}; push requests {len(keys)}; in the database: sent {db_sent}, "
          f"still due {db_left}; started before the due time: {started_before_due}")


if __name__ == "__main__":
    main()
