"""Adding and withdrawing local cases from the console, through the validator of ``nimo cases check``.

A case comes as YAML text (an uploaded file, or the form turned into YAML); it is read, checked
with :func:`knowledge.validate.check_record` (``local=True``, as ``nimo cases check`` checks local
cases) and stored only when nothing is wrong.  Withdrawing moves the row to ``withdrawn_cases`` in
the same transaction, so the text is kept and the id can be used again.  Both change the counter
the worker watches (triggers on ``local_cases``).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import yaml

from knowledge import useryaml
from knowledge.cases import Case, load_all
from knowledge.schema import FIELDS
from knowledge.validate import Problem, check_record
from scheduler.transactions import immediate

MAX_BYTES = useryaml.MAX_BYTES
ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


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
    holding an anchor or alias (knowledge/useryaml.py)."""
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
            problems["id"] = ["英数字・「-」・「_」の40字以内にしてください（例：chiba-01）"]
        elif case_id in {c.id for c in load_all(db)}:
            problems["id"] = [f"「{case_id}」はもう使われています。別の id にしてください"]
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
    text = yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=1000)
    db.execute("INSERT INTO local_cases (id, yaml, imported_at, area) VALUES (?, ?, ?, ?)",
               [ordered["id"], text, now.astimezone(timezone.utc).isoformat(), area])
    return Case(ordered["id"], ordered, local=True)


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
