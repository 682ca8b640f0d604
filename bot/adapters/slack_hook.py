"""Slack's requests, for the web process (standard library only): ``POST /slack/events`` checked
against ``X-Slack-Signature`` and read into inbox events, the same reading for Socket Mode
(bot/adapters/slack_socket.py), and a modal's mistakes said in the acknowledgement.  The worker's
side is bot/adapters/slack.py.

Slack's signature is checked here rather than with ``slack_sdk.signature.SignatureVerifier``:
that one decodes the body as UTF-8 and calls ``int()`` on the timestamp header, both of which
raise on hostile input before the signature is known to be good.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from bot.config import SLACK_REQUIRED
from bot.serve.webhooks import Answer, Connector, Event, Intake, Refused, Request, digest, parse_json, platform_id

log = logging.getLogger("nimo.web")
NAME = "slack"
WINDOW = 300            # seconds: Slack's own rule for the request timestamp
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def signature_ok(body: bytes, timestamp: str | None, signature: str | None, secret: str | None,
                 now: float) -> bool:
    """``X-Slack-Signature``: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``, with the
    timestamp within five minutes of ``now`` (a replayed request is refused)."""
    if not signature or not timestamp or not secret or not _TIMESTAMP.match(timestamp):
        return False
    if abs(now - int(timestamp)) > WINDOW:
        return False
    mac = hmac.new(secret.encode("utf-8"), b"v0:" + timestamp.encode("ascii") + b":" + body, hashlib.sha256)
    return hmac.compare_digest(("v0=" + mac.hexdigest()).encode("ascii"), signature.encode("ascii", "replace"))


@dataclass(frozen=True)
class SlackRequest:
    """A verified Slack request: a URL check to answer, or an event to keep (or neither)."""

    challenge: str | None = None
    event: Event | None = None
    skipped: str | None = None    # the field that made a signed request unusable


def read_request(body: bytes, content_type: str) -> SlackRequest:
    """Events API requests are JSON; slash commands are a form; buttons and modals are a form
    whose ``payload`` field is JSON.  The kept payload is what Bolt gets in Socket Mode, so the
    worker answers requests from both transports the same way."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        payload = parse_json(body)
        if not isinstance(payload, dict):
            raise Refused("400 Bad Request", "not a JSON object")
        return read_payload("events_api", payload)
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise Refused("400 Bad Request", "not a form") from None
    fields = {k: v[0] for k, v in form.items()}
    if "payload" in fields:
        payload = parse_json(fields["payload"])
        if not isinstance(payload, dict):
            raise Refused("400 Bad Request", "payload is not a JSON object")
        return read_payload("interactive", payload)
    return read_payload("slash_commands", fields)


def read_payload(kind: str, payload: dict) -> SlackRequest:
    """What to do with one Slack payload, whichever way it came (HTTP or Socket Mode)."""
    if kind == "events_api":
        if payload.get("type") == "url_verification":
            challenge = payload.get("challenge")
            return SlackRequest(challenge=challenge if isinstance(challenge, str) else "")
        if payload.get("type") != "event_callback":
            return SlackRequest(skipped="type")
        event_id, event = platform_id(payload.get("event_id")), payload.get("event")
        if event_id is None:
            return SlackRequest(skipped="event_id")
        if not isinstance(event, dict):
            return SlackRequest(skipped="event")
        user = event.get("user")
        return SlackRequest(event=Event(f"event:{event_id}", user if platform_id(user) else None,
                                        {"kind": kind, "body": payload}))
    if kind == "interactive":
        user = payload.get("user")
        user_id = platform_id(user.get("id")) if isinstance(user, dict) else None
        if user_id is None:
            return SlackRequest(skipped="user.id")
        ptype = payload.get("type")
        if ptype == "block_actions":
            actions = payload.get("actions")
            if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
                return SlackRequest(skipped="actions")
        elif ptype == "view_submission":
            view = payload.get("view")
            if not isinstance(view, dict) or not isinstance(view.get("state"), dict) \
                    or not isinstance(view["state"].get("values"), dict):
                return SlackRequest(skipped="view.state")
        else:
            return SlackRequest(skipped="type")
        key = platform_id(payload.get("trigger_id")) or digest(payload)
        return SlackRequest(event=Event(f"{ptype}:{key}", user_id, {"kind": kind, "body": payload}))
    if kind == "slash_commands":
        user_id = platform_id(payload.get("user_id"))
        if user_id is None or not isinstance(payload.get("command"), str):
            return SlackRequest(skipped="user_id")
        key = platform_id(payload.get("trigger_id")) or digest(payload)
        return SlackRequest(event=Event(f"command:{key}", user_id, {"kind": kind, "body": payload}))
    return SlackRequest(skipped="kind")


def form_errors(payload: dict) -> dict:
    """Mistakes in Nimo's report form, said beside their fields (empty when there are none)."""
    body = payload.get("body") or {}
    if payload.get("kind") != "interactive" or body.get("type") != "view_submission":
        return {}
    from bot.adapters.slack_form import check_form  # the form's own rules, without the SDK
    return check_form(body["view"])


def take(req: SlackRequest, intake: Intake) -> dict | None:
    """Keep a read request's event, unless its modal has mistakes: then the acknowledgement's
    payload that says them (a modal must hear of its mistakes in the acknowledgement itself)."""
    if req.event is None:
        return None
    errors = form_errors(req.event.payload)
    if errors:
        return {"response_action": "errors", "errors": errors}
    intake.store(NAME, [req.event])
    return None


class SlackHook:
    def __init__(self, secret: str):
        self.secret = secret

    def receive(self, request: Request, intake: Intake) -> Answer:
        if not signature_ok(request.body, request.header("X-Slack-Request-Timestamp"),
                            request.header("X-Slack-Signature"), self.secret, request.now):
            raise Refused("401 Unauthorized", "bad signature or stale timestamp")
        req = read_request(request.body, request.content_type)
        if req.challenge is not None:
            return Answer.json({"challenge": req.challenge})
        if req.skipped:
            log.warning("slack request skipped: its %s is not usable", req.skipped)
            return Answer()
        ack = take(req, intake)
        return Answer.json(ack) if ack else Answer()


CONNECTOR = Connector(
    name=NAME, path="/slack/events", on=lambda s: s.slack_on,
    hook=lambda s: SlackHook(s.slack_signing_secret), worker="bot.adapters.slack:worker_part",
    # reminders reach Slack with the bot token alone, also without Slack's webhooks
    pushes=lambda s: bool(s.slack_bot_token),
    loggers=("slack_sdk", "slack_bolt", "nimo.slack.bolt"),
    id_shape=re.compile(r"[UW][A-Z0-9]{8,20}"),  # U or W (Enterprise Grid), e.g. U024BE7LH
    max_chars=40000,
    required=SLACK_REQUIRED,
    off_warning="Slack is off: SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are needed")
