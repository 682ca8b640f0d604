"""The reminder engine: APScheduler wakes it at each due instant; the database says what to send.

The database is the truth.  Every instant at which an active reminder falls due within the next ten
minutes has a job (``due:<UTC time>``); every few seconds the engine's loop moves that horizon on and
picks up the rows changed since the last look (by a chat handler in another process, by ``nimo
remind cancel``), so nothing needs to call the scheduler directly, and a start with 10,000 future
reminders reads only the next minutes.  A job does not name reminders: it sends every active reminder
that is due by then, so a thousand reminders due at one instant are one query, one transaction of
claims and a thousand pushes from the engine's own pool, and a reminder whose job was lost is still
sent by the next one.  Each delivery is first claimed under a unique key (reminder id and due time),
so a restart, a retry or a second scheduler never sends it twice; LINE pushes carry a retry key made
from the same key, so even a push whose answer was lost is not shown twice.  A reminder that fell due
while Nimo was down is sent on start marked 遅延 when it is at most 12 hours late, and goes into the
next morning digest otherwise.

Two clocks: ``clock`` (injected; the real one in production) is the only time the engine's
decisions read — due or not, late or not, quiet hours, business days, the weekly summary.
APScheduler only needs to wake the engine at the right moment, so a job's run date is "now on the
wall clock plus how far the instant is ahead on ``clock``": with the real clock that is the due
time itself, and with a test's clock the engine still wakes after the right real delay.

APScheduler keeps those run dates on the wall clock, so when the wall clock is set (by hand, by
NTP after a suspend) they are wrong by the step.  The engine's loop (lease, new rows, the minute's
tick) is therefore a thread of its own that waits on the monotonic clock; at every turn it compares
how far the wall clock moved with how far the monotonic one did (:mod:`.steps`), and after a step
it drops every job and schedules again from the database, so nothing due is skipped or waits for
the old time; the claims make sure nothing goes twice.

The engine never composes words: what a reminder, the digest and the weekly summary say comes from
the ``compose`` the wiring hands in (bot/chat/reminder_texts.py), and the replies it returns go to the
pushers as they are, so this package needs nothing from ``bot`` (tests/test_layering.py).

The engine opens its own connection per thread (a sqlite3 connection carries one transaction at a
time: threads sharing one would put one's statements inside another's transaction or savepoint, and
reminders would be lost or fail with "no such savepoint").  It opens them with the storage's factory
(storage/connections.py), from the target of the ``db`` it is given: a file's path, or an in-memory
database that ``storage.connections.open_db`` made.
"""
from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import socket
import threading
import time as _time
import uuid
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Callable, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from storage.connections import ThreadConnections, target_of

from . import store
from .steps import StepWatch
from .transactions import immediate
from .workdays import QUIET_START, TZ, end_of_quiet, in_quiet_hours, is_business_day, week_start

log = logging.getLogger("nimo.scheduler")

LATE_MARK = timedelta(minutes=1)     # later than this, the reminder says 遅延
TOO_LATE = timedelta(hours=12)       # later than this, it goes into the digest instead
RETRY = timedelta(minutes=1)         # a push that could not be delivered is tried again
STALE = timedelta(minutes=2)         # a claim this old was left by a process that died mid-send
SYNC_SECONDS = 5                     # the loop's turn: look for changed rows, renew or take the lease
LEASE = timedelta(seconds=30)        # a dead holder's lease runs out this long after its last turn
LEASE_SLACK = timedelta(seconds=5)   # a lease running out later than LEASE + this was written before a clock set back
STEP_SLACK = timedelta(seconds=2)    # a clock reading this much earlier than one seen before was set back
HORIZON = timedelta(minutes=10)      # jobs exist for the instants this close; the loop moves it on
CHUNK = 50                           # reminders claimed per transaction before their pushes start
WEEKLY_AT = time(9, 0)               # the weekly summary: Monday from 9:00 (until quiet hours)


class Pusher(Protocol):
    """Sends replies to a user, group or channel without a reply token (what a reminder needs).
    The replies are whatever ``Compose`` made of them: the engine only passes them on."""

    def push(self, target: str, replies: list, key: str) -> bool: ...

    def push_user(self, user: str, replies: list, key: str) -> bool: ...


class Compose(Protocol):
    """What the chat says, handed in by the wiring (the module bot.chat.reminder_texts is one).

    Why a protocol: the words and buttons belong to the chat, which sits above this package; the
    engine decides when and to whom, and an empty digest means there is nothing to send."""

    def reminder_replies(self, db, r: store.Reminder, *, late: bool) -> list: ...

    def digest_replies(self, db, platform: str, user: str, now: datetime) -> list: ...

    def send_weekly_summary(self, db, today: date, platform: str, pusher: Pusher, target: str,
                            key: str) -> bool: ...


_DUE_SQL = (
    "SELECT r.*, d.status AS d_status, d.created_at AS d_created, d.sent_at AS d_sent FROM reminders r "
    "LEFT JOIN deliveries d ON d.key = 'reminder:' || r.id || ':' || r.due_at "
    "WHERE r.status = 'active' AND r.due_at <= ?")
_CLAIM_SQL = (
    "INSERT INTO deliveries (key, reminder_id, platform, target, status, late, created_at) "
    "VALUES (?, ?, ?, ?, 'claimed', ?, ?) ON CONFLICT (key) DO UPDATE SET status = 'claimed', "
    "late = excluded.late, created_at = excluded.created_at "
    "WHERE (deliveries.status = 'failed' AND deliveries.sent_at <= ?) "
    "OR (deliveries.status = 'claimed' AND deliveries.created_at <= ?)")


def _dead_here(holder: str) -> bool:
    """Whether ``holder`` (``uuid@host:pid``) ran on this machine and its process no longer exists."""
    _, at, where = holder.partition("@")
    host, _, pid = where.rpartition(":")
    if not at or host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (owned by someone else)
        return False
    return _zombie(int(pid))


def _zombie(pid: int) -> bool:
    """A process that has died but not been reaped by its parent yet counts as gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class ReminderService:
    def __init__(self, db, pushers: dict[str, Pusher], compose: Compose, *, clock: Callable[[], datetime],
                 threads: int = 20, summary_to: dict[str, str] | None = None,
                 wall: Callable[[], float] = _time.time, monotonic: Callable[[], float] = _time.monotonic,
                 every: float = SYNC_SECONDS):
        """``db``: the database, as a path or any open connection to it (only its target is
        used: a private in-memory connection, which no other can open, is refused).  ``compose``: what reminders say (see
        :class:`Compose`).  ``summary_to``: where the weekly report summary goes, by platform
        ({"slack": "C123"}).  ``wall`` and ``monotonic``: the clocks the loop compares to notice
        that the wall clock was set (the real ones unless a test steps its own); ``every``: seconds
        between the loop's turns."""
        self.conns = ThreadConnections(target_of(db))
        self.pushers = pushers
        self.compose = compose
        self.summary_to = {k: v for k, v in (summary_to or {}).items() if v}
        self.clock = clock
        # Where the holder runs, so that a process on the same machine can tell a dead holder at
        # once (its pid is gone) instead of waiting for its lease to run out.
        self.holder = f"{uuid.uuid4().hex}@{socket.gethostname()}:{os.getpid()}"
        self.sched = BackgroundScheduler(
            timezone=TZ, executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 2, "misfire_grace_time": None})
        self.pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="nimo-push")
        self.synced_at = "0"
        self.horizon = clock()
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()  # our threads queue here rather than in SQLite's busy sleeps
        self.stopping = threading.Event()
        self.wall, self.monotonic, self.every = wall, monotonic, every
        self.holding = False     # this process holds the lease: its jobs fire
        self.ticked: datetime | None = None  # the minute (on ``clock``) of the last digest/summary tick
        self.loop: threading.Thread | None = None
        self.turns = 0           # turns of the loop so far, failed ones included
        self.watch = StepWatch(monotonic=monotonic, wall=wall)
        self.seen: tuple[datetime, int] | None = None  # see _note_seen

    @property
    def db(self):
        """This thread's own connection."""
        return self.conns.get()

    # -- life -------------------------------------------------------------------------------------
    # One process among several runs the jobs: the one holding the lease (a row in ``leases``).
    # Every process's loop keeps trying to take it, so when the holder dies (SIGKILL leaves its
    # row behind) another takes over once the row runs out; a holder that finds the row taken (its
    # renewal came too late, e.g. after the clock was set forward) drops its jobs and goes back to
    # trying.  The loop is a thread of ours timed on the monotonic clock, not an APScheduler job:
    # APScheduler's waits follow the wall clock, and a clock set back would stall the renewal.
    def start(self) -> bool:
        """Start the loop; True when this process took the lease at once (otherwise it keeps trying)."""
        try:
            self.sched.start()
            self.watch = StepWatch(monotonic=self.monotonic, wall=self.wall)
            self._turn()
        except BaseException:  # no scheduler thread or lease left behind by a failed start
            self.stop()
            raise
        if not self.holding:
            log.info("another process runs the scheduler: this one takes over if it stops")
        self.loop = threading.Thread(target=self._run, name="nimo-scheduler-loop", daemon=True)
        self.loop.start()
        return self.holding

    def stop(self) -> None:
        """Stop waking; pushes not yet started give their claim back (the next start sends them)."""
        self.stopping.set()
        if self.loop is not None and self.loop is not threading.current_thread():
            self.loop.join()
        if self.sched.running:
            # Paused first, then emptied (which waits for a round of job processing under way):
            # APScheduler's thread dies with JobLookupError when shutdown marks it stopped while
            # it is removing a job it has just run.
            self.sched.pause()
            self.sched.remove_all_jobs()
            self.sched.shutdown(wait=True)
        self.pool.shutdown(wait=True)
        self.db.execute("DELETE FROM leases WHERE name = 'scheduler' AND holder = ?", [self.holder])
        self.holding = False
        self.conns.close_all()

    def _run(self) -> None:
        """The loop: a turn every ``every`` seconds until stopped; a failing turn is logged by its
        kind and the next one comes as usual (a loop that died would stop every reminder)."""
        while not self.stopping.wait(self.every):
            try:
                self._turn()
            except Exception as e:
                log.error("scheduler loop: %s", type(e).__name__)
            self.turns += 1

    def _turn(self) -> None:
        """Take, keep or lose the lease; while holding it, look for changed rows (or start over
        when the wall clock was set) and tick once a minute."""
        step = self.watch.step()
        held = self._lease()
        if held and not self.holding:
            log.info("this process runs the scheduler now")
            self._take()
            self._catch_up(self._seen_by_others())
        elif not held and self.holding:
            log.warning("the scheduler lease was taken by another process: this one stops firing")
            self._let_go()
        elif not held:
            return
        elif step:
            log.warning("the wall clock moved %+.0f s: scheduling again from the database", step)
            # what the clock would read without the step, and the newest reminder before it
            seen = (self.clock() - timedelta(seconds=step), self.seen[1]) if self.seen else None
            self._take()
            if step < 0:
                self._catch_up(seen)
        else:
            self.sync()
        self._note_seen()
        minute = self.clock().replace(second=0, microsecond=0)
        if minute != self.ticked:  # the morning digest and the weekly summary, in APScheduler's pool
            self.ticked = minute
            self.sched.add_job(self._tick_job, id="tick", replace_existing=True)

    def _catch_up(self, seen: tuple[datetime, int] | None) -> None:
        """After the clock was set back: what had already fallen due by the latest time the clock
        showed and is still unsent goes now, not when the clock shows its time again (a reminder
        held up by a lock or a restart at the moment of a step of 5 minutes back would otherwise
        come 5 minutes late).  ``seen``: that time, and the newest reminder then; reminders made
        after it wait for their own time, so none is early."""
        now = self.clock()
        if seen is not None and seen[0] > now + STEP_SLACK:
            log.warning("the clock reads earlier than it did: sending what was due by then")
            self._fire(now, None, upto=seen[0], max_id=seen[1])

    def _note_seen(self) -> None:
        """Each turn of the holder: the time its clock showed and the newest reminder, kept in the
        database so that the next holder can catch up (see :meth:`_catch_up`)."""
        now = self.clock()
        newest = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM reminders").fetchone()[0]
        if self.seen is None or now > self.seen[0]:
            self.seen = (now, newest)
            self.db.execute("INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler_seen', ?, ?) "
                            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
                            [str(newest), store.utc(now)])

    def _seen_by_others(self) -> tuple[datetime, int] | None:
        row = self.db.execute("SELECT holder, expires_at FROM leases WHERE name = 'scheduler_seen'").fetchone()
        return (store.from_utc(row[1]), int(row[0])) if row and row[0].isdigit() else None

    def _take(self) -> None:
        """Jobs from the database, none kept from before (they may follow a wall clock since set)."""
        self.sched.remove_all_jobs()
        self.holding = True
        self.restore()
        self.sched.wakeup()

    def _let_go(self) -> None:
        self.holding = False
        self.sched.remove_all_jobs()

    def _due_job(self) -> None:
        if self.holding:  # a job left over from before the lease was lost fires nothing
            self._logged(self.fire_due)

    def _tick_job(self) -> None:
        if self.holding:
            self._logged(self.tick)

    @staticmethod
    def _logged(job: Callable[[], object]) -> None:
        """A job's failure by its kind only: APScheduler would log the whole traceback, and an
        exception's text may quote what a user wrote.  The next job or turn tries again."""
        try:
            job()
        except Exception as e:
            log.error("scheduler job %s: %s", job.__name__, type(e).__name__)

    def _lease(self) -> bool:
        """Take the lease if it is free or ran out, renew it if it is ours; whether we hold it now."""
        now = self.clock()

        cur = self.db.execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler', ?, ?) ON CONFLICT (name) DO UPDATE "
            "SET holder = excluded.holder, expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at < ? OR leases.expires_at > ?",
            # a row running out later than a fresh lease would was written before the clock was set
            # back: its holder, if alive, renews it within a turn, and a dead one must not block an hour
            [self.holder, store.utc(now + LEASE), store.utc(now), store.utc(now + LEASE + LEASE_SLACK)])
        return cur.rowcount == 1 or self._take_from_dead(now)

    def _take_from_dead(self, now: datetime) -> bool:
        """Take the lease of a holder that ran on this machine and whose process is gone (a worker
        SIGKILLed and started again by ``nimo serve``): reminders need not wait for its row to run
        out.  A holder elsewhere, or one whose process may be alive, keeps its lease."""
        row = self.db.execute("SELECT holder FROM leases WHERE name = 'scheduler'").fetchone()
        if row is None or not _dead_here(row[0]):
            return False
        cur = self.db.execute("UPDATE leases SET holder = ?, expires_at = ? WHERE name = 'scheduler' AND holder = ?",
                              [self.holder, store.utc(now + LEASE), row[0]])
        if cur.rowcount == 1:
            log.info("the process that ran the scheduler on this machine is gone: taking over at once")
        return cur.rowcount == 1

    def restore(self) -> None:
        """Jobs for the instants of the next few minutes; what fell due while we were down is sent now."""
        now = self.clock()
        for platform, n in self.db.execute("SELECT platform, COUNT(*) FROM reminders WHERE status = 'active' "
                                           "GROUP BY platform").fetchall():
            if platform not in self.pushers:
                log.warning("%d reminders for %s wait: no way to reach it", n, platform)
        with self.lock:
            self.synced_at, self.horizon = store.utc(now), now
        self._wake(now)
        self._look_ahead(now)

    def sync(self) -> None:
        """Pick up rows other processes added or changed since the last look, and the instants that
        came within the horizon (the loop renews the lease)."""
        now = self.clock()
        with self.lock:
            since, self.synced_at = self.synced_at, store.utc(now - timedelta(seconds=1))
            horizon = self.horizon
        rows = self.db.execute("SELECT DISTINCT due_at FROM reminders WHERE updated_at >= ? AND status = 'active' "
                               "AND due_at <= ?", [since, store.utc(horizon)]).fetchall()
        for (due_at,) in rows:
            self._wake(max(store.from_utc(due_at), now))
        self._look_ahead(now)
        if self._unclaimed_due(now):  # a due reminder no job woke for (a lost job, a clock set back)
            self._wake(now)

    def _look_ahead(self, now: datetime) -> None:
        """Jobs for the instants that came within ``HORIZON`` since the last look (later ones wait
        in the table: a far-off reminder costs no job, and a start reads only the next minutes)."""
        end = now + HORIZON
        with self.lock:
            start, self.horizon = self.horizon, max(self.horizon, end)
        if end <= start or not self.pushers:
            return
        marks = ",".join("?" * len(self.pushers))
        rows = self.db.execute(f"SELECT DISTINCT due_at FROM reminders WHERE status = 'active' AND due_at > ? "
                               f"AND due_at <= ? AND platform IN ({marks})",
                               [store.utc(start), store.utc(end), *self.pushers]).fetchall()
        for (due_at,) in rows:
            self._wake(max(store.from_utc(due_at), now))

    def _unclaimed_due(self, now: datetime) -> bool:
        if not self.pushers:
            return False
        marks = ",".join("?" * len(self.pushers))
        return self.db.execute(
            "SELECT 1 FROM reminders r LEFT JOIN deliveries d ON d.key = 'reminder:' || r.id || ':' || r.due_at "
            f"WHERE r.status = 'active' AND r.due_at <= ? AND d.key IS NULL AND r.platform IN ({marks}) LIMIT 1",
            [store.utc(now), *self.pushers]).fetchone() is not None

    def _wake(self, at: datetime) -> None:
        """Run ``fire_due`` when ``clock`` reads ``at`` (right away if it already does)."""
        real = datetime.now(TZ)
        run = max(real, real + (at - self.clock()))
        self.sched.add_job(self._due_job, "date", run_date=run, id=f"due:{store.utc(at)}", replace_existing=True)

    @contextmanager
    def _tx(self):
        """One write transaction on this thread's connection."""
        with self.write_lock, immediate(self.db) as db:
            yield db

    # -- firing -----------------------------------------------------------------------------------
    def fire_due(self) -> int:
        """Send every active reminder due by now (on ``clock``); how many were delivered.
        Returns once this round's pushes are done."""
        return self._fire(self.clock(), None)

    def fire(self, rid: int) -> int:
        """The same for one reminder (when it is due); 1 when it was delivered."""
        return self._fire(self.clock(), rid)

    def _fire(self, now: datetime, rid: int | None, upto: datetime | None = None, max_id: int | None = None) -> int:
        """Claim what is due, a chunk per transaction, each chunk's pushes starting as soon as it is
        claimed; then write the outcomes as they come in."""
        if not self.pushers:
            return 0
        marks = ",".join("?" * len(self.pushers))
        ids = [i for (i,) in self.db.execute(
            f"SELECT id FROM reminders WHERE status = 'active' AND due_at <= ? AND platform IN ({marks})"
            + (" AND id = ?" if rid is not None else "") + " ORDER BY due_at",
            [store.utc(max(now, upto or now) + timedelta(seconds=1)), *self.pushers]
            + ([rid] if rid is not None else [])).fetchall()]
        if max_id is not None:  # catching up: only reminders that existed when the later time was seen
            ids = [i for i in ids if i <= max_id]
        outcomes: queue.SimpleQueue = queue.SimpleQueue()
        n = 0
        try:
            for i in range(0, len(ids), CHUNK):
                for r, key, late in self._claim(ids[i:i + CHUNK], now, upto):
                    n += 1
                    try:
                        self.pool.submit(self._push, r, key, late, outcomes)
                    except RuntimeError:  # the pool is shut down: stopping
                        outcomes.put((r, key, None))
        finally:  # what was handed to the pool is recorded even if a later claim failed
            sent = self._collect(outcomes, n, now)
        return sent

    def _claim(self, ids: list[int], now: datetime, upto: datetime | None = None
               ) -> list[tuple[store.Reminder, str, bool]]:
        """Decide each reminder (read again inside the transaction, so one cancelled meanwhile is
        left alone) and claim those to send now."""
        sends, repairs, waiting = [], [], False
        with self._tx() as db:
            rows = list(db.query(_DUE_SQL + f" AND r.id IN ({','.join('?' * len(ids))}) ORDER BY r.due_at",
                                 [store.utc(max(now, upto or now) + timedelta(seconds=1)), *ids]))
            for row in rows:
                r = store.Reminder.from_row(row)
                lateness = now - r.due_at
                if row["d_status"] == "sent":  # delivered, but the process died before moving it on
                    repairs.extend(self._advance(db, r, now))
                elif not r.is_group and store.target_removed(db, r.platform, r.target):
                    # the person left and their work was not handed over: never push to them
                    store.set_status(db, r.id, "cancelled", now)
                    store.record_action(db, reminder_id=r.id, visit_id=r.visit_id, platform=r.platform,
                                        user="nimo", action="cancel", detail="target removed", now=now)
                    log.warning("reminder %s cancelled: its 1:1 target is no longer an active user", r.id)
                elif row["d_status"] == "claimed" and store.from_utc(row["d_created"]) > now - STALE:
                    waiting = True  # being sent right now by another thread or process
                elif lateness > TOO_LATE:
                    repairs.extend(self._advance(db, r, now, status="missed"))
                elif r.event_id and (starts := store.event_starts(db, r.event_id)) is not None and starts <= (
                        end_of_quiet(now) if not r.asked and in_quiet_hours(now) else now):
                    # an event's notice never goes once the event has begun (nor is held past its start)
                    store.set_status(db, r.id, "missed", now)
                elif not r.asked and in_quiet_hours(now):
                    store.reschedule(db, r.id, end_of_quiet(now), now)
                    repairs.append(end_of_quiet(now))
                elif row["d_status"] == "failed" and store.from_utc(row["d_sent"]) > now - RETRY:
                    waiting = True  # failed a moment ago: tried again after RETRY
                else:
                    key = f"reminder:{r.id}:{row['due_at']}"
                    won = db.execute(_CLAIM_SQL, [key, r.id, r.platform, r.target, int(lateness > LATE_MARK),
                                                  store.utc(now), store.utc(now - RETRY),
                                                  store.utc(now - STALE)]).rowcount == 1
                    if won:
                        sends.append((r, key, lateness > LATE_MARK))
                    else:
                        waiting = True
        for t in sorted(set(repairs)):
            self._wake(t)
        if waiting:
            self._wake(now + RETRY)
        return sends

    def _collect(self, outcomes: queue.SimpleQueue, n: int, now: datetime) -> int:
        """The outcomes of ``n`` pushes, written a batch per transaction as they come in (the pushing
        threads never wait on the database); how many were delivered."""
        sent, left = 0, n
        while left:
            batch = [outcomes.get()]
            while len(batch) < left:
                try:
                    batch.append(outcomes.get_nowait())
                except queue.Empty:
                    break
            left -= len(batch)
            try:
                sent += self._record(batch, now)
            except Exception as e:  # their claims go stale and are taken over (LINE's retry key dedupes)
                log.error("recording %d outcomes failed: %s", len(batch), type(e).__name__)
        return sent

    def _push(self, r: store.Reminder, key: str, late: bool, outcomes: queue.SimpleQueue) -> None:
        """In the pool: one push.  The outcome is True, False (failed), or None (not tried: stopping)."""
        ok = None
        try:
            if not self.stopping.is_set():
                ok = False
                ok = bool(self.pushers[r.platform].push(r.target, self.compose.reminder_replies(self.db, r, late=late), key))
        except Exception as e:  # never the text: which reminder and what kind of failure
            log.error("reminder %s: push failed: %s", r.id, type(e).__name__)
        finally:
            outcomes.put((r, key, ok))

    def _record(self, batch: list, now: datetime) -> int:
        """Sent ones move on, failed ones are tried again after ``RETRY``, untried ones free their claim
        (the next start sends them).  How many were sent."""
        wake, retry, at = [], False, store.utc(self.clock())
        with self._tx() as db:
            for r, key, ok in batch:
                if ok is None:
                    db.execute("DELETE FROM deliveries WHERE key = ? AND status = 'claimed'", [key])
                    continue
                db.execute("UPDATE deliveries SET status = ?, sent_at = ? WHERE key = ?",
                           ["sent" if ok else "failed", at, key])
                if ok:
                    wake += self._advance(db, r, now)
                else:
                    retry = True
        for t in sorted(set(wake)):
            self._wake(t)
        if retry:
            self._wake(self.clock() + RETRY)
        return sum(ok is True for _, _, ok in batch)

    def _advance(self, db, r: store.Reminder, now: datetime, status: str = "done") -> list[datetime]:
        """Done (or missed), or on to the next occurrence; the instants that then need a job."""
        if r.recurrence is not None:
            nxt = r.recurrence.next_after(max(r.due_at, now))
            store.reschedule(db, r.id, nxt, now)
            return [nxt]
        store.set_status(db, r.id, status, now)
        return []

    # -- every minute: the morning digest and the weekly summary ------------------------------------
    def tick(self) -> None:
        self.digest_tick()
        local = self.clock().astimezone(TZ)
        if self.summary_to and local.weekday() == 0 and WEEKLY_AT <= local.time() < QUIET_START:
            self.weekly_summary()

    def digest_tick(self) -> None:
        now = self.clock().astimezone(TZ)
        if not is_business_day(now.date()):
            return
        users = self.db.execute("SELECT platform, user_id FROM users WHERE removed_at IS NULL").fetchall()
        for platform, user in users:
            t = store.digest_time(self.db, platform, user)
            start = datetime.combine(now.date(), t, tzinfo=TZ)
            if not (start <= now < start + timedelta(hours=3)):
                continue
            key = f"digest:{platform}:{user}:{now.date().isoformat()}"
            replies = self.compose.digest_replies(self.db, platform, user, now)
            if not replies:
                continue
            pusher = self.pushers.get(platform)
            if pusher is None:
                continue
            cur = self.db.execute("INSERT OR IGNORE INTO deliveries (key, platform, target, status, created_at) "
                                  "VALUES (?, ?, ?, 'claimed', ?)", [key, platform, user, store.utc(now)])
            if cur.rowcount != 1:
                continue
            try:
                ok = pusher.push_user(user, replies, key)
            except Exception as e:
                log.error("digest: push failed: %s", type(e).__name__)
                ok = False
            self.db.execute("UPDATE deliveries SET status = ?, sent_at = ? WHERE key = ?",
                            ["sent" if ok else "failed", store.utc(self.clock()), key])
            if ok:  # what was missed is now told; it leaves the list
                self.db.execute("UPDATE reminders SET status = 'done' WHERE platform = ? AND owner = ? "
                                "AND status = 'missed'", [platform, user])
            else:
                self.db.execute("DELETE FROM deliveries WHERE key = ?", [key])  # the next tick tries again

    # -- the weekly report summary -------------------------------------------------------------
    def weekly_summary(self) -> int:
        """Send last week's report counts to each configured place once; how many were sent."""
        today = self.clock().astimezone(TZ).date()
        sent = 0
        for platform, target in self.summary_to.items():
            pusher = self.pushers.get(platform)
            key = f"summary:{platform}:{target}:{week_start(today).isoformat()}"
            cur = self.db.execute("INSERT OR IGNORE INTO deliveries (key, platform, target, status, created_at) "
                                  "VALUES (?, ?, ?, 'claimed', ?)", [key, platform, target, store.utc(self.clock())])
            if pusher is None or cur.rowcount != 1:
                continue
            try:
                ok = bool(self.compose.send_weekly_summary(self.db, today, platform, pusher, target, key))
            except Exception as e:
                log.error("weekly summary failed: %s", type(e).__name__)
                ok = False
            self.db.execute("UPDATE deliveries SET status = ?, sent_at = ? WHERE key = ?",
                            ["sent" if ok else "failed", store.utc(self.clock()), key])
            sent += ok
        return sent
