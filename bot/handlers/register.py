"""「登録 CODE」: a user registers themselves with an admin's invite code, in a 1:1 chat only.

A code sent in a group has been seen by everyone in it, and any of them could use it: it is revoked
at once, the group is told so, and whoever made it gets a notice (``access.revoke_seen``).  Wrong
codes are held after five in a quarter of an hour, per user and per code (``access.locked_until``),
so codes cannot be guessed by trying.

Once registered, the user's name is taken from their platform profile (``people.fetch_name``),
so that lists, exports and the console name them rather than show an id.  Only after the code
was accepted: a stranger sending codes costs no profile lookups.  No name, no matter why, leaves
the registration as it is (the id is then shown shortened, and an admin can name them).
"""
from __future__ import annotations

import re

from scheduler.workdays import TZ

from bot import messages
from bot.people.access import get_user, locked_until, redeem, revoke_seen, set_display_name
from bot.chat.core import Incoming, Reply, Text
from bot.people.names import fetch_name
from bot.chat.routes import Route


def register(app, msg: Incoming, code: str) -> list[Reply]:
    now = app.clock()
    if not msg.direct:
        if revoke_seen(app.db, code, platform=msg.platform, seen_by=msg.user, now=now):
            return [Text(messages.INVITE_SEEN_IN_GROUP)]
        return [Text(messages.REGISTER_DIRECT_ONLY)]
    if msg.platform == "terminal" or get_user(app.db, msg.platform, msg.user):  # the terminal's user needs none
        return [Text(messages.ALREADY_REGISTERED)]
    if (until := locked_until(app.db, msg.platform, msg.user, code, now)) is not None:
        return [Text(messages.register_locked(until.astimezone(TZ)))]
    user = redeem(app.db, msg.platform, msg.user, code, now)
    if user is None:
        return [Text(messages.REGISTER_BAD)]
    said = messages.registered(user.area, user.role)
    name = fetch_name(app, msg.platform, msg.user)
    if name:
        set_display_name(app.db, msg.platform, msg.user, name)
        said += "\n" + messages.registered_name(name)
    return [Text(said)]


# Before the registration check (it is how one registers).  Also in groups: a code seen there is
# revoked.  On the terminal, whose user is the local staff member and needs no registration, a code
# is answered 「登録済みです」, not searched as a question.
ROUTES = (Route(re.compile(r"^登録\s*([A-Za-z0-9\- ]{4,20})$"), lambda app, msg, m: register(app, msg, m.group(1)),
                "register", public=True, group="registration"),)
