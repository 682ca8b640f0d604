"""What a delivery to a chat platform leaves behind: a claim before a reply is sent (so a redone
event is not shown twice), and a description of each failure an operator can act on.

A failure names the platform, the API path, the HTTP status, the attempt and whether it will be
tried again; never a token, a user id or a message, so :class:`DeliveryFailed` can be logged and
stored as it is (``nimo status`` and ``/readyz`` read the last one).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

log = logging.getLogger("nimo.delivery")

KEEP_FAILURES = 200              # rows of delivery_failures kept: enough to see a pattern
KEEP_REPLY_CLAIMS = timedelta(days=2)  # as long as the inbox remembers the event


class DeliveryFailed(RuntimeError):
    """A platform API refused or did not answer; ``str()`` is safe to log (no body, no id)."""

    def __init__(self, platform: str, endpoint: str, status: int | None, error: str, attempt: int,
                 retried: bool):
        self.platform, self.endpoint, self.status = platform, endpoint, status
        self.error, self.attempt, self.retried = error, attempt, retried
        super().__init__(describe(platform, endpoint, status, error, attempt, retried))


def describe(platform: str, endpoint: str, status: int | None, error: str, attempt: int, retried: bool) -> str:
    return (f"{platform} {endpoint} status={status if status is not None else 'none'} {error} "
            f"attempt={attempt} {'will retry' if retried else 'gave up'}")


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()


def record_failure(db, failure: DeliveryFailed, now: datetime) -> None:
    """Keep ``failure`` for ``nimo status``; the oldest beyond ``KEEP_FAILURES`` are dropped."""
    db.execute("INSERT INTO delivery_failures (at, platform, endpoint, status, error, attempt, retried) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               [_utc(now), failure.platform, failure.endpoint, failure.status, failure.error,
                failure.attempt, int(failure.retried)])
    db.execute("DELETE FROM delivery_failures WHERE id <= (SELECT MAX(id) FROM delivery_failures) - ?",
               [KEEP_FAILURES])


def last_failure(db) -> dict | None:
    row = db.execute("SELECT at, platform, endpoint, status, error, attempt, retried FROM delivery_failures "
                     "ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    at, platform, endpoint, status, error, attempt, retried = row
    return {"platform": platform, "endpoint": endpoint, "status": status, "error": error,
            "attempt": attempt, "retried": bool(retried), "at": at}


class ReplyClaims:
    """The answer to one inbox event, claimed in ``deliveries`` under ``reply:<event key>`` before
    it is sent and marked sent after.  A row left 'claimed' means an earlier attempt may have gone
    out (the worker died before it could tell): the retry then must not push what the spent reply
    token may already have shown."""

    def __init__(self, db, clock):
        self.db = db
        self.clock = clock

    def begin(self, platform: str, key: str) -> str:
        """'new' (nothing tried before), 'tried' (an attempt of unknown outcome) or 'sent'."""
        claim = f"reply:{key}"
        cur = self.db.execute("INSERT OR IGNORE INTO deliveries (key, platform, target, status, created_at) "
                              "VALUES (?, ?, '', 'claimed', ?)", [claim, platform, _utc(self.clock())])
        if cur.rowcount == 1:
            return "new"
        row = self.db.execute("SELECT status FROM deliveries WHERE key = ?", [claim]).fetchone()
        if row is not None and row[0] == "sent":
            return "sent"
        if row is not None and row[0] == "failed":  # every attempt gave up (the inbox row is 'failed'):
            # only an operator's retry comes here, and it is tried as the first time was
            self.db.execute("UPDATE deliveries SET status = 'claimed' WHERE key = ?", [claim])
            return "new"
        return "tried"

    def end(self, key: str, sent: bool) -> None:
        self.db.execute("UPDATE deliveries SET status = ?, sent_at = ? WHERE key = ?",
                        ["sent" if sent else "failed", _utc(self.clock()), f"reply:{key}"])

    def forget_old(self) -> int:
        return self.db.execute("DELETE FROM deliveries WHERE key LIKE 'reply:%' AND created_at < ?",
                               [_utc(self.clock() - KEEP_REPLY_CLAIMS)]).rowcount
