"""Faults while Nimo works: the worker SIGKILLed at random moments, the wall clock stepped back and
forward, and the database locked by another process for 40 s — during a burst of signed LINE
webhooks (questions and one-line reports) with reminders coming due.

``nimo serve`` runs as a real process group (its web process and the ``nimo worker`` it restarts),
answering a LINE stand-in in this process.  Users post questions and reports (「報告 … 」 then
「確定」) as LINE does: a webhook answered with anything but 200 is delivered again, marked as a
redelivery, with the same ``webhookEventId``.  Reminders to group chats fall due every few seconds.
The server's clock is moved with libfaketime (a timestamp file it re-reads every second; sleeps and
the monotonic clock stay real); a reminder's lateness is counted from the moment the server's clock
first showed its due time (a time a forward step jumps over is due at the step).

Prints how many reports were stored (each exactly once), questions answered (each exactly once),
reminders sent (each exactly once, and how late), and the longest time without a scheduler: from a
kill of the worker holding the scheduler lease to the moment another process holds it.  Reminders
due while the database was locked are counted but kept out of the lateness limit (they cannot be
on time).  ``--json`` prints the same as one object, and
the exit status is 1 when anything was lost or doubled, nothing was sent or due at all, a kill
found no worker, the scheduler was never taken over after a kill, or (at full size only: CI's
machine is shared and noisy) a reminder was more than 90 s late.

    python benchmarks/bench_faults.py [--kills 20] [--lock 40] [--step 300] [--users 6] [--seed 1] [--json]
    python benchmarks/bench_faults.py --smoke     # 2 kills, a 3 s lock, 20 s steps, about 30 s: for CI

Every process it starts is in one process group, ended (SIGTERM, then SIGKILL) however the run ends.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import LineStandIn, line_signature  # noqa: E402
from tests.procs import children, free_port  # noqa: E402

SECRET = "bench-faults-secret"
LATE_LIMIT = 90.0
FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
SHIM = ROOT.parent / "shared" / "tools" / "sleep-shim.c"
QUESTIONS = ["住まいの確保", "家族教室の進め方", "ピアサポーターの活用", "アウトリーチ支援", "措置入院の退院後支援",
             "協議の場の運営", "民生委員との連携"]


class TimedLine(LineStandIn):
    """The LINE stand-in, validating as always, noting the real time it accepted each delivery."""

    def _deliver(self, *args, **kwargs):
        sent = super()._deliver(*args, **kwargs)
        self.delivered[-1]["at"] = time.time()  # under the stand-in's lock, like the append
        return sent


class ServerClock:
    """The offset of the server's wall clock from the real one, moved through libfaketime's file."""

    def __init__(self, folder: Path):
        self.file = folder / "faketime"
        self.file.write_text("+0\n")
        self.steps: list[tuple[float, float]] = [(0.0, 0.0)]  # (real time, offset from then on)
        self.on = FAKETIME.exists() and SHIM.exists()
        self.env: dict = {}
        if self.on:
            shim = folder / "sleep-shim.so"
            if subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(shim), str(SHIM)]).returncode != 0:
                self.on = False
            else:
                # The shim makes sleeps call the kernel directly (see ../shared/tools/at-instant).
                self.env = {"LD_PRELOAD": f"{shim} {FAKETIME}", "FAKETIME_TIMESTAMP_FILE": str(self.file),
                            "FAKETIME_CACHE_DURATION": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}

    def step(self, seconds: float) -> None:
        offset = self.steps[-1][1] + seconds
        self.file.write_text(f"{offset:+.0f}\n")
        time.sleep(1.2)  # the server re-reads the file every second: from now on it has the new time
        self.steps.append((time.time(), offset))

    def offset_at(self, real: float) -> float:
        return [o for t, o in self.steps if t <= real][-1]

    def server(self, real: float) -> float:
        return real + self.offset_at(real)

    def first_reach(self, server_time: float, since: float = 0.0) -> float:
        """The real time at which the server's clock first showed ``server_time`` after ``since``
        (when the reminder was made): at a forward step for a time it jumped over, at ``since`` for
        one already past then; the first time for one a backward step showed twice."""
        bounds = self.steps[1:] + [(float("inf"), None)]
        for (start, offset), (end, _) in zip(self.steps, bounds):
            if end <= since:
                continue
            begin = max(start, since)
            if server_time < begin + offset:
                return begin  # behind the clock from the start of this stretch
            if server_time < end + offset:
                return server_time - offset
        return float("inf")


def post(port: int, body: bytes) -> int:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/line/webhook", body=body, headers={
            "Content-Type": "application/json; charset=utf-8", "X-Line-Signature": line_signature(body, SECRET)})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except OSError:
        return 0


def line_event(user: str, n: int, text: str, redelivery: bool) -> bytes:
    ev = {"type": "message", "mode": "active", "timestamp": 1764000000000 + n,
          "source": {"type": "user", "userId": user}, "webhookEventId": f"01FAULT{n:019d}",
          "deliveryContext": {"isRedelivery": redelivery}, "replyToken": f"rt-{n}",
          "message": {"id": str(n), "type": "text", "quoteToken": "q", "text": text}}
    return json.dumps({"destination": "Ubot", "events": [ev]}, ensure_ascii=False).encode()


class Users:
    """Field staff posting to LINE: each waits for its webhook to be acknowledged (redelivering as
    LINE does, at most for ``patience`` seconds), then sends the next."""

    def __init__(self, port: int, n: int, rng: random.Random):
        self.port = port
        self.ids = [f"U{'f' * 28}{i:04d}" for i in range(n)]
        self.rng = rng
        self.lock = threading.Lock()
        self.counter = 0
        self.events: dict[int, dict] = {}     # n -> {"user", "kind", "acked"}
        self.reports: dict[str, str] = {}     # marker -> user, for every 確定 acknowledged
        self.redeliveries = 0
        self.stop = threading.Event()

    def _next(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def send(self, user: str, text: str, kind: str) -> bool:
        n = self._next()
        self.events[n] = {"user": user, "kind": kind, "acked": False}
        deadline = time.monotonic() + 600
        redelivery = False
        while time.monotonic() < deadline:
            if post(self.port, line_event(user, n, text, redelivery)) == 200:
                self.events[n]["acked"] = True
                return True
            redelivery = True
            with self.lock:
                self.redeliveries += 1
            time.sleep(2.0)
        return False

    def run(self, user: str) -> None:
        k = 0
        while not self.stop.is_set():
            k += 1
            if self.rng.random() < 0.4:
                marker = f"{user[-2:]}号{k}件目"
                if self.send(user, f"報告 訪問 K-{k % 90 + 10:03d} 服薬確認できた。表情明るい。{marker}", "report"):
                    time.sleep(self.rng.uniform(0.3, 1.0))
                    if self.send(user, "確定", "report"):
                        self.reports[marker] = user
            else:
                self.send(user, self.rng.choice(QUESTIONS), "question")
            self.stop.wait(self.rng.uniform(0.5, 2.0))


# -- processes ----------------------------------------------------------------------------------
def get(port: int, path: str) -> tuple[int, dict]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    try:
        return r.status, json.loads(body)
    except ValueError:
        return r.status, {}


def wait(cond, timeout: float, step: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def read(db_path: Path, sql: str, params=()) -> list:
    """A short read on a connection of its own (the run's own lock must not block it: WAL)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class LeaseWatch(threading.Thread):
    """Notes every change of the scheduler lease's holder (and when), four times a second."""

    def __init__(self, db_path: Path):
        super().__init__(daemon=True, name="lease-watch")
        self.db_path = db_path
        self.changes: list[tuple[float, str | None]] = []
        self.stop = threading.Event()

    def holder(self) -> str | None:
        try:
            rows = read(self.db_path, "SELECT holder FROM leases WHERE name = 'scheduler'")
        except sqlite3.Error:
            return self.changes[-1][1] if self.changes else None
        return rows[0][0] if rows else None

    def run(self) -> None:
        while not self.stop.wait(0.25):
            h = self.holder()
            if not self.changes or self.changes[-1][1] != h:
                self.changes.append((time.time(), h))


def setup_db(db_path: Path, users: list[str], now: datetime) -> None:
    from bot.people.access import add_user
    from storage.connections import open_db
    db = open_db(db_path)
    for u in users:
        add_user(db, "line", u, "staff", "千葉市", now)
    db.conn.close()


def add_reminders(db_path: Path, due: list[datetime], now: datetime, first: int) -> list[tuple[str, datetime, float]]:
    """Reminders to group chats (so their pushes are told apart from the users' answers), each with a
    title that names it; their (title, due in server time, real time made)."""
    from storage.connections import open_db
    from scheduler import store
    db = open_db(db_path)
    out = []
    for i, d in enumerate(due, start=first):
        title = f"定例確認{i}番"
        store.add_reminder(db, kind="reminder", platform="line", owner="Ufffffffffffffffffffffffffff0000",
                           target=f"C{'e' * 28}{i:04d}", is_group=True, title=title, due=d,
                           recurrence=None, asked=True, now=now)
        out.append((title, d, time.time()))
    db.conn.close()
    return out


def stop_group(proc: subprocess.Popen) -> None:
    for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait_s)
            if not children(proc.pid):
                return
        except subprocess.TimeoutExpired:
            continue


# -- the run ------------------------------------------------------------------------------------
def run(args) -> dict:
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="nimo-faults-"))
    db_path = folder / "nimo.db"
    clock = ServerClock(folder)
    line = TimedLine().start()
    port = free_port()
    users = Users(port, args.users, rng)
    setup_db(db_path, users.ids, datetime.now(timezone.utc))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "SLACK_", "NIMO_", "LINEWORKS_"))}
    env.update(NIMO_DB=str(db_path), LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=line.access_token,
               LINE_API_BASE_URL=line.url, PYTHONIOENCODING="utf-8", **clock.env)
    log = open(folder / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    watch = LeaseWatch(db_path)
    kills: list[tuple[float, str | None]] = []
    lock_window = None
    reminders: list[tuple[str, datetime, float]] = []
    try:
        if not wait(lambda: _healthy(port), 60):
            raise RuntimeError("nimo serve did not start")
        wait(lambda: watch.holder() is not None, 60)
        watch.start()
        t0 = time.time()
        span = args.kills * args.gap + args.lock + args.tail
        due = [datetime.fromtimestamp(clock.server(t0) + args.lead + i * args.every, timezone.utc)
               for i in range(int(span / args.every))]
        reminders += add_reminders(db_path, due, datetime.now(timezone.utc), 1)
        threads = [threading.Thread(target=users.run, args=(u,), daemon=True) for u in users.ids]
        for t in threads:
            t.start()
        plan = sorted([("kill", None)] * args.kills + [("lock", None), ("back", None), ("forward", None)],
                      key=lambda _: rng.random())
        for what, _ in plan:
            time.sleep(rng.uniform(args.gap * 0.5, args.gap * 1.5))
            if what == "kill":
                worker = next(iter(children(proc.pid)), None)
                if worker is None:
                    wait(lambda: bool(children(proc.pid)), 90)
                    worker = next(iter(children(proc.pid)), None)
                if worker is not None:
                    kills.append((time.time(), watch.holder()))
                    os.kill(worker, signal.SIGKILL)
                    wait(lambda: any(k != worker for k in children(proc.pid)), 90)  # its successor is up
            elif what == "lock":
                conn = sqlite3.connect(str(db_path), timeout=30, isolation_level=None)
                conn.execute("BEGIN IMMEDIATE")
                start = time.time()
                time.sleep(args.lock)
                conn.execute("ROLLBACK")
                conn.close()
                lock_window = (start, time.time())
            elif clock.on:
                clock.step(-args.step if what == "back" else args.step)
                # a reminder made after the step: it must come on the clock the server now has
                soon = datetime.fromtimestamp(clock.server(time.time()) + args.after_step, timezone.utc)
                reminders += add_reminders(db_path, [soon], datetime.fromtimestamp(clock.server(time.time()),
                                                                                     timezone.utc), 10_000 + len(clock.steps))
        users.stop.set()
        for t in threads:
            t.join(660)
        last_due = max(d for _, d, _ in reminders).timestamp()
        wait(lambda: clock.server(time.time()) > last_due + 5 and _settled(db_path), 300, 1.0)
        ready = get(port, "/readyz")
    finally:
        watch.stop.set()
        stop_group(proc)
        line.stop()
        log.close()
    return figures(args, db_path, line, users, reminders, kills, watch, clock, lock_window, ready, folder)


def _healthy(port: int) -> bool:
    try:
        return get(port, "/healthz")[0] == 200
    except OSError:
        return False


def _settled(db_path: Path) -> bool:
    try:
        open_ = read(db_path, "SELECT COUNT(*) FROM inbox WHERE status IN ('new', 'working')")[0][0]
        due = read(db_path, "SELECT COUNT(*) FROM reminders WHERE status = 'active'")[0][0]
    except sqlite3.Error:
        return False
    return open_ == 0 and due == 0


def figures(args, db_path, line, users, reminders, kills, watch, clock, lock_window, ready, folder) -> dict:
    delivered = list(line.delivered)
    # questions and reports: each acknowledged event answered once (by its reply token; a push to
    # the user stands for one of that user's events whose token was never used)
    by_token: dict[str, int] = {}
    pushes: dict[str, int] = {}
    for d in delivered:
        if d["kind"] == "reply":
            by_token[d["reply_token"]] = by_token.get(d["reply_token"], 0) + 1
        elif d["to"].startswith("U"):
            pushes[d["to"]] = pushes.get(d["to"], 0) + 1
    out = {}
    for kind in ("question", "report"):
        acked = {n: e for n, e in users.events.items() if e["acked"] and e["kind"] == kind}
        unanswered: dict[str, int] = {}
        doubled = 0
        for n, e in acked.items():
            c = by_token.get(f"rt-{n}", 0)
            doubled += max(0, c - 1)
            if c == 0:
                unanswered[e["user"]] = unanswered.get(e["user"], 0) + 1
        out[kind] = {"acknowledged": len(acked), "unanswered_by_reply": sum(unanswered.values()), "doubled": doubled}
    lost_events = sum(max(0, n - pushes.get(u, 0)) for u, n in _unanswered(users, by_token).items())
    extra_pushes = sum(max(0, p - _unanswered(users, by_token).get(u, 0)) for u, p in pushes.items())
    rows = read(db_path, "SELECT summary FROM reports")
    stored: dict[str, int] = {}
    for (summary,) in rows:
        for marker in users.reports:
            if summary.endswith(marker + "。") or marker in summary:
                stored[marker] = stored.get(marker, 0) + 1
    reports = {"confirmed": len(users.reports), "stored_once": sum(1 for m in users.reports if stored.get(m) == 1),
               "lost": sum(1 for m in users.reports if m not in stored),
               "doubled": sum(1 for m in users.reports if stored.get(m, 0) > 1)}
    # reminders: each once, and how late on the server's clock
    got: dict[str, list[float]] = {}
    for d in delivered:
        if d["kind"] == "push" and d["to"].startswith("C"):
            text = json.dumps(d["messages"], ensure_ascii=False)
            for title, _, _ in reminders:
                if title in text:
                    got.setdefault(title, []).append(d["at"])  # real time
    late, excused, lost, doubled = [], 0, 0, 0
    for title, due, made in reminders:
        times = got.get(title, [])
        if not times:
            lost += 1
            continue
        doubled += len(times) - 1
        # How late, in real seconds, from the moment the server's clock first showed the due time:
        # a forward step jumps over some due times (they are due at the step), a backward step
        # shows some twice (the first counts).
        reached = clock.first_reach(due.timestamp(), made)
        lateness = min(times) - reached
        if lock_window is not None and lock_window[0] - 5 <= reached <= lock_window[1]:
            excused += 1
        else:
            late.append(lateness)
    late.sort()
    gaps = []
    for at, holder in kills:
        after = [t for t, h in watch.changes if t > at and h is not None and h != holder]
        gaps.append((after[0] - at) if after else float("inf"))
    return {
        "smoke": args.smoke, "kills": len(kills), "kills_planned": args.kills, "lock_s": args.lock, "clock_steps": clock.on, "step_s": args.step,
        "redeliveries": users.redeliveries,
        "questions": {"acknowledged": out["question"]["acknowledged"],
                      "answered_once": out["question"]["acknowledged"] - out["question"]["unanswered_by_reply"]
                      - out["question"]["doubled"], "doubled": out["question"]["doubled"]},
        "events_lost": lost_events, "pushes_unaccounted": extra_pushes,
        "reports": reports,
        "reminders": {"due": len(reminders), "sent": len(reminders) - lost, "lost": lost, "doubled": doubled,
                      "excused_lock": excused,
                      "late_p50_s": _pct(late, 50), "late_p95_s": _pct(late, 95), "late_max_s": round(late[-1], 1) if late else None,
                      "over_90s": sum(1 for x in late if x > LATE_LIMIT),
                      "over_30s_s": [round(x, 1) for x in late if x > 30]},
        "late_s": [round(x, 1) for x in late],
        "longest_without_scheduler_s": round(max(gaps), 1) if gaps else None,
        "readyz_at_end": ready[0],
        "log": str(folder / "serve.log"),
    }


def _unanswered(users, by_token) -> dict[str, int]:
    out: dict[str, int] = {}
    for n, e in users.events.items():
        if e["acked"] and by_token.get(f"rt-{n}", 0) == 0:
            out[e["user"]] = out.get(e["user"], 0) + 1
    return out


def _pct(xs: list[float], p: float):
    if not xs:
        return None
    return round(xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))], 1)


def failed(f: dict) -> list[str]:
    why = []
    if f["events_lost"] or f["questions"]["doubled"] or f["pushes_unaccounted"]:
        why.append("an answer lost or doubled")
    if f["reports"]["lost"] or f["reports"]["doubled"]:
        why.append("a report lost or doubled")
    r = f["reminders"]
    if r["lost"] or r["doubled"]:
        why.append("a reminder lost or doubled")
    if not f["questions"]["acknowledged"] or not f["reports"]["confirmed"] or not r["due"]:
        why.append("nothing measured: no question, report or reminder went through")
    if f["kills"] < f["kills_planned"]:
        why.append(f"{f['kills']} of {f['kills_planned']} kills done (no worker to kill)")
    if f["longest_without_scheduler_s"] == float("inf"):
        why.append("after a kill no other process ever held the scheduler")
    if r["over_90s"] and not f["smoke"]:
        why.append(f"{r['over_90s']} reminders more than {LATE_LIMIT:.0f} s late")
    return why


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--gap", type=float, default=10.0, help="mean seconds between two faults")
    ap.add_argument("--lock", type=float, default=40.0, help="seconds the database is held locked")
    ap.add_argument("--step", type=float, default=300.0, help="seconds the clock is stepped back, then forward")
    ap.add_argument("--every", type=float, default=4.0, help="seconds between two reminders' due times")
    ap.add_argument("--users", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--lead", type=float, default=20.0, help="seconds from the start to the first reminder's due time")
    ap.add_argument("--tail", type=float, default=90.0, help="seconds of reminders after the faults' span")
    ap.add_argument("--after-step", type=float, default=30.0,
                    help="seconds after a clock step to the due time of the reminder made then")
    ap.add_argument("--smoke", action="store_true",
                    help="2 kills, a 3 s lock, 20 s steps, about 30 s; lateness not judged (for CI)")
    args = ap.parse_args()
    # SIGTERM as Ctrl-C: the run's ``finally`` stops the server's process group either way
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if args.smoke:
        args.kills, args.lock, args.step, args.gap, args.users = 2, 3.0, 20.0, 2.5, 3
        args.every, args.lead, args.tail, args.after_step = 2.0, 3.0, 5.0, 5.0
    f = run(args)
    if args.json:
        print(json.dumps(f, ensure_ascii=False))
    else:
        r = f["reminders"]
        print(f"faults: {f['kills']} SIGKILLs of the worker, a {f['lock_s']:.0f} s lock, clock steps "
              + (f"±{f['step_s']:.0f} s" if f["clock_steps"] else "skipped (libfaketime missing)"))
        print("| what | acknowledged / due | once | lost | doubled |")
        print("|---|---:|---:|---:|---:|")
        q = f["questions"]
        print(f"| questions | {q['acknowledged']} | {q['answered_once']} | {f['events_lost']} | {q['doubled']} |")
        rp = f["reports"]
        print(f"| reports | {rp['confirmed']} | {rp['stored_once']} | {rp['lost']} | {rp['doubled']} |")
        print(f"| reminders | {r['due']} | {r['sent'] - r['doubled']} | {r['lost']} | {r['doubled']} |")
        print()
        print(f"reminder lateness (s, from when the server's clock first showed the due time; {r['excused_lock']} "
              f"due during the lock left out): p50 {r['late_p50_s']}, p95 {r['late_p95_s']}, max {r['late_max_s']}, "
              f"over {LATE_LIMIT:.0f} s: {r['over_90s']}")
        print(f"longest without a scheduler after a kill: {f['longest_without_scheduler_s']} s; "
              f"webhooks redelivered: {f['redeliveries']}; /readyz at the end: {f['readyz_at_end']}")
    why = failed(f)
    if why:
        print("FAILED: " + "; ".join(why), file=sys.stderr)
    return 1 if why else 0


if __name__ == "__main__":
    sys.exit(main())
