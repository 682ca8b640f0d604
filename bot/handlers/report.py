"""「報告 …」: a field report in one message or step by step, shown back, and saved on 「確定」.

The draft lives in the dialog state (SQLite), so it survives a restart and ends after 30 minutes.
Personal data found in it is named and nothing is stored until the user chooses to mask it or
keep it.  Reports are taken and shown in 1:1 chats only.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

from scheduler.timeparse import TimeError, parse_date

from .. import dialogs, messages, photos, privacy
from .. import reports as rp
from ..access import OVERSEEING, get_user
from ..core import Choice, Incoming, Reply, Text
from ..routes import Conversation, Route, exact

STEPS = ("type", "date", "case_code", "area", "summary", "next")
REVIEW = "report_review"
STEP = "report_step"
FIX = "report_fix"
STOP_WORDS = {"やめる", "やめます", "中止", "キャンセル", "取消", "取り消し"}
TYPE_CHOICES = tuple(Choice(t, t) for t in rp.TYPES)


def _area(app, msg: Incoming) -> str:
    user = get_user(app.db, msg.platform, msg.user)
    return user.area if user else ""


def _day(iso: str | None) -> str:
    return messages.fmt_day(date.fromisoformat(iso)) if iso else ""


def _lines(d: rp.Draft) -> list[str]:
    nxt = "なし" if not d.next_date else f"{_day(d.next_date)} {d.next_action or ''}".strip()
    lines = [f"種類：{d.type}", f"日付：{_day(d.date)}", f"ケース：{d.case_code or 'なし'}", f"地域：{d.area or '—'}",
             f"内容：{d.summary}", f"次回：{nxt}"]
    return lines + ([f"写真：{len(d.photos)}枚"] if d.photos else [])


def _findings(d: rp.Draft) -> list[privacy.Finding]:
    return privacy.find(d.summary) + privacy.find(d.next_action or "")


def _review(app, msg: Incoming, d: rp.Draft) -> list[Reply]:
    found = _findings(d)
    app.dialogs.set(msg.platform, msg.user, REVIEW, {"draft": _dump(d)}, app.clock())
    if found:
        choices = (Choice("伏せて確定", "伏せて確定"), Choice("そのまま確定", "そのまま確定"),
                   Choice("修正", "修正"), Choice("取消", "取消"))
    else:
        choices = (Choice("確定", "確定"), Choice("修正", "修正"), Choice("取消", "取消"))
    editing = rp.number(d.report_id) if d.report_id else None
    return [Text(messages.report_review(_lines(d), privacy.describe(found) if found else None, editing), choices)]


def _dump(d: rp.Draft) -> dict:
    return {**d.fields(), "report_id": d.report_id, "photos": list(d.photos)}


def _load(data: dict) -> rp.Draft:
    return rp.Draft(**{**data, "photos": tuple(data.get("photos", ()))})


def _photos_of(data: dict | None) -> list[str]:
    draft = (data or {}).get("draft")
    return list(draft.get("photos", ())) if isinstance(draft, dict) else []


def _draft_ended(db, data: dict, next_data: dict | None) -> None:
    """A draft ended (cancelled, timed out, saved, or replaced, e.g. by Slack's report form): its
    photo files go unless the next state still holds them or a saved report took them."""
    kept = set(_photos_of(next_data))
    rp.discard_photos(db, [p for p in _photos_of(data) if p not in kept])


STATES = (REVIEW, STEP, FIX)
dialogs.on_end(STATES, _draft_ended)


def attach_photo(app, msg: Incoming) -> list[Reply]:
    """A photo joins the report being written; it is stripped of location data before it is kept."""
    st = app.dialogs.get(msg.platform, msg.user, app.clock(), *STATES)
    base = getattr(app.db, "path", None)
    if not st:
        return [Text(messages.PHOTO_NO_REPORT)]
    if not base or base == ":memory:":
        return [Text(messages.PHOTO_NOT_HERE)]
    data = msg.image()
    if data is None:
        return [Text(messages.PHOTO_FAILED)]
    try:
        path = photos.store(data, Path(base).parent / "photos", name_hint=f"{msg.platform}-{uuid.uuid4().hex[:8]}")
    except photos.PhotoError as e:
        return [Text(str(e))]
    d = _load(st.data["draft"])
    d = replace(d, photos=d.photos + (str(path),))
    app.dialogs.set(msg.platform, msg.user, st.name, {**st.data, "draft": _dump(d)}, app.clock())
    return [Text(messages.photo_kept(len(d.photos)))]


def review_draft(app, msg: Incoming, d: rp.Draft) -> list[Reply]:
    """A draft filled in elsewhere (Slack's report form) goes to the same review as a typed one."""
    return _review(app, msg, d)


def start(app, msg: Incoming, rest: str) -> list[Reply]:
    """「報告」 alone starts the steps; 「報告 訪問 K-012 …」 goes straight to the review."""
    area = _area(app, msg)
    if not rest.strip():
        app.dialogs.set(msg.platform, msg.user, STEP, {"step": "type", "draft": _dump(rp.Draft(area=area))}, app.clock())
        return [Text(messages.REPORT_ASK_TYPE, TYPE_CHOICES)]
    try:
        d = rp.parse_one_line(rest, app.clock(), area)
    except TimeError as e:
        return [Text(messages.report_next_unread(str(e)))]
    if not d.summary:
        app.dialogs.set(msg.platform, msg.user, STEP, {"step": "summary", "draft": _dump(d)}, app.clock())
        return [Text(messages.REPORT_ASK_SUMMARY)]
    return _review(app, msg, d)


def handle(app, msg: Incoming, text: str) -> list[Reply]:
    """A message while a report is being written."""
    st = app.dialogs.get(msg.platform, msg.user, app.clock(), *STATES)
    t = text.strip()
    d = _load(st.data["draft"])
    if st.name == STEP:
        return _step(app, msg, st.data["step"], d, t)
    if st.name == FIX:
        if st.data.get("field") is None:
            return _fix_choose(app, msg, d, t)
        return _step(app, msg, st.data["field"], d, t, fixing=True)
    # REVIEW
    if t == "修正":
        app.dialogs.set(msg.platform, msg.user, FIX, {"draft": _dump(d), "field": None}, app.clock())
        return [Text(messages.REPORT_FIX_WHICH, tuple(Choice(v, v) for v in messages.REPORT_FIELDS.values()))]
    found = _findings(d)
    if t == "伏せて確定" and found:
        d = replace(d, summary=privacy.mask(d.summary), next_action=privacy.mask(d.next_action) if d.next_action else None)
        return _commit(app, msg, d)
    if t == "そのまま確定" and found:
        return _commit(app, msg, d)
    if t == "確定":
        return [Text(messages.REPORT_PRIVACY_CHOOSE)] if found else _commit(app, msg, d)
    return [Text(messages.REPORT_PRIVACY_CHOOSE if found else messages.REPORT_WAITING)]


def _next_step(app, msg: Incoming, step: str, d: rp.Draft, fixing: bool) -> list[Reply]:
    if fixing:
        return _review(app, msg, d)
    i = STEPS.index(step) + 1
    if i >= len(STEPS):
        return _review(app, msg, d)
    nxt = STEPS[i]
    app.dialogs.set(msg.platform, msg.user, STEP, {"step": nxt, "draft": _dump(d)}, app.clock())
    return [_ask(nxt, d)]


def _ask(step: str, d: rp.Draft) -> Text:
    return {
        "type": Text(messages.REPORT_ASK_TYPE, TYPE_CHOICES),
        "date": Text(messages.REPORT_ASK_DATE, (Choice("今日", "今日"), Choice("昨日", "昨日"))),
        "case_code": Text(messages.REPORT_ASK_CASE, (Choice("なし", "なし"),)),
        "area": Text(messages.REPORT_ASK_AREA, (Choice(d.area, d.area),) if d.area else ()),
        "summary": Text(messages.REPORT_ASK_SUMMARY),
        "next": Text(messages.REPORT_ASK_NEXT, (Choice("なし", "なし"),)),
    }[step]


def _step(app, msg: Incoming, step: str, d: rp.Draft, t: str, fixing: bool = False) -> list[Reply]:
    if step == "type":
        rtype = rp.TYPE_WORDS.get(t.lower())
        if not rtype:
            return [Text(messages.REPORT_BAD_TYPE, TYPE_CHOICES)]
        d = replace(d, type=rtype)
    elif step == "date":
        try:
            day, rest = parse_date(t, app.clock())
        except TimeError as e:
            return [Text(str(e))]
        d = replace(d, date=day.isoformat())
    elif step == "case_code":
        if t in ("なし", "無し", "ない"):
            d = replace(d, case_code=None)
        elif rp.CASE_CODE.match(t):
            d = replace(d, case_code=t.upper())
        else:
            return [Text(messages.REPORT_BAD_CASE)]
    elif step == "area":
        if not t:
            return [_ask("area", d)]
        d = replace(d, area=t)
    elif step == "summary":
        if not t:
            return [Text(messages.REPORT_EMPTY)]
        d = replace(d, summary=t)
    elif step == "next":
        try:
            action, when = rp.parse_next(t, app.clock())
        except TimeError as e:
            return [Text(f"{e}\n{messages.REPORT_NEXT_EXAMPLE}")]
        d = replace(d, next_action=action, next_date=when)
    return _next_step(app, msg, step, d, fixing)


def _fix_choose(app, msg: Incoming, d: rp.Draft, t: str) -> list[Reply]:
    names = {v: k for k, v in messages.REPORT_FIELDS.items()}
    field = names.get(t)
    if field is None:
        return [Text(messages.REPORT_FIX_WHICH, tuple(Choice(v, v) for v in messages.REPORT_FIELDS.values()))]
    step = "next" if field == "next" else field
    app.dialogs.set(msg.platform, msg.user, FIX, {"draft": _dump(d), "field": step}, app.clock())
    return [_ask(step, d)]


def _commit(app, msg: Incoming, d: rp.Draft) -> list[Reply]:
    now = app.clock()
    by = f"{msg.platform}:{msg.user}"
    if d.report_id:
        row = rp.get(app.db, d.report_id)
        if row is None or not rp.editable(row, msg.platform, msg.user, now):
            app.dialogs.clear(msg.platform, msg.user, *STATES)
            return [Text(messages.REPORT_NOT_EDITABLE)]
        rp.update(app.db, d.report_id, d, by=by, now=now)
        app.dialogs.clear(msg.platform, msg.user, *STATES)
        return [Text(messages.report_updated(rp.number(d.report_id)))]
    source = f"{msg.platform}:{msg.event_id}" if msg.event_id else f"{msg.platform}:local:{uuid.uuid4().hex}"
    rid, created = rp.save(app.db, d, platform=msg.platform, author=msg.user, source_key=source, now=now)
    app.dialogs.clear(msg.platform, msg.user, *STATES)
    extra = rp.follow_up(app.db, rid, platform=msg.platform, author=msg.user, target=msg.conversation, now=now) \
        if created else []
    return [Text(messages.report_saved(rp.number(rid), extra))]


def _own_recent(app, msg: Incoming, text: str) -> tuple[dict | None, list[Reply]]:
    """The report named in ``text`` if this user may still change it; else the reason why not."""
    rid = rp.parse_number(text)
    row = rp.get(app.db, rid) if rid else None
    if row is None or not rp.editable(row, msg.platform, msg.user, app.clock()):
        return None, [Text(messages.REPORT_NOT_EDITABLE)]
    return row, []


def edit(app, msg: Incoming, text: str) -> list[Reply]:
    row, refusal = _own_recent(app, msg, text)
    return refusal or _review(app, msg, rp.draft_of(row))


def withdraw(app, msg: Incoming, text: str) -> list[Reply]:
    row, refusal = _own_recent(app, msg, text)
    if refusal:
        return refusal
    rp.withdraw(app.db, row["id"], by=f"{msg.platform}:{msg.user}", now=app.clock())
    return [Text(messages.report_withdrawn(rp.number(row["id"])))]


def listing(app, msg: Incoming, everyone: bool) -> list[Reply]:
    if everyone:  # the route lets only supervisors and admins (and the terminal) this far
        user = get_user(app.db, msg.platform, msg.user)
        rows = rp.recent(app.db, area=user.area if user else None, limit=20)
    else:
        rows = rp.recent(app.db, platform=msg.platform, author=msg.user, limit=10)
    if not rows:
        return [Text(messages.REPORT_NONE)]
    lines = [f"{rp.number(r['id'])} {_day(r['date'])} {r['type']} {r['case_code'] or ''} {r['summary'][:30]}"
             .replace("  ", " ") for r in rows]
    return [Text("\n".join(lines))]


REPORT_START = re.compile(r"^報告(?:\s+(.*))?$", re.S)
REPORT_EDIT = re.compile(r"^報告\s*修正\s*(R-?\d+)$", re.I)
REPORT_WITHDRAW = re.compile(r"^(?:報告\s*取消|報告\s*取り下げ|取り下げ)\s*(R-?\d+)$", re.I)
REPORT_LIST = re.compile(r"^報告一覧\s*(全体)?$")


# -- routes -------------------------------------------------------------------------------------
def _stop(app, msg: Incoming, m) -> list[Reply]:
    app.dialogs.clear(msg.platform, msg.user, *STATES)
    return [Text(messages.REPORT_CANCELLED)]


CONVERSATION = dialogs.conversation(Conversation(
    "report", STATES, timed_out=messages.REPORT_TIMED_OUT, captures=True,
    handle=lambda app, msg, state, w: handle(app, msg, w.typed),
    fallbacks=(Route(exact(*STOP_WORDS), _stop, "report_stop"),)))

ROUTES = (
    Route(lambda app, msg, w: True, lambda app, msg, m: attach_photo(app, msg), "photo", kind="image",
          direct_only=messages.REPORT_DIRECT_ONLY),
    Route(re.compile(r"^報告一覧\s*+全体$"), lambda app, msg, m: listing(app, msg, everyone=True), "report_list_area",
          direct_only=messages.REPORT_DIRECT_ONLY, roles=OVERSEEING, refused=messages.REPORT_SUPERVISOR_ONLY),
    Route(re.compile(r"^報告一覧$"), lambda app, msg, m: listing(app, msg, everyone=False), "report_list",
          direct_only=messages.REPORT_DIRECT_ONLY),
    Route(REPORT_EDIT, lambda app, msg, m: edit(app, msg, m.string), "report_edit", typed=True,
          direct_only=messages.REPORT_DIRECT_ONLY),
    Route(REPORT_WITHDRAW, lambda app, msg, m: withdraw(app, msg, m.string), "report_withdraw", typed=True,
          direct_only=messages.REPORT_DIRECT_ONLY),
    Route(REPORT_START, lambda app, msg, m: start(app, msg, m.group(1) or ""), "report_start", typed=True,
          direct_only=messages.REPORT_DIRECT_ONLY),
)
