"""The handler modules only declare; the composition root collects.  Importing a handler module fills
no registry anywhere, ``build_app`` hands one :class:`Registry` to the router and the dialogs, and a
``Dialogs`` without the handlers' conversations says so in its constructor call."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.chat.dialogs import Dialogs
from bot.chat.registry import Group, Registry
from bot.chat.routes import Conversation, Route, always
from storage.connections import open_db
from bot.handlers import GROUPS, MODULES, registry
from bot.handlers import report as report_module
from scheduler.workdays import TZ

from .conftest import Clock

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=TZ)

# In a fresh interpreter: import the chat framework and everything it stands on, note every
# module-level dict, list and set of bot's modules, then import every handler module; print the
# containers that changed.  A registry filled at import would be one of them.
SNAPSHOT = """
import importlib, json, pkgutil, sys
import bot.app, bot.chat.dialogs, bot.chat.router, bot.chat.registry, bot.chat.routes, bot.messages
import bot.people.access, bot.reports.records

def containers():
    out = {}
    for name, mod in list(sys.modules.items()):
        if name == "bot" or name.startswith("bot."):
            for key, value in vars(mod).items():
                if isinstance(value, (dict, list, set)) and not key.startswith("__"):
                    out[f"{name}.{key}"] = repr(sorted(map(repr, value)) if isinstance(value, set) else value)
    return out

assert "bot.handlers" not in sys.modules, "the framework imported the handlers"
before = containers()
import bot.handlers
for info in pkgutil.iter_modules(bot.handlers.__path__):
    importlib.import_module(f"bot.handlers.{info.name}")
after = containers()
print(json.dumps(sorted(k for k in before if after.get(k) != before[k])))
"""


def test_importing_the_handler_modules_fills_no_registry():
    out = subprocess.run([sys.executable, "-c", SNAPSHOT], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == []


MUTATORS = {"update", "append", "extend", "add", "setdefault", "insert", "__setitem__"}


def module_level_registrations(source: str) -> list[str]:
    """What a module's top level does to names it imported: calls a function of an imported
    module of ``bot`` (``dialogs.on_end(...)``), calls a mutating method on an imported name
    (``CONFIRMED.update(...)``) or assigns into one (``TABLE[k] = v``)."""
    tree = ast.parse(source)
    imported_bot_modules, imported = set(), set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bot":
            for a in node.names:
                imported.add(a.asname or a.name)
                if node.module in ("bot", "bot.chat", "bot.handlers", "bot.reports", "bot.people", "bot.privacy"):
                    imported_bot_modules.add(a.asname or a.name)
    found = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Lambda):
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name):
                owner, attr = node.func.value.id, node.func.attr
                if owner in imported_bot_modules and not attr[:1].isupper() and owner != "messages" \
                        or owner in imported and attr in MUTATORS:
                    found.append(f"{owner}.{attr}(...)")
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(target, (ast.Subscript, ast.Attribute)) and isinstance(target.value, ast.Name) \
                            and target.value.id in imported:
                        found.append(f"{target.value.id}[...] =")
    return found


def test_no_handler_module_registers_anything_at_its_top_level():
    for path in sorted((ROOT / "bot" / "handlers").glob("*.py")):
        assert module_level_registrations(path.read_text(encoding="utf-8")) == [], path.name


def test_the_check_finds_registrations_of_the_kinds_there_were():
    src = ("from bot.chat import dialogs\nfrom bot.handlers.remind import CONFIRMED\nfrom bot import messages\n"
           "dialogs.on_end(('a',), print)\nX = dialogs.conversation(1)\nCONFIRMED.update(a=1)\n"
           "CONFIRMED['b'] = 2\nY = messages.hello('day')\n")
    assert module_level_registrations(src) == ["dialogs.on_end(...)", "dialogs.conversation(...)",
                                               "CONFIRMED.update(...)", "CONFIRMED[...] ="]


def test_build_app_hands_one_registry_to_the_router_and_the_dialogs():
    app = build_app(db=open_db(":memory:"), clock=Clock(NOW))
    assert app.dialogs.registry is app.registry
    reg = app.registry
    assert reg.slot_of("report_review") == "report" and reg.slot_of("report_aside") == "report_aside"
    assert reg.timeout_of("report_step") == timedelta(minutes=30)
    assert reg.timeout_of("answer") == timedelta(hours=24)
    assert reg.on_end_of("report_review") is report_module._draft_ended
    assert reg.on_end_of("report_aside") is report_module._draft_ended
    assert reg.conversation("report").timed_out and reg.conversation("report").captures
    assert set(reg.confirmations) == {"change", "reminder", "event", "plan", "close_plans", "hand_over"}
    assert [r.name for r in reg.routes] == [r.name for r in registry().routes]  # built afresh, the same


def test_dialogs_without_the_handlers_registry_is_said_in_the_call_and_behaves_so():
    db = open_db(":memory:")
    with_handlers, bare = Dialogs(db, registry()), Dialogs(db, Registry.empty())
    with_handlers.set("line", "U1", "answer", {"ids": []}, NOW)
    later = NOW + timedelta(hours=2)
    assert with_handlers.get("line", "U1", later, "answer") is not None  # an answer is paged for a day
    assert bare.get("line", "U1", later, "answer") is None               # no conversations: 30 minutes
    with pytest.raises(TypeError):
        Dialogs(db)
    with pytest.raises(TypeError, match="registry"):
        App(db)


def test_a_report_drafts_end_hook_runs_through_the_apps_dialogs(tmp_path):
    """The photo of a draft goes when the draft is cancelled: the hook comes from the registry."""
    app = build_app(db=open_db(tmp_path / "n.db"), clock=Clock(NOW))
    from bot.people.access import add_user
    add_user(app.db, "line", "U1", "staff", "北区", NOW)
    photo = tmp_path / "photos" / "line-abc-0123456789ab.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"x")
    app.dialogs.set("line", "U1", "report_step", {"step": "summary", "draft": {"photos": [str(photo)]}}, NOW)
    app.dialogs.clear("line", "U1", "report_step")
    assert not photo.exists()
    photo.write_bytes(b"x")
    Dialogs(app.db, Registry.empty()).set("line", "U1", "report_step", {"draft": {"photos": [str(photo)]}}, NOW)
    Dialogs(app.db, Registry.empty()).clear("line", "U1", "report_step")
    assert photo.exists()  # without the handlers' registry, nothing knows a draft holds files


def test_the_registry_refuses_what_would_silently_win():
    one = Route(always, lambda app, msg, m: [], "one", group="a")
    groups = (Group("a", ""),)
    with pytest.raises(ValueError, match="group 'b'"):
        Registry(groups, [Route(always, lambda app, msg, m: [], "x", group="b")], [], {})
    with pytest.raises(ValueError, match="name"):
        Registry(groups, [one, one], [], {})

    class A:
        __name__ = "a"
        CONFIRMATIONS = {"tag": print}
        CONVERSATIONS = (Conversation("c", ("s",)),)

    class B:
        __name__ = "b"
        CONFIRMATIONS = {"tag": print}

    class C:
        __name__ = "c"
        CONVERSATIONS = (Conversation("d", ("s",)),)

    with pytest.raises(ValueError, match="tag"):
        Registry.build(groups, [A, B])
    with pytest.raises(ValueError, match="state"):
        Registry.build(groups, [A, C])
    with pytest.raises(KeyError, match="nope"):
        registry().route("nope")


def test_every_module_listed_declares_routes_in_known_groups():
    names = {g.name for g in GROUPS}
    for module in MODULES:
        assert module.ROUTES and all(r.group in names for r in module.ROUTES), module.__name__


def test_reports_purge_sweeps_dialogs_with_their_own_timeouts(nimo):
    """`nimo reports purge` never answers a message, so it never imported the handlers: its sweep
    took every dialog for a 30-minute one and forgot an answer being paged the same afternoon.
    Now it sweeps with the handlers' registry: the answer stays its day, the draft goes."""
    from bot.app import utc_now
    db = open_db(nimo.db_path)
    two_hours_ago = utc_now() - timedelta(hours=2)
    dialogs = Dialogs(db, registry())
    dialogs.set("line", "U1", "answer", {"ids": ["c1"], "shown": 1}, two_hours_ago)
    dialogs.set("line", "U1", "report_step", {"step": "summary", "draft": {"photos": []}}, two_hours_ago)
    db.close()
    nimo("reports", "purge", "--days", "365", "--yes")
    rows = open_db(nimo.db_path).execute("SELECT name FROM dialog_state").fetchall()
    assert [r[0] for r in rows] == ["answer"]
