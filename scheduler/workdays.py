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
    return d.weekday() < 5 and not jpholiday.is_holiday(d)


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
