"""One write transaction on a SQLite connection: ``with immediate(conn): ...``.

Why IMMEDIATE: it takes the write lock at BEGIN, so a transaction that reads and then writes waits
for another writer up front (the connection's busy timeout) instead of failing half-way with
"database is locked".  Why here: the reminder engine and the chat (bot/) both need it, and
``scheduler`` must not import ``bot`` (tests/test_layering.py), while ``bot`` may import this.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, TypeVar

C = TypeVar("C")


@contextmanager
def immediate(conn: C) -> Iterator[C]:
    """BEGIN IMMEDIATE; COMMIT when the block ends (also by ``return``); ROLLBACK and re-raise on any
    exception, KeyboardInterrupt included.  ``conn`` is anything with ``execute`` (a sqlite3
    connection or a sqlite-utils Database) in autocommit mode (``isolation_level=None``)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
