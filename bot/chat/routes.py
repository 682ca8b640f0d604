"""The two shapes a handler module declares itself in: a :class:`Route` (a command: which messages
it takes, who may use it, where) and a :class:`Conversation` (a dialog with named states that takes
the user's next messages until it ends).

Each module of :mod:`bot.handlers` exports ``ROUTES`` (and, when it holds a dialog, ``CONVERSATIONS``);
the composition root collects them (:mod:`bot.chat.registry`) and :mod:`bot.chat.router` applies the
rules they declare once, for all of them: so adding a command is a change to its own module, and a
rule such as "1:1 only" or "supervisors only" cannot be forgotten in one of six places (in the
spirit of bolt-python's listener matchers and python-telegram-bot's ConversationHandler, without
their framework).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

# handler(app, msg, match) -> list of replies, or None for "not mine after all: try the next route"
Handler = Callable[[Any, Any, Any], Any]
# predicate(app, msg, words) -> something true (handed to the handler as its match) or a false value
Predicate = Callable[[Any, Any, "Words"], Any]


@dataclass(frozen=True)
class Words:
    """A message's text two ways: ``typed`` as the user wrote it (stripped; a button's data when a
    button was pressed) and ``norm`` NFKC-normalised, which most commands match on so that full-width
    letters and digits work as typed on a phone."""

    typed: str
    norm: str


@dataclass(frozen=True)
class Route:
    """One command.

    ``match`` is a compiled pattern (matched with ``re.match`` on the normalised text, or on the
    typed text with ``typed=True``) or a predicate.  ``kind`` is the kind of event it takes
    ('message' for text and buttons; 'follow', 'join', 'image', 'non_text' for the others).
    ``direct_only`` is the message that refuses it outside a 1:1 chat; ``roles`` the roles allowed
    (``refused`` the message for the others; the terminal user, the local staff member, always
    may).  ``public`` routes are served before the registration check (registering itself, a
    greeting).  ``group`` names the rank it is tried in (``bot.handlers.GROUPS``): the order of
    routes is stated there, once, not by where a module stands."""

    match: re.Pattern | Predicate
    handler: Handler
    name: str = ""
    kind: str = "message"
    typed: bool = False
    direct_only: str | None = None
    roles: tuple[str, ...] | None = None
    refused: str | None = None
    public: bool = False
    group: str = ""  # last, so that the fields before keep their places for positional use

    def hit(self, app, msg, words: Words):
        if self.kind != getattr(msg, "kind", "message"):
            return None
        if isinstance(self.match, re.Pattern):
            return self.match.match(words.typed if self.typed else words.norm)
        return self.match(app, msg, words)


def exact(*words: str) -> Predicate:
    """A predicate for a command that is one of a few whole words (「予定」, 「よてい」); its match is
    the message's :class:`Words`."""
    table = frozenset(words)

    def one_of(app, msg, w: Words):
        return w if w.norm in table or w.typed in table else None
    one_of.words = words  # what `nimo routes` shows for it
    return one_of


# What ends a dialog being written (a report, a case proposal) at any step.
STOP_WORDS = ("やめる", "やめます", "中止", "キャンセル", "取消", "取り消し")


def always(app, msg, words: Words) -> bool:
    return True


@dataclass(frozen=True)
class Conversation:
    """A dialog that holds state between messages, in its own slot of :mod:`bot.chat.dialogs`.

    ``states`` are the names of its states (what :meth:`bot.chat.dialogs.Dialogs.set` is given); the slot
    is this conversation's ``name``, so an answer's paging and a pending confirmation are kept side
    by side.  A conversation that ``captures`` takes every message of its user while it is active
    (a report being written) through ``handle(app, msg, state, words)``; one that does not is only
    read by its routes (「はい」 reads the pending confirmation, 「次」 the answer shown).  After
    ``timeout`` without a message it ends; ``timed_out`` is what the user is told then (or None).
    ``fallbacks`` are routes tried before ``handle`` while it captures (やめる, キャンセル): the way out
    is declared beside the way in, not found by the order of an ``if`` chain.  ``on_end(db, data,
    next_data)`` runs whenever one of its states ends, however it ends (see :mod:`bot.chat.dialogs`),
    for what a state holds outside the table (a report draft's photo files).
    """

    name: str
    states: tuple[str, ...]
    timeout: timedelta = timedelta(minutes=30)
    timed_out: str | None = None
    captures: bool = False
    handle: Callable[[Any, Any, Any, Words], Any] | None = None
    fallbacks: tuple[Route, ...] = field(default=())
    on_end: Callable[[Any, dict, "dict | None"], None] | None = None
