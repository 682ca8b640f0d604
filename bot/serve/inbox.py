"""The webhook inbox: every event acknowledged to a platform is first a row here.

The row's unique (platform, event_id) makes a redelivery a no-op, and its status lets a restarted
Nimo finish what a killed one had acknowledged but not answered.  Workers claim a row with one
conditional UPDATE, so two threads (or processes) never handle the same event, and only a sender's
oldest unfinished row can be claimed, so each person's events are answered one after another, in
order, while other people's are answered beside them.

A row holds what the user typed only while it waits to be answered: ``finish`` replaces the
payload with what dedupe and an audit need (type and a sha256 digest; platform, event id and
sender are columns), and the workers then truncate SQLite's write-ahead log within ``SETTLE``
seconds, so the text is in neither the database file nor its -wal once answered (with
``secure_delete`` set on every connection, the old bytes are overwritten, not just unlinked).
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import threading
import time
import uuid
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Callable

from storage import failures
from storage.connections import file_of

log = logging.getLogger("nimo.inbox")

STALE = timedelta(minutes=5)   # a 'working' row older than this was left by a process that died
HEARTBEAT = timedelta(seconds=5)
ALIVE = timedelta(seconds=15)  # a worker whose heartbeat is older than this is dead: its rows are redone
KEEP = timedelta(days=2)       # dedupe memory: LINE and Slack redeliver within minutes, we keep 2 days
SETTLE = 5.0                   # seconds: at most one WAL truncation this often, so a burst pays once
_KIND = re.compile(r"^[A-Za-z_.]{1,40}$")   # an event type as platforms spell it; anything else is no type


class Inbox:
    def __init__(self, db, clock: Callable[[], datetime]):
        self.db = db
        self.clock = clock

    def add(self, platform: str, event_id: str, payload: dict, sender: str | None = None) -> int | None:
        """Store an event; the new row's id, or None when the event was seen before.
        Events of one ``sender`` are answered in the order they arrived."""
        try:
            cur = self.db.execute(
                "INSERT INTO inbox (platform, event_id, payload, received_at, sender) VALUES (?, ?, ?, ?, ?)",
                [platform, event_id, json.dumps(payload, ensure_ascii=False), self.clock().isoformat(), sender])
        except sqlite3.IntegrityError:
            return None
        return cur.lastrowid

    def claim(self, row_id: int, holder: str = "") -> tuple[str, dict] | None:
        """Take a row to work on: new (or left by a dead worker), and the sender's oldest unfinished."""
        taken = self.take(row_id, holder)
        return (taken[0], taken[1]) if taken else None

    def take(self, row_id: int, holder: str = "") -> tuple[str, dict, str | None] | None:
        """``claim``, in one statement, also giving the sender: whoever answers one of a sender's
        events is the first to know that their next one may now be answered."""
        now = self.clock()
        rows = self.db.execute(
            "UPDATE inbox SET status = 'working', claimed_at = ?, claimed_by = ? WHERE id = ? AND "
            f"(status = 'new' OR (status = 'working' AND {self._abandoned('inbox')})) AND "
            "(sender IS NULL OR NOT EXISTS (SELECT 1 FROM inbox e WHERE e.sender = inbox.sender "
            "AND e.status IN ('new', 'working') AND e.id < inbox.id)) RETURNING platform, payload, sender",
            [now.isoformat(), holder, row_id, (now - STALE).isoformat(), _utc(now)]).fetchall()
        # fetchall: the UPDATE, and its hold on the database, ends only when its rows are read
        if not rows:
            return None
        platform, payload, sender = rows[0]
        return platform, json.loads(payload), sender

    def finish(self, row_id: int, status: str = "done") -> None:
        """Record the outcome and forget what the user sent (see ``at_rest``).  A 'failed' row is
        scrubbed too: nothing takes a row again once it is finished (only 'new' rows and those of
        a dead worker are claimed), so its text could only linger, never be used."""
        row = self.db.execute("SELECT platform, payload FROM inbox WHERE id = ?", [row_id]).fetchone()
        self.db.execute("UPDATE inbox SET status = ?, done_at = ?, payload = ? WHERE id = ?",
                        [status, self.clock().isoformat(), at_rest(row[0], row[1]) if row else "{}", row_id])

    def scrub_finished(self) -> int:
        """Scrub finished rows that still hold their payload (finished before rows were scrubbed on
        ``finish``); how many.  Run when the workers start."""
        rows = self.db.execute("SELECT id, platform, payload FROM inbox WHERE status IN ('done', 'failed') "
                               "AND substr(payload, 1, 12) <> '{\"scrubbed\":'").fetchall()
        for row_id, platform, payload in rows:
            self.db.execute("UPDATE inbox SET payload = ? WHERE id = ?", [at_rest(platform, payload), row_id])
        return len(rows)

    def settle(self) -> bool:
        """Truncate the write-ahead log, so the pages that held scrubbed text are gone from the
        -wal file too; True when done.  False when a reader still used an older snapshot: the
        log is left as it is and the next call tries again.  The wait for readers is short (a
        connection of its own with a half-second timeout), so the caller's heartbeat goes on."""
        path = file_of(self.db)
        if path is None:  # in memory: no file to clean
            return True
        conn = sqlite3.connect(path, timeout=0.5, isolation_level=None)
        try:
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:  # locked: the next round
            return False
        finally:
            conn.close()
        return busy == 0

    def next_of(self, sender: str | None) -> int | None:
        """The sender's oldest unfinished row (what may be answered once their previous one is)."""
        if sender is None:
            return None
        row = self.db.execute("SELECT id FROM inbox WHERE sender = ? AND status IN ('new', 'working') "
                              "ORDER BY id LIMIT 1", [sender]).fetchone()
        return row[0] if row else None

    @staticmethod
    def _abandoned(table: str) -> str:
        """SQL: a 'working' row whose worker is gone (claimed long ago, or its heartbeat stopped)."""
        return (f"({table}.claimed_at < ? OR NOT EXISTS (SELECT 1 FROM leases l WHERE "
                f"l.name = 'worker:' || {table}.claimed_by AND l.expires_at > ?))")

    def unfinished(self) -> list[int]:
        """The rows a worker may take now, oldest first: each sender's oldest unfinished row when it
        is new or its worker is gone, and every such row without a sender.  A sender's later rows
        are not listed: they could not be claimed yet, and trying each one at every poll was what
        made a burst slow (thousands of failing writes a poll)."""
        now = self.clock()
        # INDEXED BY: the partial index holds only unfinished rows, so this reads the backlog, never
        # the two days of finished rows (the planner prefers inbox_status without statistics).
        return [r[0] for r in self.db.execute(
            "SELECT i.id FROM (SELECT MIN(id) AS id FROM inbox INDEXED BY inbox_open "
            "WHERE status IN ('new', 'working') AND sender IS NOT NULL GROUP BY sender UNION ALL "
            "SELECT id FROM inbox INDEXED BY inbox_open WHERE sender IS NULL AND status IN ('new', 'working')) h "
            f"JOIN inbox i ON i.id = h.id WHERE i.status = 'new' OR (i.status = 'working' AND {self._abandoned('i')}) "
            "ORDER BY i.id", [(now - STALE).isoformat(), _utc(now)]).fetchall()]

    def heartbeat(self, holder: str) -> None:
        self.db.execute("INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) "
                        "DO UPDATE SET expires_at = excluded.expires_at",
                        [f"worker:{holder}", holder, _utc(self.clock() + ALIVE)])

    def retire(self, holder: str) -> None:
        self.db.execute("DELETE FROM leases WHERE name = ?", [f"worker:{holder}"])

    def purge(self) -> int:
        """Forget finished events older than the dedupe window (their payloads hold message text)."""
        return self.db.execute("DELETE FROM inbox WHERE status IN ('done', 'failed') AND received_at < ?",
                               [(self.clock() - KEEP).isoformat()]).rowcount


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()


def at_rest(platform: str, payload: str) -> str:
    """What an answered event keeps: its type and a sha256 digest of the stored event (enough to
    tell, in an audit, which event a row was and that a copy is the same), never its text, a
    display name or a reply token.  Scrubbing a scrubbed payload leaves it as it is."""
    try:
        ev = json.loads(payload)
    except ValueError:
        ev = None
    if isinstance(ev, dict) and ev.get("scrubbed") is True:
        return payload
    return json.dumps({"scrubbed": True, "type": _kind(ev),
                       "sha256": hashlib.sha256(payload.encode("utf-8", "replace")).hexdigest()})


def _kind(ev: object) -> str:
    """'message.text', 'postback', 'events_api.message', 'interactive.view_submission' …: read from
    the shapes platforms store (an event with a ``type`` and its message's or content's type, as
    LINE and LINE WORKS send; or a ``kind`` with a ``body``, as Slack's requests are kept), so that
    no platform needs naming here."""
    def get(d, *keys):
        for k in keys:
            d = d.get(k) if isinstance(d, dict) else None
        return d if isinstance(d, str) and _KIND.match(d) else None

    if isinstance(ev, dict) and "kind" in ev and "body" in ev:
        parts = (get(ev, "kind"), get(ev, "body", "event", "type") or get(ev, "body", "type"))
    else:
        parts = (get(ev, "type"), get(ev, "message", "type") or get(ev, "content", "type"))
    return ".".join(p for p in parts if p) or "?"


class Workers:
    """Threads that process inbox rows: ``handle(platform, payload, row_id)`` does the work.

    Rows come either from ``submit`` (the webhook in the same process) or, with ``poll`` set, from
    reading the inbox every ``poll`` seconds: that is how ``nimo worker`` runs beside the web
    process, so answering never competes with acknowledging for one interpreter's lock.  A thread
    that has answered one of a sender's events queues that sender's next one at once (at the back,
    so busy senders take turns), so a burst never waits for the poll between two events.

    The poller also truncates the WAL after events were finished (``Inbox.settle``), at most once
    every ``SETTLE`` seconds: an answered event's text is gone from the files within about that
    (and the poll) unless a long reader holds the log, in which case the next round does it.
    """

    def __init__(self, inbox: Inbox, handle: Callable[[str, dict, int], None], *, threads: int = 4,
                 poll: float | None = None):
        self.inbox = inbox
        self.handle = handle
        self.poll = poll
        self.holder = uuid.uuid4().hex
        self.held: set[int] = set()  # rows met with a damaged database: left for `nimo restore`
        self.stopping = threading.Event()
        lock = threading.Lock()
        self._ready = threading.Condition(lock)  # a row was queued, or stop() was called
        self.idle = threading.Condition(lock)    # nothing queued, nothing being handled
        self._waiting: deque[int] = deque()
        self._queued: set[int] = set()
        self._pending = 0  # queued + being handled
        self._settle = threading.Condition()
        self._finished = 0   # rows finished so far …
        self._settled = 0    # … and how many of them the last truncated WAL covered
        self._last_settle = float("-inf")
        self.threads = [threading.Thread(target=self._run, name=f"nimo-worker-{i}", daemon=True)
                        for i in range(threads)]
        self._poller = threading.Thread(target=self._poll, name="nimo-inbox-poll", daemon=True)

    def start(self) -> None:
        self.inbox.heartbeat(self.holder)
        if self.inbox.scrub_finished():  # rows answered before payloads were scrubbed
            self._count_finished()
        for t in self.threads:
            t.start()
        self._pick_up()  # acknowledged before a restart, not yet answered
        self._poller.start()

    def submit(self, row_id: int) -> None:
        with self._ready:
            if row_id in self._queued or row_id in self.held or self.stopping.is_set():
                return
            self._queued.add(row_id)
            self._waiting.append(row_id)
            self._pending += 1
            self._ready.notify()

    def _pick_up(self) -> None:
        for row_id in self.inbox.unfinished():
            self.submit(row_id)

    def _poll(self) -> None:
        """Heartbeat, and pick up rows: from other processes (``poll``), and rows a dead worker
        left half done."""
        interval = self.poll or 0.2
        beat = self.inbox.clock()
        while not self.stopping.wait(interval):
            try:
                now = self.inbox.clock()
                if now - beat > HEARTBEAT:
                    self.inbox.heartbeat(self.holder)
                    beat = now
                self._pick_up()
                if time.monotonic() - self._last_settle >= SETTLE:
                    self._settle_now()
            except sqlite3.Error as e:  # a locked database now and then: the next poll will do
                log.warning("inbox poll: %s", type(e).__name__)
            except Exception as e:  # the poller also beats for this worker's rows: it must go on
                log.error("inbox poll: %s", type(e).__name__)

    def _count_finished(self) -> None:
        with self._settle:
            self._finished += 1

    def _settle_now(self) -> None:
        """Truncate the WAL if a row was finished since the last time."""
        with self._settle:
            upto = self._finished
        if upto == self._settled:
            return
        self._last_settle = time.monotonic()
        if self.inbox.settle():
            with self._settle:
                self._settled = upto
                self._settle.notify_all()

    def wait_settled(self, timeout: float = 10.0) -> bool:
        """For tests: wait until the WAL was truncated after every row finished so far."""
        with self._settle:
            upto = self._finished
            return self._settle.wait_for(lambda: self._settled >= upto, timeout)

    def stop(self, timeout: float = 8.0) -> bool:
        """Stop taking rows and wait at most ``timeout`` seconds in all for the threads; True when
        every one ended.  A thread still blocked (a platform API that does not answer) is left to
        the process's exit (threads are daemons), and its worker lease is kept, to lapse ``ALIVE``
        after the last heartbeat: until then nobody else redoes the row, and after that the next
        start does — the row is still 'working' in the inbox, never lost."""
        deadline = time.monotonic() + timeout
        self.stopping.set()
        with self._ready:
            self._ready.notify_all()
        for t in (*self.threads, self._poller):
            if t.is_alive():
                t.join(max(0.0, deadline - time.monotonic()))
        busy = sum(t.is_alive() for t in self.threads)
        if busy:
            log.warning("%d worker thread(s) still busy at stop: their events stay in the inbox", busy)
            return False
        try:
            self.inbox.retire(self.holder)
            self._settle_now()  # a clean stop leaves no answered text in the -wal file
        except sqlite3.Error:
            pass
        return True

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests: True once no row is queued or being processed here and the inbox holds no
        row a worker could take now; raises ``TimeoutError`` after ``timeout`` seconds.

        Both are needed: the queue is empty for a moment before the poller hands over a row that
        another process stored.  A sender's next row is queued before the previous one counts as
        done, and the count is read again after the inbox, so no event can slip between the two
        looks.  Rows held back (a damaged database) or claimed by a live worker elsewhere are not
        runnable and do not count."""
        deadline = time.monotonic() + timeout
        waiting: list[int] = []
        while True:
            with self.idle:
                quiet = self.idle.wait_for(lambda: self._pending == 0, max(0.0, deadline - time.monotonic()))
            if quiet:
                waiting = [r for r in self.inbox.unfinished() if r not in self.held]
                with self.idle:
                    if not waiting and self._pending == 0:
                        return True
            if time.monotonic() >= deadline:
                with self.idle:
                    pending = self._pending
                raise TimeoutError(f"workers not idle after {timeout:g} s: {pending} row(s) queued or being "
                                   f"handled, runnable inbox rows {waiting[:10]}")
            with self.idle:  # woken when the queue empties again, or 20 ms later (a row not yet handed over)
                self.idle.wait(min(0.02, max(0.0, deadline - time.monotonic())))

    def _take_next(self) -> int | None:
        with self._ready:
            while not self._waiting and not self.stopping.is_set():
                self._ready.wait()
            if self.stopping.is_set():
                return None
            row_id = self._waiting.popleft()
            self._queued.discard(row_id)  # from now on a new submit of it is a new try
            return row_id

    def _run(self) -> None:
        while (row_id := self._take_next()) is not None:
            following = None
            try:
                following = self._work(row_id)
            except Exception as e:  # a bug, not a platform failure: keep the thread, log the kind
                log.error("inbox worker: %s on event %s", type(e).__name__, row_id)
            finally:
                if following is not None:
                    self.submit(following)
                with self.idle:
                    self._pending -= 1
                    if self._pending == 0:
                        self.idle.notify_all()

    def _work(self, row_id: int) -> int | None:
        """Claim, answer and finish one row; the id of the sender's next row, if any."""
        try:
            taken = self.inbox.take(row_id, self.holder)
        except sqlite3.Error as e:  # the poll will offer the row again
            if failures.is_damage(e):
                failures.note_damage(self.inbox.db, self.inbox.clock())
            log.warning("inbox claim: %s", type(e).__name__)
            return None
        if taken is None:  # done, taken by another worker, or an earlier row of its sender is open
            return None
        platform, payload, sender = taken
        status = "done"
        failures.take_damage_flag()
        try:
            self.handle(platform, payload, row_id)
        except Exception as e:  # never the message text: only where and what kind
            if failures.is_damage(e):
                failures.note_damage(self.inbox.db, self.inbox.clock())
            # A platform API's failure describes itself safely (platform, path, status, attempt);
            # any other exception may carry text from the message, so only its kind is logged.
            from bot.serve.delivery import DeliveryFailed
            log.error("event %s failed: %s", row_id, e if isinstance(e, DeliveryFailed) else type(e).__name__)
            status = "failed"
        if failures.take_damage_flag():
            # The database is damaged: the event stays 'working' (its sender's later ones wait behind
            # it), is not offered again by this process, and is carried over by `nimo restore`.
            log.error("event %s kept unanswered: the database is damaged", row_id)
            self.held.add(row_id)
            return None
        try:
            self.inbox.finish(row_id, status)
            self._count_finished()
            return self.inbox.next_of(sender)
        except sqlite3.Error as e:  # left 'working': redone when STALE, like a crash right here
            log.error("event %s: could not record it as %s: %s", row_id, status, type(e).__name__)
            return None
