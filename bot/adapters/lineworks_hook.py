"""LINE WORKS's callbacks, for the web process (standard library only): ``POST
/lineworks/callback`` checked against ``X-WORKS-BotId`` and ``X-WORKS-Signature``, read into an
inbox event, and kept in a file when the database refuses it (LINE WORKS never sends a callback
again, so a 503 would lose it).  The worker's side is bot/adapters/lineworks.py."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
from datetime import datetime

from bot.config import LINEWORKS_REQUIRED
from bot.serve.webhooks import Answer, Connector, Event, Intake, Refused, Request, digest, hmac_b64_ok, \
    parse_json, platform_id

log = logging.getLogger("nimo.web")
NAME = "lineworks"
WINDOW = 24 * 3600  # seconds: an older issuedTime is a replay (the inbox remembers 2 days)
SKEW = 600          # seconds a sender's clock may run ahead of ours
_ISSUED = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,16}(Z|[+-][0-9]{2}:?[0-9]{2})$")


def signature_ok(body: bytes, signature: str | None, secret: str | None) -> bool:
    """``X-WORKS-Signature``: base64 HMAC-SHA256 of the raw body with the bot secret, as LINE's."""
    return hmac_b64_ok(body, signature, secret)


def key(event: dict) -> str:
    """The dedupe key of a LINE WORKS callback.  LINE WORKS sends no event id, so the key is made
    of the fields a redelivery repeats exactly: kind, sender, room, issuedTime and the content."""
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
    what = event.get("content") if "content" in event else event.get("data")
    parts = [event.get("type"), source.get("userId"), source.get("channelId"), event.get("issuedTime"), digest(what)]
    return "lw:" + hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def _issued_at(value: object) -> float | None:
    """``issuedTime`` (``2022-01-04T05:16:05.716Z``) as a POSIX time, or None when unusable."""
    if not isinstance(value, str) or not _ISSUED.match(value):
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.timestamp() if t.tzinfo is not None else None


def read_event(body: bytes, now: float) -> tuple[Event | None, str | None]:
    """A verified LINE WORKS callback (one event per request) as an inbox event, or the name of
    the field that makes it unusable.  A body that is not an event object at all is refused (400);
    an ``issuedTime`` outside the window is a replay and is skipped, so a callback captured and
    sent again later is never answered again, even after the inbox has forgotten it."""
    payload = parse_json(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise Refused("400 Bad Request", "not a callback event object")
    source = payload.get("source")
    if not isinstance(source, dict):
        return None, "source"
    user, channel = source.get("userId"), source.get("channelId")
    if (user is not None or payload["type"] not in ("join", "leave")) and platform_id(user) is None:
        return None, "source.userId"
    if channel is not None and platform_id(channel) is None:
        return None, "source.channelId"
    issued = _issued_at(payload.get("issuedTime"))
    if issued is None:
        return None, "issuedTime"
    if not now - WINDOW <= issued <= now + SKEW:
        return None, "issuedTime (outside the replay window)"
    return Event(key(payload), user or channel, payload), None


class LineWorksHook:
    def __init__(self, secret: str, bot_id: str):
        self.secret = secret
        self.bot_id = bot_id

    def receive(self, request: Request, intake: Intake) -> Answer:
        if request.header("X-WORKS-BotId") != self.bot_id or not signature_ok(
                request.body, request.header("X-WORKS-Signature"), self.secret):
            raise Refused("401 Unauthorized", "bad signature or bot id")
        event, skipped = read_event(request.body, request.now)
        if skipped:
            log.warning("lineworks callback skipped: its %s is not usable", skipped)
            return Answer()
        try:
            intake.store(NAME, [event])
        except sqlite3.Error as e:  # the database refused: LINE WORKS never resends, so into a file
            if not intake.keep_aside(NAME, event, e):
                raise
        return Answer()


CONNECTOR = Connector(
    name=NAME, path="/lineworks/callback", on=lambda s: s.lineworks_on,
    hook=lambda s: LineWorksHook(s.lineworks_bot_secret, s.lineworks_bot_id),
    worker="bot.adapters.lineworks:worker_part", spools=True,
    # the API 2.0 user id in callbacks (not the login id or e-mail address, which callbacks never carry)
    id_shape=re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    max_chars=5000,  # LINE WORKS documents 2,000 for what a bot sends; people are held to LINE's
    required=LINEWORKS_REQUIRED,
    check="bot.adapters.config_check:lineworks_key_usable")
