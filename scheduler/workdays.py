"""Business days and quiet hours, in Japan's time.

Holidays come from jpholiday (maintained, with the substitute and citizens' holidays), not from a
hand-written list that someone must remember to update every year.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday

TZ = ZoneInfo("Asia/Tokyo")
QUIET_START = time(20, 0)   # no pushes from 20:00 …
QUIET_END = time(8, 0)      # … until 08:00, unless the user asked for that time


def is_business_day(d: date) -> bool:
    """A day the offices work: not Saturday, Sunday, a national holiday, nor 12月29日〜1月3日 (the
    closed days of 行政機関の休日に関する法律, which health centres and town halls keep)."""
    return day_off(d) is None


def day_off(d: date) -> str | None:
    """Why ``d`` is no business day (「日曜」「元日」「年末年始」), or None when it is one."""
    if d.weekday() >= 5:
        return "土曜" if d.weekday() == 5 else "日曜"
    if name := jpholiday.is_holiday_name(d):
        return name
    if (d.month, d.day) >= (12, 29) or (d.month, d.day) <= (1, 3):
        return "年末年始"
    return None


def nearest_business_day(d: date, start: date, end: date) -> date | None:
    """The business day nearest ``d`` within ``start``..``end`` (the earlier one of two as near:
    after a discharge, sooner is safer), or None when the span has none."""
    for k in range(0, (end - start).days + 1):
        for c in (d - timedelta(days=k), d + timedelta(days=k)):
            if start <= c <= end and is_business_day(c):
                return c
    return None


def in_quiet_hours(t: datetime) -> bool:
    local = t.astimezone(TZ).time()
    return local >= QUIET_START or local < QUIET_END


def end_of_quiet(t: datetime) -> datetime:
    """The first moment after quiet hours that contain ``t``."""
    local = t.astimezone(TZ)
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=TZ)


def local(t: datetime) -> datetime:
    return t.astimezone(TZ)


def week_start(d: date) -> date:
    """The Monday of ``d``'s week (weeks run Monday to Sunday, as the weekly summary counts them)."""
    return d - timedelta(days=d.weekday())


NIGHT_START = time(22, 0)   # a time set from 22:00 …
NIGHT_END = time(6, 0)      # … until 06:00 is read back with a question (午前3時 or 15時?)


def is_night(t: datetime) -> bool:
    local = t.astimezone(TZ).time()
    return local >= NIGHT_START or local < NIGHT_END
