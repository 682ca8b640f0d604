"""What a busy person types that is not a question: a greeting, a thank-you, a number picked from
a numbered list.  Each gets the answer a colleague would give, and none is searched as a question
and logged in the gaps list that curators read."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot import messages
from bot.people.access import add_user
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import open_db
from scheduler.workdays import TZ

from .conftest import Clock

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=TZ)  # a Tuesday morning


@pytest.fixture
def app(index):
    a = build_app(db=open_db(":memory:"), clock=Clock(NOW), index=index)
    add_user(a.db, "line", "U-staff", "staff", "北区", NOW)
    return a


def say(app, text, user="U-staff", platform="line"):
    return render(app.handle(Incoming(platform, user, user, text, True)))


def gaps(app) -> int:
    return app.db.execute("SELECT count(*) FROM gaps").fetchone()[0]


@pytest.mark.parametrize("text,opening", [
    ("こんにちは", "こんにちは。"),
    ("こんにちは！", "こんにちは。"),
    ("こんばんわ", "こんばんは。"),
    ("おはようございます😊", "おはようございます。"),
    ("お疲れ様です！", "お疲れさまです。"),
    ("おつかれさまです〜", "お疲れさまです。"),
    ("よろしくお願いします。", "よろしくお願いします。"),
])
def test_a_greeting_is_returned_in_kind_and_not_logged_as_a_gap(app, text, opening):
    out = say(app, text)
    assert out.startswith(opening + "Nimo（にも）です。")
    assert "該当する事例" not in out and "登録が必要" not in out
    assert gaps(app) == 0


@pytest.mark.parametrize("text,reply", [
    ("ありがとうございました", messages.THANKS_REPLY),
    ("ありがとう！！", messages.THANKS_REPLY),
    ("助かりました🙏", messages.THANKS_REPLY),
    ("了解です", messages.ACK_REPLY),
    ("承知しました。", messages.ACK_REPLY),
])
def test_thanks_and_acknowledgements_get_a_short_reply(app, text, reply):
    assert say(app, text) == reply
    assert gaps(app) == 0


def test_an_unregistered_person_greeting_is_told_how_to_register(app):
    assert say(app, "こんにちは", user="U-new") == messages.REGISTER_PROMPT
    assert say(app, "ありがとう", user="U-new") == messages.REGISTER_PROMPT


def test_the_terminal_user_needs_no_registration_to_be_greeted(app):
    out = say(app, "お疲れ様です", user="local", platform="terminal")
    assert out.startswith("お疲れさまです。") and "登録" not in out


def test_a_greeting_that_opens_a_question_is_still_a_question(app):
    out = say(app, "こんにちは、家族教室について知りたい")
    assert "詳しく 1" in out and "近い事例" in out


def test_a_number_on_its_own_before_any_list_says_to_ask_first(app):
    assert say(app, "1") == messages.NOTHING_SHOWN
    assert gaps(app) == 0


@pytest.mark.parametrize("typed", ["2", "２", "②", "2番", "2 番目", "2件目"])
def test_a_number_on_its_own_after_a_list_shows_that_case(app, typed):
    say(app, "家族会との連携")
    assert say(app, typed) == say(app, "詳しく 2")
    assert "■" in say(app, typed)


@pytest.mark.parametrize("topic", ["8050", "630"])
def test_a_number_that_is_a_topic_is_still_searched(app, topic):
    say(app, "家族会との連携")
    assert "近い事例" in say(app, topic)


def test_a_number_not_on_the_list_is_refused_with_the_range(app):
    say(app, "家族会との連携")
    assert say(app, "9") == messages.bad_number("9", 3)


def test_a_report_waiting_for_its_date_takes_a_greeting_as_its_answer(app):
    say(app, "報告")
    assert "いつのこと" in say(app, "訪問")
    assert "日付が見つかりません" in say(app, "こんにちは")  # the dialog's own reply, not the greeting
    assert "日付が見つかりません" in say(app, "ありがとう")
