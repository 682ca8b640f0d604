"""Which handler takes a message.  Buttons send the same words a user could type, so a postback
and a typed command take one path.

Every message of every platform passes through one ordered chain of steps (:data:`CHAIN`, each
``step(request, next)`` as bolt's middleware): the shape checks, a safety net, the routes that need
no registration, the registration check, fresh local cases, timed-out dialogs, and then an active
dialog or the first route that takes the message, with the access rules every route may declare
(:data:`ROUTE_RULES`: 1:1 only, roles) applied here for all of them.  The sender is looked up once,
into the :class:`Request` handed along the chain.  The routes themselves, in their order, come from
the registry the app was built with (:mod:`bot.chat.registry`): this module imports no handler.

Before any pattern runs, a message is checked for length and shape (one message must not be able
to stall the service): longer than its platform allows, more than twice as long after NFKC, or a
long run of combining marks, and it gets a short reply and nothing else.  Every pattern of the
routes is anchored, and no two unbounded quantifiers next to each other can share a character
(possessive quantifiers where they could), so the patterns stay linear also on Slack's 40,000
characters.  A handler that fails all the same gets an apology, not silence, and the log says which
handler and what kind of error, never the text.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from knowledge.tokens import normalize
from scheduler.timeparse import long_mark_run

from bot import messages
from bot.adapters import CONNECTORS  # the platforms' declarations only: the standard library
from storage import failures
from bot.chat.casesync import refresh as refresh_cases
from bot.chat.core import Incoming, Reply, Text
from bot.chat.routes import Route, Words
from bot.people.access import User, get_user

# The most characters one text message can have on each platform (declared by the platform:
# LINE 5,000, Slack 40,000).  The terminal has no limit of its own; it takes the largest any
# platform lets through, which every parser must handle anyway (a pasted document there is still
# answered, as too long a question).  A platform not listed here gets the smallest.
MAX_CHARS = {c.name: c.max_chars for c in CONNECTORS} | {"terminal": max(c.max_chars for c in CONNECTORS)}
log = logging.getLogger("nimo.router")


@dataclass(frozen=True)
class Step:
    """One thing the router did with a message, for ``nimo routes --explain``: ``kind`` is 'check'
    (a step of the chain), 'route' or 'conversation'; ``outcome`` what came of it."""

    kind: str
    name: str
    outcome: str
    route: Route | None = None


@dataclass
class Request:
    """A message on its way through the chain: what every step reads, filled in as it goes."""

    app: Any
    msg: Incoming
    trace: Callable[[Step], None] | None = None
    words: Words | None = None          # set by the shape check
    expired: list[str] = field(default_factory=list)  # states found timed out, to be said

    @cached_property
    def user(self) -> User | None:
        """The sender's registration, looked up once (None: not registered, or the terminal)."""
        if self.msg.platform == "terminal":
            return None
        return get_user(self.app.db, self.msg.platform, self.msg.user)

    def note(self, kind: str, name: str, outcome: str, route: Route | None = None) -> None:
        if self.trace is not None:
            self.trace(Step(kind, name, outcome, route))


Next = Callable[[], "list[Reply]"]


def limit_of(platform: str) -> int:
    """The most characters a message of ``platform`` may have (a platform not listed: the smallest)."""
    return MAX_CHARS.get(platform, min(MAX_CHARS.values()))


def refusal(msg: Incoming) -> str | None:
    """Why this message is not read at all, or None: too long for its platform, or a run of
    combining marks that Unicode normalisation would take the square of its length to sort."""
    limit = limit_of(msg.platform)
    for raw in msg.texts():
        if raw and len(raw) > limit:
            return messages.message_too_long(len(raw), limit)
        if raw and long_mark_run(raw):
            return messages.MESSAGE_UNREADABLE
    return None


def words_of(msg: Incoming) -> Words:
    """The text the routes read: a button's data when one was pressed, else what was typed."""
    text = (msg.postback or msg.text or "").strip()
    return Words(text, normalize(text).strip())


# -- the chain ------------------------------------------------------------------------------------
def shape(req: Request, nxt: Next) -> list[Reply]:
    """Too long, unreadable, or more than doubled by NFKC (ﷺ is 18 characters after it: no one
    types such a text): a short reply and nothing else.  Else the text both ways, for the routes."""
    if why := refusal(req.msg):
        req.note("check", "shape", "refused")
        return [Text(why)]
    words = words_of(req.msg)
    limit = limit_of(req.msg.platform)
    if len(words.norm) > 2 * limit:
        req.note("check", "shape", "refused")
        return [Text(messages.message_too_long(len(words.norm), limit))]
    req.words = words
    return nxt()


def safety_net(req: Request, nxt: Next) -> list[Reply]:
    """A handler that fails gets an apology, not silence; damage to the database is said as such
    (the input is kept for after a restore).  Each case found is fixed where it arises: this is no
    way of handling input."""
    try:
        return nxt()
    except Exception as e:
        req.note("check", "safety net", type(e).__name__)
        if failures.is_damage(e):
            failures.note_damage(req.app.db, req.app.clock())
            return [Text(messages.DB_DAMAGED_KEPT)]
        log.error("message not handled: %s in %s", type(e).__name__, _handler_of(e))
        return [Text(messages.SORRY)]


def public_routes(req: Request, nxt: Next) -> list[Reply]:
    """Routes anyone may use, before the registration check (registering itself, a friend added)."""
    replies = _first(req, req.app.registry.public())
    return replies if replies is not None else nxt()


def registered(req: Request, nxt: Next) -> list[Reply]:
    """Only registered users go further; the terminal's user is the local staff member."""
    if req.msg.platform != "terminal" and req.user is None:
        req.note("check", "registration", "not registered")
        return [Text(messages.REGISTER_PROMPT)]
    req.note("check", "registration", "terminal" if req.msg.platform == "terminal" else f"registered: {req.user.role}")
    return nxt()


def fresh_cases(req: Request, nxt: Next) -> list[Reply]:
    """A local case added in the console is searchable at once."""
    refresh_cases(req.app)
    return nxt()


def expired_dialogs(req: Request, nxt: Next) -> list[Reply]:
    """Dialogs that timed out are forgotten before the message is read, and said before its replies."""
    req.expired = req.app.dialogs.pop_expired(req.msg.platform, req.msg.user, req.app.clock())
    if req.expired:
        req.note("check", "expired dialogs", ", ".join(req.expired))
    replies = nxt()
    registry = req.app.registry
    convs = (registry.conversation(s) for s in {registry.slot_of(n) for n in req.expired})
    return [Text(c.timed_out) for c in convs if c is not None and c.timed_out] + replies


def dialogs_and_routes(req: Request, nxt: Next) -> list[Reply]:
    """An active conversation that captures (its way out first), else the first route that takes
    the message; a question is the last route of all (the 'questions' group)."""
    app, msg = req.app, req.msg
    for state in app.dialogs.active(msg.platform, msg.user, app.clock()):
        conv = app.registry.conversation(state.slot)
        if conv is None or not conv.captures or getattr(msg, "kind", "message") != "message":
            continue
        replies = _first(req, conv.fallbacks)
        if replies is not None:
            return replies
        req.note("conversation", conv.name, "took")
        return conv.handle(app, msg, state, req.words)
    replies = _first(req, app.registry.after_registration())
    return replies if replies is not None else nxt()


def nothing_took(req: Request, nxt: Next) -> list[Reply]:
    """No route took the message (the catch-all question route declined it)."""
    req.note("check", "no route", "sorry")
    return [Text(messages.SORRY)]


# The one order every message of every platform goes through.
CHAIN: tuple[Callable[[Request, Next], list[Reply]], ...] = (
    shape, safety_net, public_routes, registered, fresh_cases, expired_dialogs, dialogs_and_routes, nothing_took)


# -- the access rules a route may declare, applied in this order once it matched -------------------
def direct_only(req: Request, r: Route) -> str | None:
    """A route with personal data is refused outside a 1:1 chat, with its own words."""
    return r.direct_only if r.direct_only and not req.msg.direct else None


def role(req: Request, r: Route) -> str | None:
    """A route for some roles refuses the others (the terminal's local staff member always may)."""
    if r.roles is None or req.msg.platform == "terminal":
        return None
    user = req.user
    return None if user is not None and user.role in r.roles else (r.refused or messages.NOT_ALLOWED)


ROUTE_RULES: tuple[Callable[[Request, Route], "str | None"], ...] = (direct_only, role)


def route(app, msg: Incoming, trace: Callable[[Step], None] | None = None) -> list[Reply]:
    """The replies to ``msg``: the :data:`CHAIN` run over it.  ``trace`` is told each step taken
    (``nimo routes --explain``)."""
    req = Request(app, msg, trace)

    def run(i: int) -> list[Reply]:
        return CHAIN[i](req, lambda: run(i + 1))
    return run(0)


def _first(req: Request, routes) -> list[Reply] | None:
    """The replies of the first route that matches and does not decline; its access rules first."""
    app, msg = req.app, req.msg
    for r in routes:
        m = r.hit(app, msg, req.words)
        if not m:
            req.note("route", r.name, "no match", r)
            continue
        for rule in ROUTE_RULES:
            if (why := rule(req, r)) is not None:
                req.note("route", r.name, f"refused: {rule.__name__}", r)
                return [Text(why)]
        replies = r.handler(app, msg, m)
        if replies is not None:
            req.note("route", r.name, "took", r)
            return replies
        req.note("route", r.name, "declined", r)
    return None


def _handler_of(e: BaseException) -> str:
    """The function the router handed the message to (``bot.handlers.remind.act``), from the
    traceback; only names of code, nothing of the message."""
    frames = []
    tb = e.__traceback__
    while tb is not None:
        frames.append(f"{tb.tb_frame.f_globals.get('__name__', '?')}.{tb.tb_frame.f_code.co_name}")
        tb = tb.tb_next
    ours = [i for i, name in enumerate(frames)
            if name in (f"{__name__}._first", f"{__name__}.dialogs_and_routes")]
    after = [name for name in frames[ours[-1] + 1:] if not name.endswith("<lambda>")] if ours else []
    return after[0] if after else (frames[-1] if frames else "?")
