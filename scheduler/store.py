"""Reminders, events and visit plans in SQLite: the truth the scheduler's jobs are rebuilt from.

Times are stored as UTC ISO 8601 strings, so that SQL comparisons are plain string comparisons;
they are shown in Japan's time.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import yaml
from dateutil.relativedelta import relativedelta

from .timeparse import Recurrence
from .workdays import TZ, day_off, end_of_quiet, in_quiet_hours, is_business_day, nearest_business_day

PLANS_PATH = Path(__file__).parent / "plans.yaml"
EVENT_BEFORE = ((timedelta(days=1), time(17, 0)), (timedelta(hours=1), None))  # 前日17時、1時間前


def utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()


def from_utc(s: str) -> datetime:
    return datetime.fromisoformat(s)


@dataclass(frozen=True)
class Reminder:
    id: int
    kind: str
    platform: str
    owner: str
    target: str
    is_group: bool
    title: str
    due_at: datetime
    recurrence: Recurrence | None
    asked: bool
    status: str
    event_id: int | None
    visit_id: int | None

    @classmethod
    def from_row(cls, r) -> "Reminder":
        rec = Recurrence(**json.loads(r["recurrence"])) if r["recurrence"] else None
        return cls(r["id"], r["kind"], r["platform"], r["owner"], r["target"], bool(r["is_group"]), r["title"],
                   from_utc(r["due_at"]), rec, bool(r["asked"]), r["status"], r["event_id"], r["visit_id"])


def _rows(db, sql, params=()) -> list[dict]:
    return list(db.query(sql, params))  # sqlite-utils gives each row as a dict


def get(db, rid: int) -> Reminder | None:
    rows = _rows(db, "SELECT * FROM reminders WHERE id = ?", [rid])
    return Reminder.from_row(rows[0]) if rows else None


def active(db) -> list[Reminder]:
    return [Reminder.from_row(r) for r in _rows(db, "SELECT * FROM reminders WHERE status = 'active' ORDER BY due_at")]


def add_reminder(db, *, kind: str, platform: str, owner: str, target: str, is_group: bool, title: str,
                 due: datetime, recurrence: Recurrence | None, asked: bool, now: datetime,
                 event_id: int | None = None, visit_id: int | None = None, report_id: int | None = None) -> int:
    cur = db.execute(
        "INSERT INTO reminders (kind, platform, owner, target, is_group, title, due_at, recurrence, asked, "
        "event_id, visit_id, report_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [kind, platform, owner, target, int(is_group), title, utc(due),
         json.dumps(asdict(recurrence)) if recurrence else None, int(asked), event_id, visit_id, report_id,
         utc(now), utc(now)])
    return cur.lastrowid


def cancel_report_reminders(db, report_id: int, now: datetime) -> list[int]:
    """The reminders a report's 「次回」 set that have not fired yet, cancelled (the report withdrawn,
    or its 「次回」 corrected); their ids."""
    ids = [r["id"] for r in _rows(db, "SELECT id FROM reminders WHERE report_id = ? AND status = 'active'",
                                  [report_id])]
    for rid in ids:
        set_status(db, rid, "cancelled", now)
    return ids


def event_notices(starts: datetime, now: datetime) -> list[datetime]:
    """When an event is announced (the day before at 17:00, one hour before): those still ahead.
    A notice that falls in quiet hours is stored for their end, when the engine would send it; one
    that would then come at or after the start is not made at all (a notice after the event helps
    no one).  The chat reads these back before 「はい」, and add_event stores the same ones."""
    out = []
    for t in _event_notice_times(starts):
        if in_quiet_hours(t):
            t = end_of_quiet(t)
        if now < t < starts and t not in out:
            out.append(t)
    return out


def add_event(db, *, platform: str, owner: str, target: str, is_group: bool, title: str, starts: datetime,
              now: datetime) -> tuple[int, list[int]]:
    """An event and its reminders at ``event_notices``."""
    eid = db.execute("INSERT INTO events (platform, owner, target, is_group, title, starts_at, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [platform, owner, target, int(is_group), title, utc(starts), utc(now)]).lastrowid
    rids = [add_reminder(db, kind="event", platform=platform, owner=owner, target=target, is_group=is_group,
                         title=title, due=t, recurrence=None, asked=False, now=now, event_id=eid)
            for t in event_notices(starts, now)]
    return eid, rids


@lru_cache(maxsize=4)
def load_plans(path: Path = PLANS_PATH) -> dict:
    """The visit plans, read once per process (the router looks at them for every message;
    the README says to restart Nimo after editing the file)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class PlanRangeError(ValueError):
    """A visit of the plan (or its window) would fall outside the calendar Python has (years 1–9999)."""


def plan_dates(plan: dict, anchor: date) -> list["PlanVisit"]:
    """(label, due, window start, window end, planned) of each visit of a plan.  The window is the
    planned day's; a planned day the offices are closed (weekend, holiday, 年末年始) gives way to the
    nearest business day inside it (``planned`` keeps the day the plan's arithmetic gave, for the
    read-back).  Raises PlanRangeError for an anchor so near the ends of the calendar that a visit
    cannot be dated (9999/12/31)."""
    w = plan.get("window", {})
    out = []
    for v in plan["visits"]:
        try:
            planned = anchor + relativedelta(days=v.get("days", 0), months=v.get("months", 0))
            ws, we = planned - timedelta(days=w.get("before", 0)), planned + timedelta(days=w.get("after", 0))
        except (OverflowError, ValueError) as e:  # date arithmetic past year 9999 (or before year 1)
            raise PlanRangeError(str(e)) from None
        out.append(PlanVisit(v["label"], nearest_business_day(planned, ws, we) or planned, ws, we, planned))
    return out


def add_plan(db, *, platform: str, owner: str, target: str, area: str, case_code: str, plan_key: str,
             anchor: date, digest_time: time, now: datetime) -> int:
    """A plan, its visits, and a reminder for each visit whose window is still open (see
    ``visit_reminder_at``)."""
    plan = load_plans()[plan_key]
    pid = db.execute("INSERT INTO plans (platform, owner, area, case_code, plan, anchor, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [platform, owner, area, case_code, plan_key, anchor.isoformat(), utc(now)]).lastrowid
    for seq, (label, due, ws, we, _) in enumerate(plan_dates(plan, anchor), start=1):
        vid = db.execute("INSERT INTO visits (plan_id, seq, label, due, window_start, window_end, updated_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [pid, seq, label, due.isoformat(), ws.isoformat(), we.isoformat(), utc(now)]).lastrowid
        at = visit_reminder_at(due, we, digest_time, now)
        if at is not None:
            add_reminder(db, kind="visit", platform=platform, owner=owner, target=target, is_group=False,
                         title=f"{case_code} {plan['label']}（{label}）", due=at, recurrence=None, asked=False,
                         now=now, visit_id=vid)
    return pid


def mine(db, platform: str, user: str) -> list[Reminder]:
    """What 「予定」 lists: my active reminders and my open visits' reminders, soonest first."""
    return [Reminder.from_row(r) for r in _rows(
        db, "SELECT * FROM reminders WHERE platform = ? AND owner = ? AND status = 'active' ORDER BY due_at",
        [platform, user])]


def set_status(db, rid: int, status: str, now: datetime) -> None:
    db.execute("UPDATE reminders SET status = ?, updated_at = ? WHERE id = ?", [status, utc(now), rid])


def reschedule(db, rid: int, due: datetime, now: datetime, *, asked: bool | None = None) -> None:
    if asked is None:
        db.execute("UPDATE reminders SET due_at = ?, status = 'active', updated_at = ? WHERE id = ?",
                   [utc(due), utc(now), rid])
    else:
        db.execute("UPDATE reminders SET due_at = ?, asked = ?, status = 'active', updated_at = ? WHERE id = ?",
                   [utc(due), int(asked), utc(now), rid])


def record_action(db, *, reminder_id: int | None, visit_id: int | None, platform: str, user: str, action: str,
                  detail: str | None, now: datetime) -> None:
    db.execute("INSERT INTO reminder_actions (reminder_id, visit_id, platform, user, action, detail, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", [reminder_id, visit_id, platform, user, action, detail, utc(now)])


def set_visit(db, vid: int, status: str, now: datetime, reason: str | None = None) -> None:
    db.execute("UPDATE visits SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
               [status, reason, utc(now), vid])


def rsvp(db, event_id: int, platform: str, user: str, answer: str, now: datetime) -> dict[str, int]:
    db.execute("INSERT INTO rsvps (event_id, platform, user, answer, updated_at) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (event_id, platform, user) DO UPDATE SET answer = excluded.answer, "
               "updated_at = excluded.updated_at", [event_id, platform, user, answer, utc(now)])
    return rsvp_counts(db, event_id)


def rsvp_counts(db, event_id: int) -> dict[str, int]:
    counts = {"yes": 0, "no": 0}
    for answer, n in db.execute("SELECT answer, COUNT(*) FROM rsvps WHERE event_id = ? GROUP BY answer",
                                [event_id]).fetchall():
        counts[answer] = n
    return counts


def digest_time(db, platform: str, user: str) -> time:
    row = db.execute("SELECT digest_time FROM prefs WHERE platform = ? AND user = ?", [platform, user]).fetchone()
    h, m = (row[0] if row else "08:30").split(":")
    return time(int(h), int(m))


def set_digest_time(db, platform: str, user: str, t: time) -> None:
    db.execute("INSERT INTO prefs (platform, user, digest_time) VALUES (?, ?, ?) ON CONFLICT (platform, user) "
               "DO UPDATE SET digest_time = excluded.digest_time", [platform, user, t.strftime("%H:%M")])


def open_visits(db, platform: str, user: str, until: date) -> list[dict]:
    """Open visits of my active plans due on or before ``until``, with their plan."""
    return _rows(db, "SELECT v.*, p.case_code, p.plan, p.area FROM visits v JOIN plans p ON p.id = v.plan_id "
                     "WHERE p.platform = ? AND p.owner = ? AND p.status = 'active' AND v.status = 'open' "
                     "AND v.due <= ? ORDER BY v.due", [platform, user, until.isoformat()])


def area_visits(db, area: str, until: date) -> list[dict]:
    return _rows(db, "SELECT v.*, p.case_code, p.plan, p.owner FROM visits v JOIN plans p ON p.id = v.plan_id "
                     "WHERE p.area = ? AND p.status = 'active' AND v.status = 'open' AND v.due <= ? "
                     "ORDER BY v.due", [area, until.isoformat()])


def events_between(db, platform: str, user: str, start: datetime, end: datetime) -> list[dict]:
    return _rows(db, "SELECT * FROM events WHERE platform = ? AND owner = ? AND status = 'active' "
                     "AND starts_at >= ? AND starts_at < ? ORDER BY starts_at", [platform, user, utc(start), utc(end)])


def missed(db, platform: str, user: str) -> list[Reminder]:
    return [Reminder.from_row(r) for r in _rows(
        db, "SELECT * FROM reminders WHERE platform = ? AND owner = ? AND status = 'missed' ORDER BY due_at",
        [platform, user])]


# 「K-012」 and 「k012」 name one case (codes stored before they were written one way, too)
SAME_CODE = "replace(upper(p.case_code), '-', '') = replace(upper(?), '-', '')"


def case_visits(db, platform: str, case_code: str, *, owner: str | None = None, area: str | None = None) -> list[dict]:
    """Every visit of one case's active plans (whatever their state), of one owner's plans or of an
    area's, in order: what 「予定 K-012」 lists."""
    who, value = ("p.owner = ?", owner) if owner is not None else ("p.area = ?", area or "")
    return _rows(db, "SELECT v.*, p.case_code, p.plan, p.owner FROM visits v JOIN plans p ON p.id = v.plan_id "
                     f"WHERE p.platform = ? AND {SAME_CODE} AND {who} AND p.status = 'active' "
                     "ORDER BY v.due, v.seq", [platform, case_code, value])

def ended_case_plan(db, platform: str, case_code: str, *, owner: str | None = None,
                    area: str | None = None) -> dict | None:
    """The last plan of one case ended with 「計画終了」 (of one owner's or an area's, as
    :func:`case_visits`): its plan key, when it ended and why, from the visits it cancelled (both None
    when it had none left open); None when there is none."""
    who, value = ("p.owner = ?", owner) if owner is not None else ("p.area = ?", area or "")
    return _first(db, "SELECT p.id, p.plan, max(v.updated_at) AS ended_at, "
                      "max(CASE WHEN v.status = 'cancelled' THEN v.reason END) AS reason "
                      "FROM plans p LEFT JOIN visits v ON v.plan_id = p.id AND v.status = 'cancelled' "
                      f"WHERE p.platform = ? AND {SAME_CODE} AND {who} AND p.status = 'closed' "
                      "GROUP BY p.id ORDER BY p.id DESC LIMIT 1", [platform, case_code, value])


# -- reads and writes the chat and the console ask for (all SQL on these tables lives here) ------
def _first(db, sql, params) -> dict | None:
    rows = _rows(db, sql, params)
    return rows[0] if rows else None


def event(db, event_id: int) -> dict | None:
    return _first(db, "SELECT * FROM events WHERE id = ?", [event_id])


def visit(db, visit_id: int) -> dict | None:
    return _first(db, "SELECT * FROM visits WHERE id = ?", [visit_id])


def visit_in_window(db, case_code: str, platform: str, day: str) -> dict | None:
    """The open visit of an active plan for ``case_code`` whose window holds ``day`` (YYYY-MM-DD),
    the soonest due first: the one a field report of that day resolves."""
    return _first(db, f"SELECT v.* FROM visits v JOIN plans p ON p.id = v.plan_id WHERE {SAME_CODE} "
                      "AND p.platform = ? AND p.status = 'active' AND v.status = 'open' AND v.window_start <= ? "
                      "AND v.window_end >= ? ORDER BY v.due LIMIT 1", [case_code, platform, day, day])


def finish_visit(db, visit_id: int, now: datetime) -> None:
    """A visit done: it leaves the open ones, and its reminders still waiting are not sent."""
    set_visit(db, visit_id, "done", now)
    db.execute("UPDATE reminders SET status = 'done', updated_at = ? WHERE visit_id = ? AND status = 'active'",
               [utc(now), visit_id])


_SCOPED_VISITS = (
    "SELECT v.*, p.case_code, p.plan, p.area, p.platform, p.owner, p.status AS plan_status, u.display_name, "
    "(SELECT detail FROM reminder_actions a WHERE a.visit_id = v.id AND a.action = 'postpone' "
    " ORDER BY a.id DESC LIMIT 1) AS postponed_to, "
    "(SELECT created_at FROM reminder_actions a WHERE a.visit_id = v.id AND a.action = 'absent' "
    " ORDER BY a.id DESC LIMIT 1) AS absent_at "
    "FROM visits v JOIN plans p ON p.id = v.plan_id "
    "LEFT JOIN users u ON u.platform = p.platform AND u.user_id = p.owner "
    "WHERE p.status IN ({plans}) AND {scope} ")


def open_visits_in(db, scope: str, params: list, today: date, limit: int) -> list[dict]:
    """Open visits of active plans, the overdue ones (window past) first, with the owner's name and
    the last postponement.  ``scope`` is a condition on the plan ``p`` (its platform, owner, area)
    with its ``params``, as the console builds it for the viewer's role."""
    return _rows(db, _SCOPED_VISITS.format(plans="'active'", scope=scope) + "AND v.status = 'open' "
                 "ORDER BY (v.window_end < ?) DESC, v.due, v.id LIMIT ?", [*params, today.isoformat(), limit])


def closed_visits_in(db, scope: str, params: list, since: datetime, limit: int) -> list[dict]:
    """Visits done, unmet or cancelled since ``since``, the latest first (``scope`` as above); also
    those of plans closed (「計画終了」), so that the end of a plan is seen, with its reason."""
    return _rows(db, _SCOPED_VISITS.format(plans="'active', 'closed'", scope=scope) + "AND v.status != 'open' "
                 "AND v.updated_at >= ? ORDER BY v.updated_at DESC LIMIT ?", [*params, utc(since), limit])


def events_since(db, since: datetime, limit: int, *, area: str | None = None,
                 member: tuple[str, str] | None = None) -> list[dict]:
    """Active events from ``since`` on with their owner's name: all of them; those whose owner is in
    ``area``; or those ``member`` (platform, user) owns or has answered."""
    if member is not None:
        cond = ("((e.platform = ? AND e.owner = ?) OR EXISTS (SELECT 1 FROM rsvps x WHERE x.event_id = e.id "
                "AND x.platform = ? AND x.user = ?))")
        params = [*member, *member]
    elif area is not None:
        cond, params = "ou.area = ?", [area]
    else:
        cond, params = "1 = 1", []
    return _rows(db, "SELECT e.id, e.title, e.starts_at, e.is_group, e.platform, e.owner, ou.display_name "
                     "FROM events e LEFT JOIN users ou ON ou.platform = e.platform AND ou.user_id = e.owner "
                     f"WHERE e.status = 'active' AND e.starts_at >= ? AND {cond} ORDER BY e.starts_at LIMIT ?",
                 [utc(since), *params, limit])


def event_answers(db, event_id: int) -> list[dict]:
    """Who answered 参加 / 不参加 to an event (with their names), in the order they answered."""
    return _rows(db, "SELECT r.answer, r.platform, r.user, u.display_name FROM rsvps r LEFT JOIN users u "
                     "ON u.platform = r.platform AND u.user_id = r.user WHERE r.event_id = ? "
                     "ORDER BY r.updated_at", [event_id])


# -- visit plans on the calendar, events as one thing, rules that change,
# and the queries bot/handlers/remind.py ran itself --------------------------------------------------

class PlanVisit(NamedTuple):
    label: str
    due: date             # the day to visit: a business day inside the window when there is one
    window_start: date
    window_end: date
    planned: date         # the day the plan's arithmetic gave (differs from ``due`` when that was a day off)

    @property
    def moved_because(self) -> str | None:
        """「元日」「日曜」… when the planned day was a day off and the visit moved; else None."""
        return day_off(self.planned) if self.due != self.planned else None


def visit_reminder_at(due: date, window_end: date, digest_time: time, now: datetime) -> datetime | None:
    """When a visit is announced: the morning (``digest_time``) of its due day; when that is past but
    the window is still open (a plan registered late), the next business morning inside the window;
    None once the window has closed."""
    at = datetime.combine(due, digest_time, tzinfo=TZ)
    if at > now:
        return at
    d = now.astimezone(TZ).date()
    while d <= window_end:
        at = datetime.combine(d, digest_time, tzinfo=TZ)
        if at > now and is_business_day(d):
            return at
        d += timedelta(days=1)
    return None


def last_sent_to(db, platform: str, user: str, conversation: str) -> int | None:
    """The reminder most recently delivered to me or to this conversation (what 「完了」 without a
    number means)."""
    row = db.execute(
        "SELECT r.id FROM deliveries d JOIN reminders r ON r.id = d.reminder_id WHERE d.status = 'sent' "
        "AND r.platform = ? AND (r.owner = ? OR r.target = ?) ORDER BY d.sent_at DESC LIMIT 1",
        [platform, user, conversation]).fetchone()
    return row[0] if row else None


def last_cancelled_by(db, platform: str, user: str) -> int | None:
    """The reminder this user cancelled last (what 「元に戻す」 without a number means)."""
    row = db.execute("SELECT reminder_id FROM reminder_actions WHERE platform = ? AND user = ? AND action = 'cancel' "
                     "AND reminder_id IS NOT NULL ORDER BY id DESC LIMIT 1", [platform, user]).fetchone()
    return row[0] if row else None


def plan_notices(db, plan_id: int) -> list[tuple[str, datetime | None]]:
    """Each visit of a plan with the time it will be announced (None: not announced), in order."""
    return [(label, from_utc(due) if due else None) for label, due in db.execute(
        "SELECT v.label, MIN(r.due_at) FROM visits v LEFT JOIN reminders r ON r.visit_id = v.id "
        "AND r.status = 'active' WHERE v.plan_id = ? GROUP BY v.id ORDER BY v.seq", [plan_id]).fetchall()]


def _event_notice_times(starts: datetime) -> list[datetime]:
    """The notices an event would have with no night and no clock: the day before at 17:00, one hour before."""
    out = []
    for before, at in EVENT_BEFORE:
        t = starts.astimezone(TZ) - before
        out.append(datetime.combine(t.date(), at, tzinfo=TZ) if at is not None else t)
    return out


def event_notices_lost_to_night(starts: datetime, now: datetime) -> bool:
    """True when a notice still ahead is left out because quiet hours would hold it past the start
    (the read-back says so, rather than leave the user to wonder)."""
    return any(now < t and in_quiet_hours(t) and end_of_quiet(t) >= starts for t in _event_notice_times(starts))


def active_event(db, eid: int) -> dict | None:
    """An active event, or None."""
    rows = _rows(db, "SELECT * FROM events WHERE id = ? AND status = 'active'", [eid])
    return rows[0] if rows else None


def event_starts(db, eid: int) -> datetime | None:
    row = db.execute("SELECT starts_at FROM events WHERE id = ?", [eid]).fetchone()
    return from_utc(row[0]) if row else None


def cancel_event(db, eid: int, now: datetime) -> int:
    """The event ends, and every notice of it still waiting with it; how many notices were stopped."""
    db.execute("UPDATE events SET status = 'cancelled' WHERE id = ?", [eid])
    return db.execute("UPDATE reminders SET status = 'cancelled', updated_at = ? WHERE event_id = ? "
                      "AND status = 'active'", [utc(now), eid]).rowcount


def my_events(db, platform: str, user: str, now: datetime) -> list[dict]:
    """The events 「予定」 lists for me, soonest first: those I set up and those I answered 参加 to,
    not yet started.  ``mine`` says which I set up."""
    return _rows(db, "SELECT e.*, e.owner = ? AS mine FROM events e WHERE e.platform = ? AND e.status = 'active' "
                     "AND e.starts_at >= ? AND (e.owner = ? OR EXISTS (SELECT 1 FROM rsvps v WHERE v.event_id = e.id "
                     "AND v.platform = e.platform AND v.user = ? AND v.answer = 'yes')) ORDER BY e.starts_at",
                 [user, platform, utc(now), user, user])


def change_rule(db, rid: int, due: datetime, recurrence: Recurrence | None, now: datetime) -> None:
    """A reminder's time and rule together (「変更 1 毎週金曜16時」): the rule is what the engine
    moves it on by after each time."""
    db.execute("UPDATE reminders SET due_at = ?, recurrence = ?, asked = 1, status = 'active', updated_at = ? "
               "WHERE id = ?", [utc(due), json.dumps(asdict(recurrence)) if recurrence else None, utc(now), rid])


# -- close a whole visit plan, hand a case's plans to a colleague --
# The caller opens the transaction (``immediate``), so that what the chat queues with a change (a
# notice to the colleague) is written with it or not at all.

def case_plans(db, platform: str, case_code: str, *, owner: str | None = None,
               area: str | None = None) -> list[dict]:
    """The active plans of one case, of one owner or of an area (as ``case_visits``), each with
    ``open_visits``: how many of its visits are still open (what 「残り2回」 counts)."""
    who, value = ("p.owner = ?", owner) if owner is not None else ("p.area = ?", area or "")
    return _rows(db, "SELECT p.*, (SELECT COUNT(*) FROM visits v WHERE v.plan_id = p.id AND v.status = 'open') "
                     f"AS open_visits FROM plans p WHERE p.platform = ? AND {SAME_CODE} "
                     f"AND {who} AND p.status = 'active' ORDER BY p.id", [platform, case_code, value])


def plan_cases(db, platform: str, *, owner: str | None = None, area: str | None = None) -> list[str]:
    """The case codes with an active plan, of one owner or of an area, in the order first planned:
    the buttons of 「計画終了」 or 「引継ぎ」 sent without a case code."""
    who, value = ("owner = ?", owner) if owner is not None else ("area = ?", area or "")
    return [r["case_code"] for r in _rows(
        db, f"SELECT case_code, MIN(id) AS first FROM plans WHERE platform = ? AND {who} AND status = 'active' "
            "GROUP BY case_code ORDER BY first", [platform, value])]


def _still_active(db, plan_ids: list[int]) -> tuple[list[int], str]:
    """Those of ``plan_ids`` still active (another tap may have ended them), and their placeholders."""
    if not plan_ids:
        return [], ""
    marks = ",".join("?" * len(plan_ids))
    live = [r[0] for r in db.execute(f"SELECT id FROM plans WHERE id IN ({marks}) AND status = 'active'",
                                     list(plan_ids)).fetchall()]
    return live, ",".join("?" * len(live))


def close_plans(db, plan_ids: list[int], reason: str, now: datetime) -> int:
    """Plans end (readmitted, moved away…): each still active is closed, its open visits are
    cancelled with ``reason``, and their reminders still waiting (or missed, for the digest) are
    never sent.  How many visits were cancelled."""
    live, marks = _still_active(db, plan_ids)
    if not live:
        return 0
    db.execute(f"UPDATE plans SET status = 'closed' WHERE id IN ({marks})", live)
    db.execute(f"UPDATE reminders SET status = 'cancelled', updated_at = ? WHERE status IN ('active', 'missed') "
               f"AND visit_id IN (SELECT id FROM visits WHERE plan_id IN ({marks}) AND status = 'open')",
               [utc(now), *live])
    return db.execute(f"UPDATE visits SET status = 'cancelled', reason = ?, updated_at = ? WHERE status = 'open' "
                      f"AND plan_id IN ({marks})", [reason, utc(now), *live]).rowcount


def plan_targets(db, plan_ids: list[int]) -> list[str]:
    """Where the reminders still to come of these plans' open visits go (a user, or a channel)."""
    if not plan_ids:
        return []
    marks = ",".join("?" * len(plan_ids))
    return [r[0] for r in db.execute(
        "SELECT DISTINCT r.target FROM reminders r JOIN visits v ON v.id = r.visit_id WHERE v.plan_id IN "
        f"({marks}) AND v.status = 'open' AND r.status IN ('active', 'missed') ORDER BY r.target",
        list(plan_ids)).fetchall()]


def hand_over_plans(db, plan_ids: list[int], new_owner: str, now: datetime, *,
                    keep_targets: tuple[str, ...] = ()) -> int:
    """Active plans get a new owner, and so do the reminders still to come of their open visits,
    which go to the new owner from then on, except those sent to one of ``keep_targets`` (a team
    channel stays the channel).  How many plans changed hands."""
    live, marks = _still_active(db, plan_ids)
    if not live:
        return 0
    keep = list(keep_targets) or [None]  # ``target IN (NULL)`` holds for no row
    db.execute(f"UPDATE reminders SET owner = ?, target = CASE WHEN target IN ({','.join('?' * len(keep))}) "
               "THEN target ELSE ? END, updated_at = ? WHERE status IN ('active', 'missed') AND visit_id IN "
               f"(SELECT id FROM visits WHERE plan_id IN ({marks}) AND status = 'open')",
               [new_owner, *keep, new_owner, utc(now), *live])
    return db.execute(f"UPDATE plans SET owner = ? WHERE id IN ({marks})", [new_owner, *live]).rowcount


# -- a person who leaves hands over their work, or it is cancelled with a record --
# The caller opens the transaction (``immediate``), so the person's deactivation and what happens to
# their work are written together or not at all.

def owner_work(db, platform: str, user: str) -> dict[str, int]:
    """What ``user`` still holds: active visit plans, their open visits, and active (or missed, for
    the digest) reminders they own, whatever they are for."""
    plans, visits = db.execute(
        "SELECT COUNT(*), (SELECT COUNT(*) FROM visits v JOIN plans q ON q.id = v.plan_id WHERE q.platform = ? "
        "AND q.owner = ? AND q.status = 'active' AND v.status = 'open') FROM plans p WHERE p.platform = ? "
        "AND p.owner = ? AND p.status = 'active'", [platform, user, platform, user]).fetchone()
    reminders = db.execute("SELECT COUNT(*) FROM reminders WHERE platform = ? AND owner = ? "
                           "AND status IN ('active', 'missed')", [platform, user]).fetchone()[0]
    return {"plans": plans, "visits": visits, "reminders": reminders}


def _owned_plan_ids(db, platform: str, user: str) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM plans WHERE platform = ? AND owner = ? AND status = 'active'",
                                     [platform, user]).fetchall()]


def hand_over_all(db, platform: str, user: str, new_owner: str, by: str, now: datetime) -> dict[str, int]:
    """Everything ``user`` holds goes to ``new_owner`` (same platform): plans and their visits'
    reminders, their own reminders and events.  A reminder to a group stays in the group; one to
    the person's 1:1 chat goes to the new owner's.  Each moved reminder gets a 'hand_over' record."""
    work = owner_work(db, platform, user)
    groups = tuple(r[0] for r in db.execute(
        "SELECT DISTINCT target FROM reminders WHERE platform = ? AND owner = ? AND is_group = 1",
        [platform, user]).fetchall())
    moved = [r[0] for r in db.execute(
        "SELECT id FROM reminders WHERE platform = ? AND owner = ? AND status IN ('active', 'missed')",
        [platform, user]).fetchall()]
    hand_over_plans(db, _owned_plan_ids(db, platform, user), new_owner, now, keep_targets=groups)
    db.execute("UPDATE reminders SET owner = ?, target = CASE WHEN is_group = 0 AND target = ? THEN ? ELSE target END, "
               "updated_at = ? WHERE platform = ? AND owner = ? AND status IN ('active', 'missed')",
               [new_owner, user, new_owner, utc(now), platform, user])
    db.execute("UPDATE events SET owner = ? WHERE platform = ? AND owner = ? AND status = 'active'",
               [new_owner, platform, user])
    for rid in moved:
        record_action(db, reminder_id=rid, visit_id=None, platform=platform, user=by, action="hand_over",
                      detail=f"{user}->{new_owner} (removed)", now=now)
    return work


def cancel_all(db, platform: str, user: str, by: str, reason: str, now: datetime) -> dict[str, int]:
    """Everything ``user`` holds is cancelled with ``reason``: plans (status 'cancelled'), their open
    visits, their reminders; each cancelled reminder gets a 'cancel' record naming the reason."""
    work = owner_work(db, platform, user)
    plan_ids = _owned_plan_ids(db, platform, user)
    cancelled = [r[0] for r in db.execute(
        "SELECT id FROM reminders WHERE status IN ('active', 'missed') AND ((platform = ? AND owner = ?) OR "
        "visit_id IN (SELECT v.id FROM visits v JOIN plans p ON p.id = v.plan_id WHERE p.platform = ? "
        "AND p.owner = ? AND p.status = 'active' AND v.status = 'open'))", [platform, user, platform, user]).fetchall()]
    close_plans(db, plan_ids, reason, now)
    if plan_ids:
        db.execute(f"UPDATE plans SET status = 'cancelled' WHERE id IN ({','.join('?' * len(plan_ids))})", plan_ids)
    if cancelled:
        db.execute(f"UPDATE reminders SET status = 'cancelled', updated_at = ? WHERE id IN "
                   f"({','.join('?' * len(cancelled))})", [utc(now), *cancelled])
    for rid in cancelled:
        record_action(db, reminder_id=rid, visit_id=None, platform=platform, user=by, action="cancel",
                      detail=reason, now=now)
    return work


def target_removed(db, platform: str, target: str) -> bool:
    """The 1:1 chat ``target`` belongs to a person who was deactivated: nothing may be pushed there."""
    return db.execute("SELECT 1 FROM users WHERE platform = ? AND user_id = ? AND removed_at IS NOT NULL",
                      [platform, target]).fetchone() is not None
