"""Reminders, events and visit plans: the chat, the buttons, the engine with real APScheduler jobs,
a restart across a due time, the digest's business days, and delivery to the LINE and Slack stand-ins."""
from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from datetime import date, datetime, timedelta

import pytest

from bot import messages
from bot.chat import reminder_texts
from bot.people.access import add_user
from bot.adapters.terminal import incoming, render
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import open_db
from scheduler import store
from scheduler.service import ReminderService
from scheduler.workdays import TZ

from . import waiting
from .conftest import Clock, RunningClock
from .fakes import LineStandIn, PushRecorder, SlackStandIn

JST = TZ


def at(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=JST)


def say(app, text, platform="terminal", user="terminal", direct=True, conv=None):
    msg = incoming(text) if platform == "terminal" else Incoming(platform, user, conv or user, text, direct)
    return render(app.handle(msg))


@pytest.fixture
def japp(index):
    """An app at Tuesday 2026-11-24 09:30 in Tokyo."""
    return build_app(db=open_db(":memory:"), clock=Clock(at(2026, 11, 24, 9, 30)), index=index)


# -- the chat -----------------------------------------------------------------------------------
def test_reminder_is_read_back_with_weekday_confirmed_and_listed(japp):
    out = say(japp, "リマインド 明日14時 ピアサポーター交流会の準備")
    assert "11月25日(水) 14:00" in out and "ピアサポーター交流会の準備" in out and "よろしいですか" in out
    assert store.active(japp.db) == []  # nothing stored before 「はい」
    out = say(japp, "はい")
    assert "登録しました" in out
    [r] = store.active(japp.db)
    assert r.due_at == at(2026, 11, 25, 14, 0) and r.title == "ピアサポーター交流会の準備"
    assert f"{r.id}) 11月25日(水) 14:00 ピアサポーター交流会の準備" in say(japp, "予定")


def test_plain_words_reminder(japp):
    out = say(japp, "明日14時にピア交流会の準備をリマインドして")
    assert "11月25日(水) 14:00" in out and "「ピア交流会の準備」" in out


def test_no_cancels_and_stores_nothing(japp):
    say(japp, "リマインド 明日14時 準備")
    assert "やめました" in say(japp, "いいえ")
    assert store.active(japp.db) == []


@pytest.mark.parametrize("text", ["リマインド そのうち 準備", "リマインド 来週のどこか 準備", "リマインド 13月5日 10時 準備",
                                  "リマインド 25時 準備", "リマインド 2月30日 10時 準備", "リマインド 午後15時 準備",
                                  "リマインド 昨日10時 準備"])
def test_times_that_must_not_be_guessed_are_refused_with_an_example(japp, text):
    out = say(japp, text)
    assert "例" in out and "よろしいですか" not in out
    assert japp.dialogs.get("terminal", "terminal", japp.clock()) is None


def test_recurring_reminder(japp):
    out = say(japp, "リマインド 毎週金曜16時 週報")
    assert "毎週金曜 16:00" in out
    say(japp, "はい")
    [r] = store.active(japp.db)
    assert r.recurrence.kind == "weekly" and r.due_at == at(2026, 11, 27, 16, 0)


def test_event_registers_the_day_before_and_one_hour_before(japp):
    out = say(japp, "イベント 12/5 14時 ピアサポーター交流会")
    assert "12月5日(土) 14:00" in out and "12月4日(金) 17:00" in out and "12月5日(土) 13:00" in out
    say(japp, "はい")
    assert sorted(r.due_at for r in store.active(japp.db)) == [at(2026, 12, 4, 17), at(2026, 12, 5, 13)]


def test_visit_plan_from_a_case_code(japp):
    out = say(japp, "退院 K-012 12/1")
    assert "K-012" in out and "12月8日(火)" in out and "3か月後" in out
    say(japp, "はい")
    visits = japp.db.execute("SELECT label, due, window_start, window_end FROM visits ORDER BY seq").fetchall()
    assert visits[0] == ("1週間後", "2026-12-08", "2026-12-06", "2026-12-15")
    assert [v[1] for v in visits] == ["2026-12-08", "2026-12-15", "2027-01-04", "2027-03-01"]  # 1/1: 元日
    assert min(r.due_at for r in store.active(japp.db)) == at(2026, 12, 8, 8, 30)  # the morning of the due day


def test_visit_plan_refuses_a_name(japp):
    assert "ケースコード" in say(japp, "退院 田中さん 12/1")
    assert japp.db.execute("SELECT COUNT(*) FROM plans").fetchone()[0] == 0


def _sent(app, r):
    """As if the engine had delivered ``r`` (so that typed 「完了」 finds it)."""
    app.db.execute("INSERT INTO deliveries (key, reminder_id, platform, target, status, created_at, sent_at) "
                   "VALUES (?, ?, ?, ?, 'sent', ?, ?)", [f"t:{r.id}", r.id, r.platform, r.target,
                                                         store.utc(app.clock()), store.utc(app.clock())])


def test_buttons_and_their_typed_words_change_the_state(japp):
    say(japp, "退院 K-012 11/20")
    say(japp, "はい")
    rs = store.active(japp.db)
    first = rs[0]
    _sent(japp, first)
    assert "完了" in say(japp, "完了")  # typed, no number: the reminder last sent to me
    assert japp.db.execute("SELECT status FROM visits WHERE id = ?", [first.visit_id]).fetchone()[0] == "done"
    second = rs[1]
    assert "会えなかった" in say(japp, f"会えなかった #{second.id} 不在")
    assert japp.db.execute("SELECT status, reason FROM visits WHERE id = ?", [second.visit_id]).fetchone() == ("unmet", "不在")
    third = rs[2]
    say(japp, f"延期 明日 #{third.id}")  # a visit still ahead moves a day later, never to a day before it
    assert store.get(japp.db, third.id).due_at.astimezone(JST).date() == third.due_at.astimezone(JST).date() + timedelta(days=1)
    say(japp, f"スヌーズ #{third.id}")
    assert store.get(japp.db, third.id).due_at == japp.clock() + timedelta(minutes=30)
    say(japp, f"あとで記録 #{third.id}")
    actions = [a for (a,) in japp.db.execute("SELECT action FROM reminder_actions ORDER BY id").fetchall()]
    assert actions == ["done", "unmet", "postpone", "snooze", "later"]


def test_cancel_and_change_by_number(japp):
    say(japp, "リマインド 明日14時 A")
    say(japp, "はい")
    [r] = store.active(japp.db)
    out = say(japp, f"変更 {r.id} 明後日10時")
    assert "11月26日(木) 10:00" in out
    say(japp, "はい")
    assert store.get(japp.db, r.id).due_at == at(2026, 11, 26, 10)
    assert "取り消しました" in say(japp, f"取消 {r.id}")
    assert store.active(japp.db) == []


def test_a_cancel_is_undone_with_one_tap_at_its_own_time(japp):
    say(japp, "リマインド 明日14時 A")
    say(japp, "はい")
    [r] = store.active(japp.db)
    out = say(japp, f"取消 {r.id}")
    assert out == f"「A」を取り消しました。\n→ 「元に戻す #{r.id}」"
    assert say(japp, f"元に戻す #{r.id}") == "「A」を元に戻しました（11月25日(水) 14:00）。"
    assert [x.id for x in store.active(japp.db)] == [r.id] and store.get(japp.db, r.id).due_at == at(2026, 11, 25, 14)
    assert say(japp, f"元に戻す #{r.id}") == messages.UNDO_NOTHING  # active: nothing to undo
    say(japp, f"取消 {r.id}")
    assert "元に戻しました" in say(japp, "元に戻す")  # without a number: the last one I cancelled


def test_a_cancelled_reminder_whose_time_passed_is_not_brought_back_to_fire_late(japp):
    say(japp, "リマインド 今日15時 A")
    say(japp, "はい")
    say(japp, "リマインド 毎週水曜10時 B")
    say(japp, "はい")
    a, b = sorted(store.active(japp.db), key=lambda x: x.title)
    say(japp, f"取消 {a.id}")
    say(japp, f"取消 {b.id}")
    japp.clock.now = at(2026, 11, 25, 16, 0)  # both times have passed
    assert say(japp, f"元に戻す #{a.id}") == messages.undo_past("A", "11月24日(火) 15:00")
    assert store.get(japp.db, a.id).status == "cancelled"
    assert "元に戻しました（毎週水曜 10:00）" in say(japp, f"元に戻す #{b.id}")
    assert store.get(japp.db, b.id).due_at == at(2026, 12, 2, 10)  # its next time from now, not the one passed


def test_someone_elses_cancelled_reminder_cannot_be_restored(japp):
    add_user(japp.db, "line", "Ua", "staff", "千葉市", japp.clock())
    add_user(japp.db, "line", "Ub", "staff", "千葉市", japp.clock())
    say(japp, "リマインド 明日14時 A", "line", "Ua")
    say(japp, "はい", "line", "Ua")
    [r] = store.active(japp.db)
    say(japp, f"取消 {r.id}", "line", "Ua")
    assert say(japp, f"元に戻す #{r.id}", "line", "Ub") == messages.UNDO_NOTHING
    assert store.get(japp.db, r.id).status == "cancelled"


def test_rsvp_counts_for_the_coordinator(japp):
    add_user(japp.db, "line", "Ucoord", "staff", "千葉市", japp.clock())
    add_user(japp.db, "line", "Ua", "staff", "千葉市", japp.clock())
    say(japp, "イベント 12/5 14時 交流会", "line", "Ucoord", direct=False, conv="Cgroup")
    say(japp, "はい", "line", "Ucoord", direct=False, conv="Cgroup")
    eid = japp.db.execute("SELECT id FROM events").fetchone()[0]
    assert "参加 1人" in say(japp, f"参加 #E{eid}", "line", "Ua", direct=False, conv="Cgroup")
    assert "不参加 1人" in say(japp, f"不参加 #E{eid}", "line", "Ucoord", direct=False, conv="Cgroup")
    assert "参加 1・不参加 1" in say(japp, "予定", "line", "Ucoord")


def test_supervisor_sees_the_plans_of_the_area(japp):
    add_user(japp.db, "line", "Ustaff", "staff", "千葉市", japp.clock())
    add_user(japp.db, "line", "Usv", "supervisor", "千葉市", japp.clock())
    say(japp, "退院 K-077 11/20", "line", "Ustaff")
    say(japp, "はい", "line", "Ustaff")
    assert "K-077" in say(japp, "予定 全体", "line", "Usv")
    assert "スーパーバイザー" in say(japp, "予定 全体", "line", "Ustaff")


# -- the engine ---------------------------------------------------------------------------------
TUESDAY = at(2026, 11, 24, 9, 30)  # a business-day morning: no quiet hours, no holiday


def wait_until(cond, timeout=10.0):
    """Real seconds pass here (APScheduler fires for real); the engine's clock decides the rest.
    True once ``cond()`` holds; raises (naming it) after ``timeout``."""
    return waiting.wait_until(cond, timeout)


def wait_for_no_overdue_firing(svc) -> bool:
    """Until no firing job is overdue: each instant a reminder falls due has a ``due:`` job,
    removed once it has run (one planned for later, such as a retry a minute on, is not counted).
    With what was due recorded as done, and ``svc.stop()`` waiting for any firing under way, what
    a test then finds sent will not be followed by more."""
    def overdue() -> list[str]:
        now = datetime.now(TZ)
        return [f"{j.id} at {j.next_run_time}" for j in svc.sched.get_jobs()
                if j.id.startswith("due:") and j.next_run_time is not None and j.next_run_time <= now]

    return waiting.wait_until(lambda: not overdue(), 10, seen=overdue)


def test_a_due_reminder_is_sent_on_time_once(tmp_path):
    clock = RunningClock(TUESDAY)
    db = open_db(tmp_path / "n.db")
    rid = store.add_reminder(db, kind="reminder", platform="line", owner="U1", target="U1", is_group=False,
                             title="準備", due=clock() + timedelta(seconds=1), recurrence=None, asked=True,
                             now=clock())
    pusher = PushRecorder()
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=clock)
    try:
        assert svc.start()
        assert wait_until(lambda: store.get(db, rid).status == "done")  # sent, and recorded as sent
        assert wait_for_no_overdue_firing(svc)
    finally:
        svc.stop()
    assert len(pusher.sent) == 1 and "準備" in pusher.sent[0][1] and "遅延" not in pusher.sent[0][1]
    assert store.get(db, rid).status == "done"
    assert db.execute("SELECT status FROM deliveries").fetchall() == [("sent",)]


@pytest.mark.parametrize("start", [at(2020, 3, 3, 10, 0), at(2031, 3, 3, 10, 0)])
def test_a_job_waits_for_the_engine_clock_not_the_wall_clock(tmp_path, start):
    """With the engine's clock years behind or ahead of the wall clock, a reminder 4 s ahead on it
    goes when that clock reaches it: not at once (as a past wall-clock instant would) and not
    years later (as a future one would).  The engine may look 1 s ahead (wake-up jitter)."""
    clock = RunningClock(start)
    db = open_db(tmp_path / "n.db")
    due = clock() + timedelta(seconds=4)
    store.add_reminder(db, kind="reminder", platform="line", owner="U1", target="U1", is_group=False,
                       title="準備", due=due, recurrence=None, asked=True, now=clock())
    pusher = PushRecorder(clock)
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=clock)
    try:
        assert svc.start()
        assert wait_until(lambda: pusher.sent, timeout=15)
    finally:
        svc.stop()
    assert len(pusher.sent) == 1 and pusher.sent[0].at >= due - timedelta(seconds=1)


def test_restart_across_the_due_time_loses_none_and_doubles_none(tmp_path):
    clock = RunningClock(TUESDAY)
    path = tmp_path / "n.db"
    db = open_db(path)
    soon = store.add_reminder(db, kind="reminder", platform="line", owner="U1", target="U1", is_group=False,
                              title="間もなく", due=clock() + timedelta(seconds=1), recurrence=None, asked=True,
                              now=clock())
    late = store.add_reminder(db, kind="reminder", platform="line", owner="U1", target="U1", is_group=False,
                              title="5分前のはず", due=clock() - timedelta(minutes=5), recurrence=None, asked=True,
                              now=clock())
    stale = store.add_reminder(db, kind="reminder", platform="line", owner="U1", target="U1", is_group=False,
                               title="13時間前のはず", due=clock() - timedelta(hours=13), recurrence=None,
                               asked=True, now=clock())
    pusher = PushRecorder()
    first = ReminderService(path, {"line": pusher}, reminder_texts, clock=clock)
    first.stop()  # Nimo is down across the due time
    time.sleep(1.5)
    second = ReminderService(path, {"line": pusher}, reminder_texts, clock=clock)
    try:
        assert second.start()
        assert wait_until(lambda: len(pusher.sent) >= 2)
    finally:
        second.stop()
    third = ReminderService(path, {"line": pusher}, reminder_texts, clock=clock)  # and once more: nothing again
    try:
        assert third.start()
        assert third.fire_due() == 0  # nothing is due for it: what was due went, or was missed
        assert wait_for_no_overdue_firing(third)  # nor did its start wake anything
    finally:
        third.stop()
    texts = [p.text for p in pusher.sent]
    assert len(texts) == 2
    assert any("間もなく" in t for t in texts) and any("【遅延】" in t and "5分前" in t for t in texts)
    assert store.get(db, stale).status == "missed" and store.get(db, soon).status == "done"
    assert store.get(db, late).status == "done"


def test_quiet_hours_hold_an_automatic_notice_until_morning(tmp_path):
    db = open_db(tmp_path / "n.db")
    night = at(2026, 11, 24, 21, 0)
    rid = store.add_reminder(db, kind="event", platform="line", owner="U1", target="U1", is_group=False, title="会",
                             due=night, recurrence=None, asked=False, now=night - timedelta(hours=1))
    pusher = PushRecorder()
    clock = Clock(night)
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=clock)
    try:
        assert svc.fire(rid) == 0
        assert pusher.sent == [] and store.get(db, rid).due_at == at(2026, 11, 25, 8, 0)
        clock.now = at(2026, 11, 25, 8, 0)  # the morning: it goes
        assert svc.fire_due() == 1
    finally:
        svc.stop()
    assert len(pusher.sent) == 1 and "会" in pusher.sent[0][1] and "遅延" not in pusher.sent[0][1]


@pytest.mark.parametrize("db", [lambda: sqlite3.connect(":memory:"), lambda: ":memory:"])
def test_a_private_in_memory_database_is_refused_with_a_clear_error(db):
    """A plain in-memory connection (or the bare name, which names no database in particular) has
    nothing the engine's threads could open again; one made by open_db(":memory:") has
    (tests/test_connections.py)."""
    with pytest.raises(ValueError, match="private in-memory database"):
        ReminderService(db(), {}, reminder_texts, clock=Clock(TUESDAY))


def test_the_engine_keeps_its_own_connection_per_thread(tmp_path):
    """Whatever it is given, the engine's threads never share a connection with each other or the caller."""
    db = open_db(tmp_path / "n.db")
    svc = ReminderService(db, {}, reminder_texts, clock=Clock(TUESDAY))
    conns = []
    threads = [threading.Thread(target=lambda: conns.append(svc.db.conn)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conns.append(svc.db.conn)
    try:
        assert len({id(c) for c in conns}) == 4 and db.conn not in conns
    finally:
        svc.stop()


def _due_now(db, clock, title="準備", n=1):
    return [store.add_reminder(db, kind="reminder", platform="line", owner=f"U{i}", target=f"U{i}", is_group=False,
                               title=f"{title} {i}", due=clock(), recurrence=None, asked=True,
                               now=clock() - timedelta(hours=1)) for i in range(n)]


def test_a_burst_handed_one_shared_connection_loses_none_and_doubles_none(tmp_path):
    """300 reminders due at one instant, pushed from 20 threads, the engine given the caller's
    single connection: the engine works on its own connections, so none is lost or sent twice."""
    clock = Clock(TUESDAY)
    db = open_db(tmp_path / "n.db")
    rids = _due_now(db, clock, n=300)
    pusher = PushRecorder()
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=clock)
    try:
        assert svc.fire_due() == 300
        assert svc.fire_due() == 0  # nothing twice
    finally:
        svc.stop()
    assert sorted(p.target for p in pusher.sent) == sorted(f"U{i}" for i in range(300))
    assert {store.get(db, r).status for r in rids} == {"done"}
    assert db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall() == [("sent", 300)]


def test_a_failed_push_is_tried_again_after_a_minute_and_sent_once(tmp_path):
    clock = Clock(TUESDAY)
    db = open_db(tmp_path / "n.db")
    [rid] = _due_now(db, clock)
    pusher = PushRecorder(failures=1)
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=clock)
    try:
        assert svc.fire_due() == 0
        assert store.get(db, rid).status == "active"
        clock.now = TUESDAY + timedelta(seconds=30)
        assert svc.fire_due() == 0 and pusher.sent == []  # not before the minute is up
        clock.now = TUESDAY + timedelta(minutes=1, seconds=1)
        assert svc.fire_due() == 1
        assert svc.fire_due() == 0
    finally:
        svc.stop()
    assert len(pusher.sent) == 1 and store.get(db, rid).status == "done"


def test_a_delivery_claimed_elsewhere_is_left_alone_until_its_claim_is_stale(tmp_path):
    """Another process is sending it (a fresh claim): not sent, not marked done. A claim left by
    a process that died mid-send is taken over after two minutes."""
    clock = Clock(TUESDAY)
    db = open_db(tmp_path / "n.db")
    [rid] = _due_now(db, clock)
    key = f"reminder:{rid}:{store.utc(TUESDAY)}"
    db.execute("INSERT INTO deliveries (key, reminder_id, platform, target, status, created_at) "
               "VALUES (?, ?, 'line', 'U0', 'claimed', ?)", [key, rid, store.utc(TUESDAY)])
    pusher = PushRecorder()
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=clock)
    try:
        clock.now = TUESDAY + timedelta(minutes=1)
        assert svc.fire_due() == 0 and store.get(db, rid).status == "active"
        clock.now = TUESDAY + timedelta(minutes=2, seconds=1)
        assert svc.fire_due() == 1
    finally:
        svc.stop()
    assert len(pusher.sent) == 1 and "【遅延】" in pusher.sent[0][1] and store.get(db, rid).status == "done"


def test_a_delivery_sent_before_a_crash_is_not_sent_again(tmp_path):
    """Sent, but the process died before marking the reminder done: the next round only moves it on."""
    clock = Clock(TUESDAY)
    db = open_db(tmp_path / "n.db")
    [rid] = _due_now(db, clock)
    db.execute("INSERT INTO deliveries (key, reminder_id, platform, target, status, created_at, sent_at) "
               "VALUES (?, ?, 'line', 'U0', 'sent', ?, ?)",
               [f"reminder:{rid}:{store.utc(TUESDAY)}", rid, store.utc(TUESDAY), store.utc(TUESDAY)])
    pusher = PushRecorder()
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=clock)
    try:
        assert svc.fire_due() == 0
    finally:
        svc.stop()
    assert pusher.sent == [] and store.get(db, rid).status == "done"


def test_a_second_scheduler_waits_for_the_lease(tmp_path):
    path = tmp_path / "n.db"
    open_db(path)
    clock = RunningClock(TUESDAY)
    a = ReminderService(path, {}, reminder_texts, clock=clock)
    b = ReminderService(path, {}, reminder_texts, clock=clock)
    try:
        assert a.start()
        assert not b.start()
    finally:
        a.stop()
        b.stop()


@pytest.mark.parametrize("day, sent", [(date(2026, 11, 23), False), (date(2027, 1, 1), False),
                                       (date(2026, 11, 28), False), (date(2026, 11, 24), True)])
def test_digest_on_business_days_only(tmp_path, day, sent):
    db = open_db(tmp_path / "n.db")
    now = datetime.combine(day, datetime.min.time(), tzinfo=JST).replace(hour=8, minute=35)
    add_user(db, "line", "U1", "staff", "千葉市", now)
    store.add_plan(db, platform="line", owner="U1", target="U1", area="千葉市", case_code="K-001", plan_key="discharge",
                   anchor=day - timedelta(days=7), digest_time=store.digest_time(db, "line", "U1"),
                   now=now - timedelta(days=8))
    pusher = PushRecorder()
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=Clock(now))
    try:
        svc.digest_tick()
        svc.digest_tick()  # once a day, however often it ticks
    finally:
        svc.stop()
    assert len(pusher.sent) == (1 if sent else 0)
    if sent:
        assert "K-001" in pusher.sent[0][1] and "今日の訪問" in pusher.sent[0][1]


def test_overdue_visits_stay_in_the_digest_until_resolved(tmp_path):
    db = open_db(tmp_path / "n.db")
    now = at(2026, 11, 26, 8, 40)  # Thursday
    add_user(db, "line", "U1", "staff", "千葉市", now)
    store.add_plan(db, platform="line", owner="U1", target="U1", area="千葉市", case_code="K-002", plan_key="discharge",
                   anchor=date(2026, 11, 10), digest_time=store.digest_time(db, "line", "U1"), now=at(2026, 11, 10))
    pusher = PushRecorder()
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=Clock(now))
    try:
        svc.digest_tick()
        assert "期限を過ぎた訪問" in pusher.sent[0][1] and "K-002" in pusher.sent[0][1]
        db.execute("UPDATE visits SET status = 'done' WHERE due < '2026-11-26'")
        pusher.sent.clear()
        svc.clock = Clock(now + timedelta(days=1))
        svc.digest_tick()
    finally:
        svc.stop()
    assert pusher.sent == []


# -- by chat, to the stand-ins --------------------------------------------------------------------
@pytest.mark.parametrize("platform", ["line", "slack"])
def test_event_and_visit_set_up_by_chat_arrive_at_the_stand_in_once(tmp_path, index, platform):
    from bot.adapters.line import LineMessenger, LinePusher
    from bot.adapters.slack import SlackPusher, web_client
    clock = RunningClock(TUESDAY)  # the chat and the engine share it: 12/1 and 12/5 are ahead
    with LineStandIn() as line, SlackStandIn() as slack:
        app = build_app(db_path=str(tmp_path / "n.db"), clock=clock, index=index)
        user, conv = ("Uline", "Cgroup") if platform == "line" else ("Uslack", "C0GROUP")
        add_user(app.db, platform, user, "staff", "千葉市", clock())
        pushers = {"line": LinePusher(LineMessenger(access_token=line.access_token, base_url=line.url)),
                   "slack": SlackPusher(web_client(slack.bot_token, slack.url + "/api/"))}
        svc = ReminderService(app.db, pushers, reminder_texts, clock=clock)
        try:
            assert svc.start()
            say(app, "イベント 12/5 14時 ピアサポーター交流会", platform, user, direct=False, conv=conv)
            say(app, "はい", platform, user, direct=False, conv=conv)
            say(app, "退院 K-012 12/1", platform, user, conv=user if platform == "line" else "D0001")
            say(app, "はい", platform, user, conv=user if platform == "line" else "D0001")
            ev = [r for r in store.active(app.db) if r.kind == "event"][0]
            visit = [r for r in store.active(app.db) if r.kind == "visit"][0]
            soon = clock() + timedelta(seconds=1)
            for r in (ev, visit):  # as if the days had passed: due now (the sync job picks it up)
                store.reschedule(app.db, r.id, soon, clock())
            stand_in = line if platform == "line" else slack
            got = (lambda s: len(s.delivered) >= 2) if platform == "line" else (lambda s: len(s.posted) >= 2)
            assert stand_in.wait_for(got, timeout=15)
            assert wait_until(lambda: {store.get(app.db, r.id).status for r in (ev, visit)} == {"done"}, timeout=15)
            assert wait_for_no_overdue_firing(svc)
        finally:
            svc.stop()
        if platform == "line":
            sent = line.delivered
            assert [d["kind"] for d in sent] == ["push", "push"] and {d["to"] for d in sent} == {"Cgroup", "Uline"}
            texts = [m["text"] for d in sent for m in d["messages"]]
            labels = [i["action"]["label"] for d in sent for i in d["messages"][-1]["quickReply"]["items"]]
        else:
            sent = slack.posted
            assert len(sent) == 2 and {p["channel"] for p in sent} == {"C0GROUP", "D0001"}
            texts = [p["text"] for p in sent]
            labels = [(e.get("text") or e["placeholder"])["text"] for p in sent for b in p["blocks"]
                      if b["type"] == "actions" for e in b["elements"]]
        assert any("ピアサポーター交流会" in t for t in texts) and any("K-012" in t for t in texts)
        assert {"参加", "不参加", "完了", "会えなかった", "あとで記録", "延期（日付を選ぶ）"} <= set(labels)
        assert line.errors == [] and slack.errors == []


def test_nimo_remind_list_json_from_a_chat(nimo):
    out = nimo("chat", input="リマインド 明日14時 ピアサポーター交流会\nはい\n予定\n").stdout
    assert re.search(r"\d+月\d+日\([月火水木金土日]\) 14:00", out) and "登録しました" in out
    assert "ピアサポーター交流会" in out.split("登録中の予定")[1]
    rows = json.loads(nimo("remind", "list", "--json").stdout)
    assert len(rows) == 1 and rows[0]["title"] == "ピアサポーター交流会" and rows[0]["due_at"].endswith("14:00:00+09:00")
    assert "取り消しました" in nimo("remind", "cancel", str(rows[0]["id"])).stdout
    assert json.loads(nimo("remind", "list", "--json").stdout) == []


def test_unmet_asks_for_a_reason_with_buttons(japp):
    say(japp, "退院 K-012 11/20")
    say(japp, "はい")
    r = store.active(japp.db)[0]
    out = say(japp, f"会えなかった #{r.id}")
    assert "理由" in out and f"「会えなかった #{r.id} 不在」" in out
    assert japp.db.execute("SELECT status FROM visits WHERE id = ?", [r.visit_id]).fetchone()[0] == "open"
    say(japp, f"会えなかった #{r.id} 入院中")
    assert japp.db.execute("SELECT status, reason FROM visits WHERE id = ?", [r.visit_id]).fetchone() == ("unmet", "入院中")


def test_line_date_picker_postpones_to_the_picked_day(japp):
    from bot.adapters.line import read_event, render as line_render
    from bot.chat.reminder_texts import reminder_replies
    say(japp, "リマインド 明日14時 準備")
    say(japp, "はい")
    [r] = store.active(japp.db)
    items = line_render(reminder_replies(japp.db, r, late=False))[-1]["quickReply"]["items"]
    picker = [i["action"] for i in items if i["action"]["type"] == "datetimepicker"][0]
    raw = {"type": "postback", "mode": "active", "timestamp": 1, "source": {"type": "user", "userId": "Uline"},
           "webhookEventId": "01PICK", "deliveryContext": {"isRedelivery": False}, "replyToken": "t",
           "postback": {"data": picker["data"], "params": {"date": "2026-12-10"}}}
    incoming = read_event(raw).incoming
    assert incoming.postback == f"延期 2026-12-10 #{r.id}"
    out = say(japp, incoming.postback)
    assert "12月10日(木) 14:00" in out and store.get(japp.db, r.id).due_at == at(2026, 12, 10, 14)


def test_nimo_remind_cancel_of_an_event_notice_ends_the_event_as_the_chat_does(nimo):
    """An administrator cancelling one notice of an event from the CLI ends the event with all its
    notices, like 取消 in chat: no second notice, and the morning summary no longer lists it."""
    from datetime import timezone
    nimo("remind", "list")  # creates and migrates the database
    db = open_db(nimo.db_path)
    now = datetime.now(timezone.utc)  # the CLI reads the real clock; the event is well ahead of it,
    day = (now + timedelta(days=30)).astimezone(JST).date()  # at 14:00, whatever the hour of this run
    eid, rids = store.add_event(db, platform="line", owner="Uline", target="Cgroup", is_group=True,
                                title="ピア交流会", starts=datetime.combine(day, datetime.min.time().replace(hour=14),
                                                                       tzinfo=JST), now=now)
    assert len(rids) == 2
    assert "イベントを取り消しました" in nimo("remind", "cancel", str(rids[0])).stdout
    assert [store.get(db, r).status for r in rids] == ["cancelled", "cancelled"]
    assert store.active_event(db, eid) is None
