"""Slack over Socket Mode (no public URL): requests arrive on a WebSocket instead of HTTP.

They take the same path as HTTP ones: checked for shape, kept in the inbox under the same keys,
acknowledged (with a modal's mistakes where there are any), and answered by the worker.  Socket
Mode needs no signature (the connection is opened with the app-level token).
"""
from __future__ import annotations

import logging

from bot.adapters import slack_hook
from bot.serve import webhooks

log = logging.getLogger("nimo.slack.socket")


def on_request(web, kind: str, payload: object) -> dict | None:
    """Keep one Socket Mode request; the acknowledgement's payload (None for an empty one)."""
    try:
        payload = webhooks.clean(payload)
    except webhooks.Refused as e:
        log.warning("socket mode request refused (%s)", e.why)
        return None
    if not isinstance(payload, dict):
        return None
    req = slack_hook.read_payload(kind, payload)
    if req.skipped:
        log.warning("socket mode request skipped: its %s is not usable", req.skipped)
        return None
    return slack_hook.take(req, web)


def connect(web, *, app_token: str, bot_token: str, base_url: str | None = None):
    """Open the connection (slack_sdk's built-in client); ``close()`` it to stop."""
    from slack_sdk import WebClient
    from slack_sdk.socket_mode import SocketModeClient
    from slack_sdk.socket_mode.response import SocketModeResponse

    client = SocketModeClient(app_token=app_token,
                              web_client=WebClient(token=bot_token, base_url=base_url or WebClient.BASE_URL),
                              logger=_quiet("nimo.slack.socket.client"))

    def listener(client, req) -> None:
        ack = on_request(web, req.type, req.payload)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=ack))

    client.socket_mode_request_listeners.append(listener)
    client.connect()
    return client


def _quiet(name: str) -> logging.Logger:
    """The client logs each message it receives at DEBUG: never below INFO here."""
    logger = logging.getLogger(name)
    logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
    return logger
