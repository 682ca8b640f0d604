"""LINE and Slack end to end: the real server (waitress), real SDK clients, signed requests, and
stand-ins of the two Web APIs on 127.0.0.1 that validate what Nimo sends with the SDKs' models."""
from __future__ import annotations

import copy
import http.client
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from waitress.server import create_server

from bot.config import Settings
from bot.people.access import add_user, create_invite, get_user
from bot.app import build_app
from bot.serve.worker import Server

from .conftest import ROOT, Clock
from .fakes import LineStandIn, SlackStandIn, line_signature, slack_headers

LINE_SECRET = "line-secret-for-tests"
SLACK_SECRET = "slack-signing-secret-for-tests"
FIXTURE = ROOT.parent / "shared" / "fixtures" / "line-webhook-events.json"


class Stack:
    """Nimo served for real, with both stand-ins, and helpers to send it signed requests."""

    def __init__(self, tmp_path, index, line, slack):
        self.line, self.slack = line, slack
        self.settings = {
            "LINE_CHANNEL_SECRET": LINE_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": line.access_token,
            "LINE_API_BASE_URL": line.url, "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_BASE_URL": slack.url + "/api/",
        }
        self.db_path = tmp_path / "nimo.db"
        self.index = index
        self.sleeps: list[float] = []
        self.clock = Clock()
        self.start()

    def start(self, workers: bool = True):
        # The app's clock is fixed (a Tuesday morning in Tokyo): what Nimo says about dates must not
        # depend on when the suite runs.  Slack's signature window is checked against real time.
        self.app = build_app(db_path=str(self.db_path), index=self.index, clock=self.clock)
        self.server = Server(self.app, Settings.from_env(self.settings), threads=2, sleep=self.sleeps.append)
        self.working = workers
        if workers:
            self.server.start_workers()
        self.http = create_server(self.server.wsgi, host="127.0.0.1", port=0, threads=4, asyncore_loop_timeout=0.05)
        self.port = self.http.effective_port
        self.thread = threading.Thread(target=self.http.run, daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 5.0):
        # Empty waitress's socket map first so its loop ends by itself, then close the sockets:
        # closing under a select() that is still waiting makes the loop thread fail.
        channels = list(self.http._map.values())
        self.http._map.clear()
        self.thread.join(5)
        for ch in channels:
            ch.close()
        self.http.task_dispatcher.shutdown()
        self.server.stop(timeout)

    def wait(self):
        """Until the workers are idle: every event acknowledged so far has been handled (raises
        after 10 s).  What a test then finds missing will not come later."""
        if self.working:
            assert self.server.workers.wait_idle(10)

    def statuses(self) -> dict:
        """How many inbox rows are in each state ('done' once answered)."""
        return dict(self.app.db.execute("SELECT status, COUNT(*) FROM inbox GROUP BY status").fetchall())

    def request(self, path, body: bytes, headers: dict) -> int:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("POST", path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        return r.status

    def line_post(self, events, *, signature: str | None = None, raw: bytes | None = None) -> int:
        body = raw if raw is not None else json.dumps({"destination": "Ubot", "events": events},
                                                      ensure_ascii=False).encode()
        sig = signature if signature is not None else line_signature(body, LINE_SECRET)
        status = self.request("/line/webhook", body, {"Content-Type": "application/json", "X-Line-Signature": sig})
        self.wait()
        return status

    def slack_post(self, payload, *, form: bool = False, timestamp=None, secret=SLACK_SECRET, extra=None) -> int:
        if form:
            body = urlencode(payload).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(payload, ensure_ascii=False).encode()
            ctype = "application/json"
        headers = slack_headers(body, secret, timestamp=timestamp, content_type=ctype)
        headers.update(extra or {})
        status = self.request("/slack/events", body, headers)
        self.wait()
        return status

    def count(self, table):
        return self.app.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.fixture
def stack(tmp_path, index):
    with LineStandIn() as line, SlackStandIn() as slack:
        s = Stack(tmp_path, index, line, slack)
        try:
            yield s
        finally:
            s.stop()
        assert line.errors == [] and slack.errors == []


NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)
_seq = iter(range(1, 10_000))


def text_event(text, user="Ustaff", source=None, event_id=None, token=None):
    n = next(_seq)
    return {"type": "message", "mode": "active", "timestamp": 1764000000000 + n,
            "source": source or {"type": "user", "userId": user},
            "webhookEventId": event_id or f"01TEST{n:020d}", "deliveryContext": {"isRedelivery": False},
            "replyToken": token or f"reply-token-{n:06d}",
            "message": {"id": str(n), "type": "text", "quoteToken": f"q{n}", "text": text}}


def register(stack, platform="line", user="Ustaff"):
    add_user(stack.app.db, platform, user, "staff", "千葉市", NOW)


def case_areas_of_flex(messages):
    flex = [m for m in messages if m["type"] == "flex"][0]
    return [b["header"]["contents"][0]["text"].split(") ", 1)[1] for b in flex["contents"]["contents"]]


def expected_areas(stack, q):
    return [h.case.area for h in stack.app.index.search(q).hits[:3]]


# -- LINE ---------------------------------------------------------------------------------------
def test_line_question_gets_a_flex_carousel_with_the_cases_of_nimo_ask(stack):
    register(stack)
    assert stack.line_post([text_event("住まいの確保で困っている")]) == 200
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)
    d = stack.line.delivered[0]
    assert d["kind"] == "reply"
    assert case_areas_of_flex(d["messages"]) == expected_areas(stack, "住まいの確保で困っている")
    flex = [m for m in d["messages"] if m["type"] == "flex"][0]
    assert "住まい" not in flex["altText"]  # the notification names areas, never the question
    assert d["messages"][-1]["quickReply"]["items"]
    assert any(r["path"].endswith("/chat/loading/start") for r in stack.line.requests)


def test_line_postback_button_does_what_typing_does(stack):
    register(stack)
    stack.line_post([text_event("家族教室")])
    pb = text_event("x")
    pb.update(type="postback", postback={"data": "詳しく 1"})
    del pb["message"]
    stack.line_post([pb])
    assert stack.line.wait_for(lambda l: len(l.delivered) == 2)
    texts = [m["text"] for m in stack.line.delivered[1]["messages"] if m["type"] == "text"]
    assert "■" in "".join(texts) and "出典" in "".join(texts)


def test_unregistered_user_gets_only_the_registration_prompt(stack):
    stack.line_post([text_event("住まいの確保", user="Unew")])
    stack.line.wait_for(lambda l: len(l.delivered) == 1)
    msgs = stack.line.delivered[0]["messages"]
    assert len(msgs) == 1 and msgs[0]["type"] == "text" and "登録" in msgs[0]["text"]


def test_registration_with_an_invite_code(stack):
    code = create_invite(stack.app.db, "staff", "船橋市", stack.clock())
    stack.line_post([text_event("登録 WRONG123", user="Unew")])
    stack.line_post([text_event(f"登録 {code}", user="Unew")])
    stack.line_post([text_event(f"登録 {code}", user="Uother")])  # a code works once
    stack.line.wait_for(lambda l: len(l.delivered) == 3)
    said = [d["messages"][0]["text"] for d in stack.line.delivered]
    assert "使えません" in said[0] and "登録しました" in said[1] and "使えません" in said[2]
    assert get_user(stack.app.db, "line", "Unew").area == "船橋市"
    assert get_user(stack.app.db, "line", "Uother") is None


def test_registration_in_a_group_is_refused(stack):
    code = create_invite(stack.app.db, "staff", "船橋市", stack.clock())
    src = {"type": "group", "groupId": "Cgroup", "userId": "Unew"}
    stack.line_post([text_event(f"にも 登録 {code}", source=src)])
    stack.line.wait_for(lambda l: len(l.delivered) == 1)
    assert "1対1" in stack.line.delivered[0]["messages"][0]["text"]
    assert get_user(stack.app.db, "line", "Unew") is None


def test_group_talk_is_answered_only_when_nimo_is_called(stack):
    register(stack)
    src = {"type": "group", "groupId": "Cgroup", "userId": "Ustaff"}
    stack.line_post([text_event("今日は暑いですね", source=src), text_event("にも 家族教室", source=src)])
    assert stack.statuses() == {"done": 2}  # both handled (line_post waits until the workers are idle)
    assert len(stack.line.delivered) == 1 and any(m["type"] == "flex" for m in stack.line.delivered[0]["messages"])


@pytest.mark.parametrize("tamper", ["signature", "body", "missing"])
def test_forged_line_requests_get_401_and_nothing_is_done(stack, tamper):
    register(stack)
    body = json.dumps({"destination": "U", "events": [text_event("住まい")]}, ensure_ascii=False).encode()
    sig = line_signature(body, LINE_SECRET)
    if tamper == "signature":
        status = stack.line_post(None, raw=body, signature=line_signature(body, "another-secret"))
    elif tamper == "body":
        status = stack.line_post(None, raw=body.replace("住まい".encode(), "家族".encode()), signature=sig)
    else:
        status = stack.line_post(None, raw=body, signature="")
    assert status == 401
    assert stack.count("inbox") == 0 and stack.line.requests == []


def test_malformed_json_gets_400_and_nothing_is_stored(stack):
    for raw in (b"{not json", b'{"events": "x"}', b"[]", "{\"events\": [1]}".encode()):
        assert stack.line_post(None, raw=raw) == 400
    assert stack.count("inbox") == 0


def test_connectivity_check_gets_200(stack):
    assert stack.line_post([]) == 200
    assert stack.line.requests == []


def test_a_redelivered_event_is_answered_once(stack):
    register(stack)
    ev = text_event("家族教室")
    again = copy.deepcopy(ev)
    again["deliveryContext"]["isRedelivery"] = True
    assert stack.line_post([ev]) == 200
    assert stack.line_post([again]) == 200
    assert stack.statuses() == {"done": 1}  # the one stored row was answered, and the workers are idle
    assert len(stack.line.delivered) == 1


def test_every_event_of_the_sdk_fixture_gets_200_and_no_error(stack):
    if not FIXTURE.exists():
        pytest.skip("shared/ is not beside this checkout")
    events = json.loads(FIXTURE.read_text(encoding="utf-8"))["events"]
    for i, ev in enumerate(events):  # every event there shares one id and one token: make them unique
        ev = copy.deepcopy(ev)
        ev["webhookEventId"] = f"01FIXTURE{i:017d}"
        if "replyToken" in ev:
            ev["replyToken"] = f"fixture-token-{i:04d}"
        uid = ev.get("source", {}).get("userId")
        if uid:
            add_user(stack.app.db, "line", uid, "staff", "千葉市", NOW)
        assert stack.line_post([ev]) == 200, ev["type"]
    assert stack.app.db.execute("SELECT COUNT(*) FROM inbox WHERE status = 'failed'").fetchone()[0] == 0
    assert stack.count("inbox") == len(events)


def test_follow_gets_a_greeting_with_the_registration_prompt(stack):
    ev = text_event("x", user="Ufollow")
    ev["type"] = "follow"
    ev["follow"] = {"isUnblocked": False}
    del ev["message"]
    stack.line_post([ev])
    stack.line.wait_for(lambda l: len(l.delivered) == 1)
    text = stack.line.delivered[0]["messages"][0]["text"]
    assert "Nimo" in text and "登録" in text


# -- faults at the LINE API -----------------------------------------------------------------------
def test_reply_500_then_ok_is_retried_and_delivered_once(stack):
    register(stack)
    stack.line.fail_next("/v2/bot/message/reply", 500)
    stack.line_post([text_event("家族教室")])
    assert [d["kind"] for d in stack.line.delivered] == ["reply"]


def test_reply_429_waits_for_retry_after(stack):
    register(stack)
    stack.line.fail_next("/v2/bot/message/reply", 429, retry_after=2)
    stack.line_post([text_event("家族教室")])
    assert [d["kind"] for d in stack.line.delivered] == ["reply"]
    assert 2.0 in stack.sleeps


def test_an_expired_reply_token_falls_back_to_push_with_a_retry_key(stack):
    register(stack)
    ev = text_event("家族教室")
    stack.line.expire_token(ev["replyToken"])
    stack.line_post([ev])
    assert [d["kind"] for d in stack.line.delivered] == ["push"]
    d = stack.line.delivered[0]
    assert d["to"] == "Ustaff" and d["retry_key"]


def test_push_retried_after_a_timeout_is_not_delivered_twice(stack):
    register(stack)
    ev = text_event("家族教室")
    stack.line.expire_token(ev["replyToken"])
    stack.server.answerer.parts["line"].messenger.timeout = 0.5
    stack.line.fail_next("/v2/bot/message/push", 200, delay=1.5, deliver=True)
    stack.line_post([ev])
    assert stack.statuses() == {"done": 1}
    pushes = [r for r in stack.line.requests if r["path"] == "/v2/bot/message/push"]
    assert len(pushes) == 2 and pushes[1]["status"] == 409  # the retry came, with the same key
    assert pushes[0]["headers"]["X-Line-Retry-Key"] == pushes[1]["headers"]["X-Line-Retry-Key"]
    assert [d["kind"] for d in stack.line.delivered] == ["push"]


def test_reply_that_timed_out_but_arrived_is_not_pushed_again(stack):
    register(stack)
    stack.server.answerer.parts["line"].messenger.timeout = 0.5
    stack.line.fail_next("/v2/bot/message/reply", 200, delay=1.5, deliver=True)
    stack.line_post([text_event("家族教室")])
    assert stack.statuses() == {"done": 1}
    replies = [r for r in stack.line.requests if r["path"] == "/v2/bot/message/reply"]
    assert len(replies) == 2 and replies[1]["status"] == 400  # tried again: the token was spent
    assert [d["kind"] for d in stack.line.delivered] == ["reply"]


def test_an_event_acknowledged_before_a_crash_is_answered_after_restart(stack):
    register(stack)
    stack.stop()
    stack.start(workers=False)  # acknowledges, but nothing answers: as if killed right after the ack
    assert stack.line_post([text_event("家族教室")]) == 200
    assert stack.line.delivered == []
    stack.stop()
    stack.start()
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)


def test_a_reply_that_went_out_before_the_worker_died_is_not_sent_again(stack):
    register(stack)
    ev = text_event("家族教室")
    # LINE accepts the reply and shows it, but its answer never reaches the worker: the worker is
    # stopped while it waits (its thread stays blocked, as in a process killed at that moment),
    # so the inbox row is left 'working' and nothing records that the reply went out.
    stack.line.fail_next("/v2/bot/message/reply", None, delay=60, deliver=True)
    body = json.dumps({"destination": "Ubot", "events": [ev]}, ensure_ascii=False).encode()
    assert stack.request("/line/webhook", body, {"Content-Type": "application/json",
                                                 "X-Line-Signature": line_signature(body, LINE_SECRET)}) == 200
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)
    stack.stop(timeout=0.2)
    assert stack.app.db.execute("SELECT status FROM inbox").fetchone()[0] == "working"
    stack.clock.now += timedelta(minutes=6)  # the dead worker's claim and heartbeat have lapsed
    stack.start()
    stack.wait()
    assert stack.app.db.execute("SELECT status FROM inbox").fetchone()[0] == "done"
    # the token is spent (by our own first attempt): the retry must not push the answer again
    assert [d["kind"] for d in stack.line.delivered] == ["reply"]
    assert any(r["path"] == "/v2/bot/message/reply" and r["status"] == 400 for r in stack.line.rejections)


def test_a_reply_never_tried_before_still_falls_back_to_push_after_a_restart(stack):
    register(stack)
    stack.stop()
    stack.start(workers=False)  # acknowledged, never answered
    ev = text_event("家族教室")
    assert stack.line_post([ev]) == 200
    stack.line.expire_token(ev["replyToken"])  # too late for the reply token
    stack.stop()
    stack.start()
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)
    stack.wait()
    assert [d["kind"] for d in stack.line.delivered] == ["push"]
    assert stack.app.db.execute("SELECT status FROM deliveries WHERE key LIKE 'reply:%'").fetchone()[0] == "sent"


def test_a_failed_delivery_is_logged_and_shown_with_where_and_what(stack, caplog, nimo):
    import logging
    register(stack)
    stack.line.fail_next("/v2/bot/message/reply", 500, times=4)
    stack.line.fail_next("/v2/bot/message/push", 500, times=4)
    ev = text_event("家族教室で山田さんが困っている")
    with caplog.at_level(logging.WARNING):
        stack.line_post([ev])
    assert stack.line.delivered == []
    lines = [r.getMessage() for r in caplog.records]
    assert "delivery failed: line /v2/bot/message/reply status=500 ServiceException attempt=1 will retry" in lines
    assert "delivery failed: line /v2/bot/message/push status=500 ServiceException attempt=4 gave up" in lines
    # the inbox's line about the event says the same, not only the kind of exception
    assert any(l.endswith("failed: line /v2/bot/message/push status=500 ServiceException attempt=4 gave up")
               for l in lines if l.startswith("event "))
    for l in lines:
        assert "山田" not in l and "Ustaff" not in l and ev["replyToken"] not in l and "test-line-token" not in l
    out = nimo("status", check=False).stdout
    assert "line /v2/bot/message/push HTTP 500（ServiceException、4回目、再試行しません）" in out
    fail = json.loads(nimo("status", "--json", check=False).stdout)["last_delivery_failure"]
    assert {k: fail[k] for k in ("platform", "endpoint", "status", "attempt", "retried")} == {
        "platform": "line", "endpoint": "/v2/bot/message/push", "status": 500, "attempt": 4, "retried": False}


def test_a_refused_slack_post_is_logged_with_its_method_status_and_error_code(stack, caplog):
    import logging
    from bot.adapters.slack import SlackPusher, web_client
    from bot.chat.core import Text
    pusher = SlackPusher(web_client(stack.slack.bot_token, stack.slack.url + "/api/"))
    stack.slack.fail_next("chat.postMessage", 500, body={"ok": False, "error": "internal_error"})
    with caplog.at_level(logging.WARNING):
        assert pusher.push("C0SECRET", [Text("山田さんの訪問")], "k1") is False
    lines = [r.getMessage() for r in caplog.records]
    assert "delivery failed: slack /api/chat.postMessage status=500 internal_error attempt=1 gave up" in lines
    assert not any("C0SECRET" in l or "山田" in l for l in lines)


# -- Slack --------------------------------------------------------------------------------------
def slack_event(event, event_id="Ev001"):
    return {"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()), "event": event}


def dm(text, user="Uslack", ts="1764000000.000100"):
    return {"type": "message", "channel_type": "im", "channel": "D0001", "user": user, "text": text, "ts": ts}


def test_slack_dm_gets_block_kit_with_the_same_cases(stack):
    register(stack, "slack", "Uslack")
    assert stack.slack_post(slack_event(dm("住まいの確保で困っている"))) == 200
    assert stack.slack.wait_for(lambda s: any(p["method"] == "chat.postMessage" for p in s.posted))
    post = [p for p in stack.slack.posted if p["method"] == "chat.postMessage"][0]
    text = json.dumps(post["blocks"], ensure_ascii=False)
    for area in expected_areas(stack, "住まいの確保で困っている"):
        assert area in text
    assert any(b["type"] == "actions" for b in post["blocks"])


def test_slack_retry_of_the_same_event_is_done_once(stack):
    register(stack, "slack", "Uslack")
    ev = slack_event(dm("家族教室"), event_id="EvRetry")
    assert stack.slack_post(ev) == 200
    assert stack.slack_post(ev, extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}) == 200
    assert stack.statuses() == {"done": 1}  # the retry was not stored; the workers are idle
    assert len([p for p in stack.slack.posted if p["method"] == "chat.postMessage"]) == 1


@pytest.mark.parametrize("how", ["secret", "stale"])
def test_forged_or_stale_slack_requests_are_refused(stack, how):
    register(stack, "slack", "Uslack")
    kw = {"secret": "wrong"} if how == "secret" else {"timestamp": int(time.time()) - 600}
    status = stack.slack_post(slack_event(dm("家族教室")), **kw)
    assert status in (401, 403)
    assert stack.slack.posted == [] and stack.count("inbox") == 0


def test_slack_unregistered_user_gets_only_the_prompt(stack):
    stack.slack_post(slack_event(dm("家族教室", user="Unobody")))
    assert stack.slack.wait_for(lambda s: s.posted)
    assert "登録" in stack.slack.posted[0]["text"]


def test_slash_command_answers_through_the_response_url(stack):
    register(stack, "slack", "Uslack")
    payload = {"token": "x", "team_id": "T1", "channel_id": "C1", "channel_name": "general", "user_id": "Uslack",
               "command": "/nimo", "text": "家族教室", "response_url": stack.slack.url + "/response/abc",
               "trigger_id": "1.2.3", "api_app_id": "A1"}
    assert stack.slack_post(payload, form=True) == 200
    assert stack.slack.wait_for(lambda s: any(p["method"] == "response_url" for p in s.posted))


def test_app_home_says_how_to_use_nimo(stack):
    stack.slack_post(slack_event({"type": "app_home_opened", "user": "Uslack", "channel": "D1", "tab": "home"},
                                 event_id="EvHome"))
    assert stack.slack.wait_for(lambda s: any(p["method"] == "views.publish" for p in s.posted))


# -- logs, settings, admin commands ----------------------------------------------------------------
def test_no_message_text_or_token_reaches_the_logs(stack, caplog):
    import logging
    caplog.set_level(logging.INFO)  # the level nimo serve runs at
    register(stack)
    register(stack, "slack", "Uslack")
    secret_words = "田中さんの住まいの確保"
    stack.line_post([text_event(secret_words)])
    stack.line_post(None, raw=b'{"events": []}', signature="forged")
    stack.slack_post(slack_event(dm(secret_words), event_id="EvLog"))
    stack.slack.wait_for(lambda s: s.posted)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for s in (secret_words, "田中", stack.line.access_token, stack.slack.bot_token, LINE_SECRET, SLACK_SECRET):
        assert s not in logged


def test_rich_menu_is_created_with_its_image(stack):
    from bot.adapters.line_richmenu import create_rich_menu
    menu_id = create_rich_menu(access_token=stack.line.access_token, base_url=stack.line.url,
                               data_url=stack.line.url)
    assert stack.line.default_rich_menu == menu_id
    menu = stack.line.rich_menus[menu_id]
    assert [a["action"]["text"] for a in menu["request"]["areas"]] == ["質問する", "予定", "報告"]
    assert menu["image"] is not None


def test_nimo_serve_and_its_worker_process_answer_for_real(tmp_path):
    """`nimo serve` as deployed: the web process acknowledges, the `nimo worker` process it starts
    answers, both on the same SQLite file."""
    import os
    import signal
    import subprocess
    import sys
    from .procs import Nimo
    with LineStandIn() as line:
        env = dict(os.environ, NIMO_DB=str(tmp_path / "n.db"), LINE_CHANNEL_SECRET=LINE_SECRET,
                   LINE_CHANNEL_ACCESS_TOKEN=line.access_token, LINE_API_BASE_URL=line.url)
        env.pop("SLACK_BOT_TOKEN", None)
        uproc = "U" + "0c0c0c0c" * 4  # `users add` takes only ids of the shape LINE issues
        subprocess.run([sys.executable, "-m", "bot", "users", "add", "--platform", "line", "--id", uproc,
                        "--area", "千葉市"], env=env, check=True, capture_output=True)
        with Nimo(env, stderr=subprocess.PIPE) as nimo:
            body = json.dumps({"destination": "U", "events": [text_event("家族教室", user=uproc)]},
                              ensure_ascii=False).encode()
            c = http.client.HTTPConnection("127.0.0.1", nimo.port, timeout=5)
            c.request("POST", "/line/webhook", body=body, headers={"X-Line-Signature": line_signature(body, LINE_SECRET)})
            assert c.getresponse().status == 200
            assert line.wait_for(lambda l: len(l.delivered) == 1, timeout=30)
            assert any(m["type"] == "flex" for m in line.delivered[0]["messages"])
            os.kill(nimo.proc.pid, signal.SIGTERM)
            _, err = nimo.proc.communicate(timeout=20)
        assert "家族教室" not in err.decode("utf-8", "replace")  # the logs never carry message text
        assert line.errors == []


def test_a_worker_killed_after_line_took_the_reply_does_not_send_it_again(tmp_path):
    """The crash point for real: LINE has taken the reply (the stand-in holds its answer back),
    the `nimo worker` process is SIGKILLed, `nimo serve` starts a new one, which redoes the event
    once the dead worker's heartbeat has lapsed; the spent reply token must not turn into a push."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    from .procs import Nimo, wait_for
    with LineStandIn() as line:
        db = tmp_path / "n.db"
        env = dict(os.environ, NIMO_DB=str(db), LINE_CHANNEL_SECRET=LINE_SECRET,
                   LINE_CHANNEL_ACCESS_TOKEN=line.access_token, LINE_API_BASE_URL=line.url)
        env.pop("SLACK_BOT_TOKEN", None)
        uproc = "U" + "0d0d0d0d" * 4
        subprocess.run([sys.executable, "-m", "bot", "users", "add", "--platform", "line", "--id", uproc,
                        "--area", "千葉市"], env=env, check=True, capture_output=True)
        line.fail_next("/v2/bot/message/reply", None, delay=120, deliver=True)  # taken, answer held back
        with Nimo(env) as nimo:
            first = nimo.worker()
            body = json.dumps({"destination": "U", "events": [text_event("家族教室", user=uproc)]},
                              ensure_ascii=False).encode()
            c = http.client.HTTPConnection("127.0.0.1", nimo.port, timeout=5)
            c.request("POST", "/line/webhook", body=body, headers={"X-Line-Signature": line_signature(body, LINE_SECRET)})
            assert c.getresponse().status == 200
            assert line.wait_for(lambda l: len(l.delivered) == 1, timeout=30)
            os.kill(first, signal.SIGKILL)

            def status():
                with sqlite3.connect(db) as conn:
                    return conn.execute("SELECT status FROM inbox").fetchone()[0]
            assert wait_for(lambda: nimo.worker() not in (None, first), timeout=30)
            assert wait_for(lambda: status() == "done", timeout=60)  # redone by the new worker
        assert [d["kind"] for d in line.delivered] == ["reply"]
        assert [r["path"] for r in line.rejections] == ["/v2/bot/message/reply"]  # the spent token
        assert line.errors == []


def test_slack_date_picker_on_a_reminder_postpones_it(stack):
    from scheduler import store as rstore
    register(stack, "slack", "Uslack")
    now = stack.clock()
    rid = rstore.add_reminder(stack.app.db, kind="reminder", platform="slack", owner="Uslack", target="D0001",
                              is_group=False, title="準備", due=now + timedelta(hours=1), recurrence=None, asked=True,
                              now=now)
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "Uslack"}, "api_app_id": "A1",
               "trigger_id": "1.2.3", "channel": {"id": "D0001"}, "container": {"type": "message"},
               "response_url": stack.slack.url + "/response/pick",
               "actions": [{"type": "datepicker", "action_id": f"nimo:date:延期 {{date}} #{rid}",
                            "selected_date": "2026-12-10", "action_ts": "1764000000.1"}]}
    assert stack.slack_post({"payload": json.dumps(payload, ensure_ascii=False)}, form=True) == 200
    assert stack.slack.wait_for(lambda s: any(p["method"] == "response_url" for p in s.posted))
    assert rstore.get(stack.app.db, rid).due_at.astimezone(rstore.TZ).date().isoformat() == "2026-12-10"


def test_slack_429_is_retried_after_retry_after_and_posted_once(stack):
    register(stack, "slack", "Uslack")
    stack.slack.fail_next("chat.postMessage", 429, retry_after=1)
    assert stack.slack_post(slack_event(dm("家族教室"), event_id="Ev429")) == 200
    assert stack.statuses() == {"done": 1}  # answered, and the workers are idle
    assert len([p for p in stack.slack.posted if p["method"] == "chat.postMessage"]) == 1
    assert any(r["status"] == 429 for r in stack.slack.requests)
