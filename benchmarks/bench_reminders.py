"""Reminder engine: restore at start with 10,000 later reminders in the table, then fire 1,000 due at
the same instant at the LINE stand-in.  Prints restore time (beside a plain read of the rows), and
p50 / p95 lateness after the due time beside a baseline measured in the same run: the same 1,000
pushes, with the very messages the engine sends, straight from a 20-thread pool (no scheduler, no
database).  Baseline and engine bursts alternate for ``--rounds`` rounds and the medians are
compared, so that a change of load on a shared machine weighs on both sides.  Duplicates and losses
are counted at the stand-in and in the database, for every round.  Never run as a test.

    python benchmarks/bench_reminders.py [--due 1000] [--later 10000] [--rounds 3] [--json]
    python benchmarks/bench_reminders.py --smoke   # 30 due, 100 later, 1 round: for CI

The exit status is 1 when a reminder is lost or sent twice, one is still due after its burst, a
baseline push fails, or the stand-in refuses a request; lateness is reported, not judged.
``--json`` prints one JSON object instead of the tables.  Every thread has its own SQLite
connection: the engine opens its own from the file's path; this script's connection is used by the
main thread only.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.chat import reminder_texts  # noqa: E402
from bot.adapters.line import LineMessenger, LinePusher  # noqa: E402
from storage.connections import open_db  # noqa: E402
from scheduler import store  # noqa: E402
from bot.chat.reminder_texts import reminder_replies  # noqa: E402
from scheduler.service import ReminderService  # noqa: E402
from tests.fakes import LineStandIn  # noqa: E402

THREADS = 20
LEAD = timedelta(seconds=4)  # the burst falls due this long after the engine is asked to start


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
        if ok:  # a refused push is not a delivery, however quick
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
    errors = len(line.errors)
    line.reset()
    return lat, errors


def engine_burst(path, db, line, n, rnd):
    """``n`` reminders due at one instant, a fresh engine started just before it; what arrived."""
    due_at = (now() + LEAD).replace(microsecond=0)
    with db.conn:
        for i in range(n):
            store.add_reminder(db, kind="reminder", platform="line", owner=f"V{rnd}-{i}", target=f"V{rnd}-{i}",
                               is_group=False, title=f"同じ時刻 {i}", due=due_at, recurrence=None, asked=True,
                               now=now())
    t = time.perf_counter()
    rows = db.execute("SELECT * FROM reminders WHERE status = 'active'").fetchall()
    read_s = time.perf_counter() - t
    pusher = Timed(LineMessenger(access_token=line.access_token, base_url=line.url))
    svc = ReminderService(path, {"line": pusher}, reminder_texts, clock=now, threads=THREADS)
    try:
        t = time.perf_counter()
        svc.start()
        restore_s = time.perf_counter() - t
        started_before_due = now() < due_at
        jobs = len(svc.sched.get_jobs())
        deadline = time.time() + 120
        while len(pusher.done) < n and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(2)  # anything sent twice would arrive now
    finally:
        svc.stop()
    targets = [d["to"] for d in line.delivered if d["kind"] == "push"]
    pushes = sum(r["path"].endswith("/push") for r in line.requests)
    errors = len(line.errors)
    line.reset()
    still_due = db.execute("SELECT COUNT(*) FROM reminders WHERE status = 'active' AND due_at <= ?",
                           [store.utc(due_at)]).fetchone()[0]
    return {"lat": [t - due_at.timestamp() for t in pusher.done.values()], "rows": len(rows), "read_s": read_s,
            "restore_s": restore_s, "started_before_due": started_before_due, "jobs": jobs,
            "delivered": len(set(targets)), "duplicated": len(targets) - len(set(targets)),
            "lost": n - len(set(targets)), "push_requests": pushes, "still_due": still_due, "errors": errors}


def med(xs):
    return statistics.median(xs)


def failures(f: dict) -> list[str]:
    from benchmarks import absent
    why = [f"{f[k]} reminders {what}" for k, what in (("lost", "lost"), ("duplicated", "sent twice"),
                                                       ("db_still_due", "still due after their burst"))
           if f[k]]
    if f["db_sent"] != f["due"] * f["rounds"]:
        why.append(f"{f['db_sent']} deliveries recorded as sent of {f['due'] * f['rounds']}")
    if f["baseline_lost"]:
        why.append(f"{f['baseline_lost']} baseline pushes not accepted")
    if f["standin_errors"]:
        why.append(f"{f['standin_errors']} requests the LINE stand-in refused as invalid")
    return why + absent(f, "restore_s", "p50_s", "p95_s", "baseline_p50_s", "baseline_p95_s", "ratio")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--due", type=int, default=1000)
    ap.add_argument("--later", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3, help="baseline and engine bursts, alternating")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    ap.add_argument("--smoke", action="store_true", help="30 due, 100 later, 1 round (for CI)")
    a = ap.parse_args()
    if a.smoke:
        a.due, a.later, a.rounds = 30, 100, 1
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "bench.db"
    db = open_db(path)
    t0 = now()
    with db.conn:
        for i in range(a.later):  # spread over the next 30 days
            store.add_reminder(db, kind="reminder", platform="line", owner=f"U{i % 300}", target=f"U{i % 300}",
                               is_group=False, title=f"予定 {i}", due=t0 + timedelta(days=1, minutes=i * 4),
                               recurrence=None, asked=True, now=t0)
    bases, bursts, base_errors = [], [], 0
    with LineStandIn() as line:
        msgs = same_messages(db, a.due, t0)
        for rnd in range(a.rounds):
            lat, errors = baseline(line, msgs)
            bases.append(lat)
            base_errors += errors
            bursts.append(engine_burst(path, db, line, a.due, rnd))
    db_sent = db.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'").fetchone()[0]
    p95s = [pct(b["lat"], 95) if b["lat"] else float("nan") for b in bursts]
    base_p95s = [pct(x, 95) for x in bases]
    f = {
        "due": a.due, "later": a.later, "threads": THREADS, "rounds": a.rounds,
        "restore_s": round(med([b["restore_s"] for b in bursts]), 3),
        "plain_read_s": round(med([b["read_s"] for b in bursts]), 3),
        "jobs_after_start": bursts[0]["jobs"],
        "started_before_due": all(b["started_before_due"] for b in bursts),
        "p50_s": round(med([pct(b["lat"], 50) for b in bursts if b["lat"]] or [float("nan")]), 3),
        "p95_s": round(med(p95s), 3),
        "max_s": round(max((max(b["lat"]) for b in bursts if b["lat"]), default=float("nan")), 3),
        "baseline_p50_s": round(med([pct(x, 50) for x in bases]), 3),
        "baseline_p95_s": round(med(base_p95s), 3),
        "ratio": round(med(p95s) / med(base_p95s), 3),
        "p95_by_round_s": [round(x, 3) for x in p95s],
        "baseline_p95_by_round_s": [round(x, 3) for x in base_p95s],
        "delivered": sum(b["delivered"] for b in bursts), "duplicated": sum(b["duplicated"] for b in bursts),
        "lost": sum(b["lost"] for b in bursts), "push_requests": sum(b["push_requests"] for b in bursts),
        "db_sent": db_sent, "db_still_due": sum(b["still_due"] for b in bursts),
        "baseline_lost": sum(a.due - len(x) for x in bases),
        "standin_errors": base_errors + sum(b["errors"] for b in bursts),
    }
    from benchmarks import verdict
    if a.json:
        print(json.dumps(f))
        return verdict(failures(f))
    b0 = bursts[0]
    print(f"Reminder engine: {a.later:,} later reminders + {a.due:,} due at the same instant, LINE stand-in, "
          f"{a.rounds} rounds (baseline, then engine)\n")
    print("| restore at start (round 1) | rows | jobs | seconds | plain read of the rows, s |")
    print("|---|---:|---:|---:|---:|")
    print(f"| ReminderService.start() | {b0['rows']:,} | {b0['jobs']:,} | {b0['restore_s']:.3f} | "
          f"{b0['read_s']:.3f} |\n")
    print("| round | engine p50 s | engine p95 s | baseline p50 s | baseline p95 s | delivered | duplicated | lost |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k, (b, x) in enumerate(zip(bursts, bases), start=1):
        print(f"| {k} | {pct(b['lat'], 50):.2f} | {pct(b['lat'], 95):.2f} | {pct(x, 50):.2f} | {pct(x, 95):.2f} | "
              f"{b['delivered']} | {b['duplicated']} | {b['lost']} |")
    print(f"\nmedian p95: engine {f['p95_s']:.2f} s, baseline {f['baseline_p95_s']:.2f} s, ratio {f['ratio']:.2f}; "
          f"delivered {f['delivered']}, duplicated {f['duplicated']}, lost {f['lost']}; push requests "
          f"{f['push_requests']}; in the database: sent {db_sent}, still due {f['db_still_due']}; "
          f"every start before its due time: {f['started_before_due']}")
    return verdict(failures(f))


if __name__ == "__main__":
    sys.exit(main())
