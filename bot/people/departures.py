"""A person who leaves: deactivated, never erased, and their work handed over or cancelled.

Reports name their author for years (lists, exports, the console's filter), so the user's row
stays with its display name and only gets ``removed_at``; every "is this user registered?" check
(:func:`bot.people.access.get_user`) then treats them as a stranger.  What they still hold (visit plans,
visits, reminders) must not be left ownerless, nor keep reaching someone who left with case codes:
it goes to an active colleague of the same area, or is cancelled with a record of why.  The
person, their work and the record change in one transaction, or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduler import store
from scheduler.transactions import immediate

from bot import messages
from bot.people.access import STAFF_ROLES, AccessError, User, find_user, get_user
from bot.people.names import label

CANCEL_REASON = "担当者の登録解除"


@dataclass(frozen=True)
class Departure:
    user: User
    work: dict[str, int]        # plans, visits, reminders the person held
    to: User | None             # who took them over; None: cancelled (or there were none)


def name_of(u: User) -> str:
    return label(u.platform, u.user_id, u.display_name)


def has_work(work: dict[str, int]) -> bool:
    return any(work.values())


def open_work(db, platform: str, user_id: str) -> dict[str, int]:
    return store.owner_work(db, platform, user_id)


def successor(db, leaving: User, to: str, work: dict[str, int]) -> User:
    """The colleague named ``to`` ('platform:id' or an id on the same platform), checked: active,
    not the person leaving, same platform and area, and able to hold visit plans if there are any."""
    platform, _, user_id = to.partition(":") if ":" in to else (leaving.platform, ":", to)
    colleague = get_user(db, platform.strip(), user_id.strip())
    if colleague is None:
        raise AccessError(messages.successor_unknown(to))
    if (colleague.platform, colleague.user_id) == (leaving.platform, leaving.user_id):
        raise AccessError(messages.SUCCESSOR_SELF)
    if colleague.platform != leaving.platform:
        raise AccessError(messages.successor_other_platform(name_of(colleague), leaving.platform))
    if colleague.area != leaving.area:
        raise AccessError(messages.handover_other_area(name_of(colleague), colleague.area, leaving.area))
    if work.get("plans") and colleague.role not in STAFF_ROLES:
        raise AccessError(messages.handover_not_staff(name_of(colleague)))
    return colleague


def deactivate(db, platform: str, user_id: str, *, by: str, now: datetime, to: str | None = None,
               cancel: bool = False) -> Departure:
    """Deactivate the user; their work goes to ``to`` or, with ``cancel``, is cancelled with a
    record.  Refused (:class:`AccessError`, in Japanese) when they hold work and neither is given,
    or ``to`` is no fit; then nothing changes."""
    with immediate(db):
        user = find_user(db, platform, user_id)
        if user is None or user.removed_at is not None:
            raise AccessError(messages.not_registered(platform, user_id))
        work = store.owner_work(db, platform, user_id)
        colleague = None
        if to:
            colleague = successor(db, user, to, work)
            store.hand_over_all(db, platform, user_id, colleague.user_id, by, now)
        elif has_work(work):
            if not cancel:
                raise AccessError(messages.open_work(name_of(user), work))
            store.cancel_all(db, platform, user_id, by, CANCEL_REASON, now)
        db.execute("UPDATE users SET removed_at = ?, removed_by = ? WHERE platform = ? AND user_id = ?",
                   [store.utc(now), by, platform, user_id])
        # their open console sessions end with them (sign-in also checks get_user)
        db.execute("UPDATE console_sessions SET ended_at = ? WHERE platform = ? AND user_id = ? AND ended_at IS NULL",
                   [store.utc(now), platform, user_id])
    return Departure(user, work, colleague)


def reactivate(db, platform: str, user_id: str) -> User:
    """Undo a deactivation: the person is registered again, with their role and area.  What was
    handed over stays with the colleague (they may hand it back in chat)."""
    user = find_user(db, platform, user_id)
    if user is None:
        raise AccessError(messages.not_registered(platform, user_id))
    if user.removed_at is None:
        raise AccessError(messages.already_active(name_of(user)))
    db.execute("UPDATE users SET removed_at = NULL, removed_by = NULL WHERE platform = ? AND user_id = ?",
               [platform, user_id])
    return get_user(db, platform, user_id)
