"""「事例提案」: a case proposed from the field, in a short guided entry, stored as a draft.

Area, the problem, what was done, what came of it and a contact role are asked one by one (the
dialog state keeps them through a restart).  The report's privacy guard looks at the answers: what
looks like personal data is named, and nothing is stored until the proposer chooses to mask it or
keep it; meanwhile the dialog state holds the answers masked, as typed only sealed (as a report's
draft: bot/handlers/report.py).  A supervisor or admin then publishes it as a local case or
declines it in the console, and the proposer is told in chat (bot/serve/notices.py).
"""
from __future__ import annotations

from datetime import timezone

from bot import messages
from bot.privacy import guard as privacy
from bot.people.access import get_user
from bot.chat.core import Choice, Incoming, Reply, Text
from bot.chat.routes import STOP_WORDS, Conversation, Route, exact
from bot.curation.proposals import add, number

STEPS = ("area", "problem", "action", "outcome", "contact")
STEP = "proposal_step"
REVIEW = "proposal_review"
LIMITS = {"area": 50, "problem": 1000, "action": 1000, "outcome": 1000, "contact": 100}
TEXT_FIELDS = ("problem", "action", "outcome", "contact")


def start(app, msg: Incoming) -> list[Reply]:
    user = get_user(app.db, msg.platform, msg.user)
    area = user.area if user else ""
    app.dialogs.set(msg.platform, msg.user, STEP, {"step": "area", "draft": {}}, app.clock())
    return [Text(messages.PROPOSAL_START, (Choice(area, area),) if area else ())]


def handle(app, msg: Incoming, st, words) -> list[Reply]:
    """A message while a case is being proposed; ``st`` is its state, as the router read it."""
    t = words.typed.strip()
    draft = app.dialogs.as_typed(st.data["draft"])
    if st.name == STEP:
        step = st.data["step"]
        if not t:
            return [Text(messages.PROPOSAL_EMPTY)]
        if len(t) > LIMITS[step]:
            return [Text(messages.proposal_too_long(LIMITS[step]))]
        draft[step] = t
        i = STEPS.index(step) + 1
        if i < len(STEPS):
            app.dialogs.set(msg.platform, msg.user, STEP, {"step": STEPS[i], "draft": _at_rest(app, draft)},
                            app.clock())
            return [Text(messages.PROPOSAL_ASK[STEPS[i]])]
        return _review(app, msg, draft)
    found = _findings(draft)
    if t == "伏せて確定" and found:
        return _save(app, msg, {k: privacy.mask(v) if k in TEXT_FIELDS else v for k, v in draft.items()})
    if (t == "そのまま確定" and found) or (t == "確定" and not found):
        return _save(app, msg, draft)
    return [Text(messages.PROPOSAL_PRIVACY_CHOOSE if found else messages.PROPOSAL_WAITING)]


def _at_rest(app, draft: dict) -> dict:
    return app.dialogs.keep_masked(draft, ("area",) + TEXT_FIELDS)


def _findings(draft: dict) -> list[privacy.Finding]:
    return [f for k in TEXT_FIELDS for f in privacy.find(draft.get(k, ""))]


def _review(app, msg: Incoming, draft: dict) -> list[Reply]:
    app.dialogs.set(msg.platform, msg.user, REVIEW, {"draft": _at_rest(app, draft)}, app.clock())
    found = _findings(draft)
    lines = [f"{label}：{draft[k]}" for k, label in messages.PROPOSAL_FIELDS.items()]
    choices = ((Choice("伏せて確定", "伏せて確定"), Choice("そのまま確定", "そのまま確定")) if found
               else (Choice("確定", "確定"),)) + (Choice("取消", "取消"),)
    return [Text(messages.proposal_review(lines, privacy.describe(found) if found else None), choices)]


def _save(app, msg: Incoming, draft: dict) -> list[Reply]:
    pid = add(app.db, msg.platform, msg.user, draft, app.clock())
    app.dialogs.clear(msg.platform, msg.user, STEP)
    return [Text(messages.proposal_saved(number(pid)))]


def _stop(app, msg: Incoming, m) -> list[Reply]:
    app.dialogs.clear(msg.platform, msg.user, STEP)
    return [Text(messages.PROPOSAL_CANCELLED)]


CONVERSATIONS = (Conversation(
    "proposal", (STEP, REVIEW), captures=True, handle=handle,
    fallbacks=(Route(exact(*STOP_WORDS), _stop, "proposal_stop"),)),)

ROUTES = (Route(exact("事例提案"), lambda app, msg, m: start(app, msg), "proposal_start",
                direct_only=messages.PROPOSAL_DIRECT_ONLY, group="menu"),)
