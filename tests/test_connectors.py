"""A platform is what its connector declares, and nothing else: a toy platform declared only here
(a hook for the web process, a part for the worker) is verified, stored, answered by the router
and delivered, through the real web app under ``serve_http`` on 127.0.0.1 and the real worker
threads, without a line of bot/serve/ knowing it.  And a platform that is off is not there at all:
its path answers 404 and its worker part is never built.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading

import pytest

from bot import messages
from bot.app import build_app
from bot.chat import platform as chat_platform
from bot.chat.core import Incoming, Text
from bot.config import Settings
from bot.serve.webhooks import Answer, Connector, Event, Refused, parse_json, platform_id
from bot.serve.worker import Answerer, Server

from .conftest import Clock
from .inthread import InThread

SECRET = b"toy-secret"
PATH = "/toy/hook"


def toy_signature(body: bytes) -> str:
    return hmac.new(SECRET, body, hashlib.sha256).hexdigest()


class ToyHook:
    """The toy platform's web side: a hex HMAC of the body in ``X-Toy-Signature``, one event per
    request, keyed by its ``id`` (a redelivery carries the same)."""

    def receive(self, request, intake):
        if not hmac.compare_digest(toy_signature(request.body), request.header("X-Toy-Signature") or ""):
            raise Refused("401 Unauthorized", "bad signature")
        ev = parse_json(request.body)
        if not isinstance(ev, dict) or platform_id(ev.get("id")) is None or platform_id(ev.get("user")) is None:
            raise Refused("400 Bad Request", "not a toy event")
        intake.store("toy", [Event(f"toy:{ev['id']}", ev["user"], ev)])
        return Answer(body=b"toy ok")


class ToyPusher:
    def __init__(self):
        self.pushed = []

    def push(self, target, replies, key):
        self.pushed.append((target, key))
        return True

    def push_user(self, user, replies, key):
        return self.push(user, replies, key)


class ToyPart:
    """The toy platform's worker side: a Platform (parse, render, deliver, pusher) answered by the
    one loop every platform's events go through; what it delivers is kept here."""

    name = "toy"
    answers = True

    def __init__(self, app):
        self.app = app
        self.delivered = []
        self.lock = threading.Lock()
        self.started = threading.Event()
        self.toy_pusher = ToyPusher()

    def process(self, payload):
        chat_platform.answer(self, self.app, payload)

    def parse(self, payload):
        incoming = Incoming("toy", payload["user"], payload["user"], payload["text"], True, event_id=payload["id"])
        return chat_platform.Event(incoming, payload["user"], f"toy:{payload['id']}")

    def render(self, replies):
        return [r.text for r in replies if isinstance(r, Text)]

    def deliver(self, rendered, event):
        with self.lock:
            self.delivered.append((event.reply_to, event.key, rendered))

    def pusher(self):
        return self.toy_pusher

    def display_name(self, user_id):
        return "トイ太郎"

    def start(self, stopping):
        self.started.set()


class Toy:
    """The toy platform's connector, and the parts its worker factory built."""

    def __init__(self, on: bool = True):
        self.parts = []
        self.connector = Connector(name="toy", path=PATH, on=lambda settings: on, hook=lambda settings: ToyHook(),
                                   worker=self.worker_part)

    def worker_part(self, app, settings, *, sleep=None):
        part = ToyPart(app)
        self.parts.append(part)
        return part


class Served:
    """A Server (web app and answerer) for the given connectors, under ``serve_http`` on 127.0.0.1."""

    def __init__(self, tmp_path, index, connectors):
        self.app = build_app(db_path=str(tmp_path / "n.db"), index=index, clock=Clock())
        self.server = Server(self.app, Settings.from_env({}), threads=2, connectors=connectors)
        self.server.start_workers()
        self.http = InThread(self.server.wsgi, max_body=1024 * 1024)

    def call(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        return self.http.call(method, path, body, headers)[:2]

    def post(self, event: dict, signature: str | None = None):
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
        out = self.call("POST", PATH, body, {"Content-Type": "application/json",
                                             "X-Toy-Signature": signature or toy_signature(body)})
        assert self.server.workers is None or self.server.workers.wait_idle(10)
        return out

    def rows(self):
        return self.app.db.execute("SELECT platform, event_id, sender, status FROM inbox ORDER BY id").fetchall()

    def close(self):
        self.http.close()
        assert self.server.stop(5)


@pytest.fixture
def served(tmp_path, index):
    toy = Toy()
    s = Served(tmp_path, index, (toy.connector,))
    s.toy = toy
    try:
        yield s
    finally:
        s.close()


def test_a_platform_declared_only_by_its_connector_is_verified_stored_answered_and_delivered(served):
    part, = served.toy.parts
    assert part.started.is_set()  # the worker started it as it starts every part
    status, body = served.post({"id": "e1", "user": "T1", "text": "ヘルプ"})
    assert (status, body) == (200, b"toy ok")  # the hook's own answer, as the web app sent it
    assert served.rows() == [("toy", "toy:e1", "T1", "done")]
    # answered by the router (an unregistered sender is asked to register) and delivered by the part
    assert part.delivered == [("T1", "toy:e1", [messages.REGISTER_PROMPT])]
    # the worker hands its pusher to the scheduler and its names to the app, as for every platform
    assert served.server.answerer.pushers() == {"toy": part.toy_pusher}
    assert served.app.profiles("toy", "T1") == "トイ太郎"


def test_the_toy_platform_keeps_the_web_apps_rules(served):
    part, = served.toy.parts
    assert served.post({"id": "e2", "user": "T1", "text": "ヘルプ"}, signature="0" * 64)[0] == 401
    assert served.call("GET", PATH)[0] == 405
    assert served.call("POST", "/line/webhook", b"{}")[0] == 404  # not among this server's platforms
    assert served.rows() == [] and part.delivered == []
    event = {"id": "e3", "user": "T1", "text": "ヘルプ"}
    assert served.post(event)[0] == 200 and served.post(event)[0] == 200  # the platform sends it again
    assert served.rows() == [("toy", "toy:e3", "T1", "done")]
    assert len(part.delivered) == 1  # stored once, answered once


def test_a_platform_that_is_off_has_no_path_and_no_worker_part(tmp_path, index):
    toy = Toy(on=False)
    s = Served(tmp_path, index, (toy.connector,))
    try:
        body = json.dumps({"id": "e1", "user": "T1", "text": "ヘルプ"}).encode()
        assert s.call("POST", PATH, body, {"X-Toy-Signature": toy_signature(body)})[0] == 404
        assert toy.parts == [] and not s.server.answerer.on and s.server.answerer.pushers() == {}
        assert s.rows() == []
    finally:
        s.close()


def test_an_event_of_a_platform_this_worker_does_not_answer_is_refused_not_dropped(tmp_path, index):
    """A row stored while its platform was on, met by a worker where it is off, fails loudly (it is
    kept as failed) rather than counting as answered."""
    toy = Toy()
    answerer = Answerer(build_app(db_path=str(tmp_path / "n.db"), index=index, clock=Clock()), Settings.from_env({}),
                        threads=1, connectors=(toy.connector,))
    with pytest.raises(RuntimeError, match="line is off"):
        answerer.process("line", {"events": []}, 1)


def test_a_platform_the_scheduler_only_pushes_to_is_not_answered(tmp_path, index):
    """Slack with its bot token alone: reminders go there, its webhooks are not taken (no signing
    secret), so an event of it in the inbox fails rather than being counted as answered."""
    from bot.adapters import CONNECTORS
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1234567890-1234567890123-AbCdEfGh"})
    answerer = Answerer(build_app(db_path=str(tmp_path / "n.db"), index=index, clock=Clock()), settings,
                        threads=1, connectors=CONNECTORS)
    assert not answerer.on and answerer.workers is None
    assert list(answerer.pushers()) == ["slack"]
    with pytest.raises(RuntimeError, match="slack is off"):
        answerer.process("slack", {"kind": "events_api", "body": {}}, 1)
