"""The engine's own SQLite connections: one per thread, opened from the database file's path.

Why: a sqlite3 connection carries one transaction at a time.  When the scheduler's threads share
one, one thread's statements land inside another's transaction or savepoint (sqlite-utils wraps
every ``query`` in one), and reminders are lost or fail with "no such savepoint".  So whatever the
caller hands the engine, the engine only takes the file's path from it and opens its own
connections.  A private in-memory database has no path another connection could open, so it is
refused with a clear error instead of being shared.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import sqlite_utils


def path_of(db) -> str:
    """The file behind ``db``: a path, or anything with ``execute`` (sqlite-utils, sqlite3, wrappers)."""
    if isinstance(db, (str, Path)):
        path = str(db)
    else:
        rows = db.execute("PRAGMA database_list").fetchall()
        path = next((r[2] for r in rows if r[1] == "main"), "") or ""
    if path in ("", ":memory:") or path.startswith("file::memory:") or "mode=memory" in path:
        raise ValueError("the reminder engine needs a database file: an in-memory database cannot be "
                         "opened again by the engine's threads (use a file, e.g. in tmp_path)")
    return path


class ThreadConnections:
    """One sqlite-utils ``Database`` per thread to the same (already migrated) file.

    WAL (set on the file by ``open_db``) lets these read while one of them writes; ``timeout``
    makes a writer wait for another process's write instead of failing.
    """

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA secure_delete=ON")  # as bot/db.py: nothing deleted lingers in the file
            db = self._local.db = sqlite_utils.Database(conn)
            with self._lock:
                self._all.append(conn)
        return db

    def close_all(self) -> None:
        """Close every connection opened so far (once the threads that used them are done)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
