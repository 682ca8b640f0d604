"""What is checked before a process opens the database file, and the file's permissions.

Why: SQLite opens almost anything.  A zero-byte file (a copy that failed, a full disk) opens as an
empty database, and Nimo would migrate it and tell every user to register; a file of another
application would get Nimo's tables added to it; a damaged page is only met when a user's message
happens to read it.  So every process that opens the database (serve, worker, chat, the CLI) first
looks at the file and refuses anything that is not a healthy Nimo database.  Only a path that does
not exist at all is created silently; an empty or foreign file is replaced only when asked
(``new_db``), and then kept aside, never deleted.

What is wrong is said here as a code (:class:`DatabaseProblem` ``kind``, :class:`Notice` ``kind``);
the Japanese sentence an operator reads is chosen from it by the caller (``bot/messages.py``), so
this package holds no user-facing words.

The database holds personal data, so the file is created owner-only before SQLite opens it
(SQLite gives its -wal and -shm files the main file's mode).  This module is standard library only:
the web process imports it.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("nimo.db")

HEADER = b"SQLite format 3\x00"
QUICK_CHECK_SECONDS = 5.0  # a huge file must not hold up a start: the check stops and says so
PROBLEMS = ("empty", "not_sqlite", "foreign", "newer", "damaged")


class DatabaseProblem(Exception):
    """The file at ``path`` cannot be used as it is.  ``kind`` is one of :data:`PROBLEMS`;
    ``version`` and ``known`` are the file's schema version and the newest this code knows
    (set for 'newer')."""

    def __init__(self, kind: str, path: str, *, version: int = 0, known: int = 0):
        super().__init__(f"{kind}: {path}")
        self.kind, self.path, self.version, self.known = kind, path, version, known


@dataclass(frozen=True)
class Notice:
    """Something to tell whoever started the process, the file being usable: the check was cut
    short after ``seconds`` ('incomplete'), or the file was moved to ``aside`` ('moved_aside')."""
    kind: str
    path: str
    aside: str = ""
    seconds: float = 0.0


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
          budget: float = QUICK_CHECK_SECONDS) -> list[Notice]:
    """Refuse (:class:`DatabaseProblem`) a file that is not a healthy Nimo database; return what
    to tell (a check cut short, a file moved aside).  A missing file passes."""
    path = Path(path)
    if not path.exists():
        return []
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(len(HEADER))
    problem = None
    if size == 0:
        problem = DatabaseProblem("empty", str(path))
    elif head != HEADER:
        problem = DatabaseProblem("not_sqlite", str(path))
    else:
        problem, notices = _inspect(path, known_version, budget)
        if problem is None:
            return notices
    if new_db and problem.kind in ("empty", "not_sqlite", "foreign"):
        aside = set_aside(path, "replaced")
        return [Notice("moved_aside", str(path), aside=str(aside))]
    raise problem


def _inspect(path: Path, known_version: int, budget: float) -> tuple[DatabaseProblem | None, list[Notice]]:
    conn = sqlite3.connect(path, timeout=budget, isolation_level=None)
    try:
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                  "AND name NOT LIKE 'sqlite_%'").fetchone()[0]
        except sqlite3.DatabaseError as e:
            if getattr(e, "sqlite_errorname", "") == "SQLITE_NOTADB":
                return DatabaseProblem("not_sqlite", str(path)), []
            if getattr(e, "sqlite_errorname", "") == "SQLITE_BUSY":
                raise
            return DatabaseProblem("damaged", str(path)), []
        if version == 0 and tables:
            return DatabaseProblem("foreign", str(path)), []
        if version > known_version:
            return DatabaseProblem("newer", str(path), version=version, known=known_version), []
        ok, complete = quick_check(conn, budget)
        if not ok:
            log.error("database check: %s is damaged (quick_check failed)", path)
            return DatabaseProblem("damaged", str(path)), []
        if not complete:
            log.warning("database check: quick_check stopped after %.0f s, not completed", budget)
            return None, [Notice("incomplete", str(path), seconds=budget)]
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
