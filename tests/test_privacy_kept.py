"""Everything a user types that Nimo keeps goes through the privacy guard: the
gaps log, 👍 / 👎, reminder and event titles, and the dialog state of a pending confirmation.  Each
test is a conversation through the router (``app.handle``), then a look at the database rows."""
from __future__ import annotations

import json

from bot import messages
from bot.adapters.terminal import incoming, render
from bot.curation.gaps import gap_groups, gap_report
from scheduler import store

PHONE = "090-1234-5678"
NAME = "田中花子"


def say(app, text):
    return render(app.handle(incoming(text)))


def rows(app, sql):
    return [dict(zip([c[0] for c in cur.description], r)) for cur in [app.db.execute(sql)] for r in cur.fetchall()]


def _dialog(app) -> str:
    got = app.db.execute("SELECT data FROM dialog_state").fetchall()
    return " ".join(r[0] for r in got)


def test_an_unanswered_question_is_logged_masked_and_the_user_is_told(app):
    out = say(app, f"{NAME}さん {PHONE} の件どうしたらいい")
    assert messages.MASKED_NOTICE in out
    gaps = rows(app, "SELECT question, key FROM gaps")
    assert len(gaps) == 1
    kept = gaps[0]["question"]
    assert NAME not in kept and "花子" not in kept and PHONE not in kept and "1234" not in kept
    assert "〇〇さん" in kept and "の件どうしたらいい" in kept
    assert "花子" not in gaps[0]["key"] and "1234" not in gaps[0]["key"]
    shown = json.dumps(gap_report(app.db), ensure_ascii=False) + json.dumps(gap_groups(app.db), ensure_ascii=False)
    assert "花子" not in shown and "5678" not in shown and "〇〇さん" in shown


def test_a_question_without_personal_data_is_logged_as_typed_without_a_notice(app):
    out = say(app, "宇宙旅行の補助金はありますか")
    assert messages.MASKED_NOTICE not in out
    assert [r["question"] for r in rows(app, "SELECT question FROM gaps")] == ["宇宙旅行の補助金はありますか"]


def test_thumbs_down_keeps_the_question_masked(app):
    say(app, f"{NAME}さんの住まいの確保で困っている")
    assert "花子" not in _dialog(app)
    out = say(app, "👎")
    assert messages.THANKS_DOWN in out and messages.MASKED_NOTICE in out
    fb = rows(app, "SELECT question, vote FROM feedback")
    assert len(fb) == 1 and fb[0]["vote"] == -1
    assert "花子" not in fb[0]["question"] and "〇〇さん" in fb[0]["question"] and "住まい" in fb[0]["question"]
    assert "花子" not in json.dumps(gap_report(app.db), ensure_ascii=False)


def test_a_reminder_title_is_masked_in_the_confirmation_the_dialog_and_the_reminder(app):
    out = say(app, f"リマインド 明日10時 {NAME}さんに電話 {PHONE}")
    assert messages.MASKED_PENDING in out
    assert "〇〇さんに電話 ***-****-****" in out and "花子" not in out and PHONE not in out
    assert "花子" not in _dialog(app) and "5678" not in _dialog(app)
    say(app, "はい")
    titles = [r["title"] for r in rows(app, "SELECT title FROM reminders")]
    assert titles == ["〇〇さんに電話 ***-****-****"]
    assert "〇〇さんに電話" in say(app, "予定")


def test_an_event_title_is_masked(app):
    out = say(app, "イベント 12月3日14時 鈴木ケアマネと打ち合わせ")
    assert messages.MASKED_PENDING in out and "〇〇ケアマネと打ち合わせ" in out and "鈴木" not in out
    assert "鈴木" not in _dialog(app)
    say(app, "はい")
    assert [r["title"] for r in rows(app, "SELECT title FROM events")] == ["〇〇ケアマネと打ち合わせ"]
    assert all("鈴木" not in r["title"] for r in rows(app, "SELECT title FROM reminders"))


def test_a_reminder_without_personal_data_is_kept_as_typed(app):
    out = say(app, "リマインド 明日14時 ケース会議の資料")
    assert messages.MASKED_PENDING not in out
    say(app, "はい")
    assert [r.title for r in store.mine(app.db, "terminal", incoming("x").user)] == ["ケース会議の資料"]


def test_a_report_masked_on_request_hides_every_name_of_the_issue(app):
    """The report keeps its own flow (伏せて確定); it now sees the names the rules alone missed."""
    out = say(app, "報告 訪問 K-012 田中花子さん宅を訪問。母親の田中よし子さんも同席")
    assert "田中よし子さん（名前）" in out and "伏せて確定" in out
    say(app, "伏せて確定")
    summaries = [r["summary"] for r in rows(app, "SELECT summary FROM reports")]
    assert summaries == ["〇〇さん宅を訪問。母親の〇〇さんも同席"]
