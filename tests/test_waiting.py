"""The tests' own waits: true once the condition holds, and a loud failure naming what was
awaited when it never does (a wait whose False nobody checked used to let tests pass)."""
from __future__ import annotations

import threading

import pytest

from .procs import wait_for
from .waiting import WaitTimeout, describe, wait_until


def test_a_wait_returns_true_once_its_condition_holds():
    box: list[int] = []
    threading.Timer(0.05, box.append, [1]).start()
    assert wait_until(lambda: box, timeout=20) is True and box == [1]


def test_a_wait_that_times_out_raises_naming_the_condition_and_what_was_seen():
    box = ["nothing yet"]
    with pytest.raises(WaitTimeout) as exc:
        wait_until(lambda: box == ["answered"], timeout=0.05, seen=lambda: box)
    assert str(exc.value) == "waited 0.05 s for lambda: box == [\"answered\"]; seen last: ['nothing yet']"
    assert isinstance(exc.value, AssertionError)  # an unchecked wait still fails the test


def test_the_process_helpers_wait_raises_too():
    with pytest.raises(WaitTimeout, match=r"for lambda: 1 > 2; seen last: False"):
        wait_for(lambda: 1 > 2, timeout=0.05)


def test_describe_gives_the_lambda_alone_or_the_function_name():
    def ready() -> bool:
        return False

    conds = [lambda: len([1, 2]) == 3]
    assert describe(conds[0]) == "lambda: len([1, 2]) == 3"
    assert describe(ready) == "test_describe_gives_the_lambda_alone_or_the_function_name.<locals>.ready"
