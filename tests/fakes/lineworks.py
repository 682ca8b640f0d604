"""A stand-in for LINE WORKS API 2.0 and its token endpoint (one server), for the calls Nimo makes:

* ``POST /oauth2/v2.0/token``: a jwt-bearer form whose assertion (RS256) is checked with the app's
  public key, with its ``iss`` (client ID), ``sub`` (service account) and lifetime (≤ 60 minutes);
  ``assertions`` keeps the claims.  As LINE WORKS does, ``expires_in`` is a string.
* ``POST /v1.0/bots/{botId}/users/{userId}/messages`` and ``.../channels/{channelId}/messages``,
  with a token issued here and not expired (``expire_tokens()`` makes all those issued so far answer
  401): one ``content``, text (≤ 2,000 characters) or a flexible template (≤ 10 bubbles, ≤ 15 KB: the
  Japanese page's limit, the English one says 30 KB) with quick replies, checked with LINE's flex
  rules (tests/fakes/flex.py) and LINE WORKS' limits.  A button of a flexible template may carry a
  message or uri action only: LINE WORKS documents postback actions for carousels, image carousels,
  quick replies and the rich menu, not for flexible templates, so one there is refused with 400.
  ``delivered`` gets ``{"kind": "user"|"channel", "to", "content"}``.
* ``POST /v1.0/bots/{botId}/persistentmenu`` (≤ 4 message buttons, kept in ``menu``), and
  ``GET .../attachments/{fileId}``: 302 to ``/files/{fileId}`` (token wanted too), from ``put_file``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import parse_qs

import jwt

from .base import Response, StandIn
from .flex import FlexRules

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def lineworks_signature(body: bytes, bot_secret: str) -> str:
    """``X-WORKS-Signature``: base64 of HMAC-SHA256(bot secret, raw body)."""
    return base64.b64encode(hmac.new(bot_secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def lineworks_headers(body: bytes, bot_secret: str, bot_id: str) -> dict:
    """Headers of a callback as LINE WORKS sends it."""
    return {"Content-Type": "application/json; charset=UTF-8", "X-WORKS-BotId": str(bot_id),
            "X-WORKS-Signature": lineworks_signature(body, bot_secret)}


class LineWorksStandIn(FlexRules, StandIn):
    MAX_TEXT, MAX_ALT_TEXT, MAX_MENU_BUTTONS, MAX_MENU_LABEL, MAX_JWT_SECONDS = 2000, 400, 4, 1000, 3600
    MAX_BUBBLES, MAX_CAROUSEL_BYTES, MAX_BUBBLE_BYTES, MAX_LABEL = 10, 15 * 1024, 15 * 1024, 20
    ACTIONS = {"postback": {"data": (300, True), "displayText": (300, False)},
               "message": {"text": (300, False), "postback": (300, False)},
               "uri": {"uri": (1000, True)}}
    FLEX_ACTIONS = ("message", "uri")  # what a button of a flexible template may do

    def _check_component(self, comp, where: str) -> list[str]:
        if isinstance(comp, dict) and comp.get("type") == "button":
            action = comp.get("action")
            if isinstance(action, dict) and action.get("type") == "postback":
                return [f"{where}.action.type: postback is not an action of a flexible template (message or uri)"]
            return self._check_action(action, f"{where}.action", self.MAX_LABEL, self.FLEX_ACTIONS)
        return super()._check_component(comp, where)

    def __init__(self, *, public_key, bot_id: str = "2000001", client_id: str = "client-id-for-tests",
                 client_secret: str = "client-secret-for-tests",
                 service_account: str = "abcde.serviceaccount@example.com", token_lifetime: int = 86400):
        self.public_key, self.bot_id, self.token_lifetime = public_key, str(bot_id), token_lifetime
        self.client_id, self.client_secret, self.service_account = client_id, client_secret, service_account
        super().__init__()

    def _init_state(self) -> None:
        super()._init_state()
        self.delivered: list[dict] = []
        self.tokens: dict[str, bool] = {}  # issued access token -> still valid
        self.assertions: list[dict] = []   # the verified claims of each JWT accepted
        self.menu: dict | None = None
        self.files: dict[str, dict] = {}

    def start(self):
        super().start()
        self.api_url, self.auth_url = self.url + "/v1.0", self.url + "/oauth2/v2.0/token"
        return self

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 401, as an expired one does."""
        with self._lock:
            self.tokens = dict.fromkeys(self.tokens, False)

    def put_file(self, file_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """Hold a file a user sent, for the attachment API."""
        with self._lock:
            self.files[file_id] = {"data": bytes(data), "content_type": content_type}

    def contents(self, kind: str | None = None, to: str | None = None) -> list[dict]:
        with self._lock:
            return [d["content"] for d in self.delivered if kind in (None, d["kind"]) and to in (None, d["to"])]

    def texts(self, **kw) -> list[str]:
        return [c["text"] for c in self.contents(**kw) if c.get("type") == "text"]

    def _error_body(self, status: int, message: str | None) -> Any:
        code = {400: "INVALID_PARAMETER", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 429: "TOO_MANY_REQUESTS"}.get(status)
        return {"code": code or ("SERVICE_UNAVAILABLE" if status == 503 else "ERROR"), "description": message or "error"}

    def _fail(self, rec: dict, status: int, problems: str | list, *, client_error: bool = True) -> Response:
        message = problems if isinstance(problems, str) else "; ".join(problems)
        return self._refuse(rec, status, self._error_body(status, message), message, client_error)

    def _dispatch(self, rec: dict) -> Response:
        method, path = rec["method"], rec["path"]
        if method == "POST" and path == "/oauth2/v2.0/token":
            return self._token(rec)
        m = re.fullmatch(r"/v1\.0/bots/([^/]+)(/.*)", path)
        f = re.fullmatch(r"/files/([^/]+)", path)
        if not m and not f:
            return self._fail(rec, 404, "no such API")
        token = (rec["headers"].get("Authorization") or "").removeprefix("Bearer ")
        if token not in self.tokens:
            return self._fail(rec, 401, "Authentication failed.")
        if not self.tokens[token]:
            return self._fail(rec, 401, "Authentication failed.", client_error=False)  # expired: renew
        if f:
            held = self.files.get(f.group(1))
            if held is None:
                return self._fail(rec, 404, "no such file", client_error=False)
            return Response(200, held["data"], {"Content-Type": held["content_type"]})
        if m.group(1) != self.bot_id:
            return self._fail(rec, 404, f"unknown bot {m.group(1)}")
        rest = m.group(2)
        if method == "POST" and (mm := re.fullmatch(r"/(users|channels)/([^/]+)/messages", rest)):
            return self._message(rec, mm.group(1)[:-1], mm.group(2))
        if method == "POST" and rest == "/persistentmenu":
            return self._menu(rec)
        if method == "GET" and (mm := re.fullmatch(r"/attachments/([^/]+)", rest)):
            if mm.group(1) not in self.files:
                return self._fail(rec, 404, "no such file", client_error=False)
            return Response(302, b"", {"Location": f"{self.url}/files/{mm.group(1)}"})
        return self._fail(rec, 404, f"no such API: {method} {rest}")

    def _token(self, rec: dict) -> Response:
        if not (rec["headers"].get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return self._fail(rec, 400, "the token request is not a form")
        form = {k: v[-1] for k, v in parse_qs(rec["body"].decode("ascii", "replace")).items()}
        if form.get("grant_type") != GRANT:
            return self._fail(rec, 400, "grant_type must be jwt-bearer")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return self._fail(rec, 401, "invalid client")
        if "bot" not in (form.get("scope") or "").split():
            return self._fail(rec, 400, "scope must include bot")
        try:
            claims = jwt.decode(form.get("assertion") or "", self.public_key, algorithms=["RS256"], issuer=self.client_id,
                                options={"require": ["iss", "sub", "iat", "exp"]})
        except jwt.PyJWTError as e:
            return self._fail(rec, 400, f"assertion refused: {type(e).__name__}")
        if claims["sub"] != self.service_account or not all(isinstance(claims[k], int) for k in ("iat", "exp")) \
                or not 0 < claims["exp"] - claims["iat"] <= self.MAX_JWT_SECONDS:
            return self._fail(rec, 400, "assertion: another account, or not 60 minutes at most")
        n = len(self.assertions) + 1
        self.tokens[f"lw-access-{n:04d}"] = True
        self.assertions.append(claims)
        return Response(200, {"access_token": f"lw-access-{n:04d}", "refresh_token": f"lw-refresh-{n:04d}",
                              "scope": form["scope"], "token_type": "Bearer", "expires_in": str(self.token_lifetime)})

    def _message(self, rec: dict, kind: str, to: str) -> Response:
        if "application/json" not in (rec["headers"].get("Content-Type") or "").lower():
            return self._fail(rec, 415, "Content-Type must be application/json")
        obj = rec["json"]
        if not isinstance(obj, dict) or set(obj) != {"content"} or not isinstance(obj["content"], dict):
            return self._fail(rec, 400, "the body must be {\"content\": {...}}")
        c = obj["content"]
        if c.get("type") == "text":
            problems = self._check_text(c.get("text"), "text", self.MAX_TEXT, required=True)
        elif c.get("type") == "flex":
            problems = self._check_text(c.get("altText"), "altText", self.MAX_ALT_TEXT, required=True)
            problems += self._check_container(c.get("contents"), "contents")
        else:
            problems = [f"type: {c.get('type')!r} is not a type Nimo sends (text, flex)"]
        if "quickReply" in c:
            problems += self._check_quick_reply(c["quickReply"], "quickReply")
        unknown = set(c) - {"type", "text", "altText", "contents", "quickReply"}
        if unknown:
            problems.append(f"content: unknown properties {sorted(unknown)}")
        if problems:
            return self._fail(rec, 400, problems)
        self.delivered.append({"kind": kind, "to": to, "content": c})
        return Response(201, b"")

    def _menu(self, rec: dict) -> Response:
        obj = rec["json"]
        actions = ((obj or {}).get("content") or {}).get("actions") if isinstance(obj, dict) else None
        if not isinstance(actions, list) or not 1 <= len(actions) <= self.MAX_MENU_BUTTONS:
            return self._fail(rec, 400, f"content.actions: 1 to {self.MAX_MENU_BUTTONS} buttons")
        problems = [p for i, a in enumerate(actions)
                    for p in self._check_action(a, f"content.actions[{i}]", self.MAX_MENU_LABEL, ("message",))]
        if problems:
            return self._fail(rec, 400, problems)
        self.menu = obj
        return Response(201, b"")
