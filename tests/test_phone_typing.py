"""What busy staff type on a phone, read as they meant it: full-width and half-width characters,
the dashes an IME puts into a case code, greetings with long vowels and emoji, a reminder that was
already done.  Each test is a chat transcript through the router at a fixed Tokyo time."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot import messages
from bot.adapters.terminal import incoming, render
from bot.app import build_app
from bot.db import open_db
from scheduler import store
from scheduler.workdays import TZ

from .conftest import Clock


def at(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def say(app, text):
    return render(app.handle(incoming(text)))


@pytest.fixture
def japp(index):
    """The terminal user's app at Tuesday 2026-11-24 09:30 in Tokyo."""
    return build_app(db=open_db(":memory:"), clock=Clock(at(2026, 11, 24, 9, 30)), index=index)


# -- a case code as a phone types it ------------------------------------------------------------
@pytest.mark.parametrize("text", ["措置　Ｋ－０１５　１１／２０", "措置 Ｋ-015 11/20", "措置 K–015 11/20",
                                  "措置 Kー015 11/20", "措置 k‐015 11/20"])
def test_a_full_width_or_dashed_case_code_starts_the_plan(japp, text):
    out = say(japp, text)
    assert "ケースコードが読み取れません" not in out
    assert "K-015" in out and "11月20日(金)" in out
    say(japp, "はい")
    assert japp.db.execute("SELECT case_code FROM plans").fetchall() == [("K-015",)]


def test_a_full_width_case_code_without_a_day_asks_for_the_day(japp):
    out = say(japp, "措置　Ｋ－０１５")
    assert "K-015" in out and "ケースコードが読み取れません" not in out


# -- half-width katakana commands ---------------------------------------------------------------
@pytest.mark.parametrize("text,title", [("ﾘﾏｲﾝﾄﾞ 明日14時 資料", "資料"),
                                        ("明日14時に資料をﾘﾏｲﾝﾄﾞして", "資料"),
                                        ("ｒｅｍｉｎｄ 明日14時 Ｗｅｂ会議", "Web会議")])
def test_a_half_width_command_word_sets_the_reminder(japp, text, title):
    out = say(japp, text)
    assert out.startswith(f"11月25日(水) 14:00 に「{title}」をリマインドします。"), out
    say(japp, "はい")
    [r] = store.active(japp.db)
    assert r.title == title and r.due_at == at(2026, 11, 25, 14)


# -- greetings as typed between visits ----------------------------------------------------------
def _gaps(app) -> int:
    return app.db.execute("SELECT count(*) FROM gaps").fetchone()[0]


@pytest.mark.parametrize("text,opening", [("おはよー", "おはようございます。"), ("おはようございまーす☀️", "おはようございます。"),
                                          ("こんにちはー！", "こんにちは。"), ("おつかれさまでーす笑", "お疲れさまです。"),
                                          ("よろしくでーす", "よろしくお願いします。")])
def test_a_casual_greeting_is_returned_in_kind_and_not_logged_as_a_gap(japp, text, opening):
    out = say(japp, text)
    assert out.startswith(opening + "Nimo（にも）です。"), out
    assert _gaps(japp) == 0


@pytest.mark.parametrize("text,reply", [("ありがと😊", messages.THANKS_REPLY), ("ありがとーww", messages.THANKS_REPLY),
                                        ("ありがとです", messages.THANKS_REPLY), ("どもです", messages.THANKS_REPLY),
                                        ("了解でーす", messages.ACK_REPLY), ("りょーかい〜", messages.ACK_REPLY),
                                        ("了解っす笑", messages.ACK_REPLY), ("わかりましたー", messages.ACK_REPLY)])
def test_casual_thanks_and_acknowledgements_get_the_short_reply(japp, text, reply):
    assert say(japp, text) == reply
    assert _gaps(japp) == 0


def test_a_question_that_only_starts_like_a_greeting_is_still_searched(japp):
    out = say(japp, "おはようございます、家族教室について知りたい")
    assert "近い事例" in out
