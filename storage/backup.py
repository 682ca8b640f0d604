"""``nimo backup`` and ``nimo restore``, and the worker's daily backup.

A backup is two things side by side: ``PATH``, a single SQLite file (rollback journal, so it is
one file that can be copied anywhere), and ``PATH.photos/``, the photo files its reports hold.
Plain files rather than a tar: an operator can look at or restore a single photo by hand, and
nothing has to be read into memory.  The database part is taken with SQLite's online backup API in
one step: it reads one snapshot (WAL lets the worker go on writing meanwhile), so every report
committed before the backup began is in it, and nothing half-written is.  Photos are written
before their report is saved and never change (their names are their hash), so copying the files
the snapshot names, after the snapshot, finds each of them.

Everything a backup holds is personal data: files are 0600, folders 0700, whatever the umask.

It lives with the database's other file handling (not in ``bot``) because what it copies and
carries is the schema's: the photos ``report_photos`` names, the ``inbox`` rows not yet answered,
the worker's heartbeat in ``leases``.  What went wrong is a code (:class:`BackupError`); the
operator's Japanese is chosen from it in ``bot/messages.py``.
"""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from storage import files
from storage.connections import LOCK_WAIT_S, is_memory

log = logging.getLogger("nimo.backup")


class BackupError(Exception):
    """Why a backup or a restore was not made.  ``code``: 'exists' (``path`` is there already),
    'no_database' (no database at ``path``), 'missing' (no backup at ``path``), 'bad' (the backup
    at ``path`` is not a healthy Nimo database: ``why`` is a :data:`storage.files.PROBLEMS` kind or
    'not_nimo'), 'worker_alive' (a worker is running on the database), 'memory' (the database is
    in memory: it has no file to copy or to put one in place of)."""

    def __init__(self, code: str, path: str = "", why: str = ""):
        super().__init__(f"{code}: {path}" + (f" ({why})" if why else ""))
        self.code, self.path, self.why = code, path, why


@dataclass(frozen=True)
class Done:
    path: Path
    photos: int
    aside: Path | None = None
    carried: int = 0


def photos_of(path: Path) -> Path:
    return path.with_name(path.name + ".photos")


def _private_dir(d: Path) -> None:
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(d, 0o700)  # mkdir's mode is reduced by the umask


def _copy_private(src: Path, dst: Path) -> None:
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
        shutil.copyfileobj(f, out)


def _snapshot(src_path: Path, dst_path: Path) -> None:
    """An online backup of ``src_path`` into a new owner-only single file ``dst_path``."""
    files.create_private(dst_path)
    src = sqlite3.connect(src_path, timeout=LOCK_WAIT_S)
    dst = sqlite3.connect(dst_path, isolation_level=None)
    try:
        src.backup(dst)  # pages=-1: the whole database from one read snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()


def _photo_names(db_file: Path) -> list[str]:
    conn = sqlite3.connect(db_file)
    try:
        return sorted({Path(r[0]).name for r in conn.execute("SELECT path FROM report_photos")})
    finally:
        conn.close()


def _copy_photos(names: list[str], src_dir: Path, dst_dir: Path) -> int:
    n = 0
    for name in names:
        f = src_dir / name
        if not f.is_file():
            log.warning("backup: a photo named in the database is missing")
            continue
        if n == 0:
            _private_dir(dst_dir)
        if not (dst_dir / name).exists():
            _copy_private(f, dst_dir / name)
        n += 1
    return n


def backup(db_path: str | Path, dest: str | Path) -> Done:
    """Copy the database (while it is in use) and its reports' photos to ``dest`` and ``dest.photos``."""
    if is_memory(db_path):
        raise BackupError("memory", str(db_path))
    db_path, dest = Path(db_path), Path(dest)
    if dest.exists() or photos_of(dest).exists():
        raise BackupError("exists", str(dest))
    if not db_path.is_file():
        raise BackupError("no_database", str(db_path))
    if not dest.parent.is_dir():
        _private_dir(dest.parent)
    try:
        _snapshot(db_path, dest)
        photos = _copy_photos(_photo_names(dest), db_path.parent / "photos", photos_of(dest))
    except BaseException:
        dest.unlink(missing_ok=True)
        shutil.rmtree(photos_of(dest), ignore_errors=True)
        raise
    return Done(dest, photos)


def worker_alive(db_path: Path, now: datetime) -> bool:
    """A worker's heartbeat in ``leases`` that has not run out (False if it cannot be read)."""
    if not db_path.is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT 1 FROM leases WHERE name LIKE 'worker:%' AND expires_at > ?",
                               [now.astimezone(timezone.utc).isoformat()]).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None


def _open_events(db_path: Path) -> list[tuple]:
    """The events the database being replaced had not answered yet (best effort: it may be damaged)."""
    if not db_path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT platform, event_id, payload, received_at, sender FROM inbox "
                                "WHERE status IN ('new', 'working') ORDER BY id").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as e:
        log.warning("restore: unanswered events could not be read from the old database: %s", type(e).__name__)
        return []


def restore(db_path: str | Path, src: str | Path, *, known_version: int, now: datetime,
            force: bool = False) -> Done:
    """Put the backup ``src`` in place of the database (checked first; the old file kept aside).

    The events the old database had stored but not answered are carried into the restored one, so
    what a user sent while the database was damaged is answered once the worker starts again."""
    if is_memory(db_path):
        raise BackupError("memory", str(db_path))
    db_path, src = Path(db_path), Path(src)
    if not src.is_file():
        raise BackupError("missing", str(src))
    try:
        files.check(src, known_version=known_version)
    except files.DatabaseProblem as e:
        raise BackupError("bad", str(src), e.kind) from None
    if not _is_nimo(src):
        raise BackupError("bad", str(src), "not_nimo")
    if not force and worker_alive(db_path, now):
        raise BackupError("worker_alive", str(db_path))
    if not db_path.parent.is_dir():
        _private_dir(db_path.parent)
    tmp = db_path.with_name(f".{db_path.name}.restoring")
    tmp.unlink(missing_ok=True)
    try:
        _snapshot(src, tmp)
        carried = _carry(tmp, _open_events(db_path))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    aside = files.set_aside(db_path, "before-restore") if db_path.exists() else None
    os.replace(tmp, db_path)
    photos = _copy_photos(_photo_names(db_path), photos_of(src), db_path.parent / "photos")
    return Done(db_path, photos, aside, carried)


def _is_nimo(path: Path) -> bool:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    return version > 0 and {"inbox", "reports", "users"} <= tables


def _carry(db_file: Path, events: list[tuple]) -> int:
    conn = sqlite3.connect(db_file, isolation_level=None)
    try:
        conn.execute("BEGIN")
        n = 0
        for platform, event_id, payload, received_at, sender in events:
            n += conn.execute("INSERT OR IGNORE INTO inbox (platform, event_id, payload, status, received_at, sender) "
                              "VALUES (?, ?, ?, 'new', ?, ?)", [platform, event_id, payload, received_at, sender]).rowcount
        conn.execute("DELETE FROM health WHERE name = 'database'")  # damage recorded before it was taken
        conn.execute("COMMIT")
        return n
    finally:
        conn.close()


# -- the worker's daily backup ----------------------------------------------------------------------
def daily(db_path: str | Path, directory: str | Path, keep: int, now: datetime) -> Path | None:
    """Today's backup in ``directory`` unless there is one already, then only the newest ``keep``
    kept; the new backup's path, or None when today's was there."""
    directory = Path(directory)
    _private_dir(directory)
    dest = directory / f"nimo-{now.astimezone(timezone.utc):%Y%m%d}.db"
    made = None
    if not dest.exists():
        made = backup(db_path, dest).path
    old = sorted(directory.glob("nimo-[0-9]*.db"))[:-max(keep, 1)]
    for f in old:
        f.unlink(missing_ok=True)
        shutil.rmtree(photos_of(f), ignore_errors=True)
    return made
