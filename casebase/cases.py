"""Loading case records: the built-in ones shipped as YAML files, and local ones kept in SQLite.

A local case is a prefecture's own record added with ``nimo cases import``; it lives in the
database (the source of truth for what a deployment added) rather than in the package, so that an
upgrade of Nimo never loses it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from . import useryaml
from .validate import Problem, check_record

CASES_DIR = Path(__file__).parent / "cases"


@dataclass(frozen=True)
class Case:
    id: str
    data: dict
    local: bool = False

    def get(self, name: str, default=None):
        return self.data.get(name, default)

    @property
    def area(self) -> str:
        return self.data["area"]

    @property
    def title(self) -> str:
        return self.data["title"]

    @property
    def section(self) -> str:
        return self.data["section"]


def _load_yaml(text: str):
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def builtin_sources(directory: Path = CASES_DIR) -> list[tuple[str, bytes]]:
    """The built-in case files as stored: (file name, bytes), in the order the cases are listed."""
    return [(p.name, p.read_bytes()) for p in sorted(directory.glob("*.yaml"))]


def local_sources(db) -> list[tuple[str, bytes]]:
    """The local cases as stored: (id, YAML as UTF-8 bytes), in the order the cases are listed.
    Bytes, because the saved index only hashes them at a start (decoding 10,000 cases to hash them
    costs a quarter of a second)."""
    if db is None or "local_cases" not in db.table_names():
        return []
    return [tuple(r) for r in db.execute("SELECT id, CAST(yaml AS BLOB) FROM local_cases ORDER BY id").fetchall()]


def from_sources(builtin: list[tuple[str, bytes]], local: list[tuple[str, bytes]]) -> list[Case]:
    """The cases of exactly these sources (the saved index hashes the same ones it is built from)."""
    cases = [Case(d["id"], d) for d in (_load_yaml(data.decode("utf-8")) for _, data in builtin)]
    return cases + [Case(case_id, _load_yaml(data.decode("utf-8")), local=True) for case_id, data in local]


def load_builtin(directory: Path = CASES_DIR) -> list[Case]:
    return from_sources(builtin_sources(directory), [])


def load_local(db) -> list[Case]:
    return from_sources([], local_sources(db))


def load_all(db=None) -> list[Case]:
    return from_sources(builtin_sources(), local_sources(db))


class ImportError_(Exception):
    """A local case that could not be imported; ``problems`` says why, field by field."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def import_local(db, path: Path, *, now: str) -> Case:
    """Validate a local case file and store it; nothing is stored when anything is wrong."""
    name = str(path)
    try:
        raw = useryaml.read(path)
        data = useryaml.load(raw)  # size first, then no anchors or aliases: nothing is expanded
        text = raw.decode("utf-8-sig")
    except useryaml.Refused as e:
        raise ImportError_([Problem(name, "-", str(e))])
    except (OSError, UnicodeDecodeError):
        raise ImportError_([Problem(name, "-", "ファイルを UTF-8 のテキストとして読めません")])
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{mark.line + 1}行目" if mark else "どこか"
        raise ImportError_([Problem(name, "-", f"YAML として読めません（{where}）")])
    problems = check_record(data, name, local=True)
    if not problems:
        taken = {c.id for c in load_all(db)}
        if data["id"] in taken:
            problems = [Problem(name, "id", f"「{data['id']}」はもう使われています。別の id にしてください")]
    if problems:
        raise ImportError_(problems)
    db["local_cases"].insert({"id": data["id"], "yaml": text, "imported_at": now})
    return Case(data["id"], data, local=True)


def withdraw_local(db, case_id: str) -> bool:
    """Remove a local case; False when there is no local case of that id (built-in ones stay)."""
    if "local_cases" not in db.table_names():
        return False
    cur = db.execute("DELETE FROM local_cases WHERE id = ?", [case_id])
    return bool(cur.rowcount)


def cases_version(db) -> int:
    """A number that changes whenever a local case is added, changed or removed (triggers of
    migration 8 keep it), so a process holding a case index can tell cheaply that it is stale."""
    row = db.execute("SELECT value FROM counters WHERE name = 'cases'").fetchone()
    return row[0] if row else 0
