"""Japanese date/time expressions for reminders: 「明日14時」「来週火曜の10時半」「毎月第2水曜14時」.

Why our own parser: general-purpose libraries (dateparser, ja-timex) silently mis-resolve several of
these forms (来週, 午後15時, a month/day without a year), and a reminder that fires on the wrong day is
worse than a refusal. So every form here is a small pattern in a table, resolved by rules that are
written down, and anything impossible, past or ambiguous raises :class:`TimeError` with a short
Japanese sentence and an example that works — the chat handler shows it to the user as is.

How a text is read:

1. NFKC normalisation, so full-width digits, colons, slashes and spaces (「１２／５　１３：００」) are
   the ordinary ASCII ones. The title returned is taken from this normalised text.
2. The text is scanned left to right; at each position every *head* in the tables below is tried
   (a day, a recurrence, a relative time, or a bare time of day), a day or recurrence may be
   followed by an optional 「の」/space and a time of day, and the longest expression wins.
3. Exactly one complete expression (one that fixes a moment) must be found; a stray day word
   elsewhere (「明日 ピア交流会 14時」) or two expressions make the text ambiguous and it is refused
   rather than guessed.

Definitions decided here (the engine and the handlers rely on them):

* A week runs Monday–Sunday. 今週X is X of this week (refused in ``parse_when`` if it is past),
  来週X the X of the following week, 再来週X the one after, 先週X the previous week's.
* A bare weekday (金曜16時) and a bare day of month (5日10時) mean the next such day, today
  included: these cycles are short, so "the coming one" is what people mean. If that is today and
  the time has passed (月曜8時 on a Monday at 9:00) it is refused, with 「来週月曜 8時」 as the
  example, rather than silently moved a week on.
* A month/day without a year is the nearest such date (within about six months either way). If
  that nearest date is past, ``parse_when`` refuses it instead of jumping a year ahead: on 11/23,
  「11/20 10時」 is far more likely a slip than a reminder for next November, and the message shows
  how to write the year. 1/8 written in late November is nearest in January, so it is next year.
* Relative expressions count from now on the wall clock, to the minute (seconds are dropped):
  3日後 is the same time of day three days on, 2時間後 two hours on.
* A time of day is required for a reminder unless the expression is relative. 0時 is midnight,
  12時 noon; 24時 and later are refused, as are 午前12時/午後12時 and 夜12時 (people disagree on
  whether they mean noon or midnight).
* 「一時」 standing alone is not read as 1:00, because 一時保護・一時帰宅・一時的 are everyday words in
  this field; 「明日一時」「一時半」「午後一時」 are still times.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from .workdays import is_business_day

__all__ = ["TZ", "Recurrence", "When", "TimeError", "parse_when", "parse_date", "readback", "fmt_date", "nfkc",
           "is_time_of_day",
           "long_mark_run", "MARK_RUN_MAX"]

TZ = ZoneInfo("Asia/Tokyo")
WEEKDAYS = "月火水木金土日"  # index = datetime.weekday()

# Examples shown when nothing better fits. Each is "DAY TIME" so a date-only example is its first word.
_EX_WHEN = ("明日 14時", "12/5 13:00", "毎週金曜 16時")
_EX_DATE = ("12/1", "12月1日", "昨日")


class TimeError(ValueError):
    """Not understood, impossible, past, or ambiguous.

    ``str(e)`` is a short Japanese sentence saying what was wrong, followed by 「例：」 and forms that
    work, ready to be shown to the user."""


def _fail(problem: str, *examples: str) -> TimeError:
    return TimeError(problem + "例：" + "".join(f"「{e}」" for e in examples))


# --------------------------------------------------------------------------------------------------
# Results


KINDS = ("weekly", "biweekly", "monthly_nth", "weekdays", "daily", "monthly_day", "monthly_last")


@dataclass(frozen=True)
class Recurrence:
    """A repeating reminder. Occurrences are computed on the Tokyo wall clock. 「平日」 means the days
    the offices work (scheduler.workdays): staff who ask for a reminder 「平日9時」 are off on a national
    holiday and over 年末年始, and a reminder then would wait unread until the next working day."""

    kind: str  # "weekly", "biweekly", "monthly_nth", "weekdays", "daily", "monthly_day", "monthly_last"
    hour: int
    minute: int
    weekday: int | None = None  # 0 = Monday … 6 = Sunday, for weekly / monthly_nth
    nth: int | None = None  # 1–5; a month without that nth weekday is skipped
    day: int | None = None  # for monthly_day; a month without that day is skipped
    # biweekly: the date (ISO) of one occurrence, which fixes the weeks it falls in; kept in the stored
    # rule, so 隔週 keeps its rhythm across restarts, 延期 and changes of the clock.
    start: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown recurrence kind {self.kind!r}")
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ValueError(f"bad time {self.hour}:{self.minute}")
        if self.kind == "biweekly":
            if self.start is None or self.weekday is None or date.fromisoformat(self.start).weekday() != self.weekday:
                raise ValueError("biweekly needs a start date on its weekday")
        if self.kind in ("weekly", "biweekly", "monthly_nth") and not (self.weekday is not None and 0 <= self.weekday <= 6):
            raise ValueError(f"{self.kind} needs a weekday 0–6")
        if self.kind == "monthly_nth" and not (self.nth is not None and 1 <= self.nth <= 5):
            raise ValueError("monthly_nth needs nth 1–5")
        if self.kind == "monthly_day" and not (self.day is not None and 1 <= self.day <= 31):
            raise ValueError("monthly_day needs day 1–31")

    def _day_in_month(self, year: int, month: int) -> int | None:
        """The day of ``month`` this recurrence falls on, or None when that month has none."""
        last = calendar.monthrange(year, month)[1]
        if self.kind == "monthly_last":
            return last
        if self.kind == "monthly_day":
            return self.day if self.day <= last else None
        first_weekday = date(year, month, 1).weekday()
        day = 1 + (self.weekday - first_weekday) % 7 + 7 * (self.nth - 1)
        return day if day <= last else None

    def _on(self, d: date) -> datetime:
        return datetime(d.year, d.month, d.day, self.hour, self.minute, tzinfo=TZ)

    def next_after(self, t: datetime) -> datetime:
        """The first occurrence strictly after ``t`` (any tz-aware datetime), in Asia/Tokyo."""
        t = _local(t)
        if self.kind in ("daily", "weekdays", "weekly"):
            # 16 days: the longest run of days off (年末年始 with weekends and holidays) is shorter
            for i in range(16):
                d = t.date() + timedelta(days=i)
                if self.kind == "weekdays" and not is_business_day(d):
                    continue
                if self.kind == "weekly" and d.weekday() != self.weekday:
                    continue
                if (at := self._on(d)) > t:
                    return at
        elif self.kind == "biweekly":
            start = date.fromisoformat(self.start)
            for i in range(15):
                d = t.date() + timedelta(days=i)
                if (d - start).days % 14 == 0 and (at := self._on(d)) > t:
                    return at
        else:
            year, month = t.year, t.month
            for _ in range(48):  # a 5th weekday or a 31st comes round well within this
                day = self._day_in_month(year, month)
                if day is not None and (at := self._on(date(year, month, day))) > t:
                    return at
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise RuntimeError(f"no occurrence found for {self!r}")  # unreachable for valid values

    def describe(self) -> str:
        """「毎週金曜 16:00」「隔週火曜 10:00」「毎月第2水曜 14:00」「平日 9:00」「毎日 7:00」「毎月5日 10:00」
        「毎月月末 10:00」"""
        hm = f"{self.hour}:{self.minute:02d}"
        if self.kind == "weekly":
            return f"毎週{WEEKDAYS[self.weekday]}曜 {hm}"
        if self.kind == "biweekly":
            return f"隔週{WEEKDAYS[self.weekday]}曜 {hm}"
        if self.kind == "monthly_last":
            return f"毎月月末 {hm}"
        if self.kind == "monthly_nth":
            return f"毎月第{self.nth}{WEEKDAYS[self.weekday]}曜 {hm}"
        if self.kind == "weekdays":
            return f"平日 {hm}"
        if self.kind == "daily":
            return f"毎日 {hm}"
        return f"毎月{self.day}日 {hm}"


@dataclass(frozen=True)
class When:
    at: datetime  # the first (or only) occurrence, tz-aware Asia/Tokyo
    recurrence: Recurrence | None  # None: once
    matched: str  # the part of the (normalised) input that was the time expression


# --------------------------------------------------------------------------------------------------
# Numbers: ASCII digits after NFKC, or kanji numerals (十四, 三十, 二〇二六).

_KDIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}
_KANJI_NUM = "(?:[一二三四五六七八九]?十[一二三四五六七八九]?|[〇零一二三四五六七八九]{1,4})"
# #N: a number in either script; #D: ASCII digits only (for 12/5 and 13:00). Neither starts inside
# a longer number.
_N = rf"(?:(?<![0-9])[0-9]{{1,4}}|(?<![〇零一二三四五六七八九十]){_KANJI_NUM})"
_D = r"(?<![0-9])[0-9]{1,2}"


def _num(s: str) -> int:
    if s.isascii():
        return int(s)
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_KDIGIT[tens] if tens else 1) * 10 + (_KDIGIT[ones] if ones else 0)
    n = 0
    for ch in s:
        n = n * 10 + _KDIGIT[ch]
    return n


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("#N", _N).replace("#D", _D))


_WD = "(?P<wd>[月火水木金土日])曜日?"
_PAREN_WD = r"(?:\s*+\((?P<pwd>[月火水木金土日])(?:曜日?)?\))?"  # 「12/5(土)」; NFKC made （） ASCII

# --------------------------------------------------------------------------------------------------
# Time of day


_AMPM = r"\s?+(?P<ampm>[aApP])\.?[mM]\.?(?![A-Za-z])"
_TIME = _re(
    r"(?:(?P<period>午前|午後|朝|昼|夕方|夕|夜|晩)\s*+(?:の\s*+)?)?"
    r"(?:(?P<h>#N)(?:時|じ)(?!間|かん)(?:(?P<half>半|はん)|(?P<mi>#N)分(?!間|後))?"
    r"|(?P<hh>#D):(?P<mm>[0-9]{2})(?![0-9])(?!" + _AMPM.replace("?P<ampm>", "") + r"))"
    r"(?:頃|ごろ)?"
    r"|(?P<noon>正午)"
    r"|(?P<ah>#D)(?::(?P<am>[0-9]{2}))?" + _AMPM +
    # A word that names a time by itself (明日の午後, 金曜の夕方, 朝イチ), only where it stands as a
    # word: 朝食, 朝の会, 翌朝 or 今朝 are no 9:00.
    r"|(?<![今毎明翌早])(?P<word>朝イチ|朝いち|朝一番|朝一|朝|夕方|午後)"
    r"(?:で|(?=$|[\s、,。!]|に|から|まで|は|頃|ごろ))"  # 「朝イチで電話」: the で goes with the time
)
# What each of those words means, written down here (the read-back shows the time, so a different
# habit is caught before it is stored).
TIME_WORDS = {"朝イチ": (9, 0), "朝いち": (9, 0), "朝一番": (9, 0), "朝一": (9, 0), "朝": (9, 0),
              "夕方": (17, 0), "午後": (13, 0)}
_JOIN = re.compile(r"[ \t、,]*+(?:の[ \t]*+)?")  # between a day and its time: 「明後日の午前10時」
_RANGE = re.compile(r"(?<!\s)\s*+(?:[~〜\-−–—―ー]|から)\s*+")  # 「13:00〜15:00」: the start time is the reminder

# period: (hours read on a 12-hour clock, what to add to them, hours already written in 24-hour form).
# An hour in neither range is refused because the intended time is unclear (夜3時, 朝2時).
_PERIODS: dict[str, tuple[range, int, range]] = {
    "午前": (range(0, 12), 0, range(0)),
    "午後": (range(0, 12), 12, range(0)),
    "朝": (range(4, 12), 0, range(0)),
    "昼": (range(1, 4), 12, range(11, 16)),
    "夕方": (range(3, 8), 12, range(15, 20)),
    "夜": (range(6, 12), 12, range(18, 24)),
}
_PERIODS["夕"] = _PERIODS["夕方"]
_PERIODS["晩"] = _PERIODS["夜"]


def _time_of(m: re.Match[str], implied_period: str | None) -> tuple[int, int]:
    """(hour, minute) of a _TIME match, or TimeError when no such time exists or it is unclear."""
    if m.group("noon"):
        return 12, 0
    if m.group("word"):
        return TIME_WORDS[m.group("word")]
    text = m.group(0)
    if m.group("ampm"):
        h, mi = int(m.group("ah")), int(m.group("am") or 0)
        if not 1 <= h <= 12 or mi > 59:
            raise _fail(f"「{text}」という時刻はありません。", "2pm", "14時")
        if h == 12:
            raise _fail(f"「{text}」は正午か夜中の0時かがはっきりしません。", "正午", "12時", "0時")
        return (h + 12 if m.group("ampm") in "pP" else h), mi
    if m.group("hh") is not None:
        h, mi = int(m.group("hh")), int(m.group("mm"))
    else:
        h = _num(m.group("h"))
        mi = 30 if m.group("half") else _num(m.group("mi")) if m.group("mi") else 0
    if mi > 59:
        raise _fail(f"「{text}」という時刻はありません。分は0〜59で書いてください。", "14時30分", "14:30")
    if h > 23:
        raise _fail(f"「{text}」という時刻はありません。0時〜23時で書いてください。", "13時", "13:00", "明日 0時")
    period = m.group("period") or implied_period
    if period is None:
        return h, mi
    if not m.group("period"):
        text = period + text
    if period in ("午前", "午後") and h >= 12:
        if h == 12:
            raise _fail(f"「{text}」は正午か夜中の0時かがはっきりしません。", "正午", "12時", "0時")
        raise _fail(f"「{text}」は午前・午後と24時間の書き方が混ざっています。",
                    f"{period}{h - 12}時", f"{h}時")
    twelve, shift, twenty_four = _PERIODS[period]
    if h in twelve:
        return h + shift, mi
    if h in twenty_four:
        return h, mi
    raise _fail(f"「{text}」がいつなのかはっきりしません。", "朝9時", "夜8時", "20時")


# --------------------------------------------------------------------------------------------------
# Days, recurrences and relative times: what each head of the table resolves to.


@dataclass(frozen=True)
class _Day:
    """A day, fixed or to be chosen among ``choices`` (ascending) by ``rule``:
    "nearest" for a month/day without a year, "next" for a bare weekday or day of month."""

    choices: tuple[date, ...]
    label: str  # the text, for messages
    rule: str = "fixed"
    period: str | None = None  # implied by 今夜・明朝 …
    keep_time: bool = False  # 3日後 without a time keeps the current time
    check_weekday: str | None = None  # 「12/5(土)」: must agree with the date


@dataclass(frozen=True)
class _Rec:
    kind: str
    weekday: int | None = None
    nth: int | None = None
    day: int | None = None
    period: str | None = None


@dataclass(frozen=True)
class _Rel:
    minutes: int


def _offset(days: int, period: str | None = None) -> Callable[[re.Match[str], date], _Day]:
    return lambda m, today: _Day((today + timedelta(days=days),), m.group(0), period=period)


def _relative_days(unit: int) -> Callable[[re.Match[str], date], _Day]:
    """N日後 / N週間後 (forward: keeps the current time when no time is given) and N日前 / N週間前."""

    def resolve(m: re.Match[str], today: date) -> _Day:
        n = _num(m.group("n"))
        if n == 0 or n > 3660 // abs(unit):
            raise _fail(f"「{m.group(0)}」は日数として扱えません。", "3日後", "1週間後 10時")
        return _Day((today + timedelta(days=n * unit),), m.group(0), keep_time=unit > 0)

    return resolve


def _check_month_day(m: re.Match[str], month: int, day: int, year: int | None = None) -> None:
    example = ("12月5日 13時", "12/5 13:00")
    if not 1 <= month <= 12 or day < 1:
        raise _fail(f"「{m.group(0)}」という日付はありません。", *example)
    last = calendar.monthrange(year if year is not None else 2000, month)[1]  # 2000: 2/29 exists
    if day > last:
        raise _fail(f"「{m.group(0)}」という日付はありません。{month}月は{last}日までです。", *example)


def _ymd(m: re.Match[str], today: date) -> _Day:
    y, mo, d = _num(m.group("y")), _num(m.group("m")), _num(m.group("d"))
    if y < 1:  # a Python date starts at year 1; 0000/1/1 is a slip, not a date
        raise _fail(f"「{m.group(0)}」という日付はありません。", "2026/12/5 13時", "12/5 13:00")
    _check_month_day(m, mo, d, y)
    return _Day((date(y, mo, d),), m.group(0), check_weekday=m.group("pwd"))


def _md(m: re.Match[str], today: date) -> _Day:
    """A month/day without a year: the same date last year, this year and next year are the choices;
    the nearest one is taken (see the module docstring for why not simply the next one)."""
    mo, d = _num(m.group("m")), _num(m.group("d"))
    _check_month_day(m, mo, d)
    choices = []
    for y in (today.year - 1, today.year, today.year + 1):
        if d <= calendar.monthrange(y, mo)[1]:
            choices.append(date(y, mo, d))
    if not choices or min(abs((c - today).days) for c in choices) > 200:  # only 2/29 can get here
        raise _fail(f"「{m.group(0)}」は今年の前後にはありません。年も書いてください。",
                    f"{_next_leap(today.year)}/{mo}/{d} 10時")
    return _Day(tuple(choices), m.group(0), rule="nearest", check_weekday=m.group("pwd"))


def _next_leap(year: int) -> int:
    while not calendar.isleap(year):
        year += 1
    return year


def _add_months(d: date, n: int) -> tuple[int, int]:
    k = d.year * 12 + d.month - 1 + n
    return k // 12, k % 12 + 1


def _month_rel_day(m: re.Match[str], today: date) -> _Day:
    shift = {"先月": -1, "今月": 0, "来月": 1, "再来月": 2}[m.group("rel")]
    y, mo = _add_months(today, shift)
    d = _num(m.group("d"))
    if not 1 <= d <= calendar.monthrange(y, mo)[1]:
        raise _fail(f"「{m.group(0)}」（{mo}月{d}日）という日付はありません。", "来月5日 10時", "12/5 13:00")
    return _Day((date(y, mo, d),), m.group(0), check_weekday=m.group("pwd"))


def _day_only(m: re.Match[str], today: date) -> _Day:
    """「5日」: a day of the month, the next one that exists (or the nearest, for parse_date)."""
    d = _num(m.group("d"))
    if not 1 <= d <= 31:
        raise _fail(f"「{m.group(0)}」という日付はありません。", "5日 14時", "12月5日 13時")
    choices = []
    for shift in range(-1, 3):
        y, mo = _add_months(today, shift)
        if d <= calendar.monthrange(y, mo)[1]:
            choices.append(date(y, mo, d))
    return _Day(tuple(choices), m.group(0), rule="next", check_weekday=m.group("pwd"))


def _month_end(m: re.Match[str], today: date) -> _Day:
    """「月末」: the last day of this month, or the next month's once it is past (the nearest, for
    parse_date); 「来月末」「今月末」: that month's; 「12月末」: the nearest December's."""
    g = m.groupdict()

    def last(y: int, mo: int) -> date:
        return date(y, mo, calendar.monthrange(y, mo)[1])

    if g.get("rel"):
        y, mo = _add_months(today, {"先月": -1, "今月": 0, "来月": 1, "再来月": 2}[g["rel"]])
        return _Day((last(y, mo),), m.group(0))
    if g.get("m"):
        mo = _num(g["m"])
        if not 1 <= mo <= 12:
            raise _fail(f"「{m.group(0)}」という日付はありません。", "12月末 10時", "月末 10時")
        return _Day(tuple(last(y, mo) for y in (today.year - 1, today.year, today.year + 1)), m.group(0),
                    rule="nearest")
    return _Day(tuple(last(*_add_months(today, k)) for k in (-1, 0, 1)), m.group(0), rule="next")


def _week_weekday(m: re.Match[str], today: date) -> _Day:
    """今週/来週/再来週/先週/先々週 + weekday; weeks run Monday to Sunday."""
    weeks = {"先々週": -2, "先週": -1, "今週": 0, "来週": 1, "再来週": 2}[m.group("wk")]
    monday = today - timedelta(days=today.weekday())
    return _Day((monday + timedelta(weeks=weeks, days=WEEKDAYS.index(m.group("wd"))),), m.group(0))


def _weekend(m: re.Match[str], today: date) -> _Day:
    """「週末」「今週末」: this week's Saturday; once its time has passed, the Sunday; after that the next Saturday;
    「来週末」「再来週末」: that week's Saturday.  Saturday, because a reminder for the weekend is for
    its first day, and 週末 on an office's calendar starts when Friday's work ends."""
    weeks = {"来週": 1, "再来週": 2}.get(m.group("wk") or "", 0)
    saturday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks, days=5)
    if weeks:
        return _Day((saturday,), m.group(0))
    # This weekend's days, then the next weekend's: the first not yet past is taken (the time of day
    # is weighed where the day is put together with it)
    days = (saturday, saturday + timedelta(days=1), saturday + timedelta(weeks=1), saturday + timedelta(days=8))
    return _Day(days, m.group(0), rule="weekend")


def _nth_without_month(m: re.Match[str], today: date) -> _Day:
    """「第2水曜」 without 毎月 could be this month's or every month's: ask. (毎月第2水曜 is a
    recurrence head, tried at 毎, so it never reaches this.)"""
    nth, wd = _num(m.group("nth")), WEEKDAYS.index(m.group("wd"))
    y, mo = _add_months(today, 1)
    day = Recurrence("monthly_nth", 0, 0, weekday=wd, nth=min(max(nth, 1), 4))._day_in_month(y, mo)
    raise _fail(f"「{m.group(0)}」が今月だけか毎月かが分かりません。",
                f"毎月{m.group(0)} 14時", f"{mo}/{day} 14時")


def _plain_weekday(m: re.Match[str], today: date) -> _Day:
    wd = WEEKDAYS.index(m.group("wd"))
    choices = tuple(today + timedelta(days=i) for i in range(-3, 7) if (today.weekday() + i) % 7 == wd)
    return _Day(choices, m.group(0), rule="next")


def _rec(kind: str, period: str | None = None) -> Callable[[re.Match[str], date], _Rec]:
    def resolve(m: re.Match[str], today: date) -> _Rec:
        groups = m.groupdict()
        weekday = WEEKDAYS.index(groups["wd"]) if groups.get("wd") else None
        nth = _num(groups["nth"]) if groups.get("nth") else None
        day = _num(groups["d"]) if groups.get("d") else None
        if nth is not None and not 1 <= nth <= 5:
            raise _fail(f"「{m.group(0)}」はありません。第1〜第5で書いてください。", "毎月第2水曜 14時")
        if day is not None and not 1 <= day <= 31:
            raise _fail(f"「{m.group(0)}」という日はありません。", "毎月5日 10時")
        implied = period or {"毎朝": "朝", "毎晩": "夜"}.get(groups.get("every") or "")
        return _Rec(kind, weekday, nth, day, implied)

    return resolve


def _rel(m: re.Match[str], today: date) -> _Rel:
    g = m.groupdict()
    minutes = (_num(g["h"]) * 60 if g.get("h") else 0) + (30 if g.get("half") else 0)
    minutes += _num(g["mi"]) if g.get("mi") else 0
    if minutes == 0:
        raise _fail(f"「{m.group(0)}」では今と同じ時刻です。", "30分後", "2時間後")
    return _Rel(minutes)


@dataclass(frozen=True)
class _Head:
    kind: str  # "day", "rec", "rel", "time"
    pattern: re.Pattern[str]
    resolve: Callable[[re.Match[str], date], object]


def _heads(kind: str, table: list[tuple[str, Callable]]) -> list[_Head]:
    return [_Head(kind, _re(p), f) for p, f in table]


# Order matters only between equally long matches at the same position.
_DAY_HEADS = _heads("day", [
    (r"今日|本日", _offset(0)),
    (r"今朝", _offset(0, "朝")),
    (r"今夜|今晩", _offset(0, "夜")),
    (r"明日|あした", _offset(1)),
    (r"明朝", _offset(1, "朝")),
    (r"明晩", _offset(1, "夜")),
    (r"明後日|あさって", _offset(2)),
    (r"明々後日|明明後日|しあさって", _offset(3)),
    (r"昨日|きのう", _offset(-1)),
    (r"一昨日|おととい", _offset(-2)),
    (r"(?P<n>#N)日(?:後|あと)", _relative_days(1)),
    (r"(?P<n>#N)週間(?:後|あと)", _relative_days(7)),
    (r"(?P<n>#N)日前", _relative_days(-1)),
    (r"(?P<n>#N)週間前", _relative_days(-7)),
    (r"(?P<y>[0-9]{4})(?P<sep>[/.\-])(?P<m>#D)(?P=sep)(?P<d>#D)(?![0-9])" + _PAREN_WD, _ymd),
    (r"(?P<y>[0-9]{4}|[〇零一二三四五六七八九]{4})年(?P<m>#N)月(?P<d>#N)日" + _PAREN_WD, _ymd),
    (r"(?<![0-9/])(?P<m>#D)/(?P<d>#D)(?![0-9/])" + _PAREN_WD, _md),
    (r"(?P<m>#N)月(?P<d>#N)日" + _PAREN_WD, _md),
    (r"(?P<rel>先月|今月|来月|再来月)の?(?P<d>#N)日" + _PAREN_WD, _month_rel_day),
    (r"(?:(?P<rel>先月|今月|来月|再来月)|(?P<m>#N)月|月)末", _month_end),
    (r"(?P<d>#N)日(?!後|前|間|目|分|以|ぶり|おき|ごと|中|付|曜)" + _PAREN_WD, _day_only),
    (r"(?P<wk>先々週|先週|今週|来週|再来週)の?" + _WD, _week_weekday),
    (r"(?:(?P<wk>今週|来週|再来週)|週)末", _weekend),
    (r"第(?P<nth>#N)の?" + _WD, _nth_without_month),
    (r"(?:次の|今度の)?" + _WD, _plain_weekday),
])
# A recurrence word is part of its expression also when a space follows it (「毎週 金曜」) and
# before 平日 (「毎週平日」「毎平日」): left behind it would be read as a one-off, or leak into the title.
_REC_HEADS = _heads("rec", [
    (r"毎週?\s*+の?\s*+" + _WD, _rec("weekly")),  # 毎週金曜, 毎金曜, 毎日曜(日) = every Sunday
    (r"毎月\s*+の?\s*+第(?P<nth>#N)の?" + _WD, _rec("monthly_nth")),
    (r"毎月\s*+の?\s*+(?P<d>#N)日", _rec("monthly_day")),
    (r"毎月\s*+の?\s*+月?末", _rec("monthly_last")),
    (r"隔週\s*+の?\s*+" + _WD, _rec("biweekly")),
    (r"(?:毎週?\s*+の?\s*+)?平日の?(?P<every>毎朝|毎日|毎晩)?", _rec("weekdays")),
    (r"毎朝", _rec("daily", "朝")),
    (r"毎晩|毎夜", _rec("daily", "夜")),
    (r"毎夕", _rec("daily", "夕方")),
    (r"毎日", _rec("daily")),
])
_REL_HEADS = _heads("rel", [
    (r"(?P<h>#N)時間(?P<half>半)?(?:(?P<mi>#N)分)?(?:後|あと)", _rel),
    (r"(?P<mi>#N)分(?:後|あと)", _rel),
])

# Words that name no moment. They are reported only when nothing better was found, or when the
# only expression is a bare time (「来週 14時」 must not become today 14:00).
_VAGUE: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    (re.compile(r"そのうち|いつか|近いうち|近々|あとで|後で|今度|どこか|いつでも|早めに"),
     "「{w}」では日時が決まりません。", _EX_WHEN[:2]),
    (re.compile(r"先々週|再来週|先週|来週|今週"), "「{w}」だけでは何曜日か分かりません。",
     ("来週火曜 10時", "今週金曜 15時")),
    (re.compile(r"再来月|先月|来月|今月"), "「{w}」だけでは何日か分かりません。", ("来月5日 10時", "12/5 13:00")),
    (re.compile(r"週末"), "「{w}」だけでは何曜日か分かりません。", ("土曜 10時",)),
    (re.compile(r"月初め|月初|年末|年明け|年内"), "「{w}」だけでは何日か分かりません。", ("12月28日 10時",)),
    (re.compile(r"毎週|毎月|隔週"), "「{w}」のあとに曜日か日にちを書いてください。",
     ("毎週金曜 16時", "隔週火曜 10時", "毎月5日 10時")),
    (_re(r"第#Nの?[月火水木金土日]曜"), "「{w}」は毎月のことですか。「毎月」を付けてください。",
     ("毎月第2水曜 14時",)),
    (_re(r"[0-9](?<![0-9].)[0-9]?月(?!\s*+[0-9])"), "「{w}」だけでは何日か分かりません。", ("12月5日 13時",)),
]


# --------------------------------------------------------------------------------------------------
# Scanning


@dataclass
class _Hit:
    start: int
    end: int
    head: _Head
    match: re.Match[str]
    time: re.Match[str] | None  # time of day attached to a day/recurrence, or the bare time itself
    value: object = None  # what head.resolve returned
    hm: tuple[int, int] | None = None

    @property
    def complete(self) -> bool:
        """Fixes a moment by itself (a reminder needs nothing more)."""
        if self.head.kind in ("rel", "time"):
            return True
        return self.hm is not None or (self.head.kind == "day" and self.value.keep_time)


_TIME_HEAD = _Head("time", _TIME, lambda m, today: None)


def _range_end(s: str, end: int) -> int:
    """Swallow the end of a range (「13:00〜15:00」), so it is neither a second time nor in the title."""
    r = _RANGE.match(s, end)
    if r and (t := _TIME.match(s, r.end())):
        _time_of(t, None)  # an impossible end time is still an error
        return t.end()
    return end


# At most this many expressions in one text, and this many places that looked like the start of one
# but were not (「3日目」「2月」): a reminder has one expression, and a text with more than this is
# refused at once instead of being read to its end in Python.
MAX_EXPRESSIONS = 20
MAX_FALSE_STARTS = 500
_K = "〇零一二三四五六七八九十"  # the characters of a kanji number (#N)


def _starts_pattern() -> re.Pattern[str]:
    """Where a head (or a bare time of day) may start: more places than that, but few in ordinary
    text: a head's first word, or a number followed by the unit a head needs after it.  Every
    alternative begins with one literal character, which lets ``re`` look for the set of those
    characters in C, so a 40,000-character message costs milliseconds.  The property test
    ``test_every_expression_start_is_found`` checks that no head can start anywhere else; when a head
    is added to the tables, add its first word here."""
    wd = "[月火水木金土日]曜"
    n = f"[0-9{_K}]"
    alts = []
    for d in "0123456789":
        alts.append(rf"{d}(?<![0-9].)[0-9]{{0,3}}(?:[日週月時分じ]|:[0-9]|/[0-9]|\s?[aApP])")  # #N, #D: never inside a number
        alts.append(rf"{d}[0-9]{{3}}[/.\-年]")  # a year may be: 12026/12/5 reads 2026/12/5
    for k in _K:
        alts.append(rf"{k}(?<![{_K}].)[{_K}]{{0,3}}[日週月時分じ]")
        if k != "十":
            alts.append(rf"{k}[〇零一二三四五六七八九]{{3}}年")
    for w in ("午前", "午後", "朝", "昼", "夕方", "夕", "夜", "晩"):  # a time of day after its period
        alts.append(rf"{w}\s*+(?:の\s*+)?{n}")
    alts += ["正午", "今日", "本日", "今朝", "今夜", "今晩", "明日", "あした", "明朝", "明晩", "明後日", "あさって",
             "明々後日", "明明後日", "しあさって", "昨日", "きのう", "一昨日", "おととい", "平日",
             "月末", "隔週", "朝", "夕方", "午後"]
    alts += [rf"{w}(?:の?{n}|末)" for w in ("先月", "今月", "来月", "再来月")]
    alts += [rf"{w}の?{wd}" for w in ("先々週", "先週", "今週", "来週", "再来週", "次の", "今度の")]
    alts += ["週末", "今週末", "来週末", "再来週末"]
    alts += [rf"第{n}{{1,4}}の?{wd}",
             rf"毎(?:週?\s*+の?\s*+(?:{wd}|平日)|月\s*+の?\s*+[第0-9{_K}月末]|[朝晩夜夕日])"]
    alts += [f"{c}曜" for c in "月火水木金土日"]
    return re.compile("|".join(alts))


_STARTS = _starts_pattern()


def _scan(s: str, today: date, mode: str) -> list[_Hit]:
    """All expressions in ``s``, left to right, longest first at each position, not overlapping.
    Impossible values (13月, 25時) raise here: someone wrote a date, and it cannot be meant.

    Positions where no head can start are skipped in C (see _starts_pattern), and a text with more
    than MAX_EXPRESSIONS expressions or MAX_FALSE_STARTS false starts is refused: so a 40,000-character
    message costs milliseconds, whatever it holds."""
    heads = _DAY_HEADS + (_REC_HEADS + _REL_HEADS if mode == "when" else [])
    hits: list[_Hit] = []
    false_starts = 0
    i = 0
    while (found := _STARTS.search(s, i)) is not None:
        i = found.start()
        best: _Hit | None = None
        for head in heads:
            if not (m := head.pattern.match(s, i)):
                continue
            hit = _Hit(i, m.end(), head, m, None)
            if mode == "when" and head.kind in ("day", "rec"):
                if t := _TIME.match(s, _JOIN.match(s, m.end()).end()):
                    hit.time, hit.end = t, _range_end(s, t.end())
            if best is None or hit.end > best.end:
                best = hit
        # A bare 「一時」 is 一時保護・一時帰宅 far more often than 1:00 (see the module docstring).
        if mode == "when" and (t := _TIME.match(s, i)) and t.group(0) != "一時":
            if best is None or t.end() > best.end:
                best = _Hit(i, _range_end(s, t.end()), _TIME_HEAD, t, t)
        if best is None:
            false_starts += 1
            if false_starts > MAX_FALSE_STARTS:
                raise _fail("数字や日付らしい言葉が多すぎて、日時を読み取れません。短くしてください。", *_EX_WHEN[:2])
            i += 1
            continue
        best.value = best.head.resolve(best.match, today)
        if best.time is not None:
            best.hm = _time_of(best.time, getattr(best.value, "period", None))
        hits.append(best)
        if len(hits) > MAX_EXPRESSIONS:
            what = "日時" if mode == "when" else "日付"
            raise _fail(f"{what}が多すぎます（{MAX_EXPRESSIONS}か所を超えています）。1つにしてください。", *_EX_WHEN[:2])
        i = best.end
    return hits


def _vague_words(s: str, hits: list[_Hit]) -> list[tuple[int, str, tuple[str, ...]]]:
    found = []
    for pattern, message, examples in _VAGUE:
        for m in pattern.finditer(s):
            if not any(h.start < m.end() and m.start() < h.end for h in hits):
                found.append((m.start(), message.format(w=m.group(0)), examples))
    return sorted(found)


def _pick(day: _Day, today: date, mode: str) -> date:
    """Choose among a _Day's choices; see the module docstring for the rules."""
    if len(day.choices) == 1:
        d = day.choices[0]
    elif mode == "date" or day.rule == "nearest":
        d = min(day.choices, key=lambda c: (abs((c - today).days), c < today))
    else:
        d = next(c for c in day.choices if c >= today)  # rule "next" or "weekend"
    if day.check_weekday and WEEKDAYS[d.weekday()] != day.check_weekday:
        written = day.label.split("(")[0].strip()
        raise _fail(f"{d.month}月{d.day}日は{WEEKDAYS[d.weekday()]}曜日です（「{day.label}」）。"
                    "日付か曜日を確かめてください。", f"{written}({WEEKDAYS[d.weekday()]}) 13:00")
    return d


# --------------------------------------------------------------------------------------------------
# Public functions


def _local(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return t.astimezone(TZ)


def _normalize(text: str) -> str:
    return nfkc(text)


# CPython puts a run of combining marks in canonical order by insertion, so NFKC of one letter with
# thousands of marks costs the square of their number (20,000 marks: seconds).  Nobody writes more
# than a few marks on a letter; Unicode's stream-safe format allows 30.
MARK_RUN_MAX = 30
# The only characters of combining class 0 whose decomposition starts with a mark (Unicode 14/15);
# tests/test_hostile_text.py checks this list against the running Python's tables.
MARK_LIKE = "\u0f73\u0f75\u0f81\uff9e\uff9f"
_AS_MARK = str.maketrans(dict.fromkeys(MARK_LIKE, "\u0301"))
_LONG_RUN = re.compile(rb"[^\x00]{%d,}" % (MARK_RUN_MAX + 1))


def _mark_classes(text: str) -> bytes:
    """One byte per character: its canonical combining class (0 for a starter)."""
    return bytes(map(unicodedata.combining, text.translate(_AS_MARK)))


def long_mark_run(text: str) -> bool:
    """True when ``text`` has more than MARK_RUN_MAX combining marks in a row (no one types that)."""
    return not text.isascii() and _LONG_RUN.search(_mark_classes(text)) is not None


def nfkc(text: str) -> str:
    """NFKC in linear time: a run of more than MARK_RUN_MAX marks is normalised in pieces of that
    many (their order within the run is then not canonical, which matters to nobody)."""
    if text.isascii():  # NFKC leaves ASCII as it is
        return text
    runs = list(_LONG_RUN.finditer(_mark_classes(text)))
    if not runs:
        return unicodedata.normalize("NFKC", text)
    parts, start = [], 0
    for run in runs:
        for cut in range(run.start() + MARK_RUN_MAX, run.end(), MARK_RUN_MAX):
            parts.append(unicodedata.normalize("NFKC", text[start:cut]))
            start = cut
    parts.append(unicodedata.normalize("NFKC", text[start:]))
    return "".join(parts)


# 「…をリマインドして」: a bare noun such as 通知 is left alone (「会議の通知」 is a fine title).
# Every alternative starts with a written character (「を」 is written out in front of each request
# rather than made optional), so ``re`` finds the candidates with a scan in C.
_REQUEST = r"(?:リマインダー|リマインド(?:して|する)?|(?:通知|お知らせ)して|知らせて|教えて)"
_REQUEST_SUFFIX = re.compile(
    rf"(?:を{_REQUEST}|って{_REQUEST}|と{_REQUEST}|リマインダー|リマインド(?:して|する)?|通知して|お知らせして|知らせて|教えて)"
    r"(?:ください|下さい|ほしい|欲しい|ね|お願いします|お願い)?[\s。.!?]*+$"
)
_LEADING_PARTICLE = re.compile(r"^(?:までに|まで|から|には|に|の|は)")  # only right after the expression
_SPACES = re.compile(r"\s+")


def _strip_trailing_particle(text: str) -> str:
    """「会議の資料を」 → 「会議の資料」: one particle at the very end, and the white space around it
    (what a search for 「white space, particle, white space, end」 did, without a search from every
    position: that costs the square of a long run of spaces)."""
    stripped = text.rstrip()
    if stripped and stripped[-1] in "をは、,":
        return stripped[:-1].rstrip()
    return text


def _title(s: str, start: int, end: int) -> str:
    """The text around the expression, without the particle that joined them and without a
    trailing request (「…をリマインドして」)."""
    left, right = s[:start], s[end:]
    left = _strip_trailing_particle(left.rstrip())
    right = _LEADING_PARTICLE.sub("", right)
    title = " ".join(p for p in (left.strip(), right.strip(" \t、,。:")) if p)
    title = _REQUEST_SUFFIX.sub("", title)
    title = _strip_trailing_particle(title)
    return _SPACES.sub(" ", title).strip(" 、,。")


def _fmt_dt(t: datetime, now: datetime | None = None) -> str:
    t = _local(t)
    year = f"{t.year}年" if now is not None and t.year != _local(now).year else ""
    return f"{year}{fmt_date(t.date())} {t.hour}:{t.minute:02d}"


def _hm_example(h: int, mi: int) -> str:
    return f"{h}時{mi}分" if mi else f"{h}時"


def parse_when(text: str, now: datetime) -> tuple[When, str]:
    """Find the one time expression in ``text``, resolve it against ``now`` and return it with the
    rest of the text (the title).

    The expression may be anywhere (「明日14時にピア交流会の準備をリマインドして」 gives the title
    「ピア交流会の準備」). A time of day is required unless the expression is relative (3日後 keeps
    the current time, 2時間後, 30分後). Raises TimeError when there is no expression, or it is
    impossible, in the past, or ambiguous — a reminder set for a guessed moment is worse than a
    question back to the user."""
    local_now = _local(now)
    today = local_now.date()
    s = _normalize(text or "")
    if not s.strip():
        raise _fail("日時が書かれていません。", *_EX_WHEN)
    hits = _scan(s, today, "when")
    complete = [h for h in hits if h.complete]
    if len(complete) > 1:
        shown = "と".join(f"「{s[h.start:h.end].strip()}」" for h in complete[:3])
        raise _fail(f"日時が{len(complete)}つあります（{shown}）。1つにしてください。", _EX_WHEN[0])
    if not complete:
        if hits:
            hit = hits[0]
            if hit.head.kind == "day":
                d = _pick(hit.value, today, "when")
                if d < today:
                    raise _past(hit.value, d, None, today)
                example = hit.value.label
            else:
                example = hit.match.group(0)
            raise _fail(f"「{hit.match.group(0)}」だけでは時刻が分かりません。時刻も書いてください。",
                        f"{example} 14時", f"{example} 9時半")
        if vague := _vague_words(s, hits):
            _, message, examples = vague[0]
            raise _fail(message, *examples)
        raise _fail("日時が見つかりません。", *_EX_WHEN, "3日後", "30分後")

    hit = complete[0]
    if hit.head.kind == "time":
        if others := [h for h in hits if h is not hit]:
            other = others[0].match.group(0)
            raise _fail(f"「{other}」と「{hit.match.group(0)}」は続けて書いてください。",
                        f"{other} {hit.match.group(0)}")
        if vague := _vague_words(s, hits):
            _, message, examples = vague[0]
            raise _fail(message, *examples)

    matched = s[hit.start:hit.end].strip()
    recurrence = None
    wall = local_now.replace(second=0, microsecond=0, tzinfo=None)  # wall-clock arithmetic
    if hit.head.kind == "rel":
        at = (wall + timedelta(minutes=hit.value.minutes)).replace(tzinfo=TZ)
    elif hit.head.kind == "rec":
        rec = hit.value
        start = None
        if rec.kind == "biweekly":  # the first one is the coming such weekday; then every other week
            start = Recurrence("weekly", *hit.hm, weekday=rec.weekday).next_after(local_now).date().isoformat()
        recurrence = Recurrence(rec.kind, *hit.hm, weekday=rec.weekday, nth=rec.nth, day=rec.day, start=start)
        at = recurrence.next_after(local_now)
    else:
        d = today if hit.head.kind == "time" else _pick(hit.value, today, "when")
        h, mi = hit.hm if hit.hm is not None else (wall.hour, wall.minute)
        at = datetime(d.year, d.month, d.day, h, mi, tzinfo=TZ)
        if at <= local_now and hit.head.kind != "time" and hit.value.rule == "weekend":
            # 「今週末10時」 on Saturday afternoon is the weekend's Sunday; late on Sunday, the next Saturday
            at = next(a for a in (datetime.combine(c, at.timetz()) for c in hit.value.choices) if a > local_now)
        if at <= local_now:
            if hit.head.kind == "time":
                raise _fail(f"今日の{h}:{mi:02d}はもう過ぎています。", f"明日 {_hm_example(h, mi)}")
            raise _past(hit.value, d, (h, mi), today)
    return When(at=at, recurrence=recurrence, matched=matched), _title(s, hit.start, hit.end)


def _past(day: _Day, d: date, hm: tuple[int, int] | None, today: date) -> TimeError:
    when = fmt_date(d) + (f" {hm[0]}:{hm[1]:02d}" if hm else "")
    time_ex = _hm_example(*hm) if hm else "10時"
    if day.rule == "nearest":  # a month/day without a year: say how to mean next year
        return _fail(f"{when}はもう過ぎています。来年のことなら年も書いてください。",
                     f"{d.year + 1}/{d.month}/{d.day} {time_ex}")
    if "曜" in day.label:
        return _fail(f"{when}はもう過ぎています。", f"来週{WEEKDAYS[d.weekday()]}曜 {time_ex}")
    if day.label.endswith("末"):
        return _fail(f"{when}はもう過ぎています。", f"来月末 {time_ex}")
    return _fail(f"{when}はもう過ぎています。", f"明日 {time_ex}")


def is_time_of_day(text: str) -> bool:
    """「15時」「10:30」「午後3時」: a time of day and nothing else (no day, no 「後」), which a change
    of an existing reminder applies to that reminder's own day."""
    return _TIME.fullmatch(nfkc(text).strip()) is not None


def parse_date(text: str, now: datetime) -> tuple[date, str]:
    """A date only, for records such as 「退院 K-012 12/1」; past dates are allowed (a discharge that
    happened last week). Anything without a year or a week is the *nearest* such date: 12/1 within
    about six months either way, 火曜 within three days either way, 5日 within half a month —
    because a record is as likely to be about what just happened as about what is coming.
    Returns the date and the rest of the text."""
    today = _local(now).date()
    s = _normalize(text or "")
    if not s.strip():
        raise _fail("日付が書かれていません。", *_EX_DATE)
    try:
        hits = _scan(s, today, "date")
    except TimeError as e:  # the shared resolvers give reminder examples; a date needs no time
        raise _without_times(e) from None
    if len(hits) > 1:
        shown = "と".join(f"「{h.match.group(0)}」" for h in hits[:3])
        raise _fail(f"日付が{len(hits)}つあります（{shown}）。1つにしてください。", _EX_DATE[0])
    if not hits:
        if vague := _vague_words(s, hits):
            _, message, examples = vague[0]
            raise _fail(message, *(e.split(" ")[0] for e in examples))
        raise _fail("日付が見つかりません。", *_EX_DATE)
    hit = hits[0]
    return _pick(hit.value, today, "date"), _title(s, hit.start, hit.end)


def _without_times(e: TimeError) -> TimeError:
    problem, _, examples = str(e).partition("例：")
    dates = dict.fromkeys(x.split(" ")[0] for x in re.findall(r"「([^「」]*)」", examples))
    return _fail(problem, *dates)


def fmt_date(d: date) -> str:
    """「12月1日(火)」"""
    return f"{d.month}月{d.day}日({WEEKDAYS[d.weekday()]})"


def readback(when: When, now: datetime | None = None) -> str:
    """What the bot says back: 「12月8日(火) 10:30」, or for a recurrence
    「毎週金曜 16:00（初回 11月27日(金) 16:00）」. With ``now``, a year other than now's year is
    shown (「2027年1月8日(金) 9:30」), so a date that rolled over into next year cannot pass unnoticed."""
    first = _fmt_dt(when.at, now)
    if when.recurrence is None:
        return first
    if when.recurrence.kind == "weekdays":
        return f"{when.recurrence.describe()}（祝日・年末年始は休み。初回 {first}）"
    return f"{when.recurrence.describe()}（初回 {first}）"
