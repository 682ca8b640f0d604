"""Settings from the environment, declared once with a default and a help line each.

The README documents every setting (a test checks it), so a new deployment has one list to read.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


def _default_db() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "nimo" / "nimo.db")


SETTINGS: tuple[Setting, ...] = (
    Setting("NIMO_DB", None, "SQLite ファイルの場所。既定は ~/.local/share/nimo/nimo.db（XDG_DATA_HOME があればその下）"),
)


def get(name: str, env: dict | None = None) -> str | None:
    env = os.environ if env is None else env
    for s in SETTINGS:
        if s.name == name:
            value = env.get(name) or s.default
            if name == "NIMO_DB" and not value:
                value = _default_db()
            return value
    raise KeyError(name)
