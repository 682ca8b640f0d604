"""Tests of the LINE / Slack stand-ins and the in-process pusher in tests/fakes/.

The "accepts" tests drive the real SDK clients (line-bot-sdk v3, slack_sdk) against the
stand-ins, which proves paths, headers and bodies match what the SDKs send.  The "rejects"
tests send raw bodies with urllib so the SDKs' client-side checks cannot interfere.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import urllib.error
import urllib.request
import zlib

import pytest

from linebot.v3 import SignatureValidator, WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexCarousel,
    FlexMessage,
    FlexText,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from linebot.v3.messaging.models import ErrorResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, DividerBlock, SectionBlock
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.fakes import LineStandIn, SlackStandIn, line_headers, line_signature, slack_headers
from tests.waiting import WaitTimeout

RETRY_KEY = "123e4567-e89b-12d3-a456-426614174000"


# ---------------------------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def line():
    with LineStandIn() as server:
        yield server


@pytest.fixture
def slack():
    with SlackStandIn() as server:
        yield server


@pytest.fixture
def line_api(line):
    with ApiClient(Configuration(host=line.url, access_token=line.access_token)) as client:
        yield MessagingApi(client)


@pytest.fixture
def slack_client(slack):
    return WebClient(token=slack.bot_token, base_url=slack.url + "/api/", timeout=5)


def raw_request(url: str, body: bytes | None = None, *, method: str = "POST", headers: dict | None = None):
    """Send a request with urllib; returns (status, headers, decoded body)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            status, hdrs, data = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, hdrs, data = err.code, err.headers, err.read()
    try:
        decoded = json.loads(data)
    except ValueError:
        decoded = data.decode("utf-8")
    return status, hdrs, decoded


def line_post(line: LineStandIn, path: str, obj, *, token: str | None = None, headers: dict | None = None):
    hdrs = {"Content-Type": "application/json", "Authorization": f"Bearer {token or line.access_token}"}
    hdrs.update(headers or {})
    return raw_request(line.url + path, json.dumps(obj).encode("utf-8"), headers=hdrs)


def reply(line: LineStandIn, *messages, token: str = "rt-1"):
    return line_post(line, "/v2/bot/message/reply", {"replyToken": token, "messages": list(messages)})


def text(s: str, **extra) -> dict:
    return {"type": "text", "text": s, **extra}


def bubble(label: str = "Choose", data: str = "action=choose&id=1", body_text: str = "hello", shown=None) -> dict:
    action = {"type": "postback", "label": label, "data": data, **({"displayText": shown} if shown else {})}
    return {"type": "bubble",
            "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": body_text}]},
            "footer": {"type": "box", "layout": "vertical", "contents": [{"type": "button", "action": action}]}}


def flex(contents: dict, alt: str = "cases") -> dict:
    return {"type": "flex", "altText": alt, "contents": contents}


def quick_reply(n: int, label: str = "opt") -> dict:
    return {"items": [{"type": "action", "action": {"type": "message", "label": label, "text": f"choice {i}"}} for i in range(n)]}


def assert_rejected(line: LineStandIn, status: int, body, fragment: str):
    """A LINE-style error answer, parseable by the SDK's own ErrorResponse model, and recorded."""
    assert status == 400, body
    ErrorResponse.from_dict(body)
    assert "message" in body
    assert fragment in json.dumps(body), body
    assert line.errors and any(fragment in e for e in line.errors), line.errors
    assert line.delivered == []


def slack_post(slack: SlackStandIn, method: str, obj: dict, *, token: str | None = None):
    hdrs = {"Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {token or slack.bot_token}"}
    return raw_request(f"{slack.url}/api/{method}", json.dumps(obj).encode("utf-8"), headers=hdrs)


def section(s: str = "hi") -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": s}}


def make_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x00" * (width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# ---------------------------------------------------------------------------------------------
# signing helpers
# ---------------------------------------------------------------------------------------------

def test_line_signature_matches_known_vector_and_independent_hmac():
    body = b'{"events":[]}'
    # computed with: printf '{"events":[]}' | openssl dgst -sha256 -hmac secret -binary | base64
    assert line_signature(body, "secret") == "pkK1lVPJPiJ+wPLziRD79xIxohl8AImYM8AEeM7IbzQ="
    body = '{"destination":"U1","events":[{"type":"message","message":{"text":"こんにちは"}}]}'.encode()
    expected = base64.b64encode(hmac.new(b"s3cr3t", body, hashlib.sha256).digest()).decode()
    assert line_signature(body, "s3cr3t") == expected
    assert line_headers(body, "s3cr3t")["X-Line-Signature"] == expected


def test_line_signature_accepted_by_sdk_and_tampering_detected():
    secret = "channel-secret"
    body = json.dumps({"destination": "Uxxx", "events": [{
        "type": "message", "mode": "active", "timestamp": 1700000000000,
        "source": {"type": "user", "userId": "U1"}, "webhookEventId": "01H", "replyToken": "rt",
        "deliveryContext": {"isRedelivery": False},
        "message": {"type": "text", "id": "1", "text": "相談です", "quoteToken": "q"},
    }]}, ensure_ascii=False)
    sig = line_signature(body.encode("utf-8"), secret)
    assert SignatureValidator(secret).validate(body, sig)
    events = WebhookParser(secret).parse(body, sig)
    assert events[0].message.text == "相談です"
    tampered = body.replace("相談", "雑談")
    assert not SignatureValidator(secret).validate(tampered, sig)
    with pytest.raises(InvalidSignatureError):
        WebhookParser(secret).parse(tampered, sig)
    with pytest.raises(InvalidSignatureError):
        WebhookParser("other-secret").parse(body, sig)


def test_slack_headers_known_vector_and_independent_hmac():
    body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J"
    h = slack_headers(body, "8f742231b10e8888abcd99yyyzzz85a5", timestamp=1531420618,
                      content_type="application/x-www-form-urlencoded")
    # computed with openssl dgst -sha256 -hmac over "v0:1531420618:<body>"
    assert h == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=bca5eef5dd737ed259b428b18cd24f679baa18c3fc5f1cb2a6ac9f03e717969a",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = json.dumps({"type": "event_callback", "event": {"text": "こんにちは"}}).encode()
    h = slack_headers(body, "sek", timestamp=1700000000)
    expected = "v0=" + hmac.new(b"sek", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert h["X-Slack-Signature"] == expected
    assert h["Content-Type"] == "application/json"


def test_slack_headers_accepted_by_sdk_verifier_and_tampering_detected():
    secret = "signing-secret"
    body = b'{"type":"event_callback","event":{"type":"app_mention","text":"<@UBOT> hi"}}'
    headers = slack_headers(body, secret)  # timestamp defaults to now: the verifier checks freshness
    verifier = SignatureVerifier(secret)
    assert verifier.is_valid_request(body, headers)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not verifier.is_valid_request(body.replace(b"hi", b"ho"), headers)
    assert not SignatureVerifier("wrong").is_valid_request(body, headers)
    stale = slack_headers(body, secret, timestamp=1531420618)
    assert not verifier.is_valid_request(body, stale)  # a 2018 timestamp is a replay


# ---------------------------------------------------------------------------------------------
# LINE: the real SDK is accepted
# ---------------------------------------------------------------------------------------------

def test_line_reply_via_sdk(line, line_api):
    resp = line_api.reply_message(ReplyMessageRequest(reply_token="rt-1", messages=[TextMessage(text="こんにちは")]))
    assert len(resp.sent_messages) == 1 and resp.sent_messages[0].id
    assert line.errors == []
    assert line.delivered == [{
        "kind": "reply", "to": None, "reply_token": "rt-1", "retry_key": None,
        "messages": [{"type": "text", "text": "こんにちは"}], "request_id": line.delivered[0]["request_id"],
    }]
    assert line.messages() == [{"type": "text", "text": "こんにちは"}]
    assert line.texts() == ["こんにちは"]
    req = line.requests[-1]
    assert (req["method"], req["path"], req["status"]) == ("POST", "/v2/bot/message/reply", 200)
    assert req["headers"]["authorization"] == "Bearer test-line-token"  # case-insensitive lookup
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["headers"]["User-Agent"].startswith("line-bot-sdk-python/")
    assert req["json"]["replyToken"] == "rt-1"


def test_line_push_with_retry_key_and_409_on_repeat(line, line_api):
    req = PushMessageRequest(to="U1234", messages=[TextMessage(text="リマインドです")])
    line_api.push_message(req, x_line_retry_key=RETRY_KEY)
    assert line.requests[-1]["headers"]["X-Line-Retry-Key"] == RETRY_KEY
    assert [(d["kind"], d["to"], d["retry_key"]) for d in line.delivered] == [("push", "U1234", RETRY_KEY)]

    with pytest.raises(ApiException) as exc:
        line_api.push_message(req, x_line_retry_key=RETRY_KEY)
    assert exc.value.status == 409
    assert exc.value.headers["X-Line-Accepted-Request-Id"] == line.delivered[0]["request_id"]
    assert json.loads(exc.value.body)["message"] == "The retry key is already accepted"
    assert len(line.delivered) == 1  # not delivered twice
    assert line.errors == []  # a retried push is legitimate
    assert line.rejections[-1]["status"] == 409


def test_line_show_loading_animation_via_sdk(line, line_api):
    resp = line_api.show_loading_animation_with_http_info(
        ShowLoadingAnimationRequest(chat_id="U1234", loading_seconds=20))
    assert resp.status_code == 202
    assert line.loading == [{"chatId": "U1234", "loadingSeconds": 20}]
    assert line.errors == []


def test_line_flex_carousel_with_postbacks_and_quick_reply_via_sdk(line, line_api):
    bubbles = [
        FlexBubble(
            body=FlexBox(layout="vertical", contents=[FlexText(text=f"事例 {i}", wrap=True)]),
            footer=FlexBox(layout="vertical", contents=[
                FlexButton(style="primary", action=PostbackAction(
                    label="詳しく見る", data=f"action=case&id={i}", display_text=f"事例 {i} を見る")),
            ]),
        )
        for i in range(12)
    ]
    msg = FlexMessage(
        alt_text="事例の候補",
        contents=FlexCarousel(contents=bubbles),
        quick_reply=QuickReply(items=[
            QuickReplyItem(action=MessageAction(label="もっと見る", text="もっと")),
            QuickReplyItem(action=PostbackAction(label="終わる", data="action=end")),
        ]),
    )
    line_api.reply_message(ReplyMessageRequest(reply_token="rt-flex", messages=[msg, TextMessage(text="どうぞ")]))
    assert line.errors == []
    sent = line.messages()
    assert [m["type"] for m in sent] == ["flex", "text"]
    assert len(sent[0]["contents"]["contents"]) == 12
    assert sent[0]["quickReply"]["items"][1]["action"]["data"] == "action=end"
    assert FlexMessage.from_dict(sent[0]).alt_text == "事例の候補"


def test_line_rich_menu_flow_via_sdk(line, line_api):
    menu = RichMenuRequest(
        size=RichMenuSize(width=800, height=270), selected=True, name="nimo-main", chat_bar_text="メニュー",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=400, height=270),
                            action=PostbackAction(label="検索", data="action=search")),
               RichMenuArea(bounds=RichMenuBounds(x=400, y=0, width=400, height=270),
                            action=MessageAction(label="ヘルプ", text="ヘルプ"))],
    )
    rid = line_api.create_rich_menu(menu).rich_menu_id
    assert rid == "richmenu-1"
    image = make_png(800, 270)
    blob = MessagingApiBlob(line_api.api_client)
    # line-bot-sdk does not set the image Content-Type itself: without _headers it tries to
    # json.dumps() the bytes and fails with TypeError before sending anything.
    blob.set_rich_menu_image(rid, body=image, _headers={"Content-Type": "image/png"})
    assert line.rich_menus[rid]["image"] == {"content_type": "image/png", "size": len(image), "width": 800,
                                             "height": 270}
    line_api.set_default_rich_menu(rid)
    assert line.default_rich_menu == rid
    assert line.rich_menus[rid]["request"]["chatBarText"] == "メニュー"
    assert line.errors == []


def test_line_rich_menu_image_rejections(line, line_api):
    rid = line_api.create_rich_menu(RichMenuRequest(
        size=RichMenuSize(width=800, height=270), selected=False, name="m", chat_bar_text="menu",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=800, height=270),
                            action=PostbackAction(label="a", data="a"))])).rich_menu_id
    blob = MessagingApiBlob(line_api.api_client)
    with pytest.raises(ApiException) as exc:
        line_api.set_default_rich_menu(rid)  # no image yet
    assert exc.value.status == 400
    with pytest.raises(ApiException) as exc:
        blob.set_rich_menu_image(rid, body=make_png(800, 270), _headers={"Content-Type": "image/gif"})
    assert exc.value.status == 415
    with pytest.raises(ApiException) as exc:
        blob.set_rich_menu_image(rid, body=make_png(1200, 405), _headers={"Content-Type": "image/png"})
    assert exc.value.status == 400 and "menu's size" in exc.value.body
    assert len(line.errors) == 3


def test_line_profile_and_unknown_path(line, line_api):
    line.profiles["U9"] = {"displayName": "佐藤"}
    assert line_api.get_profile("U1").display_name == "Nimo Tester"
    prof = line_api.get_profile("U9")
    assert (prof.user_id, prof.display_name) == ("U9", "佐藤")
    status, _, body = raw_request(line.url + "/v2/bot/nope", method="GET",
                                  headers={"Authorization": f"Bearer {line.access_token}"})
    assert (status, body) == (404, {"message": "Not found"})
    assert line.errors == ["GET /v2/bot/nope: Not found"]


def test_line_wrong_or_missing_access_token(line):
    with ApiClient(Configuration(host=line.url, access_token="wrong")) as client:
        with pytest.raises(ApiException) as exc:
            MessagingApi(client).reply_message(
                ReplyMessageRequest(reply_token="rt", messages=[TextMessage(text="x")]))
    assert exc.value.status == 401
    assert json.loads(exc.value.body)["message"].startswith("Authentication failed")
    status, _, _ = raw_request(line.url + "/v2/bot/message/reply", json.dumps(
        {"replyToken": "rt", "messages": [text("x")]}).encode(), headers={"Content-Type": "application/json"})
    assert status == 401
    assert len(line.errors) == 2 and line.delivered == []


# ---------------------------------------------------------------------------------------------
# LINE: what LINE would reject is rejected
# ---------------------------------------------------------------------------------------------

def in_body(component: dict) -> dict:
    return {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [component]}}


PICKER = {"type": "datetimepicker", "label": "日付を選ぶ", "data": "延期 12", "mode": "date"}


@pytest.mark.parametrize("ok, bad, fragment", [  # what LINE accepts (at its limit), and what it refuses
    ([text("a" * 5000)], [text("a" * 5001)], "messages[0].text"),
    ([text("😀" * 2500)], [text("😀" * 2501)], "got 5002"),  # 2,501 code points are 5,002 UTF-16 units
    ([text(str(i)) for i in range(5)], [text(str(i)) for i in range(6)], "Size must be between 1 and 5"),
    ([text("q", quickReply=quick_reply(13))], [text("q", quickReply=quick_reply(14))], "quickReply.items"),
    ([text("q", quickReply=quick_reply(1, label="あ" * 20))], [text("q", quickReply=quick_reply(1, label="あ" * 21))],
     "quickReply.items[0].action.label"),
    (None, [text("q", quickReply={"items": [{"type": "action"}]})], "quickReply.items[0].action"),
    ([text("q", quickReply={"items": [{"type": "action", "action": PICKER}]})],
     [text("q", quickReply={"items": [{"type": "action", "action": {**PICKER, "mode": "week"}}]})], "action.mode"),
    ([flex(bubble(data="d" * 300))], [flex(bubble(data="d" * 301))], "action.data"),
    ([flex(bubble(shown="x" * 300))], [flex(bubble(shown="x" * 301))], "action.displayText"),
    ([flex(bubble(label="L" * 40))], [flex(bubble(label="L" * 41))], "action.label"),
    ([flex({"type": "carousel", "contents": [bubble()] * 12})], [flex({"type": "carousel", "contents": [bubble()] * 13})],
     "Size must be between 1 and 12"),
    # ten bubbles of ~5.5 KB each: every bubble is under 30 KB, the carousel is over 50 KB
    (None, [flex({"type": "carousel", "contents": [bubble(body_text="あ" * 1800)] * 10})], "the maximum is 51200"),
    ([flex(bubble(), alt="a" * 1500)], [flex(bubble(), alt="a" * 1501)], "altText"),
    (None, [flex(in_body({"type": "sparkle"}))], "is not a component"),
    (None, [flex(in_body({"type": "box", "contents": []}))], "layout"),
    (None, [flex(in_body({"type": "button"}))], "action.type"),
    (None, [flex(in_body({"type": "text"}))], "text or contents is required"),
    # what Nimo never sends is refused too: a message type, an action
    (None, [{"type": "hologram"}], "messages[0].type"),
    (None, [{"type": "image", "originalContentUrl": "https://example.com/a.png",
             "previewImageUrl": "https://example.com/a.png"}], "what Nimo sends"),
    (None, [text("q", quickReply={"items": [{"type": "action", "action": {
        "type": "uri", "label": "web", "uri": "https://example.com"}}]})], "quickReply.items[0].action.type"),
])
def test_line_accepts_up_to_a_limit_and_refuses_beyond(line, ok, bad, fragment):
    if ok:
        assert reply(line, *ok, token="ok")[0] == 200 and line.errors == []
        line.reset()
    status, _, body = reply(line, *bad)
    assert_rejected(line, status, body, fragment)


def test_line_reply_token_can_be_used_once(line):
    assert reply(line, text("first"), token="rt-once")[0] == 200
    status, _, body = reply(line, text("second"), token="rt-once")
    assert (status, body) == (400, {"message": "Invalid reply token"})
    assert line.texts() == ["first"]
    assert line.errors == []  # legitimate (e.g. a retry after a lost answer); see rejections
    assert line.rejections[-1]["status"] == 400


def test_line_expired_reply_token(line):
    line.expire_token("rt-old")
    status, _, body = reply(line, text("late"), token="rt-old")
    assert (status, body) == (400, {"message": "Invalid reply token"})
    assert line.delivered == []


def test_line_repeated_push_retry_key_raw(line):
    push = {"to": "U1", "messages": [text("once")]}
    status, hdrs, _ = line_post(line, "/v2/bot/message/push", push, headers={"X-Line-Retry-Key": RETRY_KEY})
    assert status == 200
    first_id = line.delivered[0]["request_id"]
    status, hdrs, body = line_post(line, "/v2/bot/message/push", push, headers={"X-Line-Retry-Key": RETRY_KEY})
    assert status == 409
    assert body["message"] == "The retry key is already accepted"
    assert hdrs["X-Line-Accepted-Request-Id"] == first_id
    assert line.texts() == ["once"]


def test_line_rejects_bad_retry_key_usage(line):
    status, _, body = line_post(line, "/v2/bot/message/push", {"to": "U1", "messages": [text("x")]},
                                headers={"X-Line-Retry-Key": "not-a-uuid"})
    assert_rejected(line, status, body, "X-Line-Retry-Key")
    line.reset()
    status, _, body = line_post(line, "/v2/bot/message/reply", {"replyToken": "rt", "messages": [text("x")]},
                                headers={"X-Line-Retry-Key": RETRY_KEY})
    assert_rejected(line, status, body, "not supported")


# ---------------------------------------------------------------------------------------------
# LINE: fault injection
# ---------------------------------------------------------------------------------------------

def test_line_429_with_retry_after_then_success(line, line_api):
    line.fail_next("/v2/bot/message/push", 429, retry_after=1)
    req = PushMessageRequest(to="U1", messages=[TextMessage(text="hi")])
    with pytest.raises(ApiException) as exc:
        line_api.push_message(req, x_line_retry_key=RETRY_KEY)
    assert exc.value.status == 429
    assert exc.value.headers["Retry-After"] == "1"
    assert line.delivered == []
    line_api.push_message(req, x_line_retry_key=RETRY_KEY)  # the key was not used up by the 429
    assert len(line.delivered) == 1
    assert [r["status"] for r in line.requests] == [429, 200]
    assert line.errors == []


def test_line_sdk_retries_get_on_429_by_itself(line, line_api):
    # urllib3's default Retry (used by line-bot-sdk) retries idempotent methods on 429/503 when
    # a Retry-After header is present, sleeping for it; POSTs are never retried that way.
    line.fail_next("/v2/bot/profile/U1", 429, retry_after=0)
    assert line_api.get_profile("U1").user_id == "U1"
    assert [r["status"] for r in line.requests] == [429, 200]


def test_line_fault_times_and_order(line):
    line.fail_next("/message/push", 500, times=2)
    line.fail_next("/message/push", 503, body={"message": "maintenance"})
    push = {"to": "U1", "messages": [text("x")]}
    got = [line_post(line, "/v2/bot/message/push", push)[:3:2] for _ in range(4)]
    assert got[:3] == [(500, {"message": "An error occurred in the server"})] * 2 + [
        (503, {"message": "maintenance"})]
    assert got[3][0] == 200 and got[3][1]["sentMessages"][0]["id"]
    assert len(line.delivered) == 1


def test_line_delivered_although_client_timed_out(line, line_api):
    line.fail_next("/v2/bot/message/push", None, delay=3, deliver=True)
    req = PushMessageRequest(to="U1", messages=[TextMessage(text="届いた?")])
    with pytest.raises(Exception) as exc:  # urllib3.exceptions.ReadTimeoutError
        line_api.push_message(req, x_line_retry_key=RETRY_KEY, _request_timeout=0.3)
    assert "timed out" in str(exc.value).lower()
    assert line.wait_for(lambda s: len(s.delivered) == 1, timeout=1)
    assert line.texts() == ["届いた?"]
    # the client's retry with the same key is answered 409 and not delivered again
    with pytest.raises(ApiException) as exc:
        line_api.push_message(req, x_line_retry_key=RETRY_KEY)
    assert exc.value.status == 409
    assert len(line.delivered) == 1


def test_line_error_status_with_deliver(line):
    line.fail_next("/v2/bot/message/reply", 500, deliver=True)
    status, _, _ = reply(line, text("x"), token="rt-x")
    assert status == 500
    assert line.texts() == ["x"]
    assert reply(line, text("x again"), token="rt-x")[2] == {"message": "Invalid reply token"}


def test_line_wait_for_and_reset(line):
    with pytest.raises(WaitTimeout, match=r"waited 0.05 s for lambda s: s.messages\(\); seen: 0 request\(s\)$"):
        line.wait_for(lambda s: s.messages(), timeout=0.05)
    reply(line, text("a"), token="t-a")
    assert line.wait_for(lambda s: s.texts() == ["a"], timeout=1)
    line.fail_next("/reply", 500)
    line.reset()
    assert (line.requests, line.delivered, line.errors) == ([], [], [])
    assert reply(line, text("b"), token="t-a")[0] == 200  # token state and faults were reset too


# ---------------------------------------------------------------------------------------------
# Slack: the real SDK is accepted
# ---------------------------------------------------------------------------------------------

def test_slack_auth_test_via_sdk(slack, slack_client):
    resp = slack_client.auth_test()
    assert (resp["user_id"], resp["bot_id"], resp["team_id"], resp["team"]) == ("UBOT", "BBOT", "T1", "nimo-test")
    assert resp["url"] == "https://nimo-test.slack.com/"
    req = slack.requests[-1]
    assert (req["method"], req["path"]) == ("POST", "/api/auth.test")
    assert req["headers"]["Authorization"] == "Bearer xoxb-test"
    assert slack.errors == []


def test_slack_post_message_with_blocks_via_sdk(slack, slack_client):
    blocks = [
        SectionBlock(text="*事例* が見つかりました"),
        DividerBlock(),
        ActionsBlock(elements=[ButtonElement(text="詳しく", action_id="case_open", value="case-1")]),
    ]
    resp = slack_client.chat_postMessage(channel="C1", text="事例が見つかりました", blocks=blocks, thread_ts="1.2")
    assert resp["ok"] and resp["channel"] == "C1" and resp["ts"]
    assert slack.errors == []
    [post] = slack.posted
    assert (post["method"], post["channel"], post["thread_ts"], post["ts"]) == (
        "chat.postMessage", "C1", "1.2", resp["ts"])
    assert post["blocks"][2]["elements"][0]["action_id"] == "case_open"
    req = slack.requests[-1]
    assert req["headers"]["Content-Type"] == "application/json;charset=utf-8"
    assert req["json"]["channel"] == "C1"
    assert slack.texts() == ["事例が見つかりました"]
    assert slack.errors == []


def test_slack_views_via_sdk(slack, slack_client):
    home = View(type="home", blocks=[SectionBlock(text="ようこそ")])
    resp = slack_client.views_publish(user_id="U1", view=home)
    assert resp["ok"] and resp["view"]["type"] == "home"
    modal = View(type="modal", title="報告", callback_id="report", blocks=[SectionBlock(text="内容")])
    opened = slack_client.views_open(trigger_id="123.456", view=modal)
    assert opened["view"]["id"] and opened["view"]["callback_id"] == "report"
    assert [p["method"] for p in slack.posted] == ["views.publish", "views.open"]
    assert slack.posted[0]["user"] == "U1" and slack.posted[0]["view"]["blocks"][0]["type"] == "section"
    assert slack.errors == []


def test_slack_conversations_open_and_users_info_are_form_encoded(slack, slack_client):
    assert slack_client.conversations_open(users="U77")["channel"]["id"] == "DU77"
    req = slack.requests[-1]
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert req["form"] == {"users": "U77"}
    slack.users["U77"] = {"real_name": "山田"}
    user = slack_client.users_info(user="U77")["user"]
    assert (user["id"], user["real_name"], user["tz"]) == ("U77", "山田", "Asia/Tokyo")
    assert slack.requests[-1]["method"] == "POST"  # http_verb="GET" is ignored by the urllib client
    assert slack.errors == []


def test_slack_form_encoded_blocks_are_decoded_and_validated(slack, slack_client):
    blocks = json.dumps([section("from form")])
    slack_client.api_call("chat.postMessage", params={"channel": "C1", "blocks": blocks, "text": "t"})
    assert slack.requests[-1]["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert slack.posted[-1]["blocks"] == [section("from form")]
    with pytest.raises(SlackApiError) as exc:
        slack_client.api_call("chat.postMessage", params={"channel": "C1", "blocks": json.dumps([{"type": "section"}])})
    assert exc.value.response["error"] == "invalid_blocks"


def test_slack_response_url_via_webhook_client(slack):
    url = slack.response_url("cmd-1")
    resp = WebhookClient(url).send(text="検索中…", response_type="ephemeral", blocks=[section("結果")])
    assert (resp.status_code, resp.body) == (200, "ok")
    [post] = slack.posted
    assert (post["method"], post["path"], post["response_type"]) == ("response_url", "/response/cmd-1", "ephemeral")
    assert post["blocks"] == [section("結果")]
    resp = WebhookClient(url).send(text="x", blocks=[{"type": "section"}])
    assert (resp.status_code, resp.body) == (400, "invalid_blocks")
    assert len(slack.posted) == 1 and len(slack.errors) == 1


# ---------------------------------------------------------------------------------------------
# Slack: what Slack would reject is rejected
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("block, fragment", [
    ({"type": "section"}, "text or fields attribute must be specified"),
    ({"type": "actions", "elements": [{"type": "button", "action_id": "a"}]}, "argument: 'text'"),
    ({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}}]},
     "cannot exceed 75 characters"),
    ({"type": "section", "text": "just a string"}, "must be a text object"),
    ({"type": "header", "text": {"type": "mrkdwn", "text": "x"}}, "must be a plain_text object"),
    ({"type": "hologram"}, "unknown block type"),
    ({"type": "actions", "elements": [{"type": "hologram"}]}, "unknown type"),
])
def test_slack_rejects_invalid_blocks(slack, block, fragment):
    status, _, body = slack_post(slack, "chat.postMessage", {"channel": "C1", "text": "t", "blocks": [block]})
    assert (status, body) == (200, {"ok": False, "error": "invalid_blocks"})
    assert slack.posted == []
    assert len(slack.errors) == 1 and fragment in slack.errors[0], slack.errors


def test_slack_block_count_limits(slack):
    assert slack_post(slack, "chat.postMessage", {"channel": "C1", "blocks": [section()] * 50})[2]["ok"]
    status, _, body = slack_post(slack, "chat.postMessage", {"channel": "C1", "blocks": [section()] * 51})
    assert body == {"ok": False, "error": "invalid_blocks"}
    assert slack_post(slack, "views.publish", {"user_id": "U1", "view": {"type": "home",
                                                                         "blocks": [section()] * 100}})[2]["ok"]
    body = slack_post(slack, "views.publish", {"user_id": "U1", "view": {"type": "home", "blocks": [section()] * 101}})[2]
    assert body["ok"] is False
    assert len(slack.posted) == 2 and len(slack.errors) == 2


def test_slack_rejects_bad_arguments(slack):
    cases = [
        ("chat.postMessage", {"text": "no channel"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "C1"}, "no_text"),
        ("chat.postMessage", {"channel": "C1", "text": "x" * 40001}, "msg_too_long"),
        ("views.publish", {"view": {"type": "home", "blocks": [section()]}}, "invalid_arguments"),
        ("views.publish", {"user_id": "U1", "view": {"type": "home", "blocks": [{"type": "section"}]}},
         "invalid_arguments"),
        ("views.open", {"trigger_id": "t", "view": {"type": "modal", "blocks": [section()]}}, "invalid_arguments"),
        ("chat.update", {"channel": "C1", "ts": "1.1", "text": "x"}, "unknown_method"),  # Nimo does not edit
    ]
    for method, args, error in cases:
        assert slack_post(slack, method, args)[2]["error"] == error, (method, args)
    assert slack_post(slack, "chat.postMessage", {"channel": "C1", "text": "x" * 40000})[2]["ok"]
    assert len(slack.posted) == 1 and len(slack.errors) == len(cases)


def test_slack_wrong_or_missing_bot_token(slack):
    client = WebClient(token="xoxb-wrong", base_url=slack.url + "/api/")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response["error"] == "invalid_auth"
    status, _, body = raw_request(slack.url + "/api/chat.postMessage", b'{"channel":"C1","text":"x"}',
                                  headers={"Content-Type": "application/json"})
    assert body == {"ok": False, "error": "not_authed"}
    assert slack.posted == [] and len(slack.errors) == 2


# ---------------------------------------------------------------------------------------------
# Slack: fault injection
# ---------------------------------------------------------------------------------------------

def test_slack_429_without_retry_handler(slack, slack_client):
    slack.fail_next("chat.postMessage", 429, retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        slack_client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 429
    assert exc.value.response["error"] == "ratelimited"
    assert exc.value.response.headers["Retry-After"] == "7"
    assert slack.posted == []


def test_slack_429_then_success_with_sdk_retry_handler(slack, monkeypatch):
    # the SDK's handler sleeps int(Retry-After) + random(); pin the jitter so this stays fast
    monkeypatch.setattr(builtin_handlers, "random", type("R", (), {"random": staticmethod(lambda: 0.0)}))
    slack.fail_next("chat.postMessage", 429, retry_after=0)
    client = WebClient(token=slack.bot_token, base_url=slack.url + "/api/",
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert client.chat_postMessage(channel="C1", text="after retry")["ok"]
    assert [r["status"] for r in slack.requests] == [429, 200]
    assert slack.texts() == ["after retry"]
    assert slack.errors == []


def test_slack_delivered_although_client_timed_out(slack):
    slack.fail_next("chat.postMessage", None, delay=3, deliver=True)
    client = WebClient(token=slack.bot_token, base_url=slack.url + "/api/", timeout=0.3)
    with pytest.raises(TimeoutError):  # a bare socket timeout: not retried by the default handler
        client.chat_postMessage(channel="C1", text="遅れて届く")
    assert slack.wait_for(lambda s: len(s.posted) == 1, timeout=1)
    assert slack.texts() == ["遅れて届く"]
    assert len(slack.requests) == 1


def test_slack_error_with_deliver_and_custom_body(slack, slack_client):
    slack.fail_next("/api/chat.postMessage", 500, deliver=True, body={"ok": False, "error": "fatal_error"})
    with pytest.raises(SlackApiError) as exc:
        slack_client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 500 and exc.value.response["error"] == "fatal_error"
    assert slack.texts() == ["x"]


def test_line_concurrent_requests_and_single_use_token(line):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=10) as pool:
        distinct = list(pool.map(lambda i: reply(line, text(f"m{i}"), token=f"tok-{i}")[0], range(10)))
        same = list(pool.map(lambda i: reply(line, text(f"dup{i}"), token="shared")[0], range(10)))
    assert distinct == [200] * 10
    assert sorted(same) == [200] + [400] * 9  # the token is consumed atomically
    assert len(line.delivered) == 11 and line.errors == []


# ---------------------------------------------------------------------------------------------
# Files: content the bot downloads (LINE message content, Slack url_private) and uploads
# (Slack files_upload_v2)
# ---------------------------------------------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + bytes(range(256)) + b"\xff\xd9"


def test_line_message_content_via_sdk(line, line_api):
    line.put_content("500000000000000001", JPEG)
    line.put_content("500000000000000002", b"ID3audio", content_type="audio/m4a")
    blob = MessagingApiBlob(line_api.api_client)
    assert blob.get_message_content("500000000000000001") == JPEG
    req = line.requests[-1]
    assert (req["method"], req["path"], req["status"]) == ("GET", "/v2/bot/message/500000000000000001/content", 200)
    assert req["headers"]["Authorization"] == "Bearer test-line-token"
    resp = blob.get_message_content_with_http_info("500000000000000002")
    assert (resp.status_code, resp.data) == (200, b"ID3audio")
    assert resp.headers["Content-Type"] == "audio/m4a"
    assert line.errors == [] and line.delivered == []


def test_line_message_content_unknown_id_and_bad_token(line, line_api):
    blob = MessagingApiBlob(line_api.api_client)
    with pytest.raises(ApiException) as exc:
        blob.get_message_content("404404")
    assert exc.value.status == 404 and json.loads(exc.value.body) == {"message": "Not found"}
    assert line.errors == []  # LINE drops content after a while: a legitimate answer
    assert line.rejections[-1]["status"] == 404
    line.put_content("1", JPEG)
    with ApiClient(Configuration(host=line.url, access_token="wrong")) as client:
        with pytest.raises(ApiException) as exc:
            MessagingApiBlob(client).get_message_content("1")
    assert exc.value.status == 401
    assert len(line.errors) == 1 and "Authentication failed" in line.errors[0]


def test_slack_files_upload_v2_via_sdk(slack, slack_client):
    png = make_png(40, 20)
    resp = slack_client.files_upload_v2(channel="C1", file=png, filename="chart.png", title="週報 11/17〜11/23",
                                        initial_comment="今週の報告件数です")
    assert resp["ok"] and resp["file"]["id"] == resp["files"][0]["id"]
    file_id = resp["file"]["id"]
    assert [(r["method"], r["path"], r["status"]) for r in slack.requests] == [
        ("POST", "/api/files.getUploadURLExternal", 200),
        ("POST", f"/upload/{file_id}", 200),
        ("POST", "/api/files.completeUploadExternal", 200),
    ]
    get_url, upload, complete = slack.requests
    assert get_url["form"] == {"filename": "chart.png", "length": str(len(png))}
    assert get_url["response"]["upload_url"] == f"{slack.url}/upload/{file_id}"
    # the bytes go raw, without a token, and urllib labels them form-encoded
    assert upload["body"] == png and "Authorization" not in upload["headers"]
    assert upload["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert upload["response"] == f"OK - {len(png)}"
    assert json.loads(complete["form"]["files"]) == [{"id": file_id, "title": "週報 11/17〜11/23"}]
    assert (complete["form"]["channel_id"], complete["form"]["initial_comment"]) == ("C1", "今週の報告件数です")
    assert slack.uploads == [{
        "file_id": file_id, "filename": "chart.png", "title": "週報 11/17〜11/23", "channel": "C1",
        "initial_comment": "今週の報告件数です", "thread_ts": None, "bytes": png, "file": resp["file"],
    }]
    assert resp["file"]["mimetype"] == "image/png" and resp["file"]["size"] == len(png)
    assert slack.posted == [] and slack.errors == []
    # the uploaded file can be read back like any shared file
    req = urllib.request.Request(resp["file"]["url_private"], headers={"Authorization": f"Bearer {slack.bot_token}"})
    with urllib.request.urlopen(req, timeout=5) as got:
        assert got.read() == png


def test_slack_upload_flow_rejections(slack):
    def get_url(filename, length):
        return slack_post(slack, "files.getUploadURLExternal", {"filename": filename, "length": length})[2]

    def complete(*ids, **extra):
        return slack_post(slack, "files.completeUploadExternal",
                          {"files": [{"id": i, "title": "t"} for i in ids], "channel_id": "C1", **extra})[2]

    assert get_url("a.png", 0)["error"] == "invalid_arguments"
    assert slack_post(slack, "files.getUploadURLExternal", {"filename": "a.png"})[2]["error"] == "invalid_arguments"
    assert complete("F99999999") == {"ok": False, "error": "file_not_found"}  # never issued
    never_sent = get_url("b.png", 3)["file_id"]
    assert complete(never_sent)["error"] == "file_not_found"  # nothing was uploaded
    short = get_url("c.png", 10)
    status, _, body = raw_request(short["upload_url"], b"abc")
    assert (status, body) == (200, "OK - 3")
    assert complete(short["file_id"])["error"] == "file_upload_size_mismatch"
    status, _, body = raw_request(f"{slack.url}/upload/F12345678", b"abc")
    assert status == 404
    assert slack.uploads == [] and len(slack.errors) == 6, slack.errors
    # a retried upload replaces the bytes; completing twice is refused but is no client bug
    ok = get_url("d.png", 3)
    raw_request(ok["upload_url"], b"abc")
    raw_request(ok["upload_url"], b"xyz")
    assert complete(ok["file_id"], channel_id="C7")["ok"]
    assert (slack.uploads[0]["bytes"], slack.uploads[0]["channel"]) == (b"xyz", "C7")
    assert complete(ok["file_id"]) == {"ok": False, "error": "file_not_found"}
    assert len(slack.errors) == 6  # Slack answers ok=false with 200, so only the request shows it
    assert slack.requests[-1]["response"] == {"ok": False, "error": "file_not_found"}


def test_slack_put_file_and_authorised_download(slack):
    file = slack.put_file("F0PHOTO1", JPEG, name="訪問先の写真.jpg", user="U42")
    assert file == {
        "id": "F0PHOTO1", "name": "訪問先の写真.jpg", "mimetype": "image/jpeg", "size": len(JPEG),
        "url_private": file["url_private"], "url_private_download": file["url_private_download"], "user": "U42",
    }
    assert file["url_private"].startswith(f"{slack.url}/files-pri/T1-F0PHOTO1/%E8%A8%AA")
    auth = {"Authorization": f"Bearer {slack.bot_token}"}
    for url in (file["url_private"], file["url_private_download"]):
        with urllib.request.urlopen(urllib.request.Request(url, headers=auth), timeout=5) as resp:
            assert (resp.status, resp.read(), resp.headers["Content-Type"]) == (200, JPEG, "image/jpeg")
    assert slack.errors == []
    # without the token, with another token, or as a query parameter: 403
    assert raw_request(file["url_private"], method="GET")[0] == 403
    assert raw_request(file["url_private"], method="GET", headers={"Authorization": "Bearer xoxb-other"})[0] == 403
    assert raw_request(file["url_private"] + "?token=xoxb-test", method="GET")[0] == 403
    assert len(slack.errors) == 3 and all("Bearer" in e for e in slack.errors)
    # an unknown file
    assert raw_request(f"{slack.url}/files-pri/T1-F0NOPE/x.jpg", method="GET", headers=auth)[0] == 404
    slack.reset()
    assert (slack.files, slack.uploads) == ({}, [])


def test_slack_put_file_needs_a_running_server():
    with pytest.raises(RuntimeError):
        SlackStandIn().put_file("F1", JPEG)


# ---------------------------------------------------------------------------------------------
# The in-process pusher
# ---------------------------------------------------------------------------------------------

def test_push_recorder_notes_each_push_with_the_engine_clock_and_can_refuse(clock):
    from bot.chat.core import Text
    from tests.fakes import Push, PushRecorder

    pusher = PushRecorder(clock, failures=1)
    assert pusher.push("U1", [Text("一回目")], "reminder:1") is False  # as if the platform were down
    assert pusher.push_user("U1", [Text("二回目")], "reminder:1") is True
    assert pusher.sent == [Push("U1", "二回目", "reminder:1", clock(), [Text("二回目")])]
    assert pusher.errors == []


def test_push_recorder_checks_what_line_would_refuse():
    from bot.chat.core import Choice, Text
    from tests.fakes import PushRecorder

    pusher = PushRecorder(check_line=True)
    pusher.push("U1", [Text("リマインドです", choices=(Choice("完了", "完了 1"),))], "k1")
    assert pusher.errors == []
    pusher.push("U1", [Text("a", choices=(Choice("長い", "y" * 301),))], "k2")  # an action text over 300
    assert len(pusher.sent) == 2 and len(pusher.errors) == 1
    assert pusher.errors[0].startswith("messages[0].quickReply.items[0].action.text: Length")
