"""LINE WORKS API 2.0 for the worker: a service-account token, sending, downloads, the menu.

The token: a JWT signed with the app's private key (RS256; ``iss`` = client ID, ``sub`` = service
account) is exchanged at the token endpoint for an access token, kept until shortly before it
expires, and fetched again at once when the API answers 401 (revoked or expired early), so the
message that met the 401 is still sent.

Sending never shows a message twice.  LINE WORKS takes one message per request and, unlike LINE,
has no retry key.  So each message of a delivery is claimed in the ``deliveries`` table under
``lineworks:<delivery key>:<n>`` before it is sent and marked once it was: a delivery tried again
(the reminder engine's next try, an inbox row taken over from a worker that died) sends only what
was not sent.  429 and 5xx answers are retried after ``Retry-After`` or a growing wait; a request
whose answer was lost to a timeout may have been delivered, so it is not sent again.
"""
from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import Message
from typing import Callable
from urllib.parse import quote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization

from bot.config import Settings
from bot.serve.delivery import DeliveryFailed, record_failure

log = logging.getLogger("nimo.lineworks")

SCOPE = "bot"                  # messages, attachments and the persistent menu all need only this
JWT_LIFETIME = 3600            # seconds; LINE WORKS accepts at most 60 minutes
RENEW_BEFORE = 300             # seconds before expiry a cached token is replaced
MAX_WAIT = 30.0                # seconds: the longest Retry-After we honour in one wait
KEEP_PARTS = timedelta(days=7)  # sent-message marks older than this are forgotten
CHANNEL = "channel:"           # a target that is a message room, not a user
FILE_HOSTS = (".worksmobile.com", ".worksapis.com")


class WorksError(Exception):
    """LINE WORKS refused a request in a way a retry cannot mend (the status says which)."""

    def __init__(self, what: str, status: int | None = None):
        super().__init__(f"{what}: {status}" if status is not None else what)
        self.status = status


class _Unreached(WorksError):
    """No answer: the request never got through (safe to send again)."""


class _Uncertain(WorksError):
    """The request went out but its answer was lost (it may have been delivered)."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is read, not followed: the attachment API answers 302 with the file's URL, and
    following it blindly would carry the token to wherever it points."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _http(method: str, url: str, *, headers: dict, body: bytes | None, timeout: float,
          limit: int | None = None) -> Response:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read(limit + 1) if limit else r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Response(e.code, e.headers, e.read(64 * 1024))


def load_private_key(path: str):
    """The app's private key from its PEM file; ValueError (in Japanese) when it cannot be used."""
    try:
        with open(path, "rb") as f:
            data = f.read(64 * 1024)
    except OSError as e:
        raise ValueError(f"LINEWORKS_PRIVATE_KEY のファイルを読めません（{type(e).__name__}）") from None
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ValueError("LINEWORKS_PRIVATE_KEY は PEM 形式の秘密鍵ではありません") from None


class Tokens:
    """The service account's access token: made from a signed JWT, cached, renewed."""

    def __init__(self, *, client_id: str, client_secret: str, service_account: str, private_key,
                 auth_url: str, scope: str = SCOPE, timeout: float = 10.0, attempts: int = 4,
                 sleep: Callable[[float], None] = time.sleep, wall: Callable[[], float] = time.time,
                 report: Callable[[bool, str | None], None] | None = None):
        self.client_id = client_id
        self.client_secret = client_secret
        self.service_account = service_account
        self.key = private_key
        self.auth_url = auth_url
        self.scope = scope
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep
        self.wall = wall  # the JWT's iat/exp are checked against real time, not the app's clock
        self.report = report or (lambda ok, detail: None)  # each fetch's outcome, for /readyz
        self.lock = threading.Lock()
        self.token: str | None = None
        self.expires = 0.0

    def get(self) -> str:
        with self.lock:
            if self.token is None or self.wall() >= self.expires:
                self._fetch()
            return self.token

    def renew(self, stale: str) -> str:
        """After a 401: a new token, unless another thread already replaced ``stale``."""
        with self.lock:
            if self.token == stale or self.token is None:
                self._fetch()
            return self.token

    def assertion(self) -> str:
        now = int(self.wall())
        claims = {"iss": self.client_id, "sub": self.service_account, "iat": now, "exp": now + JWT_LIFETIME}
        return jwt.encode(claims, self.key, algorithm="RS256")

    def _fetch(self) -> None:
        try:
            self._exchange()
        except WorksError as e:
            self.report(False, str(e))
            raise
        self.report(True, None)

    def _exchange(self) -> None:
        form = urlencode({"assertion": self.assertion(), "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                          "client_id": self.client_id, "client_secret": self.client_secret,
                          "scope": self.scope}).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for attempt in range(self.attempts):
            try:
                r = _http("POST", self.auth_url, headers=headers, body=form, timeout=self.timeout)
            except (OSError, http.client.HTTPException) as e:  # asking again for a token is harmless
                log.warning("lineworks token request failed: %s", type(e).__name__)
                self.sleep(_backoff(attempt))
                continue
            if r.status == 429 or r.status >= 500:
                self.sleep(_retry_after(r, attempt))
                continue
            if r.status != 200:
                raise WorksError("token refused", r.status)
            try:
                data = json.loads(r.body)
                token, lifetime = data["access_token"], float(data.get("expires_in") or 3600)
            except (ValueError, KeyError, TypeError):
                raise WorksError("token answer unreadable") from None
            if not isinstance(token, str) or not token:
                raise WorksError("token answer unreadable")
            self.token = token
            self.expires = self.wall() + max(lifetime - min(RENEW_BEFORE, lifetime / 10), 1.0)
            return
        raise WorksError("token endpoint unreachable")


def _backoff(attempt: int) -> float:
    return min(0.5 * 2 ** attempt, MAX_WAIT)


def _retry_after(r: Response, attempt: int) -> float:
    try:
        wait = float(r.headers.get("Retry-After"))
    except (TypeError, ValueError):
        return _backoff(attempt)
    return min(max(wait, 0.0), MAX_WAIT)


class WorksApi:
    """The bot's API calls, with the token, retries, and the ledger of sent messages."""

    def __init__(self, *, bot_id: str, tokens: Tokens, base_url: str, db=None,
                 clock: Callable[[], datetime] | None = None, timeout: float = 10.0, attempts: int = 4,
                 sleep: Callable[[float], None] = time.sleep):
        self.bot_id = bot_id
        self.tokens = tokens
        self.base = base_url.rstrip("/")
        self.db = db
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep
        self.failures = threading.local()  # this thread's last failed delivery attempt (``last_failure``)

    # -- requests ---------------------------------------------------------------------------
    def _failed(self, what: str | None, status: int | None, error: str, attempt: int, retried: bool) -> None:
        """A failed delivery attempt, for an operator: ``what`` is the path with its ids left out."""
        if what is None:
            return
        f = DeliveryFailed("lineworks", what, status, error, attempt, retried)
        self.failures.last = f
        log.warning("delivery failed: %s", f)
        if self.db is not None:
            try:
                record_failure(self.db, f, self.clock())
            except Exception as e:  # a locked database must not stop the delivery itself
                log.warning("delivery failure not recorded: %s", type(e).__name__)

    def request(self, method: str, path: str, *, obj: dict | None = None, idempotent: bool = True,
                limit: int | None = None, what: str | None = None) -> Response:
        """One API call.  401: a new token and once more.  429 and 5xx: wait and try again, up to
        ``attempts`` times; the last answer is returned.  ``idempotent=False`` (sending) never
        repeats a request whose answer was lost.  ``what``: the endpoint as logged when an attempt
        fails (a delivery's), without the ids in ``path``."""
        url = path if path.startswith(("http://", "https://")) else self.base + path
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8") if obj is not None else None
        renewed = False
        attempt = 0
        while True:
            token = self.tokens.get()
            headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            try:
                r = _http(method, url, headers=headers, body=body, timeout=self.timeout, limit=limit)
            except urllib.error.URLError as e:  # the request did not get through
                err: Exception = _Unreached(type(e).__name__)
                self._failed(what, None, type(e).__name__, attempt + 1, attempt + 1 < self.attempts)
            except (OSError, http.client.HTTPException) as e:  # it went out; the answer was lost
                if not idempotent:
                    self._failed(what, None, type(e).__name__, attempt + 1, False)
                    raise _Uncertain(type(e).__name__) from None
                err = _Unreached(type(e).__name__)
                self._failed(what, None, type(e).__name__, attempt + 1, attempt + 1 < self.attempts)
            else:
                if r.status == 401 and not renewed:
                    self.tokens.renew(token)
                    renewed = True
                    continue
                if r.status >= 400:
                    again = (r.status == 429 or r.status >= 500) and attempt + 1 < self.attempts
                    self._failed(what, r.status, "HTTPError", attempt + 1, again)
                    if again:
                        self.sleep(_retry_after(r, attempt))
                        attempt += 1
                        continue
                return r
            if attempt + 1 >= self.attempts:
                raise err
            self.sleep(_backoff(attempt))
            attempt += 1

    def bot_path(self, rest: str) -> str:
        return f"/bots/{quote(str(self.bot_id), safe='')}{rest}"

    # -- sending ----------------------------------------------------------------------------
    def send(self, to: str, content: dict) -> str:
        """One message: 'sent', 'uncertain' (answer lost) or 'unsent'.  Raises WorksError when
        LINE WORKS refuses it for good (a 4xx other than 401 and 429)."""
        if to.startswith(CHANNEL):
            path = self.bot_path(f"/channels/{quote(to[len(CHANNEL):], safe='')}/messages")
            what = "/bots/{botId}/channels/{channelId}/messages"
        else:
            path = self.bot_path(f"/users/{quote(to, safe='@')}/messages")
            what = "/bots/{botId}/users/{userId}/messages"
        try:
            r = self.request("POST", path, obj={"content": content}, idempotent=False, what=what)
        except _Uncertain as e:
            log.warning("lineworks send: no answer (%s); not sent again, it may have arrived", e)
            return "uncertain"
        except _Unreached as e:
            log.warning("lineworks send: not reached (%s)", e)
            return "unsent"
        if 200 <= r.status < 300:
            return "sent"
        if r.status == 429 or r.status >= 500:
            log.warning("lineworks send: still %s after %s tries", r.status, self.attempts)
            return "unsent"
        raise WorksError("message refused", r.status)

    def last_failure(self) -> DeliveryFailed | None:
        """The last failed delivery attempt of this thread (what ``deliver`` returning False meant)."""
        return getattr(self.failures, "last", None)

    def deliver(self, contents: list[dict], *, to: str, key: str) -> bool:
        """Every message of one delivery, each at most once; False when one could not be sent
        now (what was sent stays sent; a later try sends the rest)."""
        self.failures.last = None
        for i, content in enumerate(contents):
            part = f"lineworks:{key}:{i}"
            if not self._claim(part, to):
                continue
            try:
                result = self.send(to, content)
            except Exception:
                self._mark(part, "failed")
                raise
            self._mark(part, "failed" if result == "unsent" else "sent")
            if result == "unsent":
                return False
        return True

    def _claim(self, part: str, to: str) -> bool:
        if self.db is None:
            return True
        cur = self.db.execute(
            "INSERT INTO deliveries (key, platform, target, status, created_at) VALUES (?, 'lineworks', ?, "
            "'claimed', ?) ON CONFLICT (key) DO UPDATE SET status = 'claimed' WHERE deliveries.status = 'failed'",
            [part, to, _utc(self.clock())])
        return cur.rowcount == 1

    def _mark(self, part: str, status: str) -> None:
        if self.db is not None:
            self.db.execute("UPDATE deliveries SET status = ?, sent_at = ? WHERE key = ?",
                            [status, _utc(self.clock()), part])

    def forget_old_parts(self) -> int:
        """Marks of messages sent long ago: no delivery is tried again after this long."""
        if self.db is None:
            return 0
        return self.db.execute("DELETE FROM deliveries WHERE key LIKE 'lineworks:%' AND created_at < ?",
                               [_utc(self.clock() - KEEP_PARTS)]).rowcount

    # -- files and the menu -----------------------------------------------------------------
    def download(self, file_id: str, limit: int) -> bytes:
        """A file a user sent, at once (at most ``limit`` + 1 bytes, so a too-large one is refused
        by the photo check rather than read whole).  The attachment API answers 302; the file's
        URL gets the token only when it is LINE WORKS' own (or the API's, for a test or proxy)."""
        r = self.request("GET", self.bot_path(f"/attachments/{quote(file_id, safe='')}"))
        location = r.headers.get("Location") if r.status in (301, 302, 303, 307, 308) else None
        if location is None:
            raise WorksError("attachment refused", r.status)
        if not self.file_url_ok(location):
            raise WorksError("attachment elsewhere")
        r = self.request("GET", location, limit=limit)
        if r.status != 200:
            raise WorksError("file refused", r.status)
        return r.body

    def file_url_ok(self, url: str) -> bool:
        u, b = urlsplit(url), urlsplit(self.base)
        if u.scheme == "https" and u.hostname and u.hostname.endswith(FILE_HOSTS) and u.port in (None, 443):
            return True
        return u.scheme in ("http", "https") and (u.scheme, u.hostname, u.port) == (b.scheme, b.hostname, b.port)

    def set_menu(self, actions: list[dict]) -> None:
        r = self.request("POST", self.bot_path("/persistentmenu"), obj={"content": {"actions": actions}})
        if not 200 <= r.status < 300:
            raise WorksError("persistent menu refused", r.status)


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()


def from_settings(settings: Settings, *, db=None, clock=None, sleep: Callable[[float], None] = time.sleep) -> WorksApi:
    """The API client from the eight settings; ValueError (in Japanese) when the key is unusable.
    With ``db``, every token fetch is recorded as ``lineworks_api`` for ``/readyz``."""
    report = None
    if db is not None:
        from bot.serve import status
        now = clock or (lambda: datetime.now(timezone.utc))
        report = lambda ok, detail: status.record(db, "lineworks_api", ok, detail, now())  # noqa: E731
    tokens = Tokens(client_id=settings.lineworks_client_id, client_secret=settings.lineworks_client_secret,
                    service_account=settings.lineworks_service_account,
                    private_key=load_private_key(settings.lineworks_private_key),
                    auth_url=settings.lineworks_auth_url, sleep=sleep, report=report)
    return WorksApi(bot_id=settings.lineworks_bot_id, tokens=tokens, base_url=settings.lineworks_api_base_url,
                    db=db, clock=clock, sleep=sleep)
