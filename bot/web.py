"""The HTTP app (WSGI): ``POST /line/webhook``, ``POST /slack/events``, ``GET /healthz``.

One process serves both platforms; a platform whose settings are missing is switched off and its
path answers 404.  The LINE webhook does no slow work: verify on the raw bytes, store, answer.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Callable, Iterable

from .adapters import line as line_adapter
from .core import Text
from .inbox import Inbox, Workers
from . import messages

log = logging.getLogger("nimo.web")
MAX_BODY = 1024 * 1024


def _respond(start_response, status: str, body: bytes = b"", ctype: str = "text/plain; charset=utf-8"):
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


def _read(environ) -> bytes | None:
    try:
        n = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if n < 0 or n > MAX_BODY:
        return None
    return environ["wsgi.input"].read(n) if n else b""


class LineWebhook:
    """Verify, store and acknowledge; the workers answer."""

    def __init__(self, app, *, secret: str, messenger: line_adapter.LineMessenger, inbox: Inbox,
                 submit: Callable[[int], None]):
        self.app = app
        self.secret = secret
        self.messenger = messenger
        self.inbox = inbox
        self.submit = submit

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "POST":
            return _respond(start_response, "405 Method Not Allowed")
        body = _read(environ)
        if body is None:
            return _respond(start_response, "413 Payload Too Large")
        if not line_adapter.signature_ok(body, environ.get("HTTP_X_LINE_SIGNATURE"), self.secret):
            log.warning("line webhook: bad signature, %d bytes", len(body))
            return _respond(start_response, "401 Unauthorized")
        try:
            payload = json.loads(body)
            events = payload["events"]
            if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _respond(start_response, "400 Bad Request")
        for ev in events:  # events: [] is LINE's connectivity check: nothing to store
            src = ev.get("source") if isinstance(ev.get("source"), dict) else {}
            row = self.inbox.add("line", line_adapter.event_key(ev), ev, sender=src.get("userId"))
            if row is not None:
                self.submit(row)
        return _respond(start_response, "200 OK", b"OK")

    def process(self, payload: dict, row_id: int) -> None:
        """Answer one stored event (in a worker thread)."""
        ev = line_adapter.read_event(payload)
        if ev.kind == "ignore":
            return
        registered = ev.incoming is not None and _registered(self.app, ev.incoming)
        if ev.kind == "follow":
            replies = [Text(messages.GREETING if registered else messages.GREETING + "\n\n" + messages.REGISTER_PROMPT)]
        elif ev.kind == "join":
            replies = [Text(messages.GREETING + "\n" + messages.GROUP_HINT)]
        elif ev.kind == "non_text":
            replies = [Text(messages.NON_TEXT if registered else messages.REGISTER_PROMPT)]
        elif ev.kind == "image":
            replies = self._photo(ev) if registered else [Text(messages.REGISTER_PROMPT)]
        else:
            if ev.incoming.direct and registered:
                self.messenger.loading(ev.incoming.user)
            replies = self.app.handle(ev.incoming)
        status = self.messenger.deliver(line_adapter.render(replies), reply_token=ev.reply_token, to=ev.to,
                                        key=f"line:{line_adapter.event_key(payload)}")
        if status == "unsent":
            raise RuntimeError("LINE could not be reached")


    def _photo(self, ev) -> list:
        try:
            data = self.messenger.content(ev.message_id)
        except (line_adapter.ApiException, line_adapter.urllib3.exceptions.HTTPError) as e:
            log.warning("line image download failed: %s", type(e).__name__)
            return [Text(messages.PHOTO_FAILED)]
        return self.app.handle(replace(ev.incoming, photo=data))


def _registered(app, incoming) -> bool:
    from .access import get_user
    return get_user(app.db, incoming.platform, incoming.user) is not None


def _stored(row_id: int) -> None:
    """The event is in the inbox; the ``nimo worker`` process will find it there."""


def make_wsgi(*, line: LineWebhook | None = None, slack=None):
    """``slack`` is a Bolt app; its WSGI adapter does Slack's verification and acknowledgement."""
    slack_handler = None
    if slack is not None:
        from slack_bolt.adapter.wsgi import SlackRequestHandler
        slack_handler = SlackRequestHandler(slack)

    def wsgi(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _respond(start_response, "200 OK", b"ok")
        if path == "/line/webhook" and line is not None:
            return line(environ, start_response)
        if path == "/slack/events" and slack_handler is not None:
            return slack_handler(environ, start_response)
        return _respond(start_response, "404 Not Found")

    return wsgi


class Server:
    """Everything ``nimo serve`` runs: the WSGI app, the LINE workers, optionally waitress."""

    def __init__(self, app, settings: dict, *, threads: int = 4, sleep=None, answer: str = "inline"):
        """``answer``: 'inline' (worker threads here), 'elsewhere' (a ``nimo worker`` process
        answers; this one only acknowledges) or 'poll' (this is that worker process)."""
        self.app = app
        self.inbox = Inbox(app.db, app.clock)
        self.workers: Workers | None = None
        self.line = self.slack = None
        if settings.get("LINE_CHANNEL_SECRET") and settings.get("LINE_CHANNEL_ACCESS_TOKEN"):
            kw = {"sleep": sleep} if sleep else {}
            messenger = line_adapter.LineMessenger(access_token=settings["LINE_CHANNEL_ACCESS_TOKEN"],
                                                   base_url=settings.get("LINE_API_BASE_URL") or "https://api.line.me",
                                                   data_url=settings.get("LINE_API_DATA_BASE_URL"), **kw)
            if answer != "elsewhere":
                self.workers = Workers(self.inbox, self._process, threads=threads,
                                       poll=0.1 if answer == "poll" else None)
            self.line = LineWebhook(app, secret=settings["LINE_CHANNEL_SECRET"], messenger=messenger,
                                    inbox=self.inbox, submit=self.workers.submit if self.workers else _stored)
        else:
            log.warning("LINE is off: LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are needed")
        if answer == "poll":
            pass  # the worker process takes no HTTP requests: Slack's events go to the web process
        elif settings.get("SLACK_SIGNING_SECRET") and settings.get("SLACK_BOT_TOKEN"):
            from .adapters.slack import build_bolt
            self.slack = build_bolt(app, bot_token=settings["SLACK_BOT_TOKEN"],
                                    signing_secret=settings["SLACK_SIGNING_SECRET"],
                                    base_url=settings.get("SLACK_API_BASE_URL") or None)
        else:
            log.warning("Slack is off: SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are needed")
        self.wsgi = make_wsgi(line=self.line, slack=self.slack)

    def _process(self, platform: str, payload: dict, row_id: int) -> None:
        if platform == "line" and self.line is not None:
            self.line.process(payload, row_id)

    def pushers(self, settings: dict) -> dict:
        """How the scheduler reaches each platform (reminders have no reply token)."""
        out = {}
        if self.line is not None:
            out["line"] = line_adapter.LinePusher(self.line.messenger)
        if settings.get("SLACK_BOT_TOKEN"):
            from .adapters.slack import SlackPusher, web_client
            out["slack"] = SlackPusher(web_client(settings["SLACK_BOT_TOKEN"], settings.get("SLACK_API_BASE_URL") or None))
        return out

    def start_workers(self) -> None:
        self.inbox.purge()
        if self.workers:
            self.workers.start()

    def stop(self) -> None:
        if self.workers:
            self.workers.stop()
