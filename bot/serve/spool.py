"""Events kept in files while the database cannot take them, for platforms that never redeliver.

LINE and Slack send an event again when Nimo answers 503, so a locked database costs nothing there.
LINE WORKS does not resend a callback that failed, so a 503 would lose the message.  When the
database is locked, the web process therefore writes the verified event to an owner-only file in
``spool/`` beside the database and answers 200; the worker moves the files into the inbox (where
the event's key still dedupes it) as soon as the database takes writes, oldest first.  On a full
disk this file cannot be written either: then the answer is 503 and the log says so.
Standard library only: the web process imports it.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path

log = logging.getLogger("nimo.spool")


def spool_dir(db_path: str | Path) -> Path:
    return Path(db_path).parent / "spool"


def save(directory: Path, platform: str, key: str, sender: str | None, payload: dict) -> Path:
    """Write one event atomically (temp file, fsync, rename); raises OSError when it cannot."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)  # mkdir's mode is reduced by the umask
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"platform": platform, "key": key, "sender": sender, "payload": payload}, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        target = directory / f"{time.time_ns():020d}-{os.getpid()}-{Path(tmp).stem.lstrip('.')}.json"
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def drain(directory: Path, inbox) -> list[int]:
    """Move the spooled events into ``inbox``, oldest first; the new rows' ids.  Stops at the
    first database error (the files stay for the next try)."""
    if not directory.is_dir():
        return []
    rows = []
    for f in sorted(directory.glob("*.json")):
        try:
            ev = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:  # cannot happen for a file renamed into place; kept aside
            log.error("spool: unreadable event file kept aside: %s", type(e).__name__)
            os.replace(f, f.with_suffix(".bad"))
            continue
        try:
            row = inbox.add(ev["platform"], ev["key"], ev["payload"], sender=ev["sender"])
        except sqlite3.Error as e:
            log.warning("spool: database still refuses writes: %s", type(e).__name__)
            break
        f.unlink()
        if row is not None:
            rows.append(row)
    return rows
