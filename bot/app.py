"""The one place where Nimo is wired: database, clock, case index and dialogs.

Everything a handler needs comes from the :class:`App` it is given, so a test builds one with an
in-memory database and a fixed clock, and the CLI, the terminal chat and (later) the web server
build theirs the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from knowledge.cases import load_all
from knowledge.search import CaseIndex

from . import config
from .core import Incoming, Reply
from .db import PerThreadDB
from .dialogs import Dialogs


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class App:
    db: object
    index: CaseIndex
    clock: Callable[[], datetime]
    dialogs: Dialogs

    def handle(self, msg: Incoming) -> list[Reply]:
        from .router import route  # the router imports handlers, which import App's module
        return route(self, msg)

    def reload_cases(self) -> None:
        self.index = CaseIndex(load_all(self.db))


def build_app(*, db=None, db_path: str | None = None, clock: Callable[[], datetime] | None = None,
              index: CaseIndex | None = None) -> App:
    if db is None:
        db = PerThreadDB(db_path or config.get("NIMO_DB"))
    return App(db=db, index=index or CaseIndex(load_all(db)), clock=clock or utc_now, dialogs=Dialogs(db))
