"""What 「はい」 does is looked up by the read-back's tag in one table the handler modules declare
(remind.py's and plans.py's ``CONFIRMATIONS``, collected by ``build_app``).  A tag no module
declares (a state left by another version) is said to be no longer valid and cleared: it is never
taken for something else, such as a visit plan."""
from __future__ import annotations

import ast
import logging
from datetime import datetime
from pathlib import Path

import pytest

from bot import messages
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import open_db
from bot.handlers import registry
from bot.handlers.remind import CONFIRM
from bot.people.access import add_user
from scheduler.workdays import TZ

from .conftest import Clock

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=TZ)


@pytest.fixture
def app(index):
    a = build_app(db=open_db(":memory:"), clock=Clock(NOW), index=index)
    add_user(a.db, "line", "U1", "staff", "北区", NOW)
    return a


def say(app, text):
    return render(app.handle(Incoming("line", "U1", "U1", text, True)))


def stored(app) -> dict:
    return {t: app.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("reminders", "plans", "visits", "events")}


@pytest.mark.parametrize("data", [
    {"what": "renamed_in_a_later_version", "plan": "discharge", "code": "K-012", "anchor": "2026-11-20",
     "target": "U1"},                                       # once taken for a visit plan, being no tag it knew
    {"plan": "discharge", "code": "K-012", "anchor": "2026-11-20", "target": "U1"},  # no tag at all
    {"what": ["not", "a", "name"]},
])
def test_an_unknown_tag_is_said_to_be_no_longer_valid_and_cleared(app, data, caplog):
    app.dialogs.set("line", "U1", CONFIRM, data, NOW)
    before = stored(app)
    with caplog.at_level(logging.WARNING):
        out = say(app, "はい")
    assert out == messages.CONFIRM_UNKNOWN
    assert stored(app) == before  # nothing was made of it
    assert app.dialogs.get("line", "U1", NOW, CONFIRM) is None
    assert say(app, "はい") == messages.NOTHING_TO_CONFIRM
    [line] = [r.getMessage() for r in caplog.records if r.name == "nimo.remind"]
    assert line == f"confirmation with an unknown tag: {str(data.get('what'))[:40]}"
    assert "K-012" not in line and "discharge" not in line  # the tag only, nothing of the data


def test_no_to_an_unknown_tag_is_a_plain_cancel(app):
    app.dialogs.set("line", "U1", CONFIRM, {"what": "renamed_in_a_later_version"}, NOW)
    assert say(app, "いいえ") == messages.CANCELLED_INPUT
    assert app.dialogs.get("line", "U1", NOW, CONFIRM) is None


def test_every_tag_a_handler_writes_is_in_the_table():
    """Each read-back's ``"what": "..."`` written by a handler module has its confirmation."""
    written = set()
    for path in (ROOT / "bot" / "handlers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values):
                    if isinstance(k, ast.Constant) and k.value == "what" and isinstance(v, ast.Constant):
                        written.add(v.value)
    assert written == {"reminder", "event", "change", "plan", "close_plans", "hand_over"}
    assert written == set(registry().confirmations)


def test_the_known_tags_still_do_what_they_did(app):
    assert "よろしいですか" in say(app, "リマインド 明日14時 家族会の準備")
    assert "登録しました" in say(app, "はい")
    assert "よろしいですか" in say(app, "退院 K-012 11/20")
    assert say(app, "いいえ") == messages.CANCELLED_INPUT
    assert stored(app)["plans"] == 0
    say(app, "退院 K-012 11/20")
    say(app, "はい")
    assert stored(app)["plans"] == 1
    assert "K-012" in say(app, "計画終了 K-012 転居")
    assert say(app, "はい").startswith("K-012 の訪問計画を終了しました（理由：転居）")  # plans.py's confirmation
