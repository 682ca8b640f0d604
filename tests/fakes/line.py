"""A stand-in for the LINE Messaging API (``api.line.me`` and ``api-data.line.me`` on one server),
for the calls Nimo makes: reply, push (with ``X-Line-Retry-Key``), the loading animation, the rich
menu (create, its PNG, make it the default), a profile, and the content of a message a user sent.
Checked with line-bot-sdk's models plus the limits they leave out (UTF-16 lengths, counts, sizes).

``delivered``: ``{"kind": "reply"|"push", "to", "reply_token", "retry_key", "messages",
"request_id"}`` per accepted request.  A reply token works once (``expire_token`` spends one); a
push with a retry key already accepted gets 409.  ``put_content(message_id, data)`` holds what a
user sent; ``profiles[user_id]`` overrides fields of ``DEFAULT_PROFILE``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import uuid
from typing import Any

from .base import Response, StandIn, first_line
from .flex import FlexRules


def line_signature(body: bytes, channel_secret: str) -> str:
    """``X-Line-Signature``: base64 of HMAC-SHA256(channel secret, raw body)."""
    body = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    return base64.b64encode(hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def line_headers(body: bytes, channel_secret: str) -> dict:
    """Headers of a LINE webhook delivery."""
    return {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": line_signature(body, channel_secret)}


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MESSAGES = ("text", "flex")  # the message types Nimo sends
AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."
ROUTES = (("POST", r"/v2/bot/message/reply", "_reply", True), ("POST", r"/v2/bot/message/push", "_push", True),
          ("POST", r"/v2/bot/chat/loading/start", "_loading", True), ("POST", r"/v2/bot/richmenu", "_create_rich_menu", True),
          ("POST", r"/v2/bot/richmenu/([^/]+)/content", "_upload_image", False),
          ("POST", r"/v2/bot/user/all/richmenu/([^/]+)", "_set_default", False),
          ("GET", r"/v2/bot/profile/([^/]+)", "_profile", False),
          ("GET", r"/v2/bot/message/([^/]+)/content", "_content", False))  # (method, path, handler, takes JSON)


class LineStandIn(FlexRules, StandIn):
    DEFAULT_PROFILE = {"displayName": "Nimo Tester", "statusMessage": "hello", "language": "ja"}
    MAX_MESSAGES, MAX_TEXT, MAX_ALT_TEXT, MAX_IMAGE_BYTES = 5, 5000, 1500, 1024 * 1024

    def __init__(self, access_token: str = "test-line-token"):
        self.access_token = access_token
        super().__init__()

    def _init_state(self) -> None:
        super()._init_state()
        self.delivered: list[dict] = []
        self.loading: list[dict] = []            # accepted loading-animation requests
        self.rich_menus: dict[str, dict] = {}    # id -> {"request": dict, "image": dict | None}
        self.default_rich_menu: str | None = None
        self.profiles: dict[str, dict] = {}
        self.contents: dict[str, dict] = {}      # message id -> {"data", "content_type"}
        self._spent_tokens: set[str] = set()     # reply tokens used or expired
        self._retry_keys: dict[str, str] = {}    # accepted retry key -> its request id
        self._ids = itertools.count(1)

    # -- for tests ---------------------------------------------------------------------------
    def expire_token(self, token: str) -> None:
        """Make ``token`` answer 400 Invalid reply token, as one older than allowed does."""
        with self._lock:
            self._spent_tokens.add(token)

    def put_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """Hold ``data`` as the content of message ``message_id`` (what a user sent)."""
        with self._lock:
            self.contents[message_id] = {"data": bytes(data), "content_type": content_type}

    def messages(self) -> list[dict]:
        with self._lock:
            return [m for d in self.delivered for m in d["messages"]]

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages() if m.get("type") == "text"]

    def _error_body(self, status: int, message: str | None) -> Any:
        return {"message": message or {401: AUTH_FAILED, 404: "Not found", 429: "The API rate limit has been exceeded"
                                       }.get(status, "An error occurred in the server")}

    def _fail(self, rec: dict, status: int, message: str, problems: list[str] = (), *,
              client_error: bool = True, headers: dict | None = None) -> Response:
        """LINE's error answer: ``details`` lists each problem as ``{"property", "message"}``."""
        details = [dict(zip(("property", "message"), p.split(": ", 1))) for p in problems]
        return self._refuse(rec, status, {"message": message, **({"details": details} if details else {})},
                            "; ".join(problems) or message, client_error, headers)

    def _dispatch(self, rec: dict) -> Response:
        found = next(((getattr(self, name), m, takes_json) for verb, pattern, name, takes_json in ROUTES
                      if verb == rec["method"] and (m := re.fullmatch(pattern, rec["path"]))), None)
        if found is None:
            return self._fail(rec, 404, "Not found")
        handler, m, takes_json = found
        if rec["headers"].get("Authorization") != f"Bearer {self.access_token}":
            return self._fail(rec, 401, AUTH_FAILED)
        if rec["headers"].get("X-Line-Retry-Key") is not None and handler != self._push:
            return self._fail(rec, 400, "The retry key is not supported for this API",
                              ["X-Line-Retry-Key: not supported"])
        if takes_json and "application/json" not in (rec["headers"].get("Content-Type") or ""):
            return self._fail(rec, 415, "Unsupported Content-Type")
        if takes_json and not isinstance(rec["json"], dict):
            return self._fail(rec, 400, "The request body must be a JSON object")
        return handler(rec, *m.groups())

    def _checked(self, rec: dict, model_name: str, problems: list[str]) -> Response | None:
        """The refusal for ``problems``, or for what the SDK's own request model finds; else None."""
        if not problems:
            from linebot.v3.messaging import models
            try:
                getattr(models, model_name).from_json(rec["body"].decode("utf-8"))
            except Exception as exc:  # pydantic's ValidationError, a discriminator's ValueError...
                problems = [f": {first_line(exc)}"]
        return self._fail(rec, 400, f"The request body has {len(problems)} error(s)", problems) if problems else None

    # -- messages ----------------------------------------------------------------------------
    def _reply(self, rec: dict) -> Response:
        obj, token = rec["json"], rec["json"].get("replyToken")
        bad = self._checked(rec, "ReplyMessageRequest", self._check_text(token, "replyToken", 1000, True)
                            + self._check_messages(obj))
        if bad:
            return bad
        if token in self._spent_tokens:
            return self._fail(rec, 400, "Invalid reply token", client_error=False)
        self._spent_tokens.add(token)
        return self._deliver("reply", None, obj, None, token)

    def _push(self, rec: dict) -> Response:
        obj, key = rec["json"], rec["headers"].get("X-Line-Retry-Key")
        if key is not None and not _UUID.fullmatch(key):
            return self._fail(rec, 400, "The retry key must be a UUID", ["X-Line-Retry-Key: must be a UUID"])
        if key in self._retry_keys:
            return self._fail(rec, 409, "The retry key is already accepted", client_error=False,
                              headers={"X-Line-Accepted-Request-Id": self._retry_keys[key]})
        bad = self._checked(rec, "PushMessageRequest", self._check_text(obj.get("to"), "to", 100, True)
                            + self._check_messages(obj))
        return bad or self._deliver("push", obj["to"], obj, key, None)

    def _deliver(self, kind: str, to, obj: dict, retry_key, reply_token) -> Response:
        request_id = uuid.uuid4().hex
        self.delivered.append({"kind": kind, "to": to, "reply_token": reply_token, "retry_key": retry_key,
                               "messages": obj["messages"], "request_id": request_id})
        if retry_key is not None:
            self._retry_keys[retry_key] = request_id
        ids = [next(self._ids) for _ in obj["messages"]]
        return Response(200, {"sentMessages": [{"id": str(500000000000000000 + i), "quoteToken": f"q{i}"} for i in ids]})

    def _loading(self, rec: dict) -> Response:
        ok = rec["json"].get("loadingSeconds", 20) in range(5, 61, 5)
        bad = self._checked(rec, "ShowLoadingAnimationRequest", [] if ok else ["loadingSeconds: 5, 10, ... or 60"])
        if not bad:
            self.loading.append(rec["json"])
        return bad or Response(202, {})

    # -- the rich menu -----------------------------------------------------------------------
    def _create_rich_menu(self, rec: dict) -> Response:
        obj, size, areas = rec["json"], rec["json"].get("size") or {}, rec["json"].get("areas")
        w, h = size.get("width") or 0, size.get("height") or 0
        problems = [] if 800 <= w <= 2500 and 250 <= h <= w / 1.45 else ["size: width 800-2500, height 250 or more, w/h ≥ 1.45"]
        problems += self._check_text(obj.get("chatBarText"), "chatBarText", 14, required=True)
        if not isinstance(areas, list) or len(areas) > 20:
            problems.append("areas: Size must be between 0 and 20")
        for i, area in enumerate(areas if isinstance(areas, list) else []):
            problems += self._check_action(area.get("action") if isinstance(area, dict) else None,
                                           f"areas[{i}].action", 20)
        rid = f"richmenu-{len(self.rich_menus) + 1}"
        bad = self._checked(rec, "RichMenuRequest", problems)
        if not bad:
            self.rich_menus[rid] = {"request": obj, "image": None}
        return bad or Response(200, {"richMenuId": rid})

    def _upload_image(self, rec: dict, rid: str) -> Response:
        """Nimo uploads a PNG: its type, size and width x height (from the IHDR chunk) are checked."""
        menu, data = self.rich_menus.get(rid), rec["body"]
        if menu is None:
            return self._fail(rec, 404, "Not found", client_error=False)
        if (rec["headers"].get("Content-Type") or "").split(";")[0].strip() != "image/png":
            return self._fail(rec, 415, "Content-Type must be image/png (what Nimo sends)")
        png = data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) <= self.MAX_IMAGE_BYTES
        dims = (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) if png else None
        if dims != (menu["request"]["size"]["width"], menu["request"]["size"]["height"]) or menu["image"]:
            return self._fail(rec, 400, f"Not a PNG of the menu's size up to 1 MB ({dims}), or uploaded before")
        menu["image"] = {"content_type": "image/png", "size": len(data), "width": dims[0], "height": dims[1]}
        return Response(200, {})

    def _set_default(self, rec: dict, rid: str) -> Response:
        if rid not in self.rich_menus:
            return self._fail(rec, 404, "Not found", client_error=False)
        if self.rich_menus[rid]["image"] is None:
            return self._fail(rec, 400, "must upload richmenu image before applying it to user")
        self.default_rich_menu = rid
        return Response(200, {})

    def _profile(self, rec: dict, user_id: str) -> Response:
        return Response(200, {**self.DEFAULT_PROFILE, **self.profiles.get(user_id, {}), "userId": user_id})

    def _content(self, rec: dict, message_id: str) -> Response:
        held = self.contents.get(message_id)
        if held is None:  # LINE keeps content only for a while: a legitimate answer
            return self._fail(rec, 404, "Not found", client_error=False)
        return Response(200, held["data"], {"Content-Type": held["content_type"]})

    def _check_messages(self, obj: dict) -> list[str]:
        from linebot.v3.messaging.models import Message

        msgs = obj.get("messages")
        if not isinstance(msgs, list) or not 1 <= len(msgs) <= self.MAX_MESSAGES:
            return [f"messages: Size must be between 1 and {self.MAX_MESSAGES} (got {len(msgs or [])})"]
        out: list[str] = []
        for i, m in enumerate(msgs):
            where = f"messages[{i}]"
            if not isinstance(m, dict) or m.get("type") not in MESSAGES:
                out.append(f"{where}.type: one of {MESSAGES} (what Nimo sends)")
                continue
            if m["type"] == "text":
                out += self._check_text(m.get("text"), f"{where}.text", self.MAX_TEXT, required=True)
            else:
                out += self._check_text(m.get("altText"), f"{where}.altText", self.MAX_ALT_TEXT, required=True)
                out += self._check_container(m.get("contents"), f"{where}.contents")
            if m.get("quickReply") is not None:
                out += self._check_quick_reply(m["quickReply"], f"{where}.quickReply")
            try:
                Message.from_dict(m)
            except Exception as exc:
                out.append(f"{where}: {first_line(exc)}")
        return out
