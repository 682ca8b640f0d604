"""ヘルプ shows every capability with an example that works as it is, the README
lists the same examples, and a command word Nimo cannot read gets a hint, never a place in the
log of missing cases (item 10)."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from bot import messages
from bot.people.access import add_user
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import open_db
from scheduler import store
from scheduler.workdays import TZ

from .conftest import Clock

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=TZ)  # a Tuesday morning
README = Path(__file__).resolve().parents[1] / "README.md"


def examples(text: str) -> list[str]:
    """What a help page offers to be sent: 「例：X」 and the bullets 「・X … what it does」, split at ／."""
    out = []
    for line in text.splitlines():
        if m := re.search(r"例：(.+)$", line):
            out.append(m.group(1))
        elif line.startswith("・"):
            out += line[1:].split(" … ")[0].split("／")
    return [e.strip("「」 ") for e in out]


ALL = [e for page in (messages.HELP, *messages.HELP_TOPICS.values()) for e in examples(page)]
QUESTIONS = {e for e in examples(messages.HELP_TOPICS["質問"]) if not re.match(r"^(詳しく|次|似た事例|👍|👎)", e)} | {
    "家族教室を始めたい"}


@pytest.fixture
def app(index):
    a = build_app(db=open_db(":memory:"), clock=Clock(NOW), index=index)
    add_user(a.db, "line", "U1", "supervisor", "北区", NOW)
    return a


def say(app, text, user="U1", direct=True):
    return render(app.handle(Incoming("line", user, user if direct else "G1", text, direct)))


def gaps(app) -> int:
    return app.db.execute("SELECT count(*) FROM gaps").fetchone()[0]


def test_help_names_every_capability_with_an_example_and_where_to_find_more(app):
    out = say(app, "ヘルプ")
    for capability in ("事例", "リマインド", "イベント", "退院", "予定", "報告"):
        assert capability in out
    assert "ヘルプ リマインド" in out and "ヘルプ 報告" in out and "メニュー" in out
    for topic in messages.HELP_TOPICS:
        assert say(app, f"ヘルプ {topic}").startswith(messages.HELP_TOPICS[topic])
    assert "ヘルプ 報告" in say(app, "ヘルプ 天気")


def test_the_greeting_says_more_than_questions(app):
    out = render(app.handle(Incoming("line", "U-new", "U-new", kind="follow")))
    assert "リマインド" in out and "報告" in out and "ヘルプ" in out


def test_every_example_in_help_is_taken_by_its_command(app):
    assert len(ALL) >= 25
    say(app, "リマインド 明日14時 ケース会議の資料")
    say(app, "はい")                             # reminder 1, for 「完了 1」 and the like
    say(app, "家族教室")                          # an answer, for 「詳しく 1」 and the like
    for example in ALL:
        before = gaps(app)
        out = say(app, example)
        assert out != messages.SORRY and gaps(app) == before, example
        if example in QUESTIONS:
            assert "詳しく 1" in out, example      # a question: cases
        elif not re.match(r"^(詳しく|次|似た事例)", example):
            assert "手引きの" not in out and "詳しく 1」で全文" not in out, example  # a command: not cases
        app.dialogs.clear("line", "U1", "report_step", "confirm")


def test_the_readme_lists_what_help_lists():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## 使い方"):text.index("## 設定")]
    missing = [e for e in ALL if e not in section]
    assert missing == []


@pytest.mark.parametrize("text, word", [
    ("参加", "参加"), ("不参加", "参加"), ("変更 1", "変更"), ("変更", "変更"), ("朝の通知 七時", "朝の通知"),
    ("延期 来年のどこか", None), ("予定 来週", "予定"), ("完了 ぜんぶ", None),
])
def test_a_command_word_not_understood_gets_a_hint_and_no_gap(app, text, word):
    out = say(app, text)
    assert gaps(app) == 0
    if word:
        assert out == messages.HINTS[word] or word in out


def test_words_that_now_work(app):
    assert "よろしいですか" in say(app, "リマインダー 明日14時 ケース会議")
    say(app, "はい")
    [r] = store.active(app.db)
    assert "11月26日(木) 10:00" in say(app, f"延期 {r.id} 明後日10時")
    assert "12月3日(木) 10:00" in say(app, f"延期 来週 {r.id}")  # a week after its own day (Thursday), still ahead
    assert "7:00" in say(app, "朝の通知 7時") and "7:30" in say(app, "朝の通知 7時半")
    assert gaps(app) == 0


def test_another_member_tapping_yes_in_a_group_is_told_and_not_logged(app):
    add_user(app.db, "line", "U2", "staff", "北区", NOW)
    say(app, "リマインド 明日14時 ケース会議", direct=False)
    assert say(app, "はい", user="U2", direct=False) == messages.NOTHING_TO_CONFIRM
    assert gaps(app) == 0 and store.active(app.db) == []
    assert "登録しました" in say(app, "はい", direct=False)


def test_questions_that_start_like_a_command_are_still_questions(app):
    for q in ("参加者を増やす工夫", "予定外の入院への対応"):
        assert "詳しく 1" in say(app, q) or "見つかりませんでした" in say(app, q)
