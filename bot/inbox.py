"""The webhook inbox: every event acknowledged to a platform is first a row here.

The row's unique (platform, event_id) makes a redelivery a no-op, and its status lets a restarted
Nimo finish what a killed one had acknowledged but not answered.  Workers claim a row with one
conditional UPDATE, so two threads (or processes) never handle the same event.
"""
from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable

log = logging.getLogger("nimo.inbox")

STALE = timedelta(minutes=5)   # a 'working' row older than this was left by a process that died
HEARTBEAT = timedelta(seconds=5)
ALIVE = timedelta(seconds=15)  # a worker whose heartbeat is older than this is dead: its rows are redone
KEEP = timedelta(days=2)       # dedupe memory: LINE and Slack redeliver within minutes, we keep 2 days


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
        now = self.clock()
        cur = self.db.execute(
            "UPDATE inbox SET status = 'working', claimed_at = ?, claimed_by = ? WHERE id = ? AND "
            f"(status = 'new' OR (status = 'working' AND {self._abandoned('inbox')})) AND "
            "(sender IS NULL OR NOT EXISTS (SELECT 1 FROM inbox e WHERE e.sender = inbox.sender "
            "AND e.id < inbox.id AND e.status IN ('new', 'working')))",
            [now.isoformat(), holder, row_id, (now - STALE).isoformat(), _utc(now)])
        if cur.rowcount != 1:
            return None
        platform, payload = self.db.execute("SELECT platform, payload FROM inbox WHERE id = ?", [row_id]).fetchone()
        return platform, json.loads(payload)

    def finish(self, row_id: int, status: str = "done") -> None:
        self.db.execute("UPDATE inbox SET status = ?, done_at = ? WHERE id = ?",
                        [status, self.clock().isoformat(), row_id])

    @staticmethod
    def _abandoned(table: str) -> str:
        """SQL: a 'working' row whose worker is gone (claimed long ago, or its heartbeat stopped)."""
        return (f"({table}.claimed_at < ? OR NOT EXISTS (SELECT 1 FROM leases l WHERE "
                f"l.name = 'worker:' || {table}.claimed_by AND l.expires_at > ?))")

    def unfinished(self) -> list[int]:
        now = self.clock()
        return [r[0] for r in self.db.execute(
            f"SELECT id FROM inbox WHERE status = 'new' OR (status = 'working' AND {self._abandoned('inbox')}) "
            "ORDER BY id", [(now - STALE).isoformat(), _utc(now)]).fetchall()]

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


class Workers:
    """Threads that process inbox rows: ``handle(platform, payload, row_id)`` does the work.

    Rows come either from ``submit`` (the webhook in the same process) or, with ``poll`` set, from
    reading the inbox every ``poll`` seconds: that is how ``nimo worker`` runs beside the web
    process, so answering never competes with acknowledging for one interpreter's lock.
    """

    def __init__(self, inbox: Inbox, handle: Callable[[str, dict, int], None], *, threads: int = 4,
                 poll: float | None = None):
        self.inbox = inbox
        self.handle = handle
        self.poll = poll
        self.queue: queue.Queue[int | None] = queue.Queue()
        self.threads = [threading.Thread(target=self._run, name=f"nimo-worker-{i}", daemon=True)
                        for i in range(threads)]
        self.idle = threading.Condition()
        self.busy = 0
        self.queued: set[int] = set()
        self.stopping = threading.Event()
        self.holder = uuid.uuid4().hex

    def start(self) -> None:
        self.inbox.heartbeat(self.holder)
        for t in self.threads:
            t.start()
        for row_id in self.inbox.unfinished():  # acknowledged before a restart, not yet answered
            self.submit(row_id)
        poller = threading.Thread(target=self._poll, name="nimo-inbox-poll", daemon=True)
        self.threads.append(poller)
        poller.start()

    def submit(self, row_id: int) -> None:
        with self.idle:
            if row_id in self.queued:
                return
            self.queued.add(row_id)
        self.queue.put(row_id)

    def _poll(self) -> None:
        """Heartbeat, and pick up rows: from other processes (``poll``), rows that waited for an
        earlier message of the same person, and rows a dead worker left half done."""
        interval = self.poll or 0.2
        beat = datetime.min.replace(tzinfo=timezone.utc)
        while not self.stopping.wait(interval):
            try:
                now = self.inbox.clock()
                if now - beat > HEARTBEAT:
                    self.inbox.heartbeat(self.holder)
                    beat = now
                for row_id in self.inbox.unfinished():
                    self.submit(row_id)
            except sqlite3.Error as e:  # a locked database now and then: the next poll will do
                log.warning("inbox poll: %s", type(e).__name__)

    def stop(self) -> None:
        self.stopping.set()
        running = [t for t in self.threads if t.is_alive() and t.name != "nimo-inbox-poll"]
        for _ in running:
            self.queue.put(None)
        for t in self.threads:
            if t.is_alive():
                t.join(timeout=10)
        try:
            self.inbox.retire(self.holder)
        except sqlite3.Error:
            pass

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests and shutdown: wait until the queue is empty and no row is being processed."""
        with self.idle:
            return self.idle.wait_for(lambda: self.queue.empty() and self.busy == 0, timeout)

    def _run(self) -> None:
        while True:
            row_id = self.queue.get()
            if row_id is None:
                return
            with self.idle:
                self.busy += 1
            try:
                claimed = self.inbox.claim(row_id, self.holder)
                if claimed:
                    try:
                        self.handle(claimed[0], claimed[1], row_id)
                        self.inbox.finish(row_id)
                    except Exception as e:  # never the message text: only where and what kind
                        log.error("event %s failed: %s", row_id, type(e).__name__)
                        self.inbox.finish(row_id, "failed")
            finally:
                with self.idle:
                    self.busy -= 1
                    self.queued.discard(row_id)
                    self.idle.notify_all()
