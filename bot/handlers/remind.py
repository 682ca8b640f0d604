"""Reminders, events and follow-up visit plans from the chat.

Every time Nimo reads is said back with its weekday and must be confirmed (「はい」) before it is
stored; a time it cannot read is said to be not understood, with an example, never guessed.
The handlers only write rows: the scheduler (in whichever process runs it) picks them up.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict
from datetime import date, datetime, timedelta

from scheduler import store
from scheduler.timeparse import Recurrence, TimeError, parse_date, parse_when, readback
from scheduler.workdays import TZ

from .. import dialogs, messages
from ..access import OVERSEEING, get_user
from ..core import Choice, Incoming, Reply, Text
from ..routes import Conversation, Route, exact

YES_NO = (Choice("はい", "はい"), Choice("いいえ", "いいえ"))
REMIND_PREFIX = re.compile(r"^(リマインド|りまいんど|remind)\s*", re.I)
# Searched in every message: white space only after を/、 or where a run of it starts (a search that
# started again inside a run of spaces would scan the rest of the run each time).
REMIND_SUFFIX = re.compile(r"(?:を\s*+|、\s*+|(?<!\s)\s*+)(リマインド|りまいんど)(して|してください|してほしい|お願い(します)?)?"
                           r"[。！!]*+$")
EVENT_PREFIX = re.compile(r"^(イベント|行事)\s*")
CASE_CODE = re.compile(r"^[A-Za-z]{1,4}-?\d{1,6}$")
NAME_MARK = re.compile(r"(さん|様|さま|氏|くん|君|ちゃん)")
CONFIRM = "confirm"  # what waits for 「はい」: a reminder, event, plan or change read back
dialogs.conversation(Conversation("confirm", (CONFIRM,)))


def _now(app) -> datetime:
    return app.clock().astimezone(TZ)


def wants_reminder(text: str) -> bool:
    return bool(REMIND_PREFIX.match(text) or REMIND_SUFFIX.search(text))


def reminder(app, msg: Incoming, text: str) -> list[Reply]:
    body = REMIND_PREFIX.sub("", text, count=1)
    try:
        when, title = parse_when(body, _now(app))
    except TimeError as e:
        return [Text(f"{e}\n{messages.REMIND_EXAMPLE}")]
    title = REMIND_SUFFIX.sub("", title).strip(" 　、。")
    if not title:
        return [Text(messages.NO_TITLE)]
    app.dialogs.set(msg.platform, msg.user, CONFIRM, {
        "what": "reminder", "at": store.utc(when.at), "rec": asdict(when.recurrence) if when.recurrence else None,
        "title": title, "target": msg.conversation, "group": not msg.direct}, app.clock())
    return [Text(messages.confirm_reminder(readback(when, now=_now(app)), title, not msg.direct), YES_NO)]


def event(app, msg: Incoming, text: str) -> list[Reply]:
    body = EVENT_PREFIX.sub("", text, count=1)
    try:
        when, title = parse_when(body, _now(app))
    except TimeError as e:
        return [Text(f"{e}\n{messages.EVENT_EXAMPLE}")]
    if when.recurrence is not None:
        return [Text(messages.EVENT_ONCE)]
    if not title.strip():
        return [Text(messages.EVENT_NO_TITLE)]
    notices = [messages.fmt_when(t) for t in store.event_notices(when.at, _now(app))]
    app.dialogs.set(msg.platform, msg.user, CONFIRM, {
        "what": "event", "at": store.utc(when.at), "title": title.strip(), "target": msg.conversation,
        "group": not msg.direct}, app.clock())
    return [Text(messages.confirm_event(readback(when, now=_now(app)), title.strip(), notices), YES_NO)]


def plan(app, msg: Incoming, plan_key: str, rest: str) -> list[Reply]:
    parts = rest.split(maxsplit=1)
    if len(parts) < 2:
        return [Text(messages.NO_CASE_CODE)]
    code, when_text = parts
    if NAME_MARK.search(rest) or not CASE_CODE.match(code):
        return [Text(messages.NAME_NOT_CODE if NAME_MARK.search(rest) else messages.NO_CASE_CODE)]
    try:
        anchor, _ = parse_date(when_text, _now(app))
    except TimeError as e:
        return [Text(f"{e}\n{messages.PLAN_EXAMPLE}")]
    p = store.load_plans()[plan_key]
    try:
        dates = store.plan_dates(p, anchor)
    except store.PlanRangeError:  # 9999/12/31: a visit a month later is past the last date there is
        return [Text(messages.PLAN_DATE_OUT_OF_RANGE)]
    visits = [f"{label}：{messages.fmt_day(due)}（{messages.fmt_day(ws)}〜{messages.fmt_day(we)}）"
              for label, due, ws, we in dates]
    app.dialogs.set(msg.platform, msg.user, CONFIRM, {
        "what": "plan", "plan": plan_key, "code": code.upper(), "anchor": anchor.isoformat(),
        "target": msg.conversation}, app.clock())
    return [Text(messages.confirm_plan(code.upper(), p["label"], messages.fmt_day(anchor), visits), YES_NO)]


def confirm(app, msg: Incoming, yes: bool) -> list[Reply] | None:
    """「はい」/「いいえ」; None when nothing waits for it (the words are then a question)."""
    st = app.dialogs.get(msg.platform, msg.user, app.clock(), CONFIRM)
    if st is None:
        return None
    app.dialogs.clear(msg.platform, msg.user, CONFIRM)
    if not yes:
        return [Text(messages.CANCELLED_INPUT)]
    d = st.data
    now = app.clock()
    if d["what"] == "change":
        r = store.get(app.db, d["id"])
        store.reschedule(app.db, r.id, store.from_utc(d["at"]), now, asked=True)
        store.record_action(app.db, reminder_id=r.id, visit_id=r.visit_id, platform=msg.platform, user=msg.user,
                            action="change", detail=d["at"], now=now)
        return [Text(messages.postponed(r.title, messages.fmt_when(store.from_utc(d["at"]).astimezone(TZ))))]
    if d["what"] == "reminder":
        rid = store.add_reminder(app.db, kind="reminder", platform=msg.platform, owner=msg.user, target=d["target"],
                                 is_group=d["group"], title=d["title"], due=store.from_utc(d["at"]),
                                 recurrence=Recurrence(**d["rec"]) if d["rec"] else None, asked=True, now=now)
        return [Text(messages.saved(rid))]
    if d["what"] == "event":
        eid, rids = store.add_event(app.db, platform=msg.platform, owner=msg.user, target=d["target"],
                                    is_group=d["group"], title=d["title"], starts=store.from_utc(d["at"]), now=now)
        return [Text(messages.saved(rids[0] if rids else eid))]
    user = get_user(app.db, msg.platform, msg.user)
    store.add_plan(app.db, platform=msg.platform, owner=msg.user, target=msg.user if msg.platform != "slack" else d["target"],
                   area=user.area if user else "", case_code=d["code"], plan_key=d["plan"],
                   anchor=date.fromisoformat(d["anchor"]), digest_time=store.digest_time(app.db, msg.platform, msg.user),
                   now=now)
    n = len(store.load_plans()[d["plan"]]["visits"])
    return [Text(messages.saved_plan(n))]


def listing(app, msg: Incoming, everyone: bool = False) -> list[Reply]:
    if everyone:  # the route lets only supervisors and admins (and the terminal) this far, in 1:1
        user = get_user(app.db, msg.platform, msg.user)
        area = user.area if user else ""
        rows = store.area_visits(app.db, area, _now(app).date() + timedelta(days=31))
        if not rows:
            return [Text(messages.area_visits_none(area))]
        lines = [f"{messages.fmt_day(date.fromisoformat(v['due']))} {v['case_code']}（{v['label']}）担当 {v['owner']}"
                 for v in rows]
        return [Text(messages.area_visits(area, lines))]
    rows = store.mine(app.db, msg.platform, msg.user)
    if not rows:
        return [Text(messages.NO_PLANS)]
    lines = []
    for r in rows:
        when = r.recurrence.describe() if r.recurrence else messages.fmt_when(r.due_at.astimezone(TZ))
        extra = ""
        if r.kind == "event" and r.event_id:
            c = store.rsvp_counts(app.db, r.event_id)
            extra = f"（参加 {c['yes']}・不参加 {c['no']}）"
        lines.append(f"{r.id}) {when} {r.title}{extra}")
    return [Text(messages.listing(lines))]


def as_id(number: str) -> int | None:
    """A reminder or event number as typed (ASCII or full-width digits), or None when no row can have
    it: SQLite keeps ids below 2**63, and Python reads no more than 4,300 digits."""
    number = unicodedata.normalize("NFKC", number)
    if not (number.isascii() and number.isdigit()) or len(number) > 18:
        return None
    return int(number)


def _target(app, msg: Incoming, number: str | None):
    """The reminder a button or a typed command means: by number, else the last one sent to me.
    A number that cannot be a reminder's (see ``as_id``) is for the caller to refuse first."""
    if number:
        r = store.get(app.db, as_id(number))
    else:
        row = app.db.execute(
            "SELECT r.id FROM deliveries d JOIN reminders r ON r.id = d.reminder_id WHERE d.status = 'sent' "
            "AND r.platform = ? AND (r.owner = ? OR r.target = ?) ORDER BY d.sent_at DESC LIMIT 1",
            [msg.platform, msg.user, msg.conversation]).fetchone()
        r = store.get(app.db, row[0]) if row else None
    if r is None or r.platform != msg.platform or not (r.owner == msg.user or r.target == msg.conversation):
        return None
    return r


UNMET_REASONS = ("不在", "拒否", "入院中", "連絡がとれない", "その他")


def act(app, msg: Incoming, action: str, number: str | None, detail: str = "") -> list[Reply]:
    if number and as_id(number) is None:
        return [Text(messages.no_such_number(number))]
    r = _target(app, msg, number)
    if r is None:
        return [Text(messages.NO_RECENT)]
    if action == "unmet" and r.visit_id and not detail:  # ask why, with the reasons as buttons
        return [Text(messages.UNMET_WHY, tuple(Choice(x, f"会えなかった #{r.id} {x}") for x in UNMET_REASONS))]
    now = app.clock()
    store.record_action(app.db, reminder_id=r.id, visit_id=r.visit_id, platform=msg.platform, user=msg.user,
                        action=action, detail=detail or None, now=now)
    if action == "cancel":
        store.set_status(app.db, r.id, "cancelled", now)
    elif action == "done":
        if r.visit_id:
            store.set_visit(app.db, r.visit_id, "done", now)
        if r.recurrence is None:
            store.set_status(app.db, r.id, "done", now)
    elif action == "unmet" and r.visit_id:
        store.set_visit(app.db, r.visit_id, "unmet", now, reason=detail or None)
    return [Text(messages.done_action(action, r.title))]


def postpone(app, msg: Incoming, to: str, number: str | None) -> list[Reply]:
    if number and as_id(number) is None:
        return [Text(messages.no_such_number(number))]
    r = _target(app, msg, number)
    if r is None:
        return [Text(messages.NO_RECENT)]
    now = _now(app)
    base = r.due_at.astimezone(TZ)
    if to in ("明日", "あした"):
        new = datetime.combine(now.date() + timedelta(days=1), base.time(), tzinfo=TZ)
    elif to == "来週":
        new = datetime.combine(now.date() + timedelta(days=7), base.time(), tzinfo=TZ)
    elif to in ("スヌーズ",):
        new = now + timedelta(minutes=messages.SNOOZE_MINUTES)
    else:
        try:
            when, _ = parse_when(to, now)
            new = when.at
        except TimeError:
            try:
                d, _ = parse_date(to, now)
            except TimeError as e:
                return [Text(f"{e}\n{messages.POSTPONE_EXAMPLE}")]
            new = datetime.combine(d, base.time(), tzinfo=TZ)
    if new <= now:
        return [Text(messages.POSTPONE_PAST)]
    store.reschedule(app.db, r.id, new, app.clock(), asked=True)
    store.record_action(app.db, reminder_id=r.id, visit_id=r.visit_id, platform=msg.platform, user=msg.user,
                        action="snooze" if to == "スヌーズ" else "postpone", detail=store.utc(new), now=app.clock())
    return [Text(messages.postponed(r.title, messages.fmt_when(new)))]


def change(app, msg: Incoming, number: str, when_text: str) -> list[Reply]:
    if as_id(number) is None:
        return [Text(messages.no_such_number(number))]
    r = _target(app, msg, number)
    if r is None:
        return [Text(messages.NO_RECENT)]
    try:
        when, _ = parse_when(when_text, _now(app))
    except TimeError as e:
        return [Text(f"{e}\n{messages.change_example(number)}")]
    app.dialogs.set(msg.platform, msg.user, CONFIRM, {"what": "change", "id": r.id, "at": store.utc(when.at)},
                    app.clock())
    return [Text(messages.confirm_change(r.title, readback(when, now=_now(app))), YES_NO)]


def answer_event(app, msg: Incoming, answer: str, event_id: str) -> list[Reply]:
    eid = as_id(event_id)
    if eid is None:
        return [Text(messages.no_such_event(event_id))]
    ev = app.db.execute("SELECT title, platform, target FROM events WHERE id = ? AND status = 'active'",
                        [eid]).fetchone()
    if ev is None or ev[1] != msg.platform:
        return [Text(messages.EVENT_NOT_FOUND)]
    counts = store.rsvp(app.db, eid, msg.platform, msg.user, answer, app.clock())
    return [Text(messages.rsvp_counts(ev[0], answer, counts["yes"], counts["no"]))]


def set_digest(app, msg: Incoming, hhmm: str) -> list[Reply]:
    h, m = (int(x) for x in re.split(r"[:：]", hhmm))
    if not (0 <= h < 24 and 0 <= m < 60):
        return [Text(messages.DIGEST_TIME_BAD)]
    from datetime import time
    store.set_digest_time(app.db, msg.platform, msg.user, time(h, m))
    return [Text(messages.digest_time_set(f"{h}:{m:02d}"))]


# -- routes -------------------------------------------------------------------------------------
YES_WORDS = ("はい", "はい。", "ok", "ｏｋ", "うん", "お願いします", "おねがいします")
NO_WORDS = ("いいえ", "いいえ。", "やめる", "やめます", "キャンセル", "no")
# Possessive (*+, ++): white space, digits and the rest never overlap, so giving characters back
# could not help a match, and greedy runs side by side cost the cube of a run of spaces.
ACT = re.compile(r"^(完了|会えなかった|あとで記録|スヌーズ|取消|取り消し|キャンセル|削除)\s*+(?:#?([0-9]++))?\s*+(.*+)$")
CHANGE = re.compile(r"^変更\s*+#?([0-9０-９]++)\s++(.+)$")  # on the text as typed: full-width digits too
RSVP = re.compile(r"^(参加|不参加)\s*+#e([0-9]++)$")
DIGEST = re.compile(r"^朝の通知\s*+([0-9]{1,2}[:：][0-9]{2})$")
ACTIONS = {"完了": "done", "会えなかった": "unmet", "あとで記録": "later", "取消": "cancel", "取り消し": "cancel",
           "キャンセル": "cancel", "削除": "cancel"}


def _yes_no(app, msg: Incoming, m) -> list[Reply] | None:
    """「はい」/「いいえ」 answer the pending confirmation; a 「いいえ」 with none pending is told so,
    a 「はい」 with none goes on (it may be a question)."""
    no = m.norm in NO_WORDS
    done = confirm(app, msg, not no)
    if done is None and no:
        return [Text(messages.NOTHING_TO_CONFIRM)]
    return done


PLAN_WORDS = re.compile(r"^(\S++)\s++(\S.*+)$")


def _plan_match(app, msg: Incoming, w):
    """「退院 K-012 12/1」: a plan's trigger word (plans.yaml), then the rest."""
    m = PLAN_WORDS.match(w.typed)
    for key, p in store.load_plans().items() if m else ():
        if m.group(1) in p.get("words", ()):
            return key, m.group(2)
    return None


def postpone_words(app, msg: Incoming, w) -> tuple[str, str | None] | None:
    """「延期 12/10 10時 #3」 → ("12/10 10時", "3"); None when the text is no 延期 command.

    What ``^延期\\s*(.*?)\\s*(?:#(\\d+))?$`` matched (the rest, without white space and a final
    「#number」, on one line), without its lazy group backtracking over a run of spaces for every
    place where it might end."""
    t = w.norm
    if not t.startswith("延期"):
        return None
    rest = t[2:].lstrip()
    k = len(rest)
    while k and rest[k - 1] in "0123456789":
        k -= 1
    number = None
    if 0 < k < len(rest) and rest[k - 1] == "#":
        number, rest = rest[k:], rest[:k - 1]
    rest = rest.rstrip()
    return None if "\n" in rest else (rest, number)


def _act(app, msg: Incoming, m) -> list[Reply] | None:
    word, number, detail = m.groups()
    if word == "スヌーズ":
        return postpone(app, msg, "スヌーズ", number)
    if number or not detail or word == "会えなかった":
        return act(app, msg, ACTIONS[word], number, detail)
    return None  # 「取消 の仕方」: a question after all


CASE_VISITS = re.compile(r"^予定\s*+([A-Za-z]{1,4}-?[0-9]{1,6})$")


def case_visits(app, msg: Incoming, m) -> list[Reply]:
    """「予定 K-012」: the visits of one case, mine; a supervisor's or admin's of the whole area."""
    code = m.group(1).upper()
    user = get_user(app.db, msg.platform, msg.user)
    if user is not None and user.role in OVERSEEING:
        rows = store.case_visits(app.db, msg.platform, code, area=user.area)
    else:
        rows = store.case_visits(app.db, msg.platform, code, owner=msg.user)
    if not rows:
        return [Text(messages.case_visits_none(code))]
    lines = [f"{messages.fmt_day(date.fromisoformat(v['due']))} {v['label']}（{messages.VISIT_STATES[v['status']]}）"
             for v in rows]
    return [Text(messages.case_visits(code, lines))]


from ..access import STAFF_ROLES  # noqa: E402  (reports branch: plans are not for peer supporters)

ROUTES = (
    Route(exact(*YES_WORDS, *NO_WORDS), _yes_no, "confirm"),
    Route(_plan_match, lambda app, msg, m: plan(app, msg, *m), "plan", roles=STAFF_ROLES, refused=messages.PEER_NO_PLANS),
    Route(EVENT_PREFIX, lambda app, msg, m: event(app, msg, m.string), "event", typed=True),
    Route(lambda app, msg, w: w if wants_reminder(w.typed) else None, lambda app, msg, w: reminder(app, msg, w.typed),
          "reminder"),
    Route(exact("予定", "よてい", "予定一覧"), lambda app, msg, m: listing(app, msg), "listing"),
    Route(CASE_VISITS, case_visits, "case_visits", direct_only=messages.DIRECT_ONLY, roles=STAFF_ROLES,
          refused=messages.PEER_NO_PLANS),
    Route(exact("予定 全体", "予定全体", "地域の予定"), lambda app, msg, m: listing(app, msg, everyone=True),
          "listing_area", roles=OVERSEEING, refused=messages.SUPERVISOR_ONLY, direct_only=messages.DIRECT_ONLY),
    Route(RSVP, lambda app, msg, m: answer_event(app, msg, "yes" if m.group(1) == "参加" else "no", m.group(2)),
          "rsvp"),
    Route(DIGEST, lambda app, msg, m: set_digest(app, msg, m.group(1)), "digest"),
    Route(CHANGE, lambda app, msg, m: change(app, msg, m.group(1), m.group(2)), "change", typed=True),
    Route(postpone_words, lambda app, msg, p: postpone(app, msg, p[0] or "明日", p[1]), "postpone"),
    Route(ACT, _act, "act"),
)
