"""「登録 CODE」: a user registers themselves with an admin's invite code, in a 1:1 chat only
(a code sent in a group would be seen, and could be used, by everyone in it)."""
from __future__ import annotations

from .. import messages
from ..access import get_user, redeem
from ..core import Incoming, Reply, Text


def register(app, msg: Incoming, code: str) -> list[Reply]:
    if not msg.direct:
        return [Text(messages.REGISTER_DIRECT_ONLY)]
    if get_user(app.db, msg.platform, msg.user):
        return [Text(messages.ALREADY_REGISTERED)]
    user = redeem(app.db, msg.platform, msg.user, code, app.clock())
    if user is None:
        return [Text(messages.REGISTER_BAD)]
    return [Text(messages.registered(user.area, user.role))]
