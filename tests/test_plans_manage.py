"""What staff expect and missed: close a whole visit plan (readmitted, moved
away) and hand a case's plan to a colleague, as the conversations staff have, through the router with
the clock injected; where delivery matters the reminder engine and the notice sender run with the
same clock and push into an in-process recorder.

Unless a test says otherwise it is Tuesday 2026-11-24, 09:30 in Tokyo, and 山田 (staff, 千葉市) has
registered 「退院 K-012 11/20」: visits due 11/27, 12/4, 12/21 and 2/19, each announced at 08:30.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from bot import messages
from bot.chat import reminder_texts
from bot.people.access import add_user, set_display_name
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming, Text
from storage.connections import open_db
from bot.serve.notices import NoticeSender
from scheduler import store
from scheduler.service import ReminderService
from scheduler.workdays import TZ

from .conftest import Clock
from .fakes import PushRecorder
from .test_console import Console, page
from .test_instants import run_engine

YAMADA, SATO, TAMURA, SUZUKI, TAKAHASHI = "Uyamada", "Usato", "Utamura", "Usuzuki", "Utakahashi"
PEOPLE = ((YAMADA, "山田", "staff", "千葉市"), (SATO, "佐藤", "staff", "千葉市"), (TAMURA, "田村", "staff", "千葉市"),
          (SUZUKI, "鈴木", "staff", "船橋市"), (TAKAHASHI, "高橋", "supervisor", "千葉市"))


def at(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture
def app(index, tmp_path):
    """On a file (the engine opens its own connections to it); five people with names, and 山田's plan."""
    a = build_app(db=open_db(tmp_path / "n.db"), clock=Clock(at(2026, 11, 24, 9, 30)), index=index)
    for uid, name, role, area in PEOPLE:
        add_user(a.db, "line", uid, role, area, a.clock())
        set_display_name(a.db, "line", uid, name)
    assert "よろしいですか" in say(a, "退院 K-012 11/20")
    assert "登録しました" in say(a, "はい")
    return a


def ask(app, text, user=YAMADA, group=False, postback=False, platform="line", conversation=None):
    conv = conversation or ("Cgroup" if group else user)
    msg = Incoming(platform, user, conv, "" if postback else text, not group,
                   postback=text if postback else None)
    return app.handle(msg)


def say(app, text, user=YAMADA, **kw):
    return render(ask(app, text, user, **kw))


def buttons(replies) -> list[str]:
    return [c.text for r in replies if isinstance(r, Text) for c in r.choices]


def plan_row(app, code="K-012"):
    return app.db.execute("SELECT id, owner, status FROM plans WHERE case_code = ?", [code]).fetchone()


def visit_states(app, code="K-012"):
    return [tuple(r) for r in app.db.execute(
        "SELECT v.status, v.reason FROM visits v JOIN plans p ON p.id = v.plan_id WHERE p.case_code = ? ORDER BY v.seq",
        [code]).fetchall()]


def reminders_of(app, code="K-012"):
    """(owner, target, status) of each visit reminder of the case's plans."""
    return [tuple(r) for r in app.db.execute(
        "SELECT r.owner, r.target, r.status FROM reminders r JOIN visits v ON v.id = r.visit_id "
        "JOIN plans p ON p.id = v.plan_id WHERE p.case_code = ? ORDER BY r.due_at", [code]).fetchall()]


def notices_for(app, user):
    return [t for (t,) in app.db.execute("SELECT text FROM chat_notices WHERE user_id = ? ORDER BY id", [user])]


def engine(app, until):
    """Run the engine from the app's clock to ``until``: what it pushed, as (time, target, text)."""
    pusher = PushRecorder(app.clock, check_line=True)
    svc = ReminderService(app.db, {"line": pusher}, reminder_texts, clock=app.clock)
    try:
        run_engine(svc, app.clock, app.db, until)
    finally:
        svc.stop()
    assert pusher.errors == []
    return [(p.at.astimezone(TZ), p.target, p.text) for p in pusher.sent]


# -- 計画終了 -------------------------------------------------------------------------------------------
def test_closing_a_plan_with_its_reason_reads_it_back_and_ends_it(app):
    out = say(app, "計画終了 K-012 再入院")
    assert out.startswith("K-012 の退院後の訪問（残り4回）を終了します。よろしいですか？")
    assert "理由：再入院" in out and "「はい」" in out
    assert plan_row(app)[2] == "active"  # nothing changes before 「はい」
    out = say(app, "はい")
    assert "K-012 の訪問計画を終了しました（理由：再入院）" in out and "4回" in out
    assert plan_row(app)[2] == "closed"
    assert visit_states(app) == [("cancelled", "再入院")] * 4
    assert {s for _, _, s in reminders_of(app)} == {"cancelled"}
    assert "K-012" not in say(app, "予定")
    out = say(app, "予定 K-012")  # the plan ended, and when: not 「見つかりませんでした」
    assert out.startswith("K-012 の退院後の訪問は") and "終了しました（理由：再入院）" in out


def test_a_case_code_asked_the_ways_people_type_it_shows_its_visits(app):
    expected = say(app, "予定 K-012")
    assert "1週間後（予定）" in expected
    for text in ("K-012", "訪問 K-012", "k012の予定", "K-012 訪問予定", "計画 K-012", "Ｋ－０１２"):
        assert say(app, text) == expected, text
    assert say(app, "K-012の計画を終了").startswith("K-012 の訪問計画を終了する理由")  # still its own command
    assert say(app, "訪問 K-012 本人と面談した") != expected  # more than a code: not this command


def test_closing_without_a_reason_asks_for_one_with_buttons(app):
    replies = ask(app, "K-012の計画を終了")
    assert "理由を選んでください" in render(replies)
    assert buttons(replies) == [f"計画終了 K-012 {r}" for r in ("再入院", "転居", "支援終了", "その他")]
    assert plan_row(app)[2] == "active"
    out = say(app, "計画終了 K-012 転居", postback=True)  # the button
    assert "K-012 の退院後の訪問（残り4回）を終了します" in out and "理由：転居" in out
    say(app, "はい")
    assert visit_states(app) == [("cancelled", "転居")] * 4


def test_a_bare_close_offers_my_cases_and_a_reason_not_on_the_list_is_asked_again(app):
    replies = ask(app, "計画終了")
    assert buttons(replies) == ["計画終了 K-012"]
    replies = ask(app, "計画終了 K-012 なんとなく")
    assert "その理由は選べません" in render(replies) and len(buttons(replies)) == 4
    assert say(app, "はい") == messages.NOTHING_TO_CONFIRM
    assert plan_row(app)[2] == "active"
    assert "終了します" in say(app, "K-012 計画終了 引っ越しのため") and "理由：転居" in say(app, "計画終了 K-012 引越し")


def test_nothing_changes_on_no(app):
    say(app, "計画終了 K-012 支援終了")
    assert say(app, "いいえ") == messages.PLAN_UNCHANGED
    assert plan_row(app)[2] == "active" and {s for s, _ in visit_states(app)} == {"open"}
    assert {s for _, _, s in reminders_of(app)} == {"active"}
    assert say(app, "予定").count("K-012") == 4
    assert say(app, "はい") == messages.NOTHING_TO_CONFIRM  # the question is gone
    assert plan_row(app)[2] == "active"


def test_another_staff_member_cannot_close_or_hand_over_someone_elses_plan(app):
    assert say(app, "計画終了 K-012 再入院", user=TAMURA) == messages.plan_not_yours("K-012")
    assert say(app, "はい", user=TAMURA) == messages.NOTHING_TO_CONFIRM
    assert say(app, "引継ぎ K-012 田村", user=TAMURA) == messages.plan_not_yours("K-012")
    assert say(app, "計画終了", user=TAMURA) == messages.PLAN_NONE_TO_MANAGE
    assert plan_row(app)[1:] == (YAMADA, "active")


def test_the_area_supervisor_may_close_it_and_the_owner_is_told(app):
    out = say(app, "計画終了 K-012 転居", user=TAKAHASHI)
    assert "残り4回、担当 山田さん" in out
    assert "終了しました" in say(app, "はい", user=TAKAHASHI)
    assert plan_row(app)[2] == "closed"
    assert notices_for(app, YAMADA) == [messages.plan_closed_notice("K-012", "高橋", "転居")]


def test_closing_is_not_done_in_a_group(app):
    assert say(app, "計画終了 K-012 再入院", group=True) == messages.DIRECT_ONLY
    assert plan_row(app)[2] == "active"


def test_the_reminders_of_a_closed_plan_are_not_pushed(app):
    say(app, "退院 K-013 11/20")
    say(app, "はい")  # a second plan, left open: the engine does run and push
    say(app, "計画終了 K-012 再入院")
    say(app, "はい")
    pushed = engine(app, at(2026, 12, 4, 12, 0))  # the first two visits' days
    k013 = {w for w, _, text in pushed if "K-013" in text}  # its visit notices and the morning digests
    assert {at(2026, 11, 27, 8, 30), at(2026, 12, 4, 8, 30)} <= k013
    assert not any("K-012" in text for _, _, text in pushed)  # neither a notice nor a line in a digest


def test_the_console_shows_the_visits_of_an_ended_plan_as_ended(app):
    say(app, "計画終了 K-012 再入院")
    say(app, "はい")
    body = page(Console(app.db, app.clock).client(user=TAKAHASHI).get("/visits"))
    assert "計画終了：再入院" in body and "K-012" in body


# -- 引継ぎ -------------------------------------------------------------------------------------------
def test_handing_over_moves_owner_and_reminders_and_the_colleague_sees_it(app):
    out = say(app, "引継ぎ K-012 佐藤")
    assert out.startswith("K-012 の退院後の訪問（残り4回）を佐藤さんに引き継ぎます。よろしいですか？")
    assert plan_row(app)[1] == YAMADA and notices_for(app, SATO) == []  # nothing before 「はい」
    assert "佐藤さんに引き継ぎました" in say(app, "はい")
    assert plan_row(app)[1:] == (SATO, "active")
    assert reminders_of(app) == [(SATO, SATO, "active")] * 4  # a LINE push goes to 佐藤's user id
    mine = say(app, "予定", user=SATO)
    assert mine.count("K-012") == 4 and "11月27日(金) 08:30 K-012 退院後の訪問（1週間後）" in mine
    assert "1週間後（予定）" in say(app, "予定 K-012", user=SATO)
    assert "K-012" not in say(app, "予定")
    assert say(app, "予定 K-012") == messages.case_visits_none("K-012")
    # and the engine sends the visit (and the morning digest that lists it) to 佐藤, nothing to 山田
    pushed = engine(app, at(2026, 11, 27, 9, 0))
    assert {(w, target) for w, target, text in pushed if "K-012" in text} == {(at(2026, 11, 27, 8, 30), SATO)}
    assert [target for _, target, _ in pushed if target == YAMADA] == []


def test_the_colleague_is_sent_a_notice(app):
    say(app, "K-012を佐藤さんに引き継ぎ")
    say(app, "はい")
    assert notices_for(app, SATO) == ["K-012 の訪問計画を山田さんから引き継ぎました。訪問の予定は「予定 K-012」で見られます。"]
    pusher = PushRecorder(app.clock)
    assert NoticeSender(app.db, {"line": pusher}, clock=app.clock).send_due() == 1
    assert [(p.target, p.text) for p in pusher.sent] == [(SATO, notices_for(app, SATO)[0])]


def test_handing_over_without_a_name_offers_the_area_staff(app):
    replies = ask(app, "引継ぎ K-012")
    assert "誰に引き継ぎますか" in render(replies)
    assert sorted(buttons(replies)) == sorted(f"引継ぎ K-012 {n}" for n in ("佐藤", "田村", "高橋"))  # not 鈴木, not me
    out = say(app, "引継ぎ K-012 田村", postback=True)
    assert "田村さんに引き継ぎます" in out
    say(app, "はい")
    assert plan_row(app)[1] == TAMURA
    assert buttons(ask(app, "引継ぎ")) == []  # nothing left of mine: told so
    assert say(app, "引継ぎ") == messages.PLAN_NONE_TO_MANAGE


def test_an_ambiguous_name_gets_a_pick_list(app):
    set_display_name(app.db, "line", SATO, "佐藤 花子")
    add_user(app.db, "line", "Usato2", "staff", "千葉市", app.clock())
    set_display_name(app.db, "line", "Usato2", "佐藤 一郎")
    replies = ask(app, "引継ぎ K-012 佐藤さん")
    assert "複数" in render(replies)
    assert buttons(replies) == ["引継ぎ K-012 佐藤 花子", "引継ぎ K-012 佐藤 一郎"]
    assert say(app, "はい") == messages.NOTHING_TO_CONFIRM and plan_row(app)[1] == YAMADA
    assert "佐藤 一郎さんに引き継ぎます" in say(app, "引継ぎ K-012 佐藤 一郎", postback=True)
    say(app, "はい")
    assert plan_row(app)[1] == "Usato2"


def test_a_colleague_in_another_area_is_refused(app):
    replies = ask(app, "引継ぎ K-012 鈴木")
    out = render(replies)
    assert "鈴木さんは「船橋市」の登録なので、引き継げません" in out
    assert "引継ぎ K-012 鈴木" not in buttons(replies) and "引継ぎ K-012 佐藤" in buttons(replies)
    assert say(app, "はい") == messages.NOTHING_TO_CONFIRM
    assert plan_row(app)[1] == YAMADA and reminders_of(app) == [(YAMADA, YAMADA, "active")] * 4
    assert notices_for(app, SUZUKI) == []


def test_a_name_not_registered_and_the_owner_himself_are_told(app):
    assert "「中村」という人は同じ地域に登録されていません" in say(app, "引継ぎ K-012 中村")
    assert say(app, "引継ぎ K-012 山田") == messages.handover_already("K-012", "山田")


def test_the_supervisor_hands_over_and_both_are_told(app):
    assert "担当 山田さん" in say(app, "引継ぎ K-012 佐藤", user=TAKAHASHI)
    say(app, "はい", user=TAKAHASHI)
    assert plan_row(app)[1] == SATO
    assert notices_for(app, SATO) == [messages.handover_notice("K-012", "山田")]
    assert notices_for(app, YAMADA) == [messages.handover_notice_previous("K-012", "高橋", "佐藤")]


def test_on_slack_a_plan_announced_in_a_channel_stays_there(index, tmp_path):
    app = build_app(db=open_db(tmp_path / "s.db"), clock=Clock(at(2026, 11, 24, 9, 30)), index=index)
    for uid, name in (("UYAMADA01", "山田"), ("USATO0001", "佐藤")):
        add_user(app.db, "slack", uid, "staff", "千葉市", app.clock())
        set_display_name(app.db, "slack", uid, name)
    slack = dict(platform="slack", user="UYAMADA01")
    say(app, "退院 K-012 11/20", group=True, conversation="CTEAM0001", **slack)
    say(app, "はい", group=True, conversation="CTEAM0001", **slack)
    say(app, "退院 K-013 11/20", conversation="DYAMADA01", **slack)
    say(app, "はい", conversation="DYAMADA01", **slack)
    out = say(app, "引継ぎ K-012 佐藤", conversation="DYAMADA01", **slack)
    assert "チャンネルへのお知らせはそのチャンネルのまま" in out
    say(app, "はい", conversation="DYAMADA01", **slack)
    assert reminders_of(app, "K-012") == [("USATO0001", "CTEAM0001", "active")] * 4
    say(app, "引継ぎ K-013 佐藤", conversation="DYAMADA01", **slack)
    say(app, "はい", conversation="DYAMADA01", **slack)
    assert reminders_of(app, "K-013") == [("USATO0001", "USATO0001", "active")] * 4  # 山田's DM: now 佐藤's


def test_the_command_words_in_natural_order_and_questions_that_start_like_them(app):
    for q in ("引き継ぎのコツ", "計画終了後の支援"):  # questions for the case search, not these commands
        out = say(app, q)
        assert "よろしいですか" not in out and "訪問計画" not in out, q
    assert "佐藤さんに引き継ぎます" in say(app, "引き継ぎ K-012 を佐藤さんに")
    assert "佐藤さんに引き継ぎます" in say(app, "ｋ－０１２を佐藤さんに引き継ぎます")  # as typed on a phone
    assert "終了します" in say(app, "K-012の訪問計画を終了します 再入院")
    assert plan_row(app)[1:] == (YAMADA, "active")
