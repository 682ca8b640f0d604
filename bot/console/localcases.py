"""Adding, withdrawing and restoring local cases from the console, through the validator of
``nimo cases check``.

A case comes as YAML text (an uploaded file, or the form turned into YAML); it is read, checked
with :func:`casebase.validate.check_record` (``local=True``, as ``nimo cases check`` checks local
cases) and stored only when nothing is wrong.  Withdrawing moves the row to ``withdrawn_cases`` in
the same transaction, so the text is kept and the id can be used again; restoring moves it back.
All three change the counter the worker watches (triggers on ``local_cases``), so chat answers
follow without a restart.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import yaml

from casebase import useryaml
from casebase.cases import Case, load_all
from casebase.schema import FIELDS
from casebase.validate import Problem, check_record
from scheduler.transactions import immediate

from bot.console import text

MAX_BYTES = useryaml.MAX_BYTES
ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

# Prefectures in romaji, so that a suggested id can start from where the case is (千葉市 → chiba).
PREFECTURES = {
    "北海道": "hokkaido", "青森": "aomori", "岩手": "iwate", "宮城": "miyagi", "秋田": "akita", "山形": "yamagata",
    "福島": "fukushima", "茨城": "ibaraki", "栃木": "tochigi", "群馬": "gunma", "埼玉": "saitama", "千葉": "chiba",
    "東京": "tokyo", "神奈川": "kanagawa", "新潟": "niigata", "富山": "toyama", "石川": "ishikawa", "福井": "fukui",
    "山梨": "yamanashi", "長野": "nagano", "岐阜": "gifu", "静岡": "shizuoka", "愛知": "aichi", "三重": "mie",
    "滋賀": "shiga", "京都": "kyoto", "大阪": "osaka", "兵庫": "hyogo", "奈良": "nara", "和歌山": "wakayama",
    "鳥取": "tottori", "島根": "shimane", "岡山": "okayama", "広島": "hiroshima", "山口": "yamaguchi",
    "徳島": "tokushima", "香川": "kagawa", "愛媛": "ehime", "高知": "kochi", "福岡": "fukuoka", "佐賀": "saga",
    "長崎": "nagasaki", "熊本": "kumamoto", "大分": "oita", "宮崎": "miyazaki", "鹿児島": "kagoshima",
    "沖縄": "okinawa",
}


class CaseRejected(Exception):
    """Problems by field ('-' for the whole file), in Japanese, for the page to show beside each field."""

    def __init__(self, problems: dict[str, list[str]]):
        super().__init__(", ".join(problems))
        self.problems = problems


def _by_field(problems: list[Problem]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(p.field.split("[")[0].split(".")[0], []).append(p.message)
    return out


def parse_upload(raw: bytes) -> dict:
    """The bytes of an uploaded file as a record; CaseRejected when too large, not UTF-8, not YAML, or
    holding an anchor or alias (casebase/useryaml.py)."""
    try:
        data = useryaml.load(raw)  # size first, then no anchors or aliases: nothing is expanded
    except useryaml.Refused as e:
        raise CaseRejected({"-": [str(e)]})
    except UnicodeDecodeError:
        raise CaseRejected({"-": ["ファイルを UTF-8 のテキストとして読めません（Excel などで保存し直すときは UTF-8 を選んでください）"]})
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{mark.line + 1}行目" if mark else "どこか"
        raise CaseRejected({"-": [f"YAML として読めません（{where}）"]})
    if not isinstance(data, dict):
        raise CaseRejected({"-": ["ファイルの中身が項目の表（YAML のマッピング）になっていません"]})
    return data


def check(db, data: dict) -> dict[str, list[str]]:
    """Every problem of ``data`` as a local case, by field; empty when it can be added."""
    problems = _by_field(check_record(data, "console", local=True))
    case_id = data.get("id")
    if isinstance(case_id, str) and case_id.strip() and "id" not in problems:
        if not ID_SHAPE.match(case_id):
            problems["id"] = [text.ID_REFUSED]
        elif case_id in {c.id for c in load_all(db)}:
            problems["id"] = [f"「{case_id}」はもう使われています。別の識別子にしてください"]
    return problems


def add(db, data: dict, *, now: datetime, area: str | None = None) -> Case:
    """Validate and store; CaseRejected (and nothing stored) when anything is wrong.  ``area``: the
    area of the curator adding it, whose supervisors may withdraw it (None: admins only)."""
    problems = check(db, data)
    if problems:
        raise CaseRejected(problems)
    ordered = {k: data[k] for k in FIELDS if k in data and data[k] is not None}
    try:
        useryaml.check_record_size(ordered)  # bounded before it is dumped, whatever built it
    except useryaml.Refused as e:
        raise CaseRejected({"-": [str(e)]})
    dumped = yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=1000)
    db.execute("INSERT INTO local_cases (id, yaml, imported_at, area) VALUES (?, ?, ?, ?)",
               [ordered["id"], dumped, now.astimezone(timezone.utc).isoformat(), area])
    return Case(ordered["id"], ordered, local=True)


def suggest_id(db, places: list[str], today: date) -> str:
    """A free id a curator can take as it is: the prefecture of the first of ``places`` that names
    one (else ``local``), the year and month, and a number (``chiba-2026-12-01``)."""
    stem = "local"
    for place in places:
        found = next((r for jp, r in PREFECTURES.items() if place and place.strip().startswith(jp)), None)
        if found:
            stem = found
            break
    taken = {c.id for c in load_all(db)} | {r[0] for r in db.execute("SELECT id FROM withdrawn_cases")}
    prefix = f"{stem}-{today:%Y-%m}-"
    n = 1
    while f"{prefix}{n:02d}" in taken:
        n += 1
    return f"{prefix}{n:02d}"


def area_of(db, case_id: str) -> tuple[bool, str | None]:
    """(whether ``case_id`` is a local case, the area it was added for)."""
    row = db.execute("SELECT area FROM local_cases WHERE id = ?", [case_id]).fetchone()
    return (row is not None, row[0] if row else None)


def withdraw(db, case_id: str, *, by: str, now: datetime) -> bool:
    """Take a local case out of the answers, keeping its text in ``withdrawn_cases``."""
    with immediate(db.conn) as conn:
        row = conn.execute("SELECT id, yaml, imported_at, area FROM local_cases WHERE id = ?", [case_id]).fetchone()
        if row is None:  # nothing written: leaving the block commits nothing
            return False
        conn.execute("INSERT INTO withdrawn_cases (id, yaml, imported_at, area, withdrawn_at, withdrawn_by) "
                     "VALUES (?, ?, ?, ?, ?, ?)", [*row, now.astimezone(timezone.utc).isoformat(), by])
        conn.execute("DELETE FROM local_cases WHERE id = ?", [case_id])
    return True


def withdrawn(db, area: str | None, *, everyone: bool = False) -> list[dict]:
    """The withdrawn local cases of ``area`` (``everyone``: of every area), newest first, each with
    its row number (``key``), id, title, place, area, when and by whom."""
    sql = "SELECT rowid, id, yaml, area, withdrawn_at, withdrawn_by FROM withdrawn_cases"
    rows = db.execute(sql + ("" if everyone else " WHERE area = ?") + " ORDER BY withdrawn_at DESC, rowid DESC",
                      [] if everyone else [area]).fetchall()
    return [_withdrawn_row(r) for r in rows]


def withdrawn_one(db, key: int) -> dict | None:
    row = db.execute("SELECT rowid, id, yaml, area, withdrawn_at, withdrawn_by FROM withdrawn_cases WHERE rowid = ?",
                     [key]).fetchone()
    return _withdrawn_row(row) if row else None


def _withdrawn_row(r) -> dict:
    try:  # our own dump of a validated record; a damaged one is still listed, by its id
        data = yaml.safe_load(r[2])
    except yaml.YAMLError:
        data = None
    data = data if isinstance(data, dict) else {}
    return {"key": r[0], "id": r[1], "title": str(data.get("title") or r[1]), "place": str(data.get("area") or ""),
            "area": r[3], "at": r[4], "by": r[5]}


def latest_withdrawal(db, case_id: str) -> int | None:
    """The row of the last withdrawal of ``case_id``: where its old address now leads."""
    row = db.execute("SELECT rowid FROM withdrawn_cases WHERE id = ? ORDER BY withdrawn_at DESC, rowid DESC LIMIT 1",
                     [case_id]).fetchone()
    return row[0] if row else None


def restore(db, key: int) -> str | None:
    """Put a withdrawn case back into ``local_cases`` (with the date it was first added) and take it
    off the withdrawn list, in one transaction.  None when done, else why not: ``gone`` (restored
    already) or ``taken`` (a new case uses its id meanwhile: two cases must never share one)."""
    row = withdrawn_one(db, key)
    if row is None:
        return "gone"
    if row["id"] in {c.id for c in load_all(db)}:
        return "taken"
    with immediate(db.conn) as conn:
        if conn.execute("SELECT 1 FROM local_cases WHERE id = ?", [row["id"]]).fetchone():
            return "taken"
        moved = conn.execute("INSERT INTO local_cases (id, yaml, imported_at, area) "
                             "SELECT id, yaml, imported_at, area FROM withdrawn_cases WHERE rowid = ?", [key]).rowcount
        if not moved:  # restored by someone else between the look and the transaction
            return "gone"
        conn.execute("DELETE FROM withdrawn_cases WHERE rowid = ?", [key])
    return None
