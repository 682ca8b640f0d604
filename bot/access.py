"""Who may use Nimo: registered users, invite codes, and registration by 「登録 CODE」.

Nimo's answers are harmless, but reports and reminders (their own issues) carry personal data of
people with mental illness, so every chat user is registered by an admin or through a one-time
invite code, and an unregistered user gets nothing but the registration prompt.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

ROLES = ("staff", "supervisor", "admin", "peer")
ROLE_LABELS = {"staff": "スタッフ", "supervisor": "スーパーバイザー", "admin": "管理者", "peer": "ピアサポーター"}
OVERSEEING = ("supervisor", "admin")  # who may see an area's visits and reports in chat
STAFF_ROLES = ("staff", "supervisor", "admin")  # who may hold visit plans (a peer supporter does not)
PLATFORMS = ("line", "slack", "lineworks")
# No 0/O, 1/I/L: codes are read off paper and typed on phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
INVITE_DAYS = 7


class AccessError(ValueError):
    """A request an admin or user made that cannot be done; the message says why, in Japanese."""


@dataclass(frozen=True)
class User:
    platform: str
    user_id: str
    role: str
    area: str
    # How a person is named where shown (bot/people.py); not part of who they are.
    display_name: str | None = field(default=None, compare=False)
    # When the person was deactivated (bot/departures.py); None while they use Nimo.
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


def create_invite(db, role: str, area: str, now: datetime, *, days: int = INVITE_DAYS) -> str:
    if role not in ROLES:
        raise AccessError(f"role は {' / '.join(ROLES)} のいずれかです")
    if not area.strip():
        raise AccessError("地域（area）を指定してください")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.execute("INSERT INTO invites (code, role, area, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
               [code, role, area.strip(), now.isoformat(), (now + timedelta(days=days)).isoformat()])
    return code


def redeem(db, platform: str, user_id: str, code: str, now: datetime) -> User | None:
    """Register ``user_id`` with an unused, unexpired invite; None when the code is not valid.

    One UPDATE claims the code, so two people sending the same code at once cannot both use it.
    """
    code = code.strip().upper().replace("-", "").replace(" ", "")
    cur = db.execute("UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL "
                     "AND expires_at > ?", [f"{platform}:{user_id}", now.isoformat(), code, now.isoformat()])
    if cur.rowcount != 1:
        return None
    role, area = db.execute("SELECT role, area FROM invites WHERE code = ?", [code]).fetchone()
    return add_user(db, platform, user_id, role, area, now)


def set_display_name(db, platform: str, user_id: str, name: str | None) -> bool:
    """The name shown for a user in lists, exports and the console (chat platforms give Nimo only
    opaque ids); made one line of at most ``people.NAME_MAX`` characters, None clears it.  True
    when the user exists."""
    from .people import clean_name
    return db.execute("UPDATE users SET display_name = ? WHERE platform = ? AND user_id = ?",
                      [clean_name(name), platform, user_id]).rowcount == 1


def revoke_invite(db, code: str, now: datetime) -> bool:
    """An unused invite stops working at once (its expiry moves to now); True when one was revoked."""
    return db.execute("UPDATE invites SET revoked_at = ?, expires_at = ? WHERE code = ? AND used_by IS NULL "
                      "AND revoked_at IS NULL AND expires_at > ?",
                      [now.isoformat(), now.isoformat(), code, now.isoformat()]).rowcount == 1
