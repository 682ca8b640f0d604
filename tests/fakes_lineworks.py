"""A local stand-in for LINE WORKS API 2.0 and its token endpoint (one server on 127.0.0.1).

Built on the server machinery of tests/fakes.py (recording, ``errors`` / ``rejections``,
``fail_next`` fault injection, ``wait_for``), and checking what the documentation says:

* ``POST /oauth2/v2.0/token``: a form with ``grant_type`` (jwt-bearer), ``client_id``,
  ``client_secret``, ``scope`` and ``assertion``; the assertion's RS256 signature is checked with
  the app's public key, its ``iss`` (client ID), ``sub`` (service account), ``iat`` and ``exp``
  (not expired, at most 60 minutes long).  The answer is LINE WORKS': ``expires_in`` is a string.
* ``POST /v1.0/bots/{botId}/users/{userId}/messages`` and ``.../channels/{channelId}/messages``:
  a bearer token this server issued and has not expired (``expire_tokens()`` makes every token
  issued so far answer 401, as an expired one does), the right bot, and one ``content`` checked
  against its type's limits (text ≤ 2,000 characters; flexible template: altText ≤ 400, a bubble
  or a carousel of ≤ 10 bubbles, ≤ 30 KB, postback/message/uri actions with their limits; quick
  reply ≤ 13 items, a postback item needs displayText).  Accepted messages go to ``delivered``
  as ``{"kind": "user"|"channel", "to": id, "content": dict}`` and are answered 201.
* ``POST/GET /v1.0/bots/{botId}/persistentmenu``: ≤ 4 buttons of type message, uri or copy.
* ``GET /v1.0/bots/{botId}/attachments/{fileId}``: 302 with the file's URL in ``Location``
  (``put_file`` holds a file); that URL (``/files/{fileId}``) also wants the bearer token.

Use ``fail_next(path_suffix, 429, retry_after=2)`` and the like from tests/fakes.py.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import parse_qs

import jwt

from .fakes import _StandIn, _Response, _json_size

__all__ = ["LineWorksStandIn", "lineworks_headers", "lineworks_signature"]

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def lineworks_signature(body: bytes, bot_secret: str) -> str:
    """``X-WORKS-Signature``: base64 of HMAC-SHA256(bot secret, raw body)."""
    return base64.b64encode(hmac.new(bot_secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def lineworks_headers(body: bytes, bot_secret: str, bot_id: str) -> dict:
    """Headers of a callback as LINE WORKS sends it."""
    return {"Content-Type": "application/json; charset=UTF-8", "X-WORKS-BotId": str(bot_id),
            "X-WORKS-Signature": lineworks_signature(body, bot_secret)}


class LineWorksStandIn(_StandIn):
    MAX_TEXT = 2000
    MAX_ALT_TEXT = 400
    MAX_BUBBLES = 10
    MAX_FLEX_BYTES = 30 * 1024
    MAX_QUICK_REPLY_ITEMS = 13
    MAX_LABEL = 20
    MAX_MENU_LABEL = 1000
    MAX_ACTION_TEXT = 300
    MAX_MENU_BUTTONS = 4
    MAX_JWT_SECONDS = 3600
    QUICK_REPLY_ACTIONS = {"postback", "message", "uri", "camera", "cameraRoll", "location", "copy"}
    FLEX_ACTIONS = {"postback", "message", "uri"}
    MENU_ACTIONS = {"message", "uri", "copy"}

    def __init__(self, *, public_key, bot_id: str = "2000001", client_id: str = "client-id-for-tests",
                 client_secret: str = "client-secret-for-tests",
                 service_account: str = "abcde.serviceaccount@example.com", token_lifetime: int = 86400):
        self.public_key = public_key
        self.bot_id = str(bot_id)
        self.client_id = client_id
        self.client_secret = client_secret
        self.service_account = service_account
        self.token_lifetime = token_lifetime
        super().__init__()

    def _init_state(self) -> None:
        super()._init_state()
        self.delivered: list[dict] = []
        self.tokens: dict[str, bool] = {}      # issued access token -> still valid
        self.assertions: list[dict] = []       # the verified claims of every JWT accepted
        self.menu: dict | None = None
        self.files: dict[str, dict] = {}
        self._seq = 0

    # -- helpers for tests -------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return self.url + "/v1.0"

    @property
    def auth_url(self) -> str:
        return self.url + "/oauth2/v2.0/token"

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 401, as an expired one does."""
        with self._lock:
            for t in self.tokens:
                self.tokens[t] = False

    def put_file(self, file_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """Hold a file a user sent, for the attachment API."""
        with self._lock:
            self.files[file_id] = {"data": bytes(data), "content_type": content_type}

    def contents(self, kind: str | None = None, to: str | None = None) -> list[dict]:
        with self._lock:
            return [d["content"] for d in self.delivered
                    if (kind is None or d["kind"] == kind) and (to is None or d["to"] == to)]

    def texts(self, **kw) -> list[str]:
        return [c["text"] for c in self.contents(**kw) if c.get("type") == "text"]

    # -- plumbing ------------------------------------------------------------------------------
    def _error_body(self, status: int, message: str | None) -> Any:
        codes = {400: "INVALID_PARAMETER", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                 429: "TOO_MANY_REQUESTS", 500: "INTERNAL_SERVER_ERROR", 503: "SERVICE_UNAVAILABLE"}
        return {"code": codes.get(status, "ERROR"), "description": message or "error"}

    def _fail(self, rec: dict, status: int, message: str, *, client_error: bool = True) -> _Response:
        if client_error:
            self.errors.append(f"{rec['method']} {rec['path']}: {message}")
        return _Response(status, self._error_body(status, message), reason=message)

    def _dispatch(self, rec: dict) -> _Response:
        method, path = rec["method"], rec["path"]
        if method == "POST" and path == "/oauth2/v2.0/token":
            return self._token(rec)
        m = re.fullmatch(r"/v1\.0/bots/([^/]+)(/.*)", path)
        f = re.fullmatch(r"/files/([^/]+)", path)
        if not m and not f:
            return self._fail(rec, 404, "no such API")
        auth = rec["headers"].get("Authorization") or ""
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        if token not in self.tokens:
            return self._fail(rec, 401, "Authentication failed.")
        if not self.tokens[token]:
            return self._fail(rec, 401, "Authentication failed.", client_error=False)  # expired: renew
        if f:
            return self._file(rec, f.group(1))
        if m.group(1) != self.bot_id:
            return self._fail(rec, 404, f"unknown bot {m.group(1)}")
        rest = m.group(2)
        if method == "POST" and (mm := re.fullmatch(r"/(users|channels)/([^/]+)/messages", rest)):
            return self._message(rec, "user" if mm.group(1) == "users" else "channel", mm.group(2))
        if rest == "/persistentmenu" and method in ("POST", "GET"):
            return self._menu(rec)
        if method == "GET" and (mm := re.fullmatch(r"/attachments/([^/]+)", rest)):
            if mm.group(1) not in self.files:
                return self._fail(rec, 404, "no such file", client_error=False)
            return _Response(302, b"", {"Location": f"{self.url}/files/{mm.group(1)}"})
        return self._fail(rec, 404, f"no such API: {method} {rest}")

    # -- the token endpoint --------------------------------------------------------------------
    def _token(self, rec: dict) -> _Response:
        ctype = (rec["headers"].get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return self._fail(rec, 400, f"token request is not a form: {ctype}")
        form = {k: v[-1] for k, v in parse_qs(rec["body"].decode("ascii", "replace")).items()}
        if form.get("grant_type") != GRANT:
            return self._fail(rec, 400, "grant_type must be jwt-bearer")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return self._fail(rec, 401, "invalid client")
        if "bot" not in (form.get("scope") or "").split():
            return self._fail(rec, 400, "scope must include bot")
        try:
            claims = jwt.decode(form.get("assertion") or "", self.public_key, algorithms=["RS256"],
                                options={"require": ["iss", "sub", "iat", "exp"]})
        except jwt.PyJWTError as e:
            return self._fail(rec, 400, f"assertion refused: {type(e).__name__}")
        if claims["iss"] != self.client_id or claims["sub"] != self.service_account:
            return self._fail(rec, 400, "assertion names another app or account")
        if not isinstance(claims["iat"], int) or not isinstance(claims["exp"], int) \
                or not 0 < claims["exp"] - claims["iat"] <= self.MAX_JWT_SECONDS:
            return self._fail(rec, 400, "assertion lifetime must be a number of seconds up to 60 minutes")
        self._seq += 1
        token = f"lw-access-{self._seq:04d}"
        self.tokens[token] = True
        self.assertions.append(claims)
        return _Response(200, {"access_token": token, "refresh_token": f"lw-refresh-{self._seq:04d}",
                               "scope": form["scope"], "token_type": "Bearer",
                               "expires_in": str(self.token_lifetime)})

    # -- messages ------------------------------------------------------------------------------
    def _message(self, rec: dict, kind: str, to: str) -> _Response:
        if "application/json" not in (rec["headers"].get("Content-Type") or "").lower():
            return self._fail(rec, 415, "Content-Type must be application/json")
        obj = rec["json"]
        if not isinstance(obj, dict) or set(obj) != {"content"} or not isinstance(obj["content"], dict):
            return self._fail(rec, 400, "the body must be {\"content\": {...}}")
        problems = self._check_content(obj["content"])
        if problems:
            return self._fail(rec, 400, "; ".join(problems))
        self.delivered.append({"kind": kind, "to": to, "content": obj["content"]})
        return _Response(201, b"")

    def _check_content(self, c: dict) -> list[str]:
        out: list[str] = []
        t = c.get("type")
        if t == "text":
            text = c.get("text")
            if not isinstance(text, str) or not text:
                out.append("text: required")
            elif len(text) > self.MAX_TEXT:
                out.append(f"text: {len(text)} characters, at most {self.MAX_TEXT}")
        elif t == "flex":
            alt = c.get("altText")
            if not isinstance(alt, str) or not alt or len(alt) > self.MAX_ALT_TEXT:
                out.append("altText: 1 to 400 characters")
            out += self._check_container(c.get("contents"))
        else:
            out.append(f"type: {t!r} is not a type Nimo sends (text, flex)")
        if "quickReply" in c:
            out += self._check_quick_reply(c["quickReply"])
        extra = set(c) - {"type", "text", "altText", "contents", "quickReply"}
        if extra:
            out.append(f"unknown properties: {sorted(extra)}")
        return out

    def _check_container(self, cont: Any) -> list[str]:
        if not isinstance(cont, dict):
            return ["contents: a container object is required"]
        if _json_size(cont) > self.MAX_FLEX_BYTES:
            return [f"contents: {_json_size(cont)} bytes, at most {self.MAX_FLEX_BYTES}"]
        if cont.get("type") == "bubble":
            return self._check_bubble(cont, "contents")
        if cont.get("type") != "carousel":
            return ["contents.type: bubble or carousel"]
        bubbles = cont.get("contents")
        if not isinstance(bubbles, list) or not 1 <= len(bubbles) <= self.MAX_BUBBLES:
            return [f"contents.contents: 1 to {self.MAX_BUBBLES} bubbles"]
        out: list[str] = []
        for i, b in enumerate(bubbles):
            out += self._check_bubble(b, f"contents.contents[{i}]")
        return out

    def _check_bubble(self, b: Any, where: str) -> list[str]:
        if not isinstance(b, dict) or b.get("type") != "bubble":
            return [f"{where}: a bubble is required"]
        out: list[str] = []
        for block in ("header", "hero", "body", "footer"):
            if block in b:
                out += self._check_component(b[block], f"{where}.{block}")
        return out

    def _check_component(self, comp: Any, where: str) -> list[str]:
        if not isinstance(comp, dict):
            return [f"{where}: a component object is required"]
        t = comp.get("type")
        if t == "box":
            if comp.get("layout") not in ("vertical", "horizontal", "baseline"):
                return [f"{where}.layout: vertical, horizontal or baseline"]
            kids = comp.get("contents")
            if not isinstance(kids, list):
                return [f"{where}.contents: a list is required"]
            out: list[str] = []
            for i, k in enumerate(kids):
                out += self._check_component(k, f"{where}.contents[{i}]")
            return out
        if t == "text":
            return [] if isinstance(comp.get("text"), str) and comp["text"] else [f"{where}.text: required"]
        if t == "button":
            return self._check_action(comp.get("action"), f"{where}.action", self.FLEX_ACTIONS, self.MAX_LABEL)
        if t in ("separator", "filler", "spacer", "image", "icon"):
            return []
        return [f"{where}.type: {t!r} is not a component"]

    def _check_action(self, a: Any, where: str, allowed: set, label_max: int, *,
                      display_required: bool = False) -> list[str]:
        if not isinstance(a, dict) or a.get("type") not in allowed:
            return [f"{where}.type: one of {sorted(allowed)}"]
        out: list[str] = []
        label = a.get("label")
        if a["type"] in ("postback", "message", "uri", "copy") and (
                not isinstance(label, str) or not label or len(label) > label_max):
            out.append(f"{where}.label: 1 to {label_max} characters")
        if a["type"] == "postback":
            data = a.get("data")
            if not isinstance(data, str) or not data or len(data) > self.MAX_ACTION_TEXT:
                out.append(f"{where}.data: 1 to {self.MAX_ACTION_TEXT} characters")
            shown = a.get("displayText")
            if (display_required or shown is not None) and (
                    not isinstance(shown, str) or not shown or len(shown) > self.MAX_ACTION_TEXT):
                out.append(f"{where}.displayText: 1 to {self.MAX_ACTION_TEXT} characters")
        if a["type"] == "message":
            for prop in ("text", "postback"):
                v = a.get(prop)
                if v is not None and (not isinstance(v, str) or not v or len(v) > self.MAX_ACTION_TEXT):
                    out.append(f"{where}.{prop}: 1 to {self.MAX_ACTION_TEXT} characters")
        if a["type"] == "uri" and not str(a.get("uri", "")).startswith(("https://", "http://")):
            out.append(f"{where}.uri: http(s) only")
        return out

    def _check_quick_reply(self, qr: Any) -> list[str]:
        items = qr.get("items") if isinstance(qr, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= self.MAX_QUICK_REPLY_ITEMS:
            return [f"quickReply.items: 1 to {self.MAX_QUICK_REPLY_ITEMS} items"]
        out: list[str] = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                out.append(f"quickReply.items[{i}]: an object is required")
                continue
            out += self._check_action(item.get("action"), f"quickReply.items[{i}].action", self.QUICK_REPLY_ACTIONS,
                                      self.MAX_LABEL, display_required=True)
        return out

    # -- the menu and files --------------------------------------------------------------------
    def _menu(self, rec: dict) -> _Response:
        if rec["method"] == "GET":
            return _Response(200, self.menu or {}) if self.menu else self._fail(rec, 404, "no menu", client_error=False)
        obj = rec["json"]
        actions = ((obj or {}).get("content") or {}).get("actions") if isinstance(obj, dict) else None
        if not isinstance(actions, list) or not 1 <= len(actions) <= self.MAX_MENU_BUTTONS:
            return self._fail(rec, 400, f"content.actions: 1 to {self.MAX_MENU_BUTTONS} buttons")
        problems = [p for i, a in enumerate(actions)
                    for p in self._check_action(a, f"content.actions[{i}]", self.MENU_ACTIONS, self.MAX_MENU_LABEL)]
        if problems:
            return self._fail(rec, 400, "; ".join(problems))
        self.menu = obj
        return _Response(201, b"")

    def _file(self, rec: dict, file_id: str) -> _Response:
        f = self.files.get(file_id)
        if f is None:
            return self._fail(rec, 404, "no such file", client_error=False)
        return _Response(200, f["data"], {"Content-Type": f["content_type"]})
