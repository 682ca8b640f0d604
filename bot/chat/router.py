"""Which handler takes a message.  Buttons send the same words a user could type, so a postback
and a typed command take one path.

Before any pattern runs, a message is checked for length and shape (issue 14: one message must not
be able to stall the service): longer than its platform allows, more than twice as long after NFKC,
or a long run of combining marks, and it gets a short reply and nothing else.  Every pattern here is
anchored, and no two unbounded quantifiers next to each other can share a character (possessive
quantifiers where they could), so the patterns stay linear also on Slack's 40,000 characters.  A
handler that fails all the same gets an apology, not silence, and the log says which handler and
what kind of error, never the text.
"""
from __future__ import annotations

import logging

from knowledge.tokens import normalize
from scheduler.timeparse import long_mark_run

from bot import messages
from storage import failures
from bot.chat import dialogs
from bot.people.access import get_user
from bot.chat.casesync import refresh as refresh_cases
from bot.chat.core import Incoming, Reply, Text
from bot.handlers import ROUTES
from bot.chat.routes import Words

# The most characters one text message can have on each platform (LINE: 5,000; Slack: 40,000).
# The terminal has no limit of its own; it takes Slack's, the largest any platform lets through,
# which every parser must handle anyway (a pasted document there is still answered, as too long a
# question).  A platform not listed here gets the smallest.
MAX_CHARS = {"line": 5000, "slack": 40000, "terminal": 40000,
             "lineworks": 5000}  # LINE WORKS documents 2,000 for what a bot sends; people are held to LINE's
log = logging.getLogger("nimo.router")


def refusal(msg: Incoming) -> str | None:
    """Why this message is not read at all, or None: too long for its platform, or a run of
    combining marks that Unicode normalisation would take the square of its length to sort."""
    limit = MAX_CHARS.get(msg.platform, min(MAX_CHARS.values()))
    for raw in msg.texts():  # a form's fields too
        if raw and len(raw) > limit:
            return messages.message_too_long(len(raw), limit)
        if raw and long_mark_run(raw):
            return messages.MESSAGE_UNREADABLE
    return None


def route(app, msg: Incoming) -> list[Reply]:
    """The one path of every message: shape checks, the routes that need no registration, the
    registration check, then (with timed-out conversations said) :func:`dispatch`."""
    if why := refusal(msg):
        return [Text(why)]
    text = (msg.postback or msg.text or "").strip()
    t = normalize(text).strip()
    limit = MAX_CHARS.get(msg.platform, min(MAX_CHARS.values()))
    if len(t) > 2 * limit:  # ﷺ is 18 characters after NFKC: no one types a text that more than doubles
        return [Text(messages.message_too_long(len(t), limit))]
    words = Words(text, t)
    try:
        if (replies := _first(app, msg, words, [r for r in ROUTES if r.public])) is not None:
            return replies
        if msg.platform != "terminal" and get_user(app.db, msg.platform, msg.user) is None:
            return [Text(messages.REGISTER_PROMPT)]  # the terminal user is the local staff member
        refresh_cases(app)  # a local case added in the console is searchable at once
        expired = app.dialogs.pop_expired(msg.platform, msg.user, app.clock())
        replies = dispatch(app, msg, words)
    except Exception as e:  # a safety net, not a way of handling input: each case found is fixed where it arises
        if failures.is_damage(e):  # not a bug to apologise for: the input is kept for after a restore
            failures.note_damage(app.db, app.clock())
            return [Text(messages.DB_DAMAGED_KEPT)]
        log.error("message not handled: %s in %s", type(e).__name__, _handler_of(e))
        return [Text(messages.SORRY)]
    said = [c.timed_out for c in map(dialogs.CONVERSATIONS.get, {dialogs.slot_of(n) for n in expired})
            if c is not None and c.timed_out]
    return [Text(s) for s in said] + replies


def dispatch(app, msg: Incoming, words: Words) -> list[Reply]:
    """An active conversation that captures (its way out first), else the first route that takes
    the message; a question is the last route of all (:mod:`bot.handlers.ask`)."""
    for state in app.dialogs.active(msg.platform, msg.user, app.clock()):
        conv = dialogs.CONVERSATIONS.get(state.slot)
        if conv is None or not conv.captures or getattr(msg, "kind", "message") != "message":
            continue
        replies = _first(app, msg, words, conv.fallbacks)
        return replies if replies is not None else conv.handle(app, msg, state, words)
    replies = _first(app, msg, words, [r for r in ROUTES if not r.public])
    return replies if replies is not None else [Text(messages.SORRY)]


def _first(app, msg: Incoming, words: Words, routes) -> list[Reply] | None:
    """The replies of the first route that matches and does not decline; its access rules first."""
    for r in routes:
        m = r.hit(app, msg, words)
        if not m:
            continue
        if r.direct_only and not msg.direct:
            return [Text(r.direct_only)]
        if r.roles is not None and msg.platform != "terminal":
            user = get_user(app.db, msg.platform, msg.user)
            if user is None or user.role not in r.roles:
                return [Text(r.refused or messages.NOT_ALLOWED)]
        replies = r.handler(app, msg, m)
        if replies is not None:
            return replies
    return None


def _handler_of(e: BaseException) -> str:
    """The function the router handed the message to (``bot.handlers.remind.act``), from the
    traceback; only names of code, nothing of the message."""
    frames = []
    tb = e.__traceback__
    while tb is not None:
        frames.append(f"{tb.tb_frame.f_globals.get('__name__', '?')}.{tb.tb_frame.f_code.co_name}")
        tb = tb.tb_next
    ours = [i for i, name in enumerate(frames) if name in (f"{__name__}._first", f"{__name__}.dispatch")]
    after = [name for name in frames[ours[-1] + 1:] if not name.endswith("<lambda>")] if ours else []
    return after[0] if after else (frames[-1] if frames else "?")
