"""What went wrong when the database refused a statement while Nimo runs: a word for logs and
``/readyz``, and a damaged page noticed once per thread.

A lock or a full disk passes by itself (the caller answers 503 and the platform redelivers); a
damaged file does not, so it is recorded where ``/readyz`` reads it and the event that met it is
kept for after a restore.  Standard library only: the web process imports it.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import datetime, timezone

log = logging.getLogger("nimo.db")

MALFORMED = "database disk image is malformed"


def storage_failure(e: sqlite3.Error) -> str:
    """What kept the database from taking a write, in a word for logs and ``/readyz``."""
    name = getattr(e, "sqlite_errorname", "")
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED") or "locked" in str(e):
        return "locked"
    if name == "SQLITE_FULL" or "disk is full" in str(e):
        return "disk full"
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB" or "malformed" in str(e):
        return "damaged"
    if name.startswith("SQLITE_READONLY"):
        return "read-only"
    if name.startswith("SQLITE_IOERR"):
        return "I/O error"
    return "error"


# -- a damaged page met while answering ------------------------------------------------------------
_seen = threading.local()


def is_damage(e: BaseException) -> bool:
    """A damaged database file (not a lock, not a full disk: those pass by themselves)."""
    return isinstance(e, sqlite3.DatabaseError) and (
        getattr(e, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or MALFORMED in str(e))


def note_damage(db, now: datetime) -> None:
    """Say that this thread met a damaged page: the log names it, ``/readyz`` turns not ready (a
    row in ``health``, written if the damaged page allows it), and the worker keeps the event."""
    _seen.flag = True
    log.error("database is damaged (%s): stop Nimo and run `nimo restore BACKUP`", MALFORMED)
    try:
        db.execute("INSERT INTO health (name, ok, detail, checked_at) VALUES ('database', 0, 'malformed', ?) "
                   "ON CONFLICT (name) DO UPDATE SET ok = 0, detail = excluded.detail, "
                   "checked_at = excluded.checked_at", [now.astimezone(timezone.utc).isoformat()])
    except sqlite3.Error as e:
        log.error("database damage could not be recorded for /readyz: %s", type(e).__name__)


def take_damage_flag() -> bool:
    """Whether this thread met a damaged page since the last call (and forget it)."""
    seen = getattr(_seen, "flag", False)
    _seen.flag = False
    return seen
