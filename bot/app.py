"""The one place where Nimo is wired: database, clock, case index, the handlers' registry and dialogs.

Everything a handler needs comes from the :class:`App` it is given, so a test builds one with an
in-memory database and a fixed clock, and the CLI, the terminal chat and the web server build
theirs the same way.

The case index is made on first use, not when the app is built: the web process only verifies,
stores and acknowledges, and must not pay for the tokenizer, its dictionary and the index (about
90 MB and more); a worker that only sends reminders never needs it either.  So this module imports
nothing of the search (no Sudachi, numpy or scipy).

The handler modules only declare their routes, conversations and confirmations; ``build_app``
collects them into one :class:`bot.chat.registry.Registry` that the router and the dialogs read,
so nothing depends on which modules happen to have been imported.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from bot.config import Settings
from bot.chat.core import Incoming, Reply
from storage.connections import PerThreadDB
from bot.chat.dialogs import Dialogs
from bot.chat.registry import Registry

if TYPE_CHECKING:
    from knowledge.search import CaseIndex


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class App:
    """What handlers use.  ``index`` is the one given, or else the saved index of ``db`` loaded
    (or built) on first access, once however many threads ask at the same time.  ``registry`` is
    what the handler modules declare (``bot.handlers.registry()``); given ``dialogs``, theirs."""

    def __init__(self, db: object, index: "CaseIndex | None" = None, clock: Callable[[], datetime] = utc_now,
                 dialogs: Dialogs | None = None, registry: Registry | None = None,
                 settings: Settings | None = None):
        if registry is None and dialogs is None:
            raise TypeError("App needs the handlers' registry (build_app, or registry=bot.handlers.registry())")
        self.db = db
        # What a handler may need of the settings (the console's public URL); the defaults when the
        # caller gave none (a test, the terminal chat without a setting).
        self.settings = settings if settings is not None else Settings.from_env({})
        self.clock = clock
        self.registry = registry if registry is not None else dialogs.registry
        self.dialogs = dialogs if dialogs is not None else Dialogs(db, self.registry)
        self._index = index
        self._index_lock = threading.Lock()
        # ``profiles(platform, user_id) -> name | None``: set by the wiring that holds the platform
        # clients (bot/serve/worker.py); None in the web process, the CLI and the terminal chat.
        self.profiles: Callable[[str, str], str | None] | None = None

    @property
    def index(self) -> "CaseIndex":
        index = self._index
        if index is None:
            with self._index_lock:
                if self._index is None:
                    from knowledge.index_store import load_index
                    self._index = load_index(self.db)
                index = self._index
        return index

    @index.setter
    def index(self, value: "CaseIndex") -> None:
        with self._index_lock:
            self._index = value

    def handle(self, msg: Incoming) -> list[Reply]:
        from bot.chat.router import route  # it loads the time parser: not for CLI commands that want utc_now only
        return route(self, msg)

    def reload_cases(self) -> None:
        """The cases changed (a local case imported): the next use loads or builds the index anew."""
        with self._index_lock:
            self._index = None


def build_app(*, db=None, db_path: str | None = None, clock: Callable[[], datetime] | None = None,
              index: "CaseIndex | None" = None, registry: Registry | None = None,
              settings: Settings | None = None) -> App:
    """The App over ``db``, or else over the file ``db_path``, or else ``settings.db`` (the commands),
    with every handler module's routes, conversations and confirmations (``registry``: another set,
    for a test of the order)."""
    settings = settings if settings is not None else Settings.from_env({})
    if db is None:
        db = PerThreadDB(db_path or settings.db, new_db=settings.new_db)
    if registry is None:
        # imported here: the commands that import this module for utc_now alone (status, backup)
        # load no handler
        from bot.handlers import registry as handlers_registry
        registry = handlers_registry()
    return App(db=db, index=index, clock=clock or utc_now, dialogs=Dialogs(db, registry), registry=registry,
               settings=settings)
