"""What Nimo remembers of a conversation between messages, per (platform, user, conversation), in
SQLite.

A state has a readable name and JSON data, and ends on its own after a timeout, so that a
follow-up such as 「次」 days later does not continue a conversation the user has forgotten.
Keeping it in the database (not in memory) lets it survive a restart and several web processes.
Each conversation (:class:`bot.routes.Conversation`) has a slot of its own, named by the
conversation and found from the state's name, so a pending 「はい／いいえ」, the answer being paged
with 「次」 and a report being written are kept side by side instead of the last one erasing the
others.

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

from .routes import Conversation

TIMEOUTS: dict[str, timedelta] = {}
DEFAULT_TIMEOUT = timedelta(minutes=30)
_SLOT: dict[str, str] = {}                       # state name -> its conversation's slot
CONVERSATIONS: dict[str, Conversation] = {}      # slot -> the conversation

# state name -> fn(db, data, next_data): next_data is the replacing state's data, or None
_ON_END: dict[str, Callable[[object, dict, dict | None], None]] = {}


def conversation(conv: Conversation) -> Conversation:
    """Declare a conversation (a handler module does, at import): its states' slot and timeout."""
    CONVERSATIONS[conv.name] = conv
    for state in conv.states:
        _SLOT[state] = conv.name
        TIMEOUTS[state] = conv.timeout
    return conv


def slot_of(name: str) -> str:
    return _SLOT.get(name, name)

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
    slot: str = ""


class Dialogs:
    def __init__(self, db):
        self.db = db

    def get(self, platform: str, user: str, now: datetime, *names: str) -> State | None:
        """The live state among ``names`` (their conversations' slots); with no names, the one
        most recently written of any conversation."""
        rows = self._rows(platform, user, names)
        live = [r for r in rows if r[1] in names or not names]
        live = [r for r in live if not _timed_out(r[1], r[3], now)]
        if not live:
            return None
        slot, name, data, updated = max(live, key=lambda r: r[3])
        return State(name, json.loads(data), datetime.fromisoformat(updated), slot)

    def active(self, platform: str, user: str, now: datetime) -> list[State]:
        """Every live state of this user, the most recent first."""
        rows = [r for r in self._rows(platform, user, ()) if not _timed_out(r[1], r[3], now)]
        return [State(n, json.loads(d), datetime.fromisoformat(u), s)
                for s, n, d, u in sorted(rows, key=lambda r: r[3], reverse=True)]

    def set(self, platform: str, user: str, name: str, data: dict, now: datetime) -> None:
        slot = slot_of(name)
        before = self._row(platform, user, slot) if _ON_END else None
        self.db.execute(
            "INSERT INTO dialog_state (platform, user, slot, name, data, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, user, slot) DO UPDATE SET name = excluded.name, data = excluded.data, "
            "updated_at = excluded.updated_at",
            [platform, user, slot, name, json.dumps(data, ensure_ascii=False), now.isoformat()])
        if before:
            self._ended(before, data)

    def pop_expired(self, platform: str, user: str, now: datetime) -> list[str]:
        """The names of the states that timed out (and forget them), so the user can be told."""
        gone = []
        for slot, name, data, updated in self._rows(platform, user, ()):
            if _timed_out(name, updated, now):
                self.clear(platform, user, name)
                gone.append(name)
        return gone

    def clear(self, platform: str, user: str, *names: str) -> None:
        """End the conversations of ``names`` (every one of this user's with no names)."""
        for slot, name, data, updated in self._rows(platform, user, names):
            self.db.execute("DELETE FROM dialog_state WHERE platform = ? AND user = ? AND slot = ?",
                            [platform, user, slot])
            self._ended((name, data, updated), None)

    def sweep(self, now: datetime) -> int:
        """Forget every state that timed out, also of users who never wrote again; how many."""
        rows = self.db.execute("SELECT platform, user, slot, name, data, updated_at FROM dialog_state").fetchall()
        n = 0
        for platform, user, slot, name, data, updated in rows:
            if not _timed_out(name, updated, now):
                continue
            gone = self.db.execute(
                "DELETE FROM dialog_state WHERE platform = ? AND user = ? AND slot = ? AND updated_at = ?",
                [platform, user, slot, updated]).rowcount  # unless its user just wrote
            if gone:
                n += 1
                self._ended((name, data, updated), None)
        return n

    def _rows(self, platform: str, user: str, names: tuple[str, ...]) -> list[tuple]:
        rows = self.db.execute("SELECT slot, name, data, updated_at FROM dialog_state WHERE platform = ? AND user = ?",
                               [platform, user]).fetchall()
        slots = {slot_of(n) for n in names}
        return [tuple(r) for r in rows if not names or r[0] in slots]

    def _row(self, platform: str, user: str, slot: str) -> tuple | None:
        return self.db.execute("SELECT name, data, updated_at FROM dialog_state WHERE platform = ? AND user = ? "
                               "AND slot = ?", [platform, user, slot]).fetchone()

    def _ended(self, row: tuple, next_data: dict | None) -> None:
        fn = _ON_END.get(row[0])
        if fn:
            fn(self.db, json.loads(row[1]), next_data)
