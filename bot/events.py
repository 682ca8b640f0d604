"""What Nimo says to chat events that are not a question, the same on every platform.

A platform adapter reads its own event into a kind ('follow' when someone adds Nimo, 'join' for a
group, 'non_text' for a sticker or such, 'image' for a photo, 'message' for text) and an
Incoming; this decides the replies, so LINE and LINE WORKS cannot drift apart.
"""
from __future__ import annotations

from typing import Callable

from . import messages
from .core import Incoming, Reply, Text


def registered(app, incoming: Incoming | None) -> bool:
    from .access import get_user
    return incoming is not None and get_user(app.db, incoming.platform, incoming.user) is not None


def event_replies(app, kind: str, incoming: Incoming | None, *, group_hint: str,
                  photo: Callable[[], list[Reply]], before_text: Callable[[], None] = lambda: None) -> list[Reply]:
    """``photo`` downloads the image and hands it on (only for a registered sender);
    ``before_text`` runs before a text is answered by a registered user in a 1:1 chat (LINE's
    loading animation)."""
    known = registered(app, incoming)
    if kind == "follow":
        return [Text(messages.GREETING if known else messages.GREETING + "\n\n" + messages.REGISTER_PROMPT)]
    if kind == "join":
        return [Text(messages.GREETING + "\n" + group_hint)]
    if kind == "non_text":
        return [Text(messages.NON_TEXT if known else messages.REGISTER_PROMPT)]
    if kind == "image":
        return photo() if known else [Text(messages.REGISTER_PROMPT)]
    if incoming.direct and known:
        before_text()
    return app.handle(incoming)
