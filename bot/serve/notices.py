"""Sentences for one user that something outside chat decided (the console publishing or declining
a case proposal), sent by the worker process, which holds the platform clients.

The web process only writes a row in ``chat_notices``; :class:`NoticeSender` (started by
``nimo worker``) looks every few seconds, claims each notice under a key in ``deliveries`` (so two
workers never send one twice) and pushes it.  A push that fails is tried again on later looks, at
most ``MAX_ATTEMPTS`` times; the text never reaches the log.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Callable

from bot.chat.core import Text

log = logging.getLogger("nimo.notices")
MAX_ATTEMPTS = 5


def add(db, platform: str, user_id: str, text: str, now: datetime) -> int:
    return db.execute("INSERT INTO chat_notices (platform, user_id, text, created_at) VALUES (?, ?, ?, ?)",
                      [platform, user_id, text, _utc(now)]).lastrowid


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()


class NoticeSender:
    def __init__(self, db, pushers: dict, *, clock: Callable[[], datetime], every: float = 3.0):
        self.db, self.pushers, self.clock, self.every = db, pushers, clock, every
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def send_due(self) -> int:
        """Send every unsent notice whose platform is reachable; how many were sent."""
        sent = 0
        # never to a person who was deactivated (they left): their notices stay unsent
        rows = self.db.execute("SELECT id, platform, user_id, text FROM chat_notices n WHERE sent_at IS NULL "
                               "AND attempts < ? AND NOT EXISTS (SELECT 1 FROM users u WHERE u.platform = n.platform "
                               "AND u.user_id = n.user_id AND u.removed_at IS NOT NULL) ORDER BY id LIMIT 100",
                               [MAX_ATTEMPTS]).fetchall()
        for nid, platform, user, text in rows:
            pusher = self.pushers.get(platform)
            if pusher is None:
                continue
            key = f"notice:{nid}"
            now = _utc(self.clock())
            claimed = self.db.execute("INSERT OR IGNORE INTO deliveries (key, platform, target, status, created_at) "
                                      "VALUES (?, ?, ?, 'claimed', ?)", [key, platform, user, now]).rowcount == 1
            if not claimed:
                continue
            try:
                ok = pusher.push_user(user, [Text(text)], key)
            except Exception as e:  # the kind of failure only
                log.error("notice %s: push failed: %s", nid, type(e).__name__)
                ok = False
            if ok:
                self.db.execute("UPDATE deliveries SET status = 'sent', sent_at = ? WHERE key = ?", [now, key])
                self.db.execute("UPDATE chat_notices SET sent_at = ?, attempts = attempts + 1 WHERE id = ?", [now, nid])
                sent += 1
            else:  # free the claim, so a later look tries again
                self.db.execute("DELETE FROM deliveries WHERE key = ?", [key])
                self.db.execute("UPDATE chat_notices SET attempts = attempts + 1 WHERE id = ?", [nid])
        return sent

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="nimo-notices", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            try:
                self.send_due()
            except Exception as e:
                log.error("notices: %s", type(e).__name__)

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(5)
