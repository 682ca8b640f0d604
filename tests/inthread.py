"""A WSGI app under the real ``serve_http`` (waitress, as ``nimo serve`` runs it) in a thread of the
test process on 127.0.0.1, for tests that need the HTTP server but not a second process."""
from __future__ import annotations

import http.client
import threading

from bot.serve.process import serve_http


class InThread:
    """Serving ``wsgi`` until :meth:`close`, which stops and drains the server as SIGTERM would."""

    def __init__(self, wsgi, *, max_body: int):
        self.stop = threading.Event()
        ready = threading.Event()
        self.port = 0

        def on_ready(port):
            self.port = port
            ready.set()

        self.thread = threading.Thread(target=serve_http, args=(wsgi,), daemon=True, kwargs=dict(
            host="127.0.0.1", port=0, max_body=max_body, stop=self.stop, ready=on_ready))
        self.thread.start()
        assert ready.wait(10)

    def call(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        """(status, body, headers) of one request on a connection of its own."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body or None, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read(), dict(r.getheaders())
        finally:
            c.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(15)
        assert not self.thread.is_alive()
