"""The HTTP app (WSGI) of the web process: ``POST`` to each platform's webhook path (LINE's
``/line/webhook``, Slack's ``/slack/events``, LINE WORKS's ``/lineworks/callback``: the hooks
listed in bot/adapters/__init__.py), ``GET /healthz``, ``GET /readyz``, and the web console under
``/console/`` (bot/console, loaded on its first request only, so the webhook paths never pay for Flask).

It only verifies, stores and acknowledges; a worker (``nimo worker``, or threads beside it in one
process) answers from the inbox.  So an event acknowledged to a platform survives a crash, the
acknowledgement stays fast, and this process never loads an SDK, the tokenizer or the case index.
What is the same for every platform is here (body size, method, a database that refuses → 503,
the console's share, the log); what differs is the platform's hook.  A platform whose settings are
missing is switched off (``Connector.on``) and its path answers 404.  The console
may hold only ``CONSOLE_SHARE`` of the server's threads at once, so it can never delay a webhook.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from typing import Callable, Iterable, Sequence

from bot import messages
from storage import failures
from storage.connections import file_of
from bot.config import Settings
from bot.serve import spool, status, webhooks
from bot.serve.inbox import Inbox
from bot.serve.webhooks import Connector

log = logging.getLogger("nimo.web")
RETRY_AFTER_S = 10


# Console requests handled at once.  The console and the webhooks share one pool of waitress
# threads (bot/serve/process.py, 8); a supervisor's uploads and downloads may hold at most this many of
# them, so a field worker's message is always acknowledged.  Beyond it the console answers 503 at
# once rather than queue: a waiting request would hold a thread as surely as a working one.
CONSOLE_SHARE = 3
# The busy page is the console's too: the same rules as its other pages (bot/console/site.py).
BUSY_PAGE_HEADERS = (("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
                     ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
                     ("Referrer-Policy", "no-referrer"))


def _respond(start_response, status_line: str, body: bytes = b"", ctype: str = "text/plain; charset=utf-8"):
    start_response(status_line, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


def _json(start_response, status_line: str, obj: dict):
    return _respond(start_response, status_line, json.dumps(obj, ensure_ascii=False).encode("utf-8"),
                    "application/json; charset=utf-8")


def _read(environ) -> bytes:
    """The body, refused unread when it is larger than any platform sends."""
    length = environ.get("CONTENT_LENGTH") or "0"
    if not length.isascii() or not length.isdigit() or len(length) > 12:
        raise webhooks.Refused("400 Bad Request", "bad Content-Length")
    n = int(length)
    if n > webhooks.MAX_BODY:
        raise webhooks.Refused("413 Payload Too Large", "body too large")
    body = environ["wsgi.input"].read(n) if n else b""
    if len(body) != n:
        raise webhooks.Refused("400 Bad Request", "body shorter than Content-Length")
    return body


class WebApp:
    """The WSGI callable.  ``on_stored(row_id)`` is told of each new inbox row, so that workers in
    the same process can start at once; a separate worker process finds rows by polling."""

    def __init__(self, db, clock, settings: Settings, *, on_stored: Callable[[int], None] | None = None,
                 wall: Callable[[], float] = time.time, console_share: int = CONSOLE_SHARE,
                 connectors: Sequence[Connector] | None = None):
        self.db = db
        self.clock = clock
        self.inbox = Inbox(db, clock)
        self.on_stored = on_stored or (lambda row_id: None)
        self.wall = wall  # Slack's timestamp window is about real time, not the app's clock
        self.settings = settings
        self.spool = _spool_of(db)
        self._console = None
        self._console_lock = threading.Lock()
        self.console_share = console_share
        self._console_slots = threading.BoundedSemaphore(console_share)
        self._console_busy = 0  # console requests holding a slot, for readers such as tests and logs
        self._busy_lock = threading.Lock()
        if connectors is None:
            from bot.adapters import CONNECTORS as connectors
        # path → its platform's hook, for the platforms that are on
        self.hooks = {c.path: c.hook(settings) for c in connectors if c.on(settings)}
        for c in connectors:
            if not c.on(settings) and c.off_warning:
                log.warning("%s", c.off_warning)

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _respond(start_response, "200 OK", b"ok")
        if path == "/readyz":
            report = status.readiness(self.db, self.clock)
            return _json(start_response, "200 OK" if report["ready"] else "503 Service Unavailable", report)
        if path == "/console" or path.startswith("/console/"):
            return self.console(environ, start_response)
        if path not in self.hooks:
            return _respond(start_response, "404 Not Found")
        if environ.get("REQUEST_METHOD") != "POST":
            return _respond(start_response, "405 Method Not Allowed")
        try:
            body = _read(environ)
            request = webhooks.Request(body, environ.get("CONTENT_TYPE") or "", self.wall(), _headers(environ))
            answer = self.hooks[path].receive(request, self)  # the web app is the hook's Intake
        except webhooks.Refused as e:
            log.warning("%s: refused (%s)", path, e.why)
            return _respond(start_response, e.status)
        except sqlite3.Error as e:
            return self._not_stored(path, e, start_response)
        return _respond(start_response, answer.status, answer.body, answer.content_type)

    @staticmethod
    def _not_stored(path: str, e: sqlite3.Error, start_response):
        """The event could not be stored: 503 with ``Retry-After``, so the platform sends it again
        (LINE with webhook redelivery on, Slack by itself) instead of it being lost or a 500.  The
        inbox's unique key makes the redelivery stored once.  The log says why, never the body."""
        why = failures.storage_failure(e)
        log.error("%s: event not stored, answered 503: %s (%s)", path, why, type(e).__name__)
        start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8"),
                                                   ("Retry-After", str(RETRY_AFTER_S)), ("Content-Length", "0")])
        return [b""]

    @property
    def console_busy(self) -> int:
        """How many console requests hold a slot now (their answer not yet fully sent)."""
        return self._console_busy

    def console(self, environ, start_response):
        """The console, within its share of the threads (``console_share``): a slot is taken before
        anything else and given back when the answer has been sent (a streamed download keeps it),
        and without a free slot the answer is 503 with a short Japanese page, at once."""
        if not self._console_slots.acquire(blocking=False):
            log.warning("console busy: %d requests in flight, answering 503", self.console_share)
            body = messages.CONSOLE_BUSY_PAGE.encode("utf-8")
            start_response("503 Service Unavailable", [("Content-Type", "text/html; charset=utf-8"),
                                                       ("Content-Length", str(len(body))), ("Retry-After", "5"),
                                                       ("Cache-Control", "no-store"), *BUSY_PAGE_HEADERS])
            return [body]
        with self._busy_lock:
            self._console_busy += 1
        slot = _Slot(self._release_console)
        try:
            return slot.wrap(self._console_app(environ, start_response))
        except BaseException:
            slot.close()
            raise

    def _release_console(self) -> None:
        with self._busy_lock:
            self._console_busy -= 1
        self._console_slots.release()

    def _console_app(self, environ, start_response):
        """The Flask console, built on the first request, seeing ``/console`` as its root."""
        if self._console is None:
            with self._console_lock:
                if self._console is None:
                    from bot.console import create_app
                    self._console = create_app(self.db, self.clock, self.settings)
        environ = dict(environ, SCRIPT_NAME=environ.get("SCRIPT_NAME", "") + "/console",
                       PATH_INFO=environ.get("PATH_INFO", "")[len("/console"):] or "/")
        return self._console(environ, start_response)

    def store(self, platform: str, events: list[webhooks.Event]) -> None:
        for ev in events:
            row = self.inbox.add(platform, ev.key, ev.payload, sender=ev.sender)
            if row is not None:
                self.on_stored(row)

    def keep_aside(self, platform: str, event: webhooks.Event, error: Exception) -> bool:
        """A platform that never resends (its hook says so) has its event kept in the spool beside
        the database when the database refuses it; the worker moves it into the inbox later."""
        if self.spool is None:
            return False
        try:
            spool.save(self.spool, platform, event.key, event.sender, event.payload)
        except OSError:
            return False
        log.error("%s: database refused the event (%s), kept in the spool", platform,
                  failures.storage_failure(error) if isinstance(error, sqlite3.Error) else type(error).__name__)
        return True


class _Slot:
    """A console answer's body, giving its slot back once, when the server closes it (PEP 3333:
    the server calls ``close()`` after the last byte is sent, or when the client went away)."""

    def __init__(self, release: Callable[[], None]):
        self._release = release
        self._inner = None
        self._done = False

    def wrap(self, inner: Iterable[bytes]) -> "_Slot":
        self._inner = inner
        return self

    def __iter__(self):
        return iter(self._inner)

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._release()


def _spool_of(db):
    """The spool folder beside the database file; None for an in-memory database."""
    path = file_of(db)
    return spool.spool_dir(path) if path else None


def _headers(environ) -> dict[str, str]:
    """The request's headers by lower-case name (``X-Line-Signature`` → ``x-line-signature``)."""
    return {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
