"""What Nimo says to chat events that are not a question, the same on every platform: being added
as a friend (a LINE follow, LINE WORKS' start button), being added to a group, and a sticker or
other message it cannot read.  Adapters only say which kind of event came (``Incoming.kind``)."""
from __future__ import annotations

from .. import messages
from ..access import get_user
from ..core import Incoming, Reply, Text
from ..routes import Route, always

GROUP_HINTS = {"lineworks": messages.LINEWORKS_GROUP_HINT}


def follow(app, msg: Incoming, m) -> list[Reply]:
    known = get_user(app.db, msg.platform, msg.user) is not None
    return [Text(messages.GREETING if known else messages.GREETING + "\n\n" + messages.REGISTER_PROMPT)]


def join(app, msg: Incoming, m) -> list[Reply]:
    return [Text(messages.GREETING + "\n" + GROUP_HINTS.get(msg.platform, messages.GROUP_HINT))]


ROUTES = (
    Route(always, follow, "follow", kind="follow", public=True),
    Route(always, join, "join", kind="join", public=True),
    Route(always, lambda app, msg, m: [Text(messages.NON_TEXT)], "non_text", kind="non_text"),
)
