"""「報告 …」: a field report in one message or step by step, shown back, and saved on 「確定」.

The draft lives in the dialog state (SQLite), so it survives a restart and ends after 30 minutes.
Personal data found in it is named and nothing is stored until the user chooses to mask it or
keep it.  Until then the dialog state holds the draft's text masked, and the words as typed only
sealed (``Dialogs.seal``: encrypted, its key outside the database), which is what lets
「そのまま確定」 save them a turn later.  Reports are taken and shown in 1:1 chats only.

While a report is written it takes the user's messages, but it does not trap them: every step says
how to stop, and a message that is clearly another command (ヘルプ, 予定, a question ending in ？
that is no answer to the step) is met with 「報告の入力を中断しますか？」.  Setting the report aside
moves the draft, unchanged, into a slot of its own that takes no messages, answers the command, and
「報告」 offers the draft again: nothing typed is lost.  A one-line report whose 「次回」 cannot be
read keeps the rest and asks for the 次回 only.  A peer supporter writes activity reports only.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

from scheduler.timeparse import TimeError, parse_date
from scheduler.workdays import TZ

from bot import messages
from bot.reports import photos
from bot.privacy import guard as privacy
from bot.reports import records as reports
from bot.people.access import OVERSEEING, get_user
from bot.chat.core import Choice, Form, Incoming, Reply, Text
from bot.chat.routes import STOP_WORDS, Conversation, Route, Words, always, exact

STEPS = ("type", "date", "case_code", "area", "summary", "next")
NONE_WORDS = ("なし", "無し", "ない")
REVIEW = "report_review"
STEP = "report_step"
FIX = "report_fix"
ASIDE = "report_aside"   # a draft set aside: kept in a slot of its own that takes no messages
ASIDE_WORDS = {"中断", "中断する", "中断します"}
RESUME_WORDS = {"続ける": True, "続きから": True, "新しく書く": False}
TYPE_CHOICES = tuple(Choice(t, t) for t in reports.TYPES)
# 「内容 服薬確認できた。」「次回12/15」 at the review or at 「どこを直しますか？」: the field named and its
# new value in one message, as people correct a form on a phone; taken as that field's edit.
FIELD_EDIT = re.compile(r"^(種類|日付|ケース(?:コード)?|地域|内容|次回)\s*+[:：]?\s*+(\S.*)$", re.S)
FIELD_OF = {**{v: k for k, v in messages.REPORT_FIELDS.items()}, "ケースコード": "case_code"}


def _area(app, msg: Incoming) -> str:
    user = get_user(app.db, msg.platform, msg.user)
    return user.area if user else ""


def _own_area(app, msg: Incoming) -> str | None:
    """The area every report of this user is filed under: their registered one, whatever was typed
    (who reads a report goes by its area: a report filed under another area would hide it from the
    author's supervisor and show it to another's).  None for the terminal's local user, who has no
    registered area and names the area themselves."""
    user = get_user(app.db, msg.platform, msg.user)
    return user.area if user else None


def _types(app, msg: Incoming) -> tuple[str, ...]:
    """The report types this user may write (a peer supporter: activity reports only)."""
    user = get_user(app.db, msg.platform, msg.user)
    return reports.types_for(user.role if user else None)


def _type_choices(app, msg: Incoming) -> tuple[Choice, ...]:
    types = _types(app, msg)
    return tuple(Choice(t, t) for t in reports.TYPES if t in types)


def _prompt(text: str, choices: tuple[Choice, ...] = ()) -> Text:
    """What a step says: its question, and how to stop or step out (unless it says so already)."""
    return Text(text if "やめる" in text else f"{text}\n{messages.REPORT_STOP_HINT}", choices)


def _day(iso: str | None) -> str:
    return messages.fmt_day(date.fromisoformat(iso)) if iso else ""


def _lines(d: reports.Draft) -> list[str]:
    nxt = "なし" if not d.next_date else " ".join(x for x in (_day(d.next_date), d.next_time, d.next_action) if x)
    lines = [f"種類：{d.type}", f"日付：{_day(d.date)}", f"ケース：{d.case_code or 'なし'}", f"地域：{d.area or '—'}",
             f"内容：{d.summary}", f"次回：{nxt}"]
    return lines + ([f"写真：{len(d.photos)}枚"] if d.photos else [])


def _findings(d: reports.Draft) -> list[privacy.Finding]:
    return privacy.find(d.summary) + privacy.find(d.next_action or "")


def _review(app, msg: Incoming, d: reports.Draft) -> list[Reply]:
    found = _findings(d)
    app.dialogs.set(msg.platform, msg.user, REVIEW, {"draft": _dump(app, d)}, app.clock())
    if found:
        choices = (Choice("伏せて確定", "伏せて確定"), Choice("そのまま確定", "そのまま確定"),
                   Choice("修正", "修正"), Choice("取消", "取消"))
    else:
        choices = (Choice("確定", "確定"), Choice("修正", "修正"), Choice("取消", "取消"))
    editing = reports.number(d.report_id) if d.report_id else None
    return [Text(messages.report_review(_lines(d), privacy.describe(found) if found else None, editing), choices)]


TYPED = ("area", "summary", "next_action")  # a draft's free text: what may name a person


def _dump(app, d: reports.Draft) -> dict:
    """The draft as the dialog state keeps it: free text masked, the words as typed sealed."""
    return app.dialogs.keep_masked({**d.fields(), "report_id": d.report_id, "photos": list(d.photos)}, TYPED)


def _load(app, data: dict) -> reports.Draft:
    """The draft back, as typed when its seal opens (else as masked: nothing unmasked was kept)."""
    data = app.dialogs.as_typed(data)
    return reports.Draft(**{**data, "photos": tuple(data.get("photos", ()))})


def _photos_of(data: dict | None) -> list[str]:
    draft = (data or {}).get("draft")
    return list(draft.get("photos", ())) if isinstance(draft, dict) else []


def _draft_ended(db, data: dict, next_data: dict | None) -> None:
    """A draft ended (cancelled, timed out, saved, set aside, or replaced, e.g. by Slack's report
    form): its photo files go unless the next state or another live state (the same draft set aside
    or taken back) still holds them, or a saved report took them."""
    kept = set(_photos_of(next_data))
    gone = [p for p in _photos_of(data) if p not in kept]
    held = {p for p in gone if db.execute("SELECT 1 FROM dialog_state WHERE instr(data, ?) > 0 LIMIT 1",
                                          [Path(p).name]).fetchone()}
    reports.discard_photos(db, [p for p in gone if p not in held])


STATES = (REVIEW, STEP, FIX)


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
    d = _load(app, st.data["draft"])
    d = replace(d, photos=d.photos + (str(path),))
    app.dialogs.set(msg.platform, msg.user, st.name, {**st.data, "draft": _dump(app, d)}, app.clock())
    return [Text(messages.photo_kept(len(d.photos)))]


# -- the report form (Slack's modal) ---------------------------------------------------------------
# The fields a report form sends (``Incoming.form``), whatever platform shows it: 種類, 日付,
# ケースコード, 地域, 内容, 次の予定 and its date.  Which form it is and how it looks is the adapter's.
FORM = "report"


def open_form(app, msg: Incoming) -> list[Reply]:
    """The report form, asked for (Slack's 「報告」 button, 「/nimo 報告」): dated today and filed
    under the user's area.  The router has already let only a registered user this far."""
    return [Form(FORM, {"date": app.clock().astimezone(TZ).date().isoformat(), "area": _area(app, msg)})]


def from_form(app, msg: Incoming) -> list[Reply]:
    """A filled-in report form: the same review as a typed report, then 「確定」 in the chat.  Its
    mistakes were shown beside its fields before it was sent (``bot/adapters/slack_form.py``)."""
    f = msg.form or {}
    case, next_date = f.get("case"), f.get("next_date")
    draft = reports.Draft(type=f.get("type") or "訪問", date=f.get("date") or "",
                          case_code=case.upper() if case else None, area=f.get("area") or "",
                          summary=f.get("summary") or "",
                          next_action=(f.get("next_action") or "次回訪問") if next_date else None, next_date=next_date)
    return review_draft(app, msg, draft)


def review_draft(app, msg: Incoming, d: reports.Draft) -> list[Reply]:
    """A draft filled in elsewhere (the report form) goes to the same review as a typed one,
    under the author's own area (a form's other area is said and set right)."""
    if d.type not in _types(app, msg):
        return [Text(messages.PEER_REPORT_TYPES)]
    own = _own_area(app, msg)
    if own is not None and d.area != own:
        return [Text(messages.report_area_own(own))] + _review(app, msg, replace(d, area=own))
    return _review(app, msg, d)


def start(app, msg: Incoming, rest: str) -> list[Reply]:
    """「報告」 alone starts the steps (or offers the draft set aside); 「報告 訪問 K-012 …」 goes
    straight to the review, or to the one step it could not read."""
    area = _area(app, msg)
    if not rest.strip():
        aside = app.dialogs.get(msg.platform, msg.user, app.clock(), ASIDE)
        if aside is not None:
            app.dialogs.set(msg.platform, msg.user, STEP, {"step": "resume", "draft": _dump(app, reports.Draft(area=area))},
                            app.clock())
            return [_resume_ask(app, aside)]
        app.dialogs.set(msg.platform, msg.user, STEP, {"step": "type", "draft": _dump(app, reports.Draft(area=area))}, app.clock())
        return [_ask("type", reports.Draft(area=area), _type_choices(app, msg))]
    return _from_line(app, msg, rest, area)


def _from_line(app, msg: Incoming, line: str, area: str, was: reports.Draft | None = None) -> list[Reply]:
    """A report written on one line: to the review, or to the one step it could not read.  ``was``
    is the draft the steps had built so far: its photos (and the report it edits) stay with it."""
    types = _types(app, msg)
    kept = {"photos": was.photos, "report_id": was.report_id} if was is not None else {}
    try:
        d = replace(reports.parse_one_line(line, app.clock(), area, default_type=types[0] if len(types) == 1 else "訪問"),
                    **kept)
    except reports.NextUnread as e:
        draft = replace(e.draft, **kept)
        if draft.type not in types:
            return [Text(messages.PEER_REPORT_TYPES)]
        step = "summary" if not draft.summary else "next"
        app.dialogs.set(msg.platform, msg.user, STEP, {"step": step, "draft": _dump(app, draft)}, app.clock())
        if step == "summary":
            return [_ask("summary", draft)]
        return [_prompt(messages.report_next_missing(e.unread, str(e)), (Choice("なし", "なし"),))]
    if d.type not in types:
        return [Text(messages.PEER_REPORT_TYPES)]
    if not d.summary:
        app.dialogs.set(msg.platform, msg.user, STEP, {"step": "summary", "draft": _dump(app, d)}, app.clock())
        return [_ask("summary", d)]
    return _review(app, msg, d)


def _whole_line(app, msg: Incoming, step: str, d: reports.Draft, t: str) -> list[Reply] | None:
    """A step answered with the rest of the report at once: asked for the case code, a busy person
    types 「K-012 自宅訪問。服薬できている。次回12/10」.  When the message starts with this step's
    answer and goes on, it is read as a one-line report (「報告 訪問 K-012 …」) with what the steps
    before gave, instead of being refused (the case code) or cut to its first word (the date).
    None when the message is this step's answer alone, or does not start with one."""
    words = t.split()
    if len(words) < 2:
        return None
    first = words[0]
    if step == "type":
        answered = reports.type_of(first) is not None
    elif step == "date":
        try:
            answered = not parse_date(first, app.clock())[1].strip()
        except TimeError:
            answered = False
    else:
        answered = reports.case_code(first) is not None
    if not answered:
        return None
    known = {"type": [], "date": [d.type], "case_code": [d.type, d.date]}[step]
    return _from_line(app, msg, " ".join([w for w in known if w] + [t]), d.area, was=d)


def _resume_ask(app, aside) -> Text:
    d = _load(app, aside.data["draft"])
    what = " ".join(x for x in (d.type if aside.data.get("step") != "type" else "", d.case_code or "",
                                d.summary[:20] + ("…" if len(d.summary) > 20 else "")) if x) or "種類の選択まで"
    return Text(messages.report_resume_ask(what), (Choice("続ける", "続ける"), Choice("新しく書く", "新しく書く")))


def _resume(app, msg: Incoming, t: str, words: Words) -> list[Reply]:
    """The answer to 「書きかけの報告があります。続けますか？」."""
    aside = app.dialogs.get(msg.platform, msg.user, app.clock(), ASIDE)
    if aside is None:  # it timed out meanwhile: start afresh
        return start(app, msg, "")
    if t in RESUME_WORDS:
        if not RESUME_WORDS[t]:
            app.dialogs.clear(msg.platform, msg.user, ASIDE)
            return start(app, msg, "")
        data = {k: v for k, v in aside.data.items() if k != "was"}
        app.dialogs.set(msg.platform, msg.user, aside.data["was"], data, app.clock())  # the draft back in its step
        app.dialogs.clear(msg.platform, msg.user, ASIDE)
        return _again(app, msg)
    if _commands(app, msg, words, always_only=False) or t.endswith(("?", "？")):
        app.dialogs.clear(msg.platform, msg.user, STEP)  # the question is left; the draft stays aside
        return app.handle(msg)
    return [Text(messages.REPORT_RESUME_WHICH, (Choice("続ける", "続ける"), Choice("新しく書く", "新しく書く")))]


def _again(app, msg: Incoming) -> list[Reply]:
    """What the report being written asks now (after 「報告を続ける」 or taking a draft back)."""
    st = app.dialogs.get(msg.platform, msg.user, app.clock(), *STATES)
    d = _load(app, st.data["draft"])
    if st.name == REVIEW:
        return _review(app, msg, d)
    if st.name == FIX and st.data.get("field") is None:
        return [_prompt(messages.REPORT_FIX_WHICH, tuple(Choice(v, v) for v in messages.REPORT_FIELDS.values()))]
    step = st.data["field"] if st.name == FIX else st.data["step"]
    if step == "resume":
        return start(app, msg, "")
    return [_ask(step, d, _type_choices(app, msg))]


# -- stepping out of a report -------------------------------------------------------------------
# Routes whose words are never an answer to a step (「予定」「ヘルプ」 are no summary either), and
# routes that are, unless the step would take the text as its answer (「リマインド 明日10時 …」).
# Other modules' routes, by name: tests/test_route_table.py checks that each one exists.
ALWAYS_ANOTHER = ("help", "help_topic", "ask_prompt", "listing", "listing_area", "case_visits", "report_list",
                  "report_list_area", "report_list_case", "console_link", "proposal_start", "rsvp")
# 「報告 電話 K-1 …」: another report; 「K-012」: the case's visits, unless the step asks for a case code
UNLESS_AN_ANSWER = ("reminder", "event", "plan", "report_start", "case_visits_asked")


def _commands(app, msg: Incoming, words: Words, always_only: bool) -> bool:
    names = ALWAYS_ANOTHER if always_only else ALWAYS_ANOTHER + UNLESS_AN_ANSWER
    return any(app.registry.route(name).hit(app, msg, words) for name in names)


def _plausible(app, st, t: str) -> bool:
    """Whether the step waiting would take ``t`` as its answer."""
    if st.name == REVIEW:
        return t in ("確定", "伏せて確定", "そのまま確定", "修正")
    if st.name == FIX and st.data.get("field") is None:
        return t in messages.REPORT_FIELDS.values()
    step = st.data["field"] if st.name == FIX else st.data["step"]
    try:
        if step == "type":
            return reports.type_of(t) is not None
        if step == "date":
            return not parse_date(t, app.clock())[1].strip()
        if step == "case_code":
            return t in NONE_WORDS or reports.case_code(t) is not None
        if step == "next":
            reports.parse_next(t, app.clock())
            return True
    except TimeError:
        return False
    if step == "area":
        return not t.endswith(("?", "？"))
    return True  # a summary may be anything the user wrote, a question too


def _another_command(app, msg: Incoming, st, t: str, words: Words) -> bool:
    """Whether ``t`` is clearly something other than this step's answer."""
    if _commands(app, msg, words, always_only=True):
        return True
    if _plausible(app, st, t):
        return False
    return t.endswith(("?", "？")) or _commands(app, msg, words, always_only=False)


def _ask_aside(app, msg: Incoming, st, t: str, words: Words) -> list[Reply]:
    # sealed: the waiting command may be a question naming someone (「田中さんの件は？」)
    app.dialogs.set(msg.platform, msg.user, st.name, {**st.data, "pending": app.dialogs.seal(t)}, app.clock())
    label = "質問" if t.endswith(("?", "？")) and len(t) > 3 else (t if len(t) <= 8 else "次の操作")
    return [Text(messages.REPORT_ASIDE_ASK, (Choice(f"中断して{label}", "中断する"),
                                             Choice(messages.REPORT_CONTINUE, messages.REPORT_CONTINUE)))]


def _set_aside(app, msg: Incoming, st) -> list[Reply]:
    """The draft moves, as it is, to the ASIDE slot; the command that was waiting is answered."""
    pending = app.dialogs.unseal(st.data.get("pending"))
    pending = pending if isinstance(pending, str) else None
    data = {k: v for k, v in st.data.items() if k != "pending"}
    app.dialogs.set(msg.platform, msg.user, ASIDE, {**data, "was": st.name}, app.clock())
    app.dialogs.clear(msg.platform, msg.user, *STATES)
    said = [Text(messages.REPORT_ASIDE_DONE)]
    return said + (app.handle(replace(msg, text=pending, postback=None)) if pending else [])


def handle(app, msg: Incoming, st, words: Words) -> list[Reply]:
    """A message while a report is being written; ``st`` is its state, as the router read it."""
    t = words.typed.strip()
    d = _load(app, st.data["draft"])
    if st.name == STEP and st.data["step"] == "resume":
        return _resume(app, msg, t, words)
    if t in ASIDE_WORDS:
        return _set_aside(app, msg, st)
    if t == messages.REPORT_CONTINUE or t == "報告":  # 「報告」 again: where the report being written is
        app.dialogs.set(msg.platform, msg.user, st.name, {k: v for k, v in st.data.items() if k != "pending"},
                        app.clock())
        return _again(app, msg)
    if _another_command(app, msg, st, t, words):
        return _ask_aside(app, msg, st, t, words)
    if st.name == STEP:
        return _step(app, msg, st.data["step"], d, t)
    if st.name == FIX:
        if st.data.get("field") is None:
            return _field_edit(app, msg, st, d, t) or _fix_choose(app, msg, d, t)
        return _step(app, msg, st.data["field"], d, t, fixing=True)
    # REVIEW
    if edited := _field_edit(app, msg, st, d, t):
        return edited
    if t in FIELD_OF:  # 「内容」 alone at the review: that field is asked for, as after 「修正」
        return _fix_choose(app, msg, d, "ケース" if t == "ケースコード" else t)
    if t == "修正":
        app.dialogs.set(msg.platform, msg.user, FIX, {"draft": _dump(app, d), "field": None}, app.clock())
        return [_prompt(messages.REPORT_FIX_WHICH, tuple(Choice(v, v) for v in messages.REPORT_FIELDS.values()))]
    found = _findings(d)
    if t == "伏せて確定" and found:
        d = replace(d, summary=privacy.mask(d.summary), next_action=privacy.mask(d.next_action) if d.next_action else None)
        return _commit(app, msg, d)
    if t == "そのまま確定" and found:
        return _commit(app, msg, d)
    if t == "確定":
        return [Text(messages.REPORT_PRIVACY_CHOOSE)] if found else _commit(app, msg, d)
    return [Text(messages.REPORT_PRIVACY_CHOOSE if found else messages.REPORT_WAITING)]


def _next_step(app, msg: Incoming, step: str, d: reports.Draft, fixing: bool) -> list[Reply]:
    if fixing:
        return _review(app, msg, d)
    i = STEPS.index(step) + 1
    if i >= len(STEPS):
        return _review(app, msg, d)
    nxt = STEPS[i]
    app.dialogs.set(msg.platform, msg.user, STEP, {"step": nxt, "draft": _dump(app, d)}, app.clock())
    return [_ask(nxt, d, _type_choices(app, msg))]


def _ask(step: str, d: reports.Draft, types: tuple[Choice, ...] = TYPE_CHOICES) -> Text:
    return {
        "type": _prompt(messages.REPORT_ASK_TYPE, types),
        "date": _prompt(messages.REPORT_ASK_DATE, (Choice("今日", "今日"), Choice("昨日", "昨日"))),
        "case_code": _prompt(messages.REPORT_ASK_CASE, (Choice("なし", "なし"),)),
        "area": _prompt(messages.REPORT_ASK_AREA, (Choice(d.area, d.area),) if d.area else ()),
        "summary": _prompt(messages.REPORT_ASK_SUMMARY),
        "next": _prompt(messages.REPORT_ASK_NEXT, (Choice("なし", "なし"),)),
    }[step]


def _step(app, msg: Incoming, step: str, d: reports.Draft, t: str, fixing: bool = False) -> list[Reply]:
    if not fixing and step in ("type", "date", "case_code"):
        if (whole := _whole_line(app, msg, step, d, t)) is not None:
            return whole
    if step == "type":
        rtype = reports.type_of(t)
        types = _types(app, msg)
        if rtype not in types:
            return [_prompt(messages.REPORT_BAD_TYPE if len(types) > 1 else messages.PEER_REPORT_TYPES,
                            _type_choices(app, msg))]
        d = replace(d, type=rtype)
    elif step == "date":
        try:
            day, rest = parse_date(t, app.clock())
        except TimeError as e:
            return [_prompt(str(e))]
        d = replace(d, date=day.isoformat())
    elif step == "case_code":
        if t in NONE_WORDS:
            d = replace(d, case_code=None)
        elif reports.case_code(t):
            d = replace(d, case_code=reports.case_code(t))
        else:
            return [_prompt(messages.REPORT_BAD_CASE)]
    elif step == "area":
        if not t:
            return [_ask("area", d)]
        own = _own_area(app, msg)
        if own is not None and t != own:  # said, and the report stays in the author's area
            return [Text(messages.report_area_own(own))] + _next_step(app, msg, step, replace(d, area=own), fixing)
        d = replace(d, area=own if own is not None else "" if t in NONE_WORDS else t)  # 「なし」 is no area called なし
    elif step == "summary":
        if not t:
            return [_prompt(messages.REPORT_EMPTY)]
        d = replace(d, summary=t)
    elif step == "next":
        try:
            action, when, at = reports.parse_next(t, app.clock())
        except TimeError as e:
            return [_prompt(f"{e}\n{messages.REPORT_NEXT_EXAMPLE}")]
        d = replace(d, next_action=action, next_date=when, next_time=at)
    return _next_step(app, msg, step, d, fixing)


def _field_edit(app, msg: Incoming, st, d: reports.Draft, t: str) -> list[Reply] | None:
    """「内容 …」: that field set to what follows, then the review again (or that field asked for
    again, with the reason, when the value cannot be read); None when ``t`` names no field."""
    m = FIELD_EDIT.match(t)
    if m is None:
        return None
    step = FIELD_OF[m.group(1)]
    app.dialogs.set(msg.platform, msg.user, FIX, {**st.data, "draft": _dump(app, d), "field": step}, app.clock())
    return _step(app, msg, step, d, m.group(2).strip(), fixing=True)


def _fix_choose(app, msg: Incoming, d: reports.Draft, t: str) -> list[Reply]:
    names = {v: k for k, v in messages.REPORT_FIELDS.items()}
    field = names.get(t)
    if field is None:
        return [_prompt(messages.REPORT_FIX_WHICH, tuple(Choice(v, v) for v in messages.REPORT_FIELDS.values()))]
    step = "next" if field == "next" else field
    app.dialogs.set(msg.platform, msg.user, FIX, {"draft": _dump(app, d), "field": step}, app.clock())
    return [_ask(step, d, _type_choices(app, msg))]


def _commit(app, msg: Incoming, d: reports.Draft) -> list[Reply]:
    now = app.clock()
    by = f"{msg.platform}:{msg.user}"
    if d.type not in _types(app, msg):  # a draft from elsewhere (an edit, a form): the same rule as typed ones
        return [Text(messages.PEER_REPORT_TYPES)]
    if (own := _own_area(app, msg)) is not None:  # whatever a stored draft says (one from before this rule)
        d = replace(d, area=own)
    if d.report_id:
        row = reports.get(app.db, d.report_id)
        if row is None or not reports.editable(row, msg.platform, msg.user, now):
            app.dialogs.clear(msg.platform, msg.user, *STATES)
            return [Text(messages.REPORT_NOT_EDITABLE)]
        num = reports.number(d.report_id)
        if reports.unchanged(row, d):  # nothing was changed: say so, and write no audit of a non-change
            app.dialogs.clear(msg.platform, msg.user, *STATES)
            return [Text(messages.report_unchanged(num))]
        reports.update(app.db, d.report_id, d, by=by, now=now)
        app.dialogs.clear(msg.platform, msg.user, *STATES)  # after the update: a draft's photos are now the report's
        extra = []
        if reports.next_changed(row, d):  # 「次回」 corrected: its reminder follows
            cancelled, extra = reports.renew_next(app.db, d.report_id, platform=msg.platform, author=msg.user,
                                                  target=msg.conversation, now=now)
            if cancelled:
                extra = [messages.next_reminders_cancelled(cancelled)] + extra
        return [Text("\n".join([messages.report_updated(num)] + extra))]
    source = f"{msg.platform}:{msg.event_id}" if msg.event_id else f"{msg.platform}:local:{uuid.uuid4().hex}"
    rid, created = reports.save(app.db, d, platform=msg.platform, author=msg.user, source_key=source, now=now)
    app.dialogs.clear(msg.platform, msg.user, *STATES)
    extra = reports.follow_up(app.db, rid, platform=msg.platform, author=msg.user, target=msg.conversation, now=now) \
        if created else []
    return [Text(messages.report_saved(reports.number(rid), extra))]


def _own_recent(app, msg: Incoming, text: str) -> tuple[dict | None, list[Reply]]:
    """The report named in ``text`` if this user may still change it; else the reason why not."""
    rid = reports.parse_number(text)
    row = reports.get(app.db, rid) if rid else None
    if row is None or not reports.editable(row, msg.platform, msg.user, app.clock()):
        return None, [Text(messages.REPORT_NOT_EDITABLE)]
    return row, []


def edit(app, msg: Incoming, text: str) -> list[Reply]:
    row, refusal = _own_recent(app, msg, text)
    return refusal or _review(app, msg, reports.draft_of(row))


def withdraw(app, msg: Incoming, text: str) -> list[Reply]:
    row, refusal = _own_recent(app, msg, text)
    if refusal:
        return refusal
    cancelled = reports.withdraw(app.db, row["id"], by=f"{msg.platform}:{msg.user}", now=app.clock())
    said = messages.report_withdrawn(reports.number(row["id"]))
    return [Text("\n".join([said, messages.next_reminders_cancelled(cancelled, withdrawn=True)]) if cancelled else said)]


def listing(app, msg: Incoming, everyone: bool) -> list[Reply]:
    if everyone:  # the route lets only supervisors and admins (and the terminal) this far
        user = get_user(app.db, msg.platform, msg.user)
        rows = reports.recent(app.db, area=user.area if user else None, limit=20)
    else:
        rows = reports.recent(app.db, platform=msg.platform, author=msg.user, limit=10)
    if not rows:
        return [Text(messages.REPORT_NONE)]
    return [Text("\n".join(_list_lines(rows)))]


def _list_lines(rows: list[dict]) -> list[str]:
    return [f"{reports.number(r['id'])} {_day(r['date'])} {r['type']} {r['case_code'] or ''} {excerpt(r['summary'], 30)}"
            .replace("  ", " ") for r in rows]


LIST_CUT_LOOKBACK = 10  # how far before the limit a better place to cut is looked for


def _kind(ch: str) -> str:
    """The script of a character, so a cut can fall where one kind of word gives way to another."""
    if "\u30a0" <= ch <= "\u30ff" or ch == "ー":
        return "katakana"
    if "\u3040" <= ch <= "\u309f":
        return "hiragana"
    if "\u4e00" <= ch <= "\u9fff" or ch == "々":
        return "kanji"
    return "alnum" if ch.isalnum() else "other"


def _joins(ch: str) -> bool:
    """A character that belongs to the one before it (a combining or voicing mark, a variation
    selector, a zero-width joiner, an emoji modifier): never the first after a cut."""
    return (unicodedata.combining(ch) > 0 or ch in "\u200d\u3099\u309a\uff9e\uff9f"
            or "\ufe00" <= ch <= "\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff")


def excerpt(text: str, limit: int) -> str:
    """``text`` on one line, up to ``limit`` characters, cut where it reads well and marked with …:
    after a sentence's end, else after 、 or a space, else where the script changes (「服薬確認|できた」),
    never inside a word of one script nor between a character and its marks when the limit allows."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    best, best_score = limit, -1
    for i in range(limit, max(limit - LIST_CUT_LOOKBACK, 1) - 1, -1):
        before, after = text[i - 1], text[i]
        if _joins(after):
            continue
        score = 3 if before in "。．！？!?" else 2 if before in "、，, " else 1 if _kind(before) != _kind(after) else 0
        if score > best_score:
            best, best_score = i, score
    while best > 1 and _joins(text[best]):  # nothing better: at least a whole character
        best -= 1
    return text[:best].rstrip("、， ") + "…"


def case_listing(app, msg: Incoming, m) -> list[Reply]:
    """「報告一覧 K-012」: one case's reports, mine; a supervisor's or admin's of the whole area."""
    code = reports.case_code(m.group(1)) or m.group(1).upper()
    user = get_user(app.db, msg.platform, msg.user)
    if user is not None and user.role in OVERSEEING:
        rows, area = reports.by_case(app.db, code, area=user.area), user.area
    else:
        rows, area = reports.by_case(app.db, code, platform=msg.platform, author=msg.user), None
    if not rows:
        return [Text(messages.case_reports_none(code, area))]
    return [Text(messages.case_reports(code, _list_lines(rows)))]


REPORT_START = re.compile(r"^報告(?:\s+(.*))?$", re.S)
# 「ピア活動の報告したい」「報告を書きたい」「活動報告します」: the wish to report, said as a sentence
# (searched as a question before, which answered with cases about reports).  What comes before 報告
# is its type when it reads as one; a sentence about something else (「事故の報告したい」) is not taken.
REPORT_WISH = re.compile(r"^(.{0,8}?)の?\s*+報告\s*+[をが]?\s*+(?:したい|します|しよう|する|書きたい|書く|書きます|"
                         r"入れたい|入力したい|お願いします|をお願いします)(?:です|んですが|のですが)?[。!！]*+$")


def _wish(app, msg: Incoming, w: Words):
    """(the type named, or None) when ``w`` is a wish to write a report; else None."""
    m = REPORT_WISH.match(w.norm)
    if m is None:
        return None
    named = m.group(1).strip()
    if not named:
        return (None,)
    rtype = reports.type_of(named) or reports.type_of(named + "報告")
    return (rtype,) if rtype else None


def start_wish(app, msg: Incoming, rtype: str | None) -> list[Reply]:
    """A report started from a sentence: with its type named (and the user's to use), at the date
    step; else as 「報告」 alone."""
    if rtype is None:
        return start(app, msg, "")
    if rtype not in _types(app, msg):
        return [Text(messages.PEER_REPORT_TYPES)]
    d = reports.Draft(area=_area(app, msg), type=rtype)
    app.dialogs.set(msg.platform, msg.user, STEP, {"step": "date", "draft": _dump(app, d)}, app.clock())
    asked = _ask("date", d)
    return [Text(f"{messages.report_of_type(rtype)}\n{asked.text}", asked.choices)]
REPORT_EDIT = re.compile(r"^報告\s*修正\s*(R-?\d+)$", re.I)
REPORT_WITHDRAW = re.compile(r"^(?:報告\s*取消|報告\s*取り下げ|取り下げ)\s*(R-?\d+)$", re.I)
REPORT_LIST = re.compile(r"^報告一覧\s*(全体)?$")
REPORT_CASE = re.compile(rf"^報告一覧\s*+({reports.CODE})$")


# -- routes -------------------------------------------------------------------------------------
def _stop(app, msg: Incoming, m) -> list[Reply]:
    app.dialogs.clear(msg.platform, msg.user, *STATES, ASIDE)  # a draft set aside goes too: 「やめる」 is for all
    return [Text(messages.REPORT_CANCELLED)]


# A draft's photo files go with it, however it ends (_draft_ended), also when set aside or taken back.
CONVERSATIONS = (
    Conversation("report", STATES, timed_out=messages.REPORT_TIMED_OUT, captures=True, handle=handle,
                 fallbacks=(Route(exact(*STOP_WORDS), _stop, "report_stop"),), on_end=_draft_ended),
    # The draft set aside takes no messages (it does not capture); 「報告」 offers it back.
    Conversation("report_aside", (ASIDE,), timed_out=messages.REPORT_ASIDE_TIMED_OUT, on_end=_draft_ended),
)

ROUTES = (
    Route(always, lambda app, msg, m: attach_photo(app, msg), "photo", kind="image",
          direct_only=messages.REPORT_DIRECT_ONLY, group="events"),
    Route(re.compile(r"^報告一覧\s*+全体$"), lambda app, msg, m: listing(app, msg, everyone=True), "report_list_area",
          direct_only=messages.REPORT_DIRECT_ONLY, roles=OVERSEEING, refused=messages.REPORT_SUPERVISOR_ONLY,
          group="reports"),
    Route(re.compile(r"^報告一覧$"), lambda app, msg, m: listing(app, msg, everyone=False), "report_list",
          direct_only=messages.REPORT_DIRECT_ONLY, group="reports"),
    Route(REPORT_CASE, case_listing, "report_list_case", direct_only=messages.REPORT_DIRECT_ONLY, group="reports"),
    Route(REPORT_EDIT, lambda app, msg, m: edit(app, msg, m.string), "report_edit", typed=True,
          direct_only=messages.REPORT_DIRECT_ONLY, group="reports"),
    Route(REPORT_WITHDRAW, lambda app, msg, m: withdraw(app, msg, m.string), "report_withdraw", typed=True,
          direct_only=messages.REPORT_DIRECT_ONLY, group="reports"),
    Route(REPORT_START, lambda app, msg, m: start(app, msg, m.group(1) or ""), "report_start", typed=True,
          direct_only=messages.REPORT_DIRECT_ONLY, group="reports"),
    Route(_wish, lambda app, msg, m: start_wish(app, msg, m[0]), "report_wish", direct_only=messages.REPORT_DIRECT_ONLY,
          group="reports"),
    # the report form: asked for by its name, and sent back filled in
    Route(exact("報告"), lambda app, msg, m: open_form(app, msg), "report_form_open", kind="open_form",
          direct_only=messages.REPORT_DIRECT_ONLY, group="reports"),
    Route(lambda app, msg, w: msg.form is not None, lambda app, msg, m: from_form(app, msg), "report_form",
          kind="form", direct_only=messages.REPORT_DIRECT_ONLY, group="reports"),
)
