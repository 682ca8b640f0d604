"""What Nimo remembers of a conversation between messages, per (platform, user), in SQLite.

A state has a readable name and JSON data, and ends on its own after a timeout, so that a
follow-up such as 「次」 days later does not continue a conversation the user has forgotten.
Keeping it in the database (not in memory) lets it survive a restart and several web processes.

A state can hold things outside this table (a report draft holds photo files), so whoever defines
a state may register what must happen when it ends (:func:`on_end`): the end is seen here, whether
the state is cleared, replaced, found timed out when its user writes again (``pop_expired``), or
swept long after its user has gone (``sweep``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

TIMEOUTS = {"answer": timedelta(hours=24)}
DEFAULT_TIMEOUT = timedelta(minutes=30)

# state name -> fn(db, data, next_data): next_data is the replacing state's data, or None
_ON_END: dict[str, Callable[[object, dict, dict | None], None]] = {}


def on_end(names, fn: Callable[[object, dict, dict | None], None]) -> None:
    """Run ``fn(db, data, next_data)`` whenever a state called one of ``names`` ends: cleared, timed
    out, or overwritten by ``set`` (also by the next step of itself), ``next_data`` being the new
    data, or None when nothing replaces it.  It runs after the change is written, so a failed
    write loses nothing."""
    for name in names:
        _ON_END[name] = fn


def _timed_out(name: str, updated_at: str, now: datetime) -> bool:
    return now - datetime.fromisoformat(updated_at) > TIMEOUTS.get(name, DEFAULT_TIMEOUT)


@dataclass(frozen=True)
class State:
    name: str
    data: dict
    updated_at: datetime


class Dialogs:
    def __init__(self, db):
        self.db = db

    def get(self, platform: str, user: str, now: datetime) -> State | None:
        row = self.db.execute(
            "SELECT name, data, updated_at FROM dialog_state WHERE platform = ? AND user = ?",
            [platform, user]).fetchone()
        if not row:
            return None
        updated = datetime.fromisoformat(row[2])
        if now - updated > TIMEOUTS.get(row[0], DEFAULT_TIMEOUT):
            return None
        return State(row[0], json.loads(row[1]), updated)

    def set(self, platform: str, user: str, name: str, data: dict, now: datetime) -> None:
        before = self._row(platform, user) if _ON_END else None
        self.db.execute(
            "INSERT INTO dialog_state (platform, user, name, data, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, user) DO UPDATE SET name = excluded.name, data = excluded.data, "
            "updated_at = excluded.updated_at",
            [platform, user, name, json.dumps(data, ensure_ascii=False), now.isoformat()])
        if before:
            self._ended(before, data)

    def pop_expired(self, platform: str, user: str, now: datetime) -> str | None:
        """The name of a state that timed out (and forget it), so the user can be told."""
        row = self._row(platform, user)
        if row and _timed_out(row[0], row[2], now):
            self.clear(platform, user)
            return row[0]
        return None

    def clear(self, platform: str, user: str) -> None:
        before = self._row(platform, user) if _ON_END else None
        self.db.execute("DELETE FROM dialog_state WHERE platform = ? AND user = ?", [platform, user])
        if before:
            self._ended(before, None)

    def sweep(self, now: datetime) -> int:
        """Forget every state that timed out, also of users who never wrote again; how many."""
        rows = self.db.execute("SELECT platform, user, name, data, updated_at FROM dialog_state").fetchall()
        n = 0
        for platform, user, name, data, updated in rows:
            if not _timed_out(name, updated, now):
                continue
            gone = self.db.execute("DELETE FROM dialog_state WHERE platform = ? AND user = ? AND updated_at = ?",
                                   [platform, user, updated]).rowcount  # unless its user just wrote
            if gone:
                n += 1
                self._ended((name, data, updated), None)
        return n

    def _row(self, platform: str, user: str) -> tuple | None:
        return self.db.execute("SELECT name, data, updated_at FROM dialog_state WHERE platform = ? AND user = ?",
                               [platform, user]).fetchone()

    def _ended(self, row: tuple, next_data: dict | None) -> None:
        fn = _ON_END.get(row[0])
        if fn:
            fn(self.db, json.loads(row[1]), next_data)
