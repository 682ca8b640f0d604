"""Visit plans after they are registered: 「計画終了」 and 「引継ぎ」.

「計画終了 K-012 再入院」 ends the case's active plans (readmitted, moved away): their open visits are
cancelled and no reminder of them is sent.  「引継ぎ K-012 佐藤」 gives them to a colleague of the same
area on the same platform, who is told by a notice the worker sends (bot/serve/notices.py).  Both are read
back and wait for 「はい」 in the CONFIRM conversation of remind.py (this module's CONFIRMATIONS say what
「はい」 does to them); a missing reason, case or colleague is asked for with buttons that send the
whole command again, so no other state is kept.  Staff act on their own plans, supervisors and
admins on their area's.
"""
from __future__ import annotations

import re
import unicodedata

from scheduler import store

from bot import messages
from bot.people.access import OVERSEEING, get_user
from bot.chat.core import Choice, Incoming, Reply, Text
from bot.reports.records import CODE
from bot.chat.routes import Route
from bot.handlers.remind import CONFIRM, YES_NO, canonical_code

PLAN_ROLES = ("staff", "supervisor", "admin")  # who may hold a visit plan (a peer supporter may not)
_CODE = rf"{CODE}(?![0-9A-Za-z])"
CODE_AT = re.compile(rf"^({_CODE})")
CLOSE_HEAD = re.compile(rf"^(?:({_CODE})\s*+(?:の\s*+)?)?(?:訪問)?計画(?:を|の)?\s*+(?:終了|終わり|おわり)"
                        r"(?:する|します|にする|にします)?")
HANDOVER_HEAD = re.compile(r"^(?:引き?継(?:ぎ|ぐ)?|ひきつぎ|担当変更)")
HANDOVER_TAIL = re.compile(r"(?:引き?継ぎ|引き?継ぐ|ひきつぎ)(?:ます|します|する|して|たい)?[。!]*+$")
# The reasons and the words people use for them, in the order they are looked for.
REASON_WORDS = (("再入院", ("再入院", "入院")), ("転居", ("転居", "引っ越", "引越", "転出")),
                ("支援終了", ("支援終了", "終結", "終了")), ("その他", ("その他", "そのほか")))
NAME_SUFFIX = re.compile(r"(?:さん|様|さま|氏)$")
PICK_MAX = 12  # buttons in one pick list (LINE takes 13 quick replies)


def _close_words(app, msg: Incoming, w) -> tuple[str, str] | None:
    """(case code or "", what follows) of 「計画終了 K-012 再入院」, 「K-012の計画を終了 転居」 or a bare
    「計画終了」; None for anything else (「計画終了後の支援」 is a question)."""
    m = CLOSE_HEAD.match(w.norm)
    if not m:
        return None
    code, rest = m.group(1), w.norm[m.end():].strip(" 　、。:：")
    if code is None and (c := CODE_AT.match(rest)):
        code, rest = c.group(1), rest[c.end():].strip(" 　、。:：")
    if code is None and rest:
        return None
    return canonical_code(code or ""), rest


def _handover_words(app, msg: Incoming, w) -> tuple[str, str] | None:
    """(case code or "", colleague's name or "") of 「引継ぎ K-012 佐藤」, 「引き継ぎ K-012 を佐藤さんに」,
    「K-012を佐藤さんに引き継ぎ」 or a bare 「引継ぎ」; None for anything else (「引き継ぎのコツ」)."""
    t = w.norm
    if m := HANDOVER_HEAD.match(t):
        rest = t[m.end():].strip()
        if not rest:
            return "", ""
        if not (c := CODE_AT.match(rest)):
            return None
        code, name = c.group(1), rest[c.end():]
    elif (c := CODE_AT.match(t)) and (tail := HANDOVER_TAIL.search(t, c.end())):
        code, name = c.group(1), t[c.end():tail.start()]
    else:
        return None
    name = name.strip(" 　、。「」")
    for head in ("の訪問計画", "の計画", "を"):
        name = name.removeprefix(head).strip()
    name = name.removesuffix("に").removesuffix("へ").strip(" 　「」")
    return canonical_code(code), NAME_SUFFIX.sub("", name).strip()


def _reason(text: str) -> str | None:
    for reason, words in REASON_WORDS:
        if any(word in text for word in words):
            return reason
    return None


def _reach(app, msg: Incoming, code: str | None = None):
    """The active plans (of ``code``; without it the case codes that have one) this user may close
    or hand over: their own, or the whole area's for a supervisor or admin."""
    user = get_user(app.db, msg.platform, msg.user)
    scope = {"area": user.area} if user is not None and user.role in OVERSEEING else {"owner": msg.user}
    if code is None:
        return store.plan_cases(app.db, msg.platform, **scope)
    return store.case_plans(app.db, msg.platform, code, **scope)


def _parts(app, msg: Incoming, plans: list[dict]) -> list[str]:
    from bot.people.names import display
    labels = store.load_plans()
    return [messages.plan_part(labels.get(p["plan"], {}).get("label", p["plan"]), p["open_visits"],
                               None if p["owner"] == msg.user else display(app.db, p["platform"], p["owner"]))
            for p in plans]


def _which_case(app, msg: Incoming, command: str, question: str) -> list[Reply]:
    codes = _reach(app, msg)
    if not codes:
        return [Text(messages.PLAN_NONE_TO_MANAGE)]
    return [Text(question, tuple(Choice(c, f"{command} {c}") for c in codes[:PICK_MAX]))]


def close_plan(app, msg: Incoming, code: str, rest: str) -> list[Reply]:
    """「計画終了 K-012 再入院」: read back what ends, and wait for 「はい」."""
    if not code:
        return _which_case(app, msg, "計画終了", messages.close_which_case())
    plans = _reach(app, msg, code)
    if not plans:
        return [Text(messages.plan_not_yours(code))]
    reason = _reason(rest)
    if reason is None:
        return [Text(messages.close_why(code, unknown=bool(rest)),
                     tuple(Choice(r, f"計画終了 {code} {r}") for r in messages.PLAN_REASONS))]
    app.dialogs.set(msg.platform, msg.user, CONFIRM, {
        "what": "close_plans", "code": code, "ids": [p["id"] for p in plans], "reason": reason}, app.clock())
    return [Text(messages.confirm_close(code, _parts(app, msg, plans), reason), YES_NO)]


def _close_confirmed(app, msg: Incoming, d: dict, yes: bool) -> list[Reply]:
    if not yes:
        return [Text(messages.PLAN_UNCHANGED)]
    from bot.serve import notices
    from bot.people.names import display
    from scheduler.transactions import immediate
    now, code = app.clock(), d["code"]
    plans = [p for p in _reach(app, msg, code) if p["id"] in d["ids"]]  # still active, still mine to close
    if not plans:
        return [Text(messages.plan_changed_meanwhile(code))]
    me = display(app.db, msg.platform, msg.user)
    with immediate(app.db):
        cancelled = store.close_plans(app.db, [p["id"] for p in plans], d["reason"], now)
        for p in plans:
            store.record_action(app.db, reminder_id=None, visit_id=None, platform=msg.platform, user=msg.user,
                                action="close_plan", detail=f"plan:{p['id']} {d['reason']}", now=now)
        for owner in sorted({p["owner"] for p in plans} - {msg.user}):  # closed by their supervisor
            notices.add(app.db, msg.platform, owner, messages.plan_closed_notice(code, me, d["reason"]), now)
    return [Text(messages.plan_closed(code, d["reason"], cancelled))]


def _colleague(app, msg: Incoming, code: str, name: str, plans: list[dict]):
    """(the user ``name`` means, None) among those who may take the plans (same platform, the plans'
    area, staff/supervisor/admin, not already their owner); else (None, the replies that say why,
    with those colleagues as buttons).  A name matches whole (「佐藤」 for 佐藤さん), else as a part
    of one (「佐藤」 in 「佐藤 花子」)."""
    from bot.people.access import list_users
    from bot.people.names import label

    def name_of(u) -> str:
        return label(u.platform, u.user_id, u.display_name)

    def key(s: str) -> str:
        return NAME_SUFFIX.sub("", unicodedata.normalize("NFKC", s).replace(" ", ""))

    def choices(users) -> tuple[Choice, ...]:
        return tuple(Choice(name_of(u), f"引継ぎ {code} {name_of(u)}") for u in users[:PICK_MAX])

    areas, owners = {p["area"] for p in plans}, {p["owner"] for p in plans}
    users = [u for u in list_users(app.db) if u.platform == msg.platform]
    fits = [u for u in users if {u.area} == areas and u.role in PLAN_ROLES and u.user_id not in owners]
    if not fits:
        return None, [Text(messages.HANDOVER_NO_ONE)]
    if not name:
        return None, [Text(messages.handover_who(code), choices(fits))]
    named = [u for u in users if key(name_of(u)) == key(name)] or [
        u for u in users if key(name) and key(name) in key(name_of(u))]
    chosen = [u for u in named if u in fits]
    if len(chosen) == 1:
        return chosen[0], None
    if len(chosen) > 1:
        if len({key(name_of(u)) for u in chosen}) == 1:  # two people under one name: no button can tell them apart
            return None, [Text(messages.HANDOVER_SAME_NAMES)]
        return None, [Text(messages.handover_ambiguous(name), choices(chosen))]
    if len(named) == 1:  # one person, who cannot take these plans: say why
        u = named[0]
        if u.user_id in owners:
            return None, [Text(messages.handover_already(code, name_of(u)))]
        if {u.area} != areas:
            return None, [Text(messages.handover_other_area(name_of(u), u.area, "・".join(sorted(areas))),
                               choices(fits))]
        return None, [Text(messages.handover_not_staff(name_of(u)), choices(fits))]
    return None, [Text(messages.handover_not_found(name, code), choices(fits))]


def _keep_targets(app, msg: Incoming, plans: list[dict]) -> tuple[str, ...]:
    """The targets that stay when plans change hands: on Slack a channel (C…, G…) where the team
    sees the visits; a user, a DM (D…) or a LINE user id goes to the colleague."""
    if msg.platform != "slack":
        return ()
    return tuple(t for t in store.plan_targets(app.db, [p["id"] for p in plans]) if t[:1] in ("C", "G"))


def hand_over(app, msg: Incoming, code: str, name: str) -> list[Reply]:
    """「引継ぎ K-012 佐藤」: read back who takes which plans, and wait for 「はい」."""
    if not code:
        return _which_case(app, msg, "引継ぎ", messages.handover_which_case())
    plans = _reach(app, msg, code)
    if not plans:
        return [Text(messages.plan_not_yours(code))]
    to, why = _colleague(app, msg, code, name, plans)
    if to is None:
        return why
    from bot.people.names import label
    app.dialogs.set(msg.platform, msg.user, CONFIRM, {
        "what": "hand_over", "code": code, "ids": [p["id"] for p in plans], "to": to.user_id}, app.clock())
    return [Text(messages.confirm_handover(code, _parts(app, msg, plans), label(to.platform, to.user_id, to.display_name),
                                           bool(_keep_targets(app, msg, plans))), YES_NO)]


def _handover_confirmed(app, msg: Incoming, d: dict, yes: bool) -> list[Reply]:
    if not yes:
        return [Text(messages.PLAN_UNCHANGED)]
    from bot.serve import notices
    from bot.people.names import display
    from scheduler.transactions import immediate
    now, code = app.clock(), d["code"]
    to = get_user(app.db, msg.platform, d["to"])
    plans = [p for p in _reach(app, msg, code) if p["id"] in d["ids"]]
    if not plans or to is None or to.role not in PLAN_ROLES or {to.area} != {p["area"] for p in plans}:
        return [Text(messages.plan_changed_meanwhile(code))]
    to_name, me = display(app.db, msg.platform, to.user_id), display(app.db, msg.platform, msg.user)
    keep = _keep_targets(app, msg, plans)
    with immediate(app.db):
        store.hand_over_plans(app.db, [p["id"] for p in plans], to.user_id, now, keep_targets=keep)
        for p in plans:
            store.record_action(app.db, reminder_id=None, visit_id=None, platform=msg.platform, user=msg.user,
                                action="hand_over", detail=f"plan:{p['id']} {p['owner']}->{to.user_id}", now=now)
        for previous in sorted({p["owner"] for p in plans}):
            notices.add(app.db, msg.platform, to.user_id,
                        messages.handover_notice(code, display(app.db, msg.platform, previous)), now)
            if previous != msg.user:  # handed over by their supervisor: they are told too
                notices.add(app.db, msg.platform, previous, messages.handover_notice_previous(code, me, to_name), now)
    return [Text(messages.handed_over(code, to_name))]


# What 「はい」 does to this module's read-backs (they wait in remind.py's CONFIRM conversation).
CONFIRMATIONS = {"close_plans": _close_confirmed, "hand_over": _handover_confirmed}
ROUTES = (
    Route(_close_words, lambda app, msg, m: close_plan(app, msg, *m), "plan_close", roles=PLAN_ROLES,
          refused=messages.PLAN_STAFF_ONLY, direct_only=messages.DIRECT_ONLY, group="plans"),
    Route(_handover_words, lambda app, msg, m: hand_over(app, msg, *m), "plan_hand_over", roles=PLAN_ROLES,
          refused=messages.PLAN_STAFF_ONLY, direct_only=messages.DIRECT_ONLY, group="plans"),
)
