"""The console's reads, each limited to what the viewer may see.

Staff see their own reports and plans, a supervisor those of their area, an admin everything.
The limit is part of every query's WHERE (:func:`scope`), so a page, a download and a single report
cannot disagree about it; a report outside it is "not found", the same as one that does not exist.
Filters come from the query string and are checked here: each mistake is a Japanese sentence for
the page, and a filter with a mistake is not run.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.people.access import OVERSEEING, User
from bot.reports.records import CASE_CODE, TYPES
from bot.console import text

PAGE_SIZE = 50
MAX_FILTER = 100
AUTHOR_CHOICES = 300   # more users than this: choose an area first


def author_key(platform: str, user_id: str) -> str:
    """An opaque stand-in for a user in URLs (a filter link never carries a platform's user id)."""
    return hashlib.sha256(f"{platform}:{user_id}".encode()).hexdigest()[:16]


@dataclass
class Filters:
    area: str = ""
    type: str = ""
    since: str = ""
    until: str = ""
    author: str = ""          # an author_key
    case: str = ""            # a case code as stored (K-034), to follow one person's history
    page: int = 1
    errors: list[str] = field(default_factory=list)
    author_id: tuple[str, str] | None = None   # (platform, user_id) once the key is resolved

    def query(self, **change) -> dict:
        """The filters as query-string arguments (for links to other pages and downloads)."""
        out = {k: getattr(self, k) for k in ("area", "type", "since", "until", "author", "case") if getattr(self, k)}
        out.update({k: v for k, v in change.items() if v})
        return out

    def describe(self) -> str:
        """For the access log: what was asked, with no personal data."""
        return " ".join(f"{k}={v}" for k, v in self.query().items()) or "all"


def scope(viewer: User, *, platform_col: str = "platform", owner_col: str = "author",
          area_col: str = "area") -> tuple[str, list]:
    if viewer.role == "admin":
        return "1 = 1", []
    if viewer.role == "supervisor":
        return f"{area_col} = ?", [viewer.area]
    return f"{platform_col} = ? AND {owner_col} = ?", [viewer.platform, viewer.user_id]


def _date(value: str, label: str, errors: list[str]) -> str:
    if not value:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        errors.append(text.bad_date(label))
        return ""


def read_filters(args, viewer: User, db) -> Filters:
    f = Filters()
    errors = f.errors
    for name in ("area", "type", "since", "until", "author", "case", "page"):
        if len(args.get(name, "")) > MAX_FILTER:
            errors.append(text.TOO_LONG_FILTER)
            return f
    f.area = args.get("area", "").strip()
    if viewer.role == "supervisor":
        f.area = viewer.area
    elif viewer.role not in OVERSEEING:  # staff and peers see their own only
        f.area = ""
    f.type = args.get("type", "").strip()
    if f.type and f.type not in TYPES:
        errors.append(text.BAD_TYPE)
        f.type = ""
    f.since = _date(args.get("since", "").strip(), "いつから", errors)
    f.until = _date(args.get("until", "").strip(), "いつまで", errors)
    if f.since and f.until and f.since > f.until:
        errors.append(text.DATES_REVERSED)
    f.author = args.get("author", "").strip()
    if f.author and viewer.role in OVERSEEING:
        match = [(p, u) for p, u in _candidates(db, viewer, f.area) if author_key(p, u) == f.author]
        if not match:
            errors.append(text.BAD_AUTHOR)
        else:
            f.author_id = match[0]
    elif viewer.role not in OVERSEEING:  # staff and peers see their own only
        f.author = ""
    case = unicodedata.normalize("NFKC", args.get("case", "")).strip().upper()
    case = re.sub(r"(?<=[A-Z])[\u2010-\u2015\u2212\u30fc]", "-", case)  # ‐ – ― − ー as people type them
    if case and not CASE_CODE.match(case):
        errors.append(text.BAD_CASE_CODE)
    else:
        f.case = case
    page = args.get("page", "1").strip() or "1"
    if not page.isdigit() or int(page) < 1 or len(page) > 9:
        errors.append(text.BAD_PAGE)
    else:
        f.page = int(page)
    return f


def _candidates(db, viewer: User, area: str) -> list[tuple[str, str]]:
    if viewer.role == "supervisor" or area:
        return [tuple(r) for r in db.execute("SELECT platform, user_id FROM users WHERE area = ?", [area or viewer.area])]
    return [tuple(r) for r in db.execute("SELECT platform, user_id FROM users")]


def author_choices(db, viewer: User, f: Filters) -> list[tuple[str, str]] | None:
    """(key, label) of the people the viewer may filter by; None when there are too many to list."""
    if viewer.role not in OVERSEEING:
        return []
    area = viewer.area if viewer.role == "supervisor" else f.area
    sql = "SELECT platform, user_id, display_name FROM users" + (" WHERE area = ?" if area else "") + \
          " ORDER BY display_name, user_id LIMIT ?"
    rows = db.execute(sql, ([area] if area else []) + [AUTHOR_CHOICES + 1]).fetchall()
    if len(rows) > AUTHOR_CHOICES:
        return None
    return [(author_key(p, u), person(p, u, n)) for p, u, n in rows]


def person(platform: str, user_id: str, display_name: str | None) -> str:
    """How a user is named on a page: as everywhere else (bot/people/names.py)."""
    from bot.people.names import label
    return label(platform, user_id, display_name)


def areas(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT area FROM users ORDER BY area")]


def report_where(viewer: User, f: Filters) -> tuple[str, list]:
    cond, params = scope(viewer, platform_col="r.platform", owner_col="r.author", area_col="r.area")
    where, params = ["r.status = 'active'", cond], list(params)
    for sql, value in (("r.area = ?", f.area), ("r.type = ?", f.type), ("r.date >= ?", f.since),
                       ("r.date <= ?", f.until)):
        if value:
            where.append(sql)
            params.append(value)
    if f.author_id:
        where.append("r.platform = ? AND r.author = ?")
        params += list(f.author_id)
    if f.case:  # K-034 and K034 are one person's code, as the visit plans read it
        where.append("replace(upper(r.case_code), '-', '') = replace(?, '-', '')")
        params.append(f.case)
    return " AND ".join(where), params


REPORT_COLUMNS = ("r.id, r.platform, r.author, r.area, r.type, r.date, r.case_code, r.summary, r.next_action, "
                  "r.next_date, r.next_time, r.status, r.created_at, u.display_name, "
                  "(SELECT COUNT(*) FROM report_photos p WHERE p.report_id = r.id) AS photos")
REPORT_FROM = "reports r LEFT JOIN users u ON u.platform = r.platform AND u.user_id = r.author"


def count_reports(db, viewer: User, f: Filters) -> int:
    where, params = report_where(viewer, f)
    return db.execute(f"SELECT COUNT(*) FROM reports r WHERE {where}", params).fetchone()[0]


def report_page(db, viewer: User, f: Filters) -> list[dict]:
    where, params = report_where(viewer, f)
    return list(db.query(f"SELECT {REPORT_COLUMNS} FROM {REPORT_FROM} WHERE {where} "
                         "ORDER BY r.date DESC, r.id DESC LIMIT ? OFFSET ?",
                         params + [PAGE_SIZE, (f.page - 1) * PAGE_SIZE]))


def report_cursor(db, viewer: User, f: Filters):
    """Every filtered row, newest first, as a cursor to read in batches (downloads)."""
    where, params = report_where(viewer, f)
    return db.execute(f"SELECT {REPORT_COLUMNS} FROM {REPORT_FROM} WHERE {where} ORDER BY r.date DESC, r.id DESC",
                      params)


def one_report(db, viewer: User, report_id: int) -> dict | None:
    cond, params = scope(viewer, platform_col="r.platform", owner_col="r.author", area_col="r.area")
    rows = list(db.query(f"SELECT r.*, u.display_name FROM reports r LEFT JOIN users u ON u.platform = r.platform "
                         f"AND u.user_id = r.author WHERE r.id = ? AND {cond}", [report_id] + params))
    return rows[0] if rows else None


def audit_trail(db, report_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM report_audit WHERE report_id = ? ORDER BY id", [report_id]))


def photos(db, report_id: int) -> list[dict]:
    return list(db.query("SELECT id, bytes, created_at FROM report_photos WHERE report_id = ? ORDER BY id", [report_id]))


def photo(db, viewer: User, photo_id: int) -> dict | None:
    rows = list(db.query("SELECT id, report_id, path FROM report_photos WHERE id = ?", [photo_id]))
    if not rows or one_report(db, viewer, rows[0]["report_id"]) is None:
        return None
    return rows[0]


# -- the weekly summary, in the viewer's scope -------------------------------------------------------
def week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def counts(db, viewer: User, start: date, end: date, column: str, f: Filters | None = None) -> dict[str, int]:
    """Active reports in [start, end) by ``column``, in the viewer's scope and, given ``f``, under its
    area, type, author and case filters (its dates are replaced by the range asked for)."""
    assert column in ("type", "area")
    where, params = report_where(viewer, Filters(**{k: getattr(f, k) for k in ("area", "type", "author", "case")},
                                                 author_id=f.author_id) if f else Filters())
    return dict(db.execute(f"SELECT r.{column}, COUNT(*) FROM reports r WHERE {where} AND r.date >= ? AND r.date < ? "
                           f"GROUP BY r.{column} ORDER BY COUNT(*) DESC",
                           params + [start.isoformat(), end.isoformat()]).fetchall())


def weeks(db, viewer: User, today: date, n: int = 8, f: Filters | None = None) -> list[tuple[str, dict[str, int]]]:
    this = week_start(today)
    out = []
    for k in range(n, 0, -1):
        s = this - timedelta(weeks=k)
        out.append((f"{s.month}/{s.day}", counts(db, viewer, s, s + timedelta(days=7), "type", f)))
    return out
