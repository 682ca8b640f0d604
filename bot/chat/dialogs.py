"""What Nimo remembers of a conversation between messages, per (platform, user, conversation), in
SQLite.

A state has a readable name and JSON data, and ends on its own after a timeout, so that a
follow-up such as 「次」 days later does not continue a conversation the user has forgotten.
Keeping it in the database (not in memory) lets it survive a restart and several web processes.
Each conversation (:class:`bot.chat.routes.Conversation`) has a slot of its own, named by the
conversation and found from the state's name, so a pending 「はい／いいえ」, the answer being paged
with 「次」 and a report being written are kept side by side instead of the last one erasing the
others.

A state can hold things outside this table (a report draft holds photo files), so the conversation
that owns a state may declare what must happen when it ends (``Conversation.on_end``): the end is
seen here, whether the state is cleared, replaced, found timed out when its user writes again
(``pop_expired``), or swept long after its user has gone (``sweep``).  Which conversation a state
belongs to, its timeout and its end hook come from the registry the app was built with
(:mod:`bot.chat.registry`), handed to :class:`Dialogs` when it is made.

What a user typed rests here only masked.  A conversation that must still offer the words as
typed across turns (a report's 「そのまま確定」) stores them sealed (:meth:`Dialogs.seal`):
encrypted with a key kept outside the database, in a file beside it readable by its owner only
(``nimo.db.key``), so a copy of the database file (``nimo backup``) holds no readable draft.  An
in-memory database gets a key that lives as long as the process.  A seal that cannot be opened
(the key file was removed) is treated as absent: what is left is the masked text.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime

from bot.chat.registry import Registry
from storage.connections import file_of


def key_path(db) -> str | None:
    """Where the sealing key of ``db`` is kept: ``nimo.db.key`` beside ``nimo.db``; None in memory."""
    path = file_of(db)
    return f"{path}.key" if path else None


def _key_for(db) -> bytes:
    """The key of ``db``'s seals, made on first use.  It is written to a file of its own (owner-only
    from its first byte) and linked into place, so two processes starting at once never read a
    half-written key: the first link wins, and both read that one."""
    from cryptography.fernet import Fernet
    path = key_path(db)
    if path is None:
        return Fernet.generate_key()
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:  # another process made it first: use theirs
                pass
        finally:
            os.unlink(tmp)
    with open(path, "rb") as f:
        return f.read().strip()


@dataclass(frozen=True)
class State:
    name: str
    data: dict
    updated_at: datetime
    slot: str = ""


class Dialogs:
    """The dialog states of ``db``, read with the conversations ``registry`` declares (pass
    ``Registry.empty()`` to keep states with none)."""

    def __init__(self, db, registry: Registry):
        self.db = db
        self.registry = registry
        self._fernet = None
        self._key_lock = threading.Lock()

    def seal(self, value) -> str:
        """``value`` (anything JSON can hold) as a token only this database's key opens."""
        return self._cipher().encrypt(json.dumps(value, ensure_ascii=False).encode("utf-8")).decode("ascii")

    def unseal(self, token):
        """What ``seal`` sealed, or None when ``token`` is missing or cannot be opened."""
        from cryptography.fernet import InvalidToken
        if not isinstance(token, str):
            return None
        try:
            return json.loads(self._cipher().decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError):
            return None

    def keep_masked(self, data: dict, keys) -> dict:
        """``data`` as it may rest in the table: the text under ``keys`` masked by the privacy
        guard, and the text that masking changed, as typed, sealed under ``"sealed"``."""
        from bot.privacy.guard import guard
        typed = {k: data[k] for k in keys if isinstance(data.get(k), str) and guard(data[k])[1]}
        if not typed:
            return dict(data)
        return {**data, **{k: guard(v)[0] for k, v in typed.items()}, "sealed": self.seal(typed)}

    def as_typed(self, data: dict) -> dict:
        """What ``keep_masked`` kept, with the text as typed when its seal opens (else masked)."""
        data = dict(data)
        typed = self.unseal(data.pop("sealed", None))
        if isinstance(typed, dict):
            data.update({k: v for k, v in typed.items() if k in data})
        return data

    def _cipher(self):
        """The key is read (or made) on first use, so processes that never seal (the web
        process) never touch it."""
        with self._key_lock:
            if self._fernet is None:
                from cryptography.fernet import Fernet
                self._fernet = Fernet(_key_for(self.db))
            return self._fernet

    def get(self, platform: str, user: str, now: datetime, *names: str) -> State | None:
        """The live state among ``names`` (their conversations' slots); with no names, the one
        most recently written of any conversation."""
        rows = self._rows(platform, user, names)
        live = [r for r in rows if r[1] in names or not names]
        live = [r for r in live if not self._timed_out(r[1], r[3], now)]
        if not live:
            return None
        slot, name, data, updated = max(live, key=lambda r: r[3])
        return State(name, json.loads(data), datetime.fromisoformat(updated), slot)

    def active(self, platform: str, user: str, now: datetime) -> list[State]:
        """Every live state of this user, the most recent first."""
        rows = [r for r in self._rows(platform, user, ()) if not self._timed_out(r[1], r[3], now)]
        return [State(n, json.loads(d), datetime.fromisoformat(u), s)
                for s, n, d, u in sorted(rows, key=lambda r: r[3], reverse=True)]

    def set(self, platform: str, user: str, name: str, data: dict, now: datetime) -> None:
        slot = self.registry.slot_of(name)
        before = self._row(platform, user, slot) if self.registry.has_end_hooks() else None
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
            if self._timed_out(name, updated, now):
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
            if not self._timed_out(name, updated, now):
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
        slots = {self.registry.slot_of(n) for n in names}
        return [tuple(r) for r in rows if not names or r[0] in slots]

    def _row(self, platform: str, user: str, slot: str) -> tuple | None:
        return self.db.execute("SELECT name, data, updated_at FROM dialog_state WHERE platform = ? AND user = ? "
                               "AND slot = ?", [platform, user, slot]).fetchone()

    def _timed_out(self, name: str, updated_at: str, now: datetime) -> bool:
        return now - datetime.fromisoformat(updated_at) > self.registry.timeout_of(name)

    def _ended(self, row: tuple, next_data: dict | None) -> None:
        fn = self.registry.on_end_of(row[0])
        if fn:
            fn(self.db, json.loads(row[1]), next_data)
