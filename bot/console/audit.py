"""The console's access log: every report viewed, every download and every change, with who and
when.  The table refuses UPDATE and DELETE (triggers in migration 8), so no one can edit it
through Nimo; ``detail`` holds filters and field names, never a report's text.

What is stored stays terse and stable (``line:U…``, ``view_reports``, ``area=千葉市 page=1``) so the
record can be read by a script; :func:`readable` turns a page of it into what an admin reads:
people by name (or role and area), actions and details in Japanese, a first page not mentioned.
"""
from __future__ import annotations

from datetime import datetime, timezone

from bot.people.access import ROLE_LABELS
from bot.console import text


def record(db, who: str, action: str, target: str | None = None, detail: str | None = None, *, now: datetime) -> None:
    db.execute("INSERT INTO access_log (at, who, action, target, detail) VALUES (?, ?, ?, ?, ?)",
               [now.astimezone(timezone.utc).isoformat(), who, action, target, detail])


def page(db, *, limit: int, offset: int) -> tuple[int, list[dict]]:
    total = db.execute("SELECT COUNT(*) FROM access_log").fetchone()[0]
    rows = list(db.query("SELECT * FROM access_log ORDER BY id DESC LIMIT ? OFFSET ?", [limit, offset]))
    return total, rows


def readable(db, rows: list[dict]) -> list[dict]:
    """The rows with ``who``, ``action``, ``target`` and ``detail`` as an admin reads them."""
    from bot.console.queries import author_key
    people = {f"{p}:{u}": (name, role, area)
              for p, u, name, role, area in db.execute("SELECT platform, user_id, display_name, role, area FROM users")}
    keys = {author_key(*who.split(":", 1)): who for who in people}
    return [dict(r, who=_person(r["who"], people), action=text.ACTION_LABELS.get(r["action"], r["action"]),
                 target=_person(keys[r["target"]], people) if r["target"] in keys else (r["target"] or ""),
                 detail=_detail(r["detail"], people, keys)) for r in rows]


def _person(who: str, people: dict) -> str:
    platform = who.split(":", 1)[0]
    label = text.PLATFORM_LABELS.get(platform, platform)
    if who not in people:
        return text.WHO_UNKNOWN.format(platform=label)
    name, role, area = people[who]
    return name or f"{ROLE_LABELS.get(role, role)}・{area}（{label}）"


def _detail(detail: str | None, people: dict, keys: dict) -> str:
    if not detail:
        return ""
    parts = []
    for word in detail.split():
        key, eq, value = word.partition("=")
        if not eq:
            parts.append(text.DETAIL_WORDS.get(word, word))
        elif key == "page" and value == "1":
            continue
        elif key == "author":
            parts.append(f"{text.DETAIL_LABELS['author']}：{_person(keys[value], people) if value in keys else '—'}")
        else:
            shown = ROLE_LABELS.get(value, value) if key == "role" else text.DETAIL_WORDS.get(value, value)
            parts.append(f"{text.DETAIL_LABELS.get(key, key)}：{shown}")
    return "　".join(parts)
