"""What a reminder, an event notice, a visit notice, the morning digest and the weekly summary say.

The reminder engine (scheduler.service) decides when and to whom; this module, handed to it by the
wiring as its ``Compose``, decides the words and buttons, so the engine needs no chat types.

Every button sends words a user could type too (「完了 #12」, 「延期 明日 #12」), so the terminal chat
and people who prefer typing can do the same.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from scheduler import store
from scheduler.workdays import TZ

from bot import messages
from bot.reports import summary
from bot.chat.core import Choice, Reply, Text


def reminder_choices(r) -> tuple[Choice, ...]:
    n = f"#{r.id}"
    if r.kind == "event" and r.is_group:
        return (Choice("参加", f"参加 #E{r.event_id}"), Choice("不参加", f"不参加 #E{r.event_id}"))
    pick = Choice("延期（日付を選ぶ）", f"延期 {{date}} {n}", pick_date=True)
    if r.kind == "visit":
        return (Choice("完了", f"完了 {n}"), Choice("会えなかった", f"会えなかった {n}"),
                Choice("延期（明日）", f"延期 明日 {n}"), Choice("延期（来週）", f"延期 来週 {n}"), pick,
                Choice("あとで記録", f"あとで記録 {n}"))
    return (Choice("完了", f"完了 {n}"), Choice(f"{messages.SNOOZE_MINUTES}分後", f"スヌーズ {n}"),
            Choice("延期（明日）", f"延期 明日 {n}"), Choice("延期（来週）", f"延期 来週 {n}"), pick)


def reminder_replies(db, r, *, late: bool) -> list[Reply]:
    if r.kind == "event" and r.event_id:
        ev = store.event(db, r.event_id)
        counts = store.rsvp_counts(db, r.event_id)
        text = messages.event_text(messages.fmt_when(store.from_utc(ev["starts_at"]).astimezone(TZ)), ev["title"],
                                   counts["yes"], counts["no"], late)
    elif r.kind == "visit" and r.visit_id:
        v = store.visit(db, r.visit_id)
        window = f"{messages.fmt_day(_d(v['window_start']))}〜{messages.fmt_day(_d(v['window_end']))}"
        text = messages.visit_text(r.title, window, late)
    else:
        text = messages.reminder_text(messages.fmt_when(r.due_at.astimezone(TZ)), r.title, late)
    return [Text(text, reminder_choices(r))]


def digest_replies(db, platform: str, user: str, now: datetime) -> list[Reply]:
    today = now.astimezone(TZ).date()
    visits = store.open_visits(db, platform, user, today)
    due_today = [f"{v['case_code']}（{v['label']}）" for v in visits if v["due"] == today.isoformat()]
    # past its day but inside its window: still to do, not overdue (a plan registered late)
    due_today += [f"{v['case_code']}（{v['label']}、期間は{messages.fmt_day(_d(v['window_end']))}まで）"
                  for v in visits if v["due"] < today.isoformat() <= v["window_end"]]
    overdue = [f"{v['case_code']}（{v['label']}、予定日 {messages.fmt_day(_d(v['due']))}）"
               for v in visits if v["window_end"] < today.isoformat()]
    start = datetime.combine(today, datetime.min.time(), tzinfo=TZ)
    end = start + timedelta(days=7 - today.weekday())
    week = [f"{messages.fmt_when(store.from_utc(e['starts_at']).astimezone(TZ))} {e['title']}"
            for e in store.events_between(db, platform, user, max(start, now), end)]  # not one already begun
    missed = [f"{messages.fmt_when(r.due_at.astimezone(TZ))} {r.title}" for r in store.missed(db, platform, user)]
    if not (due_today or overdue or week or missed):
        return []
    return [Text(messages.digest(messages.fmt_day(today), due_today, overdue, week, missed))]


def _d(s: str) -> date:
    return date.fromisoformat(s)


def send_weekly_summary(db, today: date, platform: str, pusher, target: str, key: str) -> bool:
    """Last week's report counts: on Slack a chart of the last 8 weeks with the counts as its
    comment, elsewhere one message."""
    text = summary.text(db, today)
    if platform == "slack" and hasattr(pusher, "upload"):
        return pusher.upload(target, summary.chart(db, today), filename="reports-8-weeks.png",
                             title=messages.WEEKLY_CHART_TITLE, comment=text + "\n" + summary.legend())
    return pusher.push(target, [Text(text)], key)
