"""The weekly summary of field reports: counts by type and area for last week, and (on Slack) a
chart of the last 8 weeks, so that a team sees its week without anyone retyping it."""
from __future__ import annotations

from datetime import date, timedelta

from scheduler.workdays import week_start

from bot import messages
from bot.reports.records import TYPES


def counts(db, start: date, end: date, column: str) -> dict[str, int]:
    """Active reports in [start, end) by ``column`` ('type' or 'area')."""
    assert column in ("type", "area")
    return dict(db.execute(f"SELECT {column}, COUNT(*) FROM reports WHERE status = 'active' AND date >= ? "
                           f"AND date < ? GROUP BY {column} ORDER BY COUNT(*) DESC",
                           [start.isoformat(), end.isoformat()]).fetchall())


def weeks(db, today: date, n: int = 8) -> list[tuple[str, dict[str, int]]]:
    """The ``n`` whole weeks (Monday to Sunday) before this one, oldest first."""
    this = week_start(today)
    out = []
    for k in range(n, 0, -1):
        s = this - timedelta(weeks=k)
        out.append((f"{s.month}/{s.day}", counts(db, s, s + timedelta(days=7), "type")))
    return out


def text(db, today: date) -> str:
    start = week_start(today) - timedelta(weeks=1)
    end = start + timedelta(days=7)
    by_type = counts(db, start, end, "type")
    by_area = counts(db, start, end, "area")
    return messages.weekly_summary(
        f"{messages.fmt_day(start)}〜{messages.fmt_day(end - timedelta(days=1))}", sum(by_type.values()),
        [(t, by_type.get(t, 0)) for t in TYPES if by_type.get(t)], list(by_area.items()))


def chart(db, today: date) -> bytes:
    from bot.reports.charts import weekly_bars
    return weekly_bars(weeks(db, today))


def legend() -> str:
    """The chart has no Japanese text (no font to draw it with): the message names the colours."""
    from bot.reports.charts import COLOR_NAMES, TYPE_ORDER
    return "グラフの色：" + "・".join(f"{t}＝{COLOR_NAMES[t]}" for t in TYPE_ORDER)
