"""Loading case records: the built-in ones shipped as YAML files, and local ones kept in SQLite.

A local case is a prefecture's own record added with ``nimo cases import``; it lives in the
database (the source of truth for what a deployment added) rather than in the package, so that an
upgrade of Nimo never loses it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

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


def load_builtin(directory: Path = CASES_DIR) -> list[Case]:
    return [Case(d["id"], d) for d in (_load_yaml(p.read_text(encoding="utf-8"))
                                      for p in sorted(directory.glob("*.yaml")))]


def load_local(db) -> list[Case]:
    if "local_cases" not in db.table_names():
        return []
    return [Case(r["id"], _load_yaml(r["yaml"]), local=True)
            for r in db.query("SELECT id, yaml FROM local_cases ORDER BY id")]


def load_all(db=None) -> list[Case]:
    cases = load_builtin()
    return cases + (load_local(db) if db is not None else [])


class ImportError_(Exception):
    """A local case that could not be imported; ``problems`` says why, field by field."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def import_local(db, path: Path, *, now: str) -> Case:
    """Validate a local case file and store it; nothing is stored when anything is wrong."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = _load_yaml(text)
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


def cases_version(db) -> int:
    """A number that changes whenever a local case is added, changed or removed (triggers of
    migration 7 keep it), so a process holding a case index can tell cheaply that it is stale."""
    row = db.execute("SELECT value FROM counters WHERE name = 'cases'").fetchone()
    return row[0] if row else 0
