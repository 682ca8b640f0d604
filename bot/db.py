"""The SQLite database (through sqlite-utils) and its numbered migrations.

The database is the source of truth for everything Nimo remembers: dialog state, feedback, the
questions it could not answer, local cases.  Migrations are numbered and recorded in
``PRAGMA user_version``, applied in order at start, each in its own transaction, so a half-applied
migration never stays behind.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

MIGRATIONS: tuple[str, ...] = (
    # 1: what the case search needs
    """
    CREATE TABLE dialog_state (
        platform TEXT NOT NULL,
        user TEXT NOT NULL,
        name TEXT NOT NULL,            -- a readable state name, e.g. 'answer'
        data TEXT NOT NULL,            -- JSON
        updated_at TEXT NOT NULL,      -- ISO 8601, UTC
        PRIMARY KEY (platform, user)
    );
    CREATE TABLE gaps (
        id INTEGER PRIMARY KEY,
        question TEXT NOT NULL,        -- exactly what the user typed
        key TEXT NOT NULL,             -- normalised, to count repeats together
        reason TEXT NOT NULL,          -- 'no_match', 'too_long', 'empty', 'no_text'
        platform TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX gaps_key ON gaps(key);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        user TEXT NOT NULL,
        question TEXT NOT NULL,
        case_ids TEXT NOT NULL,        -- JSON list of the cases shown
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        created_at TEXT NOT NULL
    );
    CREATE TABLE local_cases (
        id TEXT PRIMARY KEY,
        yaml TEXT NOT NULL,
        imported_at TEXT NOT NULL
    );
    """,
)


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations not yet applied; return the version reached."""
    conn = db.conn
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, sql in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        try:
            conn.executescript(f"BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {number}; COMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        version = number
    return version


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate.  ``":memory:"`` gives a private in-memory database."""
    if str(path) == ":memory:":
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    db = sqlite_utils.Database(conn)
    migrate(db)
    return db
