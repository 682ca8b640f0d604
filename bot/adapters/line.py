"""LINE for the worker: a stored webhook event read into an Incoming, replies rendered as LINE
messages and delivered, pushes for the scheduler (:class:`LineAnswers` is the Platform).

The web process verifies the signature and stores each event in the SQLite inbox
(bot/adapters/line_hook.py: its ``webhookEventId`` is the key, so a redelivery is dropped) and answers
200; everything here runs later, in the worker, so an event acknowledged to LINE survives a crash.

Delivery uses the reply token first and falls back to push with an ``X-Line-Retry-Key`` derived
from the event, so neither our retries nor LINE's redeliveries show the user one answer twice.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, replace
from typing import Callable

import urllib3
from linebot.v3.messaging import (
    ApiClient, ApiException, Configuration, MessagingApi, MessagingApiBlob, PushMessageRequest,
    ReplyMessageRequest, ShowLoadingAnimationRequest,
)
from linebot.v3.webhooks import (
    Event, FollowEvent, ImageMessageContent, JoinEvent, MessageEvent, PostbackEvent, TextMessageContent,
)

from bot.chat import platform as chat_platform
from bot.chat.core import CaseCard, Choice, Incoming, Reply
from bot.config import Settings
from bot.serve.delivery import DeliveryFailed, ReplyClaims, record_failure
from bot.adapters.line_hook import key as line_key
from bot.adapters import line_family
from bot.adapters.line_family import group_call, sequence

log = logging.getLogger("nimo.line")

MAX_MESSAGES = 5           # per reply or push request
TEXT_LIMIT = 4500          # characters per text message; LINE allows 5,000 UTF-16 units
QUICK_REPLY_MAX = 13
LABEL_MAX = 20             # quick reply label
BUTTON_LABEL_MAX = 40
RETRY_NAMESPACE = uuid.UUID("6f1c5a52-2d0e-4d4e-9a57-6e696d6f6c6e")
PROFILE_TIMEOUT = 5.0      # seconds for a profile lookup at registration
REPLY_PATH = "/v2/bot/message/reply"
PUSH_PATH = "/v2/bot/message/push"


# -- from LINE --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineEvent:
    """What the worker needs of one webhook event."""

    kind: str                    # 'message', 'postback', 'follow', 'join', 'image', 'non_text', 'ignore'
    incoming: Incoming | None
    reply_token: str | None
    to: str | None               # where a push goes (user, group or room id)
    message_id: str | None = None  # an image's id, to download its content


def _source(ev) -> tuple[str | None, str | None, bool]:
    src = ev.source
    user = getattr(src, "user_id", None)
    conv = getattr(src, "group_id", None) or getattr(src, "room_id", None) or user
    return user, conv, getattr(src, "type", "") == "user"


def _addressed_text(ev, text: str) -> str | None:
    """In a group, Nimo answers only when mentioned or called by name; the call is cut off."""
    mention = getattr(ev.message, "mention", None)
    for m in (getattr(mention, "mentionees", None) or []):
        if getattr(m, "is_self", False):
            return (text[:m.index] + text[m.index + m.length:]).strip()
    return group_call(text)


def read_event(raw: dict) -> LineEvent:
    try:
        ev = Event.from_dict(raw)
    except (ValueError, TypeError, KeyError):
        return LineEvent("ignore", None, None, None)
    if ev is None or getattr(ev, "source", None) is None:
        return LineEvent("ignore", None, None, None)
    user, conv, direct = _source(ev)
    token = getattr(ev, "reply_token", None)
    eid = line_key(raw)
    if user is None and not isinstance(ev, JoinEvent):
        return LineEvent("ignore", None, None, None)
    if isinstance(ev, MessageEvent):
        if isinstance(ev.message, ImageMessageContent) and direct:
            return LineEvent("image", Incoming("line", user, conv, "", True, event_id=eid), token, conv, ev.message.id)
        if not isinstance(ev.message, TextMessageContent):
            return LineEvent("non_text" if direct else "ignore", Incoming("line", user, conv, "", direct), token, conv)
        text = ev.message.text
        if not direct:
            text = _addressed_text(ev, text)
            if text is None:
                return LineEvent("ignore", None, None, None)
        return LineEvent("message", Incoming("line", user, conv, text, direct, event_id=eid), token, conv)
    if isinstance(ev, PostbackEvent):
        data = ev.postback.data if ev.postback else ""
        picked = (getattr(ev.postback, "params", None) or {}).get("date") if ev.postback else None
        if "{date}" in data:
            data = data.replace("{date}", picked or "")
        return LineEvent("postback", Incoming("line", user, conv, data, direct, postback=data, event_id=eid), token, conv)
    if isinstance(ev, FollowEvent):
        return LineEvent("follow", Incoming("line", user, conv, "", True), token, conv)
    if isinstance(ev, JoinEvent):
        return LineEvent("join", Incoming("line", "", conv, "", False, kind="join"), token, conv)
    return LineEvent("ignore", None, None, None)


# -- to LINE ----------------------------------------------------------------------------------
def _action(c: Choice) -> dict:
    if c.pick_date:  # LINE's own date picker; the chosen day comes back in the postback's params
        return {"type": "datetimepicker", "label": c.label[:LABEL_MAX], "data": c.text, "mode": "date"}
    return {"type": "message", "label": c.label[:LABEL_MAX], "text": c.text}


def _quick_reply(choices: tuple[Choice, ...]) -> dict | None:
    items = [{"type": "action", "action": _action(c)} for c in choices[:QUICK_REPLY_MAX]]
    return {"items": items} if items else None


def _button(label: str, data: str, style: str = "link") -> dict:
    return {"type": "button", "style": style, "height": "sm",
            "action": {"type": "postback", "label": label[:BUTTON_LABEL_MAX], "data": data, "displayText": data}}


def bubble(c: CaseCard) -> dict:
    return line_family.bubble(c, _button, size="mega")


def alt_text(cards: tuple[CaseCard, ...]) -> str:
    """The carousel's notification text: areas only, never the question (it may name a person)."""
    return f"事例{len(cards)}件：" + "、".join(c.area for c in cards)


def render(replies: list[Reply]) -> list[dict]:
    """Replies as LINE message objects (dicts), at most five."""
    out, last_choices = sequence(replies, text_limit=TEXT_LIMIT, max_messages=MAX_MESSAGES, cards_message=lambda cards: {
        "type": "flex", "altText": alt_text(cards), "contents": {"type": "carousel", "contents": [bubble(c) for c in cards]}})
    qr = _quick_reply(tuple(c for c in last_choices if not c.text.startswith("詳しく")) or last_choices)
    if out and qr:
        out[-1]["quickReply"] = qr
    return out


class _Prepared(dict):
    """A message in LINE's JSON form, as ``render`` builds it, sent as it is (the request is made
    with pydantic's ``construct``, for data already valid).  Turning the dicts into the SDK's models
    and back cost about 10 ms of CPU per answer with a carousel, two thirds of the worker's time in
    benchmarks/bench_webhook.py; LINE checks what arrives, and so does the tests' stand-in, with
    those same models."""

    def to_dict(self) -> dict:  # what the SDK's request models call on each message
        return self


class LineMessenger:
    """Sends to the LINE Messaging API through line-bot-sdk, with retries that never double."""

    def __init__(self, *, access_token: str, base_url: str = "https://api.line.me", timeout: float = 10.0,
                 attempts: int = 4, sleep: Callable[[float], None] = time.sleep, data_url: str | None = None):
        cfg = Configuration(host=base_url.rstrip("/"), access_token=access_token)
        self.api = MessagingApi(ApiClient(cfg))
        # Content lives on the data host; a test or proxy that moves the API moves both.
        data = data_url or (base_url if base_url.rstrip("/") != "https://api.line.me" else "https://api-data.line.me")
        self.blob = MessagingApiBlob(ApiClient(Configuration(host=data.rstrip("/"), access_token=access_token)))
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep
        self.on_failure: Callable[[DeliveryFailed], None] | None = None  # the worker records them

    def content(self, message_id: str) -> bytes:
        """An image the user sent, downloaded at once: LINE keeps content only for a while."""
        return bytes(self.blob.get_message_content(message_id, _request_timeout=self.timeout * 3))

    def loading(self, user_id: str) -> None:
        """The typing animation in a 1:1 chat; nothing depends on it, so failures are only logged."""
        try:
            self.api.show_loading_animation(ShowLoadingAnimationRequest(chatId=user_id, loadingSeconds=10),
                                            _request_timeout=self.timeout)
        except (ApiException, urllib3.exceptions.HTTPError) as e:
            log.warning("loading animation failed: %s", type(e).__name__)

    def display_name(self, user_id: str) -> str | None:
        """The name the user shows on LINE (``GET /v2/bot/profile/{userId}``), asked once with a
        short timeout: it only names someone in lists, so it never holds up an answer for long."""
        return self.api.get_profile(user_id, _request_timeout=PROFILE_TIMEOUT).display_name or None

    def _wait(self, e: ApiException | None, attempt: int) -> None:
        retry_after = None
        if e is not None and e.headers:
            try:
                retry_after = float(e.headers.get("Retry-After"))
            except (TypeError, ValueError):
                retry_after = None
        self.sleep(min(retry_after if retry_after is not None else 0.5 * 2 ** attempt, 30.0))

    def _failed(self, endpoint: str, e: Exception, attempt: int, retried: bool) -> DeliveryFailed:
        """One failed request, described for an operator (path, status, attempt), logged and handed
        to ``on_failure``; never the token, the target or the messages."""
        f = DeliveryFailed("line", endpoint, getattr(e, "status", None), type(e).__name__, attempt + 1, retried)
        log.warning("delivery failed: %s", f)
        if self.on_failure is not None:
            try:
                self.on_failure(f)
            except Exception as err:  # a locked database must not stop the delivery itself
                log.warning("delivery failure not recorded: %s", type(err).__name__)
        return f

    def deliver(self, messages_: list[dict], *, reply_token: str | None, to: str | None, key: str,
                tried_before: bool = False) -> str:
        """Deliver once: 'reply' or 'push'; raises :class:`DeliveryFailed` (the last failure) when
        LINE refused or could not be reached in time.

        A reply whose request timed out may still have been delivered; if the token is then
        reported as used, it was used by us, and pushing again would show the answer twice.
        ``tried_before``: an earlier attempt of this delivery may have gone out (its worker died
        before it could record the outcome); a refused token then means the same, and no push
        follows.  A push carries ``X-Line-Retry-Key`` made from ``key``, so LINE itself drops a
        repeated push (409 counts as delivered).
        """
        msgs = [_Prepared(m) for m in messages_]
        timed_out = False
        last: DeliveryFailed | None = None
        if reply_token:
            for attempt in range(self.attempts):
                again = attempt + 1 < self.attempts
                try:
                    self.api.reply_message(ReplyMessageRequest.construct(replyToken=reply_token, messages=msgs),
                                           _request_timeout=self.timeout)
                    return "reply"
                except ApiException as e:
                    if e.status == 400 and "reply token" in (e.body or "").lower():
                        if timed_out or tried_before:
                            log.info("reply token already used by an earlier attempt: not pushed again")
                            return "reply"
                        break  # expired or already used elsewhere: push instead
                    if e.status == 429 or e.status >= 500:
                        last = self._failed(REPLY_PATH, e, attempt, again or bool(to))
                        self._wait(e, attempt)
                        continue
                    raise self._failed(REPLY_PATH, e, attempt, False) from e
                except urllib3.exceptions.HTTPError as e:
                    timed_out = True
                    last = self._failed(REPLY_PATH, e, attempt, again or bool(to))
                    self._wait(None, attempt)
        if not to:
            raise last or DeliveryFailed("line", REPLY_PATH, None, "NoTarget", 0, False)
        retry_key = str(uuid.uuid5(RETRY_NAMESPACE, key))
        for attempt in range(self.attempts):
            again = attempt + 1 < self.attempts
            try:
                self.api.push_message(PushMessageRequest.construct(to=to, messages=msgs), x_line_retry_key=retry_key,
                                      _request_timeout=self.timeout)
                return "push"
            except ApiException as e:
                if e.status == 409:  # this retry key was accepted before: it is delivered
                    return "push"
                if e.status == 429 or e.status >= 500:
                    last = self._failed(PUSH_PATH, e, attempt, again)
                    if again:
                        self._wait(e, attempt)
                    continue
                raise self._failed(PUSH_PATH, e, attempt, False) from e
            except urllib3.exceptions.HTTPError as e:
                last = self._failed(PUSH_PATH, e, attempt, again)
                if again:
                    self._wait(None, attempt)
        raise last


class LinePusher:
    """Reminders and digests: push only (no reply token), the delivery key as the retry key."""

    def __init__(self, messenger: LineMessenger):
        self.messenger = messenger

    def push(self, target: str, replies: list[Reply], key: str) -> bool:
        """True when delivered; False when LINE refused or was not reached (each failed attempt was
        logged and recorded by the messenger)."""
        try:
            self.messenger.deliver(render(replies), reply_token=None, to=target, key=key)
        except DeliveryFailed:
            return False
        return True

    def push_user(self, user: str, replies: list[Reply], key: str) -> bool:
        return self.push(user, replies, key)


class LineAnswers:
    """LINE as a :class:`~bot.chat.platform.Platform`: one stored webhook event → the replies, delivered
    by reply token or (after a restart, when the token is spent) by push.  Also the worker's part
    for LINE (bot/serve/worker.py): it answers, pushes and names new users."""

    name = "line"
    answers = True

    def __init__(self, app, messenger: LineMessenger):
        self.app = app
        self.messenger = messenger

    def process(self, payload: dict) -> None:
        chat_platform.answer(self, self.app, payload)

    def parse(self, payload: dict) -> chat_platform.Event | None:
        ev = read_event(payload)
        if ev.kind == "ignore":
            return None
        incoming = replace(ev.incoming, kind="message" if ev.kind == "postback" else ev.kind,
                           fetch_photo=(lambda: self._photo(ev)) if ev.kind == "image" else None)
        if incoming.kind == "message" and incoming.direct:
            self.messenger.loading(incoming.user)
        return chat_platform.Event(incoming, (ev.reply_token, ev.to), f"line:{line_key(payload)}")

    def render(self, replies: list) -> list[dict]:
        return render(replies)

    def deliver(self, rendered: list[dict], event: chat_platform.Event) -> None:
        """Claimed before it is sent, marked after: an event redone after a crash whose answer may
        already have gone out is not pushed again (see :class:`~bot.serve.delivery.ReplyClaims`)."""
        token, to = event.reply_to
        claims = ReplyClaims(self.app.db, self.app.clock)
        state = claims.begin("line", event.key)
        if state == "sent":
            return
        try:
            self.messenger.deliver(rendered, reply_token=token, to=to, key=event.key,
                                   tried_before=state == "tried")
        except DeliveryFailed:
            claims.end(event.key, sent=False)
            raise
        claims.end(event.key, sent=True)

    def pusher(self) -> LinePusher:
        return LinePusher(self.messenger)

    def display_name(self, user_id: str) -> str | None:
        return self.messenger.display_name(user_id)

    def start(self, stopping) -> None:
        """Nothing runs beside the answering."""

    def _photo(self, ev) -> bytes | None:
        try:
            return self.messenger.content(ev.message_id)
        except (ApiException, urllib3.exceptions.HTTPError) as e:
            log.warning("line image download failed: %s", type(e).__name__)
            return None


def worker_part(app, settings: Settings, *, sleep: Callable[[float], None] | None = None) -> LineAnswers:
    """LINE for the worker, its failed deliveries recorded for ``/readyz`` and ``nimo status``."""
    kw = {"sleep": sleep} if sleep else {}
    messenger = LineMessenger(access_token=settings.line_channel_access_token, base_url=settings.line_api_base_url,
                              data_url=settings.line_api_data_base_url, **kw)
    messenger.on_failure = lambda f: record_failure(app.db, f, app.clock())
    return LineAnswers(app, messenger)
