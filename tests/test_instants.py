"""The reminder engine at the instants where calendars and clocks bite: a quiet-hour night, New
Year's Day, a month end, the year end, a Friday evening, a Monday morning, and a month end that
runs into a Monday.

Why this file exists: the suite must pass at any hour on any date, and what the engine does at such
instants must be proven here, not by whoever happens to run the suite that night.  So the clock is
injected: for each instant a user sets up, through the chat, a reminder at that instant, a
recurring reminder that falls due then, an event whose 1-hour notice falls due then, and a visit
plan whose first visit is due that day.  Then the engine runs over the hours that follow — its
firing and its every-minute work (digest, weekly summary) — as APScheduler would run them: at every
due instant and every quarter of an hour, the injected clock set to that moment.  Pushes go to an
in-process recorder (no platform matters here), which notes the clock time of each and checks it as
LINE would.  What was sent, at what clock time, is compared with what was worked out by hand from
the rules (the README): times the user asked for go as asked, even at
night; automatic notices wait from 20:00 until 08:00; the morning digest comes on business days
only (not on weekends or holidays); the weekly summary on Monday from 9:00; a visit due on a day off
moves to the nearest business day of its window, and one set up after its morning is announced the
next business morning.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from bot.chat import reminder_texts
from bot.people.access import add_user
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import open_db
from scheduler import store
from scheduler.service import ReminderService
from scheduler.workdays import TZ

from .conftest import Clock
from .fakes import PushRecorder

USER = "Uinstant"


def at(y, m, d, hh, mm):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@dataclass(frozen=True)
class Instant:
    name: str
    when: datetime            # the instant itself (Tokyo)
    recurring: str            # what the user types for the recurring reminder (due at ``when``)
    next_due: datetime        # where that recurring reminder moves after it fired
    event_notice_at: datetime | None  # when the 1-hour-before notice really goes (None: it would come after the start)
    visit_reminder_at: datetime | None  # the visit-day reminder (08:30), if it is ahead at set-up
    digest_at: datetime | None  # the morning digest within the run, if any
    tomorrow: str             # how the chat reads 「明日10時」 back, an hour before the instant
    digest_says: tuple[str, ...] = ()
    summary_at: datetime | None = None  # the weekly summary within the run, if any
    until: datetime | None = None  # how long the engine runs (default: 3 hours after the instant)


INSTANTS = [
    Instant("quiet-hour night", at(2026, 12, 10, 23, 30), "毎日 23:30", at(2026, 12, 11, 23, 30),
            event_notice_at=None, visit_reminder_at=at(2026, 12, 11, 8, 30),  # 23:30 held to 8:00 is after 0:30  # set up late: next morning
            digest_at=at(2026, 12, 11, 8, 30), digest_says=("今日の訪問", "K-012", "期間は"),
            until=at(2026, 12, 11, 11, 45),
            tomorrow="12月11日(金) 10:00"),
    Instant("New Year's Day", at(2027, 1, 1, 9, 0), "毎週金曜 9:00", at(2027, 1, 8, 9, 0),
            event_notice_at=at(2027, 1, 1, 9, 0), visit_reminder_at=None, digest_at=None,  # the visit moves to 1/4
            tomorrow="1月2日(土) 10:00"),
    Instant("fiscal month end", at(2027, 3, 31, 17, 0), "毎月31日 17:00", at(2027, 5, 31, 17, 0),
            event_notice_at=at(2027, 3, 31, 17, 0), visit_reminder_at=None, digest_at=None,
            tomorrow="4月1日(木) 10:00"),
    Instant("year end", at(2026, 12, 31, 23, 59), "毎日 23:59", at(2027, 1, 1, 23, 59),
            event_notice_at=None, visit_reminder_at=None, digest_at=None,
            until=at(2027, 1, 1, 11, 45),
            tomorrow="1月1日(金) 10:00"),
    Instant("Friday evening", at(2026, 12, 11, 19, 30), "平日 19:30", at(2026, 12, 14, 19, 30),
            event_notice_at=at(2026, 12, 11, 19, 30), visit_reminder_at=at(2026, 12, 14, 8, 30),
            digest_at=at(2026, 12, 14, 8, 30), digest_says=("今日の訪問", "K-012", "期間は"),
            summary_at=at(2026, 12, 14, 9, 0), until=at(2026, 12, 14, 11, 45),
            tomorrow="12月12日(土) 10:00"),
    Instant("Monday morning", at(2026, 12, 14, 9, 0), "毎週月曜 9:00", at(2026, 12, 21, 9, 0),
            event_notice_at=at(2026, 12, 14, 9, 0), visit_reminder_at=at(2026, 12, 14, 8, 30),
            digest_at=at(2026, 12, 14, 8, 30),
            digest_says=("今日の訪問", "K-012", "今週のイベント", "家族会"),
            summary_at=at(2026, 12, 14, 9, 0),
            tomorrow="12月15日(火) 10:00"),
    Instant("month end into a Monday", at(2027, 2, 28, 23, 59), "毎日 23:59", at(2027, 3, 1, 23, 59),
            event_notice_at=None, visit_reminder_at=at(2027, 3, 1, 8, 30),  # Sunday's visit: Monday
            digest_at=at(2027, 3, 1, 8, 30), digest_says=("今日の訪問", "K-012"),
            summary_at=at(2027, 3, 1, 9, 0), until=at(2027, 3, 1, 11, 45),
            tomorrow="3月1日(月) 10:00"),
]


@pytest.fixture
def app(index, clock, tmp_path):
    """Like conftest's ``app``, on a file: the engine opens its own connections to it."""
    return build_app(db=open_db(tmp_path / "n.db"), clock=clock, index=index)


def say(app, text):
    return render(app.handle(Incoming("line", USER, USER, text, True)))


def fmt(t: datetime) -> str:
    return f"{t.month}/{t.day} {t.hour}:{t.minute:02d}"


def run_engine(svc: ReminderService, clock: Clock, db, until: datetime) -> None:
    """What APScheduler does, with the injected clock: at every due instant and every quarter of
    an hour (the digest and summary tick), the clock is set there and the engine runs."""
    while True:
        now = clock.now.astimezone(TZ)
        quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + timedelta(minutes=15)
        (nxt,) = db.execute("SELECT MIN(due_at) FROM reminders WHERE status = 'active' AND due_at > ?",
                            [store.utc(now)]).fetchone()
        step = min(quarter, store.from_utc(nxt)) if nxt else quarter
        if step > until:
            return
        clock.now = step
        svc.fire_due()
        svc.tick()


@pytest.mark.parametrize("case", INSTANTS, ids=[i.name for i in INSTANTS])
def test_the_engine_at_an_instant(app, clock, case):
    t = case.when
    clock.now = t - timedelta(hours=1)  # set up an hour before
    db = app.db
    add_user(db, "line", USER, "staff", "千葉市", clock())
    starts = t + timedelta(hours=1)
    anchor = (t - timedelta(days=7)).date()
    for text in (f"リマインド {fmt(t)} 書類提出", f"リマインド {case.recurring} 定例の確認",
                 f"イベント {fmt(starts)} 家族会", f"退院 K-012 {anchor.month}/{anchor.day}"):
        assert "「はい」で登録" in say(app, text), text  # a time in the night is asked about, not refused
        assert "登録" in say(app, "はい")
    assert case.tomorrow in say(app, "リマインド 明日10時 確認")  # across the month, year and weekend
    say(app, "いいえ")
    titles = {r.id: r.title for r in store.active(db)}
    recurring = [r for r in store.active(db) if r.recurrence is not None]
    assert len(recurring) == 1 and recurring[0].due_at == t  # the chat read it as due at the instant

    pusher = PushRecorder(clock, check_line=True)
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=clock, summary_to={"line": "Cgroup"})
    try:
        run_engine(svc, clock, db, case.until or t + timedelta(hours=3))
    finally:
        svc.stop()
    assert pusher.errors == []

    def what(key, text):
        if key.startswith("reminder:"):
            title = titles[int(key.split(":")[1])]
            return "visit" if title.startswith("K-012") else title
        return key.split(":")[0]  # digest, summary
    got = sorted((p.at.astimezone(TZ), what(p.key, p.text)) for p in pusher.sent)
    expected = [(t, "書類提出"), (t, "定例の確認")]
    expected += [(case.event_notice_at, "家族会")] if case.event_notice_at else []
    expected += [(case.visit_reminder_at, "visit")] if case.visit_reminder_at else []
    expected += [(case.digest_at, "digest")] if case.digest_at else []
    expected += [(case.summary_at, "summary")] if case.summary_at else []
    assert got == sorted(expected)

    texts = {what(p.key, p.text): p.text for p in pusher.sent}
    assert all("遅延" not in x for x in texts.values())  # nothing was late, held notices included
    assert "書類提出" in texts["書類提出"] and (case.event_notice_at is None or "家族会" in texts["家族会"])
    for phrase in case.digest_says:
        assert phrase in texts["digest"]
    [rec] = [r for r in store.active(db) if r.recurrence is not None]
    assert rec.due_at == case.next_due  # moved on across the month / year end, not fired twice
    assert store.get(db, [i for i, x in titles.items() if x == "書類提出"][0]).status == "done"
    assert db.execute("SELECT COUNT(*) FROM deliveries WHERE status != 'sent'").fetchone()[0] == 0


def test_a_notice_held_overnight_is_not_held_again_by_the_holiday_morning(app, clock):
    """Due at 07:30 on New Year's Day, the notice goes at 08:00: quiet hours hold notices (still
    before the 08:30 start), holidays do not (only the digest rests on a holiday)."""
    clock.now = at(2026, 12, 31, 22, 0)
    add_user(app.db, "line", USER, "staff", "千葉市", clock())
    assert "1月1日(金) 08:00" in say(app, "イベント 1/1 8:30 初詣")
    say(app, "はい")
    pusher = PushRecorder(clock, check_line=True)
    svc = ReminderService(app.db, {"line": pusher}, reminder_texts, clock=clock)
    try:
        clock.now = at(2026, 12, 31, 23, 59)
        assert svc.fire_due() == 0
        clock.now = at(2027, 1, 1, 7, 59)
        assert svc.fire_due() == 0
        clock.now = at(2027, 1, 1, 8, 0)
        assert svc.fire_due() == 1
    finally:
        svc.stop()
    assert [(p.at, "初詣" in p.text) for p in pusher.sent] == [(at(2027, 1, 1, 8, 0), True)] and pusher.errors == []
