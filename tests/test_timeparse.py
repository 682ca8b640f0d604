"""scheduler.timeparse: every expression the reminders accept or refuse, one case each.

The clock is fixed: NOW is Monday 2026-11-23 (a holiday) 09:00 in Tokyo unless a test says otherwise."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from scheduler.timeparse import TZ, Recurrence, TimeError, When, fmt_date, parse_date, parse_when, readback

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


# --- one-off and relative -------------------------------------------------------------------------

ONE_OFF = [
    ("明日14時", at(2026, 11, 24, 14, 0)),
    ("明後日の午前10時", at(2026, 11, 25, 10, 0)),
    ("来週火曜の10時半", at(2026, 12, 1, 10, 30)),
    ("今週金曜15時", at(2026, 11, 27, 15, 0)),
    ("12/5 13:00", at(2026, 12, 5, 13, 0)),
    ("12月5日13時", at(2026, 12, 5, 13, 0)),
    ("3日後", at(2026, 11, 26, 9, 0)),
    ("2時間後", at(2026, 11, 23, 11, 0)),
    ("30分後", at(2026, 11, 23, 9, 30)),
    ("今日15時", at(2026, 11, 23, 15, 0)),
    ("金曜16時", at(2026, 11, 27, 16, 0)),
    ("2027/1/8 9:30", at(2027, 1, 8, 9, 30)),
    ("1/8 9時", at(2027, 1, 8, 9, 0)),
    ("今週月曜10時", at(2026, 11, 23, 10, 0)),
    ("明日0時", at(2026, 11, 24, 0, 0)),
    ("12時", at(2026, 11, 23, 12, 0)),
    ("朝9時", None),  # 09:00 today is not after NOW: see the refusals
    ("明日朝9時", at(2026, 11, 24, 9, 0)),
    ("夜8時", at(2026, 11, 23, 20, 0)),
    ("夕方5時", at(2026, 11, 23, 17, 0)),
    ("昼12時", at(2026, 11, 23, 12, 0)),
    ("午後3時", at(2026, 11, 23, 15, 0)),
    ("午前10時", at(2026, 11, 23, 10, 0)),
    ("正午", at(2026, 11, 23, 12, 0)),
    ("明日 正午", at(2026, 11, 24, 12, 0)),
    ("今夜8時", at(2026, 11, 23, 20, 0)),
    ("明日14時30分", at(2026, 11, 24, 14, 30)),
    ("明日9時5分", at(2026, 11, 24, 9, 5)),
    ("明後日 午後1時15分", at(2026, 11, 25, 13, 15)),
    ("2026年12月1日 10:00", at(2026, 12, 1, 10, 0)),
    ("2026-12-01 10:00", at(2026, 12, 1, 10, 0)),
    ("来月5日 10時", at(2026, 12, 5, 10, 0)),
    ("5日10時", at(2026, 12, 5, 10, 0)),
    ("25日10時", at(2026, 11, 25, 10, 0)),
    ("31日10時", at(2026, 12, 31, 10, 0)),  # November has no 31st: the next one that exists
    ("再来週月曜9時", at(2026, 12, 7, 9, 0)),
    ("次の金曜16時", at(2026, 11, 27, 16, 0)),
    ("1時間半後", at(2026, 11, 23, 10, 30)),
    ("1時間15分後", at(2026, 11, 23, 10, 15)),
    ("1週間後", at(2026, 11, 30, 9, 0)),
    ("3日後の10時", at(2026, 11, 26, 10, 0)),
    ("12/5(土) 13:00", at(2026, 12, 5, 13, 0)),
    ("12/5 13:00〜15:00", at(2026, 12, 5, 13, 0)),
    ("明日14時頃", at(2026, 11, 24, 14, 0)),
    # kanji numerals
    ("十四時", at(2026, 11, 23, 14, 0)),
    ("三日後", at(2026, 11, 26, 9, 0)),
    ("明日十時半", at(2026, 11, 24, 10, 30)),
    ("十二月五日 午後一時", at(2026, 12, 5, 13, 0)),
    ("二十分後", at(2026, 11, 23, 9, 20)),
    # full width (NFKC)
    ("１２／５　１３：００", at(2026, 12, 5, 13, 0)),
    ("明日１４時", at(2026, 11, 24, 14, 0)),
]


@pytest.mark.parametrize("text,expected", [c for c in ONE_OFF if c[1] is not None])
def test_one_off(text, expected):
    when, title = parse_when(text, NOW)
    assert when.at == expected
    assert when.at.tzinfo is TZ
    assert when.recurrence is None
    assert title == ""


def test_relative_keeps_wall_clock_minute():
    when, _ = parse_when("3日後", datetime(2026, 11, 23, 9, 41, 27, 500, tzinfo=TZ))
    assert when.at == at(2026, 11, 26, 9, 41)


def test_now_in_another_timezone_is_read_in_tokyo():
    now_utc = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)  # 09:00 in Tokyo
    when, _ = parse_when("明日14時", now_utc)
    assert when.at == at(2026, 11, 24, 14, 0) and when.at.tzinfo is TZ
    when, _ = parse_when("2時間後", now_utc)
    assert when.at == at(2026, 11, 23, 11, 0)


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError) as e:
        parse_when("明日14時", datetime(2026, 11, 23, 9, 0))
    assert not isinstance(e.value, TimeError)


def test_same_weekday_later_today_is_today():
    assert parse_when("月曜10時", NOW)[0].at == at(2026, 11, 23, 10, 0)


def test_month_day_in_late_december_rolls_into_next_year():
    now = at(2026, 12, 28, 9, 0)
    assert parse_when("1/5 10時", now)[0].at == at(2027, 1, 5, 10, 0)
    assert parse_when("12/30 10時", now)[0].at == at(2026, 12, 30, 10, 0)


def test_two_times_one_of_them_a_range():
    when, title = parse_when("12/5(土) 13:00〜15:00 ケース会議", NOW)
    assert when.at == at(2026, 12, 5, 13, 0) and title == "ケース会議"


# --- recurrences ----------------------------------------------------------------------------------

RECURRING = [
    ("毎週金曜16時", Recurrence("weekly", 16, 0, weekday=4), at(2026, 11, 27, 16, 0)),
    ("毎週金曜日の16時", Recurrence("weekly", 16, 0, weekday=4), at(2026, 11, 27, 16, 0)),
    ("毎月第2水曜14時", Recurrence("monthly_nth", 14, 0, weekday=2, nth=2), at(2026, 12, 9, 14, 0)),
    ("毎月第二水曜十四時", Recurrence("monthly_nth", 14, 0, weekday=2, nth=2), at(2026, 12, 9, 14, 0)),
    ("毎月第5金曜10時", Recurrence("monthly_nth", 10, 0, weekday=4, nth=5), at(2027, 1, 29, 10, 0)),
    ("平日毎朝9時", Recurrence("weekdays", 9, 0), at(2026, 11, 24, 9, 0)),
    ("平日9時", Recurrence("weekdays", 9, 0), at(2026, 11, 24, 9, 0)),
    ("平日の10時", Recurrence("weekdays", 10, 0), at(2026, 11, 24, 10, 0)),  # 11/23 is 勤労感謝の日
    ("毎朝9時", Recurrence("daily", 9, 0), at(2026, 11, 24, 9, 0)),
    ("毎日7時", Recurrence("daily", 7, 0), at(2026, 11, 24, 7, 0)),
    ("毎晩9時", Recurrence("daily", 21, 0), at(2026, 11, 23, 21, 0)),
    ("毎月5日10時", Recurrence("monthly_day", 10, 0, day=5), at(2026, 12, 5, 10, 0)),
    ("毎月31日9時", Recurrence("monthly_day", 9, 0, day=31), at(2026, 12, 31, 9, 0)),
    ("毎日曜10時", Recurrence("weekly", 10, 0, weekday=6), at(2026, 11, 29, 10, 0)),
]


@pytest.mark.parametrize("text,recurrence,first", RECURRING)
def test_recurring(text, recurrence, first):
    when, title = parse_when(text, NOW)
    assert when.recurrence == recurrence
    assert when.at == first
    assert title == ""


@pytest.mark.parametrize("recurrence,text", [
    (Recurrence("weekly", 16, 0, weekday=4), "毎週金曜 16:00"),
    (Recurrence("monthly_nth", 14, 0, weekday=2, nth=2), "毎月第2水曜 14:00"),
    (Recurrence("weekdays", 9, 0), "平日 9:00"),
    (Recurrence("daily", 7, 0), "毎日 7:00"),
    (Recurrence("monthly_day", 10, 0, day=5), "毎月5日 10:00"),
])
def test_describe(recurrence, text):
    assert recurrence.describe() == text


NEXT_AFTER = [
    # strictly after: an occurrence exactly at t is not returned
    (Recurrence("daily", 9, 0), at(2026, 11, 23, 9, 0), at(2026, 11, 24, 9, 0)),
    (Recurrence("daily", 9, 0), at(2026, 11, 23, 8, 59), at(2026, 11, 23, 9, 0)),
    (Recurrence("daily", 7, 0), at(2026, 12, 31, 8, 0), at(2027, 1, 1, 7, 0)),
    # weekdays are the offices' working days: no Saturday, Sunday, national holiday nor 年末年始
    (Recurrence("weekdays", 9, 0), at(2026, 11, 27, 10, 0), at(2026, 11, 30, 9, 0)),
    (Recurrence("weekdays", 9, 0), at(2026, 11, 28, 10, 0), at(2026, 11, 30, 9, 0)),
    (Recurrence("weekdays", 9, 0), at(2026, 11, 23, 8, 0), at(2026, 11, 24, 9, 0)),   # 勤労感謝の日
    (Recurrence("weekdays", 9, 0), at(2026, 11, 20, 10, 0), at(2026, 11, 24, 9, 0)),  # Fri → over the 3-day weekend
    (Recurrence("weekdays", 9, 0), at(2026, 12, 28, 10, 0), at(2027, 1, 4, 9, 0)),    # 12/29–1/3 closed
    (Recurrence("weekdays", 9, 0), at(2027, 1, 1, 10, 0), at(2027, 1, 4, 9, 0)),
    (Recurrence("weekdays", 9, 0), at(2027, 5, 1, 10, 0), at(2027, 5, 6, 9, 0)),      # Golden Week
    (Recurrence("weekly", 16, 0, weekday=4), at(2026, 11, 27, 16, 0), at(2026, 12, 4, 16, 0)),
    (Recurrence("weekly", 16, 0, weekday=4), at(2026, 12, 30, 0, 0), at(2027, 1, 1, 16, 0)),
    # monthly_nth over a year end, and skipping months without a 5th such weekday
    (Recurrence("monthly_nth", 14, 0, weekday=2, nth=2), at(2026, 12, 9, 14, 0), at(2027, 1, 13, 14, 0)),
    (Recurrence("monthly_nth", 10, 0, weekday=4, nth=5), at(2026, 11, 23, 0, 0), at(2027, 1, 29, 10, 0)),
    (Recurrence("monthly_nth", 10, 0, weekday=4, nth=5), at(2027, 1, 29, 10, 0), at(2027, 4, 30, 10, 0)),
    (Recurrence("monthly_nth", 10, 0, weekday=0, nth=1), at(2026, 11, 30, 12, 0), at(2026, 12, 7, 10, 0)),
    # monthly_day 31 skips 30-day months and February; 29 skips a non-leap February
    (Recurrence("monthly_day", 9, 0, day=31), at(2026, 10, 31, 9, 0), at(2026, 12, 31, 9, 0)),
    (Recurrence("monthly_day", 9, 0, day=31), at(2026, 12, 31, 9, 0), at(2027, 1, 31, 9, 0)),
    (Recurrence("monthly_day", 9, 0, day=31), at(2027, 1, 31, 9, 0), at(2027, 3, 31, 9, 0)),
    (Recurrence("monthly_day", 9, 0, day=29), at(2027, 1, 29, 9, 0), at(2027, 3, 29, 9, 0)),
    (Recurrence("monthly_day", 9, 0, day=29), at(2028, 1, 29, 9, 0), at(2028, 2, 29, 9, 0)),
    (Recurrence("monthly_day", 10, 0, day=5), at(2026, 12, 5, 10, 0), at(2027, 1, 5, 10, 0)),
]


@pytest.mark.parametrize("recurrence,t,expected", NEXT_AFTER)
def test_next_after(recurrence, t, expected):
    got = recurrence.next_after(t)
    assert got == expected and got.tzinfo is TZ


def test_next_after_accepts_any_timezone():
    rec = Recurrence("daily", 9, 0)
    t = datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc)  # 09:30 Tokyo
    assert rec.next_after(t) == at(2026, 11, 24, 9, 0)


@pytest.mark.parametrize("kwargs", [
    dict(kind="hourly", hour=9, minute=0),
    dict(kind="daily", hour=24, minute=0),
    dict(kind="weekly", hour=9, minute=0),
    dict(kind="monthly_nth", hour=9, minute=0, weekday=2, nth=6),
    dict(kind="monthly_day", hour=9, minute=0, day=32),
])
def test_recurrence_rejects_bad_values(kwargs):
    with pytest.raises(ValueError):
        Recurrence(**kwargs)


# --- refusals -------------------------------------------------------------------------------------

REFUSED = [
    ("そのうち", "そのうち"),
    ("来週のどこか", "来週"),
    ("来週", "来週"),
    ("来週 14時", "来週"),
    ("明日", "時刻"),
    ("明日の昼", "時刻"),  # 昼 alone names no time (朝, 夕方 and 午後 do: see the time words)
    ("5日", "時刻"),
    ("12/5", "時刻"),
    ("13月5日", "13月5日"),
    ("13月5日 10時", "13月5日"),
    ("2月30日", "2月30日"),
    ("2月30日 10時", "2月30日"),
    ("4/31 10時", "4/31"),
    ("今月31日 10時", "11月31日"),
    ("25時", "25時"),
    ("24時", "24時"),
    ("24時30分", "24時30分"),
    ("14時70分", "14時70分"),
    ("14:70", "14:70"),
    ("午後15時", "午後15時"),
    ("午前13時", "午前13時"),
    ("午前12時", "午前12時"),
    ("夜12時", "夜12時"),
    ("朝3時", "朝3時"),
    ("昨日10時", "過ぎて"),
    ("今日8時", "過ぎて"),
    ("8時", "過ぎて"),
    ("朝9時", "過ぎて"),  # exactly now is not in the future
    ("今週月曜8時", "過ぎて"),
    ("月曜8時", "来週月曜"),
    ("3日前", "過ぎて"),
    ("11/20 10時", "2027/11/20"),  # nearest 11/20 is three days ago: refused, not moved a year on
    ("2025/12/5 13:00", "過ぎて"),
    ("", "書かれていません"),
    ("   ", "書かれていません"),
    ("ピア交流会", "見つかりません"),
    ("明日 ピア交流会 14時", "続けて"),
    ("14:00 明日", "続けて"),
    ("明日14時と明後日15時", "2つ"),
    ("毎週 16時", "毎週"),
    ("毎週金曜", "時刻"),
    ("第2水曜14時", "毎月第2水曜"),
    ("12/5(金) 13:00", "土曜日"),
    ("2/29 10時", "2028/2/29"),
    ("0分後", "30分後"),
]


@pytest.mark.parametrize("text,fragment", REFUSED)
def test_refused(text, fragment):
    with pytest.raises(TimeError) as e:
        parse_when(text, NOW)
    message = str(e.value)
    assert "例" in message
    assert fragment in message


def test_refusal_message_shape():
    with pytest.raises(TimeError) as e:
        parse_when("13月5日", NOW)
    assert str(e.value) == "「13月5日」という日付はありません。例：「12月5日 13時」「12/5 13:00」"
    with pytest.raises(TimeError) as e:
        parse_when("明日", NOW)
    assert "「明日 14時」" in str(e.value)


def test_time_error_is_a_value_error():
    assert issubclass(TimeError, ValueError)


# --- titles ---------------------------------------------------------------------------------------

TITLES = [
    ("明日14時にピア交流会の準備をリマインドして", at(2026, 11, 24, 14, 0), "ピア交流会の準備"),
    ("明日14時 ピアサポーター交流会の準備", at(2026, 11, 24, 14, 0), "ピアサポーター交流会の準備"),
    ("明日14時にピア交流会の準備をリマインド", at(2026, 11, 24, 14, 0), "ピア交流会の準備"),
    ("明日14時、ピア交流会の準備", at(2026, 11, 24, 14, 0), "ピア交流会の準備"),
    ("ピア交流会の準備 明日14時", at(2026, 11, 24, 14, 0), "ピア交流会の準備"),
    ("ピア会議を明日10時にリマインドしてください", at(2026, 11, 24, 10, 0), "ピア会議"),
    ("明日14時からケア会議", at(2026, 11, 24, 14, 0), "ケア会議"),
    ("会議の通知 明日10時", at(2026, 11, 24, 10, 0), "会議の通知"),
    ("一時保護の件 明日14時", at(2026, 11, 24, 14, 0), "一時保護の件"),
    ("先週金曜の件 明日14時", at(2026, 11, 24, 14, 0), "先週金曜の件"),
    ("30分後に電話", at(2026, 11, 23, 9, 30), "電話"),
    ("３日後　訪問記録の確認", at(2026, 11, 26, 9, 0), "訪問記録の確認"),
]


@pytest.mark.parametrize("text,expected,title", TITLES)
def test_title(text, expected, title):
    when, got = parse_when(text, NOW)
    assert when.at == expected
    assert got == title


def test_matched_and_recurring_title():
    when, title = parse_when("毎月第2水曜14時のピア会議をリマインドして", NOW)
    assert when.matched == "毎月第2水曜14時"
    assert when.recurrence == Recurrence("monthly_nth", 14, 0, weekday=2, nth=2)
    assert title == "ピア会議"
    assert parse_when("明後日の午前10時に訪問", NOW)[0].matched == "明後日の午前10時"


# --- parse_date -----------------------------------------------------------------------------------

DATES = [
    ("今日", date(2026, 11, 23), ""),
    ("明日", date(2026, 11, 24), ""),
    ("明後日", date(2026, 11, 25), ""),
    ("昨日", date(2026, 11, 22), ""),
    ("一昨日", date(2026, 11, 21), ""),
    ("3日前", date(2026, 11, 20), ""),
    ("12/1", date(2026, 12, 1), ""),
    ("12月1日", date(2026, 12, 1), ""),
    ("2026/12/1", date(2026, 12, 1), ""),
    ("2026年12月1日", date(2026, 12, 1), ""),
    ("2025/12/1", date(2025, 12, 1), ""),
    ("1/10", date(2027, 1, 10), ""),
    ("10/20", date(2026, 10, 20), ""),  # past dates are fine here
    ("5/20", date(2027, 5, 20), ""),  # 178 days ahead is nearer than 187 days back
    ("6/1", date(2026, 6, 1), ""),
    ("来週火曜", date(2026, 12, 1), ""),
    ("先週金曜", date(2026, 11, 20), ""),
    ("今週日曜", date(2026, 11, 29), ""),
    ("火曜", date(2026, 11, 24), ""),  # a bare weekday: the nearest one, within three days
    ("金曜", date(2026, 11, 20), ""),
    ("木曜", date(2026, 11, 26), ""),
    ("月曜", date(2026, 11, 23), ""),
    ("20日", date(2026, 11, 20), ""),
    ("5日", date(2026, 12, 5), ""),
    ("退院 K-012 12/1", date(2026, 12, 1), "退院 K-012"),
    ("退院 K-012 先週金曜", date(2026, 11, 20), "退院 K-012"),
    ("退院 K-012 １２／１", date(2026, 12, 1), "退院 K-012"),
    ("１２月１日　退院", date(2026, 12, 1), "退院"),
    ("2026-12-01 退院", date(2026, 12, 1), "退院"),
    ("12/1(火) 退院", date(2026, 12, 1), "退院"),
    ("三日前に退院", date(2026, 11, 20), "退院"),
]


@pytest.mark.parametrize("text,expected,rest", DATES)
def test_parse_date(text, expected, rest):
    assert parse_date(text, NOW) == (expected, rest)


@pytest.mark.parametrize("text", ["", "K-012", "来週", "そのうち", "2/30", "13/1", "12/1と12/3", "第2水曜"])
def test_parse_date_refused(text):
    with pytest.raises(TimeError) as e:
        parse_date(text, NOW)
    assert "例" in str(e.value)
    assert "時" not in str(e.value).partition("例")[2]  # date examples carry no time of day


# --- readback -------------------------------------------------------------------------------------


def test_fmt_date():
    assert fmt_date(date(2026, 12, 1)) == "12月1日(火)"
    assert [fmt_date(date(2026, 11, 23) + timedelta(days=i))[-2] for i in range(7)] == list("月火水木金土日")


def test_readback_one_off():
    when = When(at=at(2026, 12, 8, 10, 30), recurrence=None, matched="12/8 10:30")
    assert readback(when) == "12月8日(火) 10:30"
    assert readback(when, now=NOW) == "12月8日(火) 10:30"
    assert readback(parse_when("明日9時", NOW)[0]) == "11月24日(火) 9:00"


def test_readback_recurring():
    when, _ = parse_when("毎週金曜16時", NOW)
    assert readback(when, now=NOW) == "毎週金曜 16:00（初回 11月27日(金) 16:00）"
    # 平日 says what it leaves out, so nobody waits for a reminder on a holiday
    when = parse_when("平日9時", NOW)[0]
    assert readback(when, now=NOW) == "平日 9:00（祝日・年末年始は休み。初回 11月24日(火) 9:00）"


def test_readback_shows_year_only_when_it_differs():
    when, _ = parse_when("1/8 9時", NOW)
    assert readback(when, now=NOW) == "2027年1月8日(金) 9:00"
    assert readback(when, now=at(2027, 1, 2, 9, 0)) == "1月8日(金) 9:00"
    assert readback(when) == "1月8日(金) 9:00"
    rec, _ = parse_when("毎月第5金曜10時", NOW)
    assert readback(rec, now=NOW) == "毎月第5金曜 10:00（初回 2027年1月29日(金) 10:00）"


# -- hostile text ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["0000/1/1 10時 会議", "〇〇〇〇年1月1日 10時 会議", "0000.12.5 9時"])
def test_year_zero_is_no_date(text):
    with pytest.raises(TimeError, match="という日付はありません。例："):
        parse_when(text, NOW)
    with pytest.raises(TimeError, match="という日付はありません。例："):
        parse_date(text.split()[0], NOW)


def test_the_first_and_last_years_python_has_are_read():
    assert parse_date("0001/1/1", NOW)[0] == date(1, 1, 1)
    assert parse_when("9999/12/31 10時 会議", NOW)[0].at == datetime(9999, 12, 31, 10, 0, tzinfo=TZ)


def test_more_than_twenty_expressions_are_refused_at_once():
    with pytest.raises(TimeError, match="日時が多すぎます"):
        parse_when("明日10時 " * 21, NOW)
    with pytest.raises(TimeError, match="日付が多すぎます.*例：「明日」"):
        parse_date("12/1 " * 21, NOW)
    with pytest.raises(TimeError, match="日時が20つあります"):  # up to twenty: counted as before
        parse_when("明日10時 " * 20, NOW)


def test_hundreds_of_number_fragments_are_refused_but_a_few_are_text():
    with pytest.raises(TimeError, match="数字や日付らしい言葉が多すぎて"):
        parse_when("1分" * 501, NOW)
    when, title = parse_when("3日目の振り返り、2月の件 明日10時", NOW)
    assert when.at == datetime(2026, 11, 24, 10, 0, tzinfo=TZ) and title == "3日目の振り返り、2月の件"


def test_spaces_around_the_title_are_trimmed_as_before():
    assert parse_when("明日10時  会議の資料   を  ", NOW)[1] == "会議の資料"
    assert parse_when("会議を   明日10時", NOW)[1] == "会議"
    assert parse_when("午前   の  10時 資料", NOW)[0].at == datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


def test_nfkc_reads_a_long_run_of_marks_in_pieces():
    from scheduler.timeparse import MARK_RUN_MAX, long_mark_run, nfkc
    text = "明日10時 会議" + "\u0316\u0301" * 100
    assert long_mark_run(text) and not long_mark_run("e" + "\u0301" * MARK_RUN_MAX)
    assert sorted(nfkc(text)) == sorted(text) and nfkc(text).startswith("明日10時 会議")
    assert long_mark_run("\u0f73" * 40)  # one character, two marks after NFKD
    assert parse_when(text, NOW)[0].at == datetime(2026, 11, 24, 10, 0, tzinfo=TZ)


# -- time words staff use ----------------------------------------------------------
# Each expression against the fixed NOW (Monday 2026-11-23 09:00), with what it is read back as.

TIME_WORD_CASES = [
    ("明日夕方 電話", at(2026, 11, 24, 17, 0), "電話"),
    ("夕方に家族へ電話", at(2026, 11, 23, 17, 0), "家族へ電話"),
    ("明日の朝 服薬確認", at(2026, 11, 24, 9, 0), "服薬確認"),
    ("明日朝 服薬確認", at(2026, 11, 24, 9, 0), "服薬確認"),
    ("明日朝イチで電話", at(2026, 11, 24, 9, 0), "電話"),
    ("明日の朝一 書類", at(2026, 11, 24, 9, 0), "書類"),
    ("明日の午後 ケース会議", at(2026, 11, 24, 13, 0), "ケース会議"),
    ("金曜の夕方 週報", at(2026, 11, 27, 17, 0), "週報"),
    ("10じ 会議", at(2026, 11, 23, 10, 0), "会議"),
    ("明日10じはん 会議", at(2026, 11, 24, 10, 30), "会議"),
    ("2pm 会議", at(2026, 11, 23, 14, 0), "会議"),
    ("明日 2 PM 会議", at(2026, 11, 24, 14, 0), "会議"),
    ("明日2:30pm 会議", at(2026, 11, 24, 14, 30), "会議"),
    ("明日10am 会議", at(2026, 11, 24, 10, 0), "会議"),
    ("月末 10時 請求書", at(2026, 11, 30, 10, 0), "請求書"),
    ("今月末 15時 締め", at(2026, 11, 30, 15, 0), "締め"),
    ("来月末 10時 更新", at(2026, 12, 31, 10, 0), "更新"),
    ("12月末 10時 更新", at(2026, 12, 31, 10, 0), "更新"),
    # words that contain those words are titles, not times
    ("朝食の準備 明日10時", at(2026, 11, 24, 10, 0), "朝食の準備"),
    ("朝の会 明日10時", at(2026, 11, 24, 10, 0), "朝の会"),
    ("午後の予定確認 明日10時", at(2026, 11, 24, 10, 0), "午後の予定確認"),
]


@pytest.mark.parametrize("text,expected,title", TIME_WORD_CASES)
def test_time_words(text, expected, title):
    when, got = parse_when(text, NOW)
    assert (when.at, got, when.recurrence) == (expected, title, None)


def test_time_words_are_read_back_with_the_time_they_stand_for():
    assert readback(parse_when("明日夕方 電話", NOW)[0], now=NOW) == "11月24日(火) 17:00"
    assert readback(parse_when("明日の午後 会議", NOW)[0], now=NOW) == "11月24日(火) 13:00"
    assert readback(parse_when("明日朝イチ 電話", NOW)[0], now=NOW) == "11月24日(火) 9:00"


def test_biweekly_is_a_rule_every_other_week():
    when, title = parse_when("隔週火曜10時 ケース会議", NOW)
    assert title == "ケース会議"
    assert when.recurrence == Recurrence("biweekly", 10, 0, weekday=1, start="2026-11-24")
    assert when.at == at(2026, 11, 24, 10, 0)
    assert readback(when, now=NOW) == "隔週火曜 10:00（初回 11月24日(火) 10:00）"
    rec, t, seen = when.recurrence, when.at, []
    for _ in range(4):
        t = rec.next_after(t)
        seen.append(t)
    assert seen == [at(2026, 12, 8, 10, 0), at(2026, 12, 22, 10, 0), at(2027, 1, 5, 10, 0), at(2027, 1, 19, 10, 0)]
    # between two occurrences the next one is still on the rule's weeks, not the coming Tuesday
    assert rec.next_after(at(2026, 11, 25, 0, 0)) == at(2026, 12, 8, 10, 0)
    assert parse_when("隔週の金曜日 16時 定例", NOW)[0].recurrence.start == "2026-11-27"


def test_month_end_as_a_rule():
    when, title = parse_when("毎月月末 10時 請求", NOW)
    assert title == "請求" and when.recurrence == Recurrence("monthly_last", 10, 0)
    assert readback(when, now=NOW) == "毎月月末 10:00（初回 11月30日(月) 10:00）"
    assert when.recurrence.next_after(at(2027, 1, 31, 10, 0)) == at(2027, 2, 28, 10, 0)
    assert when.recurrence.next_after(at(2028, 1, 31, 10, 0)) == at(2028, 2, 29, 10, 0)
    assert parse_when("毎月末17時 締め", NOW)[0].recurrence == Recurrence("monthly_last", 17, 0)


def test_a_stored_rule_without_the_new_fields_still_loads():
    """Rows written before 隔週 existed have no ``start``: they load as before."""
    assert Recurrence(**{"kind": "weekly", "hour": 9, "minute": 0, "weekday": 0, "nth": None, "day": None}).describe() \
        == "毎週月曜 9:00"
    with pytest.raises(ValueError):
        Recurrence("biweekly", 10, 0, weekday=1)  # no start: which weeks is unknown
    with pytest.raises(ValueError):
        Recurrence("biweekly", 10, 0, weekday=1, start="2026-11-25")  # a Wednesday is no Tuesday


@pytest.mark.parametrize("text,fragment", [
    ("12pm 会議", "正午"),
    ("13pm 会議", "13pm"),
    ("隔週 10時", "隔週火曜"),
    ("月末", "時刻"),
])
def test_time_words_refused_with_an_example(text, fragment):
    with pytest.raises(TimeError) as e:
        parse_when(text, NOW)
    assert "例：「" in str(e.value) and fragment in str(e.value)


def test_month_end_past_today_suggests_next_month():
    with pytest.raises(TimeError, match="来月末 10時"):
        parse_when("月末 10時", at(2026, 11, 30, 11, 0))


def test_month_end_as_a_date():
    assert parse_date("月末", NOW) == (date(2026, 11, 30), "")
    assert parse_date("来月末", NOW) == (date(2026, 12, 31), "")


# --- the weekend, and recurrence words never left in the title ----------------------------------

@pytest.mark.parametrize("text,now,expected", [
    ("今週末10時", NOW, at(2026, 11, 28, 10, 0)),                              # Monday: this Saturday
    ("週末10時", NOW, at(2026, 11, 28, 10, 0)),
    ("今週末10時", at(2026, 11, 29, 9, 0), at(2026, 11, 29, 10, 0)),         # Sunday morning: today
    ("今週末10時", at(2026, 11, 29, 11, 0), at(2026, 12, 5, 10, 0)),         # Sunday, 10:00 past: next Saturday
    ("今週末10時", at(2026, 11, 28, 14, 0), at(2026, 11, 29, 10, 0)),        # Saturday afternoon: Sunday
    ("来週末の10時", NOW, at(2026, 12, 5, 10, 0)),
    ("再来週末10時", NOW, at(2026, 12, 12, 10, 0)),
])
def test_the_weekend_is_its_saturday(text, now, expected):
    when, title = parse_when(f"{text} 報告書", now)
    assert when.at == expected and when.recurrence is None and title == "報告書"


@pytest.mark.parametrize("text,recurrence", [
    ("毎週平日 9時 メールチェック", Recurrence("weekdays", 9, 0)),
    ("毎平日9時 メールチェック", Recurrence("weekdays", 9, 0)),
    ("毎週 金曜 16時 メールチェック", Recurrence("weekly", 16, 0, weekday=4)),
    ("毎月 5日 10時 メールチェック", Recurrence("monthly_day", 10, 0, day=5)),
    ("毎月 末 17時 メールチェック", Recurrence("monthly_last", 17, 0)),
])
def test_recurrence_words_are_read_with_their_expression_and_never_left_in_the_title(text, recurrence):
    when, title = parse_when(text, NOW)
    assert when.recurrence == recurrence and title == "メールチェック"
