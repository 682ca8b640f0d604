"""Sign-in without passwords: a one-time link from the chat, then a session cookie.

A user proves who they are by being able to read their own 1:1 chat with Nimo: 「管理画面」 there
(or ``nimo console link`` at the server) makes a random token valid for ten minutes and usable once.
Only the token's SHA-256 is stored, for links and sessions alike, so a copy of the database opens
nothing.  Every request looks the user up again, so a removed user or a changed role takes effect
on the next click, not when the session ends.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta, timezone

from ..access import User, get_user

LINK_MINUTES = 10
SESSION_HOURS = 8
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()


def new_link(db, platform: str, user_id: str, now: datetime) -> str:
    """A fresh token for ``user_id``; the caller makes it a URL with :func:`link_url`."""
    token = secrets.token_urlsafe(32)
    db.execute("INSERT INTO console_links (token_hash, platform, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
               [_hash(token), platform, user_id, _utc(now), _utc(now + timedelta(minutes=LINK_MINUTES))])
    return token


def link_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/console/login/{token}"


def check_link(db, token: str, now: datetime) -> str:
    """'ok', 'used', 'expired' or 'unknown' (forged, mistyped, or of a user no longer registered)."""
    if not TOKEN_SHAPE.match(token or ""):
        return "unknown"
    row = db.execute("SELECT platform, user_id, expires_at, used_at FROM console_links WHERE token_hash = ?",
                     [_hash(token)]).fetchone()
    if row is None or get_user(db, row[0], row[1]) is None:
        return "unknown"
    if row[3] is not None:
        return "used"
    if row[2] <= _utc(now):
        return "expired"
    return "ok"


def use_link(db, token: str, now: datetime) -> tuple[str, User | None]:
    """Spend the link: one UPDATE claims it, so two tabs opening it at once cannot both sign in."""
    state = check_link(db, token, now)
    if state != "ok":
        return state, None
    cur = db.execute("UPDATE console_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
                     [_utc(now), _hash(token), _utc(now)])
    if cur.rowcount != 1:
        return "used", None
    platform, user_id = db.execute("SELECT platform, user_id FROM console_links WHERE token_hash = ?",
                                   [_hash(token)]).fetchone()
    return "ok", get_user(db, platform, user_id)


def start_session(db, user: User, now: datetime) -> str:
    """A new session for ``user``; returns the cookie's value (kept nowhere else)."""
    sid = secrets.token_urlsafe(32)
    db.execute("INSERT INTO console_sessions (id_hash, platform, user_id, csrf, created_at, expires_at) "
               "VALUES (?, ?, ?, ?, ?, ?)", [_hash(sid), user.platform, user.user_id, secrets.token_urlsafe(24),
                                             _utc(now), _utc(now + timedelta(hours=SESSION_HOURS))])
    return sid


def session(db, sid: str | None, now: datetime) -> tuple[User, str] | None:
    """(the user, the session's CSRF token) of a live session whose user is still registered."""
    if not sid or not TOKEN_SHAPE.match(sid):
        return None
    row = db.execute("SELECT platform, user_id, csrf FROM console_sessions WHERE id_hash = ? AND ended_at IS NULL "
                     "AND expires_at > ?", [_hash(sid), _utc(now)]).fetchone()
    if row is None:
        return None
    user = get_user(db, row[0], row[1])
    return (user, row[2]) if user else None


def end_session(db, sid: str | None, now: datetime) -> None:
    if sid and TOKEN_SHAPE.match(sid):
        db.execute("UPDATE console_sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL", [_utc(now), _hash(sid)])


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
