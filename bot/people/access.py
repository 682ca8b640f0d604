"""Who may use Nimo: registered users, invite codes, and registration by 「登録 CODE」.

Nimo's answers are harmless, but reports and reminders (their own issues) carry personal data of
people with mental illness, so every chat user is registered by an admin or through a one-time
invite code, and an unregistered user gets nothing but the registration prompt.  A code is shown
once and stored only as its SHA-256; wrong codes are held after a few tries; a code seen in a group
is revoked.  The checks of who may touch an object (an event, an area's things in the console) are
here too, so that chat and console apply the same rule.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from bot.adapters import CONNECTORS  # the platforms' declarations only: the standard library

ROLES = ("staff", "supervisor", "admin", "peer")
ROLE_LABELS = {"staff": "スタッフ", "supervisor": "スーパーバイザー", "admin": "管理者", "peer": "ピアサポーター"}
OVERSEEING = ("supervisor", "admin")  # who may see an area's visits and reports in chat
STAFF_ROLES = ("staff", "supervisor", "admin")  # who may hold visit plans (a peer supporter does not)
PLATFORMS = tuple(c.name for c in CONNECTORS)  # a user is of one of these
# No 0/O, 1/I/L: codes are read off paper and typed on phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
INVITE_DAYS = 7
# Wrong codes: 31**8 codes cannot be guessed in 5 tries a quarter of an hour, and a person who
# mistyped waits a few minutes at most.  Counted per user and per code (a code being hammered by
# many accounts stops too), from the failures logged in ``invite_attempts``.
ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(minutes=15)


class AccessError(ValueError):
    """A request an admin or user made that cannot be done; the message says why, in Japanese."""


@dataclass(frozen=True)
class User:
    platform: str
    user_id: str
    role: str
    area: str
    # How a person is named where shown (bot/people/names.py); not part of who they are.
    display_name: str | None = field(default=None, compare=False)
    # When the person was deactivated (bot/people/departures.py); None while they use Nimo.
    removed_at: str | None = field(default=None, compare=False)


def get_user(db, platform: str, user_id: str) -> User | None:
    """The registered user, or None: also for a person who was deactivated (they left), so every
    "is this user registered?" check treats them as a stranger."""
    row = db.execute("SELECT platform, user_id, role, area, display_name FROM users WHERE platform = ? AND user_id = ? "
                     "AND removed_at IS NULL", [platform, user_id]).fetchone()
    return User(*row) if row else None


def find_user(db, platform: str, user_id: str) -> User | None:
    """The user's row whether active or deactivated (for admins: removing, reactivating)."""
    row = db.execute("SELECT platform, user_id, role, area, display_name, removed_at FROM users "
                     "WHERE platform = ? AND user_id = ?", [platform, user_id]).fetchone()
    return User(*row) if row else None


def add_user(db, platform: str, user_id: str, role: str, area: str, now: datetime) -> User:
    if platform not in PLATFORMS:
        raise AccessError(f"platform は {' / '.join(PLATFORMS)} のいずれかです")
    if role not in ROLES:
        raise AccessError(f"role は {' / '.join(ROLES)} のいずれかです")
    if not user_id.strip() or not area.strip():
        raise AccessError("ユーザーID と地域（area）を指定してください")
    # Registering someone who was deactivated makes them active again (their history is theirs).
    db.execute("INSERT INTO users (platform, user_id, role, area, created_at) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (platform, user_id) DO UPDATE SET role = excluded.role, area = excluded.area, "
               "removed_at = NULL, removed_by = NULL",
               [platform, user_id.strip(), role, area.strip(), now.isoformat()])
    return User(platform, user_id.strip(), role, area.strip())


def list_users(db, *, include_removed: bool = False) -> list[User]:
    """Active users; with ``include_removed``, also those deactivated (``removed_at`` set)."""
    where = "" if include_removed else " WHERE removed_at IS NULL"
    return [User(*r) for r in db.execute(
        f"SELECT platform, user_id, role, area, display_name, removed_at FROM users{where} "
        "ORDER BY platform, area, user_id").fetchall()]


def code_hash(code: str) -> str:
    """What is stored of a code: the SHA-256 of the code as people type it (upper case, no dashes or
    spaces), so a copy of the database holds no code anyone could register with."""
    return hashlib.sha256(normal_code(code).encode("utf-8")).hexdigest()


def normal_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def create_invite(db, role: str, area: str, now: datetime, *, days: int = INVITE_DAYS,
                  created_by: str | None = None) -> str:
    """A new code, returned once and never stored; ``created_by`` ('platform:user_id' or 'cli') is
    who is told when the code is seen where it should not be."""
    if role not in ROLES:
        raise AccessError(f"role は {' / '.join(ROLES)} のいずれかです")
    if not area.strip():
        raise AccessError("地域（area）を指定してください")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.execute("INSERT INTO invites (code_hash, hint, role, area, created_at, expires_at, created_by) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               [code_hash(code), code[:2] + "…", role, area.strip(), _utc(now), _utc(now + timedelta(days=days)),
                created_by])
    return code


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()


def locked_until(db, platform: str, user_id: str, code: str, now: datetime) -> datetime | None:
    """When this user may try a code again, or None when they may now: 5 failures of theirs, or
    5 failures with this very code, in the last 15 minutes hold further tries until the oldest
    of them is 15 minutes old."""
    since = _utc(now - ATTEMPT_WINDOW)
    until = None
    for cond, params in (("platform = ? AND user_id = ?", [platform, user_id]), ("code_hash = ?", [code_hash(code)])):
        rows = db.execute(f"SELECT at FROM invite_attempts WHERE {cond} AND at > ? ORDER BY at DESC LIMIT ?",
                          [*params, since, ATTEMPTS]).fetchall()
        if len(rows) >= ATTEMPTS:
            t = datetime.fromisoformat(rows[-1][0]) + ATTEMPT_WINDOW
            until = t if until is None else max(until, t)
    return until


def _failed(db, platform: str, user_id: str, code: str, now: datetime) -> None:
    db.execute("INSERT INTO invite_attempts (platform, user_id, code_hash, at) VALUES (?, ?, ?, ?)",
               [platform, user_id, code_hash(code), _utc(now)])


def redeem(db, platform: str, user_id: str, code: str, now: datetime) -> User | None:
    """Register ``user_id`` with an unused, unexpired invite; None when the code is not valid (the
    failure is logged for :func:`locked_until`; the caller checks that first).

    One UPDATE claims the code, so two people sending the same code at once cannot both use it.
    """
    h = code_hash(code)
    cur = db.execute("UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ? AND used_by IS NULL "
                     "AND revoked_at IS NULL AND expires_at > ?", [f"{platform}:{user_id}", _utc(now), h, _utc(now)])
    if cur.rowcount != 1:
        _failed(db, platform, user_id, code, now)
        return None
    role, area = db.execute("SELECT role, area FROM invites WHERE code_hash = ?", [h]).fetchone()
    return add_user(db, platform, user_id, role, area, now)


def revoke_seen(db, code: str, *, platform: str, seen_by: str, now: datetime) -> dict | None:
    """A live code seen in a group chat stops working at once: everyone there could use it.  The
    revocation goes to the access log, and its creator, when a chat user, gets a chat notice.
    The invite's role and area, or None when the code was no live invite."""
    from scheduler.transactions import immediate

    from bot import messages
    from bot.console import audit
    with immediate(db.conn):  # revoked, logged and the creator's notice queued: all or nothing
        row = db.execute("SELECT role, area, created_by, hint FROM invites WHERE code_hash = ? AND used_by IS NULL "
                         "AND revoked_at IS NULL AND expires_at > ?", [code_hash(code), _utc(now)]).fetchone()
        if row is None or not revoke_invite(db, code, now):
            return None
        role, area, created_by, hint = row
        audit.record(db, f"{platform}:{seen_by}", "invite_revoked_in_group", hint, f"role={role} area={area}", now=now)
        creator_platform, _, creator = (created_by or "").partition(":")
        if creator_platform in PLATFORMS and creator:
            db.execute("INSERT INTO chat_notices (platform, user_id, text, created_at) VALUES (?, ?, ?, ?)",
                       [creator_platform, creator, messages.invite_revoked_notice(hint, ROLE_LABELS[role], area),
                        _utc(now)])
    return {"role": role, "area": area}


def set_display_name(db, platform: str, user_id: str, name: str | None) -> bool:
    """The name shown for a user in lists, exports and the console (chat platforms give Nimo only
    opaque ids); made one line of at most ``people.NAME_MAX`` characters, None clears it.  True
    when the user exists."""
    from bot.people.names import clean_name
    return db.execute("UPDATE users SET display_name = ? WHERE platform = ? AND user_id = ?",
                      [clean_name(name), platform, user_id]).rowcount == 1


def revoke_invite(db, code: str | None, now: datetime, *, invite_id: int | None = None) -> bool:
    """An unused invite stops working at once (its expiry moves to now); True when one was revoked.
    By the code itself, or by its row (the console lists invites, never their codes)."""
    cond, key = ("id = ?", invite_id) if invite_id is not None else ("code_hash = ?", code_hash(code or ""))
    return db.execute(f"UPDATE invites SET revoked_at = ?, expires_at = ? WHERE {cond} AND used_by IS NULL "
                      "AND revoked_at IS NULL AND expires_at > ?",
                      [_utc(now), _utc(now), key, _utc(now)]).rowcount == 1


# -- who may touch what -----------------------------------------------------------------------------
def may_see_event(db, ev: dict, platform: str, user_id: str, conversation: str) -> bool:
    """Whether a user may answer or see an event.  Its owner; for an event made in a group or
    channel, whoever writes from that group (being there is being a member) or answered it from
    there before; for a 1:1 event, users of the owner's area.  Anyone else is told, as for a number
    that is no event, that there is none: event numbers are sequential, and a title can name a
    person (「K-012 家族面談」)."""
    from scheduler import store
    if ev["platform"] != platform:
        return False
    if ev["owner"] == user_id:
        return True
    if ev["is_group"]:
        return conversation == ev["target"] or any(
            a["platform"] == platform and a["user"] == user_id for a in store.event_answers(db, ev["id"]))
    me, owner = get_user(db, platform, user_id), get_user(db, ev["platform"], ev["owner"])
    return me is not None and owner is not None and me.area == owner.area


def acts_on_area(user: User, area: str | None) -> bool:
    """Whether ``user`` may act on something of ``area`` in the console: an admin on every area, a
    supervisor on their own (something of no known area is an admin's)."""
    return user.role == "admin" or (user.role == "supervisor" and area is not None and area == user.area)
