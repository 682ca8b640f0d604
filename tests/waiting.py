"""Waiting in tests for something to become true, and failing loudly when it does not.

A wait returns True once its condition holds, and raises ``WaitTimeout`` (an AssertionError
naming what was awaited and what was seen last) when the deadline passes.  It never returns
False: a result nobody checks could then let a test pass without the thing having happened.
The deadline only keeps a broken build from hanging; it is never a measured duration.
"""
from __future__ import annotations

import ast
import inspect
import time
from typing import Any, Callable


class WaitTimeout(AssertionError):
    """What a test waited for did not happen in time."""


def describe(predicate: Callable) -> str:
    """What a predicate checks, for a failure message: a lambda's source from ``lambda`` on, or
    the function's name."""
    try:
        src = inspect.getsource(predicate)
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))
    if getattr(predicate, "__name__", "") != "<lambda>" or "lambda" not in src:
        return getattr(predicate, "__qualname__", repr(predicate))
    src = " ".join(src[src.index("lambda"):].split())
    for end in range(min(len(src), 400), 0, -1):  # the longest prefix that is the lambda alone
        try:
            if isinstance(ast.parse(src[:end], mode="eval").body, ast.Lambda):
                return src[:end]
        except SyntaxError:
            continue
    return src[:240]


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 400 else text[:400] + "…"


def wait_until(cond: Callable[[], Any], timeout: float = 20.0, *, step: float = 0.05,
               seen: Callable[[], Any] | None = None) -> bool:
    """Poll ``cond()`` every ``step`` seconds until it is true; ``seen()`` (default: the last
    value of ``cond()``) says in the failure what the test found instead."""
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return True
        if time.monotonic() >= end:
            raise WaitTimeout(f"waited {timeout:g} s for {describe(cond)}; "
                              f"seen last: {shown(seen() if seen is not None else value)}")
        time.sleep(step)
