"""Local stand-ins for the LINE Messaging API and the Slack Web API.

Both are real HTTP servers on 127.0.0.1 (ephemeral port, one thread per connection) that
record what they receive and validate it the way the services would, using the SDKs' own
models (line-bot-sdk v3 pydantic models, slack_sdk block/view objects) plus the documented
limits the SDKs do not check themselves.  Point the real SDK clients at them:

    with LineStandIn() as line, SlackStandIn() as slack:
        api = MessagingApi(ApiClient(Configuration(host=line.url, access_token=line.access_token)))
        web = WebClient(token=slack.bot_token, base_url=slack.url + "/api/")

Recorded state (read it from tests; every list is only appended to under a lock):

* ``requests``    every request: ``{"method", "path", "query", "headers", "body", "json", ...}``
                   (``headers`` is case-insensitive for lookups); ``status`` is the answer's status.
* ``errors``      one string per request a correct client should never send (validation
                   failures, bad token, unknown path).  Tests assert it stays empty.
* ``rejections``  every non-2xx answer with its reason, including the legitimate ones
                   (used or expired reply token, 409 on a retried push, injected faults).
* ``delivered`` (LINE) / ``posted`` (Slack): what was accepted.
* ``uploads`` (Slack): completed ``files_upload_v2`` uploads, one dict per file (see
                   ``SlackStandIn``).

Content the services hold for the bot to download is put there by the test:
``line.put_content(message_id, data)`` (what a user sent in a LINE chat) and
``slack.put_file(file_id, data)`` (a file shared in Slack; returns its file object).

Fault injection: ``fail_next(suffix, status, *, times=1, retry_after=None, body=None,
delay=None, deliver=False)``.  Faults are consumed in the order they were added, by the next
requests whose path ends with ``suffix``.  Rules:

* the request is processed normally (validated, recorded as delivered, reply token / retry
  key consumed) iff ``status is None`` or ``deliver=True``;
* ``delay`` seconds are waited after processing, before answering (``stop()`` cuts it short);
* the answer is the normal one if ``status is None``, else ``status`` with ``body`` (default:
  the service's usual error body for that status) and a ``Retry-After`` header if given.

So ``fail_next(p, 429, retry_after=1)`` is a plain rate limit, ``fail_next(p, 500,
deliver=True)`` is "accepted but the client got an error", and ``fail_next(p, None, delay=2,
deliver=True)`` is "accepted, but the answer came too late for the client's timeout".
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import re
import socket
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = [
    "line_signature",
    "line_headers",
    "slack_headers",
    "LineStandIn",
    "SlackStandIn",
]


# ---------------------------------------------------------------------------------------------
# Signing helpers (how LINE / Slack sign the webhooks they send to the bot)
# ---------------------------------------------------------------------------------------------

def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def line_signature(body: bytes, channel_secret: str) -> str:
    """``X-Line-Signature``: base64 of HMAC-SHA256(channel secret, raw body)."""
    digest = hmac.new(channel_secret.encode("utf-8"), _as_bytes(body), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def line_headers(body: bytes, channel_secret: str) -> dict:
    """Headers of a LINE webhook delivery: signature plus JSON content type."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "X-Line-Signature": line_signature(body, channel_secret),
    }


def slack_headers(
    body: bytes,
    signing_secret: str,
    timestamp: int | None = None,
    content_type: str = "application/json",
) -> dict:
    """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` ("v0=" + hex HMAC-SHA256 of
    ``v0:{ts}:{body}``), plus ``Content-Type``.  ``timestamp`` defaults to now."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    base = b"v0:" + str(ts).encode("ascii") + b":" + _as_bytes(body)
    sig = "v0=" + hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sig,
        "Content-Type": content_type,
    }


# ---------------------------------------------------------------------------------------------
# Shared server machinery
# ---------------------------------------------------------------------------------------------

class Headers(dict):
    """A dict of request headers (names as sent) whose lookups ignore case."""

    def _key(self, name: str) -> str | None:
        if dict.__contains__(self, name):
            return name
        low = name.lower()
        for k in self.keys():
            if k.lower() == low:
                return k
        return None

    def __getitem__(self, name):
        k = self._key(name)
        if k is None:
            raise KeyError(name)
        return dict.__getitem__(self, k)

    def __contains__(self, name):
        return isinstance(name, str) and self._key(name) is not None

    def get(self, name, default=None):
        k = self._key(name)
        return default if k is None else dict.__getitem__(self, k)


class _Response:
    __slots__ = ("status", "body", "headers", "reason")

    def __init__(self, status: int, body: Any = None, headers: dict | None = None, reason: str = ""):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.reason = reason


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, standin: "_StandIn"):
        self.standin = standin
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def track(self, sock: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(sock)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):  # quiet: clients hanging up is normal here
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as API servers set it: the headers and the body go out in two writes, and with
    # Nagle's algorithm the body waited for the client's delayed ACK, about 40 ms every request.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self):
        super().setup()
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _any(self):
        self.server.standin._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            line = h.rfile.readline()
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
        return b"".join(chunks)
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length else b""


class _StandIn:
    """Server lifecycle, request recording, fault injection, waiting."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self._init_state()

    # -- state -------------------------------------------------------------------------------
    def _init_state(self) -> None:
        self.requests: list[dict] = []
        self.errors: list[str] = []
        self.rejections: list[dict] = []
        self._faults: list[dict] = []

    def reset(self) -> None:
        """Forget everything recorded and every pending fault (the server keeps running)."""
        with self._lock:
            self._init_state()
            self._cond.notify_all()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
            name=f"{type(self).__name__}:{port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # cut injected delays short
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- faults ------------------------------------------------------------------------------
    def fail_next(self, path_suffix: str, status: int | None, *, times: int = 1,
                  retry_after: int | float | str | None = None, body: Any = None,
                  delay: float | None = None, deliver: bool = False) -> None:
        """Make the next ``times`` requests whose path ends with ``path_suffix`` misbehave.
        See the module docstring for the exact rules."""
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append({
                "suffix": path_suffix, "remaining": times, "status": status,
                "retry_after": retry_after, "body": body, "delay": delay, "deliver": deliver,
            })

    def _take_fault(self, path: str) -> dict | None:
        with self._lock:
            for f in self._faults:
                if path.endswith(f["suffix"]):
                    f["remaining"] -= 1
                    if f["remaining"] <= 0:
                        self._faults.remove(f)
                    return dict(f)
        return None

    # -- waiting -----------------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate(self)`` is true (re-checked whenever a request arrives or
        something is delivered).  Returns the final truth value; never raises on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if predicate(self):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return bool(predicate(self))
                self._cond.wait(remaining)

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- request handling --------------------------------------------------------------------
    def _serve(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        raw = _read_body(h)
        headers = Headers(h.headers.items())
        parsed = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        rec = {
            "method": h.command,
            "path": split.path,
            "query": {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            "headers": headers,
            "body": raw,
            "json": parsed,
            "status": None,
        }
        with self._lock:
            self.requests.append(rec)
            self._cond.notify_all()

        fault = self._take_fault(split.path)
        resp: _Response | None = None
        if fault is None or fault["status"] is None or fault["deliver"]:
            try:
                with self._lock:
                    resp = self._dispatch(rec)
                    self._cond.notify_all()
            except Exception as exc:  # a bug in the stand-in itself: make it loud
                msg = f"{rec['method']} {rec['path']}: stand-in crashed: {type(exc).__name__}: {exc}"
                with self._lock:
                    self.errors.append(msg)
                resp = _Response(500, self._error_body(500, msg), reason=msg)
        if fault is not None:
            if fault["delay"]:
                self._stopping.wait(fault["delay"])
            if fault["status"] is not None:
                status = int(fault["status"])
                body = fault["body"] if fault["body"] is not None else self._error_body(status, None)
                hdrs = {}
                if fault["retry_after"] is not None:
                    hdrs["Retry-After"] = str(fault["retry_after"])
                resp = _Response(status, body, hdrs, reason=f"injected fault {status}")
        assert resp is not None
        rec["status"] = resp.status
        rec["response"] = resp.body
        if resp.status >= 300:
            with self._lock:
                self.rejections.append({
                    "method": rec["method"], "path": rec["path"], "status": resp.status,
                    "reason": resp.reason, "body": resp.body,
                })
        self._send(h, resp)

    def _send(self, h: _Handler, resp: _Response) -> None:
        body = resp.body
        headers = dict(resp.headers)
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
            headers.setdefault("Content-Type", "application/octet-stream")
        elif isinstance(body, str):
            data = body.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            data = json.dumps(body if body is not None else {}).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        headers.update(self._common_headers())
        try:
            h.send_response(resp.status)
            for k, v in headers.items():
                h.send_header(k, str(v))
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            h.close_connection = True  # the client gave up (e.g. timed out); that's fine

    # -- to be provided by subclasses -------------------------------------------------------
    def _dispatch(self, rec: dict) -> _Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def _error_body(self, status: int, message: str | None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _common_headers(self) -> dict:
        return {}


def _u16(s: str) -> int:
    """Length in UTF-16 code units, the way LINE counts characters."""
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def _json_size(obj: Any) -> int:
    """Size of ``obj`` as compact JSON in UTF-8 bytes."""
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


# ---------------------------------------------------------------------------------------------
# LINE Messaging API
# ---------------------------------------------------------------------------------------------

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LINE_ID_RE = re.compile(r"^[UCR][0-9a-f]{32}$")
_URL_KEYS = {"originalContentUrl", "previewImageUrl", "thumbnailImageUrl", "imageUrl", "iconUrl",
             "baseUrl", "defaultThumbnailImageUrl"}


class LineStandIn(_StandIn):
    """Stand-in for ``api.line.me`` and ``api-data.line.me`` (one server for both).

    ``strict_ids=True`` additionally requires ``to``/``chatId`` to look like real LINE IDs
    (``U``/``C``/``R`` + 32 hex digits); by default any non-empty string is accepted.

    Message content (images, audio, files users sent) is served at
    ``GET /v2/bot/message/{messageId}/content`` from ``put_content()``; ``contents`` maps
    message id -> ``{"data": bytes, "content_type": str}``.  An unknown id answers 404
    ``{"message": "Not found"}`` as LINE does (also for content LINE no longer keeps), which is
    recorded in ``rejections`` but not in ``errors``.
    """

    DEFAULT_PROFILE = {
        "displayName": "Nimo Tester",
        "pictureUrl": "https://profile.line-scdn.net/test.png",
        "statusMessage": "hello",
        "language": "ja",
    }
    BOT_INFO = {
        "userId": "U" + "0" * 31 + "b",
        "basicId": "@nimo-test",
        "displayName": "Nimo",
        "chatMode": "bot",
        "markAsReadMode": "auto",
    }
    MAX_MESSAGES = 5
    MAX_TEXT = 5000
    MAX_ALT_TEXT = 1500
    MAX_TEMPLATE_ALT_TEXT = 400
    MAX_BUBBLES = 12
    MAX_CAROUSEL_BYTES = 50 * 1024
    MAX_BUBBLE_BYTES = 30 * 1024
    MAX_QUICK_REPLY_ITEMS = 13
    MAX_QUICK_REPLY_LABEL = 20
    MAX_TEMPLATE_LABEL = 20
    MAX_FLEX_LABEL = 40
    MAX_POSTBACK_DATA = 300
    MAX_DISPLAY_TEXT = 300
    MAX_RICH_MENU_IMAGE_BYTES = 1024 * 1024

    def __init__(self, access_token: str = "test-line-token", *, strict_ids: bool = False):
        self.access_token = access_token
        self.strict_ids = strict_ids
        super().__init__()

    def _init_state(self) -> None:
        super()._init_state()
        self.delivered: list[dict] = []
        self.used_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.accepted_retry_keys: dict[str, dict] = {}  # key -> {"request_id", "sent"}
        self.loading: list[dict] = []  # accepted show-loading-animation requests
        self.rich_menus: dict[str, dict] = {}  # id -> {"request": dict, "image": dict | None}
        self.default_rich_menu: str | None = None
        self.user_rich_menus: dict[str, str] = {}
        self.profiles: dict[str, dict] = {}
        self.contents: dict[str, dict] = {}  # message id -> {"data", "content_type"}
        self._rich_menu_seq = 0
        self._message_seq = 0

    # -- helpers for tests -------------------------------------------------------------------
    def expire_token(self, token: str) -> None:
        """Make ``token`` answer 400 Invalid reply token (as if it were older than allowed)."""
        with self._lock:
            self.expired_tokens.add(token)

    def put_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """Hold ``data`` as the content of message ``message_id`` (what a user sent), to be
        fetched with ``MessagingApiBlob.get_message_content(message_id)``."""
        if not isinstance(message_id, str) or not message_id or "/" in message_id:
            raise ValueError("message_id must be a non-empty string without '/'")
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("data must be bytes")
        if not isinstance(content_type, str) or "/" not in content_type:
            raise ValueError("content_type must be a MIME type such as 'image/jpeg'")
        with self._lock:
            self.contents[message_id] = {"data": bytes(data), "content_type": content_type}

    def messages(self) -> list[dict]:
        """All delivered message dicts, in delivery order."""
        with self._lock:
            return [m for d in self.delivered for m in d["messages"]]

    def texts(self) -> list[str]:
        """The ``text`` of every delivered text message."""
        return [m["text"] for m in self.messages() if m.get("type") in ("text", "textV2")]

    # -- response plumbing -------------------------------------------------------------------
    def _common_headers(self) -> dict:
        return {"X-Line-Request-Id": uuid.uuid4().hex}

    def _error_body(self, status: int, message: str | None) -> Any:
        if message:
            return {"message": message}
        defaults = {
            400: "The request body has 1 error(s)",
            401: "Authentication failed. Confirm that the access token in the authorization header is valid.",
            403: "Access to this API is not available for your account",
            404: "Not found",
            409: "The retry key is already accepted",
            429: "The API rate limit has been exceeded. Try again later.",
            500: "An error occurred in the server",
            503: "Service temporarily unavailable",
        }
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return {"message": defaults.get(status, phrase)}

    def _fail(self, rec: dict, status: int, message: str, details: list[dict] | None = None,
              *, client_error: bool = True, headers: dict | None = None, extra: dict | None = None) -> _Response:
        body: dict = {"message": message}
        if details:
            body["details"] = details
        if extra:
            body.update(extra)
        if client_error:
            where = f"{rec['method']} {rec['path']}"
            if details:
                for d in details:
                    self.errors.append(f"{where}: {d.get('property', '')}: {d.get('message', '')}")
            else:
                self.errors.append(f"{where}: {message}")
        reason = message if not details else message + ": " + "; ".join(
            f"{d.get('property')}: {d.get('message')}" for d in details)
        return _Response(status, body, headers, reason=reason)

    def _invalid(self, rec: dict, details: list[dict]) -> _Response:
        return self._fail(rec, 400, f"The request body has {len(details)} error(s)", details)

    # -- routing -----------------------------------------------------------------------------
    def _dispatch(self, rec: dict) -> _Response:
        method, path = rec["method"], rec["path"]
        route = self._route(method, path)
        if route is None:
            return self._fail(rec, 404, "Not found")
        auth = rec["headers"].get("Authorization")
        if auth != f"Bearer {self.access_token}":
            return self._fail(rec, 401, "Authentication failed. Confirm that the access token in "
                                        "the authorization header is valid.")
        retry_key = rec["headers"].get("X-Line-Retry-Key")
        handler, args, json_body = route
        if retry_key is not None and handler.__name__ not in ("_push", "_multicast", "_broadcast"):
            return self._invalid(rec, [{"message": "The retry key is not supported for this API",
                                        "property": "X-Line-Retry-Key"}])
        if json_body:
            ctype = (rec["headers"].get("Content-Type") or "").lower()
            if "application/json" not in ctype:
                return self._fail(rec, 415, f"Unsupported Content-Type: {ctype or '(none)'}")
            if rec["json"] is None:
                return self._fail(rec, 400, "The request body is not valid JSON")
        return handler(rec, *args)

    def _route(self, method: str, path: str):
        p = path.rstrip("/") if path != "/" else path
        table = [  # (method, path, handler, takes a JSON body)
            ("POST", r"/v2/bot/message/reply", self._reply, True),
            ("POST", r"/v2/bot/message/push", self._push, True),
            ("POST", r"/v2/bot/message/multicast", self._multicast, True),
            ("POST", r"/v2/bot/message/broadcast", self._broadcast, True),
            ("POST", r"/v2/bot/chat/loading/start", self._loading, True),
            ("POST", r"/v2/bot/richmenu", self._create_rich_menu, True),
            ("GET", r"/v2/bot/richmenu/list", self._list_rich_menus, False),
            ("POST", r"/v2/bot/richmenu/([^/]+)/content", self._upload_image, False),
            ("GET", r"/v2/bot/richmenu/([^/]+)/content", self._download_image, False),
            ("GET", r"/v2/bot/richmenu/([^/]+)", self._get_rich_menu, False),
            ("DELETE", r"/v2/bot/richmenu/([^/]+)", self._delete_rich_menu, False),
            ("POST", r"/v2/bot/user/all/richmenu/([^/]+)", self._set_default, False),
            ("GET", r"/v2/bot/user/all/richmenu", self._get_default, False),
            ("DELETE", r"/v2/bot/user/all/richmenu", self._cancel_default, False),
            ("POST", r"/v2/bot/user/([^/]+)/richmenu/([^/]+)", self._link_user, False),
            ("GET", r"/v2/bot/profile/([^/]+)", self._profile, False),
            ("GET", r"/v2/bot/message/([^/]+)/content", self._message_content, False),
            ("GET", r"/v2/bot/info", self._bot_info, False),
        ]
        for m, pattern, handler, json_body in table:
            if m == method:
                match = re.fullmatch(pattern, p)
                if match:
                    return handler, match.groups(), json_body
        return None

    # -- message endpoints -------------------------------------------------------------------
    def _reply(self, rec: dict) -> _Response:
        from linebot.v3.messaging.models import ReplyMessageRequest

        obj = rec["json"]
        details = self._check_request_shape(obj, ("replyToken",))
        if details:
            return self._invalid(rec, details)
        details = self._check_messages(obj.get("messages"))
        if not details:
            details = self._model_errors(ReplyMessageRequest, rec["body"], obj)
        if details:
            return self._invalid(rec, details)
        token = obj["replyToken"]
        if token in self.used_tokens or token in self.expired_tokens:
            return self._fail(rec, 400, "Invalid reply token", client_error=False)
        self.used_tokens.add(token)
        sent = self._deliver(rec, "reply", None, obj, retry_key=None, reply_token=token)
        return _Response(200, {"sentMessages": sent})

    def _push(self, rec: dict) -> _Response:
        from linebot.v3.messaging.models import PushMessageRequest
        return self._send_messages(rec, "push", PushMessageRequest, ("to",))

    def _multicast(self, rec: dict) -> _Response:
        from linebot.v3.messaging.models import MulticastRequest
        return self._send_messages(rec, "multicast", MulticastRequest, ("to",))

    def _broadcast(self, rec: dict) -> _Response:
        from linebot.v3.messaging.models import BroadcastRequest
        return self._send_messages(rec, "broadcast", BroadcastRequest, ())

    def _send_messages(self, rec: dict, kind: str, model, required: tuple) -> _Response:
        obj = rec["json"]
        retry_key = rec["headers"].get("X-Line-Retry-Key")
        if retry_key is not None and not _UUID_RE.match(retry_key):
            return self._invalid(rec, [{"message": "The retry key must be a UUID in hexadecimal format",
                                        "property": "X-Line-Retry-Key"}])
        if retry_key is not None and retry_key in self.accepted_retry_keys:
            prior = self.accepted_retry_keys[retry_key]
            return self._fail(rec, 409, "The retry key is already accepted", client_error=False,
                              headers={"X-Line-Accepted-Request-Id": prior["request_id"]},
                              extra={"sentMessages": prior["sent"]} if prior["sent"] else None)
        details = self._check_request_shape(obj, required)
        if details:
            return self._invalid(rec, details)
        if kind == "push":
            details += self._check_id(obj["to"], "to")
        elif kind == "multicast":
            to = obj["to"]
            if not isinstance(to, list) or not 1 <= len(to) <= 500:
                details.append({"message": "Size must be between 1 and 500", "property": "to"})
            else:
                for i, t in enumerate(to):
                    details += self._check_id(t, f"to[{i}]")
        details += self._check_messages(obj.get("messages"))
        if not details:
            details = self._model_errors(model, rec["body"], obj)
        if details:
            return self._invalid(rec, details)
        to = obj.get("to") if kind != "broadcast" else None
        sent = self._deliver(rec, kind, to, obj, retry_key=retry_key, reply_token=None)
        if kind == "push":
            return _Response(200, {"sentMessages": sent})
        return _Response(200, {})

    def _deliver(self, rec: dict, kind: str, to, obj: dict, *, retry_key, reply_token) -> list[dict]:
        request_id = uuid.uuid4().hex
        sent = []
        for _ in obj["messages"]:
            self._message_seq += 1
            sent.append({"id": str(500000000000000000 + self._message_seq),
                         "quoteToken": f"q{self._message_seq:08d}"})
        self.delivered.append({
            "kind": kind,
            "to": to,
            "reply_token": reply_token,
            "retry_key": retry_key,
            "messages": obj["messages"],
            "notification_disabled": bool(obj.get("notificationDisabled", False)),
            "request_id": request_id,
            "sent": sent,
        })
        if retry_key is not None:
            self.accepted_retry_keys[retry_key] = {"request_id": request_id, "sent": sent}
        return sent

    def _loading(self, rec: dict) -> _Response:
        from linebot.v3.messaging.models import ShowLoadingAnimationRequest

        obj = rec["json"]
        details = self._check_request_shape(obj, ("chatId",), messages=False)
        if not details:
            details += self._check_id(obj["chatId"], "chatId")
            secs = obj.get("loadingSeconds")
            if secs is not None and (not isinstance(secs, int) or isinstance(secs, bool)
                                     or not 5 <= secs <= 60 or secs % 5):
                details.append({"message": "Must be a multiple of 5 between 5 and 60",
                                "property": "loadingSeconds"})
        if not details:
            details = self._model_errors(ShowLoadingAnimationRequest, rec["body"], obj)
        if details:
            return self._invalid(rec, details)
        self.loading.append(obj)
        return _Response(202, {})

    # -- rich menus --------------------------------------------------------------------------
    def _create_rich_menu(self, rec: dict) -> _Response:
        from linebot.v3.messaging.models import RichMenuRequest

        obj = rec["json"]
        if not isinstance(obj, dict):
            return self._invalid(rec, [{"message": "Must be a JSON object", "property": ""}])
        details = []
        for key in ("size", "selected", "name", "chatBarText", "areas"):
            if key not in obj:
                details.append({"message": "Required", "property": key})
        size = obj.get("size")
        if isinstance(size, dict):
            w, hgt = size.get("width"), size.get("height")
            if not (isinstance(w, int) and isinstance(hgt, int) and 800 <= w <= 2500 and hgt >= 250
                    and w / hgt >= 1.45):
                details.append({"message": "Width must be 800-2500, height at least 250, "
                                           "width/height at least 1.45", "property": "size"})
        if isinstance(obj.get("chatBarText"), str) and _u16(obj["chatBarText"]) > 14:
            details.append({"message": "Length must be between 0 and 14", "property": "chatBarText"})
        areas = obj.get("areas")
        if isinstance(areas, list):
            if len(areas) > 20:
                details.append({"message": "Size must be between 0 and 20", "property": "areas"})
            for i, area in enumerate(areas):
                if isinstance(area, dict) and isinstance(area.get("action"), dict):
                    details += self._check_action(area["action"], f"areas[{i}].action",
                                                  label_max=self.MAX_TEMPLATE_LABEL)
                else:
                    details.append({"message": "Required", "property": f"areas[{i}].action"})
        if not details:
            details = self._model_errors(RichMenuRequest, rec["body"], obj)
        if details:
            return self._invalid(rec, details)
        self._rich_menu_seq += 1
        rid = f"richmenu-{self._rich_menu_seq}"
        self.rich_menus[rid] = {"request": obj, "image": None}
        return _Response(200, {"richMenuId": rid})

    def _rich_menu_response(self, rid: str) -> dict:
        return {"richMenuId": rid, **self.rich_menus[rid]["request"]}

    def _list_rich_menus(self, rec: dict) -> _Response:
        return _Response(200, {"richmenus": [self._rich_menu_response(r) for r in self.rich_menus]})

    def _get_rich_menu(self, rec: dict, rid: str) -> _Response:
        if rid not in self.rich_menus:
            return self._fail(rec, 404, "Not found", client_error=False)
        return _Response(200, self._rich_menu_response(rid))

    def _delete_rich_menu(self, rec: dict, rid: str) -> _Response:
        if rid not in self.rich_menus:
            return self._fail(rec, 404, "Not found", client_error=False)
        del self.rich_menus[rid]
        if self.default_rich_menu == rid:
            self.default_rich_menu = None
        self.user_rich_menus = {u: r for u, r in self.user_rich_menus.items() if r != rid}
        return _Response(200, {})

    def _upload_image(self, rec: dict, rid: str) -> _Response:
        if rid not in self.rich_menus:
            return self._fail(rec, 404, "Not found", client_error=False)
        ctype = (rec["headers"].get("Content-Type") or "").split(";")[0].strip().lower()
        data = rec["body"]
        if ctype not in ("image/png", "image/jpeg"):
            return self._fail(rec, 415, f"Content-Type must be image/png or image/jpeg, got {ctype or '(none)'}")
        if not data:
            return self._fail(rec, 400, "The request body is empty")
        if len(data) > self.MAX_RICH_MENU_IMAGE_BYTES:
            return self._fail(rec, 413, f"Image too large: {len(data)} bytes (max 1 MB)")
        dims = _png_size(data) if ctype == "image/png" else _jpeg_size(data)
        if dims is None:
            return self._fail(rec, 400, f"The body is not a valid {ctype} image")
        size = self.rich_menus[rid]["request"].get("size") or {}
        if (size.get("width"), size.get("height")) != dims:
            return self._fail(rec, 400, f"Image size {dims[0]}x{dims[1]} does not match the rich menu "
                                        f"size {size.get('width')}x{size.get('height')}")
        if self.rich_menus[rid]["image"] is not None:
            return self._fail(rec, 400, "An image has already been uploaded to the richmenu")
        self.rich_menus[rid]["image"] = {"content_type": ctype, "size": len(data),
                                         "width": dims[0], "height": dims[1], "data": data}
        return _Response(200, {})

    def _download_image(self, rec: dict, rid: str) -> _Response:
        menu = self.rich_menus.get(rid)
        if menu is None or menu["image"] is None:
            return self._fail(rec, 404, "Not found", client_error=False)
        return _Response(200, menu["image"]["data"], {"Content-Type": menu["image"]["content_type"]})

    def _set_default(self, rec: dict, rid: str) -> _Response:
        if rid not in self.rich_menus:
            return self._fail(rec, 404, "Not found", client_error=False)
        if self.rich_menus[rid]["image"] is None:
            return self._fail(rec, 400, "must upload richmenu image before applying it to user")
        self.default_rich_menu = rid
        return _Response(200, {})

    def _get_default(self, rec: dict) -> _Response:
        if self.default_rich_menu is None:
            return self._fail(rec, 404, "no default richmenu", client_error=False)
        return _Response(200, {"richMenuId": self.default_rich_menu})

    def _cancel_default(self, rec: dict) -> _Response:
        self.default_rich_menu = None
        return _Response(200, {})

    def _link_user(self, rec: dict, user_id: str, rid: str) -> _Response:
        if rid not in self.rich_menus:
            return self._fail(rec, 404, "Not found", client_error=False)
        if self.rich_menus[rid]["image"] is None:
            return self._fail(rec, 400, "must upload richmenu image before applying it to user")
        self.user_rich_menus[user_id] = rid
        return _Response(200, {})

    # -- message content (api-data.line.me) --------------------------------------------------
    def _message_content(self, rec: dict, message_id: str) -> _Response:
        content = self.contents.get(message_id)
        if content is None:
            return self._fail(rec, 404, "Not found", client_error=False)
        return _Response(200, content["data"], {"Content-Type": content["content_type"]})

    # -- profile / bot info ------------------------------------------------------------------
    def _profile(self, rec: dict, user_id: str) -> _Response:
        profile = dict(self.DEFAULT_PROFILE)
        profile.update(self.profiles.get(user_id, {}))
        profile["userId"] = user_id
        return _Response(200, profile)

    def _bot_info(self, rec: dict) -> _Response:
        return _Response(200, dict(self.BOT_INFO))

    # -- validation --------------------------------------------------------------------------
    def _check_request_shape(self, obj: Any, required: tuple, messages: bool = True) -> list[dict]:
        if not isinstance(obj, dict):
            return [{"message": "The request body must be a JSON object", "property": ""}]
        details = []
        for key in required:
            v = obj.get(key)
            if key == "to" and isinstance(v, list):
                continue
            if not isinstance(v, str) or not v:
                details.append({"message": "Must not be empty", "property": key})
        if messages:
            msgs = obj.get("messages")
            if not isinstance(msgs, list) or not 1 <= len(msgs) <= self.MAX_MESSAGES:
                n = len(msgs) if isinstance(msgs, list) else "no"
                details.append({"message": f"Size must be between 1 and {self.MAX_MESSAGES} (got {n})",
                                "property": "messages"})
        return details

    def _check_id(self, value: Any, prop: str) -> list[dict]:
        if not isinstance(value, str) or not value:
            return [{"message": "Must not be empty", "property": prop}]
        if self.strict_ids and not _LINE_ID_RE.match(value):
            return [{"message": f"The property, '{prop}', in the request body is invalid", "property": prop}]
        return []

    @staticmethod
    def _model_errors(model, raw: bytes, obj: Any) -> list[dict]:
        try:
            model.from_json(raw.decode("utf-8"))
        except Exception as exc:  # pydantic ValidationError, discriminator ValueError/KeyError...
            return [{"message": _first_line(exc), "property": ""}]
        return []

    def _check_messages(self, msgs: Any) -> list[dict]:
        from linebot.v3.messaging.models import Message

        details: list[dict] = []
        if not isinstance(msgs, list):
            return details
        for i, m in enumerate(msgs):
            where = f"messages[{i}]"
            if not isinstance(m, dict) or not isinstance(m.get("type"), str):
                details.append({"message": "A message object with a 'type' is required", "property": where})
                continue
            details += self._check_message_limits(m, where)
            try:
                Message.from_dict(m)
            except Exception as exc:
                details.append({"message": _first_line(exc), "property": where})
        return details

    def _check_message_limits(self, m: dict, where: str) -> list[dict]:
        d: list[dict] = []
        t = m["type"]

        def too_long(prop: str, value: Any, limit: int) -> None:
            if isinstance(value, str) and _u16(value) > limit:
                d.append({"message": f"Length must be between 0 and {limit} (got {_u16(value)})",
                          "property": f"{where}.{prop}"})

        if t in ("text", "textV2"):
            if not isinstance(m.get("text"), str) or m.get("text") == "":
                d.append({"message": "Must not be empty", "property": f"{where}.text"})
            too_long("text", m.get("text"), self.MAX_TEXT)
        elif t == "flex":
            alt = m.get("altText")
            if not isinstance(alt, str) or not alt:
                d.append({"message": "Must not be empty", "property": f"{where}.altText"})
            too_long("altText", alt, self.MAX_ALT_TEXT)
            if isinstance(m.get("contents"), dict):
                d += self._check_flex_container(m["contents"], f"{where}.contents")
        elif t == "template":
            too_long("altText", m.get("altText"), self.MAX_TEMPLATE_ALT_TEXT)
            d += self._check_template(m.get("template"), f"{where}.template")
        d += self._check_urls(m, where)
        qr = m.get("quickReply")
        if qr is not None:
            d += self._check_quick_reply(qr, f"{where}.quickReply")
        sender = m.get("sender")
        if isinstance(sender, dict):
            too_long("sender.name", sender.get("name"), 20)
        return d

    def _check_quick_reply(self, qr: Any, where: str) -> list[dict]:
        d: list[dict] = []
        items = qr.get("items") if isinstance(qr, dict) else None
        if not isinstance(items, list) or not items:
            return [{"message": "Must have 1 to 13 items", "property": f"{where}.items"}]
        if len(items) > self.MAX_QUICK_REPLY_ITEMS:
            d.append({"message": f"Size must be between 1 and {self.MAX_QUICK_REPLY_ITEMS} (got {len(items)})",
                      "property": f"{where}.items"})
        for i, item in enumerate(items):
            iw = f"{where}.items[{i}]"
            if not isinstance(item, dict) or item.get("type", "action") != "action":
                d.append({"message": "type must be 'action'", "property": f"{iw}.type"})
                continue
            action = item.get("action")
            if not isinstance(action, dict):
                d.append({"message": "Required", "property": f"{iw}.action"})
                continue
            d += self._check_action(action, f"{iw}.action", label_max=self.MAX_QUICK_REPLY_LABEL,
                                    label_required=True)
        return d

    def _check_action(self, a: dict, where: str, *, label_max: int, label_required: bool = False) -> list[dict]:
        d: list[dict] = []

        def limit(prop: str, n: int, required: bool = False) -> None:
            v = a.get(prop)
            if v is None:
                if required:
                    d.append({"message": "Required", "property": f"{where}.{prop}"})
                return
            if not isinstance(v, str):
                d.append({"message": "Must be a string", "property": f"{where}.{prop}"})
            elif _u16(v) > n:
                d.append({"message": f"Length must be between 0 and {n} (got {_u16(v)})",
                          "property": f"{where}.{prop}"})
            elif required and v == "":
                d.append({"message": "Must not be empty", "property": f"{where}.{prop}"})

        t = a.get("type")
        limit("label", label_max, required=label_required)
        if t == "postback":
            limit("data", self.MAX_POSTBACK_DATA, required=True)
            limit("displayText", self.MAX_DISPLAY_TEXT)
            limit("text", 300)
            limit("fillInText", 300)
            if a.get("displayText") is not None and a.get("text") is not None:
                d.append({"message": "displayText and text cannot both be set", "property": where})
        elif t == "message":
            limit("text", 300, required=True)
        elif t == "uri":
            limit("uri", 1000, required=True)
            uri = a.get("uri")
            if isinstance(uri, str) and not re.match(r"^(https?|line|tel):", uri):
                d.append({"message": "The scheme must be http, https, line or tel", "property": f"{where}.uri"})
        elif t == "datetimepicker":
            limit("data", self.MAX_POSTBACK_DATA, required=True)
            if a.get("mode") not in ("date", "time", "datetime"):
                d.append({"message": "mode must be date, time or datetime", "property": f"{where}.mode"})
        elif t == "clipboard":
            limit("clipboardText", 1000, required=True)
        elif t == "richmenuswitch":
            limit("data", self.MAX_POSTBACK_DATA, required=True)
            limit("richMenuAliasId", 32, required=True)
        elif t not in ("camera", "cameraRoll", "location"):
            d.append({"message": f"Unknown action type {t!r}", "property": f"{where}.type"})
        return d

    def _check_flex_container(self, c: dict, where: str) -> list[dict]:
        d: list[dict] = []
        t = c.get("type")
        if t == "carousel":
            bubbles = c.get("contents")
            if not isinstance(bubbles, list) or not 1 <= len(bubbles) <= self.MAX_BUBBLES:
                n = len(bubbles) if isinstance(bubbles, list) else "no"
                d.append({"message": f"Size must be between 1 and {self.MAX_BUBBLES} (got {n})",
                          "property": f"{where}.contents"})
            size = _json_size(c)
            if size > self.MAX_CAROUSEL_BYTES:
                d.append({"message": f"The carousel is {size} bytes; the maximum is {self.MAX_CAROUSEL_BYTES}",
                          "property": where})
            for i, b in enumerate(bubbles if isinstance(bubbles, list) else []):
                if isinstance(b, dict):
                    d += self._check_bubble(b, f"{where}.contents[{i}]")
        elif t == "bubble":
            d += self._check_bubble(c, where)
        return d

    def _check_bubble(self, b: dict, where: str) -> list[dict]:
        d: list[dict] = []
        if b.get("type") != "bubble":
            d.append({"message": "A carousel may only contain bubbles", "property": f"{where}.type"})
        size = _json_size(b)
        if size > self.MAX_BUBBLE_BYTES:
            d.append({"message": f"The bubble is {size} bytes; the maximum is {self.MAX_BUBBLE_BYTES}",
                      "property": where})
        for block in ("header", "hero", "body", "footer"):
            comp = b.get(block)
            if isinstance(comp, dict):
                d += self._check_component(comp, f"{where}.{block}")
        if isinstance(b.get("action"), dict):
            d += self._check_action(b["action"], f"{where}.action", label_max=self.MAX_FLEX_LABEL)
        return d

    def _check_component(self, comp: dict, where: str) -> list[dict]:
        d: list[dict] = []
        t = comp.get("type")
        if t == "box":
            if not isinstance(comp.get("contents"), list):
                d.append({"message": "Required", "property": f"{where}.contents"})
            for i, child in enumerate(comp.get("contents") or []):
                if isinstance(child, dict):
                    d += self._check_component(child, f"{where}.contents[{i}]")
        elif t == "text":
            if not comp.get("text") and not comp.get("contents"):
                d.append({"message": "text or contents is required", "property": f"{where}.text"})
        elif t == "button":
            if not isinstance(comp.get("action"), dict):
                d.append({"message": "Required", "property": f"{where}.action"})
            else:
                d += self._check_action(comp["action"], f"{where}.action", label_max=self.MAX_FLEX_LABEL,
                                        label_required=True)
                return d
        elif t in ("image", "icon"):
            url = comp.get("url")
            if not isinstance(url, str) or not url.startswith("https://") or len(url) > 2000:
                d.append({"message": "Must be an https URL of at most 2000 characters",
                          "property": f"{where}.url"})
        if isinstance(comp.get("action"), dict):
            d += self._check_action(comp["action"], f"{where}.action", label_max=self.MAX_FLEX_LABEL)
        return d

    def _check_template(self, tpl: Any, where: str) -> list[dict]:
        d: list[dict] = []
        if not isinstance(tpl, dict):
            return d
        t = tpl.get("type")
        if t in ("buttons", "confirm"):
            actions = tpl.get("actions") or []
            limit_n = 4 if t == "buttons" else 2
            if not isinstance(actions, list) or not 1 <= len(actions) <= limit_n:
                d.append({"message": f"Size must be between 1 and {limit_n}", "property": f"{where}.actions"})
            for i, a in enumerate(actions if isinstance(actions, list) else []):
                if isinstance(a, dict):
                    d += self._check_action(a, f"{where}.actions[{i}]", label_max=self.MAX_TEMPLATE_LABEL,
                                            label_required=True)
        elif t in ("carousel", "image_carousel"):
            cols = tpl.get("columns") or []
            if not isinstance(cols, list) or not 1 <= len(cols) <= 10:
                d.append({"message": "Size must be between 1 and 10", "property": f"{where}.columns"})
            for i, col in enumerate(cols if isinstance(cols, list) else []):
                if not isinstance(col, dict):
                    continue
                acts = col.get("actions") or ([col["action"]] if isinstance(col.get("action"), dict) else [])
                if len(acts) > 3:
                    d.append({"message": "Size must be between 1 and 3", "property": f"{where}.columns[{i}].actions"})
                for j, a in enumerate(acts):
                    if isinstance(a, dict):
                        d += self._check_action(a, f"{where}.columns[{i}].actions[{j}]",
                                                label_max=self.MAX_TEMPLATE_LABEL)
        return d

    def _check_urls(self, obj: Any, where: str) -> list[dict]:
        d: list[dict] = []

        def walk(x: Any, path: str) -> None:
            if isinstance(x, dict):
                for k, v in x.items():
                    if k in _URL_KEYS and isinstance(v, str):
                        if not v.startswith("https://") or len(v) > 2000:
                            d.append({"message": "Must be an https URL of at most 2000 characters",
                                      "property": f"{path}.{k}"})
                    else:
                        walk(v, f"{path}.{k}")
            elif isinstance(x, list):
                for i, v in enumerate(x):
                    walk(v, f"{path}[{i}]")

        walk(obj, where)
        return d


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        seg_len = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if i + 9 > len(data):
                return None
            h = int.from_bytes(data[i + 5:i + 7], "big")
            w = int.from_bytes(data[i + 7:i + 9], "big")
            return w, h
        i += 2 + seg_len
    return None


# ---------------------------------------------------------------------------------------------
# Slack Web API
# ---------------------------------------------------------------------------------------------

class SlackStandIn(_StandIn):
    """Stand-in for ``https://slack.com/api/`` plus slash-command ``response_url``s.

    API methods are answered at ``/api/<method>`` (POST; GET with a query string also works).
    ``response_url`` posts are answered at ``/response/<anything>`` (use ``response_url()`` to
    make one).  ``users`` maps user id -> extra fields for ``users.info``.

    Files, both directions:

    * ``WebClient.files_upload_v2``: ``files.getUploadURLExternal`` (filename, length) hands out
      a ``file_id`` and an ``upload_url`` ``{url}/upload/<file_id>``; the bytes are POSTed there
      raw, without a token (answer 200 ``OK - <length>``; ``pending_uploads`` holds them);
      ``files.completeUploadExternal`` (``files`` = JSON list of ``{id, title}``, ``channel_id``
      or ``channels``, optional ``initial_comment`` / ``thread_ts``) shares them.  Each shared
      file is appended to ``uploads`` as ``{"file_id", "filename", "title", "channel",
      "channels", "initial_comment", "thread_ts", "bytes", "content_type", "file"}``
      (``channel`` is the first of ``channels``, None for a private file; ``content_type`` is the
      upload POST's header as sent) and becomes readable like ``put_file()`` files.  It is not
      added to ``posted``.
    * ``put_file()`` registers a file someone shared; ``files.info`` (file=ID) returns it and a
      GET of its ``url_private`` / ``url_private_download`` (``{url}/files-pri/T1-<id>/...``)
      returns the bytes, with ``Authorization: Bearer <bot_token>`` only (else 403).
    """

    TEAM_ID = "T1"
    TEAM = "nimo-test"
    BOT_USER_ID = "UBOT"
    BOT_ID = "BBOT"
    MAX_BLOCKS = 50
    MAX_VIEW_BLOCKS = 100
    MAX_TEXT = 40000
    JSON_FIELDS = ("blocks", "view", "attachments", "metadata")

    def __init__(self, bot_token: str = "xoxb-test"):
        self.bot_token = bot_token
        super().__init__()

    def _init_state(self) -> None:
        super()._init_state()
        self.posted: list[dict] = []
        self.views: dict[str, dict] = {}
        self.messages_by_ts: dict[tuple[str, str], dict] = {}
        self.users: dict[str, dict] = {}
        self.uploads: list[dict] = []
        self.pending_uploads: dict[str, dict] = {}  # file id -> getUploadURLExternal args + bytes
        self.files: dict[str, dict] = {}  # file id -> {"file": file object, "data": bytes}
        self._seq = 0

    # -- helpers for tests -------------------------------------------------------------------
    def response_url(self, name: str = "cmd") -> str:
        """A ``response_url`` pointing at this stand-in."""
        return f"{self.url}/response/{name}"

    def texts(self) -> list[str]:
        with self._lock:
            return [p["text"] for p in self.posted if p.get("text")]

    def put_file(self, file_id: str, data: bytes, *, mimetype: str = "image/jpeg", name: str = "photo.jpg",
                 user: str = "U1") -> dict:
        """Register a file shared in Slack (e.g. a photo a user posted); returns its file object
        ``{"id", "name", "mimetype", "size", "url_private", "url_private_download", "user"}``
        with URLs on this stand-in.  The server must be running (the URLs include its port)."""
        if not self.url:
            raise RuntimeError("start the stand-in before put_file(): the file URLs need its address")
        if not isinstance(file_id, str) or not re.fullmatch(r"[A-Za-z0-9]+", file_id):
            raise ValueError("file_id must be alphanumeric, like 'F0123ABC'")
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("data must be bytes")
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError("name must be a non-empty file name without '/'")
        if not isinstance(mimetype, str) or "/" not in mimetype:
            raise ValueError("mimetype must be a MIME type such as 'image/jpeg'")
        with self._lock:
            return dict(self._register_file(file_id, bytes(data), name=name, mimetype=mimetype, user=user))

    def _register_file(self, file_id: str, data: bytes, *, name: str, mimetype: str, user: str,
                       **extra) -> dict:
        base = f"{self.url}/files-pri/{self.TEAM_ID}-{file_id}"
        file = {
            "id": file_id,
            "name": name,
            "mimetype": mimetype,
            "size": len(data),
            "url_private": f"{base}/{quote(name)}",
            "url_private_download": f"{base}/download/{quote(name)}",
            "user": user,
        }
        file.update(extra)
        self.files[file_id] = {"file": file, "data": data}
        return file

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _ts(self) -> str:
        n = self._next()
        return f"{1700000000 + n}.{n:06d}"

    # -- response plumbing -------------------------------------------------------------------
    def _common_headers(self) -> dict:
        return {"X-Slack-Req-Id": uuid.uuid4().hex}

    def _error_body(self, status: int, message: str | None) -> Any:
        if message:
            return {"ok": False, "error": message}
        if status == 429:
            return {"ok": False, "error": "ratelimited"}
        if status >= 500:
            return {"ok": False, "error": "internal_error"}
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        return {"ok": False, "error": phrase.lower().replace(" ", "_")}

    def _fail(self, rec: dict, error: str, detail: str = "", *, status: int = 200,
              client_error: bool = True, extra: dict | None = None) -> _Response:
        body = {"ok": False, "error": error}
        if extra:
            body.update(extra)
        reason = f"{error}: {detail}" if detail else error
        if client_error:
            self.errors.append(f"{rec['method']} {rec['path']}: {reason}")
        return _Response(status, body, reason=reason)

    # -- decoding ----------------------------------------------------------------------------
    def _args(self, rec: dict) -> tuple[dict, str | None]:
        """Decode the call's arguments from JSON, form or query string.  Returns (args, problem)."""
        ctype = (rec["headers"].get("Content-Type") or "").lower()
        args: dict = dict(rec["query"])
        problem = None
        if rec["body"]:
            if "application/json" in ctype:
                if isinstance(rec["json"], dict):
                    args.update(rec["json"])
                else:
                    problem = "invalid_json"
            elif "application/x-www-form-urlencoded" in ctype or not ctype:
                form = {k: v[-1] for k, v in parse_qs(rec["body"].decode("utf-8"),
                                                        keep_blank_values=True).items()}
                rec["form"] = form
                args.update(form)
            else:
                problem = "invalid_form_data"
        for key in self.JSON_FIELDS:
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    problem = problem or f"invalid_{key}"
        rec["args"] = args
        return args, problem

    # -- routing -----------------------------------------------------------------------------
    def _dispatch(self, rec: dict) -> _Response:
        path = rec["path"]
        if path.startswith("/response/") and rec["method"] == "POST":
            return self._response_url(rec)
        if path.startswith("/upload/") and rec["method"] == "POST":
            return self._upload_bytes(rec)
        if path.startswith("/files-pri/") and rec["method"] == "GET":
            return self._file_download(rec)
        if not path.startswith("/api/") or rec["method"] not in ("POST", "GET"):
            return self._fail(rec, "unknown_method", f"{rec['method']} {path}", status=404)
        method = path[len("/api/"):]
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._chat_update,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
        }.get(method)
        if handler is None:
            return self._fail(rec, "unknown_method", method, status=404, extra={"req_method": method})
        args, problem = self._args(rec)
        auth = rec["headers"].get("Authorization")
        token = auth[len("Bearer "):] if isinstance(auth, str) and auth.startswith("Bearer ") else None
        if token is None:
            token = args.pop("token", None)
        else:
            args.pop("token", None)
        if not token:
            return self._fail(rec, "not_authed")
        if token != self.bot_token:
            return self._fail(rec, "invalid_auth")
        if problem:
            return self._fail(rec, problem)
        rec["slack_method"] = method
        return handler(rec, method, args)

    # -- validation --------------------------------------------------------------------------
    def _check_blocks(self, blocks: Any, limit: int) -> str | None:
        """Problem description, or None when Slack would accept the blocks."""
        from slack_sdk.models.blocks import Block

        if not isinstance(blocks, list):
            return "blocks must be an array"
        if len(blocks) > limit:
            return f"{len(blocks)} blocks; at most {limit} are allowed"
        for i, b in enumerate(blocks):
            if not isinstance(b, dict) or not isinstance(b.get("type"), str):
                return f"blocks[{i}] must be an object with a type"
            problem = self._raw_block_problem(b)
            if problem:
                return f"blocks[{i}]: {problem}"
        try:
            parsed = Block.parse_all(blocks)
            for i, blk in enumerate(parsed):
                if blk is None:
                    return f"blocks[{i}]: unknown block type {blocks[i].get('type')!r}"
                blk.validate_json()
                if _contains_none(blk.to_dict()):  # to_dict() validates nested elements too
                    return f"blocks[{i}]: contains an element of unknown type"
        except Exception as exc:
            return f"{_first_line(exc)}"
        return None

    @staticmethod
    def _raw_block_problem(b: dict) -> str | None:
        """Checks slack_sdk's parsers paper over (they coerce strings into text objects)."""
        def text_obj(x: Any, where: str, plain_only: bool = False) -> str | None:
            if x is None:
                return None
            if not isinstance(x, dict) or x.get("type") not in ("plain_text", "mrkdwn"):
                return f"{where} must be a text object"
            if plain_only and x["type"] != "plain_text":
                return f"{where} must be plain_text"
            if not isinstance(x.get("text"), str):
                return f"{where}.text is required"
            return None

        t = b["type"]
        if t == "section":
            p = text_obj(b.get("text"), "text")
            if p:
                return p
            for i, f in enumerate(b.get("fields") or []):
                p = text_obj(f, f"fields[{i}]")
                if p:
                    return p
        if t == "header":
            return text_obj(b.get("text"), "text", plain_only=True) or (
                None if b.get("text") is not None else "text is required")

        def walk_elements(elems: Any) -> str | None:
            for i, e in enumerate(elems if isinstance(elems, list) else []):
                if isinstance(e, dict) and e.get("type") == "button":
                    if e.get("text") is None:
                        return f"elements[{i}].text is required"
                    p = text_obj(e.get("text"), f"elements[{i}].text", plain_only=True)
                    if p:
                        return p
            return None

        if t == "actions":
            return walk_elements(b.get("elements"))
        if isinstance(b.get("accessory"), dict):
            return walk_elements([b["accessory"]])
        return None

    def _check_view(self, view: Any, expected_type: str | None) -> str | None:
        from slack_sdk.models.views import View

        if not isinstance(view, dict):
            return "view must be an object"
        if expected_type and view.get("type") != expected_type:
            return f"view.type must be {expected_type!r}"
        if view.get("type") == "modal" and not view.get("title"):
            return "a modal view needs a title"
        problem = self._check_blocks(view.get("blocks"), self.MAX_VIEW_BLOCKS)
        if problem:
            return problem
        try:
            v = View(**view)
            v.validate_json()
            v.to_dict()
        except Exception as exc:
            return _first_line(exc)
        return None

    def _check_message(self, rec: dict, args: dict, *, need_content: bool = True) -> _Response | None:
        text = args.get("text")
        if text is not None and not isinstance(text, str):
            return self._fail(rec, "invalid_arguments", "text must be a string")
        if isinstance(text, str) and len(text) > self.MAX_TEXT:
            return self._fail(rec, "msg_too_long", f"text is {len(text)} characters")
        if args.get("blocks") is not None:
            problem = self._check_blocks(args["blocks"], self.MAX_BLOCKS)
            if problem:
                return self._fail(rec, "invalid_blocks", problem)
        if need_content and not text and not args.get("blocks") and not args.get("attachments"):
            return self._fail(rec, "no_text")
        return None

    # -- methods -----------------------------------------------------------------------------
    def _auth_test(self, rec: dict, method: str, args: dict) -> _Response:
        return _Response(200, {
            "ok": True,
            "url": f"https://{self.TEAM}.slack.com/",
            "team": self.TEAM,
            "user": "nimo",
            "team_id": self.TEAM_ID,
            "user_id": self.BOT_USER_ID,
            "bot_id": self.BOT_ID,
            "is_enterprise_install": False,
        })

    def _record_post(self, method: str, args: dict, **extra) -> dict:
        entry = {
            "method": method,
            "channel": args.get("channel"),
            "user": args.get("user") or args.get("user_id"),
            "text": args.get("text"),
            "blocks": args.get("blocks"),
            "view": args.get("view"),
            "thread_ts": args.get("thread_ts"),
            "ts": None,
            "args": args,
        }
        entry.update(extra)
        self.posted.append(entry)
        return entry

    def _message_json(self, args: dict, ts: str) -> dict:
        msg = {"type": "message", "text": args.get("text") or "", "user": self.BOT_USER_ID,
               "bot_id": self.BOT_ID, "ts": ts, "team": self.TEAM_ID}
        if args.get("blocks") is not None:
            msg["blocks"] = args["blocks"]
        if args.get("thread_ts"):
            msg["thread_ts"] = args["thread_ts"]
        return msg

    def _post_message(self, rec: dict, method: str, args: dict) -> _Response:
        if not args.get("channel"):
            return self._fail(rec, "channel_not_found", "channel is required")
        bad = self._check_message(rec, args)
        if bad:
            return bad
        ts = self._ts()
        self.messages_by_ts[(args["channel"], ts)] = args
        self._record_post(method, args, ts=ts)
        return _Response(200, {"ok": True, "channel": args["channel"], "ts": ts,
                               "message": self._message_json(args, ts)})

    def _post_ephemeral(self, rec: dict, method: str, args: dict) -> _Response:
        if not args.get("channel"):
            return self._fail(rec, "channel_not_found", "channel is required")
        if not args.get("user"):
            return self._fail(rec, "user_not_in_channel", "user is required")
        bad = self._check_message(rec, args)
        if bad:
            return bad
        ts = self._ts()
        self._record_post(method, args, ts=ts)
        return _Response(200, {"ok": True, "message_ts": ts})

    def _chat_update(self, rec: dict, method: str, args: dict) -> _Response:
        if not args.get("channel"):
            return self._fail(rec, "channel_not_found", "channel is required")
        if not args.get("ts"):
            return self._fail(rec, "message_not_found", "ts is required")
        if (args["channel"], args["ts"]) not in self.messages_by_ts:
            return self._fail(rec, "message_not_found", f"no message {args['ts']} in {args['channel']}")
        bad = self._check_message(rec, args, need_content=False)
        if bad:
            return bad
        self.messages_by_ts[(args["channel"], args["ts"])] = args
        self._record_post(method, args, ts=args["ts"])
        return _Response(200, {"ok": True, "channel": args["channel"], "ts": args["ts"],
                               "text": args.get("text") or "",
                               "message": self._message_json(args, args["ts"])})

    def _view_json(self, view: dict, view_id: str, **extra) -> dict:
        out = {"id": view_id, "team_id": self.TEAM_ID, "app_id": "A1", "bot_id": self.BOT_ID,
               "hash": f"{self._next()}.abc", "private_metadata": "", "callback_id": "",
               "external_id": "", "state": {"values": {}}, "root_view_id": view_id,
               "previous_view_id": None, "clear_on_close": False, "notify_on_close": False}
        out.update(view)
        out.update(extra)
        out["id"] = view_id
        return out

    def _views_publish(self, rec: dict, method: str, args: dict) -> _Response:
        if not args.get("user_id"):
            return self._fail(rec, "invalid_arguments", "user_id is required")
        if "view" not in args:
            return self._fail(rec, "invalid_arguments", "view is required")
        problem = self._check_view(args["view"], "home")
        if problem:
            return self._fail(rec, "invalid_arguments", problem)
        view_id = f"VHOME{args['user_id']}"
        self.views[view_id] = args["view"]
        self._record_post(method, args, view_id=view_id)
        return _Response(200, {"ok": True, "view": self._view_json(args["view"], view_id)})

    def _views_open(self, rec: dict, method: str, args: dict) -> _Response:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return self._fail(rec, "invalid_arguments", "trigger_id is required")
        if "view" not in args:
            return self._fail(rec, "invalid_arguments", "view is required")
        problem = self._check_view(args["view"], "modal")
        if problem:
            return self._fail(rec, "invalid_arguments", problem)
        view_id = f"V{self._next():08d}"
        self.views[view_id] = args["view"]
        self._record_post(method, args, view_id=view_id)
        return _Response(200, {"ok": True, "view": self._view_json(args["view"], view_id)})

    def _views_update(self, rec: dict, method: str, args: dict) -> _Response:
        if "view" not in args:
            return self._fail(rec, "invalid_arguments", "view is required")
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next((k for k, v in self.views.items()
                            if isinstance(v, dict) and v.get("external_id") == args["external_id"]), None)
        if not view_id and not args.get("external_id"):
            return self._fail(rec, "invalid_arguments", "view_id or external_id is required")
        if view_id not in self.views:
            return self._fail(rec, "not_found", f"no view {view_id or args.get('external_id')}")
        problem = self._check_view(args["view"], None)
        if problem:
            return self._fail(rec, "invalid_arguments", problem)
        self.views[view_id] = args["view"]
        self._record_post(method, args, view_id=view_id)
        return _Response(200, {"ok": True, "view": self._view_json(args["view"], view_id)})

    def _conversations_open(self, rec: dict, method: str, args: dict) -> _Response:
        if args.get("channel"):
            return _Response(200, {"ok": True, "channel": {"id": args["channel"]}})
        users = args.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        if not users:
            return self._fail(rec, "users_list_not_supplied")
        ids = [u for u in users.split(",") if u]
        cid = "D" + ids[0] if len(ids) == 1 else "G" + "".join(ids)
        return _Response(200, {"ok": True, "channel": {"id": cid, "is_im": len(ids) == 1}})

    def _users_info(self, rec: dict, method: str, args: dict) -> _Response:
        uid = args.get("user")
        if not uid:
            return self._fail(rec, "user_not_found", "user is required")
        user = {
            "id": uid, "team_id": self.TEAM_ID, "name": uid.lower(), "real_name": f"User {uid}",
            "tz": "Asia/Tokyo", "tz_offset": 32400, "is_bot": False, "deleted": False,
            "profile": {"real_name": f"User {uid}", "display_name": uid.lower(),
                        "email": f"{uid.lower()}@example.com"},
        }
        user.update(self.users.get(uid, {}))
        return _Response(200, {"ok": True, "user": user})

    # -- files -------------------------------------------------------------------------------
    def _files_get_upload_url(self, rec: dict, method: str, args: dict) -> _Response:
        filename = args.get("filename")
        if not isinstance(filename, str) or not filename:
            return self._fail(rec, "invalid_arguments", "filename is required")
        length = args.get("length")
        if isinstance(length, str) and length.isdigit():
            length = int(length)
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            return self._fail(rec, "invalid_arguments", f"length must be a positive integer, got {length!r}")
        file_id = f"F{self._next():08d}"
        self.pending_uploads[file_id] = {
            "filename": filename, "length": length, "alt_txt": args.get("alt_txt"),
            "snippet_type": args.get("snippet_type"), "bytes": None, "content_type": None,
        }
        return _Response(200, {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id})

    def _upload_bytes(self, rec: dict) -> _Response:
        """The upload URL: the raw bytes, no token (the real URL is signed).  Checked against
        the announced length only at files.completeUploadExternal, as Slack does."""
        file_id = rec["path"][len("/upload/"):]
        pending = self.pending_uploads.get(file_id)
        if pending is None:
            reason = f"no upload URL was issued for {file_id!r} (or it was already completed)"
            self.errors.append(f"POST {rec['path']}: {reason}")
            return _Response(404, "Not Found", reason=reason)
        pending["bytes"] = rec["body"]  # a repeated POST (a retry) replaces the bytes
        pending["content_type"] = rec["headers"].get("Content-Type")
        return _Response(200, f"OK - {len(rec['body'])}")

    def _files_complete_upload(self, rec: dict, method: str, args: dict) -> _Response:
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                return self._fail(rec, "invalid_arguments", "files is not JSON")
        if not isinstance(files, list) or not files or not all(
                isinstance(f, dict) and isinstance(f.get("id"), str) for f in files):
            return self._fail(rec, "invalid_arguments", "files must be a non-empty array of {id, title}")
        channels = args.get("channels")
        if isinstance(channels, str):
            channels = [c for c in channels.split(",") if c]
        if channels is not None and not (isinstance(channels, list)
                                         and all(isinstance(c, str) and c for c in channels)):
            return self._fail(rec, "invalid_arguments", "channels must be a comma-separated string")
        channel_id = args.get("channel_id")
        if channel_id is not None and (not isinstance(channel_id, str) or not channel_id):
            return self._fail(rec, "invalid_channel", "channel_id must be a channel ID")
        if channel_id and channels:
            return self._fail(rec, "invalid_arguments", "give channel_id or channels, not both")
        targets = [channel_id] if channel_id else list(channels or [])
        if args.get("thread_ts") and len(targets) != 1:
            return self._fail(rec, "invalid_arguments", "thread_ts needs exactly one channel")
        comment = args.get("initial_comment")
        if comment is not None and not isinstance(comment, str):
            return self._fail(rec, "invalid_arguments", "initial_comment must be a string")
        if isinstance(comment, str) and len(comment) > self.MAX_TEXT:
            return self._fail(rec, "msg_too_long", f"initial_comment is {len(comment)} characters")
        for f in files:  # check every file before sharing any
            pending = self.pending_uploads.get(f["id"])
            if pending is None:
                done = any(u["file_id"] == f["id"] for u in self.uploads)
                return self._fail(rec, "file_not_found", f"{f['id']}: " + (
                    "already completed" if done else "no upload URL was issued for it"), client_error=not done)
            if pending["bytes"] is None:
                return self._fail(rec, "file_not_found", f"{f['id']}: nothing was uploaded to its URL")
            if len(pending["bytes"]) != pending["length"]:
                return self._fail(rec, "file_upload_size_mismatch", f"{f['id']}: {len(pending['bytes'])} "
                                  f"bytes uploaded, {pending['length']} announced")
            if f.get("title") is not None and not isinstance(f["title"], str):
                return self._fail(rec, "invalid_arguments", f"{f['id']}: title must be a string")
        shared = []
        for f in files:
            pending = self.pending_uploads.pop(f["id"])
            name = pending["filename"]
            title = f.get("title") or name
            mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            file = self._register_file(f["id"], pending["bytes"], name=name, mimetype=mimetype,
                                       user=self.BOT_USER_ID, title=title)
            shared.append(dict(file))
            self.uploads.append({
                "file_id": f["id"],
                "filename": name,
                "title": title,
                "channel": targets[0] if targets else None,
                "channels": targets,
                "initial_comment": comment,
                "thread_ts": args.get("thread_ts"),
                "bytes": pending["bytes"],
                "content_type": pending["content_type"],
                "file": dict(file),
            })
        return _Response(200, {"ok": True, "files": shared})

    def _files_info(self, rec: dict, method: str, args: dict) -> _Response:
        file_id = args.get("file")
        if not isinstance(file_id, str) or not file_id:
            return self._fail(rec, "invalid_arguments", "file is required")
        held = self.files.get(file_id)
        if held is None:
            return self._fail(rec, "file_not_found", file_id, client_error=False)
        return _Response(200, {"ok": True, "file": dict(held["file"]), "comments": [],
                               "response_metadata": {"next_cursor": ""}})

    def _file_download(self, rec: dict) -> _Response:
        """``url_private`` / ``url_private_download``: the bot token as a Bearer header only."""
        def refuse(status: int, reason: str) -> _Response:
            self.errors.append(f"GET {rec['path']}: {reason}")
            return _Response(status, HTTPStatus(status).phrase, reason=reason)

        auth = rec["headers"].get("Authorization")
        if auth != f"Bearer {self.bot_token}":
            return refuse(403, "Authorization: Bearer <bot token> is missing or wrong")
        m = re.fullmatch(r"/files-pri/([^/-]+)-([^/]+)/(?:download/)?([^/]+)", rec["path"])
        held = self.files.get(m.group(2)) if m and m.group(1) == self.TEAM_ID else None
        if held is None or unquote(m.group(3)) != held["file"]["name"]:
            return refuse(404, "no such file")
        return _Response(200, held["data"], {"Content-Type": held["file"]["mimetype"]})

    # -- response_url ------------------------------------------------------------------------
    def _response_url(self, rec: dict) -> _Response:
        def bad(error: str, detail: str = "") -> _Response:
            reason = f"{error}: {detail}" if detail else error
            self.errors.append(f"POST {rec['path']}: {reason}")
            return _Response(400, error, reason=reason)

        body = rec["json"]
        if not isinstance(body, dict):
            return bad("invalid_payload", "the body must be a JSON object")
        for key in self.JSON_FIELDS:
            if isinstance(body.get(key), str):
                try:
                    body = {**body, key: json.loads(body[key])}
                except ValueError:
                    return bad("invalid_payload", f"{key} is not JSON")
        text = body.get("text")
        if isinstance(text, str) and len(text) > self.MAX_TEXT:
            return bad("msg_too_long")
        if body.get("blocks") is not None:
            problem = self._check_blocks(body["blocks"], self.MAX_BLOCKS)
            if problem:
                return bad("invalid_blocks", problem)
        if not body.get("delete_original") and not text and not body.get("blocks") \
                and not body.get("attachments"):
            return bad("no_text")
        self.posted.append({
            "method": "response_url",
            "path": rec["path"],
            "channel": None,
            "user": None,
            "text": text,
            "blocks": body.get("blocks"),
            "view": None,
            "thread_ts": body.get("thread_ts"),
            "ts": None,
            "response_type": body.get("response_type"),
            "replace_original": body.get("replace_original"),
            "delete_original": body.get("delete_original"),
            "args": body,
        })
        return _Response(200, "ok")


def _contains_none(x: Any) -> bool:
    """True if some list inside ``x`` holds None (slack_sdk's parsers turn unknown types into None)."""
    if isinstance(x, dict):
        return any(_contains_none(v) for v in x.values())
    if isinstance(x, list):
        return any(v is None or _contains_none(v) for v in x)
    return False
