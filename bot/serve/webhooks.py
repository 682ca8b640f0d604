"""What the web process knows of every platform's webhook, with the standard library only: the
bounds a request must keep, the shape of a stored event, and how a platform declares itself
(:class:`Connector`: its path, whether it is on, its :class:`Hook` and its worker side).

Each platform's own checking and reading lives beside its adapter (``bot/adapters/*_hook.py``),
listed once in ``bot/adapters/__init__.py``; bot/serve/web.py routes to them by path and names
none.  The web process must stay small (it never loads an SDK, the tokenizer or the case index)
and no sender may stall it, so a hook works on the raw bytes in this order: the size is bounded
before the body is read (``MAX_BODY``), the signature is checked on the exact bytes before
anything is parsed, and the parsed JSON is bounded in depth and cleaned of lone surrogates before
it is stored.  A signed request of the wrong shape is not an attack but still cannot be used: it
is acknowledged and skipped, and the log names the field, never a value.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping, Protocol, Union

if TYPE_CHECKING:
    from bot.config import Settings

MAX_BODY = 1024 * 1024        # LINE and Slack send far less; nothing larger is read
MAX_DEPTH = 32                # the deepest Slack payload (a modal's state) is about 8 levels
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


# -- what a hook is given and gives back -----------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """A webhook request whose body has been read within ``MAX_BODY``."""

    body: bytes
    content_type: str
    now: float                                  # real time: signature windows are about the sender's clock
    headers: Mapping[str, str] = field(default_factory=dict)  # by lower-case name

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Answer:
    """What the web process answers a request it took (a refusal is :class:`Refused` instead)."""

    status: str = "200 OK"
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"

    @classmethod
    def json(cls, obj: dict) -> Answer:
        return cls("200 OK", json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")


class Intake(Protocol):
    """Where a hook puts what it read (the web app)."""

    def store(self, platform: str, events: list[Event]) -> None:
        """Into the inbox; raises ``sqlite3.Error`` when the database refuses."""

    def keep_aside(self, platform: str, event: Event, error: Exception) -> bool:
        """Into a file beside the database, for a platform that never sends an event again (the
        worker moves it into the inbox later); False when that cannot be done either."""


class Hook(Protocol):
    """A platform's web side, built from the settings when the platform is on: verify a request
    (raise :class:`Refused`), read it into events, give them to ``intake``, say what to answer."""

    def receive(self, request: Request, intake: Intake) -> Answer: ...


@dataclass(frozen=True)
class Connector:
    """What the web process and the worker need of one platform, declared beside its adapter.

    ``worker`` is ``"module:function"`` (or the function itself), called as
    ``function(app, settings, sleep=...)`` and returning the worker's part (see
    bot/serve/worker.py), or None when it cannot run; its module (and the platform's SDK) is
    imported only in a worker that needs it: when ``on``, or when ``pushes`` (a platform the
    scheduler may push to without answering webhooks)."""

    name: str                                   # the inbox's platform, and Incoming.platform
    path: str                                   # where its webhooks are POSTed
    on: Callable[[Settings], bool]
    hook: Callable[[Settings], Hook]
    worker: Union[str, Callable]
    pushes: Callable[[Settings], bool] | None = None
    off_warning: str | None = None              # logged by the web process when it is off
    spools: bool = False                        # its hook may keep events aside (Intake.keep_aside)
    loggers: tuple[str, ...] = ()               # its libraries' loggers, which log bodies below INFO
    id_shape: re.Pattern | None = None          # what its user ids look like (``nimo users add`` checks)
    max_chars: int = 5000                       # the longest text a user can send there (the router's bound)
    required: tuple[str, ...] = ()              # the settings it needs to be on (``nimo serve --check``)
    # how ``nimo serve --check`` says whether it is on: "module:function", called with the settings
    # as text and this connector, giving (on, the line to show); None: the required settings' shapes
    check: str | None = None

    def worker_factory(self) -> Callable:
        return self.worker if callable(self.worker) else _load(self.worker)

    def checker(self) -> Callable:
        return _load(self.check or "bot.adapters.config_check:required_and_shapes")

    def wanted_by_worker(self, settings: Settings) -> bool:
        return self.on(settings) or bool(self.pushes and self.pushes(settings))


def _load(where: str) -> Callable:
    """``"module:function"``, imported now (so a platform's SDK is loaded only where it is used)."""
    from importlib import import_module
    module, _, name = where.partition(":")
    return getattr(import_module(module), name)


# -- helpers for the hooks ------------------------------------------------------------------------
def hmac_b64_ok(body: bytes, signature: str | None, secret: str | None) -> bool:
    """A base64 HMAC-SHA256 of the raw body (LINE's and LINE WORKS's rule), in constant time."""
    if not signature or not secret:
        return False
    mac = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest())
    return hmac.compare_digest(mac, signature.encode("ascii", "replace"))


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


def digest(obj: object) -> str:
    """A stable digest of a JSON value: the key of an event that carries no id of its own."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def platform_id(value: object) -> str | None:
    """A platform id, or None when the field is missing or of the wrong shape."""
    return value if isinstance(value, str) and _ID.match(value) else None
