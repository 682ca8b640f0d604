"""An in-process stand-in for a platform's pusher (``scheduler.service.Pusher``), for tests whose
point is what Nimo sends and when, not how a platform carries it: the reminder engine, the
instants, chat notices.  No server, no thread: each push is noted as it is made.

``sent`` holds one ``Push(target, text, key, at, replies)`` per accepted push, ``text`` as the
terminal shows the replies and ``at`` the injected clock's time (None without a clock).  The
first ``failures`` pushes answer False, as a platform that could not be reached.  With
``check_line=True`` each push is also rendered as LINE renders it and checked by the LINE
stand-in's rules (its server is not started); ``errors`` gets each problem.
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
        from bot.adapters.terminal import render
        with self._lock:
            if self.failures:
                self.failures -= 1
                return False
            if self.check_line:
                self.errors += _line_problems(replies)
            self.sent.append(Push(target, render(replies), key, self.clock() if self.clock else None, replies))
        return True

    def push_user(self, user: str, replies: list, key: str) -> bool:
        return self.push(user, replies, key)

    def texts(self) -> list[str]:
        return [p.text for p in self.sent]


def _line_problems(replies: list) -> list[str]:
    from bot.adapters.line import render
    from .line import LineStandIn
    return LineStandIn()._check_messages({"messages": render(replies)})
