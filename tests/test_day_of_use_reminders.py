"""A day of use: what staff hit in reminders, events and visit plans (items 3, 4, 5, 6, 11
and 13), each as the conversation a user has, through the router, with the clock injected; where
delivery matters, the engine runs with the same clock (as in test_instants.py) and pushes through the
real LINE pusher to the LINE stand-in.

Unless a test says otherwise it is Tuesday 2026-11-24, 09:30 in Tokyo.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.people.access import add_user
from bot.adapters.terminal import render
from bot.chat import reminder_texts
from bot.app import build_app
from bot.chat.core import Incoming, Text
from storage.connections import open_db
from scheduler import store
from scheduler.service import ReminderService
from scheduler.timeparse import Recurrence
from scheduler.workdays import TZ, is_business_day

from .conftest import Clock
from .fakes import PushRecorder
from .test_instants import run_engine

STAFF, OTHER, THIRD, GROUP = "Ustaff", "Uother", "Uthird", "Cgroup"


def at(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture
def app(index, tmp_path):
    """On a file (the engine opens its own connections to it), three registered members."""
    a = build_app(db=open_db(tmp_path / "n.db"), clock=Clock(at(2026, 11, 24, 9, 30)), index=index)
    for u in (STAFF, OTHER, THIRD):
        add_user(a.db, "line", u, "staff", "千葉市", a.clock())
    return a


def ask(app, text, user=STAFF, group=False, postback=False):
    """The replies to one message (in the group when ``group``), as objects."""
    conv = GROUP if group else user
    msg = Incoming("line", user, conv, "" if postback else text, not group, postback=text if postback else None)
    return app.handle(msg)


def say(app, text, user=STAFF, group=False, postback=False):
    return render(ask(app, text, user, group, postback))


def buttons(replies) -> list[str]:
    """What each button of the replies sends (the words a user could type)."""
    return [c.text for r in replies if isinstance(r, Text) for c in r.choices]


def engine(app, until):
    """Run the engine from the app's clock to ``until``; what it pushed, as (clock time, text)."""
    clock = app.clock
    pusher = PushRecorder(clock, check_line=True)  # what LINE would refuse is still caught
    svc = ReminderService(app.db, {"line": pusher}, reminder_texts, clock=clock)
    try:
        run_engine(svc, clock, app.db, until)
    finally:
        svc.stop()
    assert pusher.errors == []
    return [(p.at.astimezone(TZ), p.text) for p in pusher.sent]


# -- item 3: 変更 of a repeating reminder changes its rule ---------------------------------------------
def test_changing_a_weekly_reminder_changes_its_rule(app):
    say(app, "リマインド 毎週月曜9時 週報")
    assert "登録しました" in say(app, "はい")
    [r] = store.active(app.db)
    out = say(app, f"変更 {r.id} 毎週金曜16時")
    assert "毎週金曜 16:00" in out and "よろしいですか" in out
    out = say(app, "はい")
    assert "毎週金曜 16:00 に変更しました" in out and "延期" not in out
    listed = say(app, "予定")
    assert f"{r.id}) 毎週金曜 16:00 週報" in listed and "毎週月曜" not in listed
    changed = store.get(app.db, r.id)
    assert changed.recurrence == Recurrence("weekly", 16, 0, weekday=4) and changed.due_at == at(2026, 11, 27, 16)
    # and the engine follows the new rule: sent on Friday 16:00, then next Friday
    app.clock.now = at(2026, 11, 27, 15, 0)
    sent = engine(app, at(2026, 11, 27, 17, 0))
    assert [w for w, _ in sent] == [at(2026, 11, 27, 16, 0)]
    assert store.get(app.db, r.id).due_at == at(2026, 12, 4, 16, 0)


def test_changing_a_one_off_reminder_says_changed(app):
    say(app, "リマインド 明日14時 書類")
    say(app, "はい")
    [r] = store.active(app.db)
    assert "11月26日(木) 10:00" in say(app, f"変更 {r.id} 明後日10時")
    out = say(app, "はい")
    assert "変更しました" in out and "延期" not in out
    assert store.get(app.db, r.id).due_at == at(2026, 11, 26, 10)


def test_a_one_off_time_for_a_weekly_reminder_moves_its_next_time_and_says_so(app):
    say(app, "リマインド 毎週金曜16時 週報")
    say(app, "はい")
    [r] = store.active(app.db)
    assert "次回" in say(app, f"変更 {r.id} 明日10時") and "毎週金曜 16:00 のまま" in say(app, "はい")
    kept = store.get(app.db, r.id)
    assert kept.due_at == at(2026, 11, 25, 10) and kept.recurrence == Recurrence("weekly", 16, 0, weekday=4)


# -- item 4: an event is one entry, and 取消 ends it with all its notices ------------------------------
def test_an_event_is_one_entry_at_its_own_time_and_cancelled_with_its_number(app):
    say(app, "イベント 12/5 14時 ピア交流会", group=True)
    say(app, "はい", group=True)
    [eid] = [e for (e,) in app.db.execute("SELECT id FROM events").fetchall()]
    listed = say(app, "予定")
    assert f"E{eid}) 12月5日(土) 14:00 ピア交流会" in listed
    assert listed.count("ピア交流会") == 1 and "17:00" not in listed and "13:00" not in listed
    assert "取り消しました" in say(app, f"取消 E{eid}")
    assert [r for r in store.active(app.db) if r.event_id == eid] == []
    assert app.db.execute("SELECT status FROM events").fetchone()[0] == "cancelled"
    assert "ピア交流会" not in say(app, "予定")


def test_cancelling_from_a_notice_ends_the_event_and_the_digest_forgets_it(app):
    say(app, "イベント 11/27 14時 ピア交流会", group=True)
    say(app, "はい", group=True)
    say(app, "退院 K-012 11/20")  # something for the Friday digest to say, so that it is sent
    say(app, "はい")
    app.clock.now = at(2026, 11, 26, 16, 0)
    first = engine(app, at(2026, 11, 26, 17, 0))
    assert [(w, "ピア交流会" in t) for w, t in first] == [(at(2026, 11, 26, 17, 0), True)]
    out = say(app, "取消", group=True)  # typed after the notice: the one last sent here
    assert "取り消しました" in out and "ピア交流会" in out
    later = engine(app, at(2026, 11, 27, 15, 0))
    assert any("K-012" in t for _, t in later)  # the digest came (and the visit)
    assert not any("ピア交流会" in t for _, t in later)  # but neither the 13:00 notice nor the event in it


# -- item 5: a time in the night is asked about; a notice never comes after its event ---------------
def test_a_time_in_the_night_is_read_back_with_a_question(app):
    replies = ask(app, "リマインド 明日3時 訪問")
    out = render(replies)
    assert "11月25日(水) 3:00" in out and "午前3時でよいですか" in out and "15時なら" in out
    assert buttons(replies) == ["はい", "15時にする", "いいえ"]
    assert store.active(app.db) == []
    out = say(app, "15時にする")  # the button's words, typed
    assert "11月25日(水) 15:00" in out and "午前3時" not in out
    say(app, "はい")
    assert [r.due_at for r in store.active(app.db)] == [at(2026, 11, 25, 15, 0)]


def test_a_night_time_the_user_means_is_kept(app):
    assert "夜11時（23時）でよいですか" in say(app, "リマインド 明日23時 夜勤の引き継ぎ")
    assert "登録しました" in say(app, "はい")
    assert [r.due_at for r in store.active(app.db)] == [at(2026, 11, 25, 23, 0)]


def test_an_event_notice_is_never_pushed_after_the_event_starts(app):
    out = say(app, "イベント 11/26 6:38 早朝の清掃活動")
    assert "11月25日(水) 17:00" in out and "夜間" in out and "11月26日(木) 08:00" not in out
    say(app, "はい")
    app.clock.now = at(2026, 11, 25, 16, 0)
    sent = engine(app, at(2026, 11, 26, 12, 0))
    assert [w for w, t in sent if "清掃" in t] == [at(2026, 11, 25, 17, 0)]


def test_the_engine_drops_a_held_notice_that_would_come_after_the_start(app):
    """A notice row that quiet hours would hold until 8:00 (as older versions stored one) is not
    sent for an event that began at 6:38: it is marked missed."""
    starts = at(2026, 11, 26, 6, 38)
    eid, _ = store.add_event(app.db, platform="line", owner=STAFF, target=STAFF, is_group=False, title="清掃",
                             starts=starts, now=at(2026, 11, 26, 6, 0))  # (no notice of its own: both are past)
    rid = store.add_reminder(app.db, kind="event", platform="line", owner=STAFF, target=STAFF, is_group=False,
                             title="清掃", due=at(2026, 11, 26, 5, 38), recurrence=None, asked=False,
                             now=app.clock(), event_id=eid)
    app.clock.now = at(2026, 11, 26, 5, 0)
    sent = engine(app, at(2026, 11, 26, 10, 0))
    assert not any("イベントのお知らせ" in t for _, t in sent)
    assert any("届けられなかったリマインド" in t and "清掃" in t for _, t in sent)  # said so in the digest
    assert store.get(app.db, rid).status != "active"


# -- item 6: visit plans on the calendar --------------------------------------------------------------
def test_a_visit_due_on_a_holiday_moves_to_a_business_day_and_says_so(app):
    out = say(app, "退院 K-012 12/1")
    assert "1か月後：1月4日(月)（1月1日(金)は元日のため移動）" in out
    say(app, "はい")
    dues = [date.fromisoformat(d) for (d,) in app.db.execute("SELECT due FROM visits ORDER BY seq").fetchall()]
    assert dues == [date(2026, 12, 8), date(2026, 12, 15), date(2027, 1, 4), date(2027, 3, 1)]
    out = say(app, "退院 K-014 11/14")  # 1週間後 is Saturday 11/21: Friday, inside the window
    assert "1週間後：11月20日(金)（11月21日(土)は土曜のため移動）" in out
    assert "3か月後：2月15日(月)（2月14日(日)は日曜のため移動）" in out
    say(app, "はい")
    for (d, ws, we) in app.db.execute("SELECT due, window_start, window_end FROM visits").fetchall():
        assert is_business_day(date.fromisoformat(d)) and ws <= d <= we
    assert all(is_business_day(r.due_at.astimezone(TZ).date()) for r in store.active(app.db))


def test_a_plan_registered_after_its_first_visit_still_reminds_it(app):
    out = say(app, "退院 K-015 11/13")  # 1週間後 11/20 (Fri), window to 11/27
    assert "予定日は過ぎましたが期間内です。11月25日(水) 08:30 にお知らせ" in out
    out = say(app, "はい")
    assert "1週間後（11月25日(水) 08:30）" in out and "各訪問日の朝にお知らせします" not in out
    sent = engine(app, at(2026, 11, 25, 9, 0))
    visit = [t for w, t in sent if w == at(2026, 11, 25, 8, 30) and "訪問予定日" in t]
    digest = [t for w, t in sent if "おはようございます" in t]
    assert visit and "K-015" in visit[0]
    assert digest and "K-015（1週間後、期間は11月27日(金)まで）" in digest[0] and "期限を過ぎた" not in digest[0]


def test_the_confirmation_names_the_visits_it_will_not_remind(app):
    out = say(app, "退院 K-016 11/5")  # 1週間後 11/12: its window closed on 11/19
    assert "1週間後：11月12日(木)" in out and "期間を過ぎています。お知らせしません" in out
    out = say(app, "はい")
    assert "期間を過ぎた訪問（お知らせしません）：1週間後" in out
    assert "お知らせする訪問：2週間後（11月25日(水) 08:30）" in out and "各訪問日の朝" not in out


# -- item 11: time words, and a plan without its date --------------------------------------------------
@pytest.mark.parametrize("text,said", [
    ("リマインド 明日夕方 家族へ電話", "11月25日(水) 17:00"),
    ("リマインド 明日の朝 服薬確認", "11月25日(水) 9:00"),
    ("リマインド 明日朝イチで 書類提出", "11月25日(水) 9:00"),
    ("リマインド 明日の午後 ケース会議", "11月25日(水) 13:00"),
    ("リマインド 明日10じ ケース会議", "11月25日(水) 10:00"),
    ("リマインド 明日2pm ケース会議", "11月25日(水) 14:00"),
    ("リマインド 月末 10時 請求書", "11月30日(月) 10:00"),
    ("リマインド 毎月月末 10時 請求書", "毎月月末 10:00（初回 11月30日(月) 10:00）"),
    ("リマインド 隔週火曜10時 ケース会議", "隔週火曜 10:00（初回 11月24日(火) 10:00）"),
])
def test_time_words_are_read_back_for_confirmation(app, text, said):
    out = say(app, text)
    assert said in out and "よろしいですか" in out
    assert store.active(app.db) == []


def test_biweekly_is_stored_and_fired_every_two_weeks(app):
    say(app, "リマインド 隔週火曜10時 ケース会議")
    say(app, "はい")
    [r] = store.active(app.db)
    assert r.recurrence.kind == "biweekly" and r.recurrence.describe() == "隔週火曜 10:00"
    fired = []
    for day in (date(2026, 11, 24), date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 15), date(2026, 12, 22)):
        app.clock.now = datetime.combine(day, datetime.min.time(), tzinfo=TZ).replace(hour=9, minute=59)
        fired += [w for w, t in engine(app, app.clock.now + timedelta(minutes=2)) if "ケース会議" in t]
    assert fired == [at(2026, 11, 24, 10), at(2026, 12, 8, 10), at(2026, 12, 22, 10)]


def test_a_plan_without_its_date_asks_for_the_date(app):
    replies = ask(app, "退院 K-012")
    out = render(replies)
    assert "退院日はいつですか" in out and "例：「退院 K-012 12/1」" in out and "ケースコードが読み取れません" not in out
    assert buttons(replies) == ["退院 K-012 今日", "退院 K-012 昨日"]
    assert "基準日 11月23日(月)" in say(app, "退院 K-012 昨日", postback=True)


# -- item 13: the event announcement carries the answers; 参加 puts it in 予定 -------------------------
def test_the_event_announcement_carries_rsvp_and_participants_see_it(app):
    say(app, "イベント 12/5 14時 ピア交流会", group=True)
    replies = ask(app, "はい", group=True)
    [eid] = [e for (e,) in app.db.execute("SELECT id FROM events").fetchall()]
    assert "ピア交流会" in render(replies) and "12月5日(土) 14:00" in render(replies)
    assert buttons(replies) == [f"参加 #E{eid}", f"不参加 #E{eid}"]
    assert "参加と記録しました" in say(app, f"参加 #E{eid}", user=OTHER, group=True, postback=True)
    say(app, f"不参加 #E{eid}", user=THIRD, group=True, postback=True)
    assert f"E{eid}) 12月5日(土) 14:00 ピア交流会" in say(app, "予定", user=OTHER)
    assert "ピア交流会" not in say(app, "予定", user=THIRD)
    assert "参加 1・不参加 1" in say(app, "予定")  # the one who set it up sees the answers
    assert "登録した人だけ" in say(app, f"取消 E{eid}", user=OTHER)  # a participant cannot end it
    assert store.event(app.db, eid) is not None
