"""LINE's webhook, for the web process (standard library only): ``POST /line/webhook`` checked
against ``X-Line-Signature`` and read into inbox events.  The worker's side is bot/adapters/line.py."""
from __future__ import annotations

import logging
import re

from bot.config import LINE_REQUIRED
from bot.serve.webhooks import Answer, Connector, Event, Intake, Refused, Request, digest, hmac_b64_ok, \
    parse_json, platform_id

log = logging.getLogger("nimo.web")
NAME = "line"


def signature_ok(body: bytes, signature: str | None, secret: str | None) -> bool:
    """``X-Line-Signature``: base64 HMAC-SHA256 of the raw body, compared in constant time."""
    return hmac_b64_ok(body, signature, secret)


def events(body: bytes, skipped: list[str] | None = None) -> list[Event]:
    """The events of a verified LINE webhook.  ``events: []`` is LINE's connectivity check.
    An event whose ids are of the wrong shape is skipped; the field's name goes to ``skipped``."""
    payload = parse_json(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list) \
            or not all(isinstance(ev, dict) for ev in payload["events"]):
        raise Refused("400 Bad Request", "no list of event objects")
    out = []
    for ev in payload["events"]:
        source = ev.get("source")
        if source is not None and not isinstance(source, dict):
            _skip(skipped, "source")
            continue
        if "webhookEventId" in ev and platform_id(ev["webhookEventId"]) is None:
            _skip(skipped, "webhookEventId")
            continue
        user = (source or {}).get("userId")
        if user is not None and platform_id(user) is None:
            _skip(skipped, "source.userId")
            continue
        out.append(Event(key(ev), user, ev))
    return out


def key(event: dict) -> str:
    """The inbox key of a LINE event: its ``webhookEventId`` (a redelivery carries the same), or a
    digest of the event itself.  The worker's delivery keys are made from it too
    (bot/adapters/line.py), so it is computed here only."""
    return event.get("webhookEventId") or digest(event)


def _skip(skipped: list[str] | None, field: str) -> None:
    if skipped is not None:
        skipped.append(field)


class LineHook:
    def __init__(self, secret: str):
        self.secret = secret

    def receive(self, request: Request, intake: Intake) -> Answer:
        if not signature_ok(request.body, request.header("X-Line-Signature"), self.secret):
            raise Refused("401 Unauthorized", "bad signature")
        skipped: list[str] = []
        intake.store(NAME, events(request.body, skipped))
        for field in skipped:
            log.warning("line webhook: an event skipped, its %s is not usable", field)
        return Answer(body=b"OK")


CONNECTOR = Connector(
    name=NAME, path="/line/webhook", on=lambda s: s.line_on,
    hook=lambda s: LineHook(s.line_channel_secret), worker="bot.adapters.line:worker_part",
    loggers=("linebot",),
    id_shape=re.compile(r"U[0-9a-f]{32}"),  # the Messaging API's documented pattern
    max_chars=5000,
    required=LINE_REQUIRED,
    off_warning="LINE is off: LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are needed")
