"""Sign-in without passwords: a one-time link from the chat, then a session cookie.

A user proves who they are by being able to read their own 1:1 chat with Nimo: 「管理画面」 there
(or ``nimo console link`` at the server) makes a random token valid for ten minutes and usable once.
Only the token's SHA-256 is stored, for links and sessions alike, so a copy of the database opens
nothing.  Every request looks the user up again, so a removed user or a changed role takes effect
on the next click, not when the session ends.  A peer supporter never signs in (the console shows
reports and visits of the whole area), whatever made the link.

The button that spends a link must be pressed on our own page, in the browser that opened it:
otherwise a page on another site could post an attacker's link and sign the victim's browser into
the attacker's session (login CSRF), and what the victim then enters would be the attacker's to
read.  So the page sets a random cookie (SameSite=Strict: another site's request never carries it)
and its form holds an HMAC of that cookie and the link (:func:`form_token`); and the POST must come
from our origin (:func:`same_origin`).  One session per user: signing in ends the earlier one.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta, timezone

from bot.people.access import STAFF_ROLES, User, get_user

LINK_MINUTES = 10
SESSION_HOURS = 8
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
# The key of the login forms' HMACs.  Per process: a form shown before a restart is refused, and
# the page it leads to shows the button again (the link is spent only by a valid press).
_FORM_KEY = secrets.token_bytes(32)


def may_sign_in(user: User | None) -> bool:
    """Who may use the console at all: staff, supervisors and admins; never a peer supporter."""
    return user is not None and user.role in STAFF_ROLES


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
    """'ok', 'used', 'expired', 'refused' (a peer supporter's) or 'unknown' (forged, mistyped, or of a
    user no longer registered)."""
    if not TOKEN_SHAPE.match(token or ""):
        return "unknown"
    row = db.execute("SELECT platform, user_id, expires_at, used_at FROM console_links WHERE token_hash = ?",
                     [_hash(token)]).fetchone()
    if row is None or get_user(db, row[0], row[1]) is None:
        return "unknown"
    if not may_sign_in(get_user(db, row[0], row[1])):
        return "refused"
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


def new_nonce() -> str:
    """The value of the login page's cookie, one per page shown."""
    return secrets.token_urlsafe(24)


def form_token(nonce: str, token: str) -> str:
    """The login form's hidden field: binds the press to the page that showed the button (its
    cookie) and to this link."""
    return hmac.new(_FORM_KEY, f"{nonce}|{_hash(token)}".encode("ascii"), hashlib.sha256).hexdigest()


def form_ok(nonce: str | None, token: str, given: str | None) -> bool:
    if not nonce or not given or not TOKEN_SHAPE.match(nonce) or not TOKEN_SHAPE.match(token or ""):
        return False
    return hmac.compare_digest(form_token(nonce, token).encode(), given.encode("utf-8", "replace"))


def same_origin(origin: str | None, fetch_site: str | None, allowed: set[str]) -> bool:
    """Whether a POST comes from one of our pages.  Browsers send ``Origin`` with every POST; our
    pages ask for no referrer, and then a browser sends ``Origin: null`` (or none), so that is taken
    only when the browser itself says the request is same-origin (``Sec-Fetch-Site``, which no page
    can set).  Without either there is no telling where it came from: refused."""
    if origin and origin != "null":
        return origin.rstrip("/").lower() in allowed
    return fetch_site == "same-origin"


def start_session(db, user: User, now: datetime) -> str:
    """A new session for ``user``, ending any earlier one (a session left open on another machine
    closes when its owner signs in again); returns the cookie's value (kept nowhere else)."""
    sid = secrets.token_urlsafe(32)
    db.execute("UPDATE console_sessions SET ended_at = ? WHERE platform = ? AND user_id = ? AND ended_at IS NULL",
               [_utc(now), user.platform, user.user_id])
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
    return (user, row[2]) if may_sign_in(user) else None


def end_session(db, sid: str | None, now: datetime) -> None:
    if sid and TOKEN_SHAPE.match(sid):
        db.execute("UPDATE console_sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL", [_utc(now), _hash(sid)])


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
