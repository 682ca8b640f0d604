"""An in-process pusher (``scheduler.service.Pusher``) for tests whose point is what Nimo sends
and when, not how a platform carries it (the reminder engine, the instants, notices): no server.

``sent``: ``Push(target, text, key, at, replies)`` per accepted push, ``text`` as the terminal
shows it, ``at`` the injected clock's time.  The first ``failures`` pushes answer False (the
platform is down).  ``check_line=True`` renders each push as LINE would and checks it by the LINE
stand-in's rules (no server started); ``errors`` gets the problems.
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Callable, NamedTuple


class Push(NamedTuple):
    target: str
    text: str
    key: str
    at: datetime | None
    replies: list


class PushRecorder:
    def __init__(self, clock: Callable[[], datetime] | None = None, *, failures: int = 0,
                 check_line: bool = False):
        self.clock, self.failures, self.check_line = clock, failures, check_line
        self.sent: list[Push] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()  # the engine pushes from several threads

    def push(self, target: str, replies: list, key: str) -> bool:
        from bot.adapters import line, terminal
        from .line import LineStandIn
        with self._lock:
            if self.failures:
                self.failures -= 1
                return False
            if self.check_line:
                self.errors += LineStandIn()._check_messages({"messages": line.render(replies)})
            self.sent.append(Push(target, terminal.render(replies), key, self.clock() if self.clock else None, replies))
        return True

    def push_user(self, user: str, replies: list, key: str) -> bool:
        return self.push(user, replies, key)
