"""What every Web API stand-in shares: a real HTTP server on 127.0.0.1 (ephemeral port, a thread
per connection) that records each request, can be told to misbehave, and lets tests wait.

Recorded (read it from tests): ``requests``, each ``{"method", "path", "query", "headers", "body",
"json", "status", "response", "reason"}``; ``errors``, one line per request a correct client never
sends (a failed check, a bad token, an unknown path: tests assert it stays empty); ``rejections``,
the requests answered 300 or more, legitimate ones included (a used reply token, an injected fault).

``fail_next(suffix, status, *, times=1, retry_after=None, body=None, delay=None, deliver=False)``:
the next ``times`` requests whose path ends with ``suffix`` are processed (checked, delivered) only
if ``status is None`` or ``deliver``; are answered ``delay`` seconds late; and get ``status`` with
``body`` (default: the service's error body) and ``Retry-After``, else the normal answer.  So
``fail_next(p, 429, retry_after=1)`` is a rate limit, ``fail_next(p, 500, deliver=True)`` "accepted,
but the client saw an error", ``fail_next(p, None, delay=2, deliver=True)`` "accepted, too late".
"""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from ..waiting import WaitTimeout, describe


@dataclass
class Response:
    status: int
    body: Any = None          # bytes, str, or something to send as JSON
    headers: dict = field(default_factory=dict)
    reason: str = ""          # why it was refused


def first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, standin: "StandIn"):
        self.standin, self.conns = standin, set()  # set.add/discard and list(set) are atomic
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request, client_address):  # a client hanging up is normal here
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # As API servers do: with Nagle's algorithm the body (a second write) waited for the client's
    # delayed ACK, about 40 ms a request.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.conns.add(self.connection)

    def finish(self):
        self.server.conns.discard(self.connection)
        super().finish()

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    do_GET = do_POST = do_PUT = do_DELETE = lambda self: self.server.standin._serve(self)  # noqa: E731


class StandIn:
    """Server lifecycle, recording, faults and waiting; a subclass answers with ``_dispatch``."""

    def __init__(self) -> None:
        self._lock = self._cond = threading.Condition(threading.RLock())  # held while answering
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self._init_state()

    def _init_state(self) -> None:
        self.requests: list[dict] = []
        self.errors: list[str] = []
        self._faults: list[dict] = []

    @property
    def rejections(self) -> list[dict]:
        return [r for r in self.requests if (r["status"] or 0) >= 300]

    def reset(self) -> None:
        """Forget everything recorded and every pending fault (the server keeps running)."""
        with self._lock:
            self._init_state()
            self._cond.notify_all()

    def start(self):
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self)
            host, port = self._server.server_address[:2]
            self.url = f"http://{host}:{port}"
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                            name=f"{type(self).__name__}:{port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        for conn in list(server.conns):  # keep-alive connections would keep their threads reading
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def fail_next(self, path_suffix: str, status: int | None, *, times: int = 1,
                  retry_after: int | float | str | None = None, body: Any = None,
                  delay: float | None = None, deliver: bool = False) -> None:
        """Make the next ``times`` requests whose path ends with ``path_suffix`` misbehave (see
        the module docstring)."""
        with self._lock:
            self._faults += [{"suffix": path_suffix, "status": status, "retry_after": retry_after, "body": body,
                              "delay": delay, "deliver": deliver}] * times

    def _take_fault(self, path: str) -> dict | None:
        with self._lock:
            f = next((f for f in self._faults if path.endswith(f["suffix"])), None)
            if f is not None:
                self._faults.remove(f)  # the first equal one: this one, as any before it would match too
        return f

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate(self)`` holds (checked again whenever a request arrives or is
        answered); True then.  After ``timeout`` seconds it raises ``WaitTimeout`` (an
        AssertionError) naming the predicate and the requests seen, so an unchecked wait still
        fails the test.  To show that something does NOT happen, wait for Nimo to be idle instead."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(f"{type(self).__name__}: waited {timeout:g} s for {describe(predicate)}; "
                                      f"seen: {self.seen()}")
                self._cond.wait(remaining)
            return True

    def seen(self) -> str:
        """What this stand-in received so far, in one line: each request's method, path and status
        (the last ten), and the client errors."""
        with self._lock:
            reqs = [f"{r['method']} {r['path']} -> {r['status']}" for r in self.requests[-10:]]
            more = len(self.requests) - len(reqs)
            errors = list(self.errors)
        return (f"{len(self.requests)} request(s)" + (f" (last {len(reqs)})" if more else "")
                + (": " + "; ".join(reqs) if reqs else "") + (f"; errors: {errors}" if errors else ""))

    def _serve(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        try:
            parsed = json.loads(raw)
        except ValueError:  # an empty body too
            parsed = None
        rec = {"method": h.command, "path": split.path, "headers": h.headers, "body": raw, "json": parsed,
               "query": {k: v[-1] for k, v in parse_qs(split.query).items()}, "status": None}
        with self._lock:
            self.requests.append(rec)
            self._cond.notify_all()
        fault = self._take_fault(split.path)
        resp = None
        if fault is None or fault["status"] is None or fault["deliver"]:
            with self._lock:
                try:
                    resp = self._dispatch(rec)
                except Exception as exc:  # a bug in the stand-in itself: make it loud
                    msg = f"{rec['method']} {rec['path']}: stand-in crashed: {first_line(exc)}"
                    self.errors.append(msg)
                    resp = Response(500, self._error_body(500, msg), reason=msg)
                self._cond.notify_all()
        if fault is not None:
            if fault["delay"]:
                self._stopping.wait(fault["delay"])
            if fault["status"] is not None:
                status = int(fault["status"])
                body = fault["body"] if fault["body"] is not None else self._error_body(status, None)
                headers = {} if fault["retry_after"] is None else {"Retry-After": str(fault["retry_after"])}
                resp = Response(status, body, headers, reason=f"injected fault {status}")
        rec["status"], rec["response"], rec["reason"] = resp.status, resp.body, resp.reason
        self._send(h, resp)

    def _send(self, h: _Handler, resp: Response) -> None:
        data, ctype = resp.body, "application/octet-stream"
        if isinstance(data, str):
            data, ctype = data.encode("utf-8"), "text/plain; charset=utf-8"
        elif not isinstance(data, bytes):
            data, ctype = json.dumps(data if data is not None else {}).encode("utf-8"), "application/json; charset=utf-8"
        headers = {"Content-Type": ctype, **resp.headers}
        try:
            h.send_response(resp.status)
            for k, v in headers.items():
                h.send_header(k, str(v))
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            h.wfile.flush()
        except OSError:  # the client gave up (it timed out): that is fine
            h.close_connection = True

    def _refuse(self, rec: dict, status: int, body: Any, reason: str, client_error: bool = True,
                headers: dict | None = None) -> Response:
        """A refusal; one that a correct client never causes also goes to ``errors``."""
        if client_error:
            self.errors.append(f"{rec['method']} {rec['path']}: {reason}")
        return Response(status, body, headers or {}, reason)

    _dispatch: Callable[[dict], Response]              # what the service answers, given a request
    _error_body: Callable[[int, str | None], Any]      # its usual error body for a status
