"""The layering rule, checked on the source itself (with ``ast``, nothing is imported or run).

- ``knowledge/``, ``scheduler/`` and ``storage/`` never import ``bot``: not absolutely, not
  relatively, not lazily inside a function, not through ``importlib``.  The chat sits on top of
  them; what the scheduler needs from the chat (what a reminder says) is handed to it by the wiring
  (``Compose``), and the database's problems are codes that ``bot`` puts into Japanese.
- SQL on the scheduler's tables (reminders, visits, events, plans, rsvps, reminder_actions) is
  written only in ``scheduler/``: everything else calls named functions of ``scheduler/store.py``.
- Transactions are opened with ``scheduler.transactions.immediate``, not by hand.
- Connections are set up in one place (``storage/connections.py``): no other module makes a
  sqlite-utils ``Database`` or sets a connection's PRAGMAs, so a second factory cannot grow back.
- The kinds of field report are listed once (``bot/reports/kinds.py``).
- Platform adapters reach the handlers and the access rules only through the router
  (``app.handle``): they import neither ``bot.handlers`` nor ``bot.people.access``.
- A platform is declared in ``bot/adapters/`` only: ``bot/serve/`` names none (no platform key or
  webhook path as a string, no ``settings.line_…``, no import of a platform's module), and a
  platform's web side (its ``*_hook.py``, listed by ``bot/adapters/__init__.py``) imports only the
  standard library and the webhook helpers, so the web process stays small.

Each checker is also run on small sources that break the rule, so a checker that finds nothing
because it looks at nothing would fail here too.
"""
from __future__ import annotations

import ast
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.adapters import CONNECTORS
from bot.config import Settings
from storage.connections import open_db
from bot.reports.kinds import TYPES
from scheduler.transactions import immediate

ROOT = Path(__file__).resolve().parents[1]
LOWER = ("casebase", "knowledge", "scheduler", "storage")    # packages that must not import bot
SOURCE = ("bot", "casebase", "knowledge", "scheduler", "storage")  # the packages Nimo ships
# What the case base must never load: the web process reads it (the console lists and checks cases)
# and must stay small, so the search, its tokenizer and its numbers stay in ``knowledge``.
SEARCH_PARTS = ("bot", "knowledge", "scheduler", "storage", "numpy", "scipy", "rapidfuzz", "sudachipy", "sudachidict_core")
SCHEDULER_TABLES = ("reminders", "visits", "events", "plans", "rsvps", "reminder_actions")
# What an adapter must not import: who may do what is decided by the router, for every platform.
PAST_THE_ROUTER = ("bot.handlers", "bot.people.access")
SQL_ON_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|INDEX\s+\w+\s+ON)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                          rf"({'|'.join(SCHEDULER_TABLES)})\b", re.I)
# Where SQL on those tables may stand outside scheduler/: the schema's migrations only.
SQL_ALLOWED = {
    "storage/migrations.py": "MIGRATIONS",
}


def modules(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def package_of(path: Path) -> str:
    """The package a module's relative imports start from (``scheduler`` for scheduler/service.py)."""
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])  # also right for __init__.py


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """Every module a source imports, made absolute: import statements anywhere (also inside
    functions) and ``importlib.import_module`` / ``__import__`` with a literal name."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                base = parts[:max(len(parts) - (node.level - 1), 0)]
                head = ".".join(base + ([node.module] if node.module else []))
            else:
                head = node.module or ""
            if head:
                out.append((node.lineno, head))
            out += [(node.lineno, f"{head}.{a.name}" if head else a.name) for a in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("import_module", "__import__"):
                out.append((node.lineno, node.args[0].value))
    return out


def bot_imports(source: str, package: str) -> list[str]:
    return [f"line {n}: {m}" for n, m in imported_modules(source, package) if m == "bot" or m.startswith("bot.")]


def past_the_router(source: str, package: str) -> list[str]:
    return [f"line {n}: {m}" for n, m in imported_modules(source, package)
            if any(m == name or m.startswith(name + ".") for name in PAST_THE_ROUTER)]


def _string(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # an f-string: its literal parts, a gap for each value
        return "".join(v.value if isinstance(v, ast.Constant) else " ? " for v in node.values)
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def sql_on_scheduler_tables(source: str, allowed_assignment: str | None = None) -> list[str]:
    """SQL strings naming a scheduler table, and sqlite-utils table access (``db["visits"]``,
    ``db.table("visits")``); strings inside the assignment to ``allowed_assignment`` are skipped."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    if allowed_assignment:
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == allowed_assignment for t in targets):
                skip |= {id(n) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        text = _string(node)
        if text is not None and SQL_ON_TABLE.search(text):
            found.append(f"line {node.lineno}: {' '.join(text.split())[:90]}")
        table = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            holder = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
            if holder in ("db", "conn", "database"):
                table = node.slice.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "table" \
                and node.args and isinstance(node.args[0], ast.Constant):
            table = node.args[0].value
        if table in SCHEDULER_TABLES:
            found.append(f"line {node.lineno}: table {table!r}")
    return found


# -- the rules, on Nimo's source ------------------------------------------------------------------
@pytest.mark.parametrize("package", LOWER)
def test_the_lower_packages_never_import_bot(package):
    checked = modules(package)
    assert len(checked) >= 5  # the package was found
    broken = {rel(p): hits for p in checked if (hits := bot_imports(p.read_text(encoding="utf-8"), package_of(p)))}
    assert broken == {}


def test_adapters_go_through_the_router():
    """An adapter that checked registration itself or called a handler would keep a second copy
    of the access rules, which drifts from the router's."""
    checked = modules("bot/adapters")
    assert len(checked) >= 5 and any(rel(p) == "bot/adapters/slack.py" for p in checked)
    broken = {rel(p): hits for p in checked if (hits := past_the_router(p.read_text(encoding="utf-8"), package_of(p)))}
    assert broken == {}


def test_the_case_base_holds_nothing_of_the_search():
    """The console (web process) loads the case base; anything of the search it pulled in would
    load the tokenizer and numpy there (tests/test_web_imports.py sees the result, this the cause)."""
    checked = modules("casebase")
    assert len(checked) >= 5
    found = {rel(p): hits for p in checked
             if (hits := [f"line {n}: {m}" for n, m in imported_modules(p.read_text(encoding="utf-8"), package_of(p))
                          if m.split(".")[0] in SEARCH_PARTS])}
    assert found == {}


def test_storage_imports_nothing_above_it():
    """The database layer is under everything: not the chat, not the case base, not the engine."""
    above = {rel(p): hits for p in modules("storage")
             if (hits := [f"line {n}: {m}" for n, m in imported_modules(p.read_text(encoding="utf-8"), package_of(p))
                          if m.split(".")[0] in ("bot", "casebase", "knowledge", "scheduler")])}
    assert above == {}


def test_sql_on_the_scheduler_tables_lives_in_scheduler():
    checked = [p for p in modules(*SOURCE) if not rel(p).startswith("scheduler/")]
    assert len(checked) >= 40
    broken = {}
    for p in checked:
        name = rel(p)
        if name in SQL_ALLOWED and SQL_ALLOWED[name] is None:
            continue
        hits = sql_on_scheduler_tables(p.read_text(encoding="utf-8"), SQL_ALLOWED.get(name))
        if hits:
            broken[name] = hits
    assert broken == {}
    # and the store really is where it is written (the pattern matches this code's SQL)
    assert len(sql_on_scheduler_tables((ROOT / "scheduler/store.py").read_text(encoding="utf-8"))) >= 20


def test_transactions_are_opened_by_immediate_not_by_hand():
    """Hand-written BEGIN IMMEDIATE … ROLLBACK blocks drift apart (one forgets the ROLLBACK on
    KeyboardInterrupt); the migrations run as one script, and /readyz only probes the write lock."""
    allowed = {"scheduler/transactions.py", "storage/migrations.py", "bot/serve/status.py"}
    by_hand = sorted(rel(p) for p in modules(*SOURCE) if rel(p) not in allowed
                     and any("BEGIN IMMEDIATE" in (_string(n) or "") for n in ast.walk(ast.parse(p.read_text("utf-8")))))
    assert by_hand == []


CONNECTION_PRAGMA = re.compile(r"PRAGMA\s+(?:\w+\.)?(journal_mode|synchronous|foreign_keys|secure_delete)\s*=", re.I)
# the backup's copy is made one self-contained file (journal_mode=DELETE) after it is written
FACTORY_ALLOWED = {"storage/connections.py", "storage/backup.py"}


def connection_setup(source: str) -> list[str]:
    """Strings that set a connection-wide PRAGMA, and calls that make a sqlite-utils ``Database``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        text = _string(node)
        if text is not None and CONNECTION_PRAGMA.search(text):
            found.append(f"line {node.lineno}: {' '.join(text.split())[:60]}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Database":
            found.append(f"line {node.lineno}: Database(...)")
    return found


def test_connections_are_set_up_only_by_the_storage_factory():
    checked = [p for p in modules(*SOURCE) if rel(p) not in FACTORY_ALLOWED]
    assert len(checked) >= 40
    assert {rel(p): hits for p in checked if (hits := connection_setup(p.read_text(encoding="utf-8")))} == {}
    assert len(connection_setup((ROOT / "storage/connections.py").read_text(encoding="utf-8"))) >= 4


@pytest.mark.parametrize("source, found", [
    ('conn.execute("PRAGMA foreign_keys=ON")\n', True),
    ('c.execute("pragma main.journal_mode = WAL")\n', True),
    ('db = sqlite_utils.Database(conn)\n', True),
    ('db.execute("PRAGMA user_version").fetchone()\n', False),          # reading, not setting up
    ('db.execute(f"PRAGMA busy_timeout = {ms}")\n', False),            # a wait for one probe
    ('"""secure_delete is set on every connection."""\n', False),
])
def test_the_factory_check_finds_a_connection_set_up_elsewhere(source, found):
    assert bool(connection_setup(source)) is found


def test_report_types_are_listed_once():
    """No other tuple, list or set of report kinds in the source; the database's CHECK (a
    migration, so it cannot import) names the same kinds."""
    copies = []
    for p in modules(*SOURCE):
        if rel(p) == "bot/reports/kinds.py":
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                words = {_string(e) for e in node.elts}
                if len(words & set(TYPES)) >= 3:
                    copies.append(f"{rel(p)}:{node.lineno}")
    assert copies == []
    db = open_db(":memory:")
    schema = db.execute("SELECT sql FROM sqlite_master WHERE name = 'reports'").fetchone()[0]
    check = re.search(r"CHECK \(type IN \(([^)]*)\)\)", schema)
    assert tuple(re.findall(r"'([^']*)'", check.group(1))) == TYPES


# -- platforms are declared in bot/adapters/ only -------------------------------------------------
# What a platform's web side may import besides the standard library: the settings, the webhook
# helpers, its sibling hooks, and Slack's form rules (the web process says a modal's mistakes in the
# acknowledgement; they import no SDK).
HOOK_ALLOWED = ("bot.config", "bot.serve.webhooks", "bot.adapters.slack_form")
PLATFORMS = tuple(c.name for c in CONNECTORS)
PATHS = tuple(c.path for c in CONNECTORS)


def hook_imports(source: str, package: str) -> list[str]:
    """Imports of a hook module that are neither the standard library nor ``HOOK_ALLOWED`` nor a hook."""
    out = []
    for n, m in imported_modules(source, package):
        top = m.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__":
            continue
        if any(m == a or m.startswith(a + ".") for a in HOOK_ALLOWED):
            continue
        if m == "bot.adapters" or re.fullmatch(r"bot\.adapters\.\w+_hook(\.\w+)?", m):
            continue
        out.append(f"line {n}: {m}")
    return out


def platform_names(source: str, package: str, platforms=PLATFORMS, paths=PATHS) -> list[str]:
    """Where a source names a platform: a string (docstrings and comments are prose and are left
    alone) that is a platform's key or holds its webhook path; an attribute such as
    ``settings.line_on``; an import of one of bot/adapters/'s modules (the package itself, for
    ``CONNECTORS``, is the list and names no platform)."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        text = None if id(node) in skip else _string(node)
        if text is not None and (text.lower() in platforms or any(p in text for p in paths)):
            found.append(f"line {node.lineno}: {text!r}")
        if isinstance(node, ast.Attribute) and _platform_word(node.attr, platforms):
            found.append(f"line {node.lineno}: .{node.attr}")
        name = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
            else node.id if isinstance(node, ast.Name) else None
        if name is not None and _platform_word(name, platforms):
            found.append(f"line {node.lineno}: {name}")
    found += [f"line {n}: import {m}" for n, m in imported_modules(source, package)
              if m.startswith("bot.adapters.") and m != "bot.adapters.CONNECTORS"]
    return found


def _platform_word(name: str, platforms) -> bool:
    """``line_on``, ``_slack``, ``LINEWORKS_WINDOW``, ``slack_signature_ok``: a name that starts
    with a platform's key (not ``lines`` or ``deadline``); ``SlackRequest`` is read ``slack_request``."""
    word = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.lstrip("_")).lower()
    return any(word == p or word.startswith(p + "_") for p in platforms)


def test_bot_serve_names_no_platform():
    """Adding a platform touches bot/adapters/ (and its settings, words and stand-in), not the
    web process's routing or the worker's wiring."""
    checked = modules("bot/serve")
    assert len(checked) >= 10 and any(rel(p) == "bot/serve/web.py" for p in checked)
    assert set(PLATFORMS) >= {"line", "slack", "lineworks"}  # the list the check uses is the real one
    broken = {rel(p): hits for p in checked if (hits := platform_names(p.read_text(encoding="utf-8"), package_of(p)))}
    assert broken == {}


def test_platform_hooks_import_only_the_standard_library_and_the_webhook_helpers():
    """What the web process loads of a platform: no SDK, no Flask, no numpy, no handler."""
    listed = {m for _, m in imported_modules((ROOT / "bot/adapters/__init__.py").read_text("utf-8"), "bot.adapters")}
    hooks = sorted((ROOT / "bot/adapters").glob("*_hook.py"))
    assert {f"bot.adapters.{p.stem}" for p in hooks} <= listed and len(hooks) >= len(CONNECTORS)
    # every connector's hook is one of the checked modules
    on = Settings.from_env({})
    assert {type(c.hook(on)).__module__ for c in CONNECTORS} <= {f"bot.adapters.{p.stem}" for p in hooks}
    broken = {rel(p): hits for p in [*hooks, ROOT / "bot/adapters/__init__.py"]
              if (hits := hook_imports(p.read_text(encoding="utf-8"), "bot.adapters"))}
    assert broken == {}


@pytest.mark.parametrize("source", [
    'if platform == "slack":\n    pass\n',
    'self.store("line", events)\n',
    'PATH = "/lineworks/callback"\n',
    'url = f"https://x{base}/line/webhook"\n',
    'if settings.line_on:\n    pass\n',
    'secret = settings.slack_signing_secret\n',
    'from bot.adapters.line import worker_part\n',
    'def f():\n    from bot.adapters import slack\n',
    'import bot.adapters.lineworks_hook\n',
    'def line_events(body):\n    pass\n',
    'class SlackRequest:\n    pass\n',
    'LINEWORKS_WINDOW = 24 * 3600\n',
    'def _line(self, environ):\n    pass\n',
])
def test_the_platform_check_finds_a_platform_named(source):
    assert platform_names(source, "bot.serve") != []


@pytest.mark.parametrize("source", [
    'from bot.adapters import CONNECTORS\n',
    '"""LINE and Slack redeliver; LINE WORKS does not (/lineworks/callback)."""\n',
    'x = 1  # the line webhook\n',
    'log.warning("%s: refused (%s)", path, why)\n',
    'deadline = time.monotonic()\n',
    'lines = text.splitlines()\n',
])
def test_the_platform_check_lets_generic_code_be(source):
    assert platform_names(source, "bot.serve") == []


@pytest.mark.parametrize("source, found", [
    ("import hmac, hashlib, json\n", False),
    ("from bot.serve.webhooks import Refused, Connector\n", False),
    ("def f():\n    from bot.adapters.slack_form import check_form\n", False),
    ("from bot.adapters import line_hook, slack_hook\n", False),
    ("import slack_sdk\n", True),
    ("def f():\n    from linebot.v3.webhooks import Event\n", True),     # lazy: still loaded by the web process
    ("from bot.adapters.slack import render\n", True),
    ("from bot.handlers import ROUTES\n", True),
    ("import numpy\n", True),
    ("from bot import messages\n", True),
])
def test_the_hook_check_finds_what_the_web_process_must_not_load(source, found):
    assert bool(hook_imports(source, "bot.adapters")) is found


# -- the checkers catch what they are for ---------------------------------------------------------
@pytest.mark.parametrize("source", [
    "import bot\n",
    "import bot.chat.core as c\n",
    "from bot import messages\n",
    "from bot.chat.core import Text\n",
    "def weekly():\n    from bot import summary\n    return summary\n",         # lazy, inside a function
    "class A:\n    def f(self):\n        import bot.reports.summary\n",
    "from .. import bot\n",                                                  # relative, from scheduler/
    "from ..bot.core import Reply\n",
    "import importlib\nm = importlib.import_module('bot.reports.summary')\n",
    "m = __import__('bot')\n",
])
def test_the_import_check_finds_an_import_of_bot(source):
    assert bot_imports(source, "scheduler") != []


@pytest.mark.parametrize("source", [
    "import botocore\n", "from . import store\n", "from storage.connections import target_of\n", "from robot import x\n",
    "from casebase.card import CaseCard\n", "s = 'from bot import x'\n",
])
def test_the_import_check_lets_other_imports_be(source):
    assert bot_imports(source, "scheduler") == []


@pytest.mark.parametrize("source", [
    "from bot.handlers.report import review_draft\n",
    "def on_form():\n    from bot.people.access import get_user\n",           # lazy, inside a listener
    "from bot.people import access\n",
    "from bot import handlers\n",
    "import bot.handlers.report as report\n",
    "from ..handlers import ROUTES\n",                                        # relative, from bot/adapters/
])
def test_the_adapter_check_finds_a_way_past_the_router(source):
    assert past_the_router(source, "bot.adapters") != []


@pytest.mark.parametrize("source", [
    "from bot.chat.core import Incoming, Form\n", "from bot.people.names import display\n",
    "from bot.adapters.slack_form import check_form\n", "s = 'from bot.handlers import x'\n",
])
def test_the_adapter_check_lets_the_adapters_own_imports_be(source):
    assert past_the_router(source, "bot.adapters") == []


def test_relative_imports_are_resolved_from_the_module_package():
    assert package_of(ROOT / "scheduler/service.py") == "scheduler"
    assert package_of(ROOT / "bot/console/views_plans.py") == "bot.console"
    assert bot_imports("from .. import messages\n", "bot.console") == ["line 1: bot", "line 1: bot.messages"]


@pytest.mark.parametrize("source", [
    'db.execute("UPDATE reminders SET status = ? WHERE id = ?", [s, i])\n',
    'rows = db.query("SELECT v.id FROM visits v JOIN plans p ON p.id = v.plan_id")\n',
    'sql = (\n    "SELECT * "\n    "FROM events WHERE id = ?")\n',                 # implicit concatenation
    'q = f"SELECT answer FROM rsvps WHERE event_id = {eid}"\n',
    'def f(db):\n    db.execute("insert into reminder_actions (action) values (?)", ["x"])\n',
    'db["reminders"].insert({"title": "x"})\n',
    'app.db.table("visits").update(1, {"status": "done"})\n',
    'db.execute("DELETE FROM plans WHERE id = ?", [1])\n',
])
def test_the_sql_check_finds_sql_on_a_scheduler_table(source):
    assert sql_on_scheduler_tables(source) != []


@pytest.mark.parametrize("source", [
    'db.execute("SELECT * FROM reports WHERE id = ?", [1])\n',
    'db.execute("UPDATE deliveries SET status = ? WHERE key = ?", [s, k])\n',
    'def f():\n    """Visits come from plans; reminders from events."""\n',       # a docstring is prose
    'x = body["events"]\n',                                                   # JSON, not a table
    'from scheduler import store\nstore.finish_visit(db, 1, now)\n',
])
def test_the_sql_check_lets_other_sql_and_prose_be(source):
    assert sql_on_scheduler_tables(source) == []


def test_the_sql_check_skips_only_the_named_assignment():
    source = ('MIGRATIONS = ("CREATE TABLE reminders (id INTEGER)", "CREATE INDEX r_due ON reminders(due_at)")\n'
              'def later(db):\n    db.execute("SELECT * FROM reminders")\n')
    assert sql_on_scheduler_tables(source, "MIGRATIONS") == ["line 3: SELECT * FROM reminders"]
    assert len(sql_on_scheduler_tables(source)) == 3


# -- immediate() ---------------------------------------------------------------------------------
@pytest.fixture
def conn(tmp_path):
    c = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    c.execute("CREATE TABLE t (x INTEGER)")
    yield c
    c.close()


def _count(c) -> int:
    return c.execute("SELECT COUNT(*) FROM t").fetchone()[0]


def test_immediate_commits_what_the_block_wrote(conn, tmp_path):
    with immediate(conn) as c:
        assert c is conn and conn.in_transaction
        c.execute("INSERT INTO t VALUES (1)")
    assert not conn.in_transaction
    other = sqlite3.connect(tmp_path / "t.db")
    assert _count(other) == 1  # committed: another connection sees it
    other.close()


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_immediate_rolls_back_on_any_error_and_raises_it(conn, error):
    with pytest.raises(error):
        with immediate(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            raise error()
    assert not conn.in_transaction and _count(conn) == 0


def test_immediate_takes_the_write_lock_at_begin(conn, tmp_path):
    """A second writer is refused at BEGIN, not half-way through its block."""
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None, timeout=0)
    try:
        with immediate(conn):
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                with immediate(other):
                    pytest.fail("the block ran without the lock")
            assert not other.in_transaction
    finally:
        other.close()


def test_immediate_leaving_by_return_commits(conn):
    def add() -> int:
        with immediate(conn):
            conn.execute("INSERT INTO t VALUES (2)")
            return 2
    assert add() == 2 and not conn.in_transaction and _count(conn) == 1
