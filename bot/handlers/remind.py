"""Reminders, events and follow-up visit plans from the chat.

Every time Nimo reads is said back with its weekday and must be confirmed (「はい」) before it is
stored; a time it cannot read is said to be not understood, with an example, never guessed.  A time
between 22:00 and 6:00 is asked about (「午前3時でよいですか？ 15時なら…」), with the daytime hour as a
button, never refused.  An event is one thing: one entry in 「予定」 at its own time (E number), and
取消 of it or of any of its notices ends it with all of them.  SQL on the reminder tables lives in
scheduler/store.py.
The handlers only write rows: the scheduler (in whichever process runs it) picks them up.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import asdict
from datetime import date, datetime, timedelta

from scheduler import store
from scheduler.timeparse import Recurrence, TimeError, When, is_time_of_day, parse_date, parse_when, readback
from scheduler.workdays import TZ, is_night

from bot import messages
from bot.people.access import OVERSEEING, STAFF_ROLES, get_user, may_see_event
from bot.chat.core import Choice, Incoming, Reply, Text
from bot.reports.records import CODE, case_code
from bot.chat.routes import Conversation, Route, exact
from bot.privacy.guard import guard

YES_NO = (Choice("はい", "はい"), Choice("いいえ", "いいえ"))
REMIND_PREFIX = re.compile(r"^(リマインダー|リマインド|りまいんど|remind)\s*", re.I)
# Searched in every message: white space only after を/、 or where a run of it starts (a search that
# started again inside a run of spaces would scan the rest of the run each time).
REMIND_SUFFIX = re.compile(r"(?:を\s*+|、\s*+|(?<!\s)\s*+)(リマインド|りまいんど)(して|してください|してほしい|お願い(します)?)?"
                           r"[。！!]*+$")
EVENT_PREFIX = re.compile(r"^(イベント|行事)\s*")
NAME_MARK = re.compile(r"(さん|様|さま|氏|くん|君|ちゃん)")
def canonical_code(text: str) -> str:
    """「k012」 and 「K-012」 are one case: 「K-012」 (as reports write it); "" stays ""."""
    return case_code(text) or text.upper()


log = logging.getLogger("nimo.remind")
CONFIRM = "confirm"  # what waits for 「はい」: a reminder, event, plan or change read back (plans.py's too)
CONVERSATIONS = (Conversation("confirm", (CONFIRM,)),)
# The other time offered for one in the night (「15時にする」): the words its button sends.
NIGHT_ALT = re.compile(r"^([0-9]{1,2})時(?:([0-9]{1,2})分)?にする$")
MONTH_END = re.compile(r"^月末")  # 月末 alone (not 今月末, 来月末, 12月末: those name one month)
MONTH_END_EVERY = "毎月末にする"  # the button that makes a one-off 月末 reminder repeat
EVENT_CANCEL = re.compile(r"^(?:取消|取り消し|キャンセル|削除)\s*+#?e([0-9]++)$")  # on the normalised text


def _now(app) -> datetime:
    return app.clock().astimezone(TZ)


# Half-width katakana and full-width Latin (「ﾘﾏｲﾝﾄﾞ」「ｒｅｍｉｎｄ」, as some phones and IMEs type them):
# each run of the Halfwidth and Fullwidth Forms block, NFKC-normalised on its own, so the command word
# is found and cut off where it was typed while the rest keeps its case and its other characters.
WIDTH_FORMS = re.compile(r"[\uff01-\uffef]++")


def fold_width(text: str) -> str:
    return WIDTH_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def wants_reminder(text: str) -> bool:
    text = fold_width(text)
    return bool(REMIND_PREFIX.match(text) or REMIND_SUFFIX.search(text))


def _reminder_words(app, msg: Incoming, w):
    """「リマインド …」 or 「… をリマインドして」, as typed (half-width and full-width forms too)."""
    return w if wants_reminder(w.typed) else None


def reminder(app, msg: Incoming, text: str) -> list[Reply]:
    body = REMIND_PREFIX.sub("", fold_width(text), count=1)
    try:
        when, title = parse_when(body, _now(app))
    except TimeError as e:
        return [Text(f"{e}\n{messages.REMIND_EXAMPLE}")]
    title = REMIND_SUFFIX.sub("", title).strip(" 　、。")
    if not title:
        return [Text(messages.NO_TITLE)]
    title, hidden = guard(title)   # names and numbers never reach the dialog state or the reminder
    return _ask(app, msg, {"what": "reminder", "title": title, "target": msg.conversation, "group": not msg.direct},
                when, masked=hidden)


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
    title, hidden = guard(title.strip())
    return _ask(app, msg, {"what": "event", "title": title, "target": msg.conversation,
                           "group": not msg.direct}, when, masked=hidden)


def _confirm_text(app, d: dict, when: When) -> str:
    """The read-back of what waits for 「はい」."""
    said = readback(when, now=_now(app))
    if d["what"] == "reminder":
        return messages.confirm_reminder(said, d["title"], d["group"])
    if d["what"] == "event":
        notices = [messages.fmt_when(t) for t in store.event_notices(when.at, app.clock())]
        text = messages.confirm_event(said, d["title"], notices)
        if store.event_notices_lost_to_night(when.at, app.clock()):
            text = text.replace(messages.CONFIRM, messages.EVENT_NIGHT_NOTICE + messages.CONFIRM)
        return text
    r = store.get(app.db, d["id"])
    if r.recurrence is not None and when.recurrence is None:  # a one-off time for a rule: its next time only
        return messages.confirm_change_next(r.title, said, r.recurrence.describe())
    return messages.confirm_change(r.title, said)


def _night_alternative(when: When, now: datetime) -> tuple[str, When | None, str | None] | None:
    """For a time between 22:00 and 6:00: the question to ask, the same time twelve hours round
    (3:00 → 15:00, 22:30 → 10:30) when that is still ahead, and the words that choose it
    (「15時にする」); None for a time in the day."""
    at = when.at.astimezone(TZ)
    if not is_night(at):
        return None
    hour = at.hour + 12 if at.hour < 12 else at.hour - 12
    rec = when.recurrence
    if rec is not None:
        rec = Recurrence(**{**asdict(rec), "hour": hour})
        alt = When(rec.next_after(now), rec, when.matched)
    else:
        alt_at = at.replace(hour=hour)
        alt = When(alt_at, None, when.matched) if alt_at > now else None
    label = (f"{hour}時" + (f"{at.minute}分" if at.minute else "")) if alt else None
    return messages.night_question(at.hour, at.minute, label), alt, label and f"{label}にする"


def _ask(app, msg: Incoming, d: dict, when: When, *, masked: bool = False) -> list[Reply]:
    """Read ``when`` back and wait for 「はい」; a time in the night is asked about, with the daytime
    one as a button, never refused (a night visit or shift is real work)."""
    d = {**d, "at": store.utc(when.at), "rec": asdict(when.recurrence) if when.recurrence else None}
    d.pop("alt", None)
    text, choices = _confirm_text(app, d, when), YES_NO
    if masked or d.get("masked"):
        d["masked"] = True
        text = messages.with_notice(text, messages.MASKED_PENDING)
    if night := _night_alternative(when, _now(app)):
        question, alt, word = night
        text = messages.ask_night(text, question)
        if alt is not None:
            d["alt"] = {"word": word, "at": store.utc(alt.at),
                        "rec": asdict(alt.recurrence) if alt.recurrence else None}
            choices = (YES_NO[0], Choice(word, word), YES_NO[1])
    elif d["what"] == "reminder" and when.recurrence is None and MONTH_END.match(when.matched):
        # 「月末17時」 is the coming month-end, once: a deadline is what people mostly mean, and a
        # reminder repeated without being asked for is worse than one tap more; the read-back says
        # so, with 毎月末 one tap away.
        at = when.at.astimezone(TZ)
        rec = Recurrence("monthly_last", at.hour, at.minute)
        d["alt"] = {"word": MONTH_END_EVERY, "at": store.utc(rec.next_after(_now(app))), "rec": asdict(rec)}
        text = text.replace(messages.CONFIRM, messages.month_end_once(at.month) + messages.CONFIRM)
        choices = (YES_NO[0], Choice(MONTH_END_EVERY, MONTH_END_EVERY), YES_NO[1])
    app.dialogs.set(msg.platform, msg.user, CONFIRM, d, app.clock())
    return [Text(text, choices)]


def use_alternative(app, msg: Incoming, typed: str) -> list[Reply] | None:
    """「15時にする」 after a read-back in the night: the same thing at the daytime hour, read back
    again; None when nothing waits for those words (then they are no command)."""
    st = app.dialogs.get(msg.platform, msg.user, app.clock(), CONFIRM)
    if st is None or (st.data.get("alt") or {}).get("word") != typed:
        return None
    alt = st.data["alt"]
    rec = Recurrence(**alt["rec"]) if alt["rec"] else None
    return _ask(app, msg, st.data, When(store.from_utc(alt["at"]).astimezone(TZ), rec, ""))


def plan(app, msg: Incoming, plan_key: str, rest: str) -> list[Reply]:
    parts = rest.split(maxsplit=1)
    p = store.load_plans()[plan_key]
    if len(parts) < 2:
        if parts and case_code(parts[0]) and not NAME_MARK.search(rest):  # the code, not yet the day
            code, word = case_code(parts[0]), p["words"][0]
            return [Text(messages.plan_needs_date(code, word),
                         (Choice("今日", f"{word} {code} 今日"), Choice("昨日", f"{word} {code} 昨日")))]
        return [Text(messages.NAME_NOT_CODE if NAME_MARK.search(rest) else messages.NO_CASE_CODE)]
    typed_code, when_text = parts
    code = case_code(typed_code)  # 「Ｋ－０１５」「K–015」 as a phone types them: 「K-015」
    if NAME_MARK.search(rest) or code is None:
        return [Text(messages.NAME_NOT_CODE if NAME_MARK.search(rest) else messages.NO_CASE_CODE)]
    try:
        anchor, _ = parse_date(when_text, _now(app))
    except TimeError as e:
        return [Text(f"{e}\n{messages.PLAN_EXAMPLE}")]
    try:
        dates = store.plan_dates(p, anchor)
    except store.PlanRangeError:  # 9999/12/31: a visit a month later is past the last date there is
        return [Text(messages.PLAN_DATE_OUT_OF_RANGE)]
    digest_at = store.digest_time(app.db, msg.platform, msg.user)
    visits = []
    for v in dates:
        at = store.visit_reminder_at(v.due, v.window_end, digest_at, app.clock())
        visits.append(messages.plan_visit_line(
            v.label, messages.fmt_day(v.due), f"{messages.fmt_day(v.window_start)}〜{messages.fmt_day(v.window_end)}",
            v.moved_because and f"{messages.fmt_day(v.planned)}は{v.moved_because}",
            at and messages.fmt_when(at), at is not None and at.date() > v.due))
    app.dialogs.set(msg.platform, msg.user, CONFIRM, {
        "what": "plan", "plan": plan_key, "code": code, "anchor": anchor.isoformat(),
        "target": msg.conversation}, app.clock())
    return [Text(messages.confirm_plan(code, p["label"], messages.fmt_day(anchor), visits), YES_NO)]


def confirm(app, msg: Incoming, yes: bool) -> list[Reply] | None:
    """「はい」/「いいえ」; None when nothing waits for it (the words are then a question).  What
    waits is done by the confirmation its tag names (``what``), from the table the modules declare
    (:data:`CONFIRMATIONS`, plans.py's); a tag none declares (a state written by another version) is
    said to be no longer valid, never taken for something else."""
    st = app.dialogs.get(msg.platform, msg.user, app.clock(), CONFIRM)
    if st is None:
        return None
    app.dialogs.clear(msg.platform, msg.user, CONFIRM)
    tag = st.data.get("what")
    done = app.registry.confirmation(tag)
    if done is None:
        log.warning("confirmation with an unknown tag: %s", str(tag)[:40])
        return [Text(messages.CONFIRM_UNKNOWN if yes else messages.CANCELLED_INPUT)]
    return done(app, msg, st.data, yes)


def _when_yes(fn):
    """A confirmation that does nothing on 「いいえ」 but say so."""
    def confirmed(app, msg: Incoming, d: dict, yes: bool) -> list[Reply]:
        return fn(app, msg, d) if yes else [Text(messages.CANCELLED_INPUT)]
    confirmed.__name__ = confirmed.__qualname__ = fn.__name__
    return confirmed


@_when_yes
def _change_confirmed(app, msg: Incoming, d: dict) -> list[Reply]:
    now = app.clock()
    r = store.get(app.db, d["id"])
    at = store.from_utc(d["at"]).astimezone(TZ)
    if d.get("rec"):  # a rule given: it replaces the old one (or makes a one-off repeat)
        rec = Recurrence(**d["rec"])
        store.change_rule(app.db, r.id, at, rec, now)
        said = rec.describe()
    else:  # a time: a one-off moves, a repeating one moves its next time and keeps its rule
        store.reschedule(app.db, r.id, at, now, asked=True)
        said = messages.fmt_when(at)
    store.record_action(app.db, reminder_id=r.id, visit_id=r.visit_id, platform=msg.platform, user=msg.user,
                        action="change", detail=d["at"], now=now)
    if r.recurrence is not None and not d.get("rec"):
        return [Text(messages.changed_next(r.title, said, r.recurrence.describe()))]
    return [Text(messages.changed(r.title, said))]


@_when_yes
def _reminder_confirmed(app, msg: Incoming, d: dict) -> list[Reply]:
    rid = store.add_reminder(app.db, kind="reminder", platform=msg.platform, owner=msg.user, target=d["target"],
                             is_group=d["group"], title=d["title"], due=store.from_utc(d["at"]),
                             recurrence=Recurrence(**d["rec"]) if d["rec"] else None, asked=True, now=app.clock())
    return [Text(messages.saved(rid))]


@_when_yes
def _event_confirmed(app, msg: Incoming, d: dict) -> list[Reply]:
    starts = store.from_utc(d["at"])
    eid, _ = store.add_event(app.db, platform=msg.platform, owner=msg.user, target=d["target"],
                             is_group=d["group"], title=d["title"], starts=starts, now=app.clock())
    # In a group this reply is the announcement everyone sees: it carries the answers.
    rsvp = (Choice("参加", f"参加 #E{eid}"), Choice("不参加", f"不参加 #E{eid}")) if d["group"] else ()
    return [Text(messages.event_saved(eid, d["title"], messages.fmt_when(starts.astimezone(TZ)), d["group"]), rsvp)]


@_when_yes
def _plan_confirmed(app, msg: Incoming, d: dict) -> list[Reply]:
    user = get_user(app.db, msg.platform, msg.user)
    pid = store.add_plan(app.db, platform=msg.platform, owner=msg.user,
                         target=msg.user if msg.platform != "slack" else d["target"],
                         area=user.area if user else "", case_code=d["code"], plan_key=d["plan"],
                         anchor=date.fromisoformat(d["anchor"]),
                         digest_time=store.digest_time(app.db, msg.platform, msg.user), now=app.clock())
    reminded, not_reminded = [], []
    for label, at in store.plan_notices(app.db, pid):
        if at is None:
            not_reminded.append(label)
        else:
            reminded.append(f"{label}（{messages.fmt_when(at.astimezone(TZ))}）")
    return [Text(messages.saved_plan_visits(reminded, not_reminded))]


# What 「はい」 does to each read-back this module asks for (the tag is the state's ``what``).
CONFIRMATIONS = {"change": _change_confirmed, "reminder": _reminder_confirmed, "event": _event_confirmed,
                 "plan": _plan_confirmed}


def listing(app, msg: Incoming, everyone: bool = False) -> list[Reply]:
    if everyone:  # the route lets only supervisors and admins (and the terminal) this far, in 1:1
        user = get_user(app.db, msg.platform, msg.user)
        area = user.area if user else ""
        rows = store.area_visits(app.db, area, _now(app).date() + timedelta(days=31))
        area = area or messages.NO_AREA  # the terminal's local user has none: the header still names it
        if not rows:
            return [Text(messages.area_visits_none(area))]
        from bot.people.names import display  # the person by name, not by platform id (bot/people/names.py)
        today = _now(app).date()
        lines = [f"{messages.fmt_day(date.fromisoformat(v['due']))} {v['case_code']}（{v['label']}"
                 f"{'・' + messages.VISIT_OVERDUE if _visit_state(v, today) == messages.VISIT_OVERDUE else ''}）"
                 f"担当 {display(app.db, v.get('platform'), v['owner'])}"
                 for v in rows]
        return [Text(messages.area_visits(area, lines))]
    # An event is one entry, at its own time: its notices are its business, not separate 予定.
    rows = [r for r in store.mine(app.db, msg.platform, msg.user) if r.kind != "event" or not r.event_id]
    # A 1:1 event answered across areas before answers were checked is not listed either.
    events = [e for e in store.my_events(app.db, msg.platform, msg.user, app.clock())
              if may_see_event(app.db, e, msg.platform, msg.user, msg.conversation)]
    if not rows and not events:
        return [Text(messages.NO_PLANS)]
    entries = []
    for r in rows:
        when = r.recurrence.describe() if r.recurrence else messages.fmt_when(r.due_at.astimezone(TZ))
        entries.append((r.due_at, f"{r.id}) {when} {r.title}"))
    for e in events:
        starts = store.from_utc(e["starts_at"])
        if e["mine"]:
            c = store.rsvp_counts(app.db, e["id"])
            extra = f"（参加 {c['yes']}・不参加 {c['no']}）"
        else:
            extra = "（参加）"
        entries.append((starts, f"E{e['id']}) {messages.fmt_when(starts.astimezone(TZ))} {e['title']}{extra}"))
    lines = [line for _, line in sorted(entries, key=lambda x: x[0])]
    return [Text(messages.listing_events(lines) if events else messages.listing(lines))]


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
        rid = store.last_sent_to(app.db, msg.platform, msg.user, msg.conversation)
        r = store.get(app.db, rid) if rid is not None else None
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
    detail, hidden = guard(detail)  # 「会えなかった #3 田中さん入院」: the reason is kept, names and numbers not
    store.record_action(app.db, reminder_id=r.id, visit_id=r.visit_id, platform=msg.platform, user=msg.user,
                        action=action, detail=detail or None, now=now)
    if action == "cancel" and r.kind == "event" and r.event_id:  # a notice stands for its event: all of it ends
        return _told_masked(_cancel_event(app, r.event_id), hidden)
    if action == "cancel":
        store.set_status(app.db, r.id, "cancelled", now)
    elif action == "done":
        if r.visit_id:
            store.set_visit(app.db, r.visit_id, "done", now)
        if r.recurrence is None:
            store.set_status(app.db, r.id, "done", now)
    elif action == "unmet" and r.visit_id:
        store.set_visit(app.db, r.visit_id, "unmet", now, reason=detail or None)
    if action == "cancel":  # at once, without a 「はい」; a slip of the number is mended with one tap
        return _told_masked([Text(messages.done_action(action, r.title), (Choice("元に戻す", f"元に戻す #{r.id}"),))],
                            hidden)
    return _told_masked([Text(messages.done_action(action, r.title))], hidden)


def _told_masked(replies: list[Reply], hidden: bool) -> list[Reply]:
    """The replies, the last text saying that names and numbers were masked when they were."""
    if not hidden or not replies or not isinstance(replies[-1], Text):
        return replies
    last = replies[-1]
    return replies[:-1] + [Text(messages.with_notice(last.text, messages.MASKED_NOTICE), last.choices)]


def undo_cancel(app, msg: Incoming, number: str | None) -> list[Reply]:
    """「元に戻す #3」: a cancelled reminder active again, at its time (a repeating one at its next time
    from now); one whose time has passed is not brought back to fire late."""
    if number is None:
        rid = store.last_cancelled_by(app.db, msg.platform, msg.user)
        number = str(rid) if rid is not None else None
    r = _target(app, msg, number) if number and as_id(number) is not None else None
    if r is None or r.status != "cancelled":
        return [Text(messages.UNDO_NOTHING)]
    if r.kind == "event":
        return [Text(messages.UNDO_EVENT)]
    now = app.clock()
    due = r.due_at
    if due <= now:
        if r.recurrence is None:
            return [Text(messages.undo_past(r.title, messages.fmt_when(due.astimezone(TZ))))]
        due = r.recurrence.next_after(now)
    store.reschedule(app.db, r.id, due, now)
    store.record_action(app.db, reminder_id=r.id, visit_id=r.visit_id, platform=msg.platform, user=msg.user,
                        action="restore", detail=None, now=now)
    said = r.recurrence.describe() if r.recurrence else messages.fmt_when(due.astimezone(TZ))
    return [Text(messages.undone(r.title, said))]


def postpone(app, msg: Incoming, to: str, number: str | None) -> list[Reply]:
    if number and as_id(number) is None:
        return [Text(messages.no_such_number(number))]
    r = _target(app, msg, number)
    if r is None:
        return [Text(messages.NO_RECENT)]
    if r.status in ("done", "cancelled"):  # postponing would bring it back: it was finished on purpose
        return [Text(messages.postpone_closed(r.title, r.status, r.id))]
    now = _now(app)
    base = r.due_at.astimezone(TZ)
    # 「明日」「来週」 count from the reminder's own day once it has come; one still ahead (Monday's,
    # postponed on Saturday) moves later, never to a day before it.
    day = max(now.date(), base.date())
    if to in ("明日", "あした"):
        new = datetime.combine(day + timedelta(days=1), base.time(), tzinfo=TZ)
    elif to == "来週":
        new = datetime.combine(day + timedelta(days=7), base.time(), tzinfo=TZ)
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
    now = _now(app)
    if r.recurrence is None and is_time_of_day(when_text):  # 「15時にして」: its own day, at that time
        day = max(r.due_at.astimezone(TZ).date(), now.date())
        when_text = f"{day.year}/{day.month}/{day.day} {when_text}"
    try:
        when, _ = parse_when(when_text, now)
    except TimeError as e:
        return [Text(f"{e}\n{messages.change_example(number)}")]
    return _ask(app, msg, {"what": "change", "id": r.id}, when)


def answer_event(app, msg: Incoming, answer: str, event_id: str) -> list[Reply]:
    eid = as_id(event_id)
    if eid is None:
        return [Text(messages.no_such_event(event_id))]
    ev = store.active_event(app.db, eid)
    if ev is None or not may_see_event(app.db, ev, msg.platform, msg.user, msg.conversation):
        return [Text(messages.EVENT_NOT_FOUND)]  # the same words: whether it exists is not for them to learn
    counts = store.rsvp(app.db, eid, msg.platform, msg.user, answer, app.clock())
    text = messages.rsvp_counts(ev["title"], answer, counts["yes"], counts["no"])
    return [Text(text + messages.RSVP_LISTED if answer == "yes" else text)]


def cancel_event(app, msg: Incoming, event_id: str) -> list[Reply]:
    """「取消 E3」: the event and all its notices, by the one who set it up (or in its group)."""
    eid = as_id(event_id)
    ev = store.active_event(app.db, eid) if eid is not None else None
    if ev is None or not may_see_event(app.db, ev, msg.platform, msg.user, msg.conversation):
        return [Text(messages.no_such_event(event_id))]
    if not (ev["owner"] == msg.user or ev["target"] == msg.conversation):
        return [Text(messages.event_owner_only(eid))]
    store.record_action(app.db, reminder_id=None, visit_id=None, platform=msg.platform, user=msg.user,
                        action="cancel", detail=f"event:{eid}", now=app.clock())
    return _cancel_event(app, eid)


def _cancel_event(app, eid: int) -> list[Reply]:
    ev = store.active_event(app.db, eid)
    if ev is None:
        return [Text(messages.EVENT_NOT_FOUND)]
    store.cancel_event(app.db, eid, app.clock())
    return [Text(messages.event_cancelled(ev["title"], messages.fmt_when(store.from_utc(ev["starts_at"]).astimezone(TZ))))]


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
CHANGE = re.compile(r"^変更\s*+#?([0-9０-９]++)\s++(.+)$")
# The same said as a sentence (「1の時間15時にして」「#3を明日10時に変更」「2は来週月曜9時に変えて」): on
# the normalised text; the number first, then what it becomes.
CHANGE_SAID = re.compile(r"^#?([0-9]{1,18})\s*+番?\s*+[のをは]?\s*+(?:時間|時刻|日時|日にち|日付|予定|リマインド)?"
                         r"\s*+[をは]?\s*+(\S[^\n]*?)に\s*+(?:して|変更して|変更|変えて|移して|ずらして)"
                         r"(?:ください|下さい|ほしい|欲しい|もらえる)?[。!?？]*+$")
UNDO = re.compile(r"^(?:元に戻す|もとに戻す|もとにもどす|取消を戻す|取り消しを戻す)\s*+(?:#?([0-9]++))?$")  # on the text as typed: full-width digits too
RSVP = re.compile(r"^(参加|不参加)\s*+#e([0-9]++)$")
DIGEST = re.compile(r"^朝の通知\s*+([0-9]{1,2})(?:[:：]([0-9]{2})|時(半)?|時([0-9]{1,2})分)$")
ACTIONS = {"完了": "done", "会えなかった": "unmet", "あとで記録": "later", "取消": "cancel", "取り消し": "cancel",
           "キャンセル": "cancel", "削除": "cancel"}


def _yes_no(app, msg: Incoming, m) -> list[Reply] | None:
    """「はい」/「いいえ」 answer the pending confirmation; with none pending (another member tapping
    はい under someone's reminder in a group) the user is told so, never sent to the search."""
    done = confirm(app, msg, m.norm not in NO_WORDS)
    return done if done is not None else [Text(messages.NOTHING_TO_CONFIRM)]


PLAN_WORDS = re.compile(r"^(\S++)\s++(\S.*+)$")


def _plan_match(app, msg: Incoming, w):
    """「退院 K-012 12/1」: a plan's trigger word (plans.yaml), then the rest."""
    m = PLAN_WORDS.match(w.typed)
    for key, p in store.load_plans().items() if m else ():
        if m.group(1) in p.get("words", ()):
            return key, m.group(2)
    return None


def postpone_words(app, msg: Incoming, w) -> tuple[str, str | None] | None:
    """「延期 12/10 10時 #3」, 「延期 明日 3」 and 「延期 3 明後日10時」 → (when, "3"); 「延期 3」 → ("", "3");
    None when the text is no 延期 command.  The number may lead or end, with or without 「#」 (a
    button sends 「#3」, people type 「3」); a number is only the reminder's when it stands alone
    (「延期 12/10」 is a date).  Split on white space, never a pattern that backtracks over a run of it."""
    t = w.norm
    if not t.startswith("延期") or "\n" in t:
        return None
    words = t[2:].split()
    number = None
    for i in (-1, 0) if words else ():
        word = words[i].removeprefix("#")
        if word.isascii() and word.isdigit() and (len(words) > 1 or words[i].startswith("#") or i == 0):
            number = word
            del words[i]
            break
    return " ".join(words), number


def _act(app, msg: Incoming, m) -> list[Reply] | None:
    word, number, detail = m.groups()
    if word == "スヌーズ":
        return postpone(app, msg, "スヌーズ", number)
    if number or not detail or word == "会えなかった":
        return act(app, msg, ACTIONS[word], number, detail)
    return None  # 「取消 の仕方」: a question after all


CASE_VISITS = re.compile(rf"^予定\s*+({CODE})$")
# The ways people ask the same on a phone: 「K-012」「訪問 K-012」「K-012の予定」 (searched as
# questions before, which answered with unrelated cases).  A route of its own, because a report
# asking for its case code takes a bare 「K-012」 as the answer (bot/handlers/report.py).
_VISIT_WORD = r"(?:予定|訪問|訪問予定|計画|訪問計画)"
CASE_VISITS_ASKED = re.compile(rf"^{_VISIT_WORD}?\s*+({CODE})\s*(?:の\s*)?{_VISIT_WORD}?$")


def case_visits(app, msg: Incoming, m) -> list[Reply]:
    """「予定 K-012」: the visits of one case, mine; a supervisor's or admin's of the whole area."""
    code = canonical_code(m.group(1))
    user = get_user(app.db, msg.platform, msg.user)
    if user is not None and user.role in OVERSEEING:
        rows = store.case_visits(app.db, msg.platform, code, area=user.area)
    else:
        rows = store.case_visits(app.db, msg.platform, code, owner=msg.user)
    if not rows:
        scope = {"area": user.area} if user is not None and user.role in OVERSEEING else {"owner": msg.user}
        ended = store.ended_case_plan(app.db, msg.platform, code, **scope)
        if ended is not None:  # 「計画終了」: say so, and when, rather than 「見つかりませんでした」
            at = store.from_utc(ended["ended_at"]).astimezone(TZ) if ended["ended_at"] else None
            label = store.load_plans().get(ended["plan"], {}).get("label", "")
            return [Text(messages.case_plan_ended(code, label, at and messages.fmt_day(at.date()), ended["reason"]))]
        return [Text(messages.case_visits_none(code))]
    today = _now(app).date()
    lines = [f"{messages.fmt_day(date.fromisoformat(v['due']))} {v['label']}（{_visit_state(v, today)}）" for v in rows]
    return [Text(messages.case_visits(code, lines))]


def _visit_state(v: dict, today: date) -> str:
    """A visit still open after its window closed is no longer 「予定」: it was not made in time."""
    if v["status"] == "open" and date.fromisoformat(v["window_end"]) < today:
        return messages.VISIT_OVERDUE
    return messages.VISIT_STATES[v["status"]]



G = "reminders"  # the group of every route here (bot/handlers/__init__.py: GROUPS)
ROUTES = (
    Route(exact(*YES_WORDS, *NO_WORDS), _yes_no, "confirm", group=G),
    Route(_plan_match, lambda app, msg, m: plan(app, msg, *m), "plan", roles=STAFF_ROLES, refused=messages.PEER_NO_PLANS,
          group=G),
    Route(EVENT_PREFIX, lambda app, msg, m: event(app, msg, m.string), "event", typed=True, group=G),
    Route(_reminder_words, lambda app, msg, w: reminder(app, msg, w.typed), "reminder", group=G),
    Route(exact("予定", "よてい", "予定一覧"), lambda app, msg, m: listing(app, msg), "listing", group=G),
    Route(CASE_VISITS, case_visits, "case_visits", direct_only=messages.DIRECT_ONLY, roles=STAFF_ROLES,
          refused=messages.PEER_NO_PLANS, group=G),
    Route(CASE_VISITS_ASKED, case_visits, "case_visits_asked", direct_only=messages.DIRECT_ONLY, roles=STAFF_ROLES,
          refused=messages.PEER_NO_PLANS, group=G),
    Route(exact("予定 全体", "予定全体", "地域の予定"), lambda app, msg, m: listing(app, msg, everyone=True),
          "listing_area", roles=OVERSEEING, refused=messages.SUPERVISOR_ONLY, direct_only=messages.DIRECT_ONLY, group=G),
    Route(NIGHT_ALT, lambda app, msg, m: use_alternative(app, msg, m.string), "night_alternative", group=G),
    Route(exact(MONTH_END_EVERY), lambda app, msg, w: use_alternative(app, msg, w.norm)
          or [Text(messages.NOTHING_TO_CONFIRM)], "month_end_every", group=G),
    Route(EVENT_CANCEL, lambda app, msg, m: cancel_event(app, msg, m.group(1)), "event_cancel", group=G),
    Route(RSVP, lambda app, msg, m: answer_event(app, msg, "yes" if m.group(1) == "参加" else "no", m.group(2)),
          "rsvp", group=G),
    Route(DIGEST, lambda app, msg, m: set_digest(
        app, msg, f"{m.group(1)}:{m.group(2) or m.group(4) or ('30' if m.group(3) else '00')}"), "digest", group=G),
    Route(CHANGE, lambda app, msg, m: change(app, msg, m.group(1), m.group(2)), "change", typed=True, group=G),
    Route(CHANGE_SAID, lambda app, msg, m: change(app, msg, m.group(1), m.group(2).strip()), "change_said", group=G),
    Route(postpone_words, lambda app, msg, p: postpone(app, msg, p[0] or "明日", p[1]), "postpone", group=G),
    Route(ACT, _act, "act", group=G),
    Route(UNDO, lambda app, msg, m: undo_cancel(app, msg, m.group(1)), "undo_cancel", group=G),
)
