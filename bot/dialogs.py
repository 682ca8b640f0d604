"""What Nimo remembers of a conversation between messages, per (platform, user), in SQLite.

A state has a readable name and JSON data, and ends on its own after a timeout, so that a
follow-up such as 「次」 days later does not continue a conversation the user has forgotten.
Keeping it in the database (not in memory) lets it survive a restart and several web processes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

TIMEOUTS = {"answer": timedelta(hours=24)}
DEFAULT_TIMEOUT = timedelta(minutes=30)


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
        self.db.execute(
            "INSERT INTO dialog_state (platform, user, name, data, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, user) DO UPDATE SET name = excluded.name, data = excluded.data, "
            "updated_at = excluded.updated_at",
            [platform, user, name, json.dumps(data, ensure_ascii=False), now.isoformat()])

    def pop_expired(self, platform: str, user: str, now: datetime) -> str | None:
        """The name of a state that timed out (and forget it), so the user can be told."""
        row = self.db.execute("SELECT name, updated_at FROM dialog_state WHERE platform = ? AND user = ?",
                              [platform, user]).fetchone()
        if row and now - datetime.fromisoformat(row[1]) > TIMEOUTS.get(row[0], DEFAULT_TIMEOUT):
            self.clear(platform, user)
            return row[0]
        return None

    def clear(self, platform: str, user: str) -> None:
        self.db.execute("DELETE FROM dialog_state WHERE platform = ? AND user = ?", [platform, user])
