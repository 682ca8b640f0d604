"""LINE WORKS: stored callbacks into Incoming, replies into LINE WORKS messages, answers and pushes.

The web process verified and stored each callback (bot/adapters/lineworks_hook.py); here the worker reads it,
lets the same handlers answer, and sends the answer through bot/adapters/lineworks_api.py.

Where a message goes: a callback from a 1:1 room carries no ``channelId`` (LINE WORKS does not
send it), so that is how a direct chat is told from a room, and only a direct chat may show
personal data or register.  A room is written ``channel:<channelId>`` wherever Nimo keeps a
target (reminders, events), since user ids and room ids look alike.

What LINE shows that LINE WORKS has not: a date picker.  A date choice becomes a line that says
what to type (「延期 12/10 #12」), which the router already understands.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace

from bot import messages
from bot.chat.core import CaseCard, Choice, Incoming, Reply
from bot.chat.platform import Event, answer
from bot.adapters.lineworks_hook import key as lineworks_key
from bot.adapters import line_family
from bot.adapters.line_family import group_call, sequence
from bot.adapters.lineworks_api import CHANNEL, WorksApi, WorksError

log = logging.getLogger("nimo.lineworks")

TEXT_LIMIT = 1900          # characters per text message; LINE WORKS allows 2,000
MAX_MESSAGES = 8           # per answer: the longest case in full fits
QUICK_REPLY_MAX = 13
LABEL_MAX = 20
ACTION_TEXT_MAX = 300      # postback data, displayText, a message action's text
ALT_TEXT_MAX = 400
# A flexible-template carousel: LINE WORKS' Japanese page gives 15 KB where the English one gives
# 30 KB; kept under the smaller, so that neither reading of the limit refuses an answer.
FLEX_MAX_BYTES = 15 * 1024
MAX_BUBBLES = 10
PHOTO_LIMIT = 10 * 1024 * 1024
DATE_EXAMPLE = "12/10"
IMAGE_TYPES = ("image", "file")   # a photo may come as an image or as a file
_FILE_ID = re.compile(r"^[\x21-\x7e]{1,256}$")  # e.g. jp1.1628695315008671000.1628781715.0.1000001.0.0.0


# -- from LINE WORKS ----------------------------------------------------------------------------
@dataclass(frozen=True)
class WorksEvent:
    """What the worker needs of one callback."""

    kind: str                  # 'message', 'postback', 'start', 'join', 'image', 'non_text', 'ignore'
    incoming: Incoming | None
    to: str | None             # a user id, or 'channel:<id>'
    file_id: str | None = None


IGNORE = WorksEvent("ignore", None, None)


def read_event(payload: dict) -> WorksEvent:
    source = payload.get("source") if isinstance(payload.get("source"), dict) else {}
    user, channel = source.get("userId"), source.get("channelId")
    kind = payload.get("type")
    if kind == "join" and isinstance(channel, str):
        return WorksEvent("join", Incoming("lineworks", "", CHANNEL + channel, "", False, kind="join"), CHANNEL + channel)
    if not isinstance(user, str):
        return IGNORE
    direct = not isinstance(channel, str)
    conv = user if direct else CHANNEL + channel
    eid = lineworks_key(payload)
    if kind == "postback":
        data = payload.get("data")
        if not isinstance(data, str):
            return IGNORE
        return WorksEvent("postback", Incoming("lineworks", user, conv, data, direct, postback=data, event_id=eid),
                          conv)
    if kind != "message" or not isinstance(payload.get("content"), dict):
        return IGNORE
    content = payload["content"]
    ctype = content.get("type")
    if ctype in IMAGE_TYPES and isinstance(content.get("fileId"), str) and _FILE_ID.match(content["fileId"]):
        if not direct:
            return IGNORE
        return WorksEvent("image", Incoming("lineworks", user, conv, "", True, event_id=eid), conv, content["fileId"])
    if ctype != "text" or not isinstance(content.get("text"), str):
        return WorksEvent("non_text", Incoming("lineworks", user, conv, "", direct), conv) if direct else IGNORE
    postback = content.get("postback") if isinstance(content.get("postback"), str) else None
    if postback == "start":  # the 「利用開始」 button of a 1:1 room: LINE WORKS' first contact
        return WorksEvent("start", Incoming("lineworks", user, conv, "", True), conv)
    text = content["text"]
    if not direct and not postback:  # a button press is for Nimo; talk in a room only when called
        text = group_call(text)
        if text is None:
            return IGNORE
    return WorksEvent("message", Incoming("lineworks", user, conv, text, direct, postback=postback, event_id=eid), conv)


# -- to LINE WORKS ------------------------------------------------------------------------------
def _message_action(label: str, data: str) -> dict:
    """A button's action in the shape LINE WORKS documents for a flexible template: a message
    action (its words go into the chat as if typed) carrying ``postback``, which marks it as a
    button press.  LINE WORKS documents postback actions only for carousels, image carousels, quick
    replies and the rich menu, so a flexible template does not use them."""
    data = data[:ACTION_TEXT_MAX]
    return {"type": "message", "label": label[:LABEL_MAX], "text": data, "postback": data}


def _button(label: str, data: str, style: str = "link") -> dict:
    return {"type": "button", "style": style, "height": "sm", "action": _message_action(label, data)}


def bubble(c: CaseCard) -> dict:
    """One case as a card, laid out as on LINE, with 詳しく / 似た事例 / 👍 / 👎 as message actions."""
    return line_family.bubble(c, _button)


def carousel(cards: tuple[CaseCard, ...]) -> dict:
    """The cards as one flexible-template carousel, within its 10 bubbles and 15 KB."""
    bubbles = [bubble(c) for c in cards[:MAX_BUBBLES]]
    while len(bubbles) > 1 and _size({"type": "carousel", "contents": bubbles}) > FLEX_MAX_BYTES:
        bubbles.pop()
    shown = cards[:len(bubbles)]
    alt = (f"事例{len(shown)}件：" + "、".join(c.area for c in shown))[:ALT_TEXT_MAX]  # areas, never the question
    return {"type": "flex", "altText": alt, "contents": {"type": "carousel", "contents": bubbles}}


def _size(obj: dict) -> int:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _quick_reply(choices: tuple[Choice, ...]) -> dict | None:
    """Choices as message actions: the words go into the chat as if typed, and ``postback`` marks
    them as a button press (so a room's RSVP needs no 「にも」)."""
    items = [{"action": _message_action(c.label, c.text)} for c in choices[:QUICK_REPLY_MAX]]
    return {"items": items} if items else None


def render(replies: list[Reply]) -> list[dict]:
    """Replies as LINE WORKS message contents, one per request, at most ``MAX_MESSAGES``.  LINE
    WORKS has no date picker: a date choice becomes a line saying what to type."""
    out, last_choices = sequence(
        replies, text_limit=TEXT_LIMIT, max_messages=MAX_MESSAGES, cards_message=carousel,
        typed=lambda choices: [messages.typed_date(c.label, c.text.replace("{date}", DATE_EXAMPLE))
                               for c in choices if c.pick_date])
    buttons = tuple(c for c in last_choices if not c.pick_date)
    qr = _quick_reply(tuple(c for c in buttons if not c.text.startswith("詳しく")) or buttons)
    if out and qr:
        out[-1]["quickReply"] = qr
    return out


# -- the worker's side ----------------------------------------------------------------------------
class LineWorksAnswers:
    """LINE WORKS as a :class:`~bot.chat.platform.Platform`: one stored callback → the replies, sent to
    the user or the room it came from."""

    name = "lineworks"
    answers = True
    display_name = None  # its users API needs the ``user.read`` scope, and Nimo asks only for ``bot``

    def __init__(self, app, api: WorksApi, *, summary_channel: str | None = None):
        self.app = app
        self.api = api
        self.summary_channel = summary_channel

    def process(self, payload: dict) -> None:
        answer(self, self.app, payload)

    def parse(self, payload: dict) -> Event | None:
        ev = read_event(payload)
        if ev.kind == "ignore":
            return None
        kind = {"start": "follow", "postback": "message"}.get(ev.kind, ev.kind)  # the start button: LINE's follow
        incoming = replace(ev.incoming, kind=kind,
                           fetch_photo=(lambda: self._photo(ev)) if kind == "image" else None)
        return Event(incoming, ev.to, f"answer:{lineworks_key(payload)}")

    def render(self, replies: list[Reply]) -> list[dict]:
        return render(replies)

    def deliver(self, rendered: list[dict], event: Event) -> None:
        if not self.api.deliver(rendered, to=event.reply_to, key=event.key):
            # the inbox logs it: where and what failed (DeliveryFailed is safe to log)
            raise self.api.last_failure() or RuntimeError("LINE WORKS could not be reached")

    def _photo(self, ev: WorksEvent) -> bytes | None:
        try:
            return self.api.download(ev.file_id, PHOTO_LIMIT)
        except (WorksError, OSError) as e:
            log.warning("lineworks file download failed: %s", type(e).__name__)
            return None

    def pusher(self) -> "LineWorksPusher":
        return LineWorksPusher(self.api, channels=(self.summary_channel,) if self.summary_channel else ())

    def start(self, stopping) -> None:
        self.api.forget_old_parts()


class LineWorksPusher:
    """Reminders, digests and the weekly summary: sent without a callback to answer.  A target
    is a user id or ``channel:<id>``; ``channels`` are bare room ids set in the settings (the
    weekly summary's room), sent to as rooms."""

    def __init__(self, api: WorksApi, channels: tuple[str, ...] = ()):
        self.api = api
        self.channels = set(channels)

    def push(self, target: str, replies: list[Reply], key: str) -> bool:
        to = CHANNEL + target if target in self.channels else target
        return self.api.deliver(render(replies), to=to, key=key)

    def push_user(self, user: str, replies: list[Reply], key: str) -> bool:
        return self.api.deliver(render(replies), to=user, key=key)


def worker_part(app, settings: Settings, *, sleep=None) -> LineWorksAnswers | None:
    """LINE WORKS for the worker, or None (logged) when its private key cannot be used."""
    from bot.adapters.lineworks_api import from_settings
    kw = {"sleep": sleep} if sleep else {}
    try:
        api = from_settings(settings, db=app.db, clock=app.clock, **kw)
    except ValueError as e:  # the message names the setting, never the key
        log.error("LINE WORKS is off: %s", e)
        return None
    return LineWorksAnswers(app, api, summary_channel=settings.summary_lineworks_channel)
