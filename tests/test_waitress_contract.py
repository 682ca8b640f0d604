"""The parts of waitress that bot/serve/process.py uses beyond its public ``serve()``: the server's
socket map ``_map``, the ``wasyncore`` loop, the ``task_dispatcher``, the listening dispatcher's
``accepting``/``del_channel``/``socket``, and a channel's ``requests``/``request``/
``total_outbufs_len``.  None of them is a documented API; pyproject pins waitress's minor version,
and this test is what an upgrade must pass: a rename fails here instead of in a drain at shutdown.
"""
from __future__ import annotations

import http.client
import inspect
import threading
import time

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher

from bot.serve import process

# exactly the keyword arguments process.serve_http passes to create_server
SERVE_KWARGS = dict(host="127.0.0.1", port=0, threads=2, ident="nimo", max_request_body_size=1024,
                    outbuf_high_watermark=1024 * 1024)


def test_the_functions_take_the_arguments_process_py_passes():
    loop = inspect.signature(wasyncore.loop).parameters
    assert {"timeout", "map", "count"} <= set(loop)
    assert "map" in inspect.signature(wasyncore.close_all).parameters
    assert "timeout" in inspect.signature(ThreadedTaskDispatcher.shutdown).parameters
    # a channel's attributes are checked on a live one below


def test_the_server_keeps_its_socket_map_and_settings_where_process_py_reads_them():
    server = create_server(lambda environ, start: [], **SERVE_KWARGS)
    try:
        assert server.adj.outbuf_high_watermark == 1024 * 1024
        assert server.adj.max_request_body_size == 1024
        assert int(server.effective_port) > 0  # a string in waitress 3: process.py converts it
        assert isinstance(server._map, dict)
        assert server._map[server.socket.fileno()] is server
        assert server.accepting is True
        assert isinstance(server.task_dispatcher, ThreadedTaskDispatcher)
        server.accepting = False
        server.del_channel()  # how process.py takes the listening socket out of the loop
        assert server not in server._map.values()
    finally:
        server.socket.close()
        server.task_dispatcher.shutdown(timeout=1)
        wasyncore.close_all(server._map)


def test_a_request_in_flight_shows_on_its_channel_until_it_is_answered():
    """What process.serve_http's drain relies on: a channel in ``_map`` with its request in
    ``requests`` (or ``request``) while the application runs, and none once the answer is out."""
    entered, release = threading.Event(), threading.Event()

    def app(environ, start_response):
        entered.set()
        release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    server = create_server(app, **SERVE_KWARGS)
    socket_map = server._map
    answer: dict = {}

    def client():
        c = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
        c.request("GET", "/")
        r = c.getresponse()
        answer["status"], answer["body"] = r.status, r.read()
        c.close()

    t = threading.Thread(target=client)
    t.start()
    try:
        deadline = time.monotonic() + 30
        while not entered.is_set() and time.monotonic() < deadline:
            wasyncore.loop(timeout=0.05, map=socket_map, count=1)
        assert entered.is_set(), "the request never reached the application"
        channels = [ch for ch in socket_map.values() if isinstance(ch, HTTPChannel)]
        assert len(channels) == 1
        assert channels[0].requests or channels[0].request is not None
        assert isinstance(channels[0].total_outbufs_len, int)
        assert process._busy(socket_map, server)

        release.set()
        while "status" not in answer and time.monotonic() < deadline:
            wasyncore.loop(timeout=0.05, map=socket_map, count=1)
        assert answer == {"status": 200, "body": b"ok"}
        while process._busy(socket_map, server) and time.monotonic() < deadline:
            wasyncore.loop(timeout=0.05, map=socket_map, count=1)
        assert not process._busy(socket_map, server)
    finally:
        release.set()
        t.join(30)
        server.accepting = False
        server.del_channel()
        server.socket.close()
        server.task_dispatcher.shutdown(timeout=1)
        wasyncore.close_all(socket_map)
    assert not t.is_alive()
