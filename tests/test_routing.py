"""The shape every command has: routes declared by their handler modules, access rules
applied once by the router, and conversations kept in slots of their own, written as the
conversations a user has."""
from __future__ import annotations

import ast
import pkgutil
import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

import bot.handlers
from bot.people.access import add_user
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import open_db
from storage.migrations import MIGRATIONS, migrate
from bot.handlers import MODULES, registry
from scheduler.workdays import TZ

from .conftest import Clock

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=TZ)  # a Tuesday morning


@pytest.fixture
def app(index):
    a = build_app(db=open_db(":memory:"), clock=Clock(NOW), index=index)
    add_user(a.db, "line", "U-staff", "staff", "北区", NOW)
    add_user(a.db, "line", "U-super", "supervisor", "北区", NOW)
    return a


def say(app, text, user="U-staff", direct=True):
    return render(app.handle(Incoming("line", user, user if direct else "G1", text, direct)))


# -- conversations side by side ----------------------------------------------------------------
def test_paging_an_answer_survives_a_reminder_waiting_for_yes(app):
    first = say(app, "家族会との連携")
    assert "詳しく 1" in first
    assert "よろしいですか" in say(app, "リマインド 明日14時 家族会の準備")
    assert "4" in say(app, "次")                 # the answer is still there to page through
    assert "登録しました" in say(app, "はい")      # and the reminder still waits for its yes


def test_a_reminder_waiting_for_yes_survives_an_answer_shown_after_it(app):
    say(app, "リマインド 明日14時 家族会の準備")
    say(app, "8050問題")                         # a question in between
    assert "登録しました" in say(app, "はい")


def test_a_report_being_written_takes_the_next_message_and_stopping_it_keeps_the_answer(app):
    say(app, "ひきこもり支援")
    assert "種類" in say(app, "報告")
    assert "詳しく" not in say(app, "次")          # 「次」 is the report's input now, not a page
    state = app.dialogs.get("line", "U-staff", app.clock(), "report_step", "report_review", "report_fix")
    assert state is not None and state.slot == "report"
    assert "やめました" in say(app, "やめる")
    assert "詳しく" in say(app, "次")              # the answer shown before the report is still paged


def test_a_timed_out_report_is_said_and_the_message_is_still_answered(app):
    say(app, "報告")
    app.clock.now += timedelta(minutes=31)
    out = say(app, "予定")
    assert "30分操作がなかった" in out and "登録されている予定はありません" in out


# -- access rules, declared on the route and applied once --------------------------------------
def test_supervisor_only_routes_refuse_staff_and_serve_supervisors(app):
    for text in ("予定 全体", "報告一覧 全体"):
        assert "スーパーバイザー" in say(app, text)
        assert "スーパーバイザー" not in say(app, text, user="U-super")


def test_direct_only_routes_refuse_in_a_group_and_store_nothing(app):
    for text in ("報告 訪問 K-1 今日 様子を確認", "管理画面", "事例提案", "予定 K-012"):
        out = say(app, text, direct=False)
        assert "1対1" in out, text
    assert app.db.execute("SELECT count(*) FROM dialog_state").fetchone()[0] == 0


def test_the_sender_is_looked_up_once_for_the_registration_check_and_the_roles(app):
    """One chain of access steps: the registration check and a route's roles read one lookup."""
    lookups = []
    app.db.conn.set_trace_callback(lambda sql: lookups.append(sql) if "FROM users" in sql else None)
    try:
        assert "よろしいですか" in say(app, "退院 K-012 11/20")  # a route for staff roles only
    finally:
        app.db.conn.set_trace_callback(None)
    assert len(lookups) == 1


def test_every_message_passes_the_access_steps_in_one_stated_order():
    from bot.chat.router import CHAIN, ROUTE_RULES
    assert [step.__name__ for step in CHAIN] == ["shape", "safety_net", "public_routes", "registered", "fresh_cases",
                                                 "expired_dialogs", "dialogs_and_routes", "nothing_took"]
    assert [rule.__name__ for rule in ROUTE_RULES] == ["direct_only", "role"]


def test_an_unregistered_user_is_asked_to_register_whatever_the_route(app):
    for text in ("予定", "報告", "ヘルプ", "家族教室"):
        assert "登録" in render(app.handle(Incoming("line", "U-new", "U-new", text)))


def test_a_sticker_and_a_follow_are_routed_by_kind(app):
    assert "登録" in render(app.handle(Incoming("line", "U-new", "U-new", kind="follow")))
    assert "Nimo" in render(app.handle(Incoming("line", "", "G1", direct=False, kind="join")))
    assert "文字の質問" in render(app.handle(Incoming("line", "U-staff", "U-staff", kind="non_text")))


def test_a_photo_is_downloaded_only_for_a_registered_sender_writing_a_report(app):
    fetched = []
    def fetch():
        fetched.append(1)
        return b"not an image"
    render(app.handle(Incoming("line", "U-new", "U-new", kind="image", fetch_photo=fetch)))
    render(app.handle(Incoming("line", "U-staff", "U-staff", kind="image", fetch_photo=fetch)))
    assert fetched == []  # unregistered: refused first; registered but no report: nothing to attach to


# -- the declared shape ------------------------------------------------------------------------
def test_every_handler_module_with_routes_is_listed_once_and_route_names_are_unique():
    declared = {m.__name__ for m in MODULES}
    for info in pkgutil.iter_modules(bot.handlers.__path__):
        src = (Path(bot.handlers.__file__).parent / f"{info.name}.py").read_text(encoding="utf-8")
        if re.search(r"^ROUTES\s*=", src, re.M):
            assert f"bot.handlers.{info.name}" in declared, info.name
    routes = registry().routes
    names = [r.name for r in routes]
    assert all(names) and len(names) == len(set(names))
    assert routes[-1].name == "question"  # the search takes what no command took


def test_the_chat_framework_names_no_handler():
    """Adding a command touches its handler module only: the router gets the routes from the app's
    registry, and nothing in bot/chat imports bot.handlers."""
    chat = Path(bot.handlers.__file__).parent.parent / "chat"
    for path in chat.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any("handlers" in m for m in imported), path.name


def test_a_conversation_state_is_found_in_its_own_slot():
    reg = registry()
    assert reg.slot_of("report_review") == "report" and reg.slot_of("answer") == "answer"
    assert reg.conversation("report").captures and not reg.conversation("confirm").captures


def test_migration_9_keeps_the_dialog_states_of_before(tmp_path):
    conn = sqlite3.connect(str(tmp_path / "n.db"), isolation_level=None)
    db = sqlite_utils.Database(conn)
    for number, sql in enumerate(MIGRATIONS[:8], start=1):  # the schema before dialog slots
        conn.executescript(f"BEGIN; {sql}; PRAGMA user_version = {number}; COMMIT;")
    db.execute("INSERT INTO dialog_state VALUES ('line', 'U1', 'report_step', '{\"step\": \"type\"}', ?)",
               [NOW.isoformat()])
    migrate(db)
    assert db.execute("SELECT slot, name FROM dialog_state").fetchall() == [("report", "report_step")]


# -- a command added in one module: 「予定 K-012」 -------------------------------------------------
def test_one_cases_visits_are_listed_for_its_owner_and_the_areas_supervisor(app):
    say(app, "退院 k-012 11/20")
    assert "登録しました" in say(app, "はい")
    out = say(app, "予定 K-012")
    assert out.startswith("K-012 の訪問予定") and "1週間後" in out and "（予定）" in out
    assert "K-012 の訪問予定" in say(app, "予定 K-012", user="U-super")
    add_user(app.db, "line", "U-other", "staff", "北区", NOW)
    assert "見つかりませんでした" in say(app, "予定 K-012", user="U-other")  # not another staff member's


# -- one platform interface --------------------------------------------------------------------
def test_line_line_works_and_the_terminal_are_platforms_answered_by_one_loop(app, tmp_path):
    import io
    from bot.adapters.line import LineMessenger
    from bot.adapters.lineworks import LineWorksAnswers
    from bot.adapters.terminal import Terminal, chat
    from bot.chat.platform import Platform
    from bot.adapters.line import LineAnswers
    line = LineAnswers(app, LineMessenger(access_token="t", base_url="http://127.0.0.1:9"))
    works = LineWorksAnswers(app, api=None)
    for platform in (line, works, Terminal(io.StringIO())):
        assert isinstance(platform, Platform), platform
    assert line.parse({"type": "unknown"}) is None and works.parse({"type": "unknown"}) is None
    out = io.StringIO()
    chat(app, ["ヘルプ", "終了", "予定"], out)
    assert out.getvalue().startswith("Nimo（にも）でできること") and "登録されている予定" not in out.getvalue()
