"""Noticing that the wall clock was set: compare how far it moved with how far the monotonic clock did.

Why: APScheduler 3 computes run dates and its own waits on the wall clock, so a clock set back an
hour leaves every job an hour late and a clock set forward runs a batch at once.  The engine's own
loop waits on the monotonic clock (``Event.wait``), asks this watch at every turn whether the wall
clock jumped in between, and when it did, recomputes its jobs from the database.
"""
from __future__ import annotations

import time
from typing import Callable

STEP_SECONDS = 2.0  # a wall clock that drifts this much more than the monotonic one between two turns was set


class StepWatch:
    """``step()``: how many seconds the wall clock jumped since the last call (+ forward, - back), or
    0.0 when it kept pace with the monotonic clock.  Both clocks are injected for tests."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 threshold: float = STEP_SECONDS):
        self.monotonic, self.wall, self.threshold = monotonic, wall, threshold
        self.last = (monotonic(), wall())

    def step(self) -> float:
        mono, wall = self.monotonic(), self.wall()
        (mono0, wall0), self.last = self.last, (mono, wall)
        jump = (wall - wall0) - (mono - mono0)
        return jump if abs(jump) >= self.threshold else 0.0
