"""The console's access log: every report viewed, every download and every change, with who and
when.  The table refuses UPDATE and DELETE (triggers in migration 8), so no one can edit it
through Nimo; ``detail`` holds filters and field names, never a report's text."""
from __future__ import annotations

from datetime import datetime, timezone


def record(db, who: str, action: str, target: str | None = None, detail: str | None = None, *, now: datetime) -> None:
    db.execute("INSERT INTO access_log (at, who, action, target, detail) VALUES (?, ?, ?, ?, ?)",
               [now.astimezone(timezone.utc).isoformat(), who, action, target, detail])


def page(db, *, limit: int, offset: int) -> tuple[int, list[dict]]:
    total = db.execute("SELECT COUNT(*) FROM access_log").fetchone()[0]
    rows = list(db.query("SELECT * FROM access_log ORDER BY id DESC LIMIT ? OFFSET ?", [limit, offset]))
    return total, rows
