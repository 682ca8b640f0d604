"""「管理画面」: a one-time link to the web console, in a 1:1 chat only.

Being able to read one's own 1:1 chat with Nimo is the proof of identity, so the link is never sent
to a group (anyone there could open it) and it works once, for ten minutes.
"""
from __future__ import annotations

from bot import messages
from bot.people.access import STAFF_ROLES
from bot.console import auth
from bot.chat.core import Incoming, Reply, Text
from bot.chat.routes import Route, exact


def link(app, msg: Incoming) -> list[Reply]:
    base = app.settings.public_url
    if not base:
        return [Text(messages.CONSOLE_NO_URL)]
    token = auth.new_link(app.db, msg.platform, msg.user, app.clock())
    return [Text(messages.console_link(auth.link_url(base, token), auth.LINK_MINUTES))]


ROUTES = (Route(exact("管理画面"), lambda app, msg, m: link(app, msg), "console_link",
                direct_only=messages.CONSOLE_DIRECT_ONLY, roles=STAFF_ROLES, refused=messages.PEER_NO_CONSOLE,
                group="menu"),)
