"""The one way Nimo opens its SQLite database: every connection's settings, ``:memory:``, and one
connection per thread.

Every connection Nimo makes to its database (the chat's, the web process's, the console's, the
CLI's, each thread of the reminder engine) comes from :func:`connect`, so they all wait the same
way for another's write lock and all have the same PRAGMAs: WAL on a file (readers go on while one
writes), ``foreign_keys``, and ``secure_delete`` (deleted or overwritten text is zeroed, not left
in free space).  Only a few short-lived plain connections are opened otherwise, on purpose: the
checks of a file before it is opened (:mod:`storage.files`), the backup and restore
(:mod:`storage.backup`) and the inbox's WAL checkpoint look at, copy or checkpoint a file, which
must not be switched to WAL or migrated on the way, and each waits for locks as long as it needs.

A sqlite3 connection carries one transaction at a time, so a process whose threads write (the web
server's, the worker's, the engine's) gives each thread its own connection to the same database:
:class:`PerThreadDB` for Nimo's threads, :class:`ThreadConnections` for the engine's, which also
closes them all when the engine stops.  Both open their connections from a *target*, the one name
every connection to the same database can open (:func:`target_of`).

``:memory:`` is supported everywhere within one process.  ``open_db(":memory:")`` (and
``PerThreadDB(":memory:")``, ``build_app(db_path=":memory:")``, ``NIMO_DB=:memory:``) makes a new,
empty in-memory database under a name of its own (SQLite's ``memdb`` VFS, ``file:/nimo-memory-…``),
which every connection of this process can open again: the engine's threads, the console's, a
PerThreadDB's.  It lives as long as one connection to it is open (the one ``open_db`` returned, or
the first one of a PerThreadDB), and it is unlike a private ``sqlite3.connect(":memory:")`` in one
way only: other connections of the process see it.  Unlike SQLite's shared cache, memdb keeps
SQLite's usual locking, so a writer waits for another's write (``busy_timeout``) instead of failing
at once.  It has no file: :func:`file_of` is None, so nothing is kept beside it (photos, sealing
key, saved index, spool).  Another *process* cannot open it: ``nimo serve``, whose web and worker
processes share the database, needs a file.
"""
from __future__ import annotations

import sqlite3
import sys
import threading
import uuid
from pathlib import Path

from storage.files import check, create_private, log
from storage.migrations import MIGRATIONS, migrate

MEMORY = ":memory:"
LOCK_WAIT_S = 30.0      # the worker and the CLI wait this long for another process's write
WEB_LOCK_WAIT_S = 3.0   # the web process: well inside LINE's and Slack's timeouts, then 503 and redelivery


def _import_sqlite_utils():
    """sqlite-utils imports numpy (and pandas) when installed, only to map their number types to
    columns, which Nimo never stores.  The web process must stay small (about 12 MB for numpy),
    so numpy is hidden while sqlite-utils loads; a process that has numpy already keeps it."""
    hidden = [m for m in ("numpy", "pandas") if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # makes ``import numpy`` fail inside sqlite-utils, which allows it
    try:
        import sqlite_utils
    finally:
        for m in hidden:
            if sys.modules.get(m, 0) is None:
                del sys.modules[m]
    return sqlite_utils


sqlite_utils = _import_sqlite_utils()

# The names of the in-memory databases this process made: what ``PRAGMA database_list`` shows for
# them is a name, not a file, and this is how it is told from one.
_memory_names: set[str] = set()


def memory_target() -> str:
    """A new in-memory database's target (it exists once a connection opens it)."""
    name = f"/nimo-memory-{uuid.uuid4().hex}"
    _memory_names.add(name)
    return f"file:{name}?vfs=memdb"


def _memory_name(target: str) -> str | None:
    if target.startswith("file:/nimo-memory-") and target.endswith("?vfs=memdb"):
        name = target[len("file:"):-len("?vfs=memdb")]
        return name if name in _memory_names else None
    return None


def is_memory(target: str | Path) -> bool:
    """``:memory:`` or an in-memory database's target: nothing of it is a file."""
    target = str(target)
    return target == MEMORY or _memory_name(target) is not None


def connect(target: str | Path, busy_timeout: float = LOCK_WAIT_S, setup=None) -> sqlite_utils.Database:
    """A new connection (a sqlite-utils ``Database``) to ``target``: a file's path, or an in-memory
    database's target (``:memory:`` makes a new one).  ``setup(conn)`` runs on it last."""
    target = str(target)
    if target == MEMORY:
        target = memory_target()
    memory = _memory_name(target) is not None
    conn = sqlite3.connect(target, isolation_level=None, timeout=busy_timeout, check_same_thread=False, uri=memory)
    if not memory:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA secure_delete=ON")
    if setup is not None:
        setup(conn)
    return sqlite_utils.Database(conn)


def _main_file(db) -> str:
    rows = db.execute("PRAGMA database_list").fetchall()
    return next((r[2] for r in rows if r[1] == "main"), "") or ""


def target_of(db) -> str:
    """The name another connection opens to reach the same database as ``db`` (a path, or anything
    with ``execute``: sqlite-utils, sqlite3, a PerThreadDB).  A private in-memory database (a
    plain ``sqlite3.connect(":memory:")``, or the string ``:memory:``, which names no database in
    particular) has none: ValueError."""
    if isinstance(db, (str, Path)):
        target = str(db)
    else:
        target = _main_file(db)
        if target in _memory_names:
            return f"file:{target}?vfs=memdb"
    if target in ("", MEMORY) or target.startswith("file::memory:") or "mode=memory" in target:
        raise ValueError("a private in-memory database cannot be opened by another connection: "
                         "open it with storage.connections.open_db(':memory:'), or use a file")
    return target


def file_of(db) -> str | None:
    """The database file behind ``db`` (a path, or anything with ``execute``); None when it has no
    file (in memory), so that nothing is written beside it."""
    path = str(db) if isinstance(db, (str, Path)) else _main_file(db)
    if not path or is_memory(path) or path in _memory_names:
        return None
    return path


def open_db(path: str | Path, *, new_db: bool = False, busy_timeout: float = LOCK_WAIT_S,
            setup=None, warn=None) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate.  ``":memory:"`` gives a new in-memory database that
    this process's other connections can open too (see the module's docstring).

    A file that is there is checked first (:mod:`storage.files`): an empty, foreign, newer or
    damaged one raises :class:`storage.files.DatabaseProblem`, unless ``new_db`` allows replacing
    an empty or foreign one (kept aside).  A new file is created owner-only.  ``warn`` is told the
    :class:`storage.files.Notice` s (by default they are logged)."""
    if not is_memory(path):
        for notice in check(path, known_version=len(MIGRATIONS), new_db=new_db):
            if warn is not None:
                warn(notice)
            else:
                log.warning("database check: %s (%s)", notice.kind, notice.aside or f"{notice.seconds:.0f} s")
        create_private(Path(path))
    db = connect(path, busy_timeout, setup)
    migrate(db)
    return db


class PerThreadDB:
    """One connection per thread to the same database, used like a ``sqlite_utils.Database``.

    The web server and its workers run handlers in several threads; a sqlite3 connection must not
    carry two threads' transactions at once, and WAL lets the connections read while one writes.
    ``busy_timeout`` is how long a connection waits for another's write lock; ``setup(conn)`` runs
    on each new connection.  ``path`` is what was asked for (``:memory:`` stays so); ``target`` is
    what each thread's connection opens.
    """

    def __init__(self, path: str | Path, *, new_db: bool = False, busy_timeout: float = LOCK_WAIT_S,
                 setup=None, warn=None):
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self.setup = setup
        self._local = threading.local()
        # checks and migrates once, in the thread that starts Nimo; held for the object's life, so
        # that an in-memory database lives as long as this does, whichever threads come and go
        self._first = self._local.db = open_db(self.path, new_db=new_db, busy_timeout=busy_timeout,
                                               setup=setup, warn=warn)
        self.target = target_of(self._first)

    def get(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.target, self.busy_timeout, self.setup)
        return db

    def __getattr__(self, name):
        return getattr(self.get(), name)

    def __getitem__(self, name):
        return self.get()[name]


class ThreadConnections:
    """One connection per thread to the same (already migrated) database, all closed at once by
    :meth:`close_all` (the reminder engine's: its threads start and stop with it)."""

    def __init__(self, target: str, busy_timeout: float = LOCK_WAIT_S):
        self.target = target
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.target, self.busy_timeout)
            with self._lock:
                self._all.append(db)
        return db

    def close_all(self) -> None:
        """Close every connection opened so far (once the threads that used them are done)."""
        with self._lock:
            dbs, self._all = self._all, []
        for db in dbs:
            db.conn.close()
        self._local = threading.local()
