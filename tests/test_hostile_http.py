"""Hostile HTTP: whatever anyone posts to /line/webhook or /slack/events is refused or skipped
cleanly, stores nothing it should not, and leaves no request text in any log line."""
from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from bot.serve import webhooks

from .fakes import LineStandIn, line_signature, slack_headers
from .procs import Nimo
from .test_web import LINE_SECRET, SLACK_SECRET, register, slack_event, stack, text_event  # noqa: F401 (fixture)

MARKER = "秘密の田中花子さん090-1234-5678"


def _raw(stack, path: str, body: bytes, headers: dict) -> int:
    return stack.request(path, body, headers)


def _slack(stack, body: bytes, ctype="application/json", **kw) -> int:
    return _raw(stack, "/slack/events", body, slack_headers(body, SLACK_SECRET, content_type=ctype, **kw))


def _line(stack, body: bytes) -> int:
    status = _raw(stack, "/line/webhook", body, {"Content-Type": "application/json",
                                                  "X-Line-Signature": line_signature(body, LINE_SECRET)})
    stack.wait()
    return status


def _nested(depth: int) -> bytes:
    return ('{"events": [' + '{"a": ' * depth + "1" + "}" * depth + "]}").encode()


# -- refused before anything is parsed -------------------------------------------------------------
@pytest.mark.parametrize("path", ["/line/webhook", "/slack/events"])
def test_a_body_over_1_mb_is_refused_unread(stack, path):
    status = _raw(stack, path, b"x" * (webhooks.MAX_BODY + 1), {"Content-Type": "application/json"})
    assert status == 413
    assert stack.count("inbox") == 0


@pytest.mark.parametrize("headers", [
    {},
    {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"},
    {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=00"},
    {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "é" * 10},
])
def test_unsigned_or_oddly_signed_slack_requests_get_401(stack, headers):
    body = json.dumps(slack_event({"type": "message", "channel_type": "im", "user": "U1", "text": MARKER})).encode()
    assert _raw(stack, "/slack/events", body, dict(headers, **{"Content-Type": "application/json"})) == 401
    assert stack.count("inbox") == 0


@pytest.mark.parametrize("body,ctype", [
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'"a string"', "application/json"),
    (b"\xff\xfe\x00 invalid utf-8", "application/json"),
    (b"\xff\xfe=invalid", "application/x-www-form-urlencoded"),
    (b"payload=%7Bnot%20json", "application/x-www-form-urlencoded"),
    (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    (b'{"a": ' * 5000 + b"1" + b"}" * 5000, "application/json"),
    (b'{"a": ' * 40 + b"1" + b"}" * 40, "application/json"),
])
def test_malformed_signed_slack_bodies_get_400(stack, body, ctype):
    assert _slack(stack, body, ctype) == 400
    assert stack.count("inbox") == 0


@pytest.mark.parametrize("body", [_nested(5000), _nested(40), b'{"events": [1]}', b"\xff\xfe"])
def test_malformed_signed_line_bodies_get_400(stack, body):
    assert _line(stack, body) == 400
    assert stack.count("inbox") == 0


# -- signed, but of the wrong shape: acknowledged and skipped --------------------------------------
@pytest.mark.parametrize("field,value", [
    ("userId", {"a": 1}), ("userId", ["U1"]), ("userId", 2 ** 63), ("userId", 2 ** 200),
    ("webhookEventId", {"a": 1}), ("webhookEventId", ["x"]), ("webhookEventId", 2 ** 63),
])
def test_signed_line_events_with_ids_of_the_wrong_shape_are_skipped(stack, caplog, field, value):
    caplog.set_level(logging.DEBUG)
    ev = text_event(MARKER)
    if field == "userId":
        ev["source"]["userId"] = value
    else:
        ev["webhookEventId"] = value
    assert _line(stack, json.dumps({"destination": "U", "events": [ev]}).encode()) == 200
    assert stack.count("inbox") == 0
    assert any(field in r.getMessage() for r in caplog.records)


def test_a_lone_surrogate_in_line_text_is_stored_and_answered(stack):
    register(stack)
    ev = text_event("家族教室")
    body = json.dumps({"destination": "U", "events": [ev]}).replace("家族教室", "家族教室\\ud800").encode()
    assert _line(stack, body) == 200
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)
    assert stack.app.db.execute("SELECT status FROM inbox").fetchone()[0] == "done"


def _interaction(**fields) -> bytes:
    from urllib.parse import urlencode
    payload = {"type": "block_actions", "user": {"id": "Uslack"}, "trigger_id": "1.2.3", "api_app_id": "A1",
               "team": {"id": "T1"}, "actions": [{"type": "button", "action_id": "nimo:x", "value": MARKER}]}
    payload.update(fields)
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()


@pytest.mark.parametrize("body,ctype,field", [
    (json.dumps(slack_event({"type": "message", "user": "U1", "text": MARKER}, event_id=12345)).encode(),
     "application/json", "event_id"),
    (json.dumps(slack_event({"type": "message", "user": "U1", "text": MARKER}, event_id={"a": 1})).encode(),
     "application/json", "event_id"),
    (json.dumps(dict(slack_event({}, event_id="EvList"), event=[MARKER])).encode(), "application/json", "event"),
    (_interaction(actions=MARKER), "application/x-www-form-urlencoded", "actions"),
    (_interaction(type="view_submission", view={"callback_id": "nimo_report", "state": MARKER}),
     "application/x-www-form-urlencoded", "view.state"),
    (_interaction(user=MARKER), "application/x-www-form-urlencoded", "user.id"),
])
def test_signed_slack_requests_of_the_wrong_shape_get_200_and_are_skipped(stack, caplog, body, ctype, field):
    caplog.set_level(logging.DEBUG)
    assert _slack(stack, body, ctype) == 200
    assert stack.count("inbox") == 0
    assert any(f"its {field} is" in r.getMessage() for r in caplog.records)


def test_a_slack_report_form_with_mistakes_is_answered_in_the_acknowledgement(stack):
    from urllib.parse import urlencode
    view = {"callback_id": "nimo_report", "state": {"values": {
        "case": {"v": {"type": "plain_text_input", "value": "田中さん"}},
        "summary": {"v": {"type": "plain_text_input", "value": ""}}}}}
    payload = {"type": "view_submission", "user": {"id": "Uslack"}, "trigger_id": "9.9.9", "view": view}
    body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
    headers = slack_headers(body, SLACK_SECRET, content_type="application/x-www-form-urlencoded")
    c = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    c.request("POST", "/slack/events", body=body, headers=headers)
    r = c.getresponse()
    answer = json.loads(r.read())
    assert r.status == 200 and answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"case", "summary"}
    assert stack.count("inbox") == 0


# -- nothing of a request in any log line ----------------------------------------------------------
def test_no_log_line_carries_a_marker_sent_through_any_failure_path(stack, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level: what a DEBUG deployment would write
    register(stack, "slack", "Uslack")
    register(stack)
    dm = json.dumps(slack_event({"type": "message", "channel_type": "im", "channel": "D1", "user": "Uslack",
                                 "text": MARKER}, event_id="EvMark")).encode()
    _raw(stack, "/slack/events", dm, slack_headers(dm, "wrong-secret"))                        # forged
    _raw(stack, "/slack/events", dm, slack_headers(dm, SLACK_SECRET, timestamp=int(time.time()) - 900))  # stale
    _raw(stack, "/slack/events", dm, {"Content-Type": "application/json"})                     # unsigned
    _slack(stack, MARKER.encode() + b"{", "application/json")                                  # malformed
    _slack(stack, json.dumps(slack_event({"text": MARKER}, event_id=[MARKER])).encode())       # wrong shape
    line_body = json.dumps({"events": [text_event(MARKER)]}, ensure_ascii=False).encode()
    _raw(stack, "/line/webhook", line_body, {"X-Line-Signature": "forged"})
    _line(stack, MARKER.encode())
    _slack(stack, dm)                                                                          # the real thing
    _line(stack, line_body)
    stack.slack.wait_for(lambda s: s.posted)
    stack.line.wait_for(lambda l: l.delivered)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for part in (MARKER, "田中", "090-1234", stack.slack.bot_token, stack.line.access_token, SLACK_SECRET, LINE_SECRET):
        assert part not in logged


# -- Slack files: only Slack's host gets the token -------------------------------------------------
class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):
        _Recorder.seen.append(self.headers.get("Authorization") or "")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"\x89PNG")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:{port}/evil.png",
                                 "https://files.slack.com.evil.example/x.png", "ftp://files.slack.com/x.png"])
def test_a_slack_file_url_off_slacks_host_is_never_opened_with_the_token(stack, url):
    from bot.adapters.slack import download
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    t = Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        _Recorder.seen = []
        f = {"url_private": url.format(port=server.server_address[1]), "mimetype": "image/png"}
        assert download(f, "xoxb-secret", stack.slack.url + "/api/") is None
        assert _Recorder.seen == []
    finally:
        server.shutdown()
        server.server_close()


def test_the_file_url_of_the_configured_api_host_and_slacks_own_are_accepted():
    from bot.adapters.slack import file_url_ok
    assert file_url_ok("https://files.slack.com/files-pri/T1-F1/a.png")
    assert file_url_ok("http://127.0.0.1:5000/files-pri/T1-F1/a.png", "http://127.0.0.1:5000/api/")
    assert not file_url_ok("http://127.0.0.1:5001/files-pri/T1-F1/a.png", "http://127.0.0.1:5000/api/")
    assert not file_url_ok(None) and not file_url_ok({"url": 1})


# -- a real server under an unsigned 100 MB body ---------------------------------------------------
def _rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("path", ["/line/webhook", "/slack/events", "/healthz", "/elsewhere"])
def test_an_unsigned_100_mb_body_is_refused_without_the_server_growing(tmp_path, path):
    with LineStandIn() as line:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "SLACK_", "NIMO_"))}
        env.update(NIMO_DB=str(tmp_path / "n.db"), LINE_CHANNEL_SECRET=LINE_SECRET,
                   LINE_CHANNEL_ACCESS_TOKEN=line.access_token, LINE_API_BASE_URL=line.url,
                   SLACK_SIGNING_SECRET=SLACK_SECRET, SLACK_BOT_TOKEN="xoxb-x", SLACK_API_BASE_URL=line.url + "/api/")
        with Nimo(env) as nimo:
            before = _rss_mb(nimo.proc.pid)
            for chunked in (False, True):
                with socket.create_connection(("127.0.0.1", nimo.port), timeout=30) as s:
                    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {100 * 2 ** 20}\r\n\r\n"
                    s.sendall(head.encode())
                    chunk = (b"100000\r\n" + b"x" * 2 ** 20 + b"\r\n") if chunked else b"x" * 2 ** 20
                    try:
                        for _ in range(100):
                            s.sendall(chunk)
                    except OSError:
                        pass  # the server stopped reading and closed: what it should do
                    try:
                        answer = s.recv(200)
                    except ConnectionResetError:
                        answer = b""  # refused by closing before our bytes were all read
                assert answer == b"" or answer.split(b" ")[1] in (b"413", b"404", b"401", b"400"), answer[:40]
            assert _rss_mb(nimo.proc.pid) - before < 50
            assert nimo.proc.poll() is None
            os.kill(nimo.proc.pid, signal.SIGTERM)
            assert nimo.proc.wait(15) == 0
