"""Processes a supervisor can manage: how ``nimo serve`` and ``nimo worker`` start and stop.

Platforms that run a Procfile, systemd and Docker stop a service with SIGTERM (then SIGKILL after
about 10 s), and a process that is PID 1 in a container gets no default handler for it.  So both
commands handle SIGTERM and SIGINT themselves: the web process stops accepting, lets the requests
in flight finish, stops its worker and exits 0; the worker stops taking work, leaves what it has
not finished in the inbox (and the delivery table) for the next start, and exits even while a
platform's API does not answer.  A worker started by ``nimo serve`` ends with its parent, however
the parent ended (SIGKILL included), and ``nimo serve`` starts a worker again if it dies.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Callable

log = logging.getLogger("nimo.process")

DRAIN_SECONDS = 5.0        # requests in flight when a stop is asked
WORKER_STOP_SECONDS = 7.0  # a worker's own deadline; nimo serve kills it after a little more
RESTART_BACKOFF = (1, 2, 4, 8, 16, 30, 60)
# A worker that ran this long had started fine: when it dies later (killed by the kernel's OOM
# killer or by hand) it is started again after a second, not after a wait that grows as for a
# worker that fails at start, so reminders and answers do not wait on it.
STABLE_SECONDS = 10
PR_SET_PDEATHSIG = 1


def on_stop_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (the main thread notices it within a fraction of a second)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())


# -- the worker ---------------------------------------------------------------------------------
def die_with_parent(stop: threading.Event, parent: int) -> None:
    """Stop when the process that started us (``parent``) is gone: the kernel sends SIGTERM at
    once (Linux's PR_SET_PDEATHSIG), and a thread that watches the parent id covers other systems
    and a parent that died before this was called (we would already be someone else's child)."""
    if os.getppid() != parent:
        stop.set()
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent:
                log.warning("the parent process is gone: stopping")
                stop.set()
                return

    threading.Thread(target=watch, name="nimo-parent-watch", daemon=True).start()


def run_worker(start: Callable[[], None], stop_parts: list[Callable[[], None]], stop: threading.Event, *,
               deadline: float = WORKER_STOP_SECONDS) -> None:
    """Run until ``stop`` is set (SIGTERM, SIGINT, the parent's death), then stop each part in order.

    Parts may be blocked in a platform API call that does not answer; after ``deadline`` seconds
    the process ends anyway (``os._exit``), since threads of a pool would otherwise hold the
    interpreter open.  Nothing is lost by it: an event not answered stays in the inbox, a
    reminder not confirmed as sent stays claimed, and both are taken up at the next start.
    """
    if not stop.is_set():
        start()
    while not stop.wait(0.5):
        pass
    log.info("stopping")

    def parts() -> None:
        for part in stop_parts:
            try:
                part()
            except Exception as e:  # stopping goes on whatever one part says
                log.error("while stopping: %s", type(e).__name__)

    t = threading.Thread(target=parts, name="nimo-stop", daemon=True)
    t.start()
    t.join(deadline)
    if t.is_alive():
        log.warning("still busy after %.0f s: exiting; unfinished work stays for the next start", deadline)
    logging.shutdown()
    os._exit(0)


# -- nimo serve's worker ------------------------------------------------------------------------
class WorkerChild:
    """``nimo worker`` as a child of ``nimo serve``: started, watched, restarted with a growing
    wait if it dies, and stopped with the server."""

    def __init__(self, argv: list[str] | None = None, *, backoff=RESTART_BACKOFF, stable: float = STABLE_SECONDS):
        self.argv = argv or [sys.executable, "-m", "bot", "worker", "--parent-pid", str(os.getpid())]
        self.backoff = backoff
        self.stable = stable
        self.proc: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.restarts = 0
        self.watcher = threading.Thread(target=self._watch, name="nimo-worker-watch", daemon=True)

    def start(self) -> None:
        self._spawn()
        self.watcher.start()

    def _spawn(self) -> None:
        with self.lock:
            if not self.stopping.is_set():
                self.proc = subprocess.Popen(self.argv)

    def _watch(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            started = time.monotonic()
            code = self.proc.wait()
            if self.stopping.is_set():
                return
            failures = 0 if time.monotonic() - started > self.stable else failures + 1
            delay = self.backoff[min(max(failures - 1, 0), len(self.backoff) - 1)]
            log.error("the worker exited with code %s; starting it again in %s s", code, delay)
            if self.stopping.wait(delay):
                return
            self.restarts += 1
            self._spawn()

    def stop(self, timeout: float = WORKER_STOP_SECONDS + 1.0) -> None:
        with self.lock:
            self.stopping.set()
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the worker did not stop in %.0f s: killing it", timeout)
            proc.kill()
            proc.wait(5)


# -- the web server -----------------------------------------------------------------------------
def serve_http(wsgi, *, host: str, port: int, max_body: int, stop: threading.Event,
               threads: int = 8, ready: Callable[[int], None] | None = None) -> None:
    """waitress until ``stop`` is set; then stop accepting, let the requests in flight finish (at
    most ``DRAIN_SECONDS``) and close.  waitress's own stop on SIGTERM would end its loop at once,
    and the answers of requests still being handled would never be written out.

    waitress has no public API for such a drain, so this drives its internals: the server's socket
    map ``_map``, the ``wasyncore`` loop over it, ``task_dispatcher`` (its worker threads) and a
    channel's ``requests``/``request``/``total_outbufs_len`` (``_busy``).  pyproject pins
    waitress's minor version and tests/test_waitress_contract.py checks each of them, so an upgrade
    that renames one fails a test instead of a shutdown."""
    from waitress.server import create_server
    from waitress import wasyncore
    # outbuf_high_watermark: a streamed download (the console's CSV) waits for the socket once 1 MB is
    # pending, instead of piling up to waitress's default 16 MB per response in the worker threads'
    # malloc arenas, which the process keeps (benchmarks/bench_console.py).
    server = create_server(wsgi, host=host, port=port, threads=threads, ident="nimo",
                           max_request_body_size=max_body, outbuf_high_watermark=1024 * 1024)
    if ready:
        ready(int(server.effective_port))  # waitress 3 keeps it as a string
    # The loop is run here, one pass at a time, instead of server.run(): run() only ends on an
    # exception, and this one must look at ``stop`` between passes.  The map is the server's own
    # (its listening socket and every connection's channel): passes over another would see nothing.
    socket_map = server._map
    while not stop.is_set():
        wasyncore.loop(timeout=0.2, map=socket_map, count=1)
    server.accepting = False
    server.del_channel()     # the listening socket leaves the loop: nothing new is accepted
    server.socket.close()
    end = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < end and _busy(socket_map, server):
        wasyncore.loop(timeout=0.05, map=socket_map, count=1)  # writes out the answers still pending
    # the application's threads: those still in a request get what is left of the drain, no more
    server.task_dispatcher.shutdown(timeout=max(0.1, end - time.monotonic()))
    wasyncore.close_all(socket_map)


def _busy(socket_map: dict, server) -> bool:
    """Whether a connection still has a request being read (``request``), waiting or running in a
    thread (``requests``), or an answer not yet written out (``total_outbufs_len``)."""
    from waitress.channel import HTTPChannel
    for ch in list(socket_map.values()):
        if ch is server or not isinstance(ch, HTTPChannel):
            continue
        if ch.requests or ch.total_outbufs_len or ch.request is not None:
            return True
    return False
