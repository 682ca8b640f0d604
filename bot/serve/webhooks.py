"""Checking and reading what LINE, Slack and LINE WORKS post to us, with the standard library only.

This is all the web process knows of a platform.  It must stay small (it never loads an SDK, the
tokenizer or the case index) and no sender may stall it, so everything works on the raw bytes in
this order: the size is bounded before the body is read (``MAX_BODY``), the signature is checked
on the exact bytes before anything is parsed, and the parsed JSON is bounded in depth and cleaned
of lone surrogates before it is stored.  A signed request of the wrong shape is not an attack but
still cannot be used: it is acknowledged and skipped, and the log names the field, never a value.

Slack's signature is checked here rather than with ``slack_sdk.signature.SignatureVerifier``:
that one decodes the body as UTF-8 and calls ``int()`` on the timestamp header, both of which
raise on hostile input before the signature is known to be good.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

MAX_BODY = 1024 * 1024        # LINE and Slack send far less; nothing larger is read
MAX_DEPTH = 32                # the deepest Slack payload (a modal's state) is about 8 levels
SLACK_WINDOW = 300            # seconds: Slack's own rule for the request timestamp
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_ID = re.compile(r"^[\x21-\x7e]{1,128}$")  # platform ids are short printable ASCII


class Refused(Exception):
    """The request is not used.  ``status`` is the HTTP answer; ``why`` is a short reason for the
    log that never quotes the request."""

    def __init__(self, status: str, why: str):
        super().__init__(why)
        self.status = status
        self.why = why


@dataclass(frozen=True)
class Event:
    """One event to keep in the inbox: its dedupe key, who sent it (events of one sender are
    answered in order) and what the worker needs to answer it."""

    key: str
    sender: str | None
    payload: dict


# -- signatures ---------------------------------------------------------------------------------
def line_signature_ok(body: bytes, signature: str | None, secret: str) -> bool:
    """``X-Line-Signature``: base64 HMAC-SHA256 of the raw body, compared in constant time."""
    if not signature or not secret:
        return False
    digest = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest())
    return hmac.compare_digest(digest, signature.encode("ascii", "replace"))


def slack_signature_ok(body: bytes, timestamp: str | None, signature: str | None, secret: str,
                       now: float) -> bool:
    """``X-Slack-Signature``: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``, with the
    timestamp within five minutes of ``now`` (a replayed request is refused)."""
    if not signature or not timestamp or not secret or not _TIMESTAMP.match(timestamp):
        return False
    if abs(now - int(timestamp)) > SLACK_WINDOW:
        return False
    mac = hmac.new(secret.encode("utf-8"), b"v0:" + timestamp.encode("ascii") + b":" + body, hashlib.sha256)
    return hmac.compare_digest(("v0=" + mac.hexdigest()).encode("ascii"), signature.encode("ascii", "replace"))


# -- JSON ---------------------------------------------------------------------------------------
def parse_json(raw: bytes | str) -> object:
    """JSON that is safe to keep: valid, at most ``MAX_DEPTH`` deep, every string encodable."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise Refused("400 Bad Request", "not JSON") from None
    return clean(value)


def clean(value: object, max_depth: int = MAX_DEPTH) -> object:
    """Bound the depth (iteratively, so depth itself cannot exhaust the stack) and replace lone
    surrogates (``"\\ud800"`` is valid JSON but cannot be stored as UTF-8) with U+FFFD."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise Refused("400 Bad Request", "JSON nested too deep")
        if isinstance(node, dict):
            for k in list(node):
                v = node[k]
                if isinstance(v, str):
                    node[k] = _mend(v)
                elif isinstance(v, (dict, list)):
                    stack.append((v, depth + 1))
                if _mend(k) is not k:
                    node[_mend(k)] = node.pop(k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, str):
                    node[i] = _mend(v)
                elif isinstance(v, (dict, list)):
                    stack.append((v, depth + 1))
    return _mend(value) if isinstance(value, str) else value


def _mend(s: str) -> str:
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _id(value: object) -> str | None:
    """A platform id, or None when the field is missing or of the wrong shape."""
    return value if isinstance(value, str) and _ID.match(value) else None


# -- LINE ---------------------------------------------------------------------------------------
def line_events(body: bytes, skipped: list[str] | None = None) -> list[Event]:
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
        if "webhookEventId" in ev and _id(ev["webhookEventId"]) is None:
            _skip(skipped, "webhookEventId")
            continue
        user = (source or {}).get("userId")
        if user is not None and _id(user) is None:
            _skip(skipped, "source.userId")
            continue
        out.append(Event(line_key(ev), user, ev))
    return out


def line_key(event: dict) -> str:
    """The inbox key of a LINE event: its ``webhookEventId`` (a redelivery carries the same), or a
    digest of the event itself.  The worker's delivery keys are made from it too
    (bot/adapters/line.py), so it is computed here only."""
    return event.get("webhookEventId") or _digest(event)


def _skip(skipped: list[str] | None, field: str) -> None:
    if skipped is not None:
        skipped.append(field)


# -- Slack --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlackRequest:
    """A verified Slack request: a URL check to answer, or an event to keep (or neither)."""

    challenge: str | None = None
    event: Event | None = None
    skipped: str | None = None    # the field that made a signed request unusable


def slack_request(body: bytes, content_type: str) -> SlackRequest:
    """Events API requests are JSON; slash commands are a form; buttons and modals are a form
    whose ``payload`` field is JSON.  The kept payload is what Bolt gets in Socket Mode, so the
    worker answers requests from both transports the same way."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        payload = parse_json(body)
        if not isinstance(payload, dict):
            raise Refused("400 Bad Request", "not a JSON object")
        return slack_payload("events_api", payload)
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise Refused("400 Bad Request", "not a form") from None
    fields = {k: v[0] for k, v in form.items()}
    if "payload" in fields:
        payload = parse_json(fields["payload"])
        if not isinstance(payload, dict):
            raise Refused("400 Bad Request", "payload is not a JSON object")
        return slack_payload("interactive", payload)
    return slack_payload("slash_commands", fields)


def slack_payload(kind: str, payload: dict) -> SlackRequest:
    """What to do with one Slack payload, whichever way it came (HTTP or Socket Mode)."""
    if kind == "events_api":
        if payload.get("type") == "url_verification":
            challenge = payload.get("challenge")
            return SlackRequest(challenge=challenge if isinstance(challenge, str) else "")
        if payload.get("type") != "event_callback":
            return SlackRequest(skipped="type")
        event_id, event = _id(payload.get("event_id")), payload.get("event")
        if event_id is None:
            return SlackRequest(skipped="event_id")
        if not isinstance(event, dict):
            return SlackRequest(skipped="event")
        user = event.get("user")
        return SlackRequest(event=Event(f"event:{event_id}", user if _id(user) else None,
                                        {"kind": kind, "body": payload}))
    if kind == "interactive":
        user = payload.get("user")
        user_id = _id(user.get("id")) if isinstance(user, dict) else None
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
        key = _id(payload.get("trigger_id")) or _digest(payload)
        return SlackRequest(event=Event(f"{ptype}:{key}", user_id, {"kind": kind, "body": payload}))
    if kind == "slash_commands":
        user_id = _id(payload.get("user_id"))
        if user_id is None or not isinstance(payload.get("command"), str):
            return SlackRequest(skipped="user_id")
        key = _id(payload.get("trigger_id")) or _digest(payload)
        return SlackRequest(event=Event(f"command:{key}", user_id, {"kind": kind, "body": payload}))
    return SlackRequest(skipped="kind")


# -- LINE WORKS ---------------------------------------------------------------------------------
LINEWORKS_WINDOW = 24 * 3600  # seconds: an older issuedTime is a replay (the inbox remembers 2 days)
LINEWORKS_SKEW = 600          # seconds a sender's clock may run ahead of ours
_ISSUED = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,16}(Z|[+-][0-9]{2}:?[0-9]{2})$")


def lineworks_signature_ok(body: bytes, signature: str | None, secret: str) -> bool:
    """``X-WORKS-Signature``: base64 HMAC-SHA256 of the raw body with the bot secret, as LINE's."""
    return line_signature_ok(body, signature, secret)


def lineworks_key(event: dict) -> str:
    """The dedupe key of a LINE WORKS callback.  LINE WORKS sends no event id, so the key is made
    of the fields a redelivery repeats exactly: kind, sender, room, issuedTime and the content."""
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
    what = event.get("content") if "content" in event else event.get("data")
    parts = [event.get("type"), source.get("userId"), source.get("channelId"), event.get("issuedTime"), _digest(what)]
    return "lw:" + hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def _issued_at(value: object) -> float | None:
    """``issuedTime`` (``2022-01-04T05:16:05.716Z``) as a POSIX time, or None when unusable."""
    from datetime import datetime
    if not isinstance(value, str) or not _ISSUED.match(value):
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.timestamp() if t.tzinfo is not None else None


def lineworks_event(body: bytes, now: float) -> tuple[Event | None, str | None]:
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
    if (user is not None or payload["type"] not in ("join", "leave")) and _id(user) is None:
        return None, "source.userId"
    if channel is not None and _id(channel) is None:
        return None, "source.channelId"
    issued = _issued_at(payload.get("issuedTime"))
    if issued is None:
        return None, "issuedTime"
    if not now - LINEWORKS_WINDOW <= issued <= now + LINEWORKS_SKEW:
        return None, "issuedTime (outside the replay window)"
    return Event(lineworks_key(payload), user or channel, payload), None
