"""How a person is named wherever Nimo shows one: chat listings, the CLI, exports, the console.

Chat platforms give Nimo opaque ids (LINE ``U`` + 32 hex digits, Slack ``U…``), which nobody can
read.  A registered user has a display name: taken from the platform's profile when they register
with an invite code (see :func:`fetch_name`), given with ``nimo users add --name``, or set with
``nimo users rename`` and in the console.  Without one, the id is shown shortened, never whole.

This module also knows what a platform's user id looks like, so that an admin who pastes a LINE
display name or an e-mail address into ``nimo users add`` is told at once, rather than
registering someone who can never match an incoming message.
"""
from __future__ import annotations

import logging
import unicodedata
from typing import Callable

from bot.adapters import CONNECTORS  # the platforms' declarations only: the standard library

log = logging.getLogger("nimo.people")

NAME_MAX = 50  # as the console allows; a name fits one line of a phone screen

# What each platform's user ids look like, declared by the platform (bot/adapters/*_hook.py, from
# its documentation and webhooks).
ID_SHAPES = {c.name: c.id_shape for c in CONNECTORS if c.id_shape is not None}


def label(platform: str | None, user_id: str, name: str | None) -> str:
    """The name if there is one, else the id shortened (``line:U12345678…``): enough to tell two
    people apart in a list, not a whole id to copy around."""
    if name:
        return name
    short = f"{user_id[:9]}…" if len(user_id) > 10 else user_id
    return f"{platform}:{short}" if platform else short


def display(db, platform: str | None, user_id: str) -> str:
    """How to show ``user_id`` of ``platform``.  ``platform`` None: the id on whichever platform
    has it (the shapes above do not overlap, so at most one registered user matches)."""
    if platform:
        row = db.execute("SELECT platform, display_name FROM users WHERE platform = ? AND user_id = ?",
                         [platform, user_id]).fetchone()
    else:
        row = db.execute("SELECT platform, display_name FROM users WHERE user_id = ? ORDER BY platform LIMIT 1",
                         [user_id]).fetchone()
    if row is None:
        return label(platform, user_id, None)
    return label(row[0], user_id, row[1])


def namer(db) -> Callable[[str, str], str]:
    """:func:`display` for many rows (an export): each person is looked up once."""
    seen: dict[tuple[str, str], str] = {}

    def name(platform: str, user_id: str) -> str:
        key = (platform, user_id)
        if key not in seen:
            seen[key] = display(db, platform, user_id)
        return seen[key]
    return name


def clean_name(name: str | None) -> str | None:
    """A name as it may be stored: one line, no control characters, at most NAME_MAX characters;
    None when nothing is left.  Profile names can hold line breaks, emoji and invisible marks."""
    if not name:
        return None
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in name)
    text = " ".join(text.split())
    return text[:NAME_MAX] or None


def id_problem(platform: str, user_id: str) -> str | None:
    """Why ``user_id`` cannot be a ``platform`` user id (in Japanese), or None when it can."""
    from bot import messages
    shape = ID_SHAPES.get(platform)
    if shape is None or shape.fullmatch(user_id.strip()):
        return None
    return messages.bad_user_id(platform, user_id.strip())


def fetch_name(app, platform: str, user_id: str) -> str | None:
    """The user's name from their platform's profile, or None.

    Handlers run where no platform client may exist (the terminal, the CLI, tests without
    stand-ins), so the wiring that holds the clients (bot/serve/worker.py) gives the app a callable
    ``app.profiles(platform, user_id)``; without one there is no name.  A failure of any kind is
    logged by its kind only and gives None: a missing name must never block a registration.
    """
    profiles = getattr(app, "profiles", None)
    if profiles is None:
        return None
    try:
        return clean_name(profiles(platform, user_id))
    except Exception as e:  # the platform is down, the token lacks a scope, ...
        log.warning("profile lookup failed: %s %s", platform, type(e).__name__)
        return None


class Profiles:
    """``app.profiles``: one fetcher per platform whose API the worker can reach.  A fetcher takes
    a user id and gives the name the platform shows (or None)."""

    def __init__(self, fetchers: dict[str, Callable[[str], str | None]]):
        self.fetchers = fetchers

    def __call__(self, platform: str, user_id: str) -> str | None:
        fetch = self.fetchers.get(platform)
        return fetch(user_id) if fetch is not None else None
