"""The reminder engine: APScheduler jobs rebuilt from SQLite, deliveries recorded once.

The database is the truth.  At start every active reminder becomes a job (``reminder:<id>``), and
every few seconds the rows changed since the last look (by a chat handler in another process, by
``nimo remind cancel``) are synced to jobs, so nothing needs to call the scheduler directly.
Every job calls one module-level function.  A delivery is first claimed under a unique key
(reminder id and due time), so a restart, a retry or a second scheduler never sends it twice; LINE
pushes carry a retry key made from the same key, so even a push whose answer was lost is not
shown twice.  A reminder that fell due while Nimo was down is sent on start marked 遅延 when it is
at most 12 hours late, and goes into the next morning digest otherwise.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta
from typing import Callable, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.core import Reply, Text

from . import replies as say
from . import store
from .workdays import TZ, end_of_quiet, in_quiet_hours, is_business_day

log = logging.getLogger("nimo.scheduler")

LATE_MARK = timedelta(minutes=1)     # later than this, the reminder says 遅延
TOO_LATE = timedelta(hours=12)       # later than this, it goes into the digest instead
RETRY = timedelta(minutes=1)         # a push that could not be delivered is tried again
SYNC_SECONDS = 5
LEASE = timedelta(seconds=60)


class Pusher(Protocol):
    """Sends replies to a user, group or channel without a reply token (what a reminder needs)."""

    def push(self, target: str, replies: list[Reply], key: str) -> bool: ...

    def push_user(self, user: str, replies: list[Reply], key: str) -> bool: ...


_SERVICE: "ReminderService | None" = None


def fire_job(reminder_id: int) -> None:
    """Every reminder job calls this: APScheduler wants a module-level function as a job."""
    if _SERVICE is not None:
        _SERVICE.fire(reminder_id)


def digest_job() -> None:
    if _SERVICE is not None:
        _SERVICE.digest_tick()


def sync_job() -> None:
    if _SERVICE is not None:
        _SERVICE.sync()


def weekly_job() -> None:
    if _SERVICE is not None:
        _SERVICE.weekly_summary()


class ReminderService:
    def __init__(self, db, pushers: dict[str, Pusher], *, clock: Callable[[], datetime],
                 threads: int = 20, summary_to: dict[str, str] | None = None):
        """``summary_to``: where the weekly report summary goes, by platform ({"slack": "C123"})."""
        self.db = db
        self.pushers = pushers
        self.summary_to = {k: v for k, v in (summary_to or {}).items() if v}
        self.clock = clock
        self.holder = uuid.uuid4().hex
        self.sched = BackgroundScheduler(
            timezone=TZ, executors={"default": ThreadPoolExecutor(threads)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(TOO_LATE.total_seconds())})
        self.synced_at = "0"
        self.lock = threading.Lock()

    # -- life -------------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start if this process holds the scheduler lease; False when another process runs it."""
        global _SERVICE
        if not self._lease():
            log.info("another process runs the scheduler")
            return False
        _SERVICE = self
        self.sched.start()
        self.restore()
        self.sched.add_job(digest_job, "cron", second=5, id="digest", replace_existing=True)
        self.sched.add_job(sync_job, "interval", seconds=SYNC_SECONDS, id="sync", replace_existing=True)
        if self.summary_to:  # Monday morning, for the week before
            self.sched.add_job(weekly_job, "cron", day_of_week="mon", hour=9, minute=0, id="weekly",
                               replace_existing=True)
        return True

    def stop(self) -> None:
        global _SERVICE
        if self.sched.running:
            self.sched.shutdown(wait=True)
        self.db.execute("DELETE FROM leases WHERE name = 'scheduler' AND holder = ?", [self.holder])
        if _SERVICE is self:
            _SERVICE = None

    def _lease(self) -> bool:
        """One scheduler among several processes: a row in SQLite, renewed by the sync job."""
        now = self.clock()
        cur = self.db.execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler', ?, ?) ON CONFLICT (name) DO UPDATE "
            "SET holder = excluded.holder, expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at < ?",
            [self.holder, store.utc(now + LEASE), store.utc(now)])
        return cur.rowcount == 1

    def restore(self) -> None:
        """Jobs from the table; what fell due while we were down is handled now."""
        now = self.clock()
        due_now = []
        for r in store.active(self.db):
            if r.due_at <= now:
                due_now.append(r.id)
            else:
                self._schedule(r.id, r.due_at)
        self.synced_at = store.utc(now)
        for rid in due_now:  # in the pool, so that a thousand late reminders do not wait on each other
            self.sched.add_job(fire_job, "date", run_date=datetime.now(TZ), args=[rid], id=f"reminder:{rid}",
                               replace_existing=True)

    def sync(self) -> None:
        """Pick up rows other processes added or changed since the last look; renew the lease."""
        self._lease()
        with self.lock:
            since, self.synced_at = self.synced_at, store.utc(self.clock() - timedelta(seconds=1))
        rows = self.db.execute("SELECT id, status, due_at FROM reminders WHERE updated_at >= ?", [since]).fetchall()
        for rid, status, due_at in rows:
            if status == "active":
                self._schedule(rid, store.from_utc(due_at))
            else:
                self._unschedule(rid)

    def _schedule(self, rid: int, due: datetime) -> None:
        self.sched.add_job(fire_job, "date", run_date=due, args=[rid], id=f"reminder:{rid}", replace_existing=True)

    def _unschedule(self, rid: int) -> None:
        job = self.sched.get_job(f"reminder:{rid}")
        if job:
            job.remove()

    # -- firing -----------------------------------------------------------------------------------
    def fire(self, rid: int) -> None:
        r = store.get(self.db, rid)
        if r is None or r.status != "active":
            return
        now = self.clock()
        if r.due_at > now + timedelta(seconds=1):  # changed since the job was made
            self._schedule(rid, r.due_at)
            return
        lateness = now - r.due_at
        if lateness > TOO_LATE:
            self._advance(r, now, status="missed")
            return
        if not r.asked and in_quiet_hours(now):
            store.reschedule(self.db, rid, end_of_quiet(now), now)
            self._schedule(rid, end_of_quiet(now))
            return
        pusher = self.pushers.get(r.platform)
        if pusher is None:
            log.warning("reminder %s: no way to reach %s", rid, r.platform)
            return
        key = f"reminder:{rid}:{store.utc(r.due_at)}"
        if not self._claim(key, r, late=lateness > LATE_MARK, now=now):
            self._advance(r, now)
            return
        ok = False
        try:
            ok = pusher.push(r.target, say.reminder_replies(self.db, r, late=lateness > LATE_MARK), key)
        except Exception as e:  # never the text: which reminder and what kind of failure
            log.error("reminder %s: push failed: %s", rid, type(e).__name__)
        self.db.execute("UPDATE deliveries SET status = ?, sent_at = ? WHERE key = ?",
                        ["sent" if ok else "failed", store.utc(self.clock()), key])
        if ok:
            self._advance(r, now)
        else:
            self.sched.add_job(fire_job, "date", run_date=datetime.now(TZ) + RETRY, args=[rid],
                               id=f"reminder:{rid}", replace_existing=True)

    def _claim(self, key: str, r, *, late: bool, now: datetime) -> bool:
        """True when this delivery is ours to send (new, or claimed/failed before a crash)."""
        cur = self.db.execute(
            "INSERT INTO deliveries (key, reminder_id, platform, target, status, late, created_at) "
            "VALUES (?, ?, ?, ?, 'claimed', ?, ?) ON CONFLICT (key) DO UPDATE SET status = 'claimed' "
            "WHERE deliveries.status = 'failed'", [key, r.id, r.platform, r.target, int(late), store.utc(now)])
        if cur.rowcount == 1:
            return True
        status = self.db.execute("SELECT status FROM deliveries WHERE key = ?", [key]).fetchone()[0]
        return status == "claimed" and self._stale_claim(key, now)

    def _stale_claim(self, key: str, now: datetime) -> bool:
        """A claim left by a process that died mid-send: send again (the LINE retry key dedupes)."""
        created = self.db.execute("SELECT created_at FROM deliveries WHERE key = ?", [key]).fetchone()[0]
        return now - store.from_utc(created) > timedelta(minutes=2)

    def _advance(self, r, now: datetime, status: str = "done") -> None:
        if r.recurrence is not None:
            nxt = r.recurrence.next_after(max(r.due_at, now))
            store.reschedule(self.db, r.id, nxt, now)
            self._schedule(r.id, nxt)
        else:
            store.set_status(self.db, r.id, status, now)

    # -- the morning digest ---------------------------------------------------------------------
    def digest_tick(self) -> None:
        now = self.clock().astimezone(TZ)
        if not is_business_day(now.date()):
            return
        users = self.db.execute("SELECT platform, user_id FROM users").fetchall()
        for platform, user in users:
            t = store.digest_time(self.db, platform, user)
            start = datetime.combine(now.date(), t, tzinfo=TZ)
            if not (start <= now < start + timedelta(hours=3)):
                continue
            key = f"digest:{platform}:{user}:{now.date().isoformat()}"
            replies = say.digest_replies(self.db, platform, user, now)
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
        from bot import summary
        today = self.clock().astimezone(TZ).date()
        text = summary.text(self.db, today)
        sent = 0
        for platform, target in self.summary_to.items():
            pusher = self.pushers.get(platform)
            key = f"summary:{platform}:{target}:{summary.week_start(today).isoformat()}"
            cur = self.db.execute("INSERT OR IGNORE INTO deliveries (key, platform, target, status, created_at) "
                                  "VALUES (?, ?, ?, 'claimed', ?)", [key, platform, target, store.utc(self.clock())])
            if pusher is None or cur.rowcount != 1:
                continue
            try:
                if platform == "slack" and hasattr(pusher, "upload"):
                    ok = pusher.upload(target, summary.chart(self.db, today), filename="reports-8-weeks.png",
                                       title="報告件数（直近8週）", comment=text + "\n" + summary.legend())
                else:
                    ok = pusher.push(target, [Text(text)], key)
            except Exception as e:
                log.error("weekly summary failed: %s", type(e).__name__)
                ok = False
            self.db.execute("UPDATE deliveries SET status = ?, sent_at = ? WHERE key = ?",
                            ["sent" if ok else "failed", store.utc(self.clock()), key])
            sent += ok
        return sent
