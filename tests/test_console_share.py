"""The console never occupies the threads that answer webhooks.

The web process serves the webhooks and the console from one waitress pool.  A supervisor's slow
console requests (an alias-bomb upload took 30 s each) used to fill every thread, and LINE's
webhooks and /healthz timed out.  Here the real server (bot/serve/process.py ``serve_http``, its own pool
size) runs the real WebApp; as many console requests as the pool has threads are sent while the
console is held busy (the test holds the lock its lazy build takes, so each request that got a slot
waits inside the console, as a slow one does).  Only the console's share is held; the rest get 503
at once, and a signed LINE webhook and /healthz are answered 200 meanwhile."""
from __future__ import annotations

import inspect
import json
import threading

import pytest

from bot.config import Settings
from bot import messages
from storage.connections import PerThreadDB
from bot.serve.process import serve_http
from bot.serve.web import CONSOLE_SHARE, WebApp

from .conftest import Clock
from .inthread import InThread
from .fakes import line_signature
from .procs import wait_for
from .test_web import text_event

SECRET = "line-secret-for-tests"
POOL = inspect.signature(serve_http).parameters["threads"].default  # the threads nimo serve runs with


class Served(InThread):
    """The WebApp under serve_http in a thread, stopped (drained) at the end."""

    def __init__(self, tmp_path):
        self.web = WebApp(PerThreadDB(tmp_path / "n.db"), Clock(),
                          Settings.from_env({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "token"}))
        super().__init__(self.web, max_body=8 * 1024 * 1024)


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path)
    try:
        yield s
    finally:
        s.close()


def test_console_requests_filling_the_pool_leave_webhooks_and_healthz_answered(served):
    assert CONSOLE_SHARE < POOL
    web = served.web
    statuses: list[int] = []
    bodies: list[bytes] = []

    def console_request():
        status, body, _ = served.call("GET", "/console/signin")
        statuses.append(status)
        bodies.append(body)

    web._console_lock.acquire()  # the console's first build waits: every request with a slot is held
    held = [threading.Thread(target=console_request) for _ in range(POOL)]
    try:
        for t in held:
            t.start()
        # the console's share is held, and every request beyond it was answered 503 without waiting
        assert wait_for(lambda: web.console_busy == CONSOLE_SHARE and statuses.count(503) == POOL - CONSOLE_SHARE,
                        timeout=10)
        assert all(messages.CONSOLE_BUSY in b.decode("utf-8") for b in bodies)

        body = json.dumps({"destination": "Ubot", "events": [text_event("家族教室")]}).encode()
        status, _, _ = served.call("POST", "/line/webhook", body, {
            "Content-Type": "application/json", "X-Line-Signature": line_signature(body, SECRET)})
        assert status == 200
        assert web.db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 1
        assert served.call("GET", "/healthz")[0] == 200

        status, body503, headers = served.call("GET", "/console/signin")  # one more console request
        assert status == 503 and messages.CONSOLE_BUSY in body503.decode("utf-8")
        assert headers.get("Retry-After") == "5" and headers.get("X-Frame-Options") == "DENY"
        assert web.console_busy == CONSOLE_SHARE  # still only the share is held
    finally:
        web._console_lock.release()
        for t in held:
            t.join(15)
    assert sorted(statuses) == [200] * CONSOLE_SHARE + [503] * (POOL - CONSOLE_SHARE)


def test_a_console_slot_is_given_back_when_its_answer_has_been_sent(served):
    """Each answer gives its slot back (also a 404 and a redirect): more requests one after another
    than the share holds are all answered by the console, none with 503."""
    for path in ["/console/signin", "/console/nope", "/console/reports"] * CONSOLE_SHARE:
        assert served.call("GET", path)[0] in (200, 302, 404)
        assert wait_for(lambda: served.web.console_busy == 0, timeout=10)


def test_a_console_answer_holds_its_slot_until_the_server_closes_it(tmp_path):
    """A streamed answer (a CSV download) works in its thread until its last byte is sent: the slot
    is given back by close(), as PEP 3333 servers call it, not when the app returns."""
    from io import BytesIO
    web = WebApp(PerThreadDB(tmp_path / "n.db"), Clock(), Settings.from_env({}))
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/console/signin", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": BytesIO(), "SERVER_PROTOCOL": "HTTP/1.1"}
    said = []
    bodies = [web(dict(environ), lambda status, headers, exc_info=None: said.append(status))
              for _ in range(CONSOLE_SHARE)]
    assert web.console_busy == CONSOLE_SHARE
    extra = web(dict(environ), lambda status, headers, exc_info=None: said.append(status))
    assert said[-1].startswith("503") and messages.CONSOLE_BUSY in b"".join(extra).decode("utf-8")
    for body in bodies:
        assert b"".join(body)  # the page is sent; the slot is still held until close()
        assert web.console_busy > 0
        body.close()
        body.close()  # a second close gives nothing back twice (the semaphore would refuse it)
    assert web.console_busy == 0
    assert said[:CONSOLE_SHARE] == ["200 OK"] * CONSOLE_SHARE
    again = web(dict(environ), lambda status, headers, exc_info=None: said.append(status))
    assert said[-1] == "200 OK"
    again.close()
