"""What is checked before a process opens the database file, and the file's permissions.

Why: SQLite opens almost anything.  A zero-byte file (a copy that failed, a full disk) opens as an
empty database, and Nimo would migrate it and tell every user to register; a file of another
application would get Nimo's tables added to it; a damaged page is only met when a user's message
happens to read it.  So every process that opens the database (serve, worker, chat, the CLI) first
looks at the file and refuses, in Japanese and with what to do, anything that is not a healthy Nimo
database.  Only a path that does not exist at all is created silently, as before; an empty or
foreign file is replaced only when asked (``NIMO_NEW_DB=1``), and then kept aside, never deleted.

The database holds personal data, so the file is created owner-only before SQLite opens it
(SQLite gives its -wal and -shm files the main file's mode).  This module is standard library only:
the web process imports it.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from bot import messages

log = logging.getLogger("nimo.db")

HEADER = b"SQLite format 3\x00"
QUICK_CHECK_SECONDS = 5.0  # a huge file must not hold up a start: the check stops and says so
MALFORMED = "database disk image is malformed"


class DatabaseProblem(Exception):
    """The file cannot be used as it is; ``str()`` is a Japanese sentence saying what to do."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # 'empty', 'not_sqlite', 'foreign', 'newer', 'damaged'


def create_private(path: Path) -> None:
    """Create ``path`` (and its folder) owner-only if it does not exist, whatever the umask."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(parent, 0o700)  # mkdir's mode is reduced by the umask
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def check(path: str | Path, *, known_version: int, new_db: bool = False,
          budget: float = QUICK_CHECK_SECONDS) -> list[str]:
    """Refuse (:class:`DatabaseProblem`) a file that is not a healthy Nimo database; return the
    warnings to show (a check cut short, a file moved aside).  A missing file passes."""
    path = Path(path)
    if not path.exists():
        return []
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(len(HEADER))
    problem = None
    if size == 0:
        problem = DatabaseProblem("empty", messages.db_empty_file(str(path)))
    elif head != HEADER:
        problem = DatabaseProblem("not_sqlite", messages.db_not_sqlite(str(path)))
    else:
        problem, warnings = _inspect(path, known_version, budget)
        if problem is None:
            return warnings
    if new_db and problem.kind in ("empty", "not_sqlite", "foreign"):
        aside = set_aside(path, "replaced")
        return [messages.db_moved_aside(str(path), str(aside))]
    raise problem


def _inspect(path: Path, known_version: int, budget: float) -> tuple[DatabaseProblem | None, list[str]]:
    conn = sqlite3.connect(path, timeout=budget, isolation_level=None)
    try:
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                  "AND name NOT LIKE 'sqlite_%'").fetchone()[0]
        except sqlite3.DatabaseError as e:
            if getattr(e, "sqlite_errorname", "") == "SQLITE_NOTADB":
                return DatabaseProblem("not_sqlite", messages.db_not_sqlite(str(path))), []
            if getattr(e, "sqlite_errorname", "") == "SQLITE_BUSY":
                raise
            return DatabaseProblem("damaged", messages.db_damaged(str(path))), []
        if version == 0 and tables:
            return DatabaseProblem("foreign", messages.db_foreign(str(path))), []
        if version > known_version:
            return DatabaseProblem("newer", messages.db_newer(str(path), version, known_version)), []
        ok, complete = quick_check(conn, budget)
        if not ok:
            log.error("database check: %s is damaged (quick_check failed)", path)
            return DatabaseProblem("damaged", messages.db_damaged(str(path))), []
        if not complete:
            log.warning("database check: quick_check stopped after %.0f s, not completed", budget)
            return None, [messages.db_check_incomplete(budget)]
        return None, []
    finally:
        conn.close()


def quick_check(conn: sqlite3.Connection, budget: float) -> tuple[bool, bool]:
    """SQLite's ``PRAGMA quick_check``, stopped after ``budget`` seconds: (no damage found, the
    check ran to its end)."""
    deadline = time.monotonic() + budget
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.OperationalError as e:
        if "interrupted" in str(e):
            return True, False
        return False, True
    except sqlite3.DatabaseError:
        return False, True
    finally:
        conn.set_progress_handler(None, 0)
    return rows == [("ok",)], True


def set_aside(path: Path, why: str) -> Path:
    """Move ``path`` (with its -wal and -shm) to a new name beside it; the new name."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.{why}-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.{why}-{stamp}-{n}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            os.replace(side, Path(str(aside) + suffix))
    return aside


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


# -- file permissions ------------------------------------------------------------------------------
def open_files(db_path: str | Path, extra: list[Path] = ()) -> list[tuple[Path, int]]:
    """The database's files and folders (and ``extra``) that others than the owner may read or
    write: (path, mode)."""
    db_path = Path(db_path)
    candidates = [db_path, Path(str(db_path) + "-wal"), Path(str(db_path) + "-shm"), db_path.parent / "photos",
                  *extra]
    out = []
    for p in candidates:
        out += _open_in(p)
    return out


def _open_in(p: Path) -> list[tuple[Path, int]]:
    try:
        st = p.lstat()
    except FileNotFoundError:
        return []
    out = []
    if st.st_mode & 0o077:
        out.append((p, stat.S_IMODE(st.st_mode)))
    if stat.S_ISDIR(st.st_mode):
        for child in sorted(p.iterdir()):
            out += _open_in(child)
    return out
